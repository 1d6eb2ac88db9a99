"""The HTTP layer against a scripted fake server: retries on 5xx and resets (none on 4xx), authentication
challenges, messages that name the problem and quote the store, and credentials that never leak."""

from __future__ import annotations

import json
import logging

import pytest

from tests.helpers.servers import Answer, FakeServer, free_port, remote_fixture_store
from vetgraph.remote.http import Body, Credentials, HttpClient, RemoteError, safe_url, split_credentials
from vetgraph.remote.publish import Endpoints, Publisher, PublishError, plan_graphs

PASSWORD = "S3cr3t-pw!%&"


def client(credentials: Credentials | None = None, retries: int = 3) -> HttpClient:
    return HttpClient(credentials, timeout=10, retries=retries, backoff=0.01)


def test_a_500_then_200_is_retried_with_the_same_body() -> None:
    with FakeServer([Answer(500, b"temporary trouble"), Answer(200, b"ok")]) as fake:
        body = Body.of(lambda spool: spool.write(b"x" * 300_000))
        response = client().send("PUT", fake.base + "/store", body=body)
    assert response.status_code == 200
    assert [s.body_size for s in fake.seen] == [300_000, 300_000]
    assert all(s.headers.get("Content-Length") == "300000" for s in fake.seen)
    assert not any("chunked" in s.headers.get("Transfer-Encoding", "") for s in fake.seen)


def test_a_reset_connection_is_retried() -> None:
    with FakeServer([Answer(0, drop=True), Answer(200, b"ok")]) as fake:
        assert client().send("GET", fake.base + "/query").status_code == 200
    assert len(fake.seen) == 2


def test_persistent_5xx_gives_up_with_the_stores_text() -> None:
    page = b"<html><body><h1>Service Unavailable</h1>store is compacting</body></html>"
    with FakeServer([Answer(503, page)]) as fake:
        with pytest.raises(RemoteError) as caught:
            client(retries=2).send("GET", fake.base + "/query", what="query")
    assert len(fake.seen) == 3
    message = caught.value.message
    assert "503" in message and "gave up after 3 attempts" in message
    assert "the store said: Service Unavailable store is compacting" in message  # HTML stripped


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (400, "rejected the request"),
        (401, "needs authentication"),
        (403, "denies this operation"),
        (404, "check the endpoint URL"),
        (405, "does not accept the method"),
        (413, "too large"),
    ],
)
def test_4xx_is_not_retried_and_is_explained(status: int, hint: str) -> None:
    with FakeServer([Answer(status, b"store's own words")]) as fake:
        with pytest.raises(RemoteError) as caught:
            client().send("PUT", fake.base + "/wrong/path?graph=urn:x", what="PUT of 3 triples")
    assert len(fake.seen) == 1
    message = caught.value.message
    assert message.startswith(f"PUT of 3 triples: {fake.base}/wrong/path answered {status}")
    assert hint in message and "store's own words" in message
    assert "graph=urn" not in message  # query strings stay out of messages


def test_unreachable_host_is_named() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(RemoteError, match=r"cannot connect to http://127.0.0.1:\d+/store .*is the store running"):
        client(retries=1).send("GET", f"http://127.0.0.1:{port}/store")


def test_basic_challenge_is_answered_then_sent_up_front() -> None:
    challenge = Answer(401, headers={"WWW-Authenticate": 'Basic realm="store"'})
    with FakeServer([challenge, Answer(200), Answer(200)]) as fake:
        http = client(Credentials("alice", PASSWORD))
        http.send("GET", fake.base + "/query")
        http.send("GET", fake.base + "/query")
    assert "Authorization" not in fake.seen[0].headers
    assert fake.seen[1].headers["Authorization"].startswith("Basic ")
    assert fake.seen[2].headers["Authorization"].startswith("Basic ")  # no second challenge
    assert len(fake.seen) == 3


def test_digest_challenge_is_answered() -> None:
    digest = 'Digest realm="SPARQL", nonce="abc123", opaque="xyz", qop="auth", algorithm="MD5"'
    challenge = Answer(401, headers={"WWW-Authenticate": digest})
    with FakeServer([challenge, challenge, Answer(200)]) as fake:
        client(Credentials("dba", PASSWORD)).send("GET", fake.base + "/sparql-auth")
    assert fake.seen[-1].headers["Authorization"].startswith("Digest ")
    assert PASSWORD not in fake.seen[-1].headers["Authorization"]


def test_wrong_password_message_and_logs_never_hold_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"bad login for alice with password {PASSWORD}".encode()  # a store that echoes what it got
    with FakeServer([Answer(401, echo, {"WWW-Authenticate": 'Basic realm="x"'})]) as fake:
        url = fake.base.replace("http://", f"http://alice:{PASSWORD.replace('%', '%25')}@") + "/store"
        clean, credentials = split_credentials(url)
        assert credentials == Credentials("alice", PASSWORD) and PASSWORD not in clean
        with pytest.raises(RemoteError) as caught:
            client(credentials).send("PUT", clean, body=b"data")
    assert "refused the credentials as user 'alice'" in caught.value.message
    for text in (caught.value.message, str(caught.value), repr(credentials), caplog.text):
        assert PASSWORD not in text
        assert "S3cr3t" not in text


def test_safe_url_drops_user_info_and_query() -> None:
    assert safe_url(f"http://u:{PASSWORD}@h:8890/sparql-auth?x=1") == "http://h:8890/sparql-auth"


def _counts_answer(counts: dict[str, int]) -> Answer:
    bindings = [{"g": {"type": "uri", "value": g},
                 "n": {"type": "literal", "value": str(n), "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}
                for g, n in counts.items() if n]
    body = json.dumps({"head": {"vars": ["g", "n"]}, "results": {"bindings": bindings}}).encode()
    return Answer(200, body, {"Content-Type": "application/sparql-results+json"})


def test_a_body_the_store_refuses_as_too_large_fails_cleanly_before_anything_changes() -> None:
    """A store (or its reverse proxy) with a body limit: 413 with its text, and the store state spelt out."""
    source = remote_fixture_store()
    proxy_text = b"<html><head><title>413 Request Entity Too Large</title></head><body>nginx: limit 1k</body></html>"
    with FakeServer([_counts_answer({}), Answer(413, proxy_text, {"Content-Type": "text/html"})]) as fake:
        publisher = Publisher(client(), Endpoints.derive(fake.base + "/store"), out=lambda line: None)
        with pytest.raises(PublishError) as caught:
            publisher.publish(source, plan_graphs(source, "https://w3id.org/vetgraph/dataset"))
    message = str(caught.value)
    assert "413" in message and "too large" in message and "nginx: limit 1k" in message
    assert "store state: no target graph was changed" in message
    assert [s.method for s in fake.seen] == ["POST", "PUT"]  # counted, tried once, no retry, no swap


def test_a_store_that_drops_statements_fails_verification() -> None:
    """Counts are the proof: a store that answers 201 but keeps nothing (as Virtuoso does with a chunked
    body) is caught before the swap."""
    source = remote_fixture_store()
    with FakeServer([_counts_answer({}), Answer(201), _counts_answer({})]) as fake:
        publisher = Publisher(client(), Endpoints.derive(fake.base + "/store"), out=lambda line: None)
        with pytest.raises(PublishError, match="holds 0 triples after loading, ours 24") as caught:
            publisher.publish(source, plan_graphs(source, "https://w3id.org/vetgraph/dataset"))
    assert "no target graph was changed" in str(caught.value)
    assert "MOVE" not in " ".join(s.method for s in fake.seen)


def test_a_bearer_token_is_sent_up_front_and_never_shown() -> None:
    token = "qlever-" + "Tok3n" * 4
    with FakeServer([Answer(403, f"token {token} lacks write access".encode())]) as fake:
        with pytest.raises(RemoteError) as caught:
            client(Credentials.token(token)).send("POST", fake.base + "/", data={"update": "CLEAR ALL"})
    assert fake.seen[0].headers["Authorization"] == f"Bearer {token}"
    assert len(fake.seen) == 1
    assert token not in caught.value.message and "403" in caught.value.message


@pytest.mark.parametrize(
    ("options", "environment", "expected"),
    [
        ({"auth_env": "V"}, {"V": "alice:pa:ss"}, Credentials("alice", "pa:ss")),
        ({"user": "bob", "auth_env": "V"}, {"V": "only-the-password"}, Credentials("bob", "only-the-password")),
        ({"user": "carol", "password": "pw"}, {}, Credentials("carol", "pw")),
        ({"token_env": "T"}, {"T": "tok"}, Credentials.token("tok")),
        ({}, {}, None),
    ],
)
def test_credentials_from_options(options: dict, environment: dict, expected, monkeypatch) -> None:
    import argparse

    from vetgraph.remote import credentials_from

    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    args = argparse.Namespace(**{"user": None, "password": None, "auth_env": None, "token_env": None, **options})
    assert credentials_from(args) == expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"password": "pw"}, "--password needs --user"),
        ({"auth_env": "MISSING_VAR"}, "MISSING_VAR is not set"),
        ({"auth_env": "V", "password": "pw", "user": "u"}, "not both"),
        ({"auth_env": "V"}, "must hold USER:PASSWORD"),
        ({"token_env": "V", "user": "u"}, "not both"),
    ],
)
def test_bad_credential_options_are_explained_without_the_secret(options: dict, message: str, monkeypatch) -> None:
    import argparse

    from vetgraph.remote import credentials_from

    monkeypatch.setenv("V", "no-colon-secret")
    monkeypatch.delenv("MISSING_VAR", raising=False)
    args = argparse.Namespace(**{"user": None, "password": None, "auth_env": None, "token_env": None, **options})
    with pytest.raises(ValueError, match=message) as caught:
        credentials_from(args)
    assert "no-colon-secret" not in str(caught.value)

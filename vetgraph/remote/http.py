"""HTTP for remote triple stores: authentication, retries with backoff, and errors a person can act on.

Every request to a store goes through `HttpClient.send`. It retries connection failures and 5xx answers
(with exponential backoff), never 4xx, and turns failures into `RemoteError` messages that say what to
check, quote the store's own error text, and never contain credentials: URLs are shown without user info,
and the password is scrubbed from anything we print, even from text the store echoes back.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

import httpx

if TYPE_CHECKING:
    from httpx._client import UseClientDefault  # the type of httpx.USE_CLIENT_DEFAULT

log = logging.getLogger("vetgraph.remote")

#: Bytes per chunk when streaming a request body from its spool file.
CHUNK = 1 << 20


class RemoteError(OSError):
    """A store that cannot be reached, or that refused or failed a request. The message is safe to print.

    An OSError (input/output with another system), so callers that report I/O failures report these too."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        store_text: str = "",
        retry_after: float | None = None,
        timed_out: bool = False,
    ):
        self.message = message
        #: the store did not answer within the time limit (it may still be working)
        self.timed_out = timed_out
        self.status = status
        self.store_text = store_text
        #: seconds the store asked us to wait (Retry-After on 503)
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class Credentials:
    """User and password for a store, or (user "") a bearer token (QLever's access token, API gateways).
    The password or token never shows in repr, logs or messages."""

    user: str
    password: str = field(repr=False)

    @classmethod
    def token(cls, token: str) -> Credentials:
        return cls("", token)

    @property
    def is_token(self) -> bool:
        return not self.user

    def scrub(self, text: str) -> str:
        """`text` with every occurrence of the password (plain, URL-encoded or in Basic form) masked."""
        if not self.password:
            return text
        from urllib.parse import quote

        secrets = {
            self.password,
            quote(self.password, safe=""),
            base64.b64encode(f"{self.user}:{self.password}".encode()).decode(),
        }
        for secret in secrets:
            text = text.replace(secret, "***")
        return text


def _netloc_without_userinfo(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address goes back into brackets
        host = f"[{host}]"
    return host + (f":{parts.port}" if parts.port else "")


def split_credentials(url: str) -> tuple[str, Credentials | None]:
    """A URL without its `user:password@` part, and those credentials (so they never reach a message)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    clean = urlunsplit((parts.scheme, _netloc_without_userinfo(parts), parts.path, parts.query, parts.fragment))
    return clean, Credentials(unquote(parts.username), unquote(parts.password or ""))


def safe_url(url: str | httpx.URL) -> str:
    """A URL fit for a message: no user info, no query string (which may carry graph IRIs or tokens)."""
    parts = urlsplit(str(url))
    return urlunsplit((parts.scheme, _netloc_without_userinfo(parts), parts.path, "", ""))


class ChallengeAuth(httpx.Auth):
    """Basic or Digest, whichever the store asks for in its 401 challenge, then sent up front.

    Virtuoso's /sparql-auth and /sparql-graph-crud-auth want Digest; Fuseki, GraphDB and most reverse proxies
    Basic. After the first challenge the scheme is remembered, so later requests (and their streamed bodies)
    go out once, already authenticated."""

    def __init__(self, credentials: Credentials):
        self.credentials = credentials
        self._scheme: str | None = None
        self._digest = httpx.DigestAuth(credentials.user, credentials.password)

    def _basic(self, request: httpx.Request) -> httpx.Request:
        token = base64.b64encode(f"{self.credentials.user}:{self.credentials.password}".encode()).decode()
        request.headers["Authorization"] = f"Basic {token}"
        return request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.credentials.is_token:
            request.headers["Authorization"] = f"Bearer {self.credentials.password}"
            yield request
            return
        if self._scheme == "basic":
            yield self._basic(request)
            return
        if self._scheme == "digest":
            yield from self._digest.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        challenge = response.headers.get("www-authenticate", "").strip().lower()
        if challenge.startswith("digest"):
            self._scheme = "digest"
            yield from self._digest.auth_flow(request)
        elif challenge.startswith("basic") or not challenge:
            self._scheme = "basic"
            yield self._basic(request)


class Body:
    """A request body spooled to a temporary file: streamed in chunks with a known Content-Length.

    Chunked transfer encoding would avoid the spool, but Virtuoso 7 answers a chunked Graph Store PUT with
    `201 Created` and stores nothing, so every body is sent with its length. The body can be read again,
    which retries and authentication challenges need."""

    def __init__(self, spool: IO[bytes], size: int):
        self.spool = spool
        self.size = size

    @classmethod
    def of(cls, write: Callable[[IO[bytes]], object], memory_limit: int = 32 << 20) -> Body:
        import tempfile

        spool = tempfile.SpooledTemporaryFile(max_size=memory_limit)  # noqa: SIM115 - closed by Body.close
        write(spool)
        return cls(spool, spool.tell())

    def __iter__(self) -> Iterator[bytes]:
        self.spool.seek(0)
        while chunk := self.spool.read(CHUNK):
            yield chunk

    def close(self) -> None:
        self.spool.close()


#: Connection-level failures: worth a retry (the store restarted, a proxy dropped the connection).
_TRANSIENT = (httpx.ConnectError, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.PoolTimeout)


class HttpClient:
    """One connection pool to one store, with credentials, time limit and a retry policy."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        timeout: float | None = 300.0,
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.credentials = credentials
        self.retries = max(0, retries)
        #: the store's `Server` header, from its latest answer (e.g. "Oxigraph/0.5.13", "Virtuoso/07.20.3229")
        self.server = ""
        self.backoff = backoff
        self._sleep = sleep
        self.client = httpx.Client(
            auth=ChallengeAuth(credentials) if credentials else None,
            timeout=httpx.Timeout(timeout, connect=min(timeout or 10.0, 10.0)),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment must not see our credentials
        )

    def close(self) -> None:
        self.client.close()

    def scrub(self, text: str) -> str:
        return self.credentials.scrub(text) if self.credentials else text

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        data: Mapping[str, str | Sequence[str]] | None = None,
        body: Body | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        what: str = "request",
        retry: bool = True,
        timeout: float | httpx.Timeout | None | UseClientDefault = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        """Send one request; retry connection failures and 5xx with backoff; raise RemoteError otherwise.

        `what` names the operation in messages ("PUT of graph <...>"). `retry=False` is for requests whose
        repetition is unsafe when the outcome of the first one is unknown (the caller checks state instead)."""
        headers = dict(headers or {})
        if isinstance(body, Body):
            headers["Content-Length"] = str(body.size)
        attempts = 1 + (self.retries if retry else 0)
        failure: RemoteError | None = None
        for attempt in range(attempts):
            if attempt:
                delay = self._delay(attempt, failure)
                log.warning("%s; retrying in %.1f s (attempt %d of %d)", failure, delay, attempt + 1, attempts)
                self._sleep(delay)
            try:
                response = self.client.request(
                    method, url, params=None if params is None else list(params), data=data, content=body,
                    headers=headers, timeout=timeout,
                )
            except httpx.TimeoutException as error:
                if isinstance(error, httpx.PoolTimeout):
                    failure = RemoteError(f"{what}: no free connection to {safe_url(url)}")
                    continue
                raise RemoteError(
                    f"{what}: {safe_url(url)} did not answer in time ({type(error).__name__}); "
                    "the store may still be working on it: raise --timeout or check the store's load",
                    timed_out=True,
                ) from None
            except _TRANSIENT as error:
                failure = RemoteError(self._connection_message(what, url, error))
                continue
            except httpx.HTTPError as error:
                raise RemoteError(self.scrub(f"{what}: {safe_url(url)}: {error}")) from None
            self.server = response.headers.get("server", self.server)
            if response.status_code >= 500:
                failure = self._status_error(what, url, response)
                continue
            if response.status_code >= 400:
                raise self._status_error(what, url, response)
            return response
        assert failure is not None
        if attempts > 1:
            failure = RemoteError(
                f"{failure.message} (gave up after {attempts} attempts)", failure.status, failure.store_text
            )
        raise failure

    def _delay(self, attempt: int, failure: RemoteError | None) -> float:
        delay = self.backoff * 2 ** (attempt - 1)
        hint = failure.retry_after if failure else None
        return max(delay, min(hint, 30.0)) if hint else delay

    def _connection_message(self, what: str, url: str, error: Exception) -> str:
        where = safe_url(url)
        reason = self.scrub(str(error) or type(error).__name__)
        if isinstance(error, httpx.ConnectError):
            return f"{what}: cannot connect to {where} ({reason}): is the store running, and the host and port right?"
        return f"{what}: the connection to {where} broke ({type(error).__name__}: {reason})"

    def _status_error(self, what: str, url: str, response: httpx.Response) -> RemoteError:
        status = response.status_code
        where = safe_url(url)
        store_text = self.scrub(store_message(response))
        user = f" as user {self.credentials.user!r}" if self.credentials and self.credentials.user else ""
        hints = {
            401: (
                f"the store refused the credentials{user}" if self.credentials
                else "the store needs authentication: give --user and --password, or --auth-env VAR"
            ),
            403: f"the store denies this operation{user}: the account lacks the permission (e.g. SPARQL_UPDATE)",
            404: "nothing at this path: check the endpoint URL (see docs/remote-stores.md for each store's paths)",
            405: "this URL does not accept the method: is it the right kind of endpoint (query, update, graph store)?",
            413: "the store (or a proxy in front of it) refused the request body as too large: raise its body "
            "limit, or publish with --protocol update and a smaller --batch-size",
            415: "the store does not accept this content type",
        }
        hint = hints.get(status, "the store rejected the request" if status < 500 else "the store failed")
        if status == 400 and _SIZE_LIMIT.search(store_text):
            hint = hints[413]  # Oxigraph answers an over-long SPARQL body with 400 and a size message
        message = f"{what}: {where} answered {status} {response.reason_phrase}: {hint}"
        if store_text:
            message += f"\n  the store said: {store_text}"
        return RemoteError(message, status=status, store_text=store_text, retry_after=_retry_after(response))


_SIZE_LIMIT = re.compile(r"too (large|big|long)|payloads? (are|is) limited|exceeds?|size limit", re.IGNORECASE)


def store_message(response: httpx.Response, limit: int = 600) -> str:
    """The store's own error text, as plain one-paragraph text (HTML tags stripped), shortened."""
    try:
        text = response.text
    except (httpx.HTTPError, UnicodeDecodeError):
        return ""
    if "html" in response.headers.get("content-type", "") or re.match(r"(?is)\s*<(!doctype|html|head|body)", text):
        # An HTML error page (proxies, Virtuoso): its words without the tags. Plain text is kept as it is,
        # since IRIs in <...> are often the point of the message.
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
        text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.strip().isdigit() else None

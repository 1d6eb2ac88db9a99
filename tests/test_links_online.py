"""`vetgraph links --online` and `--refresh` against a stand-in of the EU hosts on loopback (no test reaches the
internet), and the project's own snapshot: the offline check works on a copy of the project without ../shared."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import OWL, RDF, SKOS, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS

from tests.helpers.shared import require_shared
from tests.helpers.vocab_server import VocabServer
from vetgraph.cli import main
from vetgraph.config import PROJECT_ROOT
from vetgraph.links import load_snapshot, vocabulary_of
from vetgraph.links_online import online_targets
from vetgraph.loading import load_project
from vetgraph.vocab_snapshot import SNAPSHOT_FILE

LINKS = Path(__file__).resolve().parent / "data" / "links"
EUROVOC = "http://eurovoc.europa.eu/"
DEU = URIRef("http://publications.europa.eu/resource/authority/country/DEU")


@pytest.fixture(scope="module")
def vocabulary() -> Graph:
    """Everything ../shared/vocab says: what the stand-in serves."""
    return load_snapshot(require_shared("vocab")).graph


@pytest.fixture(scope="module")
def changed_vocabulary(vocabulary: Graph) -> Graph:
    """The vocabularies after a few changes upstream: one concept deprecated, one replaced, a label changed, and
    two concepts that answer only after a 500 or a 429."""
    graph = Graph()
    graph += vocabulary
    graph.remove((DEU, SKOS.prefLabel, Literal("Germany", lang="en")))
    graph.add((DEU, SKOS.prefLabel, Literal("Federal Republic of Germany", lang="en")))
    for name in ("x-deprecated", "x-replaced", "x/flaky500", "x/busy429"):
        graph.add((URIRef(EUROVOC + name), RDF.type, SKOS.Concept))
        graph.add((URIRef(EUROVOC + name), SKOS.prefLabel, Literal(name, lang="en")))
    graph.add((URIRef(EUROVOC + "x-deprecated"), OWL.deprecated, Literal(True)))
    graph.add((URIRef(EUROVOC + "x-replaced"), DCTERMS.isReplacedBy, URIRef(EUROVOC + "1439")))
    graph.add((URIRef("https://doi.org/10.2767/25307"), DCTERMS.title, Literal("Innovation & digitalisation")))
    return graph


def online(capsys, server: VocabServer, cache: Path, *args: str) -> tuple[int, dict]:
    code = main(["links", "--online", "--format", "json", *server.resolve, "--cache", str(cache),
                 "--timeout", "1", "--max-bytes", "100000", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out)


def test_every_outcome_has_its_own_line(capsys, tmp_path, changed_vocabulary):
    with VocabServer(changed_vocabulary) as server:
        code, report = online(capsys, server, tmp_path / "cache", "--data", str(LINKS / "online.ttl"))
    assert code == 1
    by_iri = {r["iri"]: r for r in report["results"]}
    status = {iri: r["status"] for iri, r in by_iri.items()}
    assert status[EUROVOC + "1439"] == status[EUROVOC + "1071"] == "ok"
    assert status[EUROVOC + "x/gone404"] == status[EUROVOC + "x/gone410"] == "gone"
    assert by_iri[EUROVOC + "x/gone410"]["detail"] == "HTTP 410"
    # retried: a 500 then a 200, a 429 with Retry-After then a 200
    assert status[EUROVOC + "x/flaky500"] == status[EUROVOC + "x/busy429"] == "ok"
    assert server.requests[EUROVOC + "x/flaky500"] == 2 and server.requests[EUROVOC + "x/busy429"] == 2
    assert status[EUROVOC + "x-deprecated"] == "deprecated"
    assert "owl:deprecated true" in by_iri[EUROVOC + "x-deprecated"]["detail"]
    assert status[EUROVOC + "x-replaced"] == "replaced"
    assert by_iri[EUROVOC + "x-replaced"]["replacedBy"] == [EUROVOC + "1439"]
    deu = by_iri[str(DEU)]
    assert (deu["status"], deu["oldLabel"], deu["newLabel"]) == ("label changed", "Germany",
                                                                 "Federal Republic of Germany")
    assert status[EUROVOC + "x/slow"] == "unreachable" and "timed out" in by_iri[EUROVOC + "x/slow"]["detail"]
    assert status[EUROVOC + "x/loop"] == "unreachable" and "redirect" in by_iri[EUROVOC + "x/loop"]["detail"]
    assert status[EUROVOC + "x/html"] == "unreadable" and "text/html" in by_iri[EUROVOC + "x/html"]["detail"]
    assert status[EUROVOC + "x/huge"] == "unreadable" and "cap" in by_iri[EUROVOC + "x/huge"]["detail"]
    assert status[EUROVOC + "x/broken"] == "unreadable" and "malformed" in by_iri[EUROVOC + "x/broken"]["detail"]
    assert status["https://doi.org/10.2767/25307"] == "ok"
    assert all(agent.startswith("vetgraph/") for agent in server.user_agents)


def test_the_real_links_are_ok_and_a_second_run_revalidates_from_the_cache(capsys, tmp_path, vocabulary):
    # CELEX and DOI records are not in ../shared: the stand-in gives each a title
    vocabulary = vocabulary + Graph()
    for iri in online_targets(load_project().dataset):
        if vocabulary_of(iri)[0] in ("CELEX", "DOI"):
            vocabulary.add((URIRef(iri), DCTERMS.title, Literal("a record")))
    with VocabServer(vocabulary) as server:
        code, report = online(capsys, server, tmp_path / "cache")
        assert code == 0, [r for r in report["results"] if r["status"] != "ok"]
        assert report["links"] >= 50
        first = len(server.statuses)
        assert main(["links", "--online", *server.resolve, "--cache", str(tmp_path / "cache")]) == 0
        second = server.statuses[first:]
    # the second run asks again, conditionally: every answer is a bodiless 304
    assert second and all(status == 304 for _, status in second)
    assert capsys.readouterr().out.splitlines()[-1] == f"{report['links']} ok"


def test_text_report_says_each_outcome_in_one_line(capsys, tmp_path, changed_vocabulary):
    with VocabServer(changed_vocabulary) as server:
        code = main(["links", "--online", *server.resolve, "--cache", str(tmp_path), "--timeout", "1",
                     "--max-bytes", "100000", "--data", str(LINKS / "online.ttl")])
    out = capsys.readouterr().out
    assert code == 1
    assert f'label changed  <{DEU}>  en: "Germany" -> "Federal Republic of Germany"' in out
    assert f"gone           <{EUROVOC}x/gone404>  HTTP 404" in out
    assert out.rstrip().splitlines()[-1] == (
        "5 ok, 2 gone, 1 deprecated, 1 replaced, 1 label changed, 3 unreadable, 2 unreachable")


def test_links_not_tried_within_the_total_time_limit_are_reported(capsys, tmp_path, changed_vocabulary):
    # 2 requests at once per host; the 429 (Retry-After: 1) and the 500 (backoff) alone outlast 1 s
    with VocabServer(changed_vocabulary) as server:
        code, report = online(capsys, server, tmp_path, "--total-timeout", "1", "--data", str(LINKS / "online.ttl"))
    assert code == 1
    late = [r for r in report["results"] if r["detail"] == "not tried: the total time limit (1 s) ran out"]
    assert late and all(r["status"] == "unreachable" for r in late)
    assert len(late) < len(report["results"])


def test_a_host_that_does_not_answer_is_unreachable_with_the_reason(capsys, tmp_path):
    # a loopback port nobody listens on
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    resolve = [arg for host in VocabServer.HOSTS for arg in ("--resolve", f"{host}=http://127.0.0.1:{port}")]
    code = main(["links", "--online", "--format", "json", *resolve, "--cache", str(tmp_path),
                 "--data", str(LINKS / "wrong-eurovoc.ttl")])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {r["status"] for r in report["results"]} == {"unreachable"}
    assert all("cannot connect" in r["detail"] for r in report["results"])


def test_a_cache_folder_that_cannot_be_made_exits_2(capsys, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    assert main(["links", "--online", "--cache", str(tmp_path / "file" / "cache")]) == 2
    err = capsys.readouterr().err
    assert "cannot use it as an HTTP cache" in err and "Traceback" not in err


def test_bad_resolve_option_exits_2(capsys):
    assert main(["links", "--online", "--resolve", "eurovoc.europa.eu"]) == 2
    assert "--resolve eurovoc.europa.eu: expected HOST=URL" in capsys.readouterr().err


# --- the project's snapshot -----------------------------------------------------------------------------------


def test_committed_snapshot_is_what_refresh_from_shared_vocab_writes(tmp_path):
    out = tmp_path / "snapshot.ttl"
    date = SNAPSHOT_FILE.read_text(encoding="utf-8").split("# Retrieved: ", 1)[1].split(" ", 1)[0]
    assert main(["links", "--refresh", "--from", str(require_shared("vocab")), "--date", date,
                 "--output", str(out)]) == 0
    assert out.read_bytes() == SNAPSHOT_FILE.read_bytes(), "run: vetgraph links --refresh --from ../shared/vocab"


def test_snapshot_keeps_every_language_and_the_header_names_sources_versions_and_licence():
    text = SNAPSHOT_FILE.read_text(encoding="utf-8")
    assert "# - authority/country: " in text and "version 20220928-0" in text and "CC BY 4.0" in text
    graph = load_snapshot().graph
    labels = {v.language: str(v) for v in graph.objects(DEU, SKOS.prefLabel)}
    assert labels["en"] == "Germany" and labels["de"] == "Deutschland" and labels["pl"] == "Niemcy"
    assert len(labels) >= 24


def test_refresh_online_writes_the_same_triples_as_from_the_folder(capsys, tmp_path, vocabulary):
    out = tmp_path / "online.ttl"
    with VocabServer(vocabulary) as server:
        code = main(["links", "--refresh", "--date", "2026-12-03", "--output", str(out), *server.resolve,
                     "--cache", str(tmp_path / "cache")])
    assert code == 0, capsys.readouterr().out
    assert "dereferenced on the web" in out.read_text(encoding="utf-8")
    assert isomorphic(Graph().parse(out), Graph().parse(SNAPSHOT_FILE))


def test_refresh_that_cannot_read_a_target_keeps_the_old_snapshot(capsys, tmp_path, changed_vocabulary):
    out = tmp_path / "snapshot.ttl"
    out.write_text("old\n")
    with VocabServer(changed_vocabulary) as server:
        code = main(["links", "--refresh", "--date", "2026-12-03", "--output", str(out), *server.resolve,
                     "--cache", str(tmp_path / "cache"), "--timeout", "1", "--max-bytes", "100000",
                     "--data", str(LINKS / "online.ttl")])
    text = capsys.readouterr().out
    assert code == 1 and out.read_text() == "old\n"
    assert f"<{EUROVOC}x/gone404>: HTTP 404" in text and f"<{EUROVOC}x/broken>: malformed" in text


@pytest.mark.parametrize("args, message", [
    (["--refresh", "--from", "x"], "--refresh needs --date"),
    (["--refresh", "--date", "3 Dec"], "--date 3 Dec: not a date"),
    (["--date", "2026-12-03"], "--from, --date and --output go with --refresh"),
])
def test_refresh_usage_errors_exit_2(capsys, args, message):
    assert main(["links", *args]) == 2
    assert message in capsys.readouterr().err


def test_offline_links_work_on_a_copy_of_the_project_without_shared(tmp_path):
    clone = tmp_path / "clone"
    for name in ("vetgraph", "data", "ontology", "queries"):
        shutil.copytree(PROJECT_ROOT / name, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / "release.toml", clone)
    env = {key: value for key, value in os.environ.items() if not key.startswith("VETGRAPH_")}
    env.update(PYTHONPATH=str(clone), VETGRAPH_VOCAB=str(tmp_path / "nowhere"))
    result = subprocess.run([sys.executable, "-m", "vetgraph", "links"], cwd=clone, env=env,
                            capture_output=True, text=True, timeout=300)
    assert not (tmp_path / "shared").exists()
    assert result.returncode == 0, result.stderr
    assert f"Links checked against the snapshot {clone}/vetgraph/reference/links-snapshot.ttl" in result.stdout
    assert "\n0 errors, 0 warnings" in result.stdout


def test_build_labels_come_from_the_project_snapshot(loaded):
    from vetgraph.links import label_triples

    graph = label_triples(loaded.dataset)  # no folder: the snapshot shipped in the package
    assert (URIRef("http://publications.europa.eu/resource/authority/country/GEO"), SKOS.prefLabel,
            Literal("Georgia", lang="en")) in graph
    assert all(label.language == "en" for label in graph.objects(DEU, SKOS.prefLabel))

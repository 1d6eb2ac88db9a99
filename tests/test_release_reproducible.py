"""The real release is the same in every process: `vetgraph build` run in separate processes with different
hash seeds writes byte-identical files, and pyLODE's ontology page is the ontology's (not a concept scheme's).

test_build.py checks reproducibility on the small fixture project; this runs the real ontology and data, which
have what the fixture lacks (a skos:ConceptScheme beside the owl:Ontology, hidden labels, the unconfirmed graph).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vetgraph.config import ONTOLOGY_IRI

#: Hash seeds under which two builds of the real project differed before (set order reached pyLODE's page).
SEEDS = ("1", "3")


def _env(seed: str) -> dict[str, str]:
    return {**os.environ, "PYTHONHASHSEED": seed}


def build_in_process(out: Path, seed: str) -> Path:
    """`vetgraph build` of the checkout in a process of its own with this hash seed."""
    command = [sys.executable, "-m", "vetgraph", "build", "--out", str(out), "--quiet"]
    done = subprocess.run(command, env=_env(seed), capture_output=True, text=True, cwd=out.parent, timeout=600)
    assert done.returncode == 0, done.stderr
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return [build_in_process(tmp_path_factory.mktemp(f"seed{seed}") / "dist", seed) for seed in SEEDS]


@pytest.mark.slow
def test_builds_in_processes_with_different_hash_seeds_are_byte_identical(releases: list[Path]) -> None:
    first, second = releases
    assert (first / "SHA256SUMS").read_bytes() == (second / "SHA256SUMS").read_bytes()
    one, other = snapshot(first), snapshot(second)
    assert sorted(one) == sorted(other)
    assert [name for name in one if one[name] != other[name]] == []


def _title_and_iri(html: str) -> tuple[str, str]:
    title = re.search(r"<title>([^<]*)</title>", html)
    iri = re.search(r"<strong>IRI</strong>\s*</dt>\s*<dd>\s*<code>([^<]*)</code>", html)
    assert title and iri, "pyLODE's page has no <title> or no IRI"
    return title.group(1), iri.group(1)


@pytest.mark.slow
def test_the_ontology_page_is_the_ontologys_under_every_hash_seed(releases: list[Path], tmp_path: Path) -> None:
    # Two full builds above, and two more processes that only make the page.
    pages = [(release / "ontology" / "index.html").read_text(encoding="utf-8") for release in releases]
    script = ("import sys; from vetgraph.config import Paths; from vetgraph.loading import load_graph; "
              "from vetgraph.publication import _ontology_html; "
              "sys.stdout.buffer.write(_ontology_html(load_graph(Paths().ontology_file)))")
    for seed in ("7", "42"):
        done = subprocess.run([sys.executable, "-c", script], env=_env(seed), capture_output=True, cwd=tmp_path,
                              timeout=300)
        assert done.returncode == 0, done.stderr.decode()
        pages.append(done.stdout.decode("utf-8"))
    for html in pages:
        assert _title_and_iri(html) == ("vetgraph ontology", ONTOLOGY_IRI)
        metadata = html[html.index('id="metadata"'):html.index("</dl>", html.index('id="metadata"'))]
        assert "0.1.0" in metadata  # owl:versionInfo
        assert "A small OWL ontology for European vocational education" in metadata  # dcterms:description
        assert "evidence levels" not in metadata and "EvidenceLevels" not in metadata

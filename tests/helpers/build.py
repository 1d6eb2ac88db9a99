"""The fixture project of tests/data/build (ontology, data, release.toml) and its release."""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers.shared import FIXTURES
from vetgraph.config import Paths
from vetgraph.contents import dump_files
from vetgraph.publication import MARKER, BuildOptions, BuildResult, build

BUILD_FIXTURES = FIXTURES / "build"
RELEASE = BUILD_FIXTURES / "release.toml"
BASE_URL = "https://data.example.org/vetgraph/"


def fixture_paths(data: Path = BUILD_FIXTURES / "data") -> Paths:
    return Paths(ontology_dir=BUILD_FIXTURES / "ontology", data_dir=data, queries_dir=BUILD_FIXTURES,
                 vocab_dir=Paths().vocab_dir)


def build_fixture(out: Path, data: Path = BUILD_FIXTURES / "data", **options) -> BuildResult:
    return build(BuildOptions(out=out, base_url=BASE_URL, release_file=RELEASE, paths=fixture_paths(data), **options))


#: Every file of the fixture's release (the hidden marker included).
EXPECTED = {
    *(dump.name for dump in dump_files()),
    "context.jsonld", "catalog.ttl", "catalog.rdf", "catalog.jsonld", "void.ttl", "CHANGES.md", "README.txt",
    "index.html", "SHA256SUMS",
    "ontology/vet.ttl", "ontology/vet.jsonld", "ontology/vet.rdf", "ontology/index.html", "ontology/shapes.ttl",
    MARKER,
}


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below a folder, by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cli_env(data: Path = BUILD_FIXTURES / "data", seed: str = "0") -> dict[str, str]:
    """The environment of a `vetgraph` process that works on the fixture project."""
    return {**os.environ, "VETGRAPH_ONTOLOGY": str(BUILD_FIXTURES / "ontology"), "VETGRAPH_DATA": str(data),
            "PYTHONHASHSEED": seed}

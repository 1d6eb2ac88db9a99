"""The fixture project of tests/data/build (ontology, data, release.toml) and its release."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.shared import FIXTURES
from vetgraph.config import Paths
from vetgraph.publication import BuildOptions, BuildResult, build

BUILD_FIXTURES = FIXTURES / "build"
RELEASE = BUILD_FIXTURES / "release.toml"
BASE_URL = "https://data.example.org/vetgraph/"


def fixture_paths(data: Path = BUILD_FIXTURES / "data") -> Paths:
    return Paths(ontology_dir=BUILD_FIXTURES / "ontology", data_dir=data, queries_dir=BUILD_FIXTURES,
                 vocab_dir=Paths().vocab_dir)


def build_fixture(out: Path, data: Path = BUILD_FIXTURES / "data", **options) -> BuildResult:
    return build(BuildOptions(out=out, base_url=BASE_URL, release_file=RELEASE, paths=fixture_paths(data), **options))

"""Shared fixtures. `../shared` (vocabulary snapshots, DCAT-AP shapes, the fact sheet) is beside every
developer checkout and CI, but not beside a user's fresh clone: tests that need it skip with a reason,
and fail under CI=true, where its absence is a broken set-up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from vetgraph.config import PROJECT_ROOT, Paths

if TYPE_CHECKING:
    from starlette.testclient import TestClient

TESTS_DIR = Path(__file__).resolve().parent
FIXTURES = TESTS_DIR / "data"
SHARED = Path(os.environ.get("VETGRAPH_SHARED", PROJECT_ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_shared(*parts: str) -> Path:
    """The path below ../shared, or skip (fail under CI=true) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} is absent: ../shared is not beside this checkout"
        if IN_CI:
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    return path


def data_with_curation(tmp_path: Path, fixture: str) -> Path:
    """A copy of the project's RDF data (tmp_path/data) plus the curation folder of tests/data/curation/FIXTURE."""
    import shutil

    data = tmp_path / "data"
    data.mkdir()
    for path in Paths().data_dir.iterdir():
        if path.is_file():
            shutil.copy(path, data)
    shutil.copytree(FIXTURES / "curation" / fixture / "curation", data / "curation")
    return data


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return require_shared()


@pytest.fixture(scope="session")
def vocab_dir() -> Path:
    return require_shared("vocab")


@pytest.fixture(scope="session")
def facts() -> dict:
    import yaml

    return yaml.safe_load(require_shared("report", "facts.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def facts2() -> dict:
    import yaml

    return yaml.safe_load(require_shared("report", "facts-2.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def paths() -> Paths:
    return Paths()


@pytest.fixture(scope="session")
def loaded(paths: Paths):
    """The real project (ontology, shapes, data), loaded once per test session."""
    from vetgraph.loading import load_project

    return load_project(paths)


@pytest.fixture(scope="session")
def oxigraph_store(loaded):
    """The real data in an in-memory Oxigraph store, loaded once."""
    return loaded.store()


@pytest.fixture(scope="session")
def rdflib_store(loaded):
    from vetgraph.store import RdflibStore

    return RdflibStore(loaded.dataset)


@contextmanager
def app_client(store, **options) -> Iterator[TestClient]:
    """A Starlette TestClient over `create_app(store, **options)`, its lifespan (worker pool) running."""
    from starlette.testclient import TestClient

    from vetgraph.server.app import create_app

    with TestClient(create_app(store, **options)) as client:
        yield client


@pytest.fixture(scope="module")
def fixture_client() -> Iterator[TestClient]:
    """The server over tests/data/server/fixture.trig (markup in labels, resources the real data lack)."""
    from vetgraph.loading import load_project
    from vetgraph.store import OxigraphStore

    loaded = load_project(Paths(), data_files=[FIXTURES / "server" / "fixture.trig"])
    with app_client(OxigraphStore.from_dataset(loaded.dataset), ontology=loaded.ontology, workers=1) as client:
        yield client


@pytest.fixture(scope="session")
def fixture_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release of the fixture project tests/data/build, built once: test_build and test_catalog only read it."""
    from test_build import build_fixture

    out = tmp_path_factory.mktemp("release") / "dist"
    build_fixture(out)
    return out


@pytest.fixture(scope="session")
def project_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real project's release, built once with the default settings (release.toml, data/, ontology/)."""
    from vetgraph.publication import BuildOptions, build

    out = tmp_path_factory.mktemp("project") / "dist"
    build(BuildOptions(out=out))
    return out

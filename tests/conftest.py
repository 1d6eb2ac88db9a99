"""Shared fixtures; the helpers they are built on are in tests/helpers/. Fixtures that need ../shared skip with a
reason when it is absent, and fail under CI=true (see tests/helpers/shared.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers.servers import OxigraphServer, app_client
from tests.helpers.shared import FIXTURES, require_shared
from vetgraph.config import Paths

if TYPE_CHECKING:
    from starlette.testclient import TestClient


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
    from vetgraph.stores import RdflibStore

    return RdflibStore(loaded.dataset)


@pytest.fixture(scope="module")
def fixture_client() -> Iterator[TestClient]:
    """The server over tests/data/server/fixture.trig (markup in labels, resources the real data lack)."""
    from vetgraph.loading import load_project
    from vetgraph.stores import OxigraphStore

    loaded = load_project(Paths(), data_files=[FIXTURES / "server" / "fixture.trig"])
    with app_client(OxigraphStore.from_dataset(loaded.dataset), ontology=loaded.ontology, workers=1) as client:
        yield client


@pytest.fixture(scope="session")
def fixture_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The release of the fixture project tests/data/build, built once: test_build and test_catalog only read it."""
    from tests.helpers.build import build_fixture

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


@pytest.fixture
def oxigraph_server(tmp_path: Path) -> Iterator[OxigraphServer]:
    """`oxigraph serve` on an empty folder of this test, on a free loopback port."""
    server = OxigraphServer(tmp_path / "oxigraph").start()
    try:
        yield server
    finally:
        server.stop()

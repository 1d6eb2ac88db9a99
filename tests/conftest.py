"""Shared fixtures. `../shared` (vocabulary snapshots, DCAT-AP shapes, the fact sheet) is beside every
developer checkout and CI, but not beside a user's fresh clone: tests that need it skip with a reason,
and fail under CI=true, where its absence is a broken set-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vetgraph.config import PROJECT_ROOT, Paths

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
    from vetgraph.store import OxigraphStore

    return OxigraphStore.from_dataset(loaded.dataset)


@pytest.fixture(scope="session")
def rdflib_store(loaded):
    from vetgraph.store import RdflibStore

    return RdflibStore(loaded.dataset)

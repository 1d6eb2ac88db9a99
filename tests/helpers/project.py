"""Copies of the project's data for tests that change it."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.shared import FIXTURES
from vetgraph.config import Paths


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

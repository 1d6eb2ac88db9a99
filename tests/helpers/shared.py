"""Where the test fixtures are, and `../shared` (vocabulary snapshots, DCAT-AP shapes, the fact sheet), which is
beside every developer checkout and CI but not beside a user's fresh clone: tests that need it skip with a
reason, and fail under CI=true, where its absence is a broken set-up. The same holds for external programs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vetgraph.config import PROJECT_ROOT

TESTS_DIR = Path(__file__).resolve().parent.parent
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


def require_program(path: str | None, name: str, hint: str) -> str:
    """The program's path, or skip (fail under CI=true, where .ci/run installs it)."""
    if path and Path(path).exists():
        return path
    message = f"{name} is not installed ({hint})"
    if IN_CI:
        pytest.fail(message + "; it is required under CI=true")
    pytest.skip(message)

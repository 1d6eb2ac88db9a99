"""The package works outside its checkout: the wheel built from the checkout, installed into a fresh venv and
run from a folder of its own, validates, answers the stored queries and builds the release exactly as the
checkout does, from the copy of ontology/, data/, queries/ and release.toml it carries."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vetgraph.config import PROJECT_ROOT

#: Not needed to build the wheel (and large, or written by other tests).
_NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "dist", "build", "*.egg-info", "__pycache__", ".*_cache",
                                     "node_modules", "tests", "bench", "docs")

_API_SCRIPT = """
import json, sys, vetgraph
from vetgraph import config
rows = vetgraph.query("insight", number=3)
dataset = vetgraph.dataset()
print(json.dumps({
    "module": vetgraph.__file__, "project": str(config.PROJECT_ROOT),
    "insight": [{k: v.n3() for k, v in row.items()} for row in rows],
    "quads": len(vetgraph.store()),
    "graphs": sorted(str(g.identifier) for g in dataset.graphs() if len(g)),
}))
"""


def _env() -> dict[str, str]:
    """The user's environment: nothing that points back into the checkout."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("VETGRAPH_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def _run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel of the checkout installed (dependencies from pip's configured indexes and
    cache); returns its bin/ folder."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=_NOT_COPIED)  # pip wheel writes build/ into its source tree
    wheels = root / "wheels"
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(wheels), "."],
                cwd=source)
    assert done.returncode == 0, done.stderr
    [wheel] = wheels.glob("vetgraph-*.whl")
    venv = root / "venv"
    done = _run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    assert done.returncode == 0, done.stderr
    done = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=root, timeout=900)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("elsewhere")


def _checkout(*args: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-m", "vetgraph", *args], cwd=PROJECT_ROOT)


@pytest.mark.slow
def test_validate_and_query_from_another_folder_answer_as_the_checkout(installed: Path, elsewhere: Path) -> None:
    for args in (["validate"], ["query", "insights", "--format", "json"]):
        there, here = _run([str(installed / "vetgraph"), *args], cwd=elsewhere), _checkout(*args)
        assert there.returncode == here.returncode == 0, (args, there.stderr)
        assert there.stdout == here.stdout, args
    assert len(json.loads(there.stdout)["results"]["bindings"]) == 8


@pytest.mark.slow
def test_python_api_from_another_folder_answers_as_the_checkout(installed: Path, elsewhere: Path) -> None:
    there = _run([str(installed / "python"), "-c", _API_SCRIPT], cwd=elsewhere)
    here = _run([sys.executable, "-c", _API_SCRIPT], cwd=PROJECT_ROOT)
    assert there.returncode == here.returncode == 0, there.stderr + here.stderr
    installed_answer, checkout_answer = json.loads(there.stdout), json.loads(here.stdout)
    # The installed package, reading the copy it carries (not this checkout).
    assert Path(installed_answer["module"]).is_relative_to(installed.parent)
    assert Path(installed_answer["project"]) == Path(installed_answer["module"]).parent / "_project"
    for key in ("insight", "quads", "graphs"):
        assert installed_answer[key] == checkout_answer[key], key
    assert installed_answer["insight"] and len(installed_answer["graphs"]) == 2


@pytest.mark.slow
def test_build_from_another_folder_writes_the_checkouts_release_there(installed: Path, elsewhere: Path,
                                                                      tmp_path: Path) -> None:
    there = _run([str(installed / "vetgraph"), "build", "--quiet"], cwd=elsewhere)
    assert there.returncode == 0, there.stderr
    here = _checkout("build", "--quiet", "--out", str(tmp_path / "dist"))
    assert here.returncode == 0, here.stderr
    # dist/ of the working folder, never inside the installed package; release.toml came along.
    assert (elsewhere / "dist" / "SHA256SUMS").read_bytes() == (tmp_path / "dist" / "SHA256SUMS").read_bytes()
    assert not list(installed.parent.rglob("SHA256SUMS"))


@pytest.mark.slow
def test_the_reference_labels_come_with_the_wheel(installed: Path, elsewhere: Path) -> None:
    from vetgraph.reference import eu_labels, term_labels

    script = "import vetgraph.reference as r; print(r.__file__); print(len(r.term_labels()), len(r.eu_labels('en')))"
    done = _run([str(installed / "python"), "-c", script], cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    where, counts = done.stdout.splitlines()
    assert "site-packages" in where and not where.startswith(str(PROJECT_ROOT))
    assert counts.split() == [str(len(term_labels())), str(len(eu_labels("en")))]


@pytest.mark.slow
def test_links_check_against_the_snapshot_shipped_in_the_wheel(installed: Path, elsewhere: Path) -> None:
    # no ../shared beside `elsewhere`: the offline check reads the project's own snapshot from the package
    done = _run([str(installed / "vetgraph"), "links"], cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "site-packages/vetgraph/reference/links-snapshot.ttl" in done.stdout
    found = _run([str(installed / "vetgraph"), "links", "--search", "Niemcy"], cwd=elsewhere)
    assert found.returncode == 0 and '"Niemcy"@pl' in found.stdout, found.stderr

"""`vetgraph build --out DIR` never deletes what vetgraph did not write, and a killed or terminated build leaves
nothing behind that the next build does not clean: the release marker, the checksum proof, SIGTERM, stale
temporary folders."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.helpers.build import BUILD_FIXTURES as FIXTURES
from tests.helpers.build import EXPECTED, RELEASE, build_fixture, cli_env, snapshot
from tests.helpers.progress import without_progress
from vetgraph import cli, publication

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock and signals as on Linux")


def build_cli(out: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("VETGRAPH_ONTOLOGY", str(FIXTURES / "ontology"))
    monkeypatch.setenv("VETGRAPH_DATA", str(FIXTURES / "data"))
    return cli.main(["build", "--out", str(out), "--release", str(RELEASE), "--quiet"])


def test_a_folder_with_a_foreign_sha256sums_is_not_replaced(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "thesis"
    (out / "photos").mkdir(parents=True)
    (out / "photos" / "a.jpg").write_bytes(b"\xff\xd8 a photo")
    (out / "thesis.txt").write_text("three years of work")
    (out / "SHA256SUMS").write_text("0" * 64 + "  thesis.txt\n")
    before = snapshot(out)
    assert build_cli(out, monkeypatch) == 2
    assert snapshot(out) == before
    err = capsys.readouterr().err
    assert str(out) in err and "not a vetgraph release" in err and f"no {publication.MARKER} marker" in err
    assert len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis"]  # no temporary folder left either


@pytest.mark.parametrize("exists", [True, False], ids=["empty", "absent"])
def test_an_empty_or_absent_folder_gets_the_release(tmp_path: Path, monkeypatch, exists: bool) -> None:
    out = tmp_path / "dist"
    if exists:
        out.mkdir()
    assert build_cli(out, monkeypatch) == 0
    assert set(snapshot(out)) == EXPECTED


def test_the_marker_names_the_release_and_its_checksums(fixture_release: Path) -> None:
    import hashlib

    identity = json.loads((fixture_release / publication.MARKER).read_text())
    sums = (fixture_release / "SHA256SUMS").read_bytes()
    assert identity == {"generator": "vetgraph", "version": "9.9.9", "checksums": hashlib.sha256(sums).hexdigest()}


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda out: (out / "notes.txt").write_text("mine"), "notes.txt is not part of it"),
        (lambda out: (out / "ontology" / "drafts").mkdir(), "ontology/drafts/ is not part of it"),
        (lambda out: (out / "README.txt").write_text("edited by hand"), "README.txt was changed after the build"),
        (lambda out: (out / "void.ttl").unlink(), "void.ttl is missing"),
        (lambda out: (out / "SHA256SUMS").write_text(""), "its SHA256SUMS is not the one the build wrote"),
        (lambda out: (out / "extra.txt").symlink_to(out / "README.txt"), "extra.txt is not part of it"),
    ],
    ids=["file-added", "folder-added", "file-changed", "file-removed", "sums-replaced", "symlink-added"],
)
def test_a_release_with_foreign_changes_is_not_replaced(tmp_path: Path, monkeypatch, capsys, tamper, reason) -> None:
    out = tmp_path / "dist"
    build_fixture(out)
    tamper(out)
    before = snapshot(out)
    assert build_cli(out, monkeypatch) == 2
    assert snapshot(out) == before
    err = capsys.readouterr().err
    assert str(out) in err and reason in err


def test_an_untouched_previous_release_is_replaced(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "dist"
    build_fixture(out)
    (out / "vetgraph.nq").touch()  # a new time stamp is no change
    assert build_cli(out, monkeypatch) == 0
    assert set(snapshot(out)) == EXPECTED


# --- interrupted builds ---------------------------------------------------------------------------------

#: Runs `vetgraph build` and stops it while it validates or after its first file, flagging that it got there
#: (then waits for a signal).
STOPPING_BUILD = textwrap.dedent("""
    import sys, time
    from vetgraph import cli, publication

    def stop_after(real):
        def stop(*args, **kwargs):
            result = real(*args, **kwargs)
            open(sys.argv[2], "w").close()
            time.sleep(120)
            return result
        return stop

    if sys.argv[1] == "validating":
        cli.check_conforms = stop_after(cli.check_conforms)
    else:
        publication.write_file = stop_after(publication.write_file)
    sys.exit(cli.main(sys.argv[3:]))
""")


def start_stopping_build(tmp_path: Path, out: Path, stage: str = "writing") -> subprocess.Popen:
    flag = tmp_path / "stopped"
    process = subprocess.Popen(
        [sys.executable, "-c", STOPPING_BUILD, stage, str(flag), "build", "--out", str(out), "--release", str(RELEASE)],
        env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while not flag.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"the build never got to {stage}"
        time.sleep(0.05)
    return process


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


@pytest.mark.parametrize("stage", ["validating", "writing"])
def test_sigterm_is_handled_like_ctrl_c(tmp_path: Path, stage: str) -> None:
    out = tmp_path / "dist"
    build_fixture(out)
    before = snapshot(out)
    process = start_stopping_build(tmp_path, out, stage)
    assert (temporaries(tmp_path) != []) == (stage == "writing")  # writing: its temporary folder exists
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert without_progress(err).strip() == "interrupted"  # no traceback
    assert temporaries(tmp_path) == []
    assert snapshot(out) == before


def test_the_next_build_removes_what_a_killed_build_left(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    process = start_stopping_build(tmp_path, out)
    process.kill()  # SIGKILL: no handler runs
    process.communicate(timeout=60)
    left = temporaries(tmp_path)
    assert len(left) == 1 and (tmp_path / left[0] / publication.MARKER).is_file()

    lookalike = tmp_path / ".dist.tmp-abcd1234"  # named like ours, but no marker: not provably ours
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("not vetgraph's")
    running = tmp_path / ".dist.tmp-efgh5678"  # a build still writing: its marker is locked
    running.mkdir()
    (running / publication.MARKER).write_text("{}")
    fd = os.open(running / publication.MARKER, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        build_fixture(out)
    finally:
        os.close(fd)
    assert temporaries(tmp_path) == sorted([lookalike.name, running.name])
    assert (lookalike / "keep.txt").read_text() == "not vetgraph's"
    assert set(snapshot(out)) == EXPECTED

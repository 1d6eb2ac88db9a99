"""Progress of long steps: on stderr, plain lines when it is not a terminal (pipes), a tqdm bar on a terminal,
nothing with --quiet; stdout keeps only the results. Run as users run it: `vetgraph` processes on a 10x
synthetic corpus with stderr to a pipe (or a pseudo-terminal)."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from vetgraph import synth
from vetgraph.progress import Progress

VETGRAPH = [sys.executable, "-m", "vetgraph"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the 10x synthetic corpus (it conforms to the project's shapes)."""
    folder = tmp_path_factory.mktemp("synth10") / "data"
    folder.mkdir()
    synth.generate(10).serialize(folder / "synth.trig", format="trig")
    return folder


def _run(args: list[str], data: Path, **options) -> subprocess.CompletedProcess:
    env = {**os.environ, "VETGRAPH_DATA": str(data)}
    return subprocess.run(VETGRAPH + args, env=env, capture_output=True, text=True, timeout=600, **options)


def test_validate_to_a_pipe_shows_steps_with_counts(corpus: Path) -> None:
    done = _run(["validate", "--jobs", "2"], corpus)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "[1/2] loading ontology, shapes and data"
    assert re.fullmatch(r"\[1/2\] loading ontology, shapes and data: done, 3/3 files in [\d.]+ s", lines[1])
    assert lines[2] == "[2/2] validating against the SHACL shapes"
    counted = re.fullmatch(r"\[2/2\] validating against the SHACL shapes: done, (\d+)/(\d+) partitions in .*",
                           lines[-1])
    assert counted and counted[1] == counted[2] and int(counted[1]) > 1  # the 10x corpus is partitioned
    assert "\r" not in done.stderr  # no bar redraws in a log
    assert "conforms" in done.stdout.lower() or "warning" in done.stdout  # the report stays on stdout
    assert "[1/2]" not in done.stdout


def test_validate_quiet_prints_only_the_summary(corpus: Path) -> None:
    done = _run(["validate", "--jobs", "2", "--quiet"], corpus)
    assert done.returncode == 0
    assert done.stderr == ""
    assert re.fullmatch(r"0 violations, \d+ warnings\n", done.stdout)


def test_build_to_a_pipe_shows_every_step(corpus: Path, tmp_path: Path) -> None:
    done = _run(["build", "--out", str(tmp_path / "dist"), "--jobs", "2"], corpus)
    assert done.returncode == 0, done.stderr
    starts = [line for line in done.stderr.splitlines() if not re.search(r": done\b", line)]
    total = len(starts)
    assert total > 10
    assert [m.groups() if (m := re.match(r"\[(\d+)/(\d+)\] ", line)) else None for line in starts] == [
        (str(i), str(total)) for i in range(1, total + 1)]
    assert starts[1] == f"[2/{total}] validating against the SHACL shapes"
    assert starts[-1].startswith(f"[{total}/{total}] replacing ")
    assert re.search(rf"^\[2/{total}\] validating .*: done, (\d+)/\1 partitions in ", done.stderr, re.M)
    assert done.stdout.startswith("wrote ") and len(done.stdout.splitlines()) == 1


def test_build_quiet_prints_nothing(corpus: Path, tmp_path: Path) -> None:
    done = _run(["build", "--out", str(tmp_path / "dist"), "--jobs", "2", "--quiet"], corpus)
    assert done.returncode == 0, done.stderr
    assert (done.stdout, done.stderr) == ("", "")
    assert (tmp_path / "dist" / "SHA256SUMS").is_file()


def test_validate_on_a_terminal_draws_a_bar(corpus: Path) -> None:
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(VETGRAPH + ["validate", "--jobs", "2", "--quiet"], stdout=subprocess.PIPE,
                                   stderr=follower, env={**os.environ, "VETGRAPH_DATA": str(corpus)})
        os.close(follower)
        out = process.communicate(timeout=600)[0]
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    # --quiet: nothing on the terminal either
    assert seen == b"" and out.endswith(b"warnings\n")
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a 120-column terminal
    try:
        process = subprocess.Popen(VETGRAPH + ["validate", "--jobs", "2"], stdout=subprocess.DEVNULL,
                                   stderr=follower, env={**os.environ, "VETGRAPH_DATA": str(corpus)})
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO once the process has closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=600) == 0
    finally:
        os.close(leader)
    text = b"".join(chunks).decode()
    assert "\r" in text and "100%" in text  # tqdm redraws its bar in place
    assert re.search(r"validating against the SHACL shapes: 100%\|.*\| (\d+)/\1 \[.* partitions/s\]", text)


def test_a_plain_line_at_least_every_interval_while_the_count_stands() -> None:
    stream = io.StringIO()
    progress = Progress(enabled=True, stream=stream, steps=1, interval=0.05)
    with progress.step("validating", total=4, unit="partitions") as step:
        step.set(1, 4)
        time.sleep(0.3)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "[1/1] validating"
    ticks = [line for line in lines[1:-1] if line.startswith("[1/1] validating: 1/4 partitions, ")]
    assert len(ticks) >= 2 and all("ETA" in line for line in ticks)
    assert re.fullmatch(r"\[1/1\] validating: done, 1/4 partitions in [\d.]+ s", lines[-1])
    assert [name for name, _ in progress.timings] == ["validating"]


def test_silent_progress_prints_nothing_and_still_times_steps() -> None:
    stream = io.StringIO()
    progress = Progress(enabled=False, stream=stream, steps=2)
    with progress.step("a", total=3) as step:
        step.update(3)
    with pytest.raises(ValueError), progress.step("b"):
        raise ValueError
    assert stream.getvalue() == "" and [name for name, _ in progress.timings] == ["a", "b"]

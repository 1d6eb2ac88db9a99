"""Measurement helpers for the benchmarks: medians of repeated runs, CPU time, peak memory (RSS).

The machine the benchmarks run on is shared and noisy, so every figure is a median of repeated runs, CPU time
is reported beside wall-clock time, and comparisons are ratios to a baseline measured in the same run.
"""

from __future__ import annotations

import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

MIB = 1024 * 1024


@dataclass
class Measured:
    """Repeated runs of one piece of work."""

    seconds: list[float] = field(default_factory=list)  # wall clock, per run
    cpu_seconds: list[float] = field(default_factory=list)  # this process and its waited-for children

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds)

    def as_dict(self) -> dict:
        return {**asdict(self), "median": self.median, "cpu_median": self.cpu_median, "runs": len(self.seconds)}


def cpu_time() -> float:
    """User + system CPU seconds of this process and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(work: Callable[[], object], repeat: int, budget: float = float("inf"), warmup: bool = False) -> Measured:
    """Run `work` `repeat` times (fewer once `budget` seconds are spent, at least once) and time each run."""
    if warmup:
        work()
    measured = Measured()
    spent = 0.0
    while len(measured.seconds) < repeat and (spent < budget or not measured.seconds):
        cpu, wall = cpu_time(), time.perf_counter()
        work()
        elapsed = time.perf_counter() - wall
        measured.seconds.append(elapsed)
        measured.cpu_seconds.append(cpu_time() - cpu)
        spent += elapsed
    return measured


def peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM: reset by exec, unlike ru_maxrss, which a process started
    with fork+exec inherits from its parent), or of the largest child it has waited for, in MiB."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    own = _status_kib(Path("/proc/self/status"), "VmHWM")
    if own is None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    else:
        own *= 1024
    return max(own, children) / MIB


def _status_kib(path: Path, field_name: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class TreeMemory:
    """Samples the proportional memory (PSS: shared pages split between the processes sharing them) of this
    process and all its descendants, and keeps the peak: the memory a step with forked workers or a server
    subprocess really needs, without counting copy-on-write pages once per worker."""

    def __init__(self, interval: float = 0.25):
        import threading

        self.interval = interval
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        total = 0
        for pid in (os.getpid(), *_descendants(os.getpid())):
            kib = _status_kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss")
            if kib is None:  # no smaps_rollup (old kernel, or the process just ended): its RSS
                kib = _status_kib(Path(f"/proc/{pid}/status"), "VmRSS") or 0
            total += kib * 1024
        self.peak_mib = max(self.peak_mib, total / MIB)


def _descendants(pid: int) -> list[int]:
    """Process ids below `pid`, from /proc (no psutil needed: the benchmarks also run in the test venv)."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in Path(f"/proc/{parent}/task/{task}/children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            pending.extend(children)
    return found


def stop_process(process: subprocess.Popen) -> None:
    """Stop a server started by a benchmark or a test: SIGTERM, then SIGKILL if it is not gone in 15 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

"""Progress of the long steps (loading, validation by partition, build steps, uploads, server start-up) on stderr.

One module for every command: a command activates a `Progress` (`activated(enabled)`), and the code doing
the work reports through `current().step(text, total=..., unit=...)`, so library calls stay silent unless a
command asked for progress. On a terminal each step is a live tqdm bar with counts, rate and ETA; when stderr
is not a terminal (pipes, CI logs, systemd) each step prints one plain line when it starts, one every
`PLAIN_INTERVAL` seconds with the count done and the ETA, and one when it ends if it has counts or took a
second or more, so a log never goes quiet for long. stdout is never written: it stays for results.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

#: seconds between two plain lines of a running step when stderr is not a terminal
PLAIN_INTERVAL = 10.0
#: seconds between two redraws of a terminal bar whose count does not move (elapsed time keeps ticking)
TERMINAL_INTERVAL = 1.0


def _duration(seconds: float) -> str:
    from tqdm import tqdm  # tqdm's own h:mm:ss, as its bars show it

    return tqdm.format_interval(seconds) if seconds >= 60 else f"{seconds:.1f} s"


class Step:
    """One running step: `update(n)` adds to its count, `set(done, total)` sets both (e.g. from a callback)."""

    def __init__(self, progress: Progress, label: str, total: int | None, unit: str):
        self.progress, self.label, self.total, self.unit = progress, label, total, unit
        self.done = 0
        self.started = time.perf_counter()
        self._lock = threading.Lock()
        self._bar = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # --- what the work calls ---------------------------------------------------------------------------------
    def update(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)

    def set(self, done: int, total: int | None = None) -> None:
        with self._lock:
            if total is not None and total != self.total:
                self.total = total
                if self._bar is not None:
                    self._bar.total = total
            if self._bar is not None:
                self._bar.update(done - self.done)
            self.done = done

    # --- rendering -------------------------------------------------------------------------------------------
    def counts(self) -> str:
        """'3/12 partitions' (or '3 partitions' without a total; '' for a step without counts)."""
        if self.total is None and not self.done:
            return ""
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.done:,}/{self.total:,}{unit}" if self.total is not None else f"{self.done:,}{unit}"

    def plain_status(self) -> str:
        elapsed = time.perf_counter() - self.started
        parts = [p for p in (self.counts(), f"{_duration(elapsed)} elapsed") if p]
        if self.total and 0 < self.done < self.total:
            parts.append(f"ETA {_duration(elapsed / self.done * (self.total - self.done))}")
        return f"{self.label}: " + ", ".join(parts)

    def _start(self) -> None:
        stream = self.progress.stream
        if self.progress.terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=self.label, unit=f" {self.unit}" if self.unit else "it",
                             file=stream, leave=True, dynamic_ncols=True, mininterval=0.2)
            interval = TERMINAL_INTERVAL
        else:
            print(self.label, file=stream, flush=True)
            interval = self.progress.interval
        self._ticker = threading.Thread(target=self._tick, args=(interval,), daemon=True)
        self._ticker.start()

    def _tick(self, interval: float) -> None:
        """Keeps the step visible while its count does not move (a long partition, a large upload)."""
        while not self._stop.wait(interval):
            with self._lock:
                if self._bar is not None:
                    self._bar.refresh()
                else:
                    print(self.plain_status(), file=self.progress.stream, flush=True)

    def _end(self, failed: bool) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self._bar is not None:
                self._bar.close()
            elif not failed and ((counts := self.counts()) or time.perf_counter() - self.started >= 1.0):
                # one line per step: the closing line only for a step with counts or that took a while
                elapsed = time.perf_counter() - self.started
                print(f"{self.label}: done{', ' + counts if counts else ''} in {_duration(elapsed)}",
                      file=self.progress.stream, flush=True)


class _Silent(Step):
    """A step nobody sees: counts are kept (cheaply) and nothing is printed."""

    def _start(self) -> None:
        pass

    def _end(self, failed: bool) -> None:
        pass


class Progress:
    """The steps of one command. `enabled=False` (--quiet, or a library call) prints nothing but still records
    how long each step took (`timings`, read by the benchmark)."""

    def __init__(self, enabled: bool = False, stream: TextIO | None = None, steps: int | None = None,
                 interval: float = PLAIN_INTERVAL):
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.steps, self.number, self.interval = steps, 0, interval
        self.timings: list[tuple[str, float]] = []

    def plan(self, steps: int) -> None:
        """Number the following steps [i/steps]."""
        self.steps, self.number = steps, 0

    @contextmanager
    def step(self, text: str, total: int | None = None, unit: str = "") -> Iterator[Step]:
        self.number += 1
        label = f"[{self.number}/{self.steps}] {text}" if self.steps and self.number <= self.steps else text
        step = (Step if self.enabled else _Silent)(self, label, total, unit)
        step._start()
        failed = True
        try:
            yield step
            failed = False
        finally:
            step._end(failed)
            self.timings.append((text, time.perf_counter() - step.started))


_current = Progress(enabled=False)


def current() -> Progress:
    """The progress of the running command (a silent one outside a command)."""
    return _current


@contextmanager
def activated(enabled: bool, steps: int | None = None, stream: TextIO | None = None) -> Iterator[Progress]:
    """Make a new Progress the current one for the duration of a command."""
    global _current
    previous, _current = _current, Progress(enabled, stream=stream, steps=steps)
    try:
        yield _current
    finally:
        _current = previous

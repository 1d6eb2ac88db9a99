"""Python's memory management around large graphs: pausing the cyclic garbage collector while millions of
long-lived objects are made, and giving memory back to the operating system once they are dropped."""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large graph is loaded or written out.

    Loading makes millions of objects that all stay alive, and writing allocates millions of short-lived
    tuples next to them; either way the collections they trigger traverse every live object and find nothing
    (what that costs at 100x and 1000x: docs/performance.md). Neither makes reference cycles, so refcounting
    frees what they discard; the collector is switched back on afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def release_freed_memory() -> None:
    """Collect unreachable objects, then ask glibc to return its free heap pages: after the rdflib graphs of
    a large corpus are dropped, their memory stays in the process (RSS) until malloc_trim hands it back."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to trim
            pass

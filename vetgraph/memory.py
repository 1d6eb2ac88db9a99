"""Giving memory back to the operating system once large graphs are dropped (long-running commands)."""

from __future__ import annotations

import ctypes
import gc
import sys


def release_freed_memory() -> None:
    """Collect unreachable objects, then ask glibc to return its free heap pages: after the rdflib graphs of
    a large corpus are dropped, their memory stays in the process (RSS) until malloc_trim hands it back."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to trim
            pass

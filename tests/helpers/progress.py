"""Reading stderr of a command that reports progress (vetgraph.progress) beside its messages."""

from __future__ import annotations

import re

#: a progress line when stderr is not a terminal: "[2/4] validating against the SHACL shapes..."
PROGRESS_LINE = re.compile(r"^\[\d+/\d+\] .*(\n|$)", re.M)


def without_progress(stderr: str) -> str:
    """stderr without its progress lines: the messages (errors, warnings) alone."""
    return PROGRESS_LINE.sub("", stderr)

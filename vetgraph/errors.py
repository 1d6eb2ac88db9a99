"""Errors that several capabilities raise, in a module that imports nothing heavy (no rdflib), so that
light commands such as `vetgraph query --list` start fast."""

from __future__ import annotations

from pathlib import Path


class LoadError(Exception):
    """Input that cannot be loaded: names the file and, where known, the line and column."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, column: int | None = None):
        self.path = Path(path)
        self.line = line
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"

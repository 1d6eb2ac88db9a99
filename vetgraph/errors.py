"""Errors that several capabilities raise, in a module that imports nothing heavy (no rdflib), so that
light commands such as `vetgraph query --list` start fast.

`vetgraph.cli.main` turns each of them into one message and an exit code, following pySHACL:
1 when the input was read but does not conform (`NotConforming`, a `LoadError` whose `input_read` is true),
2 when it cannot be read, an option is wrong or the command cannot run (`LoadError`, `CannotRun`).
"""

from __future__ import annotations

from pathlib import Path


class LoadError(Exception):
    """Input that cannot be loaded: names the file and, where known, the line and column."""

    #: True when the input was read and what it says does not conform (exit 1); False when it cannot be
    #: read at all (exit 2).
    input_read = False

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


class CannotRun(Exception):
    """The command cannot run or finish (an unwritable target, a store that does not answer); the message
    says why (exit 2)."""


class UsageError(CannotRun):
    """A bad option or parameter value; the message names the option (exit 2)."""


class NotConforming(Exception):
    """The data were read but do not conform to the shapes; `report` holds the first violations as
    `vetgraph validate` prints them, the message says what was not done (exit 1)."""

    def __init__(self, violations: int, report: str, consequence: str = "nothing was done"):
        self.violations = violations
        self.report = report
        super().__init__(f"{violations} SHACL violation{'s' * (violations != 1)}: {consequence}")

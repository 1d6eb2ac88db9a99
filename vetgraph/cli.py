"""The `vetgraph` command: a thin dispatcher over one module per capability.

Each command lives in its own module with `add_arguments(parser)` and `run(args) -> int`; only the module
of the command being run is imported, which keeps start-up lean. Exit codes follow pySHACL: 0 success /
conforms, 1 a negative result (violations, link errors, differences), 2 cannot run (bad input or usage).

Commands raise; `main` is the one place that turns an error into one line `vetgraph COMMAND: message` on
stderr and its exit code (`describe_error`), never a traceback unless `--debug` asks for it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

from vetgraph import __version__

if TYPE_CHECKING:
    from vetgraph.config import Paths
    from vetgraph.loading import Loaded
    from vetgraph.validation import ValidationOutcome

#: command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("vetgraph.validation", "check ontology and data against the SHACL shapes"),
    "stats": ("vetgraph.stats", "counts per class, evidence and completeness"),
    "query": ("vetgraph.queries", "run a stored SPARQL query (or --list them, or --file an ad-hoc one)"),
    "build": ("vetgraph.publication", "write verified dumps, DCAT-AP catalogue, VoID and ontology docs"),
    "links": ("vetgraph.links", "check every link to EU vocabularies against offline snapshots"),
    "serve": ("vetgraph.server", "run the linked-data server (SPARQL endpoint, pages, query UI)"),
    "publish": ("vetgraph.remote", "load the graph into an external triple store (Graph Store Protocol)"),
    "diff": ("vetgraph.diff", "statements added and removed between two releases"),
}

EXIT_OK, EXIT_NEGATIVE, EXIT_ERROR = 0, 1, 2
_N = TypeVar("_N", int, float)


class Parser(argparse.ArgumentParser):
    """argparse with the error style of every other error: one line naming the option, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _top_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="vetgraph",
        description="Linked open data of the ET 2020 Working Group on VET report 'Innovation & Digitalisation'.",
        epilog="commands:\n"
        + "\n".join(f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items())
        + "\n\nRun 'vetgraph COMMAND --help' for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"vetgraph {__version__}")
    parser.add_argument("command", nargs="?", choices=list(COMMANDS), metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = bool(argv) and argv[0] == "--debug"
    if debug:
        argv = argv[1:]
    if not argv or argv[0] not in COMMANDS:
        parser = _top_parser()
        if not argv:
            parser.print_help()
            return EXIT_ERROR
        parser.parse_args(argv[:1])  # prints usage/--help/--version and exits
        return EXIT_ERROR
    name, rest = argv[0], argv[1:]
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = Parser(prog=f"vetgraph {name}", description=help_text)
    module.add_arguments(parser)
    parser.add_argument("--debug", action="store_true", help="on an error, also print its Python traceback")
    args = parser.parse_args(rest)
    args.command_argv = rest  # as given: `serve --processes N` starts `serve` again with them
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - every error ends here as one message and an exit code
        if debug or args.debug:
            import traceback

            traceback.print_exc()
        message, code = describe_error(error)
        for line in message.splitlines() or [""]:  # one line per problem (e.g. per spreadsheet row)
            print(f"vetgraph {name}: {line}", file=sys.stderr)
        return code


# --- option types shared by the commands: argparse names the option in the message -----------------------


def _number(text: str, kind: Callable[[str], _N], accept: Callable[[_N], bool], what: str) -> _N:
    """`text` as an int or float that `accept` allows; ArgumentTypeError saying `what` it must be."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if not accept(value):
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
    return value


def seconds(text: str) -> float:
    """A time limit: a finite number of seconds, 0 or more (nan, inf and negative numbers are refused)."""
    import math

    return _number(text, float, lambda v: math.isfinite(v) and v >= 0, "a number of seconds, 0 or more")


def port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    return _number(text, int, lambda v: 0 <= v <= 65535, "a port number from 0 to 65535")


def web_url(text: str) -> str:
    """An absolute http(s) URL."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise argparse.ArgumentTypeError(f"must be an absolute http:// or https:// URL, got {text!r}")
    return text


def folder(text: str) -> Path:
    """A folder that exists, or that can be made (nothing else of that name is in the way)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a folder")
    return path


def add_auth_arguments(parser: argparse.ArgumentParser) -> None:
    """--user/--password/--auth-env, shared by every command that talks to a store
    (publish, query --endpoint, serve --store); read by vetgraph.remote.credentials_from."""
    group = parser.add_argument_group("authentication (Basic or Digest, whichever the store asks for)")
    group.add_argument("--user", help="user name at the store")
    group.add_argument("--password", help="password (visible in the process list: prefer --auth-env)")
    group.add_argument(
        "--auth-env", metavar="VAR",
        help="name of an environment variable holding USER:PASSWORD (or only the password, with --user)",
    )
    group.add_argument("--token-env", metavar="VAR",
                       help="name of an environment variable holding a bearer token (e.g. QLever's access token)")


def describe_error(error: Exception) -> tuple[str, int]:
    """The message and the exit code of an error that ends a command (pySHACL's convention: 1 the input was
    read and does not conform, 2 it cannot be read or an option is wrong). The violations a NotConforming
    carries are printed first, as `vetgraph validate` prints them."""
    from vetgraph.errors import CannotRun, LoadError, NotConforming

    if isinstance(error, NotConforming):
        if error.report:
            print(error.report, file=sys.stderr)
        return str(error), EXIT_NEGATIVE
    if isinstance(error, LoadError):
        return str(error), EXIT_NEGATIVE if error.input_read else EXIT_ERROR
    if isinstance(error, CannotRun):
        return str(error), EXIT_ERROR
    if isinstance(error, MemoryError):
        return "out of memory (is an input file or value unreasonably large?)", EXIT_ERROR
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}", EXIT_ERROR
    if isinstance(error, UnicodeDecodeError):
        return f"input is not UTF-8 text ({error.reason} at byte {error.start})", EXIT_ERROR
    return (f"unexpected error: {type(error).__name__}: {error} (run again with --debug for the traceback, "
            "and please report it)"), EXIT_ERROR


def load_validated(
    paths: Paths | None = None, data_files: Sequence[Path] | None = None, *, jobs: int | None = None,
    cache: Path | None = None, consequence: str = "nothing was done", shown: int | None = None,
) -> Loaded:
    """The project loaded and validated, for the commands that must not go on with data that do not conform
    (build, serve, publish): LoadError when the input cannot be loaded, else see `check_conforms`."""
    from vetgraph.loading import load_project

    loaded = load_project(paths, data_files=data_files)
    check_conforms(loaded, jobs=jobs, cache=cache, consequence=consequence, shown=shown)
    return loaded


def check_conforms(
    loaded: Loaded, *, jobs: int | None = None, cache: Path | None = None, consequence: str = "nothing was done",
    shown: int | None = None,
) -> None:
    """Validate; NotConforming, with the first `shown` violations as `vetgraph validate` prints them and
    `consequence` ("nothing was written"), when there is a SHACL violation."""
    from vetgraph.errors import NotConforming
    from vetgraph.validation import violations_text

    outcome = validated_outcome(loaded, jobs=jobs, cache=cache)
    if not outcome.conforms:
        report = violations_text(outcome, loaded, shown)
        if shown is not None and outcome.violations > shown:
            report += f"\n... and {outcome.violations - shown} more: run 'vetgraph validate'"
        raise NotConforming(outcome.violations, report, consequence)


def validated_outcome(loaded: Loaded, *, jobs: int | None = None, cache: Path | None = None) -> ValidationOutcome:
    """Validate as one step of the command's progress, counting partitions."""
    from vetgraph.progress import current
    from vetgraph.validation import validate

    with current().step("validating against the SHACL shapes", unit="partitions") as step:
        return validate(loaded, jobs=jobs, cache_dir=cache, progress=step.set)


if __name__ == "__main__":
    sys.exit(main())

"""The `vetgraph` command: a thin dispatcher over one module per capability.

Each command lives in its own module with `add_arguments(parser)` and `run(args) -> int`; only the module
of the command being run is imported, which keeps start-up lean. Exit codes follow pySHACL: 0 success /
conforms, 1 a negative result (violations, link errors, differences), 2 cannot run (bad input or usage).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from vetgraph import __version__

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


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    parser = argparse.ArgumentParser(prog=f"vetgraph {name}", description=help_text)
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

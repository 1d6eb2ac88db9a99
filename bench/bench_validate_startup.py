"""Cold start of `vetgraph validate`: process start to exit, against the bare cost of importing its libraries.

    .venv/bin/python -m bench.bench_validate_startup               # 10 runs of each
    .venv/bin/python -m bench.bench_validate_startup --repeat 20

Three commands, each run in a fresh process, alternately (so that a burst of load on the shared machine hits
all of them alike), timed from process start to exit:

  imports   python -c "import rdflib, pyshacl"     the floor: what any pySHACL-based validator pays
  help      vetgraph --help                        the CLI's own start-up (lazy imports keep it small)
  validate  vetgraph validate --quiet              load ontology, shapes and data, run pySHACL, report

It prints the median of each and the ratio validate / imports: the part of a validation that is vetgraph's
work rather than Python loading rdflib and pySHACL.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
COMMANDS = {
    "imports": [sys.executable, "-c", "import rdflib, pyshacl"],
    "help": [sys.executable, "-m", "vetgraph", "--help"],
    "validate": [sys.executable, "-m", "vetgraph", "validate", "--quiet"],
}


def run_once(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: violations, still a complete validation
        raise SystemExit(f"{' '.join(command[1:])} failed with exit {done.returncode}: {done.stderr.strip()}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_validate_startup",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs of each command (default 10)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():  # warm the file cache once, untimed
        run_once(command)
    for _ in range(args.repeat):
        for name, command in COMMANDS.items():
            times[name].append(run_once(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"{'command':<10} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in times.items():
        print(f"{name:<10} {medians[name]:9.3f} {min(values):7.3f} {max(values):7.3f}")
    print(f"vetgraph validate / import rdflib, pyshacl: {medians['validate'] / medians['imports']:.2f}x "
          f"(vetgraph --help: {medians['help'] / medians['imports']:.2f}x), median of {args.repeat} cold starts")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where partitioned validation starts to pay: one plain pySHACL run against the partitioned validator on
small graphs, to choose `PLAIN_BELOW` (vetgraph/validation/planner.py).

    .venv/bin/python -m bench.bench_validate_small                       # real data, 1x 2x 3x 5x 10x; 3 runs
    .venv/bin/python -m bench.bench_validate_small --sizes 1 4 --repeat 5

For the real data and each synthetic corpus (vetgraph/synth.py), in one process, alternately (so that a burst of
load on the shared machine hits all variants alike), medians of --repeat runs, wall clock and CPU time (this
process and its workers; on a busy machine the workers get no second core, and the CPU time tells what they
would take on a quiet one):

  plain        one pySHACL run on the whole graph, the shapes as written (what runs below PLAIN_BELOW)
  plain-lifted the same with property shapes lifted to their node shape's targets (planner.lift_property_shapes)
  partitioned  validate_partitioned with --jobs processes (default: the usable cores), threshold off

The parsed SPARQL constraints are dropped before every run, so each run pays what a fresh process pays.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import cpu_time
from vetgraph.validation import PYSHACL_OPTIONS


def variants(loaded, jobs: int) -> dict[str, Callable[[], object]]:
    """The three ways to validate `loaded`, each a callable."""
    from vetgraph.validation.partitioned import validate_partitioned, validate_plain
    from vetgraph.validation.planner import lift_property_shapes

    data, shapes, ontology = loaded.dataset, loaded.shapes, loaded.ontology
    return {
        "plain": lambda: validate_plain(data, shapes, ontology, dict(PYSHACL_OPTIONS)),
        "plain-lifted": lambda: validate_plain(data, lift_property_shapes(shapes), ontology, dict(PYSHACL_OPTIONS)),
        "partitioned": lambda: validate_partitioned(data, shapes, ontology, jobs=jobs, plain_below=0,
                                                    **PYSHACL_OPTIONS),
    }


def main(argv: list[str] | None = None) -> int:
    from vetgraph.validation.planner import PLAIN_BELOW, lift_property_shapes, plan
    from vetgraph.validation.pool import default_jobs
    from vetgraph.validation.rdflib_compat import _translated

    parser = argparse.ArgumentParser(prog="python -m bench.bench_validate_small",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 3, 5, 10], help="synthetic corpus scales")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant (default 3)")
    parser.add_argument("--jobs", type=int, default=None, help="processes of the partitioned validator")
    parser.add_argument("--no-real", action="store_true", help="skip the real data")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    jobs = args.jobs or default_jobs()

    from vetgraph.loading import load_project
    from vetgraph.synth import corpus_path

    corpora: list[tuple[str, list[Path]]] = [] if args.no_real else [("real data", [])]
    corpora += [(f"{scale}x", [corpus_path(scale)]) for scale in args.sizes]
    print(f"partitioned with {jobs} jobs; PLAIN_BELOW is {PLAIN_BELOW} statements; medians of {args.repeat} runs")
    print(f"{'corpus':<10} {'statements':>10} {'parts':>5} {'plain s':>8} {'lifted s':>9} {'partitioned s':>14} "
          f"{'CPU s: plain':>13} {'lifted':>7} {'partitioned':>12}  fastest")
    for name, files in corpora:
        loaded = load_project(data_files=files or None)
        work = variants(loaded, jobs)
        times: dict[str, list[float]] = {variant: [] for variant in work}
        cpu: dict[str, list[float]] = {variant: [] for variant in work}
        for _ in range(args.repeat):
            for variant, once in work.items():
                _translated.cache_clear()
                started, cpu_started = time.perf_counter(), cpu_time()
                once()
                times[variant].append(time.perf_counter() - started)
                cpu[variant].append(cpu_time() - cpu_started)
        wall = {variant: statistics.median(values) for variant, values in times.items()}
        used = {variant: statistics.median(values) for variant, values in cpu.items()}
        fastest = min(wall, key=wall.__getitem__)
        parts = len(plan(loaded.dataset, lift_property_shapes(loaded.shapes), loaded.ontology).partitions)
        print(f"{name:<10} {len(loaded.dataset):>10} {parts:>5} {wall['plain']:8.2f} {wall['plain-lifted']:9.2f} "
              f"{wall['partitioned']:14.2f} {used['plain']:13.2f} {used['plain-lifted']:7.2f} "
              f"{used['partitioned']:12.2f}  {fastest}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

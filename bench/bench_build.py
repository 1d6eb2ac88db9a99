"""Benchmark of `vetgraph build` against the native limit, on the real data and on synthetic corpora.

    python -m bench.bench_build                    # real data, synthetic 10x and 100x
    python -m bench.bench_build --scales 10 --no-real --repeat 3

For each corpus it runs the whole build (load, SHACL validation, every output) into a temporary folder, and,
in the same run, the native limit: pyoxigraph parsing the same input files and serializing the parsed quads
into the six dump syntaxes (Turtle, N-Triples, JSON-LD, RDF/XML, TriG, N-Quads) in memory. It prints the time
of each build step, the total, and two ratios: whole build / native, and the dump part of the build
(preparing + writing the six dumps and their gzip copies) / native. Synthetic corpora come from vetgraph.synth
(the shared generator), as N-Quads files in its cache folder.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

from vetgraph.config import Paths
from vetgraph.loading import RDF_FORMATS, rdf_files
from vetgraph.publication import BuildOptions, build

NATIVE_FORMATS = (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.JSON_LD, ox.RdfFormat.RDF_XML,
                  ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS)
TRIPLE_FORMATS = (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.RDF_XML)


def native_limit(files: list[Path]) -> tuple[float, int]:
    """Seconds for pyoxigraph to parse the files and write the parsed statements in the six syntaxes."""
    started = time.perf_counter()
    quads = [q for path in files for q in ox.parse(path=str(path), format=RDF_FORMATS[path.suffix])]
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    for fmt in NATIVE_FORMATS:
        ox.serialize(triples if fmt in TRIPLE_FORMATS else quads, format=fmt)
    return time.perf_counter() - started, len(quads)


def run_build(paths: Paths, work: Path, jobs: int | None) -> tuple[float, list[tuple[str, float]]]:
    out = work / "dist"
    started = time.perf_counter()
    result = build(BuildOptions(out=out, paths=paths, jobs=jobs))
    return time.perf_counter() - started, result.timings


def corpora(scales: list[int], real: bool, work: Path) -> list[tuple[str, Paths]]:
    """(name, paths) of each corpus: the project's data, then one data folder per synthetic scale."""
    out = [("real data", Paths())] if real else []
    if scales:
        from vetgraph.synth import corpus_path

        for scale in scales:
            folder = work / f"synth-{scale}x"
            folder.mkdir()
            (folder / "synth.nq").symlink_to(corpus_path(scale))
            out.append((f"synthetic {scale}x", Paths(data_dir=folder)))
    return out


def _group(step: str) -> str:
    """Build steps grouped for the table."""
    if step.startswith(("preparing", "writing vetgraph", "writing context")):  # vetgraph.* and vetgraph-unconfirmed.*
        return "dumps"
    for key in ("loading", "validating", "ontology", "void", "catalog", "CHANGES", "README", "SHA256SUMS", "replacing"):
        if key in step:
            return key
    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=int, nargs="*", default=[10, 100], help="synthetic scales (default 10 100)")
    parser.add_argument("--no-real", action="store_true", help="skip the project's real data")
    parser.add_argument("--repeat", type=int, default=1, help="runs per corpus; the median is printed")
    parser.add_argument("--jobs", type=int, default=None, help="build --jobs: parallel validation processes")
    args = parser.parse_args(argv)

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        work = Path(tmp)
        for name, paths in corpora(args.scales, not args.no_real, work):
            files = rdf_files(paths.data_dir)
            totals, natives, steps = [], [], defaultdict(list)
            for run in range(args.repeat):
                native, statements = native_limit(files)
                run_dir = work / f"{name.replace(' ', '-')}-{run}"
                run_dir.mkdir()
                total, timings = run_build(paths, run_dir, args.jobs)
                totals.append(total)
                natives.append(native)
                grouped: dict[str, float] = defaultdict(float)
                for step, seconds in timings:
                    grouped[_group(step)] += seconds
                for group, seconds in grouped.items():
                    steps[group].append(seconds)
                print(f"{name}: run {run + 1}: build {total:.2f} s, native {native:.3f} s", file=sys.stderr)
            rows.append((name, statements, statistics.median(totals), statistics.median(natives),
                         {group: statistics.median(values) for group, values in steps.items()}))

    groups = ["loading", "validating", "dumps", "ontology", "void", "catalog", "CHANGES", "README", "SHA256SUMS",
              "replacing"]
    print("| corpus | statements | build (s) | " + " | ".join(f"{g} (s)" for g in groups)
          + " | native (s) | build / native | dumps / native |")
    print("|---" * (len(groups) + 6) + "|")
    for name, statements, total, native, medians in rows:
        cells = " | ".join(f"{medians.get(g, 0.0):.2f}" for g in groups)
        print(f"| {name} | {statements} | {total:.2f} | {cells} | {native:.3f} | {total / native:.0f}x "
              f"| {medians.get('dumps', 0.0) / native:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

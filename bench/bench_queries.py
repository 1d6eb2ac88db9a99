"""Median latency of every stored query, on the real data and on a synthetic graph 100x larger, on the
embedded Oxigraph store and on rdflib's own SPARQL engine, side by side, with the rdflib/Oxigraph ratio.

    .venv/bin/python -m bench.bench_queries                       # real data and 100x, both engines
    .venv/bin/python -m bench.bench_queries --scale 10 --repeat 3 --only insights,search
    .venv/bin/python -m bench.bench_queries --skip-rdflib         # Oxigraph only (quick)

What is timed: answering the query as the CLI and the server do, i.e. running it with its parameters bound and
writing the W3C result (SPARQL JSON results; Turtle for CONSTRUCT), through `Store.native`. Stores are loaded
once, before timing. Each engine and query runs in a forked child process that is stopped after
--timeout seconds (rdflib can take minutes on the large graph): such a query is shown as "> T s".

The synthetic corpus comes from vetgraph/synth.py (scale = number of synthetic reports; 1 is about the size of the
real graph). Its IRIs differ from the real ones, so parameters that name a resource get a synthetic value
(SYNTH_VALUES); everything else uses each query's documented example.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from rdflib.term import Identifier

from vetgraph.queries import StoredQuery, load_catalogue
from vetgraph.stores import OxigraphStore, RdflibStore, Store

TARGET_MS = 50.0
#: Parameter values that exist in the synthetic corpus (report 1 and its parts), per query.
SYNTH_VALUES: dict[str, dict[str, str]] = {
    "insights": {"report": "synth/1/report"},
    "insight": {"report": "synth/1/report", "number": "3"},
    "topics": {"report": "synth/1/report"},
    "viewpoints": {"report": "synth/1/report"},
    "vision": {"report": "synth/1/report"},
    "projects": {"report": "synth/1/report", "country": "NLD", "insight": "2"},
    "report": {"report": "synth/1/report"},
    "report-card": {"report": "synth/1/report"},
    "completeness": {"report": "synth/1/report"},
    "policy-instruments": {"report": "synth/1/report"},
    "describe": {"resource": "synth/1/insight/3"},
    "exists": {"resource": "synth/1/report"},
    "unconfirmed": {"subject": "synth/1/group"},
    "sources": {"source": "example.org/synthetic/1/"},
    "links": {"resource": "synth/1/topic/1"},
}


@dataclass
class Timing:
    median_ms: float | None  # None: stopped at the time limit
    runs: int
    rows: int


def example_values(query: StoredQuery) -> dict[str, str]:
    words = shlex.split(query.example)
    return dict(w.split("=", 1) for w in words[4::2] if "=" in w)


class Answering(Protocol):
    """What is timed: a store's run-and-serialize path (a vetgraph Store, or bare pyoxigraph in bench/run.py)."""

    def native(self, sparql: str, fmt: str, bindings: Mapping[str, Identifier] | None = None) -> tuple[str, bytes]:
        ...


def _answer(store: Answering, query: StoredQuery, bindings: Mapping) -> int:
    """Run and serialize once; returns the size of the answer (bytes), to keep the work from being skipped."""
    fmt = "ttl" if query.kind in ("construct", "describe") else "json"
    _, data = store.native(query.text, fmt, bindings)
    return len(data)


def _time(store: Answering, query: StoredQuery, bindings: Mapping, repeat: int, budget: float) -> Timing:
    """Median of `repeat` runs after one warm-up run, fewer if they exceed `budget` seconds in total."""
    size = _answer(store, query, bindings)  # warm-up (parsing caches, lazy indexes)
    times: list[float] = []
    spent = 0.0
    while len(times) < repeat and (spent < budget or not times):
        start = time.perf_counter()
        _answer(store, query, bindings)
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
    return Timing(statistics.median(times) * 1000, len(times), size)


def _in_child(work: Callable[[], Timing], timeout: float) -> Timing:
    """Run `work` in a forked child (stores are shared copy-on-write) and give up after `timeout` seconds."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def target() -> None:
        sender.send(work())
        sender.close()

    process = context.Process(target=target, daemon=True)
    process.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            return receiver.recv()
        process.kill()
        return Timing(None, 0, 0)
    finally:
        process.join(timeout=5)
        receiver.close()


def bench(stores: Mapping[str, Answering], catalogue: dict[str, StoredQuery], values: Callable[[StoredQuery], dict],
          repeat: int, timeout: float) -> dict[tuple[str, str], Timing]:
    results = {}
    for name, query in catalogue.items():
        bindings = query.bind(values(query))
        for engine, store in stores.items():
            results[name, engine] = _in_child(
                functools.partial(_time, store, query, bindings, repeat, timeout / 2), timeout)
            print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def _ms(timing: Timing | None, timeout: float) -> str:
    if timing is None:
        return "-"
    return f"> {timeout:g} s" if timing.median_ms is None else f"{timing.median_ms:.1f}"


def _ratio(ox: Timing | None, rl: Timing | None, timeout: float) -> str:
    if ox is None or rl is None or ox.median_ms is None:
        return "-"
    if rl.median_ms is None:
        return f"> {timeout * 1000 / max(ox.median_ms, 0.001):.0f}x"
    return f"{rl.median_ms / max(ox.median_ms, 0.001):.0f}x"


def report_table(catalogue, small: dict, large: dict, engines: list[str], timeout: float, sizes: dict) -> str:
    """A Markdown table: one row per query, real and large graph side by side."""
    both = "rdflib" in engines
    head = ["query", "real: Oxigraph ms"]
    if both:
        head += ["real: rdflib ms", "real: ratio"]
    head += [f"{sizes['large_label']}: Oxigraph ms"]
    if both:
        head += [f"{sizes['large_label']}: rdflib ms", f"{sizes['large_label']}: ratio"]
    head += [f"< {TARGET_MS:g} ms"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in catalogue:
        row = [name, _ms(small.get((name, "oxigraph")), timeout)]
        if both:
            row += [_ms(small.get((name, "rdflib")), timeout),
                    _ratio(small.get((name, "oxigraph")), small.get((name, "rdflib")), timeout)]
        large_ox = large.get((name, "oxigraph"))
        row += [_ms(large_ox, timeout)]
        if both:
            row += [_ms(large.get((name, "rdflib")), timeout), _ratio(large_ox, large.get((name, "rdflib")), timeout)]
        ok = large_ox is not None and large_ox.median_ms is not None and large_ox.median_ms < TARGET_MS
        row += ["yes" if ok else "NO"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100, help="synthetic reports in the large graph (default 100)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per query and engine (median; default 7)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a query is given up (default 30)")
    parser.add_argument("--skip-rdflib", action="store_true", help="time the Oxigraph store only")
    parser.add_argument("--only", default="", help="comma-separated query names (default: all)")
    args = parser.parse_args(argv)

    if "fork" not in multiprocessing.get_all_start_methods():
        parser.error("this benchmark needs the 'fork' start method (Linux, macOS)")
    from vetgraph.loading import load_project
    from vetgraph.synth import generate

    catalogue = load_catalogue()
    if args.only:
        wanted = {n.strip() for n in args.only.split(",")}
        unknown = wanted - set(catalogue)
        if unknown:
            parser.error(f"unknown queries: {', '.join(sorted(unknown))}")
        catalogue = {n: q for n, q in catalogue.items() if n in wanted}
    engines = ["oxigraph"] if args.skip_rdflib else ["oxigraph", "rdflib"]

    def stores_for(dataset) -> dict[str, Store]:
        made: dict[str, Store] = {"oxigraph": OxigraphStore.from_dataset(dataset)}
        if "rdflib" in engines:
            made["rdflib"] = RdflibStore(dataset)
        return made

    real = load_project().dataset
    started = time.perf_counter()
    synthetic = generate(args.scale)
    generated = time.perf_counter() - started
    real_size, large_size = len(real), len(synthetic)
    print(f"real graph: {real_size} quads; synthetic graph: {args.scale} reports, {large_size} quads "
          f"({large_size / real_size:.0f}x, generated in {generated:.1f} s); engines: {', '.join(engines)}; "
          f"median of up to {args.repeat} runs after a warm-up; limit {args.timeout:g} s per query and engine")

    small = bench(stores_for(real), catalogue, example_values, args.repeat, args.timeout)
    large = bench(stores_for(synthetic), catalogue,
                  lambda q: SYNTH_VALUES.get(q.name, example_values(q)) if q.params else {}, args.repeat, args.timeout)
    sizes = {"large_label": f"{large_size / real_size:.0f}x"}
    print(report_table(catalogue, small, large, engines, args.timeout, sizes))
    slow = [n for n in catalogue if (large[n, "oxigraph"].median_ms or float("inf")) >= TARGET_MS]
    print(f"\n{len(catalogue) - len(slow)}/{len(catalogue)} stored queries under {TARGET_MS:g} ms median on the "
          f"{sizes['large_label']} graph (Oxigraph)" + (f"; slower: {', '.join(slow)}" if slow else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast `vetgraph publish` loads a graph into Oxigraph server, against the native limit.

For the real data and the synthetic 100x/1000x corpora (vetgraph/synth.py), in one run:
  native  `oxigraph load --location EMPTY --file CORPUS.nq` (Oxigraph's own bulk loader, no HTTP);
  staged  the default publish into a fresh `oxigraph serve`: PUT into staging graphs, count, MOVE, count;
  direct  `publish --direct`: one PUT per graph straight into place, count.
Each publish goes into an empty store, as the native load does. Printed: seconds, triples per second and
the ratio to native. Target: direct publish within 3x of the native load at 1000x. Validation and reading
the corpus into memory are not part of either figure (they are the same work whatever the target).

    .venv/bin/python -m bench.bench_publish                 # real, 100x, 1000x
    .venv/bin/python -m bench.bench_publish --scales real,100
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph as ox

from vetgraph.config import DATASET_IRI
from vetgraph.remote.http import HttpClient
from vetgraph.remote.publish import Endpoints, Publisher, plan_graphs


def oxigraph_program() -> str:
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise SystemExit("the oxigraph program is missing: pip install oxigraph (bench extra)")
    return found


@contextmanager
def oxigraph_serve(location: Path) -> Iterator[str]:
    """An `oxigraph serve` on a free loopback port; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [oxigraph_program(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(60)


def source_for(scale: str, work: Path) -> tuple[ox.Store, Path]:
    """The graph to publish (in memory) and the same quads as an N-Quads file for the native load."""
    if scale == "real":
        from vetgraph.loading import load_project
        from vetgraph.stores import OxigraphStore

        store = OxigraphStore.from_dataset(load_project().dataset).store
        path = work / "real.nq"
        store.dump(path, format=ox.RdfFormat.N_QUADS)
        return store, path
    from vetgraph.synth import corpus_path

    path = corpus_path(int(scale), fmt="nq")
    store = ox.Store()
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    return store, path


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def native_load(path: Path, location: Path) -> float:
    return timed(lambda: subprocess.run(
        [oxigraph_program(), "load", "--location", str(location), "--file", str(path)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    ))


def publish_once(source: ox.Store, location: Path, staging: bool) -> float:
    with oxigraph_serve(location) as base:
        http = HttpClient(None, timeout=3600, retries=0)
        publisher = Publisher(http, Endpoints.derive(base + "/store"), staging=staging, out=lambda line: None)
        plans = plan_graphs(source, DATASET_IRI)
        try:
            return timed(lambda: publisher.publish(source, plans))
        finally:
            http.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="real,100,1000", help="comma-separated: real and/or synthetic scales")
    parser.add_argument("--no-staged", action="store_true", help="skip the staged publish (slow at 1000x)")
    args = parser.parse_args(argv)
    print(f"{'data':>6} {'triples':>9} {'native s':>9} {'direct s':>9} {'ratio':>6} {'staged s':>9} {'ratio':>6}")
    ratios: dict[str, float] = {}
    for scale in args.scales.split(","):
        with tempfile.TemporaryDirectory(prefix="bench-publish-") as folder:
            work = Path(folder)
            source, path = source_for(scale, work)
            triples = len(source)
            native = native_load(path, work / "native")
            direct = publish_once(source, work / "direct", staging=False)
            staged = None if args.no_staged else publish_once(source, work / "staged", staging=True)
        ratios[scale] = direct / native
        staged_text = f"{staged:9.2f} {staged / native:5.1f}x" if staged is not None else f"{'-':>9} {'-':>6}"
        print(f"{scale:>6} {triples:9d} {native:9.2f} {direct:9.2f} {direct / native:5.1f}x {staged_text}"
              f"   ({triples / direct:,.0f} triples/s direct)", flush=True)
    if "1000" in ratios:
        verdict = "met" if ratios["1000"] <= 3 else "NOT met"
        print(f"target (direct publish within 3x of native load at 1000x): {verdict} ({ratios['1000']:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

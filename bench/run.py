"""The benchmark suite in one command: how vetgraph scales, side by side with its Python peer and the native limit.

    .venv/bin/python -m bench.run                                  # sizes 1 10 100 1000, 3 runs each
    .venv/bin/python -m bench.run --sizes 1 10 --repeat 1          # a quick run
    .venv/bin/python -m bench.run --sizes 1000 --steps validate,build,serve --repeat 1

For each corpus size (vetgraph/synth.py: N synthetic reports shaped like the real one; 1x is about the real graph),
every step is measured in a fresh process, so that its peak memory (RSS) is its own:

  load      vetgraph's loader into the embedded store | rdflib Dataset.parse | pyoxigraph bulk load (native)
  validate  vetgraph partitioned pySHACL (--jobs), cold and incremental (result cache) | one plain pySHACL run
  build     `vetgraph build` (load, validate, every output) | rdflib parse + serializers | pyoxigraph parse +
            serializers (native limit, bench/bench_build.py)
  queries   every stored query on vetgraph's store | rdflib's SPARQL engine | pyoxigraph directly (native)
  publish   `vetgraph publish` into Oxigraph server, staged and direct | `oxigraph load` (native)
  serve     `vetgraph serve` until it answers, then stored queries and pages; a restart on its stored data |
            Oxigraph server loading the dump
  throughput  requests per second at `vetgraph serve`'s /sparql, 4 clients: one query text repeated (its result
            cache may answer) and a new text every request (distinct: the query path itself); the same with
            `--processes 1` (the default on small data is one server process per core) | `oxigraph
            serve-read-only` on the same data

Size 0 is the project's own data (data/), the others are synthetic corpora.

Medians over --repeat runs; ratios to the native limit of the same step, measured in the same run (the
machine is shared and noisy). A step whose module is missing is reported as "not available", one that runs
past --timeout as "timeout". Results go to bench/results/: results.md (tables, targets), results.json (raw)
and scaling.png (log-log cost vs size).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.common import TreeMemory, measure, peak_rss_mib
from vetgraph.validation import PYSHACL_OPTIONS  # the options `vetgraph validate` uses

RESULTS = Path(__file__).resolve().parent / "results"
STEPS = ("load", "validate", "build", "queries", "publish", "serve", "throughput")
#: step -> variants (the native limit last); "rdflib"/"pyshacl" are the Python peers
VARIANTS = {
    "load": ("vetgraph", "rdflib", "native"),
    "validate": ("vetgraph", "vetgraph-incremental", "pyshacl"),
    "build": ("vetgraph", "rdflib", "native"),
    "queries": ("vetgraph", "rdflib", "native"),
    "publish": ("vetgraph", "vetgraph-direct", "native"),
    "serve": ("vetgraph", "native"),
    "throughput": ("vetgraph", "vetgraph-single", "native"),
}
#: Throughput: clients, seconds per scenario, seconds of warm-up (as in docs/performance.md)
THROUGHPUT_CLIENTS, THROUGHPUT_SECONDS, THROUGHPUT_WARMUP = 4, 5.0, 1.0
PEERS = {"rdflib", "pyshacl"}


# --- the measurements, each run in its own process ---------------------------------------------------------


def _corpus(scale: int, fmt: str = "nq") -> Path:
    """The synthetic corpus of `scale` reports; 0: the project's own data as N-Quads."""
    if scale == 0:
        if fmt != "nq":
            raise ValueError("the project's own data (size 0) is dumped as N-Quads only")
        from bench.bench_server import dump_data

        path = Path(tempfile.gettempdir()) / "vetgraph-bench-real-data.nq"
        dump_data(None, path)  # a second: written anew, so it is always the current data
        return path
    from vetgraph.synth import corpus_path

    return corpus_path(scale, fmt=fmt)


def _paths_for(scale: int, work: Path):
    """A data folder holding only the corpus, for the commands that read a project (build, serve)."""
    from vetgraph.config import Paths

    folder = work / f"data-{scale}x"
    folder.mkdir(exist_ok=True)
    link = folder / "synth.nq"
    if not link.exists():
        link.symlink_to(_corpus(scale))
    return Paths(data_dir=folder)


def measure_load(variant: str, scale: int, repeat: int, work: Path, jobs: int) -> list[dict]:
    path = _corpus(scale)
    if variant == "vetgraph":
        from vetgraph.loading import load_project
        from vetgraph.stores import OxigraphStore

        measured = measure(lambda: OxigraphStore.from_dataset(load_project(data_files=[path]).dataset), repeat)
    elif variant == "rdflib":
        from rdflib import Dataset

        measured = measure(lambda: Dataset().parse(path, format="nquads"), repeat)
    else:
        import pyoxigraph as ox

        measured = measure(lambda: ox.Store().bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS), repeat)
    return [{"name": "load", **measured.as_dict()}]


def measure_validate(variant: str, scale: int, repeat: int, work: Path, jobs: int) -> list[dict]:
    from vetgraph.loading import load_project

    loaded = load_project(data_files=[_corpus(scale)])
    if variant == "pyshacl":
        import pyshacl

        data = loaded.union()  # given a dataset, pySHACL would validate each named graph on its own

        def once() -> object:
            return pyshacl.validate(data, shacl_graph=loaded.shapes, ont_graph=loaded.ontology, **PYSHACL_OPTIONS)

        return [{"name": "validate (one pySHACL run)", **measure(once, repeat).as_dict()}]

    from vetgraph.validation.partitioned import validate_partitioned

    cache = work / "validation-cache" if variant == "vetgraph-incremental" else None

    def partitioned() -> object:
        return validate_partitioned(
            loaded.dataset, loaded.shapes, loaded.ontology, jobs=jobs, cache_dir=cache, **PYSHACL_OPTIONS
        )

    # Incremental: a first run fills the cache, the timed runs find every partition unchanged.
    measured = measure(partitioned, repeat, warmup=cache is not None)
    label = f"validate ({jobs} jobs{', unchanged data, cached' if cache else ''})"
    return [{"name": label, **measured.as_dict()}]


def measure_build(variant: str, scale: int, repeat: int, work: Path, jobs: int) -> list[dict]:
    if variant == "native":
        from bench.bench_build import native_limit

        path = _corpus(scale)
        measured = measure(lambda: native_limit([path]), repeat)
        return [{"name": "parse + 6 serializations", **measured.as_dict()}]
    if variant == "rdflib":
        from rdflib import Dataset, Graph

        path = _corpus(scale)

        def rdflib_build() -> None:
            dataset = Dataset()
            dataset.parse(path, format="nquads")
            union = Graph()
            for s, p, o, _ in dataset.quads((None, None, None, None)):
                union.add((s, p, o))
            for fmt in ("turtle", "nt", "json-ld", "xml"):  # the triple syntaxes get every statement
                union.serialize(format=fmt)
            for fmt in ("trig", "nquads"):
                dataset.serialize(format=fmt)

        return [{"name": "parse + 6 serializations", **measure(rdflib_build, repeat).as_dict()}]
    import statistics
    from collections import defaultdict

    from bench.bench_build import _group, run_build

    paths = _paths_for(scale, work)
    runs = iter(range(repeat + 1))
    parts: dict[str, list[float]] = defaultdict(list)

    def vetgraph_build() -> None:
        folder = work / f"build-{next(runs)}"
        folder.mkdir()
        grouped: dict[str, float] = defaultdict(float)
        for step, seconds in run_build(paths, folder, jobs)[1]:
            grouped[_group(step)] += seconds
        for group, seconds in grouped.items():
            parts[group].append(seconds)

    total = {"name": f"build (validate with {jobs} jobs + all outputs)", **measure(vetgraph_build, repeat).as_dict()}
    # Where the time goes (the build's own step timings); no native counterpart, so no ratio.
    ordered = sorted(parts.items(), key=lambda kv: -sum(kv[1]))
    detail = [{"name": f"build, of which {group}", "median": statistics.median(values), "runs": len(values),
               "seconds": values, "cpu_median": None} for group, values in ordered if statistics.median(values) >= 0.01]
    return [total, *detail]


class _Native:
    """pyoxigraph running the SPARQL text itself: what the stored-query targets compare against."""

    def __init__(self, path: Path):
        import pyoxigraph as ox

        self.store = ox.Store()
        self.store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)

    def native(self, sparql: str, fmt: str, bindings=None) -> tuple[str, bytes]:
        import pyoxigraph as ox

        from vetgraph.terms import to_oxigraph

        substitutions = {ox.Variable(k): to_oxigraph(v) for k, v in (bindings or {}).items()} or None
        result = self.store.query(sparql, use_default_graph_as_union=True, substitutions=substitutions)
        # serialize answers bytes when given no output to write to
        if isinstance(result, ox.QueryTriples):
            data = result.serialize(format=ox.RdfFormat.TURTLE)
            assert data is not None
            return "graph", data
        data = result.serialize(format=ox.QueryResultsFormat.JSON)
        assert data is not None
        return "select", data


def measure_queries(variant: str, scale: int, repeat: int, work: Path, jobs: int, timeout: float = 30) -> list[dict]:
    from bench.bench_queries import SYNTH_VALUES, Answering, bench, example_values
    from vetgraph.queries import load_catalogue

    store: Answering
    if variant == "native":
        store = _Native(_corpus(scale))
    else:
        from vetgraph.loading import load_project
        from vetgraph.stores import OxigraphStore, RdflibStore

        dataset = load_project(data_files=[_corpus(scale)]).dataset
        store = OxigraphStore.from_dataset(dataset) if variant == "vetgraph" else RdflibStore(dataset)
    catalogue = load_catalogue()

    def values(query) -> dict:
        return SYNTH_VALUES.get(query.name, example_values(query)) if query.params else {}

    timings = bench({variant: store}, catalogue, values, repeat, timeout)
    rows = []
    for (name, _), timing in sorted(timings.items()):
        seconds = [timing.median_ms / 1000] if timing.median_ms is not None else []
        rows.append({"name": f"query {name}", "median": seconds[0] if seconds else None, "runs": timing.runs,
                     "seconds": seconds, "cpu_median": None, "status": None if seconds else f"> {timeout:g} s"})
    return rows


def measure_publish(variant: str, scale: int, repeat: int, work: Path, jobs: int) -> list[dict]:
    from bench.bench_publish import native_load, publish_once, source_for

    source, path = source_for(str(scale), work)
    runs = iter(range(repeat + 1))
    if variant == "native":
        measured = measure(lambda: native_load(path, work / f"native-{next(runs)}"), repeat)
        return [{"name": "oxigraph load", **measured.as_dict()}]
    staged = variant == "vetgraph"
    measured = measure(lambda: publish_once(source, work / f"store-{next(runs)}", staging=staged), repeat)
    return [{"name": "publish (staged, verified)" if staged else "publish --direct", **measured.as_dict()}]


def _start_vetgraph(path: Path, folder: Path, jobs: int, store_dir: Path):
    import socket

    from bench.bench_server import _wait_http

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "vetgraph", "serve", "--port", str(port), "--dist", str(folder / "none"),
               "--data", str(path), "--jobs", str(jobs), "--store-dir", str(store_dir)]
    log = (folder / "serve.log").open("ab")
    process = subprocess.Popen(command, cwd=Path(__file__).parents[1], stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    _wait_http(base + "/health", process, seconds=3600)
    return process, base


def measure_serve(variant: str, scale: int, repeat: int, work: Path, jobs: int) -> list[dict]:
    """Time until the server answers, then a few requests; the tree memory covers the server and its workers.
    vetgraph is measured twice per run: a first start (a new --store-dir: validate, load, store) and a
    restart on the same store dir with unchanged data, until its first answer to a stored query."""
    import statistics
    import urllib.request

    from bench.bench_server import start
    from bench.common import stop_process

    path = _corpus(scale)
    first: list[float] = []
    restart: list[float] = []
    for run in range(repeat):
        folder = work / f"serve-{run}"
        folder.mkdir()
        started = time.perf_counter()
        if variant == "vetgraph":
            process, base = _start_vetgraph(path, folder, jobs, folder / "store")
        else:
            process, base = start("oxigraph-memory", path, [path], folder)
        first.append(time.perf_counter() - started)
        try:
            if variant == "vetgraph":
                for url in ("/queries/insights", "/queries/statistics", "/id/synth/1/insight/3", "/"):
                    urllib.request.urlopen(base + url, timeout=600).read()
        finally:
            stop_process(process)
        if variant == "vetgraph":
            started = time.perf_counter()
            process, base = _start_vetgraph(path, folder, jobs, folder / "store")
            try:
                urllib.request.urlopen(base + "/queries/insights", timeout=600).read()
                restart.append(time.perf_counter() - started)
            finally:
                stop_process(process)
    label = "serve: first start until it answers" if variant == "vetgraph" else "oxigraph serve + load the dump"
    rows = [{"name": label, "seconds": first, "median": statistics.median(first), "runs": len(first),
             "cpu_median": None}]
    if restart:
        rows.append({"name": "serve: restart, unchanged data, until the first answer", "seconds": restart,
                     "median": statistics.median(restart), "runs": len(restart), "cpu_median": None})
    return rows


def measure_throughput(variant: str, scale: int, repeat: int, work: Path, jobs: int) -> list[dict]:
    """Requests per second with THROUGHPUT_CLIENTS keep-alive clients on the grouped count over all statements,
    repeated and distinct: `python -m bench.bench_server` in its own process for each run (so the memory
    sampler of this process does not take the load generator's GIL), the server started anew each run. A
    row's seconds are seconds per request (the inverse of the throughput), so "vs native" is the cost
    ratio; `rps` holds the throughputs."""
    import statistics

    target = variant if variant.startswith("vetgraph") else "oxigraph"  # vetgraph-single: --processes 1
    data = [] if scale == 0 else ["--data", str(_corpus(scale))]  # 0: the project's own data, as served
    outcomes: dict[str, list[dict]] = {"repeated": [], "distinct": []}
    for run in range(repeat):
        figures = work / f"throughput-{run}.json"
        command = [sys.executable, "-m", "bench.bench_server", "--only", target, "--scenarios", "repeated,distinct",
                   "--clients", str(THROUGHPUT_CLIENTS), "--duration", f"{THROUGHPUT_SECONDS:g}", "--warmup",
                   f"{THROUGHPUT_WARMUP:g}", "--skip-limits", "--json", str(figures), *data]
        subprocess.run(command, check=True, cwd=Path(__file__).parents[1], stdout=subprocess.DEVNULL)
        for outcome in json.loads(figures.read_text(encoding="utf-8"))["throughput"]:
            if outcome["errors"]:
                raise RuntimeError(f"{outcome['scenario']}: error answers {outcome['error_statuses']}")
            outcomes[outcome["scenario"]].append(outcome)
    rows = []
    for scenario, measured in outcomes.items():
        costs = [o["seconds"] / o["requests"] for o in measured]
        name = f"throughput: {scenario} grouped count, {THROUGHPUT_CLIENTS} clients, time per request"
        rows.append({"name": name, "seconds": costs, "median": statistics.median(costs), "runs": len(costs),
                     "cpu_median": None, "rps": [o["rps"] for o in measured]})
    return rows


MEASURES: dict[str, Callable[..., list[dict]]] = {
    "load": measure_load,
    "validate": measure_validate,
    "build": measure_build,
    "queries": measure_queries,
    "publish": measure_publish,
    "serve": measure_serve,
    "throughput": measure_throughput,
}


def child_main(step: str, variant: str, scale: int, repeat: int, jobs: int) -> int:
    """In the measuring process: run one step variant, print one JSON line."""
    memory = TreeMemory()
    with tempfile.TemporaryDirectory(prefix=f"bench-{step}-") as folder:
        try:
            with memory:
                rows = MEASURES[step](variant, scale, repeat, Path(folder), jobs)
            status = None
        except ImportError as error:  # a capability that has not landed yet
            rows, status = [], f"not available: {error}"
        except Exception as error:  # noqa: BLE001 - reported in the table, with the traceback on stderr
            traceback.print_exc()
            rows, status = [], f"failed: {type(error).__name__}: {error}"
    print(json.dumps({"rows": rows, "status": status, "rss_mib": peak_rss_mib(), "tree_mib": memory.peak_mib}))
    return 0


# --- results: tables, targets, chart -------------------------------------------------------------------------


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _baseline(records: list[dict], record: dict, row: dict, variants: set[str]) -> dict | None:
    """The baseline row (native limit or Python peer) measured for the same size, step and row name, or the
    baseline's only row."""
    natives = [r for r in records if r["scale"] == record["scale"] and r["step"] == record["step"]
               and r["variant"] in variants]
    for native in natives:
        for candidate in native["rows"]:
            if candidate["name"] == row["name"] or (len(native["rows"]) == 1 and row is record["rows"][0]):
                return candidate
    return None


def table(records: list[dict]) -> list[str]:
    lines = ["| size | triples | step | variant | measurement | median | CPU (median) | runs | peak memory "
             "| vs native | vs Python peer |", "|---|---:|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for record in records:
        size = "real data" if record["scale"] == 0 else f"{record['scale']}x"
        head = f"| {size} | {record['triples']:,} | {record['step']} | {record['variant']}"
        if not record["rows"]:
            lines.append(f"{head} | {record['status']} | | | | | | |")
            continue
        memory = record.get("tree_mib")
        for row in record["rows"]:
            ratios = []
            for variants in ({"native"}, PEERS):
                base = _baseline(records, record, row, variants)
                ok = base and base.get("median") and row.get("median") is not None
                ratios.append(f"{row['median'] / base['median']:.1f}x"
                              if base and ok and record["variant"] not in variants else "-")
            cpu = _fmt_seconds(row.get("cpu_median")) if row.get("cpu_median") is not None else "-"
            median = _fmt_seconds(row.get("median")) if row.get("median") is not None else row.get("status", "-")
            lines.append(f"{head} | {row['name']} | {median} | {cpu} | {row.get('runs', '-')} "
                         f"| {f'{memory:,.0f} MiB' if memory else '-'} | {ratios[0]} | {ratios[1]} |")
    return lines


def _rows(records: list[dict], step: str, variant: str, scale: int) -> dict[str, dict]:
    return {row["name"]: row for r in records if (r["step"], r["variant"], r["scale"]) == (step, variant, scale)
            for row in r["rows"]}


def targets(records: list[dict]) -> list[str]:
    """The performance targets, checked against what was measured (or said to be unmeasured)."""
    sizes = sorted({r["scale"] for r in records})
    out = []
    if 100 in sizes:
        queries = _rows(records, "queries", "vetgraph", 100)
        natives = _rows(records, "queries", "native", 100)
        slow = [n for n, r in queries.items() if r["median"] is None or r["median"] >= 0.050]
        far = [n for n, r in queries.items() if r["median"] and natives.get(n, {}).get("median")
               and r["median"] > 2 * natives[n]["median"]]
        if queries:
            out.append(f"- Stored queries on 100x under 50 ms median: {len(queries) - len(slow)}/{len(queries)}"
                       + (f" (slower: {', '.join(s.removeprefix('query ') for s in slow)})" if slow else "") + ".")
            out.append(f"- Within 2x of pyoxigraph running the same SPARQL: {len(queries) - len(far)}/{len(queries)}"
                       + (f" (further: {', '.join(s.removeprefix('query ') for s in far)})" if far else "") + ".")
    if 1000 in sizes:
        build = next(iter(_rows(records, "build", "vetgraph", 1000).values()), None)
        native = next(iter(_rows(records, "build", "native", 1000).values()), None)
        if build and native:
            ratio = build["median"] / native["median"]
            out.append(f"- Build on 1000x under 3 minutes: {_fmt_seconds(build['median'])} "
                       f"({'met' if build['median'] < 180 else 'NOT met'}); within 5x of the native limit: "
                       f"{ratio:.1f}x ({'met' if ratio <= 5 else 'NOT met'}).")
        for step in ("validate",):
            for name, row in _rows(records, step, "vetgraph", 1000).items():
                out.append(f"- Validation of 1000x under 60 s: {name}: "
                           f"{_fmt_seconds(row['median'])} ({'met' if row['median'] < 60 else 'NOT met'}).")
            for name, row in _rows(records, step, "vetgraph-incremental", 1000).items():
                out.append(f"- {name} on 1000x: {_fmt_seconds(row['median'])} "
                           f"({'met' if row['median'] < 60 else 'NOT met'}).")
        for name, row in _rows(records, "serve", "vetgraph", 1000).items():
            if name.startswith("serve: restart"):
                out.append(f"- 1000x serve restart with unchanged data under 10 s to the first answer: "
                           f"{_fmt_seconds(row['median'])} ({'met' if row['median'] < 10 else 'NOT met'}).")
            elif name.startswith("serve: first start"):
                out.append(f"- 1000x serve first start no slower than before the stored data (169 s): "
                           f"{_fmt_seconds(row['median'])} ({'met' if row['median'] <= 169 else 'NOT met'}).")
        for step in ("build", "serve"):
            record = next((r for r in records if (r["step"], r["variant"], r["scale"]) == (step, "vetgraph", 1000)),
                          None)
            if record and record["rows"]:
                memory = record.get("tree_mib") or 0.0
                out.append(f"- 1000x {step} within 4 GiB RSS: {memory:,.0f} MiB "
                           f"({'met' if memory and memory < 4096 else 'NOT met'}).")
    for scale in sizes:
        theirs = _rows(records, "throughput", "native", scale)
        for variant, label in (("vetgraph", "vetgraph serve"), ("vetgraph-single", "vetgraph serve --processes 1")):
            for name, row in _rows(records, "throughput", variant, scale).items():
                if name in theirs and row.get("median") and theirs[name].get("median"):
                    ratio = theirs[name]["median"] / row["median"]
                    scenario = name.split(": ")[1].split(" ")[0]
                    goal = f" (goal >= 0.8x: {'met' if ratio >= 0.8 else 'NOT met'})" if scenario == "distinct" else ""
                    out.append(f"- {'Real data' if scale == 0 else f'{scale}x'}, {scenario} queries: {label} / "
                               f"oxigraph serve-read-only throughput = {ratio:.2f}x ({1 / row['median']:,.0f} / "
                               f"{1 / theirs[name]['median']:,.0f} req/s){goal}.")
    growth = []
    for (step, variant) in sorted({(r["step"], r["variant"]) for r in records}):
        for small, large in zip(sizes, sizes[1:], strict=False):
            if large != 10 * small:
                continue
            before, after = _rows(records, step, variant, small), _rows(records, step, variant, large)
            for name, row in after.items():
                if name in before and before[name].get("median") and row.get("median") is not None:
                    factor = row["median"] / before[name]["median"]
                    if factor > 12 and row["median"] >= 0.05:  # below 50 ms, fixed costs and noise dominate
                        growth.append(f"{step}/{variant} {name} {small}x->{large}x: {factor:.0f}x")
    out.append("- Linear scaling (10x more data costs at most 12x more time, for steps over 50 ms): "
               + ("met." if not growth else "NOT met for " + "; ".join(growth) + "."))
    return out


def chart(records: list[dict], path: Path) -> None:
    """Log-log cost vs size: one line per step and variant (queries: the sum over the catalogue)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 6))
    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for record in records:
        if record["step"] == "throughput":  # a time per request, not the cost of a step: in the table only
            continue
        rows = record["rows"] if record["step"] == "queries" else record["rows"][:1]  # build: the total only
        medians = [row["median"] for row in rows if row.get("median") is not None]
        if medians and len(medians) == len(rows):
            series.setdefault((record["step"], record["variant"]), []).append((record["triples"], sum(medians)))
    colours = dict(zip(STEPS[:-1], ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"),
                       strict=True))
    styles = {"native": ":", "rdflib": "--", "pyshacl": "--", "vetgraph-direct": "-.", "vetgraph-incremental": "-."}
    for (step, variant), points in sorted(series.items()):
        if len(points) < 2:
            continue
        xs, ys = zip(*sorted(points), strict=True)
        axes.plot(xs, ys, styles.get(variant, "-"), marker="o", color=colours[step], label=f"{step}: {variant}")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("statements in the corpus")
    axes.set_ylabel("seconds (median; queries: sum over the catalogue)")
    axes.set_title("vetgraph (solid; dash-dot: --direct, cached), Python peer (dashed), native limit (dotted)",
                   fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    if axes.get_lines():  # a single size draws no line
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def command_line(args: argparse.Namespace) -> str:
    line = (f"python -m bench.run --sizes {' '.join(map(str, args.sizes))} --repeat {args.repeat} --large-repeat "
            f"{args.large_repeat} --jobs {args.jobs}")
    if args.steps != ",".join(STEPS):
        line += f" --steps {args.steps}"
    if args.variants:
        line += f" --variants {args.variants}"
    return line + (" --update" if args.update else "")


def write_results(records: list[dict], args: argparse.Namespace, out: Path) -> None:
    import platform

    out.mkdir(parents=True, exist_ok=True)
    commands = [f"{command_line(args)} ({time.strftime('%Y-%m-%d %H:%M')})"]
    previous = out / "results.json"
    if args.update and previous.exists():  # keep the record of the runs whose measurements are kept
        commands = [c for c in json.loads(previous.read_text(encoding="utf-8")).get("commands", [])
                    if not c.startswith(command_line(args))] + commands
    previous.write_text(json.dumps({"commands": commands, "records": records}, indent=1), encoding="utf-8")
    from vetgraph.validation.partitioned import default_jobs

    usable = default_jobs()
    try:
        chart(records, out / "scaling.png")
        picture = "![cost vs size](scaling.png)"
    except ImportError:  # matplotlib is in the bench extra
        picture = "(no chart: matplotlib is missing; `pip install -e '.[bench]'`)"
    lines = [
        "# vetgraph benchmark results",
        "",
        "Measured with " + "; then ".join(f"`{c.split(' (')[0]}` ({c.split(' (')[-1]}" for c in commands)
        + f", on {platform.machine()} Linux ({usable} cores, shared with other work). Medians; \"vs native\""
        " is the ratio to the native limit of the same step in the same run; peak memory is the largest"
        " proportional set size (PSS) of the measuring process and all its descendants (forked validation"
        " workers, the server), sampled every 0.25 s, so copy-on-write pages count once.",
        "",
        picture,
        "",
        "## Targets",
        "",
        *targets(records),
        "",
        "## Measurements",
        "",
        *table(records),
        "",
    ]
    (out / "results.md").write_text("\n".join(lines), encoding="utf-8")


# --- the orchestration -------------------------------------------------------------------------------------


def run_child(step: str, variant: str, scale: int, repeat: int, jobs: int, timeout: float) -> dict:
    command = [sys.executable, "-m", "bench.run", "--child", f"{step}:{variant}", "--sizes", str(scale),
               "--repeat", str(repeat), "--jobs", str(jobs)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=Path(__file__).parents[1])
    except subprocess.TimeoutExpired:
        return {"rows": [], "status": f"timeout > {timeout:g} s", "rss_mib": None}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"rows": [], "status": f"failed: {tail}", "rss_mib": None}
    if done.stderr.strip() and "failed" in (json.loads(lines[-1]).get("status") or ""):
        print(done.stderr, file=sys.stderr)
    return json.loads(lines[-1])


def corpus_size(scale: int) -> int:
    with _corpus(scale).open("rb") as stream:
        return sum(1 for _ in stream)


def main(argv: list[str] | None = None) -> int:
    from vetgraph.validation.partitioned import default_jobs

    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000],
                        help="corpus sizes (synthetic reports); 0: the project's own data")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--large-repeat", type=int, default=1,
                        help="runs per measurement at sizes of 1000x and more (default 1: minutes each)")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="parallel validation processes")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before a measurement is given up")
    parser.add_argument("--peer-max", type=int, default=100,
                        help="largest size at which the Python peers (rdflib, one pySHACL run) are measured")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for results.md/json and scaling.png")
    parser.add_argument("--update", action="store_true",
                        help="keep the other measurements of --out/results.json, replace only those re-measured")
    parser.add_argument("--variants", default="", help="comma-separated subset of variants (default: all)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        step, variant = args.child.split(":")
        return child_main(step, variant, args.sizes[0], args.repeat, args.jobs)
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = [s for s in steps if s not in STEPS]
    if unknown or args.repeat < 1 or min(args.sizes) < 0:
        parser.error(f"--steps: unknown {', '.join(unknown)}" if unknown else "--repeat must be >= 1, --sizes >= 0")

    records: list[dict] = []
    if args.update and (args.out / "results.json").exists():
        records = json.loads((args.out / "results.json").read_text(encoding="utf-8"))["records"]
    wanted = {v.strip() for v in args.variants.split(",") if v.strip()}
    for scale in sorted(args.sizes):
        triples = corpus_size(scale)
        for step in steps:
            for variant in VARIANTS[step]:
                if wanted and variant not in wanted:
                    continue
                record: dict
                if variant in PEERS and scale > args.peer_max:
                    record = {"rows": [], "status": f"not run above {args.peer_max}x (--peer-max)", "rss_mib": None}
                else:
                    started = time.perf_counter()
                    repeat = args.large_repeat if scale >= 1000 else args.repeat
                    record = run_child(step, variant, scale, repeat, args.jobs, args.timeout)
                    print(f"{scale}x {step} {variant}: {time.perf_counter() - started:.0f} s"
                          f"{' (' + record['status'] + ')' if record['status'] else ''}", file=sys.stderr, flush=True)
                records = [r for r in records if (r["scale"], r["step"], r["variant"]) != (scale, step, variant)]
                records.append({"scale": scale, "triples": triples, "step": step, "variant": variant, **record})
                order = {(st, va): i for i, (st, va) in enumerate((st, va) for st in STEPS for va in VARIANTS[st])}
                records.sort(key=lambda r: (r["scale"], order[r["step"], r["variant"]]))
                write_results(records, args, args.out)  # after every measurement: a long run can be read early
    print((args.out / "results.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark runner (bench/run.py): one command writes the table, the targets and the chart; steps whose
module is missing are reported, not skipped."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

from bench import run
from vetgraph.config import PROJECT_ROOT


def test_one_command_writes_table_targets_and_chart(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--sizes", "1", "--steps", "load", "--repeat", "1", "--out", str(tmp_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "results.md").read_text(encoding="utf-8")
    for variant in run.VARIANTS["load"]:
        assert "| 1x | " in table and f"| load | {variant} | load |" in table
    assert "## Targets" in table and "Linear scaling" in table
    if importlib.util.find_spec("matplotlib"):  # the bench extra draws the chart; the test venv may lack it
        assert (tmp_path / "scaling.png").read_bytes().startswith(b"\x89PNG")
    else:
        assert "no chart: matplotlib is missing" in table
    records = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["records"]
    assert {r["variant"] for r in records} == set(run.VARIANTS["load"])
    assert all(r["rows"][0]["median"] > 0 and r["tree_mib"] > 0 for r in records)


def test_a_missing_module_is_reported_as_not_available(monkeypatch, capsys):
    def missing(*args: object) -> list[dict]:
        raise ImportError("No module named 'vetgraph.publication'")

    monkeypatch.setitem(run.MEASURES, "build", missing)
    assert run.child_main("build", "vetgraph", 1, 1, 1) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["rows"] == []
    assert record["status"] == "not available: No module named 'vetgraph.publication'"
    lines = run.table([{"scale": 1, "triples": 10, "step": "build", "variant": "vetgraph", **record}])
    assert "not available: No module named 'vetgraph.publication'" in lines[-1]


def test_targets_say_met_or_not_met():
    def record(step: str, variant: str, scale: int, median: float, name: str = "x") -> dict:
        return {"scale": scale, "triples": scale * 1000, "step": step, "variant": variant, "status": None,
                "tree_mib": 100.0, "rows": [{"name": name, "median": median, "runs": 1}]}

    records = [
        record("queries", "vetgraph", 100, 0.010, "query fast"),
        record("queries", "native", 100, 0.008, "query fast"),
        record("build", "vetgraph", 100, 10.0),
        record("build", "vetgraph", 1000, 200.0),
        record("build", "native", 1000, 20.0),
    ]
    text = "\n".join(run.targets(records))
    assert "Stored queries on 100x under 50 ms median: 1/1" in text
    assert "Build on 1000x under 3 minutes: 200.00 s (NOT met); within 5x of the native limit: 10.0x (NOT met)" in text
    assert "NOT met for build/vetgraph x 100x->1000x: 20x" in text

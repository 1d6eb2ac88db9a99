"""`vetgraph serve` keeps the validated data on disk (--store-dir): a restart with unchanged data neither
validates nor loads; changed data are validated and stored anew beside the old store, which a crash or a
refusal leaves usable; two servers on one store directory share it without corrupting it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pyoxigraph as ox

from tests.helpers.servers import start_serve, stop_process
from tests.helpers.shared import FIXTURES
from vetgraph import synth
from vetgraph.server.persisted import BUILDING, INFO, OXIGRAPH
from vetgraph.server.workers import COPY_BYTES_PER_STATEMENT, _open_store

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _count(url: str) -> int:
    answer = httpx.get(url + "sparql", params={"query": COUNT}, headers={"Accept": "text/csv"}, timeout=30)
    answer.raise_for_status()
    return int(answer.text.split()[1])


def _data(folder: Path, scale: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "synth.trig"
    synth.generate(scale).serialize(path, format="trig")
    return path


def _serve(data: Path, store_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    with log.open("w") as err:
        return start_serve(["--data", str(data), "--store-dir", str(store_dir), "--dist", "/nonexistent",
                            "--jobs", "1"], stderr=err)


def _stores(store_dir: Path) -> list[Path]:
    return sorted(p for p in store_dir.iterdir() if (p / INFO).is_file())


def _served_once(tmp_path: Path) -> tuple[Path, Path, Path, int]:
    """Synthetic data served once from a new store dir and stopped: (data, store dir, log, triple count)."""
    data, store_dir, log = _data(tmp_path / "data"), tmp_path / "store", tmp_path / "err.txt"
    process, url = _serve(data, store_dir, log)
    try:
        return data, store_dir, log, _count(url)
    finally:
        stop_process(process)


def test_restart_with_unchanged_data_neither_validates_nor_loads(tmp_path: Path) -> None:
    data, store_dir, log, first = _served_once(tmp_path)
    assert "validating against the SHACL shapes" in log.read_text()
    process, url = _serve(data, store_dir, log)
    try:
        assert _count(url) == first > 1000
    finally:
        stop_process(process)
    text = log.read_text()
    assert "checking the stored data" in text
    assert "validating" not in text and "loading" not in text, text
    assert len(_stores(store_dir)) == 1


def test_changed_data_are_validated_and_stored_anew(tmp_path: Path) -> None:
    data, store_dir, log, before = _served_once(tmp_path)
    old = _stores(store_dir)
    data.write_text(data.read_text(encoding="utf-8") + "\n<urn:x:a> <urn:x:p> \"added\" .\n", encoding="utf-8")
    process, url = _serve(data, store_dir, log)
    try:
        assert _count(url) == before + 1
    finally:
        stop_process(process)
    assert "validating against the SHACL shapes" in log.read_text()
    assert _stores(store_dir) != old and len(_stores(store_dir)) == 1  # the unused old store was removed


def test_data_that_do_not_conform_leave_the_previous_store(tmp_path: Path) -> None:
    data, store_dir, log, _ = _served_once(tmp_path)
    old = _stores(store_dir)
    refused = subprocess.run(
        [sys.executable, "-m", "vetgraph", "serve", "--port", "0", "--data", str(data), "--data",
         str(FIXTURES / "malformed" / "shape-violation.ttl"), "--store-dir", str(store_dir), "--jobs", "1",
         "--quiet"], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and "do not conform" in refused.stderr, refused.stderr
    assert _stores(store_dir) == old
    assert not [p for p in store_dir.iterdir() if p.name.startswith(BUILDING)]
    process, url = _serve(data, store_dir, log)
    try:
        assert _count(url) > 1000
    finally:
        stop_process(process)
    assert "validating" not in log.read_text()


CRASHING_BUILD = """
import os, sys
from pathlib import Path
from vetgraph.config import Paths
from vetgraph.loading import load_project
from vetgraph.server import persisted
from vetgraph.stores import OxigraphStore

original = OxigraphStore.from_dataset
def crash(dataset, store=None):
    original(dataset, store)
    store.flush()
    os._exit(9)  # killed mid-build: the new store is written but not finished
OxigraphStore.from_dataset = staticmethod(crash)
data = [Path(sys.argv[2])]
persisted.open_or_build(Path(sys.argv[1]), Paths(), data, lambda: load_project(Paths(), data_files=data))
"""


def test_a_crash_mid_rebuild_leaves_the_previous_store_usable(tmp_path: Path) -> None:
    data, store_dir, log, expected = _served_once(tmp_path)
    old = _stores(store_dir)
    changed = _data(tmp_path / "changed", scale=2)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_BUILD, str(store_dir), str(changed)],
                             capture_output=True, text=True, timeout=300)
    assert crashed.returncode == 9, crashed.stderr
    assert [p for p in store_dir.iterdir() if p.name.startswith(BUILDING)]  # the unfinished build
    assert _stores(store_dir) == old
    process, url = _serve(data, store_dir, log)  # the previous data: served at once from the old store
    try:
        assert _count(url) == expected
    finally:
        stop_process(process)
    assert "validating" not in log.read_text()
    process, url = _serve(changed, store_dir, log)  # the next build clears the crash's leftovers
    try:
        assert _count(url) > expected
    finally:
        stop_process(process)
    assert not [p for p in store_dir.iterdir() if p.name.startswith(BUILDING)]


def test_two_servers_on_one_store_dir(tmp_path: Path) -> None:
    """Started at once on the same data: one builds, the other waits for the lock and opens the finished
    store; then a third with other data builds beside them without removing the store they serve."""
    data, store_dir = _data(tmp_path / "data"), tmp_path / "store"
    started: dict[int, tuple[subprocess.Popen, str]] = {}
    threads = [threading.Thread(target=lambda i=i: started.__setitem__(
        i, _serve(data, store_dir, tmp_path / f"err{i}.txt"))) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    processes = [started[i][0] for i in range(2)]
    try:
        counts = [_count(started[i][1]) for i in range(2)]
        assert counts[0] == counts[1] > 1000
        logs = [(tmp_path / f"err{i}.txt").read_text() for i in range(2)]
        assert sum("validating" in text for text in logs) == 1, logs  # built once
        other = _data(tmp_path / "other", scale=2)
        third, third_url = _serve(other, store_dir, tmp_path / "err3.txt")
        processes.append(third)
        assert _count(third_url) > counts[0]
        assert len(_stores(store_dir)) == 2  # the first store is in use: kept
        assert [_count(started[i][1]) for i in range(2)] == counts  # and still served
        # a finished store stays a valid Oxigraph store for any reader
        for store in _stores(store_dir):
            assert len(ox.Store.read_only(str(store / OXIGRAPH))) > 1000
    finally:
        for process in processes:
            stop_process(process)


def test_an_unusable_store_dir_is_one_line_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = subprocess.run([sys.executable, "-m", "vetgraph", "serve", "--port", "0", "--data",
                           str(_data(tmp_path / "data")), "--store-dir", str(blocker / "store"), "--quiet"],
                          capture_output=True, text=True, timeout=120, env={**os.environ})
    assert done.returncode == 2
    assert done.stderr.startswith("vetgraph serve: --store-dir ") and done.stderr.count("\n") == 1, done.stderr


LOCKED_DOWN = """
import os, sys
from vetgraph.server.workers import _lock_down
folder = sys.argv[1]
_lock_down(None, folder)
opened = [os.open(os.path.join(folder, name), os.O_RDONLY) for name in sorted(os.listdir(folder))]
try:
    os.open(os.path.join(folder, sorted(os.listdir(folder))[0]), os.O_RDONLY)
except OSError:
    print("locked", len(opened))
"""


def test_a_locked_down_worker_can_still_open_every_table_file_of_its_store(tmp_path: Path) -> None:
    """A large store has dozens of table files that RocksDB opens only when a query first reads them (a 1000x
    store's workers failed to start when the lock-down left no descriptor for them); nothing beyond them."""
    store = tmp_path / "store"
    store.mkdir()
    for number in range(40):
        (store / f"{number:06d}.sst").write_bytes(b"")
    done = subprocess.run([sys.executable, "-c", LOCKED_DOWN, str(store)], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "locked 40", done.stderr


def _worker_files(store: Path, in_memory_up_to: int) -> tuple[str, list[str]]:
    """The answer of a worker over the finished store `store`, and the store files its process holds open."""
    import asyncio

    from vetgraph.server.workers import QueryRequest, WorkerPool

    async def scenario() -> tuple[str, list[str]]:
        pool = WorkerPool(store, size=1, in_memory_up_to=in_memory_up_to)
        await pool.start()
        try:
            answer = await pool.run(QueryRequest(COUNT, "csv", None, 30.0))
            pid = next(iter(pool._lane)).process.pid
            held = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            return answer.body.decode(), [path for path in held if path.startswith(str(store))]
        finally:
            await pool.close()

    return asyncio.run(scenario())


def test_workers_copy_a_small_store_into_memory_and_read_a_large_one_on_disk(tmp_path: Path) -> None:
    store = tmp_path / "store"
    on_disk = ox.Store(str(store))
    on_disk.bulk_load(path=str(_data(tmp_path / "data")), format=ox.RdfFormat.TRIG)
    statements = len(on_disk)
    on_disk.flush()
    del on_disk
    copied, copy_files = _worker_files(store, in_memory_up_to=statements)
    read, disk_files = _worker_files(store, in_memory_up_to=statements - 1)
    assert copied == read == f"n\r\n{statements}\r\n"
    assert copy_files == [] and disk_files != []
    # a copy that would take more than a quarter of the worker's memory allowance is not made
    limit = 4 * statements * COPY_BYTES_PER_STATEMENT
    assert _open_store(str(store), statements, limit + 4)[1] is False
    assert _open_store(str(store), statements, limit - 4)[1] is True

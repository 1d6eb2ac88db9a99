"""The server's persistent store: what `vetgraph serve` validated and loaded, kept on disk for the next start.

Large data take minutes to validate and load; unchanged data should not. `serve` keeps each validated state
of the data as an Oxigraph (RocksDB) store in a folder of the store directory named by a fingerprint of
everything the served data depend on: the data files (the curation spreadsheets and, for them, the EU
vocabulary snapshots included), the ontology and the shapes, and the vetgraph and pyoxigraph versions.

- Unchanged data: the folder of the fingerprint exists, so the start opens it read-only (milliseconds) and
  neither validates nor loads anything.
- Changed data: the data are validated (with the partition cache, if given) and written into a hidden
  `.building-*` folder, which is renamed to its fingerprint only once complete. A crash mid-build leaves a
  `.building-*` folder (removed by the next build) and every finished store as it was.
- Concurrency: checking and building happen under an exclusive lock of the store directory, so two servers
  never build at once; a finished store is only ever opened read-only (by the server and by each of its
  query workers), which any number of processes may do. Every server holds a shared lock on the store it
  serves; a build removes the other stores nobody holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import pyoxigraph as ox

    from vetgraph.config import Paths
    from vetgraph.loading import Loaded

#: Bumped when the layout of a stored folder changes: older folders are then rebuilt, not misread.
LAYOUT = 1
LOCK_FILE = ".lock"
IN_USE = "in-use"  # inside a finished store: shared-locked by every server that serves it
INFO = "served.json"  # prefixes and last modification time of the served data (written before the rename)
OXIGRAPH = "oxigraph"
BUILDING = ".building-"


def default_store_dir() -> Path:
    """Per user, under the XDG cache directory, as the synthetic corpora are (vetgraph.synth)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vetgraph" / "serve"


@dataclass
class Opened:
    """A finished store, opened read-only, and what the server needs besides the triples."""

    path: Path  # the Oxigraph folder (query workers open it read-only too)
    store: ox.Store
    prefixes: dict[str, str]
    last_modified: datetime | None
    rebuilt: bool  # False: unchanged data, nothing was validated or loaded
    _in_use: IO[bytes] | None = None  # the shared lock, held as long as this process lives


def _files_below(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def inputs(paths: Paths, data_files: Iterable[Path] | None) -> list[Path]:
    """Every file the served data depend on."""
    if data_files is not None:
        files = [Path(f) for f in data_files]
    else:  # the data folder with its curation spreadsheets, which are checked against the EU vocabularies
        files = _files_below(paths.data_dir) + _files_below(paths.vocab_dir)
    return files + [paths.ontology_file, paths.shapes_file]


def fingerprint(files: Iterable[Path]) -> str:
    """SHA-256 over the versions, the layout and every file's name and content (contents, not modification
    times: a checkout or a copy must not force a rebuild, and an edit within the same second must)."""
    import pyoxigraph

    from vetgraph import __version__

    digest = hashlib.sha256(f"vetgraph {__version__}\npyoxigraph {pyoxigraph.__version__}\nlayout {LAYOUT}\n"
                            .encode())
    for path in files:
        digest.update(f"{Path(path).resolve()}\n".encode())
        if path.is_file():
            content = hashlib.sha256()
            with path.open("rb") as stream:  # hashlib.file_digest is Python 3.11+
                for block in iter(lambda: stream.read(2**20), b""):
                    content.update(block)
            digest.update(content.digest())
        else:
            digest.update(b"missing\n")
    return digest.hexdigest()[:32]


@contextlib.contextmanager
def _locked(store_dir: Path) -> Iterator[None]:
    """The store directory's exclusive lock (blocks while another server checks or builds)."""
    store_dir.mkdir(parents=True, exist_ok=True)
    with (store_dir / LOCK_FILE).open("a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def open_or_build(store_dir: Path, paths: Paths, data_files: Iterable[Path] | None,
                  validated: Callable[[], Loaded]) -> Opened:
    """The finished store of the current data: opened as it is when the fingerprint matches, else built from
    `validated()` (which loads and validates, raising when the data cannot be served) and then opened."""
    import pyoxigraph as ox

    from vetgraph.progress import current

    files = list(data_files) if data_files is not None else None
    with _locked(store_dir):
        with current().step("checking the stored data", unit="files") as step:
            watched = inputs(paths, files)
            step.set(0, len(watched))
            key = fingerprint(watched)
            step.set(len(watched))
        finished = store_dir / key
        rebuilt = not (finished / INFO).is_file()
        if rebuilt:
            _build(finished, validated())
            _remove_unused(store_dir, keep=finished)
        in_use = (finished / IN_USE).open("a+b")
        fcntl.flock(in_use, fcntl.LOCK_SH)  # before the directory lock is let go: no build may remove it now
    info = json.loads((finished / INFO).read_text(encoding="utf-8"))
    modified = info.get("last_modified")
    return Opened(finished / OXIGRAPH, ox.Store.read_only(str(finished / OXIGRAPH)), info["prefixes"],
                  datetime.fromisoformat(modified) if modified else None, rebuilt, in_use)


def _build(finished: Path, loaded: Loaded) -> None:
    """Write the validated data into a new store beside the others and rename it into place when complete."""
    import pyoxigraph as ox

    from vetgraph.progress import current
    from vetgraph.stores import OxigraphStore

    building = Path(tempfile.mkdtemp(prefix=BUILDING, dir=finished.parent))
    try:
        with current().step("loading the data into the stored Oxigraph store",
                            total=len(loaded.dataset), unit="statements") as step:
            store = ox.Store(str(building / OXIGRAPH))
            OxigraphStore.from_dataset(loaded.dataset, store)
            store.flush()
            step.set(len(store))
            del store  # closed: a store is opened read-only only once nobody writes it
        info = {"prefixes": {p: str(ns) for p, ns in loaded.dataset.namespaces() if p},
                "last_modified": _last_modified(loaded)}
        (building / INFO).write_text(json.dumps(info, indent=1), encoding="utf-8")
        if finished.exists():  # an unfinished store of this fingerprint (no INFO): from an older layout
            shutil.rmtree(finished)
        os.rename(building, finished)
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)


def _last_modified(loaded: Loaded) -> str | None:
    from datetime import timezone

    files = [Path(f) for f in loaded.files] + [loaded.paths.ontology_file]
    mtimes = [f.stat().st_mtime for f in files if f.is_file()]
    return datetime.fromtimestamp(max(mtimes), tz=timezone.utc).isoformat() if mtimes else None


def _remove_unused(store_dir: Path, keep: Path) -> None:
    """Remove what no server uses: stores of earlier data nobody holds, and `.building-*` folders left by a
    crash (the caller holds the directory lock, so no build is running)."""
    for folder in store_dir.iterdir():
        if folder == keep or not folder.is_dir():
            continue
        if folder.name.startswith(BUILDING):
            shutil.rmtree(folder, ignore_errors=True)
            continue
        marker = folder / IN_USE
        if not (folder / INFO).is_file() and not marker.exists():
            continue  # not one of ours
        with marker.open("a+b") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a running server serves it
            shutil.rmtree(folder, ignore_errors=True)

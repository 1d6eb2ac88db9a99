"""`vetgraph build`: validate, then write a verified release (dumps, ontology docs, DCAT-AP, VoID, checksums).

The release is written into a temporary folder beside the target and swapped in by a rename at the very
end, so an interrupted or failed build leaves the previous release as it was and no half-written file.
Nothing is written at all when the data has SHACL violations. Dates come from `release.toml`, so the same
input gives byte-identical output.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vetgraph.config import BASE_IRI, DIST_DIR, PROJECT_ROOT, Paths
from vetgraph.errors import CannotRun, NotConforming
from vetgraph.memory import cyclic_gc_paused
from vetgraph.site import SiteOptions

if TYPE_CHECKING:  # the heavy modules are imported only when a build runs
    from vetgraph.catalog import Dump, PublishedFile, Release
    from vetgraph.contents import Part
    from vetgraph.dumps import Prepared
    from vetgraph.formats import Format
    from vetgraph.loading import Loaded
    from vetgraph.progress import Progress

EXIT_OK = 0
DEFAULT_OUT = DIST_DIR
DEFAULT_RELEASE = PROJECT_ROOT / "release.toml"
CHECKSUMS = "SHA256SUMS"
#: Written by every build into its folder (hidden: not a download): says that vetgraph wrote the folder, which
#: release it is and the SHA-256 of its SHA256SUMS. Only a folder with it, whose files all match SHA256SUMS, is
#: ever replaced; only temporary folders with it are ever cleaned up.
MARKER = ".vetgraph-release"
#: How many findings of a refused build are printed (the rest: run `vetgraph validate`).
SHOWN_FINDINGS = 10


class BuildError(CannotRun):
    """The build cannot run or cannot finish (bad input, unwritable target); nothing was published."""


#: The data has SHACL violations; nothing was written.
Refused = NotConforming


@dataclass
class BuildOptions:
    out: Path = DEFAULT_OUT
    base_url: str = BASE_IRI
    release_file: Path = DEFAULT_RELEASE
    paths: Paths = field(default_factory=Paths)
    with_labels: bool = False
    #: validate in N parallel processes (vetgraph.validation.partitioned); None: the usable cores
    jobs: int | None = None
    #: folder of cached validation results of unchanged partitions (None: validate everything)
    validation_cache: Path | None = None
    #: dump of the release CHANGES.md compares with; default: the vetgraph.nq of the release being replaced
    changes_since: Path | None = None
    progress: bool = False
    #: also write the static linked-data site (site/) and the w3id.org redirect rules (w3id/.htaccess)
    site: SiteOptions | None = None


@dataclass
class BuildResult:
    out: Path
    files: list[str]
    total_bytes: int
    #: (step, seconds) for every step, for the benchmark
    timings: list[tuple[str, float]] = field(default_factory=list)


def write_file(path: Path, data: bytes) -> None:
    """Write one file of the release (a seam for the tests that interrupt a build)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class _Folder:
    """The temporary release folder: writes files and remembers what it wrote."""

    def __init__(self, root: Path):
        self.root = root
        self.files: dict[str, PublishedFile] = {}

    def write(self, name: str, data: bytes) -> PublishedFile:
        from vetgraph.catalog import PublishedFile
        from vetgraph.dumps import sha256_hex

        write_file(self.root / name, data)
        self.files[name] = PublishedFile(name, len(data), sha256_hex(data))
        return self.files[name]


def build(options: BuildOptions) -> BuildResult:
    """Validate and write the release; raise Refused (violations) or BuildError (cannot build). SIGTERM
    raises KeyboardInterrupt, as Ctrl-C does: nothing is left behind."""
    with _terminate_as_interrupt():
        return _build(options)


def _build(options: BuildOptions) -> BuildResult:
    from vetgraph.progress import activated

    steps = _steps(options)
    with activated(options.progress, steps=len(steps) + 3) as progress:
        return _build_steps(options, steps, progress)


def _build_steps(options: BuildOptions, steps: list[tuple[str, Callable[[_Context], None]]],
                 progress: Progress) -> BuildResult:
    from vetgraph.catalog import Release, ReleaseError
    from vetgraph.cli import check_conforms
    from vetgraph.loading import load_project

    base_url = options.base_url if options.base_url.endswith("/") else options.base_url + "/"
    target = options.out.resolve()
    _check_target(target)
    try:
        release = Release.load(options.release_file)
    except ReleaseError as error:
        raise BuildError(str(error)) from None
    except UnicodeDecodeError:
        raise BuildError(f"--release {options.release_file}: not a release settings file (UTF-8 TOML text, "
                         "see release.toml)") from None
    if options.changes_since is not None and not options.changes_since.is_file():
        raise BuildError(f"--changes-since {options.changes_since}: no such file (the dump of the release "
                         "to compare with)")
    loaded = load_project(options.paths)  # a LoadError names the file and line (a progress step of its own)
    # validation by partition, a progress step of its own
    check_conforms(loaded, jobs=options.jobs, cache=options.validation_cache, consequence="nothing was written",
                   shown=SHOWN_FINDINGS)

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(target)
        temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as error:
        raise BuildError(f"cannot create the release folder beside {target}: {error}") from None
    try:
        with _Marker(temporary) as marker:
            context = _Context(options, release, base_url, loaded, _Folder(temporary), target)
            with cyclic_gc_paused():
                for text, run in steps:
                    with progress.step(text):
                        run(context)
            marker.finish(release.version, (temporary / CHECKSUMS).read_bytes())
            with progress.step(f"replacing {target}"):
                temporary.chmod(0o777 & ~_umask())
                _check_target(target)  # again: the folder may have changed while the release was written
                _swap_in(temporary, target)
    except OSError as error:
        raise BuildError(f"cannot write the release: {error}") from None
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
    files = sorted(context.folder.files)
    return BuildResult(target, files, sum(f.size for f in context.folder.files.values()), progress.timings)


@dataclass
class _Context:
    """What the steps of one build share."""

    options: BuildOptions
    release: Release
    base_url: str
    loaded: Loaded
    folder: _Folder
    target: Path
    statements: Prepared | None = None  # the whole dataset; set by the first step
    parts: dict[str, Prepared] = field(default_factory=dict)  # by Part.key: selected once, written in 3 syntaxes
    dumps: list[Dump] = field(default_factory=list)
    extra: list[PublishedFile] = field(default_factory=list)  # the other files, described by vetgraph.contents

    def publish(self, name: str, data: bytes) -> None:
        self.extra.append(self.folder.write(name, data))

    @property
    def prepared(self) -> Prepared:
        """The sorted statements every later step writes from."""
        if self.statements is None:
            raise RuntimeError("the statements are prepared by the first build step")
        return self.statements


def _steps(options: BuildOptions) -> list[tuple[str, Callable[[_Context], None]]]:
    from vetgraph.contents import dump_parts

    steps: list[tuple[str, Callable[[_Context], None]]] = [("preparing statements", _prepare)]
    for part, fmt in dump_parts():
        name = f"{part.stem}.{fmt.extension}"
        steps.append((f"writing {name} and {name}.gz", _dump_writer(part, fmt)))
    steps += [
        ("writing context.jsonld", _write_context),
        ("writing ontology/ (Turtle, JSON-LD, RDF/XML, shapes, pyLODE documentation)", _write_ontology),
        ("writing void.ttl", _write_void),
        ("writing catalog.ttl, .rdf and .jsonld (DCAT-AP 3)", _write_catalog),
        ("writing CHANGES.md", _write_changes),
        ("writing README.txt and index.html", _write_readme),
    ]
    if options.site is not None:
        steps.append(("writing site/ (static linked-data site) and w3id/.htaccess", _write_site))
    steps.append((f"writing {CHECKSUMS}", _write_checksums))
    return steps


def _prepare(ctx: _Context) -> None:
    from vetgraph.dumps import prepare

    dataset = ctx.loaded.dataset
    if ctx.options.with_labels:
        for triple in _label_triples(dataset):
            dataset.default_graph.add(triple)
    ctx.statements = prepare(dataset)


def _label_triples(dataset):
    """English labels of the EU concepts the data links to, from the project's own snapshot of its link targets
    (vetgraph/reference/links-snapshot.ttl), so a fresh clone builds them without ../shared."""
    from vetgraph.links import VocabularyError, label_triples

    try:
        return label_triples(dataset)
    except VocabularyError as error:
        raise BuildError(f"--with-labels: {error}") from None


def _dump_writer(part: Part, fmt: Format) -> Callable[[_Context], None]:
    def write(ctx: _Context) -> None:
        from vetgraph.catalog import Dump
        from vetgraph.contents import DumpFile
        from vetgraph.dumps import gzip_bytes

        plain, packed = DumpFile(part, fmt), DumpFile(part, fmt, compressed=True)
        if part.key not in ctx.parts:
            ctx.parts[part.key] = part.select(ctx.prepared)
        statements = ctx.parts[part.key]  # the graph (or graphs) this file holds, nothing else
        data = statements.serialize(fmt.extension)
        try:
            statements.check(fmt.extension, data)  # a verified dump, or no release
        except ValueError as error:
            raise BuildError(f"{plain.name}: {error}") from None
        except MemoryError:  # Oxigraph's parsers hold one token in a bounded buffer (16 MiB for JSON-LD)
            raise BuildError(f"{plain.name}: the dump cannot be read back to check it, a value is too "
                             f"large: {_largest_literal(ctx.loaded)}") from None
        ctx.dumps.append(Dump(ctx.folder.write(plain.name, data), plain))
        ctx.dumps.append(Dump(ctx.folder.write(packed.name, gzip_bytes(data)), packed))

    return write


def _largest_literal(loaded: Loaded) -> str:
    """Where the longest literal of the data is: its file, subject and length (for a dump too large to check)."""
    from rdflib import Literal, URIRef

    length, subject = max(((len(o), s) for s, _, o, _ in loaded.dataset.quads((None, None, None, None))
                           if isinstance(o, Literal)), default=(0, None), key=lambda item: item[0])
    # the literal is in one of the subject's files, and only a file at least as long can hold it
    located = loaded.subject_files.get(subject, set()) if isinstance(subject, URIRef) else set()
    files = [f for f in located if f.is_file() and f.stat().st_size >= length]
    where = ", ".join(sorted(str(f) for f in files)) or "the data"
    return f"{where}: a literal of {length:,} characters on {subject}"


def _write_context(ctx: _Context) -> None:
    import json

    from vetgraph.dumps import json_ld_context

    document = {"@context": json_ld_context(ctx.prepared.prefixes)}
    data = (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    ctx.publish("context.jsonld", data)


def _write_ontology(ctx: _Context) -> None:
    from vetgraph.dumps import prepare

    paths = ctx.options.paths
    ontology = prepare(ctx.loaded.ontology)
    ctx.publish("ontology/vet.ttl", paths.ontology_file.read_bytes())
    ctx.publish("ontology/vet.jsonld", ontology.serialize("jsonld"))
    ctx.publish("ontology/vet.rdf", ontology.serialize("rdf"))
    ctx.publish("ontology/index.html", _ontology_html(ctx.loaded.ontology))
    ctx.publish("ontology/shapes.ttl", paths.shapes_file.read_bytes())


def _ontology_html(ontology) -> bytes:
    """HTML documentation of the ontology, generated by pyLODE."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import OWL, PROF, RDF, SKOS

    from vetgraph.config import ONTOLOGY_IRI

    OntPub, PylodeError = _import_pylode()
    # pyLODE's OntPub documents every owl:Ontology, prof:Profile and skos:ConceptScheme of its graph as "the
    # ontology" and mixes their titles and IRIs (our vet:EvidenceLevels scheme won). Its page has no section
    # for concept schemes, so the copy it gets keeps every statement but those types: the ontology is the only
    # candidate, and the page is the ontology's.
    others = {(s, RDF.type, kind) for kind in (OWL.Ontology, PROF.Profile, SKOS.ConceptScheme)
              for s in ontology.subjects(RDF.type, kind) if s != URIRef(ONTOLOGY_IRI)}
    copy = Graph(bind_namespaces="none")  # pyLODE adds inferred triples to the graph it is given
    for prefix, namespace in ontology.namespaces():
        copy.bind(prefix, namespace)
    for triple in ontology:
        if triple not in others:
            copy.add(triple)
    try:
        html = OntPub(copy, sort_subjects=True).make_html()
    except PylodeError as error:
        raise BuildError(f"pyLODE cannot document the ontology: {error}") from None
    return html.encode("utf-8")


def _import_pylode():
    """Import pyLODE without its side effects on this process.

    pyLODE 3.4.1 reads its version from a pyproject.toml that its wheel does not ship (RDFLib/pyLODE#260,
    fixed upstream after the release): give it the installed version instead. Importing it also runs
    logging.basicConfig(level=DEBUG) (pylode/profiles/supermodel/loader.py): restore the root logger after."""
    import logging
    import types
    from importlib.metadata import version

    if "pylode.version" not in sys.modules:
        shim = types.ModuleType("pylode.version")
        shim.__version__ = version("pylode")
        sys.modules["pylode.version"] = shim
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from pylode import OntPub
        from pylode.utils import PylodeError
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return OntPub, PylodeError


def _write_void(ctx: _Context) -> None:
    from vetgraph.catalog import NAMESPACES, void_graph
    from vetgraph.dumps import prepare

    subjects = {q.subject.value for q in ctx.prepared.quads if hasattr(q.subject, "value")}
    wanted = [ctx.release.about, *ctx.release.examples]
    examples = [iri for iri in wanted if iri in subjects]
    graph = void_graph(ctx.release, ctx.base_url, ctx.prepared, ctx.dumps, examples)
    # The data's own prefixes too, so that partitions read vet:Report rather than <...def#Report>.
    data = prepare(graph, [*NAMESPACES.items(), *ctx.prepared.prefixes.items()]).serialize("ttl")
    ctx.publish("void.ttl", data)


def _write_catalog(ctx: _Context) -> None:
    from vetgraph.catalog import CATALOG_FORMATS, NAMESPACES, SCHEMA_FILES, catalog_graph
    from vetgraph.dumps import prepare

    schema_files = [file for file in ctx.extra if file.name in SCHEMA_FILES]
    graph = catalog_graph(ctx.release, ctx.base_url, ctx.dumps, cites=_report_doi_iri(ctx), schema_files=schema_files)
    prepared = prepare(graph, NAMESPACES.items())
    # Turtle for people, RDF/XML and JSON-LD for harvesters (data.europa.eu asks for RDF/XML).
    for extension in CATALOG_FORMATS:
        ctx.publish(f"catalog.{extension}", prepared.serialize(extension))


def _report_doi_iri(ctx: _Context) -> str | None:
    """The DOI IRI of the report the dataset describes (schema:sameAs https://doi.org/...), if confirmed."""
    from rdflib import URIRef

    from vetgraph.namespaces import DOI, SCHEMA

    graph = ctx.loaded.dataset.default_graph
    dois = sorted(str(o) for o in graph.objects(URIRef(ctx.release.about), SCHEMA.sameAs) if str(o).startswith(DOI))
    return dois[0] if dois else None


def _write_changes(ctx: _Context) -> None:
    """CHANGES.md: the statements added and removed since the previous release (vetgraph.diff).

    The previous release is read before it is replaced. Rebuilding a release with the same version from the
    same data keeps its CHANGES.md, so that an in-place rebuild stays byte-identical."""
    from vetgraph.diff import changes_markdown, load_dump
    from vetgraph.loading import LoadError

    new_name = f"vetgraph {ctx.release.version}"
    previous = ctx.options.changes_since or ctx.target / "vetgraph.nq"
    if not previous.is_file():
        text = f"# Changes in {new_name}\n\nFirst release: there is no previous release to compare with.\n"
    else:
        old_version = _release_version(previous.parent / "catalog.ttl")
        same_data = previous.read_bytes() == (ctx.folder.root / "vetgraph.nq").read_bytes()
        kept = previous.parent / "CHANGES.md"
        if ctx.options.changes_since is None and old_version == ctx.release.version and same_data and kept.is_file():
            text = kept.read_text(encoding="utf-8")
        else:
            try:
                old = load_dump(previous)
            except LoadError as error:
                raise BuildError(f"cannot read the previous release for CHANGES.md: {error}") from None
            if old_version == ctx.release.version:
                old_name = f"the previous build of vetgraph {old_version}"
            else:
                old_name = f"vetgraph {old_version}" if old_version else f"{previous.name} of the previous release"
            text = changes_markdown(old, ctx.loaded.dataset, old_name=old_name, new_name=new_name)
    ctx.publish("CHANGES.md", text.encode("utf-8"))


def _release_version(catalog: Path) -> str | None:
    """dcat:version of a previous release, from its catalog.ttl."""
    from rdflib import Graph

    from vetgraph.catalog import DCAT_VERSION

    if not catalog.is_file():
        return None
    try:
        versions = sorted(str(v) for v in Graph().parse(catalog, format="turtle").objects(None, DCAT_VERSION))
    except Exception:  # noqa: BLE001 - an unreadable old catalogue only costs the version in a heading
        return None
    return versions[0] if versions else None


def _write_readme(ctx: _Context) -> None:
    from vetgraph.release_docs import Contents, citation, index_html, readme_text

    cite = citation(ctx.loaded.dataset, ctx.release.about)
    contents = Contents(ctx.dumps, [file.name for file in ctx.extra] + ["README.txt", "index.html", CHECKSUMS])
    ctx.folder.write("README.txt", readme_text(ctx.release, ctx.base_url, contents, cite).encode("utf-8"))
    ctx.folder.write("index.html", index_html(ctx.release, ctx.base_url, contents, cite).encode("utf-8"))


def _write_site(ctx: _Context) -> None:
    """site/: the static site over the release's data, its downloads a copy of the release files; w3id/.htaccess."""
    from vetgraph.queries import load_catalogue
    from vetgraph.server.downloads import listing_html
    from vetgraph.site import static_site, w3id_htaccess, write_site

    assert ctx.options.site is not None
    downloads = sorted(ctx.folder.files)
    site = static_site(ctx.loaded, ctx.options.site, ctx.folder.root, load_catalogue(None))
    for name in downloads:
        ctx.folder.write(f"site/download/{name}", (ctx.folder.root / name).read_bytes())
    write_site(site, lambda name, data: ctx.folder.write(f"site/{name}", data))
    sums = {name: ctx.folder.files[name].sha256 for name in downloads}
    ctx.folder.write("site/download/index.html", listing_html(site, sums).encode("utf-8"))
    ctx.folder.write("w3id/.htaccess", w3id_htaccess(ctx.options.site.site_url))


def _write_checksums(ctx: _Context) -> None:
    lines = [f"{f.sha256}  {name}\n" for name, f in sorted(ctx.folder.files.items())]
    ctx.folder.write(CHECKSUMS, "".join(lines).encode("ascii"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_target(target: Path) -> None:
    """Refuse to replace anything but a release vetgraph wrote, as it wrote it (or an empty folder): --out must
    never eat a home. A release is recognised by its marker, which holds the SHA-256 of its SHA256SUMS, and every
    file in the folder must be listed there with its checksum: a file added, changed or removed since the build
    means someone else's work is in the folder."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise BuildError(f"{target} exists and is not a folder")
    if not target.is_dir() or not any(target.iterdir()):
        return
    problem = _not_a_release(target)
    if problem:
        raise BuildError(f"{target} is not a vetgraph release as vetgraph wrote it ({problem}): not replacing it; "
                         "move it away or choose another --out")


def _not_a_release(folder: Path) -> str | None:
    """Why `folder` is not provably an untouched vetgraph release, or None when it is."""
    marker, sums = folder / MARKER, folder / CHECKSUMS
    if not marker.is_file() or marker.is_symlink():
        return f"it has no {MARKER} marker"
    try:
        identity = json.loads(marker.read_text(encoding="utf-8"))
        checksums = sums.read_bytes()
    except (OSError, ValueError) as error:
        return f"its {MARKER} or {CHECKSUMS} cannot be read: {error}"
    if not isinstance(identity, dict) or identity.get("generator") != "vetgraph" or "version" not in identity:
        return f"its {MARKER} does not name a vetgraph release"
    if identity.get("checksums") != hashlib.sha256(checksums).hexdigest():
        return f"its {CHECKSUMS} is not the one the build wrote"
    listed: dict[str, str] = {}
    for line in checksums.decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    found: set[str] = set()
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_dir() and not path.is_symlink():
            if not any(n.startswith(name + "/") for n in listed):
                return f"{name}/ is not part of it"
            continue
        if name in (MARKER, CHECKSUMS):
            continue
        if name not in listed or path.is_symlink():
            return f"{name} is not part of it"
        found.add(name)
        if _sha256_file(path) != listed[name]:
            return f"{name} was changed after the build"
    missing = sorted(set(listed) - found)
    if missing:
        return f"{missing[0]} is missing"
    return None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Marker:
    """The marker of a release folder being written. It is locked (flock) for as long as the build runs, so a
    later build can tell the temporary folder of a killed build (marker, no lock) from one still being written;
    `finish` turns it into the finished release's identity."""

    def __init__(self, folder: Path):
        self.path = folder / MARKER

    def __enter__(self) -> _Marker:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        os.write(self.fd, b'{"generator": "vetgraph", "state": "being written"}\n')
        return self

    def finish(self, version: str, checksums: bytes) -> None:
        identity = {"generator": "vetgraph", "version": version, "checksums": hashlib.sha256(checksums).hexdigest()}
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, (json.dumps(identity, indent=1) + "\n").encode("ascii"), 0)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # releases the lock


def _remove_stale_temporaries(target: Path) -> None:
    """Remove the temporary folders that earlier builds into `target` left when they were killed: only folders
    named as a build names them that hold vetgraph's marker, and whose marker no running build holds locked."""
    pattern = re.compile(re.escape(f".{target.name}.tmp-") + r"[A-Za-z0-9_]{8}")
    for path in target.parent.iterdir():
        if not pattern.fullmatch(path.name) or path.is_symlink() or not path.is_dir():
            continue
        marker = path / MARKER
        if marker.is_symlink() or not marker.is_file():
            continue  # not ours, or not provably ours: leave it
        try:
            fd = os.open(marker, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # another build is writing it right now
        finally:
            os.close(fd)
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (kill, systemd, a CI timeout) ends a build like Ctrl-C: the temporary folder is removed, the
    previous release stays, validation workers are stopped. Only in the process that set it: a forked child
    (a validation worker, which the pool stops with SIGTERM) keeps the default behaviour."""
    if not _in_main_thread():
        yield
        return
    owner = os.getpid()

    def interrupt(signum: int, frame: object) -> None:
        if os.getpid() != owner:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0


def _swap_in(new: Path, target: Path) -> None:
    """Put the new release in place; afterwards `new` holds the previous release (or nothing) to delete."""
    if not target.exists():
        os.rename(new, target)
        return
    if not _exchange(new, target):
        # Two renames: the previous release is only ever renamed, never deleted, before the new one is in place.
        previous = new.with_name(new.name + "-previous")
        os.rename(target, previous)
        os.rename(new, target)
        os.rename(previous, new)
    shutil.rmtree(new)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"release folder to (re)place (default: {DEFAULT_OUT})")
    from vetgraph.cli import web_url

    parser.add_argument("--base-url", type=web_url, default=BASE_IRI, metavar="URL",
                        help=f"public base URL of downloads and SPARQL endpoint (default: {BASE_IRI})")
    parser.add_argument("--release", type=Path, default=DEFAULT_RELEASE, metavar="FILE",
                        help=f"release settings: version, dates, dataset description (default: {DEFAULT_RELEASE})")
    parser.add_argument("--with-labels", action="store_true",
                        help="add the English labels of the linked EU vocabulary concepts to the dumps")
    parser.add_argument("--changes-since", type=Path, default=None, metavar="DUMP",
                        help="dump of the release CHANGES.md compares with (default: vetgraph.nq of the "
                             "release being replaced)")
    from vetgraph.validation import add_validation_arguments

    add_validation_arguments(parser)
    parser.add_argument("--site-url", type=web_url, default=None, metavar="URL",
                        help="also write the static linked-data site to OUT/site/ for publication at URL, and "
                             "OUT/w3id/.htaccess redirecting the w3id.org IRIs there (see docs/publication.md)")
    parser.add_argument("--endpoint", type=web_url, default=None, metavar="URL",
                        help="a live SPARQL endpoint the static site's pages link to (default: none)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines and no summary")


def run(args: argparse.Namespace) -> int:
    options = BuildOptions(
        out=args.out, base_url=args.base_url, release_file=args.release, with_labels=args.with_labels,
        changes_since=args.changes_since, jobs=args.jobs,
        validation_cache=args.cache, progress=not args.quiet,
        site=SiteOptions(args.site_url, args.endpoint) if args.site_url else None,
    )
    if args.endpoint and not args.site_url:
        from vetgraph.errors import UsageError

        raise UsageError("--endpoint is for the static site: give --site-url too")
    result = build(options)  # vetgraph.cli reports Refused (exit 1), BuildError and LoadError (exit 2)
    if not args.quiet:
        print(f"wrote {len(result.files)} files ({result.total_bytes / 1024:.0f} KiB) to {result.out}")
    return EXIT_OK

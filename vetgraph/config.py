"""Project-wide settings: where things are and which IRIs they get.

Everything that a deployment may want to change lives here, in one place: the IRI base of the data,
the folders of ontology/data/queries and the vocabulary snapshots. Each folder can be set on its own
(VETGRAPH_ONTOLOGY, VETGRAPH_DATA, VETGRAPH_QUERIES, VETGRAPH_VOCAB) or all at once with VETGRAPH_PROJECT,
a folder laid out like the checkout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: Where the data files write their IRIs, and where the vocabulary (ontology, shapes) lives for good.
CANONICAL_BASE = "https://w3id.org/vetgraph/"
ONTOLOGY_IRI = CANONICAL_BASE + "def"
VET_NS = ONTOLOGY_IRI + "#"
SHAPES_IRI = CANONICAL_BASE + "shapes"

#: The IRI base of the data's own resources (Cool URIs: /id/ for things). This is the one place to change
#: it (or set VETGRAPH_BASE_IRI): the loader then rewrites the data files' canonical IRIs onto it.
BASE_IRI = os.environ.get("VETGRAPH_BASE_IRI", CANONICAL_BASE)
ID_BASE = BASE_IRI + "id/"
#: Where the named graphs' IRIs live (the server dereferences them under /graph/).
GRAPH_BASE = BASE_IRI + "graph/"
#: Named graph that holds the statements no retrieved source states directly.
UNCONFIRMED_GRAPH = GRAPH_BASE + "unconfirmed"
#: The dataset itself (DCAT/VoID subject, default target graph when publishing to a store).
DATASET_IRI = BASE_IRI + "dataset"


#: The copy of release.toml, ontology/, queries/ and data/ that a built wheel carries (pyproject.toml).
PACKAGED_PROJECT = Path(__file__).resolve().parent / "_project"


def _project_root() -> Path:
    """Where release.toml, ontology/, queries/ and data/ are read from: VETGRAPH_PROJECT when set; else the
    checkout this package runs from (an editable install); else the working folder when it is a checkout (a
    regular install run there); else the copy shipped in the wheel, so an installed vetgraph works anywhere."""
    chosen = os.environ.get("VETGRAPH_PROJECT")
    if chosen:
        return Path(chosen).resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "ontology").is_dir():
        return checkout
    if (Path.cwd() / "ontology").is_dir():
        return Path.cwd()
    return PACKAGED_PROJECT


PROJECT_ROOT = _project_root()
#: Where dist/ is written and ../shared looked for: the project folder, or the working folder when the project
#: is the packaged copy (nothing is ever written into the installed package).
WORK_ROOT = Path.cwd() if PROJECT_ROOT == PACKAGED_PROJECT else PROJECT_ROOT
DIST_DIR = WORK_ROOT / "dist"


def _dir_from_env(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else default


@dataclass(frozen=True)
class Paths:
    """Locations of the project's inputs. Defaults are the folders of PROJECT_ROOT (see _project_root)."""

    ontology_dir: Path = field(default_factory=lambda: _dir_from_env("VETGRAPH_ONTOLOGY", PROJECT_ROOT / "ontology"))
    data_dir: Path = field(default_factory=lambda: _dir_from_env("VETGRAPH_DATA", PROJECT_ROOT / "data"))
    queries_dir: Path = field(default_factory=lambda: _dir_from_env("VETGRAPH_QUERIES", PROJECT_ROOT / "queries"))
    vocab_dir: Path = field(
        default_factory=lambda: _dir_from_env("VETGRAPH_VOCAB", WORK_ROOT.parent / "shared" / "vocab")
    )

    @property
    def ontology_file(self) -> Path:
        return self.ontology_dir / "vet.ttl"

    @property
    def shapes_file(self) -> Path:
        return self.ontology_dir / "shapes.ttl"

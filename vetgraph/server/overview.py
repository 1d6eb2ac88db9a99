"""The visual overview of the home page, as geometry for inline SVG (drawn by the templates, so every
text is escaped): an evidence map (insights x what is known about them, coloured by how well the sources
support it) and a mandate topic x insight matrix (filled from vet:addressesTopic, empty when the data
records no such link)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vetgraph.server.home import DCT, VET

if TYPE_CHECKING:
    from vetgraph.server.home import Component, HomeData
    from vetgraph.server.site import Site

#: cell state -> legend text (the CSS class of a cell is "ev-<state>")
STATES = {
    "AsPrinted": "as printed in the report",
    "SecondaryWording": "in a secondary source's wording",
    "present": "recorded",
    "Unconfirmed": "unconfirmed (no source states it directly)",
    "NotRecorded": "not yet recorded",
}
_LABEL_W, _CELL_W, _CELL_H, _HEAD_H, _GAP = 110, 118, 26, 34, 2


@dataclass
class Cell:
    x: int
    y: int
    w: int
    h: int
    state: str
    text: str
    tooltip: str


@dataclass
class Row:
    y: int
    label: str
    href: str
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Chart:
    width: int
    height: int
    columns: list[tuple[int, str]]  # (x of the column centre, heading)
    rows: list[Row]
    legend: list[tuple[str, str]]
    label_width: int = _LABEL_W
    caption: str = ""


def _state(component: Component, predicate: str) -> str:
    if not component.values.get(predicate):
        return "NotRecorded"
    return "Unconfirmed" if component.unconfirmed(predicate) else "present"


def evidence_map(site: Site, data: HomeData) -> Chart | None:
    insights = data.of_type("Insight")
    if not insights:
        return None
    headings = ["title", "viewpoint", "description", "examples", "sources"]
    rows = []
    for index, insight in enumerate(insights):
        y = _HEAD_H + index * (_CELL_H + _GAP)
        number = insight.number if insight.number < 10**6 else index + 1
        row = Row(y, f"Insight {number}", site.local(str(insight.iri)))
        title_state = _state(insight, DCT + "title")
        evidence = insight.first(str(VET.titleEvidence))
        if evidence is not None and title_state != "NotRecorded":
            key = str(evidence).rsplit("#", 1)[-1]
            title_state = key if key in STATES else title_state
        examples = len(insight.all(str(VET.example)))
        sources = len(insight.all(DCT + "source"))
        states = [
            (title_state, _SHORT[title_state]),
            (_state(insight, str(VET.viewpoint)), _SHORT[_state(insight, str(VET.viewpoint))]),
            (_state(insight, DCT + "description"), _SHORT[_state(insight, DCT + "description")]),
            ("present" if examples else "NotRecorded", str(examples)),
            ("present" if sources else "NotRecorded", str(sources)),
        ]
        for column, (state, text) in enumerate(states):
            x = _LABEL_W + column * (_CELL_W + _GAP)
            tooltip = f"Insight {number}, {headings[column]}: {STATES[state]}"
            row.cells.append(Cell(x, y, _CELL_W, _CELL_H, state, text, tooltip))
        rows.append(row)
    width = _LABEL_W + len(headings) * (_CELL_W + _GAP)
    height = _HEAD_H + len(rows) * (_CELL_H + _GAP)
    columns = [(_LABEL_W + i * (_CELL_W + _GAP) + _CELL_W // 2, h) for i, h in enumerate(headings)]
    return Chart(width, height, columns, rows, list(STATES.items()), caption=_titles_caption(data))


def _titles_caption(data: HomeData) -> str:
    """What the title column adds up to, in the completeness query's numbers (the one definition)."""
    aspects = {a.name: a for a in data.aspects}
    if "insight titles" not in aspects:
        return ""
    titles, confirmed = aspects["insight titles"], aspects["confirmed insight titles"]
    of = titles.declared if titles.declared is not None else len(data.of_type("Insight"))
    return (f"{titles.described} of {of} insights have a title, {confirmed.described} of them stated by a "
            "source (not only in the graph of unconfirmed statements)")


_SHORT = {"AsPrinted": "as printed", "SecondaryWording": "secondary wording", "present": "recorded",
          "Unconfirmed": "unconfirmed", "NotRecorded": "not recorded"}


def topic_matrix(site: Site, data: HomeData) -> Chart | None:
    """Mandate topics (rows) x insights (columns); None when no insight is linked to a topic."""
    topics = data.of_type("MandateTopic")
    insights = data.of_type("Insight")
    links = {(str(t), str(i.iri)): i.unconfirmed(str(VET.addressesTopic))
             for i in insights for t in i.all(str(VET.addressesTopic))}
    if not topics or not insights or not links:
        return None
    cell = 30
    rows = []
    for r, topic in enumerate(topics):
        y = _HEAD_H + r * (cell + _GAP)
        number = topic.number if topic.number < 10**6 else r + 1
        row = Row(y, f"Topic {number}", site.local(str(topic.iri)))
        for c, insight in enumerate(insights):
            key = (str(topic.iri), str(insight.iri))
            if key in links:
                state = "Unconfirmed" if links[key] else "present"
                x = _LABEL_W + c * (cell + _GAP)
                row.cells.append(Cell(x, y, cell, cell, state, "",
                                      f"Topic {number} is addressed by insight {insight.number} ({STATES[state]})"))
        rows.append(row)
    columns = [(_LABEL_W + c * (cell + _GAP) + cell // 2, str(i.number)) for c, i in enumerate(insights)]
    width = _LABEL_W + len(insights) * (cell + _GAP)
    return Chart(width, _HEAD_H + len(topics) * (cell + _GAP), columns, rows,
                 [("present", "addressed"), ("Unconfirmed", "addressed (unconfirmed)")])

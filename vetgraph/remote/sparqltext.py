"""Binding parameters into SPARQL text for a remote endpoint, safely and with the same meaning as locally.

Embedded, parameters are bound by the engine (Oxigraph substitutions). A remote endpoint only takes text,
so each term goes in as its exact N-Triples form (`term.n3()`, which escapes quotes, backslashes and line
breaks, so a value can never end the literal and inject syntax) inside an inline `VALUES` block placed at
the start of the top-level WHERE group. There it joins every pattern of the group before GROUP BY,
aggregates, FILTERs and OPTIONALs, as a pre-bound variable does. A trailing VALUES clause after the query
would not: it joins only after grouping and aggregation.

The WHERE group is found with the SPARQL tokenizer (`vetgraph.sparql_lexer`), which knows IRIs, strings
(all four quote forms), comments, variables and prefixed names, so a `{` or `#` inside any of them is never
mistaken for syntax.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rdflib import BNode
from rdflib.term import Identifier

from vetgraph.sparql_lexer import QUERY_FORMS, UPDATE_KEYWORDS, Token, tokens
from vetgraph.stores import QueryError


def query_form(sparql: str) -> str:
    """SELECT, CONSTRUCT, DESCRIBE or ASK; QueryError for anything else (updates included)."""
    for token in tokens(sparql):
        if token.is_word(*QUERY_FORMS):
            return token.text.upper()
        if token.is_word(*UPDATE_KEYWORDS):
            raise QueryError(f"{token.text.upper()} is an update, not a query: remote stores are only queried here")
    raise QueryError("no query form (SELECT, CONSTRUCT, DESCRIBE or ASK) found")


def _matching_brace(toks: list[Token], open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(toks)):
        if toks[index].text == "{":
            depth += 1
        elif toks[index].text == "}":
            depth -= 1
            if depth == 0:
                return index
    raise QueryError("unbalanced braces: a '{' is never closed")


def _first_group_at_paren_depth_zero(toks: list[Token], start: int) -> int | None:
    """Index of the first `{` after `start` that is not inside parentheses (e.g. `(EXISTS {...} AS ?x)`)."""
    depth = 0
    for index in range(start, len(toks)):
        text = toks[index].text
        if toks[index].kind != "punct":
            continue
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        elif text == "{" and depth == 0:
            return index
    return None


def values_block(bindings: Mapping[str, Identifier]) -> str:
    """`VALUES (?a ?b) { (<...> "...") }` with every term in its exact N-Triples form."""
    names, cells = [], []
    for name, term in bindings.items():
        if not re.fullmatch(r"[A-Za-z_\u00C0-\uFFFF][\w\u00B7]*", name):
            raise QueryError(f"parameter name {name!r} is not a SPARQL variable name")
        if isinstance(term, BNode) or not isinstance(term, Identifier):
            raise QueryError(f"parameter ?{name}: only IRIs and literals can be sent to a remote store, not {term!r}")
        names.append(f"?{name}")
        cells.append(term.n3())
    return f"VALUES ({' '.join(names)}) {{ ({' '.join(cells)}) }}"


def bind(sparql: str, bindings: Mapping[str, Identifier] | None) -> str:
    """The query with `bindings` as an inline VALUES block at the start of its top-level WHERE group."""
    if not bindings:
        return sparql
    block = values_block(bindings)
    toks = list(tokens(sparql))
    form_index = next((i for i, t in enumerate(toks) if t.is_word(*QUERY_FORMS)), None)
    if form_index is None:
        query_form(sparql)  # raises the precise error
        raise QueryError("no query form found")
    form = toks[form_index].text.upper()
    search_from = form_index + 1
    if form == "CONSTRUCT":
        after = toks[search_from] if search_from < len(toks) else None
        if after is not None and after.text == "{":
            search_from = _matching_brace(toks, search_from) + 1  # skip the template
        else:
            return _bind_construct_where(sparql, toks, search_from, block)
    group = _first_group_at_paren_depth_zero(toks, search_from)
    if group is None:
        # DESCRIBE <x> with no WHERE clause: nothing to constrain, but a bound variable must still be
        # described, so give the query a WHERE clause that binds it.
        if form == "DESCRIBE":
            insert_at = _solution_modifier_start(toks, search_from)
            return sparql[:insert_at] + f" WHERE {{ {block} }} " + sparql[insert_at:]
        raise QueryError(f"{form} query without a WHERE group")
    cut = toks[group].end
    return sparql[:cut] + f" {block} " + sparql[cut:]


def _solution_modifier_start(toks: list[Token], start: int) -> int:
    for token in toks[start:]:
        if token.is_word("ORDER", "LIMIT", "OFFSET", "VALUES"):
            return token.start
    return toks[-1].end if toks else 0


def _bind_construct_where(sparql: str, toks: list[Token], start: int, block: str) -> str:
    """`CONSTRUCT WHERE { T }` (template = pattern) becomes `CONSTRUCT { T } WHERE { VALUES ... T }`."""
    where = next((i for i in range(start, len(toks)) if toks[i].is_word("WHERE")), None)
    if where is None or where + 1 >= len(toks) or toks[where + 1].text != "{":
        raise QueryError("CONSTRUCT without a template or a WHERE group")
    close = _matching_brace(toks, where + 1)
    inner = sparql[toks[where + 1].end : toks[close].start]
    rewritten = f"{{{inner}}} WHERE {{ {block} {inner}}}"
    return sparql[: toks[where].start] + rewritten + sparql[toks[close].end :]

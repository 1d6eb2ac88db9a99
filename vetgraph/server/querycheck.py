"""A look at a SPARQL request before it runs: its form, whether it is an update, whether it calls SERVICE.

The endpoint is read-only and must not be made to fetch other hosts, so updates and SERVICE are refused.
A substring test would refuse `# no SERVICE here` or `"service"` and miss `\\u0053ERVICE` (SPARQL decodes
codepoint escapes before parsing), so the query is tokenized the way the SPARQL grammar does
(`vetgraph.sparql_lexer`): comments, strings, IRIs, variables and prefixed names are whole tokens; only the
remaining bare words are keywords.

This is the first line of defence (it gives a clear message); the query workers also cannot open sockets
(see `workers.py`), so a query that slipped past would fail rather than fetch.
"""

from __future__ import annotations

from dataclasses import dataclass

from vetgraph.sparql_lexer import PROLOGUE, QUERY_FORMS, UPDATE_KEYWORDS, keywords, leading_keyword

#: Functions whose value changes between runs: results of queries using them are never cached.
NONDETERMINISTIC = ("RAND", "NOW", "UUID", "STRUUID", "BNODE")


@dataclass(frozen=True)
class QueryInfo:
    """What the tokens of a request say about it."""

    form: str | None  # SELECT / CONSTRUCT / DESCRIBE / ASK, or None when the text does not start like a query
    update: bool  # it starts like a SPARQL Update request
    service: bool  # it contains the SERVICE keyword (federated query)
    deterministic: bool  # it uses no function whose value changes between runs


#: Lower-case substrings without which a text cannot hold SERVICE or a nondeterministic function
_RARE = ("service", *(name.lower() for name in NONDETERMINISTIC))


def inspect(text: str) -> QueryInfo:
    """Form, update-ness, SERVICE use and determinism of a SPARQL request text."""
    lowered = text.lower()
    if "\\u" in lowered or any(rare in lowered for rare in _RARE):
        words = keywords(text)
    else:  # no such keyword can be in it (nor escaped): only the leading keyword is needed
        words = keywords(text, until_not=PROLOGUE)
    first = leading_keyword(words)
    return QueryInfo(
        form=first if first in QUERY_FORMS else None,
        update=first in UPDATE_KEYWORDS,
        service="SERVICE" in words,
        deterministic=not any(w in NONDETERMINISTIC for w in words),
    )

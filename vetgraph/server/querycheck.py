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

from vetgraph.sparql_lexer import PROLOGUE, QUERY_FORMS, TOKEN, UPDATE_KEYWORDS, keywords, leading_keyword

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


#: Bare words a bounded query may use: its form, modifiers, grouping, ordering, slicing and the aggregates
#: whose values do not grow with the data (not GROUP_CONCAT); no other function, no FILTER, BIND, OPTIONAL,
#: UNION, MINUS, GRAPH, VALUES, FROM, SERVICE, HAVING or subquery.
_BOUNDED_WORDS = frozenset({
    "BASE", "PREFIX", "SELECT", "ASK", "DISTINCT", "REDUCED", "WHERE", "AS", "GROUP", "BY", "ORDER", "ASC",
    "DESC", "LIMIT", "OFFSET", "COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE"})
#: Punctuation a bounded query may use outside its pattern: the brackets of aggregates, `*` and the digits of
#: LIMIT and OFFSET
_BOUNDED_PUNCT = frozenset("()*0123456789")
_PATTERN_TERMS = frozenset({"var", "iri", "pname", "string"})
BOUNDED_LENGTH = 2000  # characters: no long list of aggregates


def bounded(text: str) -> bool:
    """Whether a query's work is bounded by the size of the data, whatever the data: a SELECT or ASK over one
    triple pattern (no property path), with at most DISTINCT, COUNT/SUM/MIN/MAX/AVG/SAMPLE, GROUP BY and
    ORDER BY on variables, LIMIT and OFFSET, and no other function. It reads each statement at most once and
    groups or sorts what it read, holding no value larger than one the data has, so on small data it ends in
    milliseconds and cannot come near a time limit. False whenever in doubt: codepoint escapes, a string,
    prefixed name or IRI after the prologue (a function call, or an operand), more than one pair of braces,
    any other word or operator."""
    if len(text) > BOUNDED_LENGTH or "\\u" in text or "\\U" in text or text.count("{") != 1 or text.count("}") != 1:
        return False
    in_pattern = after_prologue = False
    form = None
    pattern: list[str] = []
    for match in TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind in ("ws", "comment"):
            continue
        if in_pattern:
            if value == "}" and kind == "punct":
                in_pattern = False
            else:
                pattern.append(value if kind in ("punct", "word") else kind or "")
            continue
        if kind == "punct" and value == "{":
            if form is None or pattern:
                return False
            in_pattern = True
        elif kind == "word":
            word = value.upper()
            if word not in _BOUNDED_WORDS:
                return False
            if word in ("SELECT", "ASK"):
                if form is not None:
                    return False
                form, after_prologue = word, True
        elif kind in ("iri", "pname"):
            if after_prologue:
                return False
        elif kind == "punct":
            if value not in _BOUNDED_PUNCT:
                return False
        elif kind == "string":
            return False
        # variables may stand anywhere outside the pattern
    terms = pattern[:-1] if pattern[-1:] == ["."] else pattern
    return (form is not None and not in_pattern and len(terms) == 3
            and all(term in _PATTERN_TERMS or term == "a" for term in terms))

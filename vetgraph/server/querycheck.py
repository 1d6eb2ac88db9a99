"""A look at a SPARQL request before it runs: its form, whether it is an update, whether it calls SERVICE.

The endpoint is read-only and must not be made to fetch other hosts, so updates and SERVICE are refused.
A substring test would refuse `# no SERVICE here` or `"service"` and miss `\\u0053ERVICE` (SPARQL decodes
codepoint escapes before parsing), so this module tokenizes the query the way the SPARQL grammar does:
comments, strings (all four quote forms), IRIs, variables and prefixed names (with PN_LOCAL escapes such
as `ex:a\\#`) are whole tokens; only the remaining bare words are keywords.

This is the first line of defence (it gives a clear message); the query workers also cannot open sockets
(see `workers.py`), so a query that slipped past would fail rather than fetch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

# One alternation, tried left to right at each position: the first that matches wins, as in the grammar's
# longest-token lexing for these (non-overlapping) token kinds.
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
             |\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
             |'(?:[^'\\\n\r]|\\.)*'
             |"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
  | (?P<pname>(?:[^\W\d][\w.-]*)?:(?:[\w:%.-]|\\[_~.\-!$&'()*+,;=/?\#@%])*)
  | (?P<word>[^\W\d]\w*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")
#: Functions whose value changes between runs: results of queries using them are never cached.
NONDETERMINISTIC = ("RAND", "NOW", "UUID", "STRUUID", "BNODE")


@dataclass(frozen=True)
class QueryInfo:
    """What the tokens of a request say about it."""

    form: str | None  # SELECT / CONSTRUCT / DESCRIBE / ASK, or None when the text does not start like a query
    update: bool  # it starts like a SPARQL Update request
    service: bool  # it contains the SERVICE keyword (federated query)
    deterministic: bool  # it uses no function whose value changes between runs


def decode_codepoints(text: str) -> str:
    r"""Replace \uXXXX and \UXXXXXXXX as SPARQL does before parsing (an invalid code point is left as is)."""

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)

    return _CODEPOINT.sub(replace, text)


def keywords(text: str) -> list[str]:
    """The bare words of a SPARQL text, upper-cased, in order: keywords and built-in function names."""
    words = []
    for match in _TOKEN.finditer(decode_codepoints(text)):
        if match.lastgroup == "word":
            words.append(match.group().upper())
    return words


def inspect(text: str) -> QueryInfo:
    """Form, update-ness, SERVICE use and determinism of a SPARQL request text."""
    words = keywords(text)
    first = next((w for w in words if w not in ("BASE", "PREFIX")), None)
    return QueryInfo(
        form=first if first in QUERY_FORMS else None,
        update=first in UPDATE_KEYWORDS,
        service="SERVICE" in words,
        deterministic=not any(w in NONDETERMINISTIC for w in words),
    )

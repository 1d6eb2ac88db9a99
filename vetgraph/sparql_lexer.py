"""SPARQL text read the way the grammar reads it, for every place that looks into a query before an engine does:
the endpoint's refusal of updates and SERVICE (`server.querycheck`), the binding of parameters into the text
sent to a remote store (`remote.sparqltext`) and the form of a stored query (`queries.query_kind`).

Comments, strings (all four quote forms), IRIs, variables and prefixed names (with PN_LOCAL escapes such as
`ex:a\\#`) are whole tokens, so a `{`, a `#` or a keyword inside any of them is never taken for syntax; only
the remaining bare words are keywords. Standard library only: `vetgraph query --list` needs no RDF engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

# The tokens of the grammar, a named group per kind (`tokens` drops ws and comment; `keywords` and
# `querycheck.bounded` read the matches directly, for speed). One alternation, tried left to right at each
# position: the first that matches wins, as in the grammar's longest-token lexing for these (non-overlapping)
# token kinds.
TOKEN = re.compile(
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
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)

QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")
PROLOGUE = ("BASE", "PREFIX")


@dataclass(frozen=True)
class Token:
    """One token: its kind (string, iri, var, pname, word, punct), its text and where it stands in the query."""

    kind: str
    text: str
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def tokens(sparql: str) -> Iterator[Token]:
    """The significant tokens of a query text (whitespace and comments dropped), positioned in that text."""
    for match in TOKEN.finditer(sparql):
        kind = match.lastgroup or "punct"
        if kind in ("ws", "comment"):
            continue
        yield Token(kind, match.group(), match.start(), match.end())


def decode_codepoints(text: str) -> str:
    r"""Replace \uXXXX and \UXXXXXXXX as SPARQL does before parsing (an invalid code point is left as is)."""

    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group(0)

    return _CODEPOINT.sub(replace, text)


def keywords(text: str, until_not: tuple[str, ...] | None = None) -> list[str]:
    """The bare words of a SPARQL text, codepoint escapes decoded, upper-cased, in order: keywords and
    built-in function names. With `until_not`, the words up to and including the first one not in it."""
    words = []
    for match in TOKEN.finditer(decode_codepoints(text)):  # matches, not Token objects: it runs on every request
        if match.lastgroup == "word":
            word = match.group().upper()
            words.append(word)
            if until_not is not None and word not in until_not:
                break
    return words


def leading_keyword(words: list[str]) -> str | None:
    """The first keyword after the prologue (BASE, PREFIX): the query form or update operation, if any."""
    return next((w for w in words if w not in PROLOGUE), None)

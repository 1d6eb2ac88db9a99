"""Which language a page shows the labels of linked EU concepts in: `?lang=` first, then the Accept-Language
header with its q-values (RFC 9110 section 12.5.4), then English. Only the labels of linked concepts (countries,
corporate bodies, EuroVoc, ESCO) follow the reader's language, from the project's snapshot of its link
targets; the report's own text stays English, its language."""

from __future__ import annotations

#: The 24 official EU languages, each named in itself (for the language switch).
LANGUAGES: dict[str, str] = {
    "bg": "Български", "cs": "Čeština", "da": "Dansk", "de": "Deutsch", "el": "Ελληνικά", "en": "English",
    "es": "Español", "et": "Eesti", "fi": "Suomi", "fr": "Français", "ga": "Gaeilge", "hr": "Hrvatski",
    "hu": "Magyar", "it": "Italiano", "lt": "Lietuvių", "lv": "Latviešu", "mt": "Malti", "nl": "Nederlands",
    "pl": "Polski", "pt": "Português", "ro": "Română", "sk": "Slovenčina", "sl": "Slovenščina", "sv": "Svenska",
}
DEFAULT = "en"


def choose(query_lang: str | None, accept_language: str | None) -> str:
    """The page language: a known `?lang=`, else the best known language of Accept-Language, else English."""
    wanted = (query_lang or "").strip().lower().split("-")[0]
    if wanted in LANGUAGES:
        return wanted
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0  # a malformed weight counts as "not acceptable"
        primary = tag.lower().split("-")[0]
        if q > 0 and primary in LANGUAGES:
            ranked.append((-q, position, primary))
    return min(ranked)[2] if ranked else DEFAULT


def from_request(request: object) -> str:
    """The page language of a Starlette request."""
    params = getattr(request, "query_params", {})
    headers = getattr(request, "headers", {})
    return choose(params.get("lang"), headers.get("accept-language"))

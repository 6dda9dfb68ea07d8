"""The values a declaration holds: document types, strings, URLs, dates, filters, CSS selectors.

Each reader raises :class:`InvalidDeclarationError` naming the key path and what was expected.
soupsieve (CSS validation) and difflib (the "did you mean" hints) are imported on first use:
loading this package stays light.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from analysis.text import CONTROLS_BUT_LINES, UNSTORABLE
from crawler.declarations.problems import InvalidDeclarationError, KeyPath
from crawler.hosts import url_problem

TERMS_TYPES_FILE = Path(__file__).with_name("ota_terms_types.json")


@cache
def terms_types() -> dict[str, dict[str, Any]]:
    """Open Terms Archive's official document types, vendored in ``ota_terms_types.json``."""
    return json.loads(TERMS_TYPES_FILE.read_text(encoding="utf-8"))["types"]


def _type_aliases() -> dict[str, str]:
    return {alias: name for name, info in terms_types().items() for alias in info.get("aliases", ())}


def read_document_type(name: Any, path: KeyPath, *, custom_allowed: bool, hint: str = "") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidDeclarationError(path, "expected a document type name (a non-empty string)")
    refuse_controls(name, path)
    if name in terms_types() or custom_allowed:
        return name
    canonical = _type_aliases().get(name)
    if canonical:
        raise InvalidDeclarationError(path, f"{name!r} is an alias of the document type '{canonical}'; use '{canonical}'")
    close = _closest(name, list(terms_types()), n=2)
    suggestion = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise InvalidDeclarationError(
        path, f"unknown document type {name!r}: expected one of Open Terms Archive's types{suggestion}{hint}"
    )


def refuse_controls(text: str, path: KeyPath, *, shown: bool = True) -> None:
    """Refuse a control character, a bidirectional override or a lone surrogate in a declaration's string.

    Names, titles, types and URLs are ``shown`` on terminals, in mail subjects and on pages: an escape sequence
    could repaint an operator's terminal, a NUL is refused by PostgreSQL (every platform of the catalog then failed
    to sync) and a lone surrogate cannot be written as UTF-8 at all. Line breaks and tabs are left to YAML. A string
    matched against page text (a volatile template, a value to keep) may hold what the page holds, such as the
    right-to-left embeddings of a text exported from a word processor: only NUL and lone surrogates are refused.
    """
    found = (CONTROLS_BUT_LINES if shown else UNSTORABLE).search(text)
    if found:
        raise InvalidDeclarationError(path, f"holds U+{ord(found[0]):04X} at character {found.start() + 1}: a "
                                            "declaration's text may not hold control characters, bidirectional "
                                            "overrides or lone surrogates")


def _closest(word: str, candidates: Sequence[str], *, n: int, cutoff: float = 0.6) -> list[str]:
    """The candidates closest to a misspelt ``word``, best first, for a "did you mean" hint."""
    import difflib  # only a declaration with a mistake needs it (~2 ms to import)

    return difflib.get_close_matches(word, candidates, n=n, cutoff=cutoff)


def read_mapping(value: Any, path: KeyPath, what: str = "a mapping") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidDeclarationError(path, f"expected {what}, found {kind_of(value)}")
    return value


def check_keys(mapping: dict[str, Any], path: KeyPath, allowed: tuple[str, ...]) -> None:
    """Every key that is not allowed, each with the allowed key it is closest to."""
    unknown = []
    for key in mapping:
        if key not in allowed:
            close = _closest(str(key), allowed, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            unknown.append((path + (str(key),), f"unknown key{hint}; expected one of: {', '.join(allowed)}"))
    if unknown:
        raise InvalidDeclarationError.of(unknown)


def read_string(value: Any, path: KeyPath, *, shown: bool = True) -> str:
    """A non-empty string; ``shown`` (a name, a title, a URL…) holds no control character (:func:`refuse_controls`)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidDeclarationError(path, f"expected a non-empty string, found {kind_of(value)}")
    refuse_controls(value, path, shown=shown)
    return value


def read_strings(value: Any, path: KeyPath, *, shown: bool = True) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise InvalidDeclarationError(path, f"expected a list of strings, found {kind_of(value)}")
    return tuple(read_string(item, path + (index,), shown=shown) for index, item in enumerate(value))


def read_boolean(value: Any, path: KeyPath) -> bool:
    if not isinstance(value, bool):
        raise InvalidDeclarationError(path, f"expected true or false, found {kind_of(value)}")
    return value


def read_url(value: Any, path: KeyPath) -> str:
    text = read_string(value, path)
    expected = f"expected an http(s) URL, found {text!r}"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port out of range or not a number, which Scrapy cannot request
    except ValueError as exc:
        raise InvalidDeclarationError(path, f"{expected} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidDeclarationError(path, expected)
    if problem := url_problem(parts):
        raise InvalidDeclarationError(path, f"{expected}: {problem}")
    return text


def read_timestamp(value: Any, path: KeyPath) -> datetime:
    """An ISO 8601 date-time with its time zone, as an aware UTC datetime."""
    expected = "expected an ISO 8601 date-time with time zone, e.g. 2024-03-18T18:30:09Z"
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidDeclarationError(path, f"{expected}, found {value!r}") from None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidDeclarationError(path, f"{expected}, found {value!r}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-05:00 is in year 10000 in UTC, which no datetime holds
        raise InvalidDeclarationError(path, f"{expected}, found {value!r}, out of range in UTC") from None


def read_filters(value: Any, path: KeyPath) -> tuple[str, ...]:
    """Open Terms Archive filter names, kept though we cannot run its JavaScript.

    A filter given with parameters (``{"removeQueryParams": ["utm_source"]}``)
    is kept as ``removeQueryParams=["utm_source"]`` so nothing is lost.
    """
    if not isinstance(value, list):
        value = [value]
    return tuple(_filter(item, path + (index,)) for index, item in enumerate(value))


def _filter(value: Any, path: KeyPath) -> str:
    if isinstance(value, dict) and len(value) == 1:
        (name, parameters), = value.items()
        # Open Terms Archive declares them in JSON: a date YAML read is the string JSON would hold.
        declared = json.dumps(parameters, separators=(",", ":"), ensure_ascii=False, default=str)
        return f"{read_string(name, path)}={declared}"
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidDeclarationError(path, f"expected a filter name or {{name: parameters}}, found {kind_of(value)}")


def filter_declaration(text: str) -> str | dict[str, Any]:
    """The declared form of a kept filter: its name, or ``{name: parameters}``."""
    name, equals, parameters = text.partition("=")
    return {name: json.loads(parameters)} if equals else text


def kind_of(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "nothing"}
    return names.get(type(value), f"a {type(value).__name__}")


# Selectors made only of tag names, ids and classes (ASCII identifiers), `*`, combinators and commas:
# every one is valid CSS that soupsieve compiles (tests/declarations: checked on random strings), so the
# usual catalog never imports soupsieve (~0.1-0.2 CPU-s with the bs4 it loads). Others go to soupsieve.
_WS = r"[ \t\n\r\f]"
_IDENT = r"-?[A-Za-z_][A-Za-z0-9_-]*"
_COMPOUND = rf"(?:(?:[A-Za-z][A-Za-z0-9-]*|\*)(?:[#.]{_IDENT})*|(?:[#.]{_IDENT})+)"
_COMPLEX = rf"{_COMPOUND}(?:{_WS}*[>+~]{_WS}*{_COMPOUND}|{_WS}+{_COMPOUND})*"
PLAIN_SELECTOR = re.compile(rf"{_WS}*{_COMPLEX}{_WS}*(?:,{_WS}*{_COMPLEX}{_WS}*)*")


def read_css(value: Any, path: KeyPath) -> str:
    selector = read_string(value, path)
    if PLAIN_SELECTOR.fullmatch(selector):
        return selector
    import soupsieve  # here, not at the top: a catalog of plain selectors never pays for it

    try:
        # soupsieve is the engine behind BeautifulSoup's select(): what it accepts, extraction can run.
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        from crawler.extract.selection import selector_problem  # with soupsieve: only for a selector it refused

        raise InvalidDeclarationError(path, f"invalid CSS selector {selector!r}: {selector_problem(exc)}") from None
    return selector

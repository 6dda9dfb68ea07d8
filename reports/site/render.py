"""The Jinja2 environment of the site and the digest, and the filters that touch crawled text.

Crawled text is hostile. Templates are autoescaped, and the three filters
that build markup here escape every piece of crawled text themselves before
wrapping it: :func:`linkify` (links only for http(s) targets), :func:`diff_html`
(``<ins>``/``<del>``) and :func:`json_ld` (JSON whose ``<``, ``>`` and ``&``
are escaped so it can never close its ``<script>`` element).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from analysis.diff import diff_words
from reports.terminal import without_controls
from reports.wording import rating, severity_move

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

# A target, and a bare URL, may hold balanced parentheses, one level deep (".../wiki/Refund_(finance)"), as CommonMark
# allows; a ")" that closes the prose around a URL is not part of it.
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]{0,500})\]\(\s*<?((?:[^()\s>]|\([^()\s>]*\)){1,2000})>?(?:\s+\"[^\"]*\")?\s*\)")
_BARE_URL = re.compile(r"\bhttps?://(?:[^\s<>\"'()\]]|\([^\s<>\"'()]*\))+", re.IGNORECASE)
# Link text we add ourselves: visitors must see that a link leaves the site.
_LINK_ATTRS = 'rel="nofollow noopener noreferrer ugc" target="_blank"'
# Unchanged text longer than this many lines is folded to its first and last lines in diffs;
# a single unchanged line longer than twice _DIFF_CONTEXT_CHARS keeps only its two ends.
_DIFF_CONTEXT_LINES = 3
_DIFF_CONTEXT_CHARS = 160


def environment() -> Environment:
    """Autoescaping everywhere except plain-text email templates (``*.txt.j2``); in every template, each value
    printed has its control characters and bidirectional overrides shown as ``�`` (:func:`shown`)."""
    env = Environment(
        finalize=shown,
        loader=FileSystemLoader(TEMPLATES),
        autoescape=lambda name: not (name or "").endswith(".txt.j2"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        linkify=linkify, diff_html=diff_html, redline=redline, json_ld=json_ld, date=format_date,
        datetime=format_datetime, http_url=http_url, rating=rating, severity_move=severity_move,
        fname=safe_name,
    )
    return env


def shown(value: Any) -> Any:
    """A value as a template prints it: crawled text loses the escape sequences that would act on a terminal
    reading a plain-text email, and the overrides that would reorder it (markup made here stays markup)."""
    if not isinstance(value, str):
        return value
    cleaned = without_controls(value)
    if cleaned is value:
        return value
    return Markup(cleaned) if isinstance(value, Markup) else cleaned


def safe_name(name: str) -> str:
    """A file name from an id or slug: anything but letters, digits, ``.-_`` becomes ``-``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", name).lstrip(".")
    return cleaned or "-"


def http_url(url: str | None) -> str | None:
    """``url`` when its scheme is http or https, else None: nothing else may become a link."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def _anchor(url: str, label: str) -> str:
    return f'<a href="{escape(url)}" {_LINK_ATTRS}>{escape(label)}</a>'


def _linkify_bare(text: str) -> str:
    out, last = [], 0
    for match in _BARE_URL.finditer(text):
        out.append(str(escape(text[last:match.start()])))
        out.append(_anchor(match.group(0), match.group(0)))
        last = match.end()
    out.append(str(escape(text[last:])))
    return "".join(out)


def linkify(text: str | None) -> Markup:
    """Escape crawled text; Markdown links and bare URLs become anchors only when http(s).

    A ``[label](javascript:…)`` link is shown as its escaped source text, so a
    reader still sees what the policy said without anything being clickable.
    """
    if not text:
        return Markup("")
    out, last = [], 0
    for match in _MARKDOWN_LINK.finditer(text):
        out.append(_linkify_bare(text[last:match.start()]))
        label, target = match.group(1), match.group(2)
        safe = http_url(target)
        out.append(_anchor(safe, label or safe) if safe else str(escape(match.group(0))))
        last = match.end()
    out.append(_linkify_bare(text[last:]))
    return Markup("".join(out))


def _fold(text: str) -> str:
    lines = text.split("\n")
    if len(lines) <= 2 * _DIFF_CONTEXT_LINES + 1:
        if len(text) > 3 * _DIFF_CONTEXT_CHARS:
            head = text[:_DIFF_CONTEXT_CHARS].rsplit(" ", 1)[0]
            tail = text[-_DIFF_CONTEXT_CHARS:].split(" ", 1)[-1]
            return f"{head} […] {tail}"
        return text
    hidden = len(lines) - 2 * _DIFF_CONTEXT_LINES
    head, tail = lines[:_DIFF_CONTEXT_LINES], lines[-_DIFF_CONTEXT_LINES:]
    return "\n".join([*head, f"[… {hidden} unchanged lines …]", *tail])


def diff_html(ops: Sequence[tuple[int, str]] | None) -> Markup:
    """diff-match-patch operations as escaped text with ``<ins>`` and ``<del>``; long equal runs folded."""
    parts = []
    for op, text in ops or ():
        if op > 0:
            parts.append(f"<ins>{escape(text)}</ins>")
        elif op < 0:
            parts.append(f"<del>{escape(text)}</del>")
        else:
            parts.append(str(escape(_fold(text))))
    return Markup("".join(parts))


def redline(before: str | None, after: str | None) -> Markup:
    """One clause's change as a word-level redline: deleted words struck, inserted words marked."""
    return diff_html(diff_words(before or "", after or ""))


def json_ld(data: Any) -> Markup:
    """JSON for a ``<script type="application/ld+json">``: no ``<``, ``>`` or ``&`` survives raw."""
    encoded = json.dumps(data, ensure_ascii=True, sort_keys=True, indent=1)
    encoded = encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(encoded)


def format_date(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return f"{value:%B} {value.day}, {value:%Y}"


def format_datetime(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M:%S} UTC"



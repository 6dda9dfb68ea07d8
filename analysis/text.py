"""The one normalisation function and the one hash function of clausewatch.

A Version is keyed by ``sha256_text(normalize_text(extracted))``: the same text
always gives the same id, on any machine. Raw snapshots are keyed by
``sha256_bytes`` of the bytes exactly as fetched.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

_LINE_END_SPACES = (" ", "\t", "\u00a0")
_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+$", re.MULTILINE)
_BLANK_RUN = re.compile(r"\n{3,}")
# Characters that render as nothing and only ever differ between page loads or
# CMS exports; keeping them would make identical texts hash differently.
# A regex, not str.translate: translate with a dict walks every character in Python-level lookups.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Characters that must never be shown as they are: C0 and C1 controls (an escape sequence repaints a terminal, sets
# its title or clears it), the bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
# which make text read in another order than it is stored, and lone surrogates (no UTF-8: printing one fails).
# CONTROLS includes the line breaks and tab (for a one-line field); CONTROLS_BUT_LINES leaves them to a text.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
CONTROLS = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{_BIDI_CONTROLS}\\ud800-\\udfff]")
CONTROLS_BUT_LINES = re.compile(f"[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f{_BIDI_CONTROLS}\\ud800-\\udfff]")
# What no store can keep: PostgreSQL's text refuses NUL, and a lone surrogate (a PDF's broken ToUnicode map,
# pypdf decodes with surrogatepass) is no UTF-8 at all. Each becomes U+FFFD, the replacement character.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def normalize_text(text: str) -> str:
    """Unicode NFC, ``\\n`` line ends, no trailing spaces, collapsed blank lines, U+FFFD for NUL and lone
    surrogates."""
    if not _storable(text):
        text = UNSTORABLE.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Each pattern is only run when its cheap necessary condition holds: most
    # extracted texts have neither, and the regex scans cost more than the rest.
    if text.endswith(_LINE_END_SPACES) or any(space + "\n" in text for space in _LINE_END_SPACES):
        text = _TRAILING_SPACE.sub("", text)
    if "\n\n\n" in text:
        text = _BLANK_RUN.sub("\n\n", text)
    return text.strip("\n") + "\n" if text.strip() else ""


_HEADING = re.compile(r"#{1,6}[ \t]")


def is_heading(line: str) -> bool:
    """Whether a line of extracted Markdown is a heading ("## 2. Fees"; "#1 Be kind" is a paragraph's)."""
    return _HEADING.match(line) is not None


def under_headings(text: str) -> str:
    """The lines of a Markdown text that are not headings, stripped."""
    return "\n".join(line for line in text.splitlines() if not is_heading(line)).strip()


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    """``text`` cut after each full stop, question or exclamation mark that a space follows: what a short page's
    few words say, one by one."""
    return _SENTENCE_END.split(text)


def is_utf8(text: str) -> bool:
    """Whether ``text`` holds no lone surrogate (a byte that was not UTF-8, kept by ``surrogateescape``): the
    encoder's C scan is cheaper than a pattern's."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _storable(text: str) -> bool:
    """Whether ``text`` holds no NUL and no lone surrogate."""
    return is_utf8(text) and "\x00" not in text


def join_parts(texts: Sequence[str]) -> tuple[str, tuple[int, ...]]:
    """The texts of a document's pages joined in order and normalised, and where each page begins in it.

    The offsets let every clause of a combined document be traced to the page
    (and so the snapshot) it came from.
    """
    joined = normalize_text("\n\n".join(texts))
    starts: list[int] = []
    for index, text in enumerate(texts):
        start = len(normalize_text("\n\n".join(texts[:index]))) + 1 if index else 0
        first_line = normalize_text(text).split("\n", 1)[0]
        if not joined.startswith(first_line, start):  # the page's own edges were blank: find its first line
            found = joined.find(first_line, starts[-1] if starts else 0)
            start = found if found >= 0 else (starts[-1] if starts else 0)
        starts.append(min(start, len(joined)))
    return joined, tuple(starts)


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """Hex SHA-256 of a text's UTF-8 encoding (normalise it first)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

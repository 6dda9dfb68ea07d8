"""Text for a terminal: a clause change as a word-level redline.

In colour (on a terminal) deleted words are red and struck through, inserted
words green and underlined; otherwise they are marked ``[-deleted-]`` and
``{+inserted+}`` as ``git diff --word-diff=plain`` and ``wdiff`` mark them, so
a pipe or a log keeps the difference. Unchanged stretches longer than a few
dozen words are folded to their ends unless the whole text is asked for.

Crawled text is hostile: control characters (an escape sequence could repaint
the terminal, set its title or clear it) and the bidirectional overrides that
make text read in another order than it is stored are replaced before
anything is printed.
"""

from __future__ import annotations

from analysis.diff import DELETE, INSERT, diff_words
from analysis.text import CONTROLS, CONTROLS_BUT_LINES

# Characters of unchanged text kept on each side of a change when folding.
CONTEXT_CHARS = 80
_RED_STRUCK, _GREEN_UNDERLINED, _RESET = "\x1b[31;9m", "\x1b[32;4m", "\x1b[0m"


def printable(text: str) -> str:
    """``text`` on one line, its whitespace runs made one space and any other control character shown as ``�``."""
    return CONTROLS.sub("\ufffd", " ".join(text.split()))


def without_controls(text: str) -> str:
    """``text`` with its lines and tabs kept and any other control character or bidirectional override shown
    as ``�``: what may reach a terminal, a plain-text email or a page (``text`` itself when it has none)."""
    return CONTROLS_BUT_LINES.sub("\ufffd", text) if CONTROLS_BUT_LINES.search(text) else text


def redline(before: str, after: str, *, colour: bool, full: bool = False) -> str:
    """The words that changed between two texts, marked for a terminal (``colour``) or for plain text."""
    ops = diff_words(printable(before), printable(after))
    last = len(ops) - 1
    parts = []
    for index, (op, text) in enumerate(ops):
        if op == DELETE:
            parts.append(f"{_RED_STRUCK}{text}{_RESET}" if colour else f"[-{text}-]")
        elif op == INSERT:
            parts.append(f"{_GREEN_UNDERLINED}{text}{_RESET}" if colour else f"{{+{text}+}}")
        else:
            parts.append(text if full else _fold(text, keep_head=index > 0, keep_tail=index < last))
    return "".join(parts)


def _fold(text: str, *, keep_head: bool, keep_tail: bool) -> str:
    """An unchanged stretch cut to the context next to the changes it touches."""
    head = text[:CONTEXT_CHARS] if keep_head else ""
    tail = text[-CONTEXT_CHARS:] if keep_tail else ""
    if len(text) <= len(head) + len(tail) + 3:
        return text
    if keep_head and keep_tail:
        return f"{head}…{tail}"
    return f"{head}…" if keep_head else f"…{tail}"


def plain(text: str, *, full: bool = False, limit: int = 2 * CONTEXT_CHARS) -> str:
    """A clause's text alone (added or removed), on one line; cut at ``limit`` characters unless ``full``."""
    flat = printable(text)
    return flat if full or len(flat) <= limit else flat[: limit - 1] + "…"

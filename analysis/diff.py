"""Text diffs with diff-match-patch: lines first, then words inside the lines that changed.

A line-mode pass over a 30,000-word policy is fast and keeps unchanged paragraphs
whole; only the changed stretches are diffed again word by word, so the result
reads like a redline ("may" → "will") instead of a paragraph swap. Each pass is
bounded by ``DIFF_TIMEOUT`` seconds: past it diff-match-patch returns a valid but
coarser diff rather than running on, and word-level redlines stop after
``WORD_DIFF_BUDGET_CHARS`` of changed text per document.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from diff_match_patch import diff_match_patch

DELETE, EQUAL, INSERT = -1, 0, 1
Diff = tuple[tuple[int, str], ...]

# Seconds per diff_main call; a worst-case pair of long, very different texts
# then costs a few seconds instead of minutes (measured in benchmarks/change_detection.py).
DIFF_TIMEOUT = 1.0
_WORD = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
_WORD_ONLY = re.compile(r"\w+", re.UNICODE)
# A changed stretch longer than this (in characters, both sides together) is a
# rewrite, not an edit: a word redline of it is unreadable and costs seconds,
# so it stays a line-level replacement.
WORD_DIFF_MAX_CHARS = 6000
# Nor is a stretch whose two sides share fewer words than this (Dice coefficient
# over word counts): one paragraph replaced by another is clearer as a swap.
WORD_DIFF_MIN_SHARED = 0.3
# Redlines for at most this many characters per document: a page rewritten
# everywhere keeps line-level changes past it, so the cost stays bounded.
WORD_DIFF_BUDGET_CHARS = 100_000


def _engine() -> diff_match_patch:
    engine = diff_match_patch()
    engine.Diff_Timeout = DIFF_TIMEOUT
    return engine


def diff_texts(before: str, after: str) -> Diff:
    """``(op, text)`` pairs turning ``before`` into ``after``; op is -1 delete, 0 equal, 1 insert."""
    engine = _engine()
    # No semantic cleanup at line level: it would swallow a short unchanged line
    # between two edits into one big replacement. The word pass below cleans up.
    lines = _diff_units(engine, before, after, engine.diff_linesToChars)
    result: list[tuple[int, str]] = []
    budget = WORD_DIFF_BUDGET_CHARS
    for block in _blocks(lines):
        deleted, inserted = _joined(block, DELETE), _joined(block, INSERT)
        if len(block) == 1 or len(deleted) + len(inserted) > budget or not _worth_a_redline(deleted, inserted):
            result.extend(block)
        else:
            budget -= len(deleted) + len(inserted)
            result.extend(diff_words(deleted, inserted))
    return _merge(result)


def _worth_a_redline(deleted: str, inserted: str) -> bool:
    """True when two changed stretches are an edit of one another rather than a rewrite."""
    if len(deleted) + len(inserted) > WORD_DIFF_MAX_CHARS:
        return False
    before, after = Counter(_WORD_ONLY.findall(deleted)), Counter(_WORD_ONLY.findall(inserted))
    total = sum(before.values()) + sum(after.values())
    return total > 0 and 2 * sum((before & after).values()) / total >= WORD_DIFF_MIN_SHARED


def diff_words(before: str, after: str) -> Diff:
    """A word-level diff of two short texts, cleaned up for people to read."""
    engine = _engine()
    words = _diff_units(engine, before, after, _words_to_chars)
    engine.diff_cleanupSemantic(words)
    return tuple(words)


def _diff_units(engine: diff_match_patch, before: str, after: str, encode) -> list[tuple[int, str]]:
    chars_before, chars_after, units = encode(before, after)
    diffs = engine.diff_main(chars_before, chars_after, False)
    engine.diff_charsToLines(diffs, units)
    return diffs


def _words_to_chars(before: str, after: str) -> tuple[str, str, list[str]]:
    """Like ``diff_linesToChars`` but one character per word, space run or punctuation mark."""
    units: list[str] = [""]
    index: dict[str, int] = {}

    def encode(text: str) -> str:
        chars = []
        for token in _WORD.findall(text):
            if token not in index:
                index[token] = len(units)
                units.append(token)
            chars.append(chr(index[token]))
        return "".join(chars)

    return encode(before), encode(after), units


def _blocks(diffs: Iterable[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Equal runs alone, and each run of deletions/insertions between them together."""
    blocks: list[list[tuple[int, str]]] = []
    for op, text in diffs:
        if op == EQUAL or not blocks or blocks[-1][0][0] == EQUAL:
            blocks.append([(op, text)])
        else:
            blocks[-1].append((op, text))
    return blocks


def _joined(block: list[tuple[int, str]], op: int) -> str:
    return "".join(text for o, text in block if o == op)


def _merge(diffs: Iterable[tuple[int, str]]) -> Diff:
    merged: list[tuple[int, str]] = []
    for op, text in diffs:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return tuple(merged)


def render_unified(diff: Diff) -> str:
    """A compact plain-text rendering: ``[-deleted-]`` and ``{+inserted+}`` inline."""
    marks = {DELETE: "[-{}-]", INSERT: "{{+{}+}}", EQUAL: "{}"}
    return "".join(marks[op].format(text) for op, text in diff)

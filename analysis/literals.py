"""What every match of a regular expression must contain: the fragments a substring test can look for first.

The curated phrases of ``analysis.taxonomy`` are tried on every clause for every type, and a regular
expression that opens with optional words or a character class is tried at every position of the text;
a plain substring test (``"arbitrat" in text``) runs far faster in C and rules most clauses out. The
fragments are read off the expression's own parse tree, so they can never disagree with it: a sequence
requires the longest literal run it always contains, an alternation requires one fragment per branch,
a group or a repeat of at least one requires what its content requires.

Only what is certain is returned. A branch with no literal (``\\w+``, a character class), or a literal
that is not plain ASCII (whose case folding a lower-cased substring test might not follow), makes the
whole expression "no fragments": the caller then runs the expression on every text, as before.
"""

from __future__ import annotations

import re
from functools import lru_cache
from re import _constants as c  # the opcodes of the parse tree (re._parser's own names)
from re import _parser

# Shorter fragments ("as", "we") rule nothing out; an expression whose best fragment is this short gets none.
MIN_FRAGMENT = 3

Fragments = frozenset[str]


def required_fragments(pattern: str, flags: int = re.IGNORECASE) -> Fragments | None:
    """Lower-cased strings one of which every match of ``pattern`` contains (spaces in the pattern are
    literal single spaces: the caller matches them against text with runs of whitespace collapsed), or
    ``None`` when no such set can be read off the expression. The most selective of ``requirements``."""
    found = requirements(pattern, flags)
    return max(found, key=_weakest) if found else None


def requirements(pattern: str, flags: int = re.IGNORECASE) -> tuple[Fragments, ...] | None:
    """Every set of fragments a match of ``pattern`` must contain one of (all sets hold in every match),
    or ``None`` when none can be read off the expression."""
    try:
        tree = _parser.parse(pattern, flags)
    except re.error:
        return None
    found = tuple(dict.fromkeys(r for r in _sequence(list(tree)) if _weakest(r) >= MIN_FRAGMENT))
    return found or None


def satisfied(requirements: tuple[Fragments, ...], flat: str) -> bool:
    """Whether ``flat`` (lower-cased, whitespace collapsed) holds one fragment of every requirement."""
    # Plain loops: this runs for every phrase of every type on every clause, where generators cost more than
    # the substring tests themselves.
    for fragments in requirements:
        for fragment in fragments:
            if fragment in flat:
                break
        else:
            return False
    return True


@lru_cache(maxsize=64)
def flatten(text: str) -> str:
    """``text`` lower-cased with single spaces: what fragments are looked for in (computed once per text,
    however many expressions screen it)."""
    return " ".join(text.lower().split())


class Screened:
    """A regular expression searched only in texts that hold its required fragments."""

    def __init__(self, pattern: str, flags: int = re.IGNORECASE):
        self.compiled = re.compile(pattern, flags)
        self.requirements = requirements(pattern, flags) or ()

    def search(self, text: str) -> re.Match[str] | None:
        if self.requirements and not satisfied(self.requirements, flatten(text)):
            return None
        return self.compiled.search(text)


def _weakest(fragments: Fragments) -> int:
    return min(map(len, fragments))


def _sequence(items: list) -> list[Fragments]:
    """What a sequence requires: its literal runs, and what each group or repeat of at least one in it requires."""
    found: list[Fragments] = []
    run: list[str] = []
    for op, value in items:
        if op is c.LITERAL and 32 <= value < 127:
            run.append(chr(value).lower())
            continue
        if run:
            found.append(frozenset({"".join(run)}))
            run = []
        if op is c.SUBPATTERN:
            found += _sequence(list(value[-1]))
        elif op is c.BRANCH:
            found += _branches(value[1])
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and value[0] >= 1:
            found += _sequence(list(value[2]))
    if run:
        found.append(frozenset({"".join(run)}))
    return [f for f in map(_trimmed, found) if f]


def _branches(branches: list) -> list[Fragments]:
    """An alternation requires one fragment of each branch (its most selective requirement); a branch
    that requires nothing spoils it."""
    union: set[str] = set()
    for branch in branches:
        found = _sequence(list(branch))
        if not found:
            return []
        union |= max(found, key=_weakest)
    return [frozenset(union)]


def _trimmed(fragments: Fragments) -> Fragments | None:
    """Fragments without their edge spaces (a space at the edge may be any whitespace, or the text's end)."""
    trimmed = frozenset(f.strip() for f in fragments)
    return None if "" in trimmed else trimmed

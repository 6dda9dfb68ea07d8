"""What every match of a regular expression must contain: the fragments a substring test can look for first.

The curated phrases of ``analysis.taxonomy`` are tried on every clause for every type, and a regular
expression that opens with optional words or a character class is tried at every position of the text;
a plain substring test (``"arbitrat" in text``) runs far faster in C and rules most clauses out. The
fragments are read off the expression's own parse tree, so they cannot disagree with it: a sequence
requires each literal run it always contains, an alternation requires one fragment per branch, a group
or a repeat of at least one requires what its content requires.

Only what is certain is returned. A literal run ends at anything that is not a plain ASCII character
(a class, ``\\w``, a non-ASCII letter); a branch without a run of ``MIN_FRAGMENT`` characters makes the
alternation require nothing, and an expression that requires nothing gets no screen: the caller then
runs it on every text, as before. Texts are compared lower-cased (``flatten``), with the three letters
that ``re.IGNORECASE`` matches to an ASCII letter but ``str.lower`` does not (İ, ı, ſ) folded first.

The parse tree is read with the standard library's own parser (``re._parser``, private but what ``re``
compiles with since Python 3.11); a tree it cannot read gives no screen rather than an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from re import _constants as opcodes  # the parse tree's node names
from re import _parser

import ahocorasick

# Shorter fragments ("as", "we") rule nothing out; an expression whose best fragment is this short gets none.
MIN_FRAGMENT = 3

Fragments = frozenset[str]


@lru_cache(maxsize=1024)
def requirements(pattern: str, flags: int = re.IGNORECASE) -> tuple[Fragments, ...] | None:
    """Every set of fragments a match of ``pattern`` must contain one of (all sets hold in every match),
    or ``None`` when none can be read off the expression."""
    try:
        tree = _parser.parse(pattern, flags)
        found = tuple(dict.fromkeys(r for r in _sequence(list(tree)) if _weakest(r) >= MIN_FRAGMENT))
    except Exception:  # noqa: BLE001 — an unreadable tree (a future parser's shape) only costs the screen
        return None
    return found or None


def initials(pattern: str, flags: int = re.IGNORECASE) -> str | None:
    """The characters a match of ``pattern`` starts with, as written there (under ``flags`` a class of them
    matches what the expression's own first characters match), or ``None`` when they cannot all be read off:
    a class such as ``\\w`` or ``\\d``, or an expression that may match nothing."""
    try:
        found, may_be_empty = _initials(list(_parser.parse(pattern, flags)))
    except Exception:  # noqa: BLE001 — a node _initials does not read (or a future parser's shape) gives none
        return None
    return None if may_be_empty else "".join(sorted(found))


def compile_looking_ahead(pattern: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """``pattern`` compiled behind a lookahead for the characters its matches start with, when they can be read
    off: the same matches, found faster. Python's ``re`` tries a case-insensitive expression in full at every
    position of the text; the lookahead rules most positions out at their first character."""
    first = initials(pattern, flags)
    if first is not None:
        try:
            return re.compile(f"(?=[{re.escape(first)}])(?:{pattern})", flags)
        except re.error:  # a global flag such as (?s) must open the expression: it then goes without
            pass
    return re.compile(pattern, flags)


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


def holds(requirements: tuple[Fragments, ...], found: frozenset[str]) -> bool:
    """Whether ``found`` (the fragments a text holds, ``FragmentFinder.found_in``) has one fragment of every
    requirement: ``satisfied`` for a text whose fragments were all found at once."""
    for fragments in requirements:
        if fragments.isdisjoint(found):
            return False
    return True


class FragmentFinder:
    """Which of many fragments a flattened text holds, all found in one pass over it.

    The curated phrases of every type are screened on every clause: testing their ~650 fragments one substring
    test at a time was a fifth of the classifier. An Aho–Corasick automaton (pyahocorasick, in C) reports every
    occurrence of every fragment, overlapping ones included, in one pass; the answer is then what the substring
    tests would give, fragment for fragment.
    """

    def __init__(self, fragments: Iterable[str]):
        self.fragments = frozenset(fragments)
        self._automaton = ahocorasick.Automaton()
        for fragment in self.fragments:
            self._automaton.add_word(fragment, fragment)
        if self.fragments:
            self._automaton.make_automaton()
        # A clause is screened for a dozen types in a row, and its sentences in between: a few texts back suffice.
        self.found_in = lru_cache(maxsize=64)(self._found_in)

    def __reduce__(self):
        # Pickled as its fragments (the automaton and the cache are rebuilt), as the phrases were before it.
        return FragmentFinder, (sorted(self.fragments),)

    def _found_in(self, text: str) -> frozenset[str]:
        """The fragments ``text`` holds, once ``flatten``ed."""
        if not self.fragments:
            return frozenset()
        return frozenset([fragment for _end, fragment in self._automaton.iter(flatten(text))])


def fragments_of(requirements: Iterable[tuple[Fragments, ...] | None]) -> set[str]:
    """Every fragment the requirements name."""
    return {fragment for needs in requirements if needs for fragments in needs for fragment in fragments}


def common_screen(requirements: Iterable[tuple[Fragments, ...] | None]) -> tuple[str, ...] | None:
    """Fragments of which a match of any of several expressions contains one (each expression's most selective
    requirement, joined), or ``None`` when an expression has no requirement."""
    chosen: set[str] = set()
    for needs in requirements:
        if not needs:
            return None
        chosen |= max(needs, key=lambda fragments: (_weakest(fragments), -len(fragments)))
    # A fragment that holds another one is found only where that one is.
    return tuple(sorted(f for f in chosen if not any(other != f and other in f for other in chosen)))


# Letters ``re.IGNORECASE`` matches to an ASCII letter that ``str.lower`` maps elsewhere ("İ" → "i̇").
_ODD_FOLDS = (("İ", "i"), ("ı", "i"), ("ſ", "s"))


@lru_cache(maxsize=1024)
def flatten(text: str) -> str:
    """``text`` lower-cased with single spaces: what fragments are looked for in (computed once per text,
    however many expressions screen it: the model's gate screens a document's clauses and sentences before the
    curated phrases screen its clauses, so the cache holds a long document's ~300 texts)."""
    for letter, ascii_letter in _ODD_FOLDS:
        if letter in text:
            text = text.replace(letter, ascii_letter)
    return " ".join(text.lower().split())


class Screened:
    """A regular expression searched only in texts that hold its required fragments."""

    def __init__(self, pattern: str, flags: int = re.IGNORECASE):
        self.compiled = compile_looking_ahead(pattern, flags)
        self.requirements = requirements(pattern, flags) or ()

    def search(self, text: str) -> re.Match[str] | None:
        if self.requirements and not satisfied(self.requirements, flatten(text)):
            return None
        return self.compiled.search(text)


def _initials(items: list) -> tuple[set[str], bool]:
    """The first characters of a sequence's matches, and whether it may match nothing (zero-width assertions
    are passed over: what follows them starts the match)."""
    found: set[str] = set()
    for op, value in items:
        if op is opcodes.LITERAL:
            return found | {chr(value)}, False
        if op is opcodes.IN:
            if any(kind is not opcodes.LITERAL for kind, _ in value):
                raise ValueError(f"a class of more than literals: {value}")
            return found | {chr(char) for _, char in value}, False
        if op in (opcodes.AT, opcodes.ASSERT, opcodes.ASSERT_NOT):
            continue
        if op is opcodes.SUBPATTERN:
            first, may_be_empty = _initials(list(value[-1]))
        elif op is opcodes.BRANCH:
            branches = [_initials(list(branch)) for branch in value[1]]
            first, may_be_empty = set().union(*(f for f, _ in branches)), any(e for _, e in branches)
        elif op in (opcodes.MAX_REPEAT, opcodes.MIN_REPEAT, opcodes.POSSESSIVE_REPEAT):
            first, may_be_empty = _initials(list(value[2]))
            may_be_empty = may_be_empty or value[0] == 0
        else:
            raise ValueError(f"a first node not read: {op}")
        found |= first
        if not may_be_empty:
            return found, False
    return found, True


def _weakest(fragments: Fragments) -> int:
    return min(map(len, fragments))


def _sequence(items: list) -> list[Fragments]:
    """What a sequence requires: its literal runs, and what each group or repeat of at least one in it requires."""
    found: list[Fragments] = []
    run: list[str] = []
    for op, value in items:
        if op is opcodes.LITERAL and 32 <= value < 127:
            run.append(chr(value).lower())
            continue
        if run:
            found.append(frozenset({"".join(run)}))
            run = []
        if op is opcodes.SUBPATTERN:
            found += _sequence(list(value[-1]))
        elif op is opcodes.BRANCH:
            found += _branches(value[1])
        elif op in (opcodes.MAX_REPEAT, opcodes.MIN_REPEAT, opcodes.POSSESSIVE_REPEAT) and value[0] >= 1:
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

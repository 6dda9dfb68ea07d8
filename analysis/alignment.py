"""What changed between two consecutive versions of a document (SPEC §6).

``build_change`` does three things:

1. **Aligns clauses.** Each clause is compared in its *comparable form*:
   numbering, link targets, the page's own dates, case, punctuation and
   whitespace stripped (``NORMALISERS`` below).
   Equal forms pair first (hash match); the rest pair by word-sequence
   similarity above ``MATCH_THRESHOLD``, greedily from the best pair down.
   A paired clause keeps its clause key, so renumbered, moved and reworded
   clauses stay the same provision over time.
2. **Lists clause changes.** Unpaired old clauses are ``removed``, unpaired new
   ones ``added``, pairs whose forms differ ``modified`` (with their
   similarity), and equal pairs out of order relative to their neighbours
   (outside the longest run kept in order) ``moved``.
3. **Judges the change.** When the whole texts have the same comparable form
   the change is ``cosmetic`` (its reason names what differed) and lists no
   clause change; so is a change that leaves every clause as it was (reason
   ``outside clauses``: a heading or link list the splitter leaves out).
   Otherwise it is substantive. A reworded clause names the stated facts that
   moved (``analysis/fact_changes.py``: "liability cap: US$100 → US$50"). The change has
   ``severity_raised`` when a clause's severity went up, a high-severity clause
   was added, or a fact moved against the user.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from analysis import dates, splitter
from analysis.diff import diff_texts
from analysis.domain import (
    Change,
    Classification,
    ClassifiedClause,
    Clause,
    ClauseChange,
    StoredVersion,
)
from analysis.fact_changes import fact_changes
from analysis.literals import compile_looking_ahead

# Below this word-sequence similarity two clauses are different clauses (one removed,
# one added) rather than one reworded clause; 0.5 keeps "may suspend" → "may suspend or
# terminate without notice" paired and two different boilerplate sentences apart.
MATCH_THRESHOLD = 0.5
# Similarity is only computed for the few best candidates of each clause (by shared
# rare words), which keeps a full rewrite of a 1,000-clause policy near-linear.
CANDIDATES_PER_CLAUSE = 8
# Between two pairs that agree on order, a clause in the same slot of both versions
# is probably the same clause heavily reworded: a lower bar applies there.
GAP_THRESHOLD = 0.3
# Gaps are compared all against all, so only small ones (a full rewrite is no gap).
MAX_GAP_COMPARISONS = 64
_COMMON_WORD_SHARE = 0.2
OUTSIDE_CLAUSES = "outside clauses"

# --- Comparable forms ------------------------------------------------------------

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL_START = r"(?:https?://|www\.|mailto:)"
_BARE_URL = compile_looking_ahead(rf"<?\b{_URL_START}[^\s<>)\]]+>?", re.IGNORECASE)
# Necessary conditions of the patterns below, each a fast scan; the patterns themselves try
# every position of the text, and most clauses hold no URL, no number and no counter.
_MAY_HOLD_URL = compile_looking_ahead(_URL_START, re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_LEADING_NUMBER = re.compile(
    r"^[ \t>#*_-]*(?:(?:section|article|clause|chapter|part|art\.|§)\s*)?"
    r"(?:\d+(?:\.\d+)+\.?|\d+[.)]|[ivxlcdm]+\.|\(?[a-z0-9]{1,3}\)|[a-z]\.)[*_]*(?=\s)",
    re.IGNORECASE | re.MULTILINE,
)
_REFERENCE_NUMBER = compile_looking_ahead(r"\b(section|article|clause|chapter|part|§)\s*\d+(?:\.\d+)*"
                                          r"(?:\s*\([a-z0-9]+\))*", re.IGNORECASE)
_FURNITURE = re.compile(
    r"^[ \t>#*_-]*(?:©.*|copyright\s+(?:©\s*)?\d{4}.*|all rights reserved\.?|back to top|skip to (?:main )?content"
    r"|print(?: this page)?|table of contents|was this (?:page|article) helpful\??.*|cookie (?:settings|preferences)"
    # A table-of-contents entry: nothing but a link to an anchor ("#section") of a page.
    r"|(?:\d+\.|[-*+])?\s*\[[^\]\n]*\]\([^)\s#]*#[^)\s]*\))"
    r"[ \t*_]*$",
    re.IGNORECASE | re.MULTILINE,
)
# Punctuation with the spaces around it becomes one space, so "Ireland, and" and
# "Ireland and" differ by punctuation alone, not by whitespace too. The lookahead changes
# no match (one starts at a space or a punctuation mark): it spares the rest of the
# pattern at every letter of a long text.
_PUNCTUATION = re.compile(r"(?=[\W_])\s*(?:[^\w\s]|_)+\s*")


# Counters a page shows about itself ("Views: 2.1M"), which change on every visit.
_COUNTER = compile_looking_ahead(r"\b(?:views|likes|shares|followers|comments)\s*:\s*[\d.,]+\s*[kmb]?",
                                 re.IGNORECASE)
_COLON_NUMBER = re.compile(r":\s*[\d.,]")  # in every counter; found by a fast scan from its ":"


def _without_furniture(text: str) -> str:
    text = _FURNITURE.sub(" ", text)
    return _COUNTER.sub(" ", text) if _COLON_NUMBER.search(text) else text


def _without_entities(text: str) -> str:
    # "&amp;" where "&" stood, "&nbsp;" for a space: the same text, escaped once more or less.
    return html.unescape(text).replace("\u00a0", " ")


def _without_dates(text: str) -> str:
    spans = dates.stated_date_spans(text)
    for start, end in reversed(spans):
        text = text[:start] + " " + text[end:]
    return text


def _without_links(text: str) -> str:
    if "](" in text:
        text = _MD_LINK.sub(r"\1", text)
    return _BARE_URL.sub(" ", text) if _MAY_HOLD_URL.search(text) else text


def _without_numbering(text: str) -> str:
    text = _LEADING_NUMBER.sub(" ", text)
    return _REFERENCE_NUMBER.sub(r"\1 #", text) if _DIGIT.search(text) else text


# Applied in this order; each name is what a cosmetic change "consisted of".
NORMALISERS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("markup entities", _without_entities),
    ("page dates", _without_dates),
    ("furniture", _without_furniture),
    ("link targets", _without_links),
    ("numbering", _without_numbering),
    ("punctuation", lambda text: _PUNCTUATION.sub(" ", text).lower()),
    # str.split and re's \s agree on what is whitespace; the split is the faster.
    ("whitespace", lambda text: " ".join(text.split())),
)


def comparable_form(text: str, skip: str | None = None) -> str:
    """``text`` with everything cosmetic removed (all normalisers except ``skip``)."""
    for name, normalise in NORMALISERS:
        if name != skip:
            text = normalise(text)
    return text


def comparison_key(form: str) -> str:
    """A comparable form without its spaces: "ThisArbitration" is "This Arbitration" mis-spaced, no new word."""
    return form.replace(" ", "")


def _key(text: str, skip: str | None = None) -> str:
    form = comparable_form(text, skip)
    return form if skip == "whitespace" else comparison_key(form)


# A line that is an item of a markdown list ("- ", "* ", "3. "), and its marker.
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+", re.MULTILINE)
LIST_ORDER = "list order"


def _lists_in_order(text: str) -> str:
    """``text`` with the items of each list (a run of consecutive item lines) sorted, their markers dropped."""
    lines, run, out = text.split("\n"), [], []
    for line in [*lines, ""]:
        if _LIST_ITEM.match(line):
            run.append(_LIST_ITEM.sub("", line))
            continue
        out.extend(sorted(run))
        run = []
        out.append(line)
    return "\n".join(out[:-1])


def cosmetic_reason(before: str, after: str) -> str | None:
    """What alone tells ``before`` from ``after`` (``"numbering, whitespace"``), or None if substantive. Items of a
    list served in another order (a processors list shuffled on every load) are ``"list order"``."""
    if _key(before) != _key(after):
        if before.count("\n") == after.count("\n") and _LIST_ITEM.search(before) is not None \
                and _lists_in_order(before) == _lists_in_order(after):  # string work only: no normaliser runs
            return LIST_ORDER
        return None
    needed = [name for name, _ in NORMALISERS if _key(before, name) != _key(after, name)]
    return ", ".join(needed) or "whitespace"


# --- Alignment ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    """The clauses of one version with their comparable forms and words."""

    forms: tuple[str, ...]
    keys: tuple[str, ...]
    words: tuple[tuple[str, ...], ...]
    headings: tuple[str, ...]
    texts: tuple[str, ...]

    @classmethod
    def of(cls, clauses: Sequence[ClassifiedClause], known: dict[str, str] | None = None) -> _Side:
        """The side of ``clauses``; ``known`` holds comparable forms by text, and gets this side's: two versions
        share most of their clauses and headings, whose forms are then computed once."""
        known = {} if known is None else known
        forms = tuple(_form(c.clause.text, known) for c in clauses)
        # Once per heading path: the clauses of a section share theirs.
        paths = {c.clause.heading_path for c in clauses}
        heading_keys = {path: comparison_key(_form("\n".join(path), known)) for path in paths}
        headings = tuple(heading_keys[c.clause.heading_path] for c in clauses)
        return cls(forms, tuple(map(comparison_key, forms)), tuple(tuple(form.split()) for form in forms), headings,
                   tuple(c.clause.text for c in clauses))


def _form(text: str, known: dict[str, str]) -> str:
    form = known.get(text)
    if form is None:
        form = known[text] = comparable_form(text)
    return form


def align(old: Sequence[ClassifiedClause], new: Sequence[ClassifiedClause]) -> dict[int, tuple[int, float]]:
    """Pairs ``{new index: (old index, similarity)}``: equal forms first, then the most similar."""
    known: dict[str, str] = {}
    return _align(_Side.of(old, known), _Side.of(new, known))


def _align(before: _Side, after: _Side) -> dict[int, tuple[int, float]]:
    pairs = _exact_pairs(before, after)
    pairs.update(_similar_pairs(before, after, set(pairs), {o for o, _ in pairs.values()}))
    pairs.update(_gap_pairs(before, after, pairs))
    return pairs


def _exact_pairs(before: _Side, after: _Side) -> dict[int, tuple[int, float]]:
    waiting: dict[str, list[int]] = defaultdict(list)
    for index, form in enumerate(before.keys):
        waiting[form].append(index)
    pairs: dict[int, tuple[int, float]] = {}
    for index, form in enumerate(after.keys):
        candidates = waiting.get(form)
        if candidates:
            # Of clauses alike but for numbering or dates, the one with the very same text
            # keeps its key (re-analysing a version keeps every key); a sentence repeated in
            # several sections pairs with its copy under the same heading, else with the
            # first copy left in document order.
            same_text = [i for i in candidates if before.texts[i] == after.texts[index]]
            same_heading = [i for i in same_text or candidates if before.headings[i] == after.headings[index]]
            chosen = (same_heading or same_text or candidates)[0]
            candidates.remove(chosen)
            pairs[index] = (chosen, 1.0)
    return pairs


def _similar_pairs(
    before: _Side, after: _Side, taken_new: set[int], taken_old: set[int]
) -> dict[int, tuple[int, float]]:
    old_left = [i for i in range(len(before.forms)) if i not in taken_old]
    new_left = [j for j in range(len(after.forms)) if j not in taken_new]
    scored = []
    for j, candidates in _candidates(before, after, old_left, new_left).items():
        for i in candidates:
            distance = abs(i / max(len(before.forms), 1) - j / max(len(after.forms), 1))
            scored.append((-_similarity(before.words[i], after.words[j]), distance, j, i))
    return _greedy(scored, MATCH_THRESHOLD)


def _gap_pairs(before: _Side, after: _Side, pairs: dict[int, tuple[int, float]]) -> dict[int, tuple[int, float]]:
    """Pairs of unpaired clauses lying in the same gap between two in-order pairs."""
    anchors = [(-1, -1)] + sorted((j, i) for j, (i, _) in pairs.items()) + [(len(after.forms), len(before.forms))]
    found: dict[int, tuple[int, float]] = {}
    for (j1, i1), (j2, i2) in zip(anchors, anchors[1:]):
        if j2 - j1 > 1 and i2 - i1 > 1 and (j2 - j1 - 1) * (i2 - i1 - 1) <= MAX_GAP_COMPARISONS:
            scored = [
                (-_similarity(before.words[i], after.words[j]), j, i)
                for j in range(j1 + 1, j2) for i in range(i1 + 1, i2)
            ]
            found.update(_greedy(scored, GAP_THRESHOLD))
    return found


def _similarity(a: Sequence[str], b: Sequence[str]) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _greedy(scored: list[tuple], threshold: float) -> dict[int, tuple[int, float]]:
    """Best-first one-to-one assignment of ``(-score, ..., new, old)`` tuples at or above ``threshold``."""
    pairs: dict[int, tuple[int, float]] = {}
    used_old: set[int] = set()
    for item in sorted(scored):
        score, j, i = -item[0], item[-2], item[-1]
        if score >= threshold and j not in pairs and i not in used_old:
            pairs[j] = (i, round(score, 3))
            used_old.add(i)
    return pairs


def _candidates(before: _Side, after: _Side, old_left: list[int], new_left: list[int]) -> dict[int, list[int]]:
    """For each unpaired new clause, the unpaired old clauses sharing the most rare words with it."""
    index: dict[str, list[int]] = defaultdict(list)
    for i in old_left:
        for word in set(before.words[i]):
            index[word].append(i)
    common = max(3, int(len(old_left) * _COMMON_WORD_SHARE))
    result: dict[int, list[int]] = {}
    for j in new_left:
        shared: Counter[int] = Counter()
        for word in set(after.words[j]):
            if len(index.get(word, ())) <= common:
                shared.update(index.get(word, ()))
        if not shared and len(old_left) <= common:
            shared.update(dict.fromkeys(old_left, 0))  # short texts of common words only
        result[j] = [i for i, _ in shared.most_common(CANDIDATES_PER_CLAUSE)]
    return result


def out_of_order(pairs: dict[int, tuple[int, float]]) -> set[int]:
    """New indices whose pair is outside the longest run of pairs kept in the same order."""
    order = sorted(pairs)
    olds = [pairs[j][0] for j in order]
    kept = _longest_increasing(olds)
    return {order[k] for k in range(len(order)) if k not in kept}


def _longest_increasing(values: list[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence of ``values``."""
    tails: list[int] = []
    tail_positions: list[int] = []
    parent = [-1] * len(values)
    for position, value in enumerate(values):
        slot = bisect.bisect_left(tails, value)
        if slot == len(tails):
            tails.append(value)
            tail_positions.append(position)
        else:
            tails[slot] = value
            tail_positions[slot] = position
        parent[position] = tail_positions[slot - 1] if slot else -1
    kept: set[int] = set()
    position = tail_positions[-1] if tail_positions else -1
    while position != -1:
        kept.add(position)
        position = parent[position]
    return kept


# --- Keys and the change list --------------------------------------------------------


def carry_keys(
    old: Sequence[ClassifiedClause], new: Sequence[ClassifiedClause], pairs: dict[int, tuple[int, float]]
) -> tuple[ClassifiedClause, ...]:
    """The new clauses with the keys of the old clauses they pair with; fresh keys stay unique."""
    used = {item.clause.key for item in old}
    result = []
    for j, item in enumerate(new):
        if j in pairs:
            key = old[pairs[j][0]].clause.key
        else:
            key = _fresh_key(item, used)
        used.add(key)
        result.append(ClassifiedClause(_with_key(item, key), item.classification))
    return tuple(result)


def _fresh_key(item: ClassifiedClause, used: set[str]) -> str:
    key = item.clause.key or "k" + item.clause.sha256[:12]
    salt = 0
    while key in used:
        salt += 1
        key = "k" + hashlib.sha256(f"{item.clause.sha256}:{salt}".encode()).hexdigest()[:12]
    return key


def _with_key(item: ClassifiedClause, key: str) -> Clause:
    return replace(item.clause, key=key)


def _severity(classification: Classification) -> str | None:
    # A clause of no type is not a provision: its default severity means nothing.
    return classification.severity if classification.types else None


def clause_changes(
    old: Sequence[ClassifiedClause],
    new: Sequence[ClassifiedClause],
    pairs: dict[int, tuple[int, float]],
    keys: tuple[Sequence[str], Sequence[str]] | None = None,
) -> tuple[ClauseChange, ...]:
    """Added, removed, modified and moved clauses, in the order of the new document.

    ``keys`` are the comparison keys of ``old`` and ``new`` when already known.
    """
    old_keys, new_keys = keys or (_Side.of(old).keys, _Side.of(new).keys)
    moved = out_of_order(pairs)
    placed: list[tuple[float, int, ClauseChange]] = []
    for j, item in enumerate(new):
        if j in pairs:
            i, similarity = pairs[j]
            change = _paired_change(old[i], item, similarity, same=old_keys[i] == new_keys[j], moved=j in moved)
        else:
            change = _added(item) if new_keys[j] else None  # punctuation or furniture only
        if change is not None:
            placed.append((j, 0, change))
    new_of_old = {i: j for j, (i, _) in pairs.items()}
    anchor = -0.5
    for i, item in enumerate(old):
        if i in new_of_old:
            anchor = max(anchor, new_of_old[i] + 0.5)
        elif old_keys[i]:  # a clause of the page's own date or furniture goes unmentioned
            placed.append((anchor, i, _removed(item)))
    return tuple(change for _, _, change in sorted(placed, key=lambda p: (p[0], p[1])))


def _paired_change(
    previous: ClassifiedClause, item: ClassifiedClause, similarity: float, *, same: bool, moved: bool
) -> ClauseChange | None:
    if same and not moved:
        return None
    types = (*previous.classification.types, *item.classification.types)
    return ClauseChange(
        kind="moved" if same else "modified",
        clause_key=previous.clause.key,
        heading_path=item.clause.heading_path,
        before=previous.clause.text,
        after=item.clause.text,
        severity_before=_severity(previous.classification),
        severity_after=_severity(item.classification),
        similarity=similarity,
        facts=() if same else fact_changes(previous.clause.text, item.clause.text, types),
    )


def _added(item: ClassifiedClause) -> ClauseChange:
    return ClauseChange("added", item.clause.key, item.clause.heading_path, None, item.clause.text,
                        None, _severity(item.classification))


def _removed(item: ClassifiedClause) -> ClauseChange:
    return ClauseChange("removed", item.clause.key, item.clause.heading_path, item.clause.text, None,
                        _severity(item.classification), None)


# --- The entry point ---------------------------------------------------------------


def _previous_clauses(previous: StoredVersion) -> tuple[ClassifiedClause, ...]:
    if previous.clauses or not previous.text.strip():
        return previous.clauses
    # A version stored without analysis: split it so its clauses can still be compared.
    unclassified = Classification(types=())
    return tuple(ClassifiedClause(c, unclassified) for c in splitter.split_clauses(previous.text))


def build_change(
    previous: StoredVersion | None, text: str, to_version: str, clauses: Sequence[ClassifiedClause]
) -> tuple[tuple[ClassifiedClause, ...], Change | None]:
    """Carry clause keys over from ``previous`` and describe what changed.

    Returns the new version's clauses (keys aligned with the previous version)
    and the change, or ``None`` for a document's first version.
    """
    if previous is None:
        return carry_keys((), clauses, {}), None
    old = _previous_clauses(previous)
    known: dict[str, str] = {}
    before, after = _Side.of(old, known), _Side.of(clauses, known)
    pairs = _align(before, after)
    aligned = carry_keys(old, clauses, pairs)
    diff = diff_texts(previous.text, text)
    reason = cosmetic_reason(previous.text, text)
    if reason is not None:
        return aligned, Change(previous.version.sha256, to_version, substantive=False, cosmetic_reason=reason,
                               diff=diff)
    listed = clause_changes(old, aligned, pairs, (before.keys, after.keys))
    if not listed:
        # Every clause is as it was: what changed lies outside them (headings, link lists
        # the splitter leaves out), which is no change to any provision.
        return aligned, Change(previous.version.sha256, to_version, substantive=False,
                               cosmetic_reason=OUTSIDE_CLAUSES, diff=diff)
    return aligned, Change(
        from_version=previous.version.sha256,
        to_version=to_version,
        clause_changes=listed,
        substantive=True,
        severity_raised=any(c.raises_severity for c in listed),
        diff=diff,
    )


# --- Re-analysis ---------------------------------------------------------------------


def reclassified(
    old: Sequence[ClassifiedClause], new: Sequence[ClassifiedClause]
) -> tuple[ClauseChange, ...]:
    """Clauses of one version whose types or severity a new analysis changed, as ``modified`` clause changes.

    The text is the same on both sides (``before`` = ``after``); only what the
    analysis says about it moved. Clauses are matched by key, which re-analysis keeps.
    """
    previous = {item.clause.key: item.classification for item in old}
    found = []
    for item in new:
        before = previous.get(item.clause.key)
        if before is None:
            continue
        after = item.classification
        if set(before.types) != set(after.types) or _severity(before) != _severity(after):
            found.append(ClauseChange("modified", item.clause.key, item.clause.heading_path, item.clause.text,
                                      item.clause.text, _severity(before), _severity(after), 1.0))
    return tuple(found)


def refreshed(
    change: ClauseChange,
    before: Classification | None,
    after: Classification | None,
) -> ClauseChange:
    """A stored clause change with the severities and moved facts of the clauses' current analyses.

    ``before`` and ``after`` are the analyses, now, of the clause on each side
    (None where the clause is absent: the side an added or removed clause lacks).
    """
    severity_before = _severity(before) if before is not None and change.kind != "added" else None
    severity_after = _severity(after) if after is not None and change.kind != "removed" else None
    facts = change.facts
    if change.kind == "modified" and change.before is not None and change.after is not None:
        types = (*(before.types if before else ()), *(after.types if after else ()))
        facts = fact_changes(change.before, change.after, types)
    return replace(change, severity_before=severity_before, severity_after=severity_after, facts=facts)

"""Which stated facts moved when a clause was reworded, and whether against the user.

A reworded clause is read twice with the extractors of ``explain_facts`` (the
same ones the record pages use): amounts, notice periods, time limits for
claims, retention periods, minimum ages, opt-out windows, courts, governing law,
arbitration providers and data named. Each fact kind that reads differently
before and after gives one :class:`~analysis.domain.FactChange`:
``liability cap: US$100 → US$50``.

Direction (docs/decisions/0010-language-and-facts.md): a fact kind says which
way is worse for the user — a lower liability cap, a shorter notice period, a
shorter time limit for claims, a shorter opt-out window, a lower minimum age, a
longer retention, a higher price, more data named. A notice or an opt-out window
that disappears is against the user too. Courts, law and arbitration providers
move without a direction. Values are compared by what they measure ("thirty
(30) days" is "30 days"; "$100" is "US$100"), never across currencies or when
one side states no number; then no direction is claimed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from analysis.domain import FactChange
from analysis.explain_facts import EXTRACTORS

Measure = tuple[str, float]  # (unit, amount): ("days", 30.0), ("USD", 100.0)

_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "eighteen": 18, "twenty": 20,
    "twenty-four": 24, "thirty": 30, "forty-five": 45, "sixty": 60, "ninety": 90, "a hundred and eighty": 180,
    "hundred": 100,
}
_DAYS = {"hour": 1 / 24, "day": 1, "business day": 7 / 5, "working day": 7 / 5, "calendar day": 1, "week": 7,
         "month": 30, "year": 365}
_DURATION = re.compile(
    r"(?P<n>\d{1,4}|" + "|".join(sorted((re.escape(w) for w in _WORDS), key=len, reverse=True)) + r")"
    r"(?:\s*\((?P<digits>\d{1,4})\))?[\s-]+(?P<unit>(?:business |working |calendar )?(?:hour|day|week|month|year))s?\b",
    re.IGNORECASE,
)
_FOREVER = re.compile(r"\b(?:indefinitely|permanently|forever)\b", re.IGNORECASE)
_CURRENCIES = {"us$": "USD", "usd": "USD", "$": "USD", "dollars": "USD", "€": "EUR", "eur": "EUR", "£": "GBP",
               "gbp": "GBP", "rmb": "CNY", "¥": "CNY"}
_MONEY = re.compile(r"(?P<pre>US\s?\$|USD|\$|€|£|EUR|GBP|RMB|¥)?\s?(?P<amount>\d[\d,]*(?:\.\d+)?)\s?(?P<post>USD|EUR|GBP|dollars)?",
                    re.IGNORECASE)
_AGE_CONTEXT = re.compile(r"\bage\b|\byears? old\b|\bminors?\b|\bchild|\bteen|\bparent", re.IGNORECASE)
# Data whose new mention is against the user; others ("name", "email address") are named without a
# direction: measured on 200 real rewordings (benchmarks/fact_changes.py), "more data named" alone was
# mostly re-listing, re-alignment or rights clauses that name data, not more collection.
_SENSITIVE_DATA = frozenset({"biometric data", "health information", "government ID", "location", "voice and audio",
                             "contacts", "messages", "browsing activity", "prompts and inputs"})
_DATA_TYPES = frozenset({"data_collection", "data_sharing", "ai_training_use", "tracking", "data_retention"})
# "the laws of the United States" in an export-control clause is no choice of law: courts, law and
# arbitration are read only in clauses of the types that choose them.
_DISPUTE_TYPES = frozenset({"governing_law", "jurisdiction", "arbitration", "class_action_waiver"})


def duration(value: str) -> Measure | None:
    """``thirty (30) days`` → ("days", 30.0); ``indefinitely`` → ("days", inf); None when no period is stated."""
    if _FOREVER.search(value):
        return ("days", math.inf)
    match = _DURATION.search(value)
    if match is None:
        return None
    count = int(match["digits"]) if match["digits"] else (
        int(match["n"]) if match["n"].isdigit() else _WORDS[match["n"].lower()])
    unit = " ".join(match["unit"].lower().split())
    return ("days", count * _DAYS.get(unit, _DAYS[unit.split()[-1]]))


def money(value: str) -> Measure | None:
    """``US$100`` / ``$100`` / ``100 USD`` → ("USD", 100.0); None without both a currency and a number."""
    for match in _MONEY.finditer(value):
        currency = (match["pre"] or match["post"] or "").lower().replace(" ", "")
        if currency in _CURRENCIES:
            return (_CURRENCIES[currency], float(match["amount"].replace(",", "")))
    return None


def age(value: str) -> Measure | None:
    match = re.match(r"(\d{1,2}) years", value)
    return ("years", float(match[1])) if match else None


@dataclass(frozen=True)
class FactKind:
    """One fact compared across a rewording, and which way is worse for the user."""

    name: str
    label: str
    extractor: str  # a name in explain_facts.EXTRACTORS
    measure: Callable[[str], Measure | None] | None = None
    worse: str | None = None  # "lower" or "higher": which move is against the user
    against_when_removed: bool | None = None
    against_when_added: bool | None = None
    types: frozenset[str] | None = None  # only in clauses of these types (None: any)
    # For listed facts (data named): only these values, when added, count against the user.
    against_when_these_added: frozenset[str] | None = None
    context: re.Pattern[str] | None = None  # only when the clause says this (None: always)

    def applies(self, types: frozenset[str], texts: Iterable[str]) -> bool:
        if self.types is not None and not (types & self.types):
            return False
        return self.context is None or any(self.context.search(text) for text in texts)


def _notice_label(types: frozenset[str]) -> str:
    if "unilateral_change" in types:
        return "notice before changes"
    if types & {"unilateral_termination", "content_removal"}:
        return "notice before suspension or termination"
    if "auto_renewal" in types:
        return "notice before renewal"
    return "notice period"


_AMOUNT_KINDS = (
    FactKind("liability_cap", "liability cap", "amount_cap", money, "lower",
             types=frozenset({"limitation_of_liability"})),
    FactKind("price", "price or fee", "amount_cap", money, "higher", types=frozenset({"fees_and_refunds", "auto_renewal"})),
    FactKind("amount", "amount", "amount_cap", money),
)
FACT_KINDS: tuple[FactKind, ...] = (
    FactKind("notice_period", "notice period", "notice_period", duration, "lower", against_when_removed=True),
    FactKind("limitation_period", "limitation period", "limitation_period", duration, "lower"),
    FactKind("retention_period", "retention period", "retention_period", duration, "higher", types=_DATA_TYPES),
    FactKind("opt_out_window", "arbitration opt-out window", "opt_out_window", duration, "lower",
             against_when_removed=True),
    FactKind("minimum_age", "minimum age", "age", age, "lower", context=_AGE_CONTEXT),
    FactKind("venue", "courts", "venue", types=_DISPUTE_TYPES),
    FactKind("governing_law", "governing law", "governing_law", types=_DISPUTE_TYPES),
    FactKind("arbitration_body", "arbitration provider", "arbitration_body", types=_DISPUTE_TYPES),
    FactKind("seat", "place of arbitration", "seat", types=_DISPUTE_TYPES),
    FactKind("data_categories", "data named", "data_categories", against_when_added=True, types=_DATA_TYPES,
             against_when_these_added=_SENSITIVE_DATA),
)


def fact_changes(before: str, after: str, types: Iterable[str] = ()) -> tuple[FactChange, ...]:
    """The facts that read differently in ``after`` than in ``before``, in the order of ``FACT_KINDS``.

    ``types`` are the clause types of either side; they decide which kinds apply
    (an amount is a liability cap in a limitation clause, a price in a fees clause)
    and how a notice period is named.
    """
    types = frozenset(types)
    amount_kind = next(kind for kind in _AMOUNT_KINDS if kind.applies(types, ()))
    found = []
    for kind in (amount_kind, *FACT_KINDS):
        if not kind.applies(types, (before, after)):
            continue
        change = compare(kind, _values(kind, before), _values(kind, after))
        if change is not None:
            label = _notice_label(types) if kind.name == "notice_period" else kind.label
            found.append(FactChange(change.fact, label, change.before, change.after, change.against_user))
    return tuple(found)


def _values(kind: FactKind, text: str) -> list[str]:
    seen: dict[str, str] = {}
    for finding in EXTRACTORS[kind.extractor][1](text):
        seen.setdefault(finding.value.lower(), finding.value)
    return list(seen.values())


def compare(kind: FactKind, before: list[str], after: list[str]) -> FactChange | None:
    """How ``kind`` moved from the ``before`` values to the ``after`` values, or None if it reads the same."""
    if set(map(_comparable(kind), before)) == set(map(_comparable(kind), after)):
        return None  # "thirty (30) days" and "30-day" twice are still 30 days
    if not after:
        against = kind.against_when_removed
    elif kind.measure is None or not before:
        added = {v for v in after} - {v for v in before}
        if kind.against_when_these_added is not None:
            added &= kind.against_when_these_added
        against = kind.against_when_added if added else None
    else:
        against = _direction(kind, before, after)
    before, after = _moved_values(kind, before, after)
    return FactChange(kind.name, kind.label, "; ".join(before) or None, "; ".join(after) or None, against)


def _moved_values(kind: FactKind, before: list[str], after: list[str]) -> tuple[list[str], list[str]]:
    """The values on each side without those both sides state, unless that would empty a side.

    "greater of $100 or the amount you paid" → "greater of $50 or the amount you paid"
    reads "$100 → $50".
    """
    key = _comparable(kind)
    shared = {key(v) for v in before} & {key(v) for v in after}
    only_before = [v for v in before if key(v) not in shared]
    only_after = [v for v in after if key(v) not in shared]
    return (only_before, only_after) if only_before and only_after else (before, after)


def _comparable(kind: FactKind) -> Callable[[str], str]:
    def key(value: str) -> str:
        measured = kind.measure(value) if kind.measure else None
        return f"{measured[0]}:{measured[1]:g}" if measured else value.lower()

    return key


def _direction(kind: FactKind, before: list[str], after: list[str]) -> bool | None:
    """Whether the move is against the user, judged on the measured values of one unit."""
    measured_before = [m for m in map(kind.measure, before) if m]
    measured_after = [m for m in map(kind.measure, after) if m]
    units = {unit for unit, _ in measured_before + measured_after}
    if not measured_before or not measured_after or len(units) != 1 or kind.worse is None:
        return None
    pick = min if kind.worse == "lower" else max
    old, new = pick(v for _, v in measured_before), pick(v for _, v in measured_after)
    if old == new:
        return None
    return (new < old) if kind.worse == "lower" else (new > old)

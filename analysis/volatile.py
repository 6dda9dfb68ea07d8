"""Values that change on every visit and are not content (issue 15, decision 0016).

Three sources of rules, one :class:`VolatileRules` value:

- **shapes**, always on: a query parameter or fragment whose value is a
  per-visit token (a UUID, a long hex string, a base64/JWT-like string) is not
  part of a link target, and a UUID or long hex string in the text is masked;
- **learned**, per document: query parameters and line templates that were seen
  to change on every fetch while nothing else changed
  (:func:`volatile_difference` finds them between two consecutive texts);
- **declared** in the catalog (``volatile: {params, text, keep}``), which adds
  rules or overrides (``keep``) learned ones.

A text template is the line with each varying span written ``{*}``
(``"Visits today: {*}"``); a masked span reads ``…``. Everything here is pure:
the store keeps the learned rules, the extractor applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

__all__ = [
    "HELD",
    "LEARNED",
    "MASK",
    "STABLE",
    "VOLATILE_OBSERVATIONS",
    "WILDCARD",
    "VolatileKey",
    "VolatileRules",
    "Watch",
    "is_token",
    "is_volatile_span",
    "mask_volatile_text",
    "volatile_difference",
    "watch_step",
]

MASK = "…"
WILDCARD = "{*}"
FRAGMENT = "#"  # the rule name meaning "the fragment of a link"

_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
# 16 hex digits are 64 bits: session ids, request ids, cache keys. Pure digits
# are left alone (order numbers, status ids, dates are content or are learned).
_LONG_HEX = re.compile(r"[0-9a-f]{16,}", re.I)
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{20,}={0,2}")
_JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*")
# Random base64 switches between upper case, lower case and digits at almost
# every other character; a CamelCase slug ("PrivacyPolicyOverview2024") rarely.
_MIN_CLASS_SWITCHES = 0.35


def _has_digit_and_letter(value: str) -> bool:
    return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def _looks_random(value: str) -> bool:
    """Upper case, lower case and digits, switching between them at almost every other character."""
    def kind(char: str) -> int:
        return 0 if char.isdigit() else 1 if char.isupper() else 2
    letters = [c for c in value if c.isalnum()]
    if len({kind(c) for c in letters}) < 3:
        return False
    return sum(kind(a) != kind(b) for a, b in pairwise(letters)) / max(len(letters) - 1, 1) >= _MIN_CLASS_SWITCHES


def is_token(value: str) -> bool:
    """Whether ``value`` is shaped like a per-visit token: UUID, long hex, base64 or JWT."""
    value = value.strip()
    if _UUID.fullmatch(value) or _JWT.fullmatch(value):
        return True
    if _LONG_HEX.fullmatch(value):
        return _has_digit_and_letter(value)
    return bool(_BASE64.fullmatch(value)) and _looks_random(value)


# A word of a span that varies between loads: numbers, dates, times, and the
# month, weekday and zone names around them, or a token.
_NUMERIC_WORD = re.compile(r"[(\[]?[\d.,:/+\-–#]*\d[\d.,:/+\-–#]*(?:st|nd|rd|th|am|pm|h|s|ms|z)?[)\].,;]?", re.I)
_CALENDAR_WORD = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?"
    r"|[ap]\.?m\.?|utc|gmt|[A-Z]{2,4}T|at|[+-]\d{2}:?\d{2}", re.I)
_MAX_SPAN = 80
# A short identifier: 8 or more hex digits ("Ref: 3f9a1c2e"), or letters and digits in short runs, with hyphens
# ("Request ID: a8Kx9Qz2Lm-7fR2kP"). Shorter than a token (a slug or a model number is too), so only a value seen
# varying in the same place of a line, crawl after crawl, is taken for one (a request id made a version every crawl).
_SHORT_HEX = re.compile(r"[0-9a-f]{8,}", re.I)
_SHORT_ID = re.compile(r"[0-9A-Za-z]{4,}(?:-[0-9A-Za-z]{4,})*")
_DIGIT_RUN = re.compile(r"\d+")


def _is_short_id(word: str) -> bool:
    if _SHORT_HEX.fullmatch(word):
        return _has_digit_and_letter(word)
    # Digits scattered through it, as random characters fall: a product or a year has one number ("iPhone15Pro").
    return bool(_SHORT_ID.fullmatch(word)) and len(word) >= 8 and len(_DIGIT_RUN.findall(word)) >= 3


def is_volatile_span(span: str) -> bool:
    """Whether a span is only numbers, dates, times or tokens (a counter, a clock, a nonce)."""
    words = span.split()
    if not words or len(span) > _MAX_SPAN:
        return False
    # A masked value ("…") counts: a value learned too narrowly is learned again, wider.
    shaped = [_NUMERIC_WORD.fullmatch(w) or is_token(bare := w.strip("()[].,;")) or _is_short_id(bare) or w == MASK
              for w in words]
    if not any(shaped):
        return False
    return all(ok or _CALENDAR_WORD.fullmatch(w) for ok, w in zip(shaped, words))


@dataclass(frozen=True)
class VolatileRules:
    """What is volatile in one document: query parameter names and line templates.

    ``params`` are lower-case names (``#`` for the fragment); ``texts`` are line
    templates with ``{*}`` where the value varies. ``learned_texts`` are applied
    only where the varying value still looks volatile, so a word written there
    is always seen; declared ``texts`` are applied as the operator wrote them.
    """

    params: frozenset[str] = frozenset()
    texts: tuple[str, ...] = ()
    learned_texts: tuple[str, ...] = ()
    # False only to measure the extractor without token shapes (benchmarks/noise.py).
    shapes: bool = True

    def __bool__(self) -> bool:
        return bool(self.params or self.texts or self.learned_texts)

    @classmethod
    def learned_from(cls, keys: frozenset[VolatileKey]) -> VolatileRules:
        """The rules of learned keys (``param`` names and ``text`` templates)."""
        return cls(params=frozenset(k.value for k in keys if k.kind == "param"),
                   learned_texts=tuple(sorted(k.value for k in keys if k.kind == "text")))

    def merged(self, other: VolatileRules) -> VolatileRules:
        return VolatileRules(
            self.params | other.params,
            _unique(self.texts + other.texts),
            _unique(self.learned_texts + other.learned_texts),
            self.shapes and other.shapes,
        )

    def without(self, kept: frozenset[str]) -> VolatileRules:
        """These rules less the parameter names and templates an operator said to keep."""
        lowered = {k.lower() for k in kept}
        return VolatileRules(
            frozenset(p for p in self.params if p not in lowered),
            tuple(t for t in self.texts if t not in kept),
            tuple(t for t in self.learned_texts if t not in kept),
            self.shapes,
        )

    def drops_param(self, name: str, value: str) -> bool:
        """Whether a query parameter is not part of the link target."""
        return name.lower() in self.params or (self.shapes and is_token(value))

    def drops_fragment(self, fragment: str) -> bool:
        return FRAGMENT in self.params or (self.shapes and is_token(fragment))


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


# --- Masking text ----------------------------------------------------------------

# Tokens in running text, outside link targets: UUIDs and 128-bit hex strings
# (request ids, nonces). Shorter hex and base64 look too much like words.
_TEXT_TOKEN = re.compile(
    r"(?<![\w/=?&.-])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32,})(?![\w/-])", re.I)
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)|<https?://[^>\s]*>")


# Every token holds eight ASCII hex digits in a row. Looking for such a run in
# the UTF-8 bytes (hex digits mapped to "x") is a C-speed scan; the token
# pattern itself costs ~3 ms on a 35 KB policy that has none (decision 0014).
_HEX_AS_X = bytes(ord("x") if chr(byte) in "0123456789abcdefABCDEF" else ord(" ") for byte in range(256))


def _may_hold_token(text: str) -> bool:
    """False only when ``text`` cannot match ``_TEXT_TOKEN``."""
    return b"xxxxxxxx" in text.encode("utf-8", "surrogatepass").translate(_HEX_AS_X)


def mask_volatile_text(text: str, rules: VolatileRules) -> str:
    """``text`` with token-shaped words and the varying spans of the rules' templates masked."""
    templates = [(_Template(t), False) for t in rules.texts] + [(_Template(t), True) for t in rules.learned_texts]
    if not templates and not (rules.shapes and _may_hold_token(text) and _TEXT_TOKEN.search(text)):
        return text  # the common case: nothing to mask, no walk over the lines
    lines = text.split("\n")
    for index, line in enumerate(lines):
        for template, learned in templates:
            line = template.mask(line, check_shape=learned)
        lines[index] = _mask_tokens(line) if rules.shapes else line
    return "\n".join(lines)


def _mask_tokens(line: str) -> str:
    if not _TEXT_TOKEN.search(line):
        return line
    pieces, last = [], 0
    for link in _LINK_TARGET.finditer(line):
        pieces.append(_TEXT_TOKEN.sub(MASK, line[last:link.start()]))
        pieces.append(link.group(0))
        last = link.end()
    pieces.append(_TEXT_TOKEN.sub(MASK, line[last:]))
    return "".join(pieces)


class _Template:
    """A line template: literal parts around ``{*}`` wildcards, matched against a whole line."""

    def __init__(self, template: str) -> None:
        self.parts = template.split(WILDCARD)
        self.pattern = re.compile("(.+?)".join(re.escape(p) for p in self.parts) + r"\Z", re.S)

    def mask(self, line: str, *, check_shape: bool) -> str:
        if len(self.parts) < 2 or not (line.startswith(self.parts[0]) and line.endswith(self.parts[-1])):
            return line
        match = self.pattern.match(line)
        if match is None or (check_shape and not all(is_volatile_span(g) for g in match.groups())):
            return line
        return MASK.join(self.parts)


# --- Learning ------------------------------------------------------------------

_URL = re.compile(r"https?://[^\s)>\]]+")


@dataclass(frozen=True, order=True)
class VolatileKey:
    """One thing seen to vary: a query parameter (``kind='param'``) or a line template (``'text'``)."""

    kind: str
    value: str


def volatile_difference(old: str, new: str) -> frozenset[VolatileKey] | None:
    """What alone makes ``new`` differ from ``old``, if it is only volatile values.

    The texts must have the same lines; each differing line must differ only in
    the values of link query parameters (or fragments) of otherwise equal link
    targets, or in one span of numbers, dates, times or tokens between equal
    words. None when anything else changed (or nothing did).
    """
    old_lines, new_lines = old.split("\n"), new.split("\n")
    if len(old_lines) != len(new_lines):
        return None
    keys: set[VolatileKey] = set()
    for before, after in zip(old_lines, new_lines):
        if before == after:
            continue
        found = _link_keys(before, after) or _text_key(before, after)
        if not found:
            return None
        keys |= found
    return frozenset(keys) or None


def _link_keys(before: str, after: str) -> set[VolatileKey] | None:
    """The parameters whose values alone differ between the links of two lines."""
    old_urls, new_urls = _URL.findall(before), _URL.findall(after)
    if not old_urls or len(old_urls) != len(new_urls) or _URL.sub("", before) != _URL.sub("", after):
        return None
    keys: set[VolatileKey] = set()
    for old_url, new_url in zip(old_urls, new_urls):
        old_skeleton, old_values = _skeleton(old_url)
        new_skeleton, new_values = _skeleton(new_url)
        if old_skeleton != new_skeleton:
            return None
        keys |= {VolatileKey("param", name) for name, value in old_values.items() if new_values.get(name) != value}
    return keys or None


def _skeleton(url: str) -> tuple[tuple[str, tuple[str, ...], bool], dict[str, str]]:
    """A URL without its parameter values and fragment, and those values by name."""
    base, _, fragment_part = url.partition("#")
    address, _, query = base.partition("?")
    values = {}
    for pair in query.split("&") if query else ():
        name, _, value = pair.partition("=")
        values[name.lower()] = value
    if fragment_part:
        values[FRAGMENT] = fragment_part
    return (address, tuple(sorted(values)), bool(fragment_part)), values


def _text_key(before: str, after: str) -> set[VolatileKey] | None:
    """The template of two lines equal but for one span of volatile-looking words, or a few."""
    return _one_span_key(before, after) or _word_spans_key(before, after)


# At most this many values varying in one line ("Generated at 23:14:05 in 123 ms" holds two).
_MAX_SPANS = 3


def _word_spans_key(before: str, after: str) -> set[VolatileKey] | None:
    """The template of two lines of the same words but for a few runs of volatile-looking ones, apart: the words
    between two values ("in") are not a value, so one span from the first change to the last is none."""
    old, new = before.split(" "), after.split(" ")
    if len(old) != len(new):
        return None
    runs: list[list[int]] = []  # [start, end) word indexes
    for index, (was, now) in enumerate(zip(old, new)):
        if was != now:
            if runs and runs[-1][1] == index:
                runs[-1][1] = index + 1
            else:
                runs.append([index, index + 1])
    if not 2 <= len(runs) <= _MAX_SPANS:
        return None
    for start, end in runs:
        if not (is_volatile_span(" ".join(old[start:end])) and is_volatile_span(" ".join(new[start:end]))):
            return None
        if states_a_quantity(" ".join(old[:start]) + " ", " " + " ".join(old[end:])):
            return None
    words = list(old)
    for start, end in reversed(runs):
        words[start:end] = [WILDCARD]
    return {VolatileKey("text", " ".join(words))}


def _one_span_key(before: str, after: str) -> set[VolatileKey] | None:
    start = _common_prefix(before, after)
    end = _common_suffix(before[start:], after[start:])
    # Widen the span to whole words, so "12:01" vs "12:59" varies as one value.
    while start > 0 and not before[start - 1].isspace():
        start -= 1
    while end > 0 and not before[len(before) - end].isspace():
        end -= 1
    old_span, new_span = before[start:len(before) - end], after[start:len(after) - end]
    if not (is_volatile_span(old_span) and is_volatile_span(new_span)):
        return None
    if states_a_quantity(before[:start], before[len(before) - end:]):
        return None
    return {VolatileKey("text", before[:start] + WILDCARD + before[len(before) - end:])}


# A number written next to a unit of time or money states a term of the policy
# ("30 days", "US$ 100", "16 years old", "5%"): a counter or a clock never does,
# so such an edit is a real one and is recorded at once, never held. "3 days ago"
# is a page's relative clock, not a term.
_QUANTITY_UNIT = re.compile(
    r"(?:business\s+|calendar\s+|working\s+)?(?:days?|weeks?|months?|years?|%|percent|per\s*cent"
    r"|usd|eur|gbp|dollars?|euros?|pounds?"
    # the same units in the languages whose dates are read (analysis/dates.py)
    r"|tagen?|wochen|monaten?|jahren?|jours?|semaines?|mois|ans|années?|días|semanas|meses|años|giorni"
    r"|settimane|mesi|anni|dias|anos|dagen|weken|maanden|jaar)(?!\w)(?!\s+ago\b)", re.I)
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥]|\b(?:usd|eur|gbp|us\$))\s*$", re.I)


def states_a_quantity(before_span: str, after_span: str) -> bool:
    """Whether the words around a changed number make it a stated amount or period."""
    return bool(_QUANTITY_UNIT.match(after_span.lstrip(" ()[],.")) or _CURRENCY_BEFORE.search(before_span))


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _common_suffix(a: str, b: str) -> int:
    return _common_prefix(a[::-1], b[::-1])


# --- Watching: held, learned or a real edit -------------------------------------

# Three different values on three consecutive fetches, with nothing else
# changing: a counter or a clock does that, a real edit (stable once made) does not.
VOLATILE_OBSERVATIONS = 3
HELD, LEARNED, STABLE = "held", "learned", "stable"


@dataclass(frozen=True)
class Watch:
    """Values being watched: what changed, on how many consecutive fetches, and the last text held."""

    keys: frozenset[VolatileKey] = frozenset()
    observations: int = 0
    held_sha256: str | None = None


def watch_step(watch: Watch, keys: frozenset[VolatileKey], text_sha: str) -> tuple[str, Watch]:
    """The verdict on a fetch that changed only ``keys``, and what is watched next.

    ``stable`` when it serves the very text held last time (a real edit: record
    it), ``learned`` when the same places changed on ``VOLATILE_OBSERVATIONS``
    consecutive fetches, else ``held`` (not a version yet).
    """
    if watch.held_sha256 == text_sha:
        return STABLE, Watch()
    observations = watch.observations + 1 if watch.keys == keys else 1
    if observations >= VOLATILE_OBSERVATIONS:
        return LEARNED, Watch()
    return HELD, Watch(keys, observations, text_sha)

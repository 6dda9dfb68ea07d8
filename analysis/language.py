"""The language a version is written in, and whether the classifier may read it.

Detection uses py3langid (a maintained fork of langid.py): its model ships
inside the wheel, so nothing is downloaded at run time, and it is
deterministic. Its choice over langdetect and lingua-language-detector is
measured in ``benchmarks/language.py`` and recorded in
docs/decisions/0010-language-and-facts.md.

Link targets and bare URLs are left out before detection: a German page
full of English-looking URLs is still German.
"""

from __future__ import annotations

import re
from functools import cache
from itertools import islice

UNDETERMINED = "und"  # ISO 639-2 "undetermined": too little text to tell
# Below this many letters a guess is noise (a title, a date, a list of links).
MIN_LETTERS = 20
# Detection reads a few slices of the text, not all of it: its cost is then the same for a
# 4 KB notice and a 500-page agreement. Slices from the start, the middle and the end, so a
# page whose first screen is an English cookie banner or navigation is still judged by its
# body. Sized on real policies (benchmarks/language_sample.py, docs/decisions/0014-speed.md):
# the sampled language equals the whole text's on every one of them.
SLICES = 3
SLICE_CHARS = 2_000

_MD_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_NEXT_SPACE = re.compile(r"\s+")
_URL = re.compile(r"(?:https?://|www\.|mailto:)\S+|\S+@\S+\.\w+", re.IGNORECASE)


@cache
def _identifier():
    # Imported on first use: loading the model costs 0.5-1 s of CPU, once per process.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def load_detector() -> None:
    """Load the detection model now rather than at the first text (the analyser loads its models when built)."""
    _identifier()


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``'s language ("en", "de", "fr"…), or ``und`` when there is too little text."""
    return language_of_all(bounded_sample(text))


def language_of_all(text: str) -> str:
    """``detect_language`` reading every character of ``text`` (its cost grows with the text's length)."""
    sample = _URL.sub(" ", _MD_LINK_TARGET.sub("] ", text))
    if not _has_letters(sample, MIN_LETTERS):
        return UNDETERMINED
    language, _score = _identifier().classify(sample)
    return language


def _has_letters(text: str, count: int) -> bool:
    """Whether ``text`` holds at least ``count`` letters; stops looking once it has seen them."""
    letters = (c for c in text if c.isalpha())
    return len(list(islice(letters, count))) == count


def bounded_sample(text: str, slices: int = SLICES, slice_chars: int = SLICE_CHARS) -> str:
    """At most ``slices`` slices of about ``slice_chars`` characters, spread from start to end, cut at whitespace.

    A text no longer than the slices together is returned whole. Cutting at
    whitespace keeps words whole, so no slice begins or ends with a fragment
    the model would read as another language's n-grams.
    """
    if len(text) <= slices * slice_chars:
        return text
    step = (len(text) - slice_chars) / max(slices - 1, 1)
    return "\n".join(_whole_words(text, round(k * step), round(k * step) + slice_chars) for k in range(slices))


def _whole_words(text: str, start: int, end: int) -> str:
    """``text[start:end]`` without the partial words at either edge."""
    if start > 0 and not text[start - 1].isspace():
        space = _NEXT_SPACE.search(text, start, end)
        start = space.end() if space else start
    if end < len(text) and not text[end].isspace():
        cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
        end = cut if cut > start else end
    return text[start:end]


NOT_ANALYSED = "not analysed: language "


def not_analysed_reason(language: str) -> str:
    """What pages say instead of types for a clause in a language no model was trained for."""
    return NOT_ANALYSED + language

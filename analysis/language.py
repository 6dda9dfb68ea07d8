"""The language a version is written in, and whether the classifier may read it.

Detection uses Google's CLD3 (the ``cld3-py`` wheels, imported as
``gcld3``): its network is compiled into the extension, so nothing is
downloaded or decompressed at run time (it is ready in about a millisecond,
where py3langid's model took ~0.4 CPU-s to load in every process), and it is
deterministic. The choice is measured in ``benchmarks/language.py`` and
recorded in docs/decisions/0032-language-detector-cld3.md (which supersedes
the detector of 0010).

Link targets and bare URLs are left out before detection: a German page
full of English-looking URLs is still German.
"""

from __future__ import annotations

import re
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

# CLD3 reads snippets spread over a text whose cleaned form (lower case, no digits or punctuation, spaces around
# each run of one script) is longer than this, and all of a shorter one. Every text it is given here is read whole.
READ_WHOLE_BYTES = 1 << 30
# CLD3's codes are ISO 639-1 but for Hebrew, for which it keeps the withdrawn "iw".
_CODES = {"iw": "he"}


def detector_id() -> str:
    """Which detector names languages, and its version: part of the analyser's identity (a new one re-analyses)."""
    import gcld3

    return f"cld3-{gcld3.__version__}"


def load_detector() -> None:
    """Import the detector now rather than at the first text (the analyser loads its models when built)."""
    import gcld3  # noqa: F401


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``'s language ("en", "de", "fr"…; CLD3's own for the few without one, as "fil" or
    "zh-Latn"), or ``und`` when there is too little text."""
    return language_of_all(bounded_sample(text))


def language_of_all(text: str) -> str:
    """``detect_language`` reading every character of ``text`` (its cost grows with the text's length)."""
    sample = readable_text(text)
    return UNDETERMINED if sample is None else _identify(sample)


def readable_text(text: str) -> str | None:
    """``text`` as the detector reads it (link targets and URLs left out), or None when too few letters remain."""
    sample = _URL.sub(" ", _MD_LINK_TARGET.sub("] ", text))
    return sample if _has_letters(sample, MIN_LETTERS) else None


def _identify(sample: str) -> str:
    import gcld3

    # A NUL would end the text CLD3 reads, and a lone surrogate cannot be passed to it at all.
    data = sample.replace("\0", " ").encode("utf-8", "replace")
    # An identifier costs ~10 µs to build, and CLD3 does not say one may be shared by threads (its binding releases
    # the GIL while it reads): each call builds its own.
    identifier = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=READ_WHOLE_BYTES)
    found = identifier.FindLanguage(text=data).language
    return _CODES.get(found, found)


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

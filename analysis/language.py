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

UNDETERMINED = "und"  # ISO 639-2 "undetermined": too little text to tell
# Below this many letters a guess is noise (a title, a date, a list of links).
MIN_LETTERS = 20
# The first characters decide; a policy does not change language half-way, and
# detection time stays flat on 500-page documents.
SAMPLE_CHARS = 20_000

_MD_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_URL = re.compile(r"(?:https?://|www\.|mailto:)\S+|\S+@\S+\.\w+", re.IGNORECASE)


@cache
def _identifier():
    import py3langid  # imported on first use: loading the model costs about a second of CPU

    return py3langid


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``'s language ("en", "de", "fr"…), or ``und`` when there is too little text."""
    sample = _URL.sub(" ", _MD_LINK_TARGET.sub("] ", text[:SAMPLE_CHARS]))
    if sum(c.isalpha() for c in sample) < MIN_LETTERS:
        return UNDETERMINED
    language, _score = _identifier().classify(sample)
    return language


NOT_ANALYSED = "not analysed: language "


def not_analysed_reason(language: str) -> str:
    """What pages say instead of types for a clause in a language no model was trained for."""
    return NOT_ANALYSED + language

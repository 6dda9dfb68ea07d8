"""The "last updated" / "effective" date a document states about itself.

Only a date right after a label counts ("Last updated: March 3, 2025",
"Effective Date: 2025-03-03", "Dernière mise à jour : 3 mars 2025"): dates in
the body (deadlines, law citations) are not the document's date. The first
labelled date in the text wins, as policies put it at the top.

Numeric dates are read conservatively: ``03/04/2025`` is only accepted when the
order is certain — a part above 12, equal parts, or a label in a language that
always writes day first. An ambiguous date gives no date rather than a wrong one.
"""

from __future__ import annotations

import re
from datetime import date

from analysis.literals import compile_looking_ahead

MONTHS = {
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
    # French
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12,
    "decembre": 12,
    # German
    "januar": 1, "februar": 2, "märz": 3, "maerz": 3, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
    # Spanish, Italian, Portuguese
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "gennaio": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7, "settembre": 9,
    "ottobre": 10, "dicembre": 12,
    "janeiro": 1, "fevereiro": 2, "março": 3, "maio": 5, "junho": 6, "julho": 7, "setembro": 9,
    "outubro": 10, "dezembro": 12,
}

_DAY_FIRST_LABELS = re.compile(
    r"mise à jour|vigueur|aktualisiert|aktualisierung|stand|gültig|inkraft|actualizaci|vigor|vigente|"
    r"aggiornament|atualiza|vigência|bijgewerkt|kracht",
    re.IGNORECASE,
)

LABEL = compile_looking_ahead(
    r"(?<![^\W_])("
    r"(?:last|latest|date\s+of\s+last)\s+(?:updated?|modified|revised|revision|amended|change[sd]?)"
    r"|(?:updated|revised|modified|amended)(?:\s+(?:on|as\s+of))?"
    r"|effective(?:\s+date|\s+as\s+of|\s+from|\s+on)?"
    r"|(?:release|version|publication|revision)\s+date|date\s+of\s+(?:effect|publication)"
    r"|in\s+force\s+(?:from|since|as\s+of)"
    r"|derni[èe]re\s+mise\s+à\s+jour|mis(?:e)?\s+à\s+jour\s+le|date\s+de\s+(?:derni[èe]re\s+)?mise\s+à\s+jour"
    r"|(?:date\s+d['’])?entrée\s+en\s+vigueur|en\s+vigueur\s+(?:le|depuis\s+le|à\s+compter\s+du)"
    r"|zuletzt\s+(?:aktualisiert|geändert)|letzte\s+(?:aktualisierung|änderung)|stand|gültig\s+ab|inkrafttreten"
    r"|última\s+(?:actualización|modificación|atualização)|fecha\s+de\s+entrada\s+en\s+vigor|vigente\s+desde"
    r"|ultimo\s+aggiornamento|data\s+di\s+entrata\s+in\s+vigore|atualizado\s+em|data\s+de\s+vigência"
    r"|laatst\s+bijgewerkt|laatste\s+wijziging|van\s+kracht\s+(?:vanaf|per)"
    r")(?![^\W_])",
    re.IGNORECASE,
)

# What may stand between a label and its date: punctuation, Markdown emphasis, filler words.
_GAP = re.compile(r"[\s:：.,;\-–—(*_#>|]*(?:(?:on|as\s+of|from|le|du|am|el|em|the|den|del|de|per|:)[\s:,*_]+)*",
                  re.IGNORECASE)
_MONTH = r"([^\W\d_]{3,10})\.?"
_DATE_FORMS = (
    ("ymd", re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")),
    ("mdy", re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)")),
    ("dmy", re.compile(r"(\d{1,2})(?:st|nd|rd|th|er|\.|º)?\s+(?:de\s+|of\s+)?" + _MONTH + r",?\s+(?:de\s+)?(\d{4})(?!\d)")),
    ("my", re.compile(_MONTH + r",?\s+(?:de\s+)?(\d{4})(?!\d)")),
    ("numeric", re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?!\d)")),
)
_WINDOW = 80
_DIGIT = re.compile(r"\d")


def find_stated_date(text: str) -> tuple[str | None, str | None]:
    """The ISO date a document states for itself and the label it used, or (None, None).

    A month-and-year date ("Updated: March 2025") gives ``2025-03``.
    """
    for label in LABEL.finditer(text):
        found = _labelled_date(text, label)
        if found is not None:
            return found[0], " ".join(label.group(1).split())[:60]
    return None, None


def stated_date_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every labelled date in ``text``, label included: the page's own dates."""
    if not _DIGIT.search(text):
        # Every date form holds a digit, and most clauses and headings hold none: they skip
        # the label pattern, which tries every position (alignment reads every clause).
        return []
    spans = []
    for label in LABEL.finditer(text):
        found = _labelled_date(text, label)
        if found is not None:
            spans.append((label.start(), found[1]))
    return spans


def _labelled_date(text: str, label: re.Match[str]) -> tuple[str, int] | None:
    """The ISO date right after ``label`` and where it ends in ``text``, if there is one."""
    day_first = bool(_DAY_FIRST_LABELS.search(label.group(1)))
    window = text[label.end():label.end() + _WINDOW]
    gap = _GAP.match(window)
    offset = gap.end() if gap else 0
    for form, pattern in _DATE_FORMS:
        match = pattern.match(window, offset)
        if match:
            iso = _to_iso(form, match.groups(), day_first=day_first)
            if iso is not None:
                return iso, label.end() + match.end()
    return None


def _to_iso(form: str, parts: tuple[str, ...], *, day_first: bool) -> str | None:
    if form == "ymd":
        return _iso(int(parts[0]), int(parts[1]), int(parts[2]))
    if form == "mdy":
        return _iso(int(parts[2]), MONTHS.get(parts[0].lower(), 0), int(parts[1]))
    if form == "dmy":
        return _iso(int(parts[2]), MONTHS.get(parts[1].lower(), 0), int(parts[0]))
    if form == "my":
        month, year = MONTHS.get(parts[0].lower(), 0), int(parts[1])
        return f"{year:04d}-{month:02d}" if month and _plausible_year(year) else None
    return _numeric(int(parts[0]), int(parts[1]), int(parts[2]), day_first=day_first)


def _numeric(first: int, second: int, year: int, *, day_first: bool) -> str | None:
    if first > 12 or first == second or day_first:
        return _iso(year, second, first)
    if second > 12:
        return _iso(year, first, second)
    return None  # 03/04/2025 under an English label: March or April? Say nothing.


def _plausible_year(year: int) -> bool:
    return 1990 <= year <= 2100


def _iso(year: int, month: int, day: int) -> str | None:
    if not _plausible_year(year):
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


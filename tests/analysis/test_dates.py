"""analysis/dates.py: the date a document states for itself."""

from __future__ import annotations

from re import _constants as opcodes  # the parse tree's node names, as analysis/literals.py reads them
from re import _parser

import pytest

from analysis.dates import LABEL, LABEL_INITIALS, find_stated_date, stated_date_spans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Last updated: March 3, 2025\n\nTerms.", ("2025-03-03", "Last updated")),
        ("Effective Date: 2025-03-03", ("2025-03-03", "Effective Date")),
        ("**Last Updated:** 3rd March, 2025", ("2025-03-03", "Last Updated")),
        ("_Effective: June 5, 2023_", ("2023-06-05", "Effective")),
        ("Dernière mise à jour : 3 mars 2025", ("2025-03-03", "Dernière mise à jour")),
        ("Date d'entrée en vigueur : 1er janvier 2024", ("2024-01-01", "Date d'entrée en vigueur")),
        ("Zuletzt aktualisiert am 3. März 2025", ("2025-03-03", "Zuletzt aktualisiert")),
        ("Última actualización: 3 de marzo de 2025", ("2025-03-03", "Última actualización")),
        ("This policy was updated on Sept. 9, 2024.", ("2024-09-09", "updated on")),
        ("Updated: March 2025", ("2025-03", "Updated")),
        # Numeric dates: only when the order is certain.
        ("Last updated 13/04/2025", ("2025-04-13", "Last updated")),
        ("Last updated 04/13/2025", ("2025-04-13", "Last updated")),
        ("Last updated 05/05/2025", ("2025-05-05", "Last updated")),
        ("Last updated 03/04/2025", (None, None)),
        ("Dernière mise à jour : 03/04/2025", ("2025-04-03", "Dernière mise à jour")),
        # Not the document's own date, or not a date.
        ("You must reply by March 3, 2025.", (None, None)),
        ("Last modified: 2/30/2025", (None, None)),
        ("Updated: 3 March 1066", (None, None)),
        ("We understand 3 March 2025 matters.", (None, None)),
    ],
)
def test_find_stated_date(text, expected):
    assert find_stated_date(text) == expected


def test_first_labelled_date_wins_and_spans_cover_each(shared):
    text = next((shared / "reference/seeds").glob("002_*")).read_text(encoding="utf-8")
    assert find_stated_date(text) == ("2024-09-29", "Release Date")
    assert [text[a:b] for a, b in stated_date_spans(text)][:2] == ["Release Date: 2024-9-29", "Effective Date: 2024-9-29"]


def _initials(items: list) -> tuple[set[str], bool]:
    """The first characters of a parsed sequence's matches (lower-cased), and whether it can match nothing."""
    found: set[str] = set()
    for op, value in items:
        if op is opcodes.LITERAL:
            return found | {chr(value).lower()}, False
        if op is opcodes.IN:
            assert all(kind is opcodes.LITERAL for kind, _ in value), value
            return found | {chr(char).lower() for _, char in value}, False
        if op is opcodes.SUBPATTERN:
            first, empty = _initials(list(value[-1]))
        elif op is opcodes.BRANCH:
            branches = [_initials(list(branch)) for branch in value[1]]
            first, empty = set().union(*(f for f, _ in branches)), any(e for _, e in branches)
        else:
            assert op is opcodes.MAX_REPEAT, op
            first, empty = _initials(list(value[2]))
            empty = empty or value[0] == 0
        found |= first
        if not empty:
            return found, False
    return found, True


def test_every_label_starts_with_a_letter_the_label_pattern_looks_ahead_for():
    tree = _parser.parse(LABEL.pattern, LABEL.flags)
    label = next(value for op, value in tree if op is opcodes.SUBPATTERN)
    initials, empty = _initials(list(label[-1]))
    assert not empty and initials <= set(LABEL_INITIALS), sorted(initials - set(LABEL_INITIALS))

"""analysis/dates.py: the date a document states for itself."""

from __future__ import annotations

import pytest

from analysis.dates import find_stated_date, stated_date_spans


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


"""Severities as people read them (reports/wording.py), shared by emails and the terminal."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from reports.wording import rating, severity_move


def change(kind: str, before: str | None, after: str | None) -> SimpleNamespace:
    return SimpleNamespace(kind=kind, severity_before=before, severity_after=after)


@pytest.mark.parametrize(("kind", "before", "after", "words"), [
    ("added", None, "high", "new clause, High"),
    ("added", None, None, "new clause, Unrated"),
    ("removed", "low", None, "removed clause, was Low"),
    ("modified", "medium", "high", "Medium → High"),
    ("modified", None, "high", "Unrated → High"),
    ("modified", None, None, "Unrated"),
    ("moved", "low", "low", "Low"),
])
def test_a_severity_move_reads_in_words(kind, before, after, words):
    assert severity_move(change(kind, before, after)) == words
    assert "None" not in words and "none" not in words


def test_no_rating_is_unrated():
    assert rating(None) == "Unrated" and rating("medium") == "Medium"

"""Stated "last updated" / "effective" dates (placeholder)."""

from __future__ import annotations


def find_stated_date(text: str) -> tuple[str | None, str | None]:
    """The ISO date a document states for itself and the label it used, or (None, None)."""
    return None, None

"""Split a normalised text into clauses (placeholder: paragraphs; the structure-aware splitter replaces it)."""

from __future__ import annotations

from analysis.domain import Clause
from analysis.text import sha256_text


def split_clauses(text: str) -> list[Clause]:
    """Clauses of ``text`` in order, each with a heading path and a provisional key."""
    clauses: list[Clause] = []
    for block in (b.strip() for b in text.split("\n\n")):
        if block:
            clauses.append(Clause(len(clauses), (), block, "k" + sha256_text(block)[:12]))
    return clauses

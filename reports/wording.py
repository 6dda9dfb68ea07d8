"""How severities read to people, in emails and in the terminal alike (one wording, written once).

A clause of no rated type is "Unrated", never ``None``; an added or removed
clause says so instead of pretending one side had a severity.
"""

from __future__ import annotations

from typing import Protocol


class SeverityChange(Protocol):
    kind: str  # added, removed, modified, moved
    severity_before: str | None
    severity_after: str | None


def rating(severity: str | None) -> str:
    """A severity as people read it: "High", "Medium", "Low", or "Unrated"."""
    return severity.capitalize() if severity else "Unrated"


def severity_move(clause: SeverityChange) -> str:
    """How a clause change moved its severity, in words: "new clause, High", "Medium → High",
    "removed clause, was Low", or one rating when it stayed."""
    before, after = clause.severity_before, clause.severity_after
    if clause.kind == "added":
        return f"new clause, {rating(after)}"
    if clause.kind == "removed":
        return f"removed clause, was {rating(before)}"
    if before == after:
        return rating(after)
    return f"{rating(before)} → {rating(after)}"

"""Change building (placeholder: no alignment; the change-intelligence module replaces it)."""

from __future__ import annotations

from collections.abc import Sequence

from analysis.domain import Change, ClassifiedClause, StoredVersion


def build_change(
    previous: StoredVersion | None, text: str, to_version: str, clauses: Sequence[ClassifiedClause]
) -> tuple[tuple[ClassifiedClause, ...], Change | None]:
    """Carry clause keys over from ``previous`` and describe what changed.

    Returns the new version's clauses (keys aligned with the previous version)
    and the change, or ``None`` for a document's first version.
    """
    if previous is None:
        return tuple(clauses), None
    return tuple(clauses), Change(from_version=previous.version.sha256, to_version=to_version)

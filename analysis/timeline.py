"""Which version of a document was in force when: periods built from its captures (SPEC §7).

A document's history is the sequence of its successful captures, each naming
the version it produced or confirmed. Consecutive captures of the same version
make one *period*; a period is in force from its first capture until the
first capture of the next period (the last one is open-ended). A text that
went back to an earlier version opens a new period of that version, so a
version may have several periods.

Pure functions over plain values: the store loads the captures, the site and
the ``show`` command ask the questions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from analysis.domain import ClassifiedClause


@dataclass(frozen=True)
class Capture:
    """One successful fetch: when it finished and the version (SHA-256) it gave."""

    at: datetime
    version: str


@dataclass(frozen=True)
class Period:
    """A version in force from ``start`` (its first capture) until ``end`` (the next version's), or still."""

    version: str
    start: datetime
    end: datetime | None

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


class NotYetCapturedError(LookupError):
    """The moment asked for is before the document's first capture."""

    def __init__(self, moment: datetime, first_capture: datetime | None):
        self.moment = moment
        self.first_capture = first_capture
        where = f"its first capture was {first_capture.isoformat()}" if first_capture else "it was never captured"
        super().__init__(f"nothing in force at {moment.isoformat()}: {where}")


def periods_of(captures: Sequence[Capture]) -> tuple[Period, ...]:
    """Captures (in time order) merged into periods, oldest first.

    Only the first capture of each run matters, so the store may hand over
    just the captures where the version changed.
    """
    starts: list[Capture] = []
    for capture in captures:
        if not starts or starts[-1].version != capture.version:
            starts.append(capture)
    return tuple(
        Period(start.version, start.at, starts[i + 1].at if i + 1 < len(starts) else None)
        for i, start in enumerate(starts)
    )


def in_force_at(periods: Sequence[Period], moment: datetime) -> Period:
    """The period covering ``moment``; :class:`NotYetCapturedError` before the first capture."""
    for period in reversed(periods):
        if period.start <= moment:
            return period
    raise NotYetCapturedError(moment, periods[0].start if periods else None)


def periods_of_version(periods: Sequence[Period], version: str) -> list[Period]:
    return [p for p in periods if p.version == version]


# --- One provision's wordings -------------------------------------------------------


@dataclass(frozen=True)
class Wording:
    """The clauses of one type a document had, unchanged from ``start`` to ``end`` (or still).

    ``clauses`` is empty while the document had no clause of that type.
    ``versions`` are the versions (oldest first) that carried this wording.
    """

    clauses: tuple[ClassifiedClause, ...]
    start: datetime
    end: datetime | None
    versions: tuple[str, ...]

    @property
    def text(self) -> str:
        """The clauses' texts one after the other: what a redline compares."""
        return "\n\n".join(c.clause.text for c in self.clauses)


def _wording_key(clauses: Sequence[ClassifiedClause]) -> tuple[tuple[tuple[str, ...], str], ...]:
    return tuple((c.clause.heading_path, c.clause.text) for c in clauses)


def wordings_of(
    periods: Sequence[Period], clauses_by_version: Mapping[str, Sequence[ClassifiedClause]], clause_type: str
) -> tuple[Wording, ...]:
    """Every wording a clause type has had in a document, oldest first, with the dates it was in force.

    Consecutive periods whose clauses of that type read the same (heading and
    text) are one wording, even across versions that changed elsewhere.
    """
    merged: list[tuple[tuple, list[ClassifiedClause], datetime, datetime | None, list[str]]] = []
    for period in periods:
        clauses = [c for c in clauses_by_version.get(period.version, ())
                   if clause_type in c.classification.types]
        clauses.sort(key=lambda c: c.clause.ordinal)
        key = _wording_key(clauses)
        if merged and merged[-1][0] == key:
            merged[-1] = (key, merged[-1][1], merged[-1][2], period.end, [*merged[-1][4], period.version])
        else:
            merged.append((key, clauses, period.start, period.end, [period.version]))
    # A provision exists from its first clause: a leading stretch without one is not a wording of it.
    while merged and not merged[0][1]:
        merged.pop(0)
    return tuple(Wording(tuple(clauses), start, end, tuple(dict.fromkeys(versions)))
                 for _key, clauses, start, end, versions in merged)

"""How each document's latest fetches went: one definition of a failure streak.

A document's *failure streak* is the run of failed fetches at the end of its
fetch history, newest first, up to its most recent fetch that did not fail
(``new_version``, ``unchanged``, ``not_modified``). ``status``, the site, the
digest and failure alerts all read it from :func:`fetch_health`, one SQL
statement with window functions, so they can never count it differently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from store.database import chunks
from store.tables import FetchRow

FAILED = "failed"


@dataclass(frozen=True)
class FetchHealth:
    """The latest fetch of a document and the failure streak it ends (none: ``consecutive_failures`` 0)."""

    last_outcome: str | None
    last_error_kind: str | None
    last_error_detail: str | None
    last_attempt: datetime | None
    consecutive_failures: int
    failing_since: datetime | None = None  # the first failure of the streak


NEVER_FETCHED = FetchHealth(None, None, None, None, 0)


def _ordered_fetches(document_pks: list[int] | None):
    """Every fetch with its place from the newest (1 = latest) and how many newer-or-equal fetches succeeded."""
    newest_first = {"partition_by": FetchRow.document_id, "order_by": (FetchRow.finished_at.desc(), FetchRow.id.desc())}
    query = select(
        FetchRow.document_id, FetchRow.outcome, FetchRow.error_kind, FetchRow.error_detail, FetchRow.finished_at,
        func.row_number().over(**newest_first).label("place"),
        func.sum(case((FetchRow.outcome != FAILED, 1), else_=0))
        .over(**newest_first, rows=(None, 0)).label("successes"),
    )
    if document_pks is not None:
        query = query.where(FetchRow.document_id.in_(document_pks))
    return query.subquery()


def _health_query(document_pks: list[int] | None):
    fetches = _ordered_fetches(document_pks)
    streak = (
        select(fetches.c.document_id, func.count().label("failures"), func.min(fetches.c.finished_at).label("since"))
        .where(fetches.c.successes == 0)  # no fetch at or after this one succeeded
        .group_by(fetches.c.document_id)
        .subquery()
    )
    return (
        select(fetches.c.document_id, fetches.c.outcome, fetches.c.error_kind, fetches.c.error_detail,
               fetches.c.finished_at, func.coalesce(streak.c.failures, 0), streak.c.since)
        .outerjoin(streak, streak.c.document_id == fetches.c.document_id)
        .where(fetches.c.place == 1)
    )


def fetch_health(session: Session, document_pks: Iterable[int] | None = None) -> dict[int, FetchHealth]:
    """Document primary key → its :class:`FetchHealth`, for ``document_pks`` or every fetched document."""
    selections: list[list[int] | None] = [None] if document_pks is None else list(chunks(document_pks))
    result: dict[int, FetchHealth] = {}
    for chunk in selections:
        for doc_id, outcome, kind, detail, finished, failures, since in session.execute(_health_query(chunk)):
            result[doc_id] = FetchHealth(outcome, kind, detail, finished, int(failures), since)
    return result

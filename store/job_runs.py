"""Job runs and job leases: what the scheduler did, and who runs a job now.

A lease is one row per job id naming its holder and when it expires. Taking
it is an atomic conditional write (an INSERT that fails on the primary key, or
an UPDATE guarded by the previous holder and expiry), so two processes on
SQLite or PostgreSQL can never both hold it. A holder that dies stops renewing
its lease; once expired it is taken over, and the runs the dead holder left
open are closed as failed.

Every function takes ``now`` from its caller: the store reads no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from store.repository import Store
from store.tables import JobLeaseRow, JobRunRow

RUN_OUTCOMES = ("running", "ok", "failed", "skipped")


class LeaseHeldError(Exception):
    """Another holder runs this job; the message names it and until when it holds it."""

    def __init__(self, lease: Lease):
        self.lease = lease
        super().__init__(
            f"job {lease.job_id!r} is being run by {lease.holder} "
            f"(since {lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC, lease until {lease.expires_at:%H:%M:%S} UTC)"
        )


class LeaseLostError(Exception):
    """The lease expired and was taken over (or released) while its holder still ran."""


@dataclass(frozen=True)
class Lease:
    job_id: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
    taken_over_from: str | None = None


@dataclass(frozen=True)
class JobRun:
    id: int
    job_id: str
    action: str
    holder: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, Any]
    error: str | None


# --- Leases -------------------------------------------------------------------


def acquire_lease(store: Store, job_id: str, holder: str, *, now: datetime, ttl: timedelta) -> Lease:
    """Take the lease of ``job_id`` for ``ttl``, or raise :class:`LeaseHeldError`.

    An expired lease is taken over, and the runs its holder left open are closed
    as failed: that holder is gone, since it stopped renewing.
    """
    # Two attempts cover the one race: the row appears or changes between read and write.
    for _attempt in range(2):
        current = lease(store, job_id)
        if current is None:
            if _insert_lease(store, job_id, holder, now, ttl):
                return Lease(job_id, holder, now, now + ttl)
        elif current.expires_at > now:
            raise LeaseHeldError(current)
        elif _take_over(store, current, holder, now, ttl):
            abandon_runs(store, job_id, current.holder, now=now,
                         error=f"abandoned: {current.holder} stopped without finishing (its lease expired)")
            return Lease(job_id, holder, now, now + ttl, taken_over_from=current.holder)
    current = lease(store, job_id)
    raise LeaseHeldError(current) if current else LeaseLostError(f"job {job_id!r}: lease contended, try again")


def take_over_dead_lease(store: Store, dead: Lease, holder: str, *, now: datetime, ttl: timedelta) -> Lease | None:
    """Take over ``dead`` before it expires: its holder is known to be gone (the caller checked).

    Guarded like an expired take-over: only if the row still names that holder
    and expiry; None when it changed meanwhile. The dead holder's open runs are
    closed as failed.
    """
    with store.session() as session:
        taken = session.execute(
            update(JobLeaseRow)
            .where(JobLeaseRow.job_id == dead.job_id, JobLeaseRow.holder == dead.holder,
                   JobLeaseRow.expires_at == dead.expires_at)
            .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        ).rowcount
    if taken != 1:
        return None
    abandon_runs(store, dead.job_id, dead.holder, now=now, error=f"abandoned: {dead.holder} is no longer running")
    return Lease(dead.job_id, holder, now, now + ttl, taken_over_from=dead.holder)


def _insert_lease(store: Store, job_id: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    try:
        with store.session() as session:
            session.execute(insert(JobLeaseRow).values(job_id=job_id, holder=holder, acquired_at=now, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True


def _take_over(store: Store, expired: Lease, holder: str, now: datetime, ttl: timedelta) -> bool:
    # Guarded by the holder and expiry just read: of two contenders only one matches.
    with store.session() as session:
        taken = session.execute(
            update(JobLeaseRow)
            .where(JobLeaseRow.job_id == expired.job_id, JobLeaseRow.holder == expired.holder,
                   JobLeaseRow.expires_at == expired.expires_at, JobLeaseRow.expires_at <= now)
            .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        ).rowcount
    return taken == 1


def renew_lease(store: Store, job_id: str, holder: str, *, now: datetime, ttl: timedelta) -> Lease:
    """Extend the lease ``holder`` holds; :class:`LeaseLostError` if it holds it no more."""
    with store.session() as session:
        renewed = session.execute(
            update(JobLeaseRow)
            .where(JobLeaseRow.job_id == job_id, JobLeaseRow.holder == holder)
            .values(expires_at=now + ttl)
        ).rowcount
    if renewed != 1:
        raise LeaseLostError(f"job {job_id!r}: {holder} no longer holds the lease")
    current = lease(store, job_id)
    assert current is not None
    return current


def release_lease(store: Store, job_id: str, holder: str) -> bool:
    """Give the lease back; False when ``holder`` did not hold it (any more)."""
    with store.session() as session:
        released = session.execute(
            delete(JobLeaseRow).where(JobLeaseRow.job_id == job_id, JobLeaseRow.holder == holder)
        ).rowcount
    return released == 1


def lease(store: Store, job_id: str) -> Lease | None:
    """The lease row of ``job_id``, expired or not, or None."""
    with store.session() as session:
        row = session.get(JobLeaseRow, job_id)
        return Lease(row.job_id, row.holder, row.acquired_at, row.expires_at) if row else None


def leases(store: Store) -> list[Lease]:
    with store.session() as session:
        rows = session.scalars(select(JobLeaseRow).order_by(JobLeaseRow.job_id)).all()
        return [Lease(r.job_id, r.holder, r.acquired_at, r.expires_at) for r in rows]


# --- Runs ---------------------------------------------------------------------


def start_run(store: Store, job_id: str, action: str, holder: str, *, now: datetime) -> int:
    """Record a run as started (outcome ``running``); returns its id."""
    with store.session() as session:
        row = JobRunRow(job_id=job_id, action=action, holder=holder, started_at=now, outcome="running", counts={})
        session.add(row)
        session.flush()
        return row.id


def finish_run(
    store: Store, run_id: int, outcome: str, *, now: datetime,
    counts: dict[str, Any] | None = None, error: str | None = None,
) -> None:
    """Close a run with its outcome (``ok``, ``failed`` or ``skipped``), counts and error."""
    if outcome not in RUN_OUTCOMES or outcome == "running":
        raise ValueError(f"a run ends ok, failed or skipped, not {outcome!r}")
    with store.session() as session:
        session.execute(
            update(JobRunRow).where(JobRunRow.id == run_id)
            .values(outcome=outcome, finished_at=now, counts=counts or {}, error=error)
        )


def record_skipped(store: Store, job_id: str, action: str, holder: str, *, now: datetime, reason: str) -> int:
    """Record a run that did not happen (another holder had the job), with why."""
    run_id = start_run(store, job_id, action, holder, now=now)
    finish_run(store, run_id, "skipped", now=now, error=reason)
    return run_id


def abandon_runs(store: Store, job_id: str, holder: str, *, now: datetime, error: str) -> int:
    """Close as failed the runs of ``job_id`` that ``holder`` left open; returns how many."""
    with store.session() as session:
        return session.execute(
            update(JobRunRow)
            .where(JobRunRow.job_id == job_id, JobRunRow.holder == holder, JobRunRow.finished_at.is_(None))
            .values(outcome="failed", finished_at=now, error=error)
        ).rowcount


def runs(store: Store, job_id: str | None = None, *, limit: int = 50) -> list[JobRun]:
    """The latest runs, newest first, of one job or of all."""
    query = select(JobRunRow).order_by(JobRunRow.started_at.desc(), JobRunRow.id.desc()).limit(limit)
    if job_id is not None:
        query = query.where(JobRunRow.job_id == job_id)
    with store.session() as session:
        return [_run(row) for row in session.scalars(query)]


def last_runs(store: Store, *, outcomes: tuple[str, ...] = RUN_OUTCOMES) -> dict[str, JobRun]:
    """The newest run of every job that has one, by job id."""
    newest = (
        select(JobRunRow.job_id, func.max(JobRunRow.id).label("id"))
        .where(JobRunRow.outcome.in_(outcomes))
        .group_by(JobRunRow.job_id)
        .subquery()
    )
    with store.session() as session:
        rows = session.scalars(select(JobRunRow).join(newest, JobRunRow.id == newest.c.id)).all()
        return {row.job_id: _run(row) for row in rows}


def _run(row: JobRunRow) -> JobRun:
    return JobRun(row.id, row.job_id, row.action, row.holder, row.started_at, row.finished_at,
                  row.outcome, dict(row.counts or {}), row.error)

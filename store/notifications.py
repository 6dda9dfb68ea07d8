"""Notification state: which changes and failure streaks have been alerted, shared by every host.

Any host may run the alerts job (leases hand it around), so "already alerted"
must live in the store, not in a file per machine. A host *claims* what it is
about to send by inserting a row under a unique ``(kind, key)``: of two hosts
racing, the database lets exactly one insert win (``INSERT … ON CONFLICT DO
NOTHING … RETURNING``, the same statement on SQLite and PostgreSQL). After
delivery the claimant *confirms* (``sent_at``) or *releases* (deletes its
claim, so the next run tries again). A claim never confirmed nor released —
its host died mid-send — may be taken over once it is older than ``ttl``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from store.database import chunks
from store.repository import Store
from store.tables import NotificationClaimRow

CHANGE = "change"  # key: the change's id
FAILURE = "failure"  # key: document public id @ start of the failure streak
IMPORT = "import"  # key: a legacy state file already imported
# key: ``received_key(kind, key, recipient)``, one recipient who got a change or failure alert whose other
# recipients did not all get it: the alert stays pending, and the next run sends it only to the others.
RECEIVED = "received"
# key: ``digest_key(job, recipient)``; ``sent_at``: the end of the last period that recipient's digest of that job
# covered. The next digest of the job starts there for them (a refused one does not hold back the others).
DIGEST = "digest"

CLAIM_TTL = timedelta(hours=1)
_KEYS_PER_QUERY = 500


def claim(store: Store, kind: str, keys: Iterable[str], *, holder: str, now: datetime,
          ttl: timedelta = CLAIM_TTL) -> set[str]:
    """The keys ``holder`` now owns: newly inserted, or taken over from a claim abandoned for ``ttl``."""
    wanted = list(dict.fromkeys(keys))
    won: set[str] = set()
    with store.session() as session:
        for chunk in chunks(wanted, _KEYS_PER_QUERY):
            won |= _insert_new(session, kind, chunk, holder=holder, now=now, sent=False)
        for chunk in chunks([key for key in wanted if key not in won], _KEYS_PER_QUERY):
            won |= _take_over(session, kind, chunk, holder=holder, now=now, ttl=ttl)
    return won


def confirm(store: Store, kind: str, keys: Iterable[str], *, holder: str, now: datetime) -> None:
    """Record that the claimed ``keys`` were delivered: they are never notified again."""
    with store.session() as session:
        for chunk in chunks(keys, _KEYS_PER_QUERY):
            session.execute(update(NotificationClaimRow)
                            .where(*_mine(kind, chunk, holder), NotificationClaimRow.sent_at.is_(None))
                            .values(sent_at=now))


def release(store: Store, kind: str, keys: Iterable[str], *, holder: str) -> None:
    """Give back claims whose delivery failed, so that a later run (any host) tries again."""
    with store.session() as session:
        for chunk in chunks(keys, _KEYS_PER_QUERY):
            session.execute(delete(NotificationClaimRow)
                            .where(*_mine(kind, chunk, holder), NotificationClaimRow.sent_at.is_(None)))


def claimed(store: Store, kind: str, keys: Iterable[str]) -> set[str]:
    """The keys someone sent or is sending; read only (what a dry run leaves out)."""
    found: set[str] = set()
    with store.session() as session:
        for chunk in chunks(keys, _KEYS_PER_QUERY):
            found.update(session.scalars(select(NotificationClaimRow.key).where(
                NotificationClaimRow.kind == kind, NotificationClaimRow.key.in_(chunk))))
    return found


def record_sent(store: Store, kind: str, keys: Iterable[str], *, holder: str, now: datetime) -> int:
    """Record ``keys`` as already sent (an import of older state); returns how many were new."""
    with store.session() as session:
        return sum(len(_insert_new(session, kind, chunk, holder=holder, now=now, sent=True))
                   for chunk in chunks(dict.fromkeys(keys), _KEYS_PER_QUERY))


def _insert_new(session: Session, kind: str, keys: Sequence[str], *, holder: str, now: datetime,
                sent: bool) -> set[str]:
    if not keys:
        return set()
    # Imported here: `status` reads claims with this module, and needs neither dialect's insert.
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(NotificationClaimRow)
        .values([{"kind": kind, "key": key, "holder": holder, "claimed_at": now, "sent_at": now if sent else None}
                 for key in keys])
        .on_conflict_do_nothing(index_elements=["kind", "key"])
        .returning(NotificationClaimRow.key)
    )
    return set(session.scalars(statement))


def _take_over(session: Session, kind: str, keys: Sequence[str], *, holder: str, now: datetime,
               ttl: timedelta) -> set[str]:
    # Guarded by "still unsent and old": of two hosts taking over, only one update matches a row.
    return set(session.scalars(
        update(NotificationClaimRow)
        .where(NotificationClaimRow.kind == kind, NotificationClaimRow.key.in_(keys),
               NotificationClaimRow.sent_at.is_(None), NotificationClaimRow.claimed_at <= now - ttl)
        .values(holder=holder, claimed_at=now)
        .returning(NotificationClaimRow.key)
    ))


def _mine(kind: str, keys: Sequence[str], holder: str) -> tuple:
    return (NotificationClaimRow.kind == kind, NotificationClaimRow.key.in_(keys), NotificationClaimRow.holder == holder)


@dataclass(frozen=True)
class Unconfirmed:
    """A claim neither confirmed nor released: its notification is being sent, or its sender died sending it."""

    kind: str
    key: str
    holder: str
    claimed_at: datetime

    def abandoned(self, now: datetime, ttl: timedelta = CLAIM_TTL) -> bool:
        """Held past ``ttl``: the next run takes it over and sends it (to whom did not get it)."""
        return self.claimed_at <= now - ttl


def unconfirmed(store: Store) -> list[Unconfirmed]:
    """Every claim not confirmed, oldest first; read only (`status` shows them)."""
    with store.session() as session:
        rows = session.execute(select(NotificationClaimRow.kind, NotificationClaimRow.key, NotificationClaimRow.holder,
                                      NotificationClaimRow.claimed_at)
                               .where(NotificationClaimRow.sent_at.is_(None))
                               .order_by(NotificationClaimRow.claimed_at, NotificationClaimRow.id))
        return [Unconfirmed(*row) for row in rows]


def received_key(kind: str, key: str, recipient: str) -> str:
    """The RECEIVED key of ``recipient`` having got the alert of ``key`` (of ``kind``)."""
    return f"{kind}:{key}>{recipient.lower()}"


def digest_key(job_id: str, recipient: str) -> str:
    return f"{job_id}>{recipient.lower()}"


def digest_periods_end(store: Store, job_id: str, recipients: Iterable[str]) -> dict[str, datetime]:
    """For each recipient (in lower case) who got a digest of ``job_id``, the end of the last period it covered."""
    keys = {digest_key(job_id, recipient): recipient.lower() for recipient in recipients}
    ends: dict[str, datetime] = {}
    with store.session() as session:
        for chunk in chunks(keys, _KEYS_PER_QUERY):
            for key, sent_at in session.execute(select(NotificationClaimRow.key, NotificationClaimRow.sent_at).where(
                    NotificationClaimRow.kind == DIGEST, NotificationClaimRow.key.in_(chunk))):
                ends[keys[key]] = sent_at
    return ends


def record_digest_periods(store: Store, job_id: str, recipients: Iterable[str], *, until: datetime) -> None:
    """The recipients got the digest of ``job_id`` up to ``until``: their next one starts there."""
    keys = [digest_key(job_id, recipient) for recipient in dict.fromkeys(r.lower() for r in recipients)]
    with store.session() as session:
        for chunk in chunks(keys, _KEYS_PER_QUERY):
            session.execute(delete(NotificationClaimRow).where(NotificationClaimRow.kind == DIGEST,
                                                               NotificationClaimRow.key.in_(chunk)))
            _insert_new(session, DIGEST, chunk, holder=f"digest:{job_id}", now=until, sent=True)

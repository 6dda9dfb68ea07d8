"""One notification model for the same-day alerts and the weekly digest: collect → per subscriber → render.

- :func:`collect` turns store change records and failing documents into a
  :class:`Notification` (substantive changes only, ranked: severity raised
  first, then the most severe, then the newest);
- :func:`for_subscriber` keeps what one subscriber follows. The severity rule,
  one for both emails (docs/decisions/0020-notifications.md): a subscriber's
  minimum applies **per clause change** — they see the clause changes that reach
  it, and a document change only when at least one of its clause changes does;
- :class:`NotificationRenderer` renders subject, text and HTML and makes the
  HTML fit a mail client (:data:`HTML_LIMIT`): per document a summary line and
  its most severe clause changes in full, the rest counted and linked to the site.

The provision-link rule is the store's (:mod:`store.change_records`): a clause change
links to the provision record of its clause's first type.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage

from analysis.domain import FactChange, severity_rank
from reports import mail
from reports.site.contexts import absolute_url, document_path, record_path
from reports.site.render import environment
from reports.subscribers import Subscriber
from store.change_records import ChangeRecord, ClauseChangeRecord, FailingDocument

HTML_LIMIT = 100_000  # bytes of HTML, CSS inlined: Gmail clips a message at about 102 KB
CLAUSES_IN_FULL = 3  # most severe clause changes shown in full per document
CLAUSE_CHARS = 1_500  # of one side of a clause change; the site has the rest
# (documents with clause changes in full, documents listed in total, failing documents listed):
# tried in order until the HTML fits; the last step always fits.
LAYOUTS = ((25, 150, 50), (12, 80, 30), (6, 40, 20), (3, 20, 10), (0, 10, 5), (0, 0, 0))


@dataclass(frozen=True)
class ClauseNote:
    kind: str  # added, removed, modified
    heading: str
    before: str | None
    after: str | None
    severity_before: str | None
    severity_after: str | None
    severity_raised: bool
    record_id: str | None
    record_url: str | None
    facts: tuple[FactChange, ...] = ()
    cut: bool = False  # a side was shortened to CLAUSE_CHARS

    @property
    def severity(self) -> str | None:
        return max((self.severity_before, self.severity_after), key=severity_rank)


@dataclass(frozen=True)
class ChangeNote:
    id: int
    platform: str
    platform_name: str
    document: str
    document_id: str
    detected_at: datetime
    severity: str | None
    severity_raised: bool
    url: str  # the change on the site's document page
    clauses: tuple[ClauseNote, ...]  # most relevant first; only the first `shown` are rendered in full
    shown: int | None = None  # None: all

    @property
    def in_full(self) -> tuple[ClauseNote, ...]:
        return self.clauses if self.shown is None else self.clauses[:self.shown]

    @property
    def not_shown(self) -> int:
        return len(self.clauses) - len(self.in_full)


@dataclass(frozen=True)
class FailureNote:
    key: str  # the failure streak: document id @ first failure
    platform: str
    platform_name: str
    document: str
    url: str
    error_kind: str
    error_detail: str | None
    failures: int
    failing_since: datetime
    last_failure: datetime


@dataclass(frozen=True)
class Notification:
    changes: tuple[ChangeNote, ...] = ()
    failures: tuple[FailureNote, ...] = ()
    since: datetime | None = None  # the digest's period; None for an alert
    until: datetime | None = None
    cosmetic: int = 0  # cosmetic changes of the period, archived and not listed
    below_threshold: int = 0  # document changes left out by the subscriber's minimum severity
    detailed: int | None = None  # documents whose clause changes are rendered (None: all)
    listed: int | None = None  # documents listed at all (None: all)
    failures_listed: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.changes or self.failures)

    @property
    def change_ids(self) -> tuple[int, ...]:
        return tuple(c.id for c in self.changes)

    @property
    def failure_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.failures)

    @property
    def listed_changes(self) -> tuple[ChangeNote, ...]:
        return self.changes if self.listed is None else self.changes[:self.listed]

    @property
    def listed_failures(self) -> tuple[FailureNote, ...]:
        return self.failures if self.failures_listed is None else self.failures[:self.failures_listed]

    @property
    def high(self) -> int:
        return sum(1 for c in self.changes if c.severity == "high")

    @property
    def raised(self) -> int:
        return sum(1 for c in self.changes if c.severity_raised)


# --- Collect -------------------------------------------------------------------


def failure_key(failing: FailingDocument) -> str:
    """One failure streak of one document: alerted once."""
    return streak_key(failing.document_id, failing.failing_since.isoformat())


def streak_key(document_id: str, since: str) -> str:
    """The key of the failure streak of ``document_id`` that began at ``since`` (ISO 8601)."""
    return f"{document_id}@{since}"


def collect(changes: Sequence[ChangeRecord], failing: Sequence[FailingDocument], *, base_url: str,
            since: datetime | None = None, until: datetime | None = None) -> Notification:
    """The substantive changes (ranked) and failing documents; cosmetic ones only counted."""
    listed = [c for c in changes if not c.technical]
    notes = sorted((_change(c, base_url) for c in listed if c.substantive), key=_rank)
    return Notification(tuple(notes), tuple(_failure(f, base_url) for f in failing), since, until,
                        cosmetic=sum(1 for c in listed if not c.substantive))


def _rank(change: ChangeNote) -> tuple:
    """Raised severity first, then the most severe, then the newest."""
    return (not change.severity_raised, -severity_rank(change.severity), -change.detected_at.timestamp(),
            change.platform_name.lower(), change.id)


def _change(record: ChangeRecord, base_url: str) -> ChangeNote:
    clauses = sorted((_clause(c, base_url) for c in record.clause_changes),
                     key=lambda c: (not c.severity_raised, -severity_rank(c.severity)))
    return ChangeNote(
        id=record.id, platform=record.platform, platform_name=record.platform_name, document=record.document_type,
        document_id=record.document_id, detected_at=record.detected_at, severity=record.severity,
        severity_raised=record.severity_raised,
        url=absolute_url(base_url, document_path(record.document_id)) + f"#change-{record.to_version[:12]}",
        clauses=tuple(clauses),
    )


def _clause(item: ClauseChangeRecord, base_url: str) -> ClauseNote:
    change = item.change
    before, after = _cut(change.before), _cut(change.after)
    return ClauseNote(
        kind=change.kind, heading=" › ".join(change.heading_path), before=before, after=after,
        severity_before=change.severity_before, severity_after=change.severity_after,
        severity_raised=item.raises_severity, record_id=item.record_id,
        record_url=absolute_url(base_url, record_path(item.record_id)) if item.record_id else None,
        facts=change.facts, cut=(before, after) != (change.before, change.after),
    )


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= CLAUSE_CHARS:
        return text
    return text[:CLAUSE_CHARS].rsplit(" ", 1)[0] + " …"


def _failure(failing: FailingDocument, base_url: str) -> FailureNote:
    return FailureNote(
        key=failure_key(failing), platform=failing.platform, platform_name=failing.platform_name,
        document=failing.document_type, url=absolute_url(base_url, document_path(failing.document_id)),
        error_kind=failing.error_kind or "error", error_detail=failing.error_detail,
        failures=failing.consecutive_failures, failing_since=failing.failing_since, last_failure=failing.last_failure,
    )


# --- Per subscriber ---------------------------------------------------------------


def for_subscriber(content: Notification, subscriber: Subscriber) -> Notification:
    """What ``subscriber`` follows: their platforms, and the clause changes at or above their minimum."""
    changes, below = [], 0
    for change in content.changes:
        if not subscriber.follows(change.platform):
            continue
        clauses = tuple(c for c in change.clauses if subscriber.wants_severity(c.severity))
        if clauses or (not change.clauses and subscriber.wants_severity(None)):
            changes.append(replace(change, clauses=clauses))
        else:
            below += 1
    failures = tuple(f for f in content.failures if subscriber.follows(f.platform))
    return replace(content, changes=tuple(changes), failures=failures, below_threshold=below)


# --- Render ---------------------------------------------------------------------


def layout(content: Notification, detailed: int, listed: int, failures: int) -> Notification:
    """The content cut to a size: clause changes in full for the first ``detailed`` documents."""
    changes = tuple(replace(c, shown=CLAUSES_IN_FULL if i < detailed else 0) for i, c in enumerate(content.changes))
    return replace(content, changes=changes, detailed=detailed, listed=listed, failures_listed=failures)


class NotificationRenderer:
    """Subject, plain text and HTML of one email from ``<name>.txt.j2`` and ``<name>.html.j2``."""

    def __init__(self, base_url: str, name: str, subject: Callable[[Notification], str]):
        self.base_url = base_url.rstrip("/") + "/"
        self.name = name
        self.subject = subject
        self.env = environment()

    def render(self, content: Notification, subscriber: Subscriber | None = None) -> tuple[str, str, str]:
        """The email, cut by :data:`LAYOUTS` until its HTML (as sent, CSS inlined) fits :data:`HTML_LIMIT`."""
        subject = self.subject(content)
        for sizes in LAYOUTS:
            fitted = layout(content, *sizes)
            html = self._template("html", fitted, subscriber, subject)
            if len(mail.inline_css(html).encode()) <= HTML_LIMIT:
                break
        return subject, self._template("txt", fitted, subscriber, subject), html

    def _template(self, kind: str, content: Notification, subscriber: Subscriber | None, subject: str) -> str:
        context = {"note": content, "subscriber": subscriber, "base_url": self.base_url, "subject": subject}
        return self.env.get_template(f"{self.name}.{kind}.j2").render(context)


# --- Messages -------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One subscriber's email and what it carries (what is confirmed sent once it is delivered)."""

    subscriber: Subscriber
    message: EmailMessage
    change_ids: tuple[int, ...]
    failure_keys: tuple[str, ...]


def build_messages(
    content: Notification, subscribers: Sequence[Subscriber], *, renderer: NotificationRenderer, sender: str,
    now: datetime, when_empty: bool, received: Callable[[Subscriber], Collection[str]] | None = None,
) -> tuple[list[Outgoing], list[mail.Delivery]]:
    """One message per subscriber; a message that cannot be built is a failed delivery.

    A subscriber whose view is empty gets a message only ``when_empty`` (the
    weekly digest, which says "nothing at your threshold"; never an alert).
    ``received`` names, for a subscriber, the keys (change ids as text, failure
    keys) they already got: those are left out of their message.
    """
    messages, failures = [], []
    for subscriber in subscribers:
        mine = for_subscriber(content, subscriber)
        if received is not None and (got := received(subscriber)):
            mine = replace(mine, changes=tuple(c for c in mine.changes if str(c.id) not in got),
                           failures=tuple(f for f in mine.failures if f.key not in got))
        if mine.empty and not when_empty:
            continue
        subject, text, html = renderer.render(mine, subscriber)
        try:
            message = mail.build_message(
                sender=sender, recipient=subscriber.email, recipient_name=subscriber.name, subject=subject,
                text=text, html=html, list_unsubscribe=mail.unsubscribe_link(subscriber.unsubscribe, sender), date=now,
            )
        except mail.MailError as exc:
            failures.append(mail.Delivery(subscriber.email, subject, ok=False, error=str(exc)))
            continue
        messages.append(Outgoing(subscriber, message, mine.change_ids, mine.failure_keys))
    return messages, failures

"""Same-day alerts: one email per subscriber about the changes just detected and the documents failing.

The content is built from store records (:mod:`store.changes`), filtered per
subscriber (platforms, minimum severity) and rendered from ``alert.txt.j2`` and
``alert.html.j2``. Changes that raised severity come first everywhere, then
the most severe; inside a change, the clauses that raised severity come first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import EmailMessage

from analysis.domain import FactChange, severity_rank
from reports import mail
from reports.digest import unsubscribe_link
from reports.site.contexts import absolute_url, document_path, record_path
from reports.site.render import environment
from reports.subscribers import Subscriber
from store.changes import ChangeRecord, ClauseChangeRecord, FailingDocument


@dataclass(frozen=True)
class AlertClause:
    kind: str
    heading: str
    before: str | None
    after: str | None
    severity_before: str | None
    severity_after: str | None
    severity_raised: bool
    record_id: str | None
    record_url: str | None
    facts: tuple[FactChange, ...] = ()

    @property
    def severity(self) -> str | None:
        return max((self.severity_before, self.severity_after), key=severity_rank)


@dataclass(frozen=True)
class AlertChange:
    id: int
    platform: str
    platform_name: str
    document: str
    document_id: str
    detected_at: datetime
    severity: str | None
    severity_raised: bool
    url: str
    clause_changes: tuple[AlertClause, ...]


@dataclass(frozen=True)
class AlertFailure:
    platform: str
    platform_name: str
    document: str
    url: str
    error_kind: str
    error_detail: str | None
    failures: int
    failing_since: datetime


@dataclass(frozen=True)
class AlertContent:
    changes: tuple[AlertChange, ...] = ()
    failures: tuple[AlertFailure, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.changes or self.failures)


def _clause(item: ClauseChangeRecord, base_url: str) -> AlertClause:
    change = item.change
    return AlertClause(
        kind=change.kind, heading=" › ".join(change.heading_path), before=change.before, after=change.after,
        severity_before=change.severity_before, severity_after=change.severity_after,
        severity_raised=item.raises_severity, record_id=item.record_id,
        record_url=absolute_url(base_url, record_path(item.record_id)) if item.record_id else None,
        facts=change.facts,
    )


def _change(record: ChangeRecord, base_url: str) -> AlertChange:
    clauses = sorted((_clause(c, base_url) for c in record.clause_changes),
                     key=lambda c: (not c.severity_raised, -severity_rank(c.severity)))
    return AlertChange(
        id=record.id, platform=record.platform, platform_name=record.platform_name, document=record.document_type,
        document_id=record.document_id, detected_at=record.detected_at, severity=record.severity,
        severity_raised=record.severity_raised, url=absolute_url(base_url, document_path(record.document_id)),
        clause_changes=tuple(clauses),
    )


def _failure(failing: FailingDocument, base_url: str) -> AlertFailure:
    return AlertFailure(
        platform=failing.platform, platform_name=failing.platform_name, document=failing.document_type,
        url=absolute_url(base_url, document_path(failing.document_id)), error_kind=failing.error_kind or "error",
        error_detail=failing.error_detail, failures=failing.consecutive_failures, failing_since=failing.failing_since,
    )


def collect_alert(
    changes: Sequence[ChangeRecord], failing: Sequence[FailingDocument], *, base_url: str
) -> AlertContent:
    """Substantive changes (severity raised first, then most severe) and failing documents."""
    built = [_change(c, base_url) for c in changes if c.substantive and not c.technical]
    built.sort(key=lambda c: (not c.severity_raised, -severity_rank(c.severity), c.detected_at, c.id))
    return AlertContent(tuple(built), tuple(_failure(f, base_url) for f in failing))


def for_subscriber(content: AlertContent, subscriber: Subscriber) -> AlertContent:
    """The changes and failures of the platforms a subscriber follows, at or above their minimum severity."""
    changes = []
    for change in content.changes:
        if not subscriber.follows(change.platform):
            continue
        clauses = tuple(c for c in change.clause_changes if subscriber.wants_severity(c.severity))
        if clauses or (not change.clause_changes and subscriber.wants_severity(None)):
            changes.append(replace(change, clause_changes=clauses))
    failures = tuple(f for f in content.failures if subscriber.follows(f.platform))
    return AlertContent(tuple(changes), failures)


class AlertRenderer:
    """Subject, plain text and HTML of one alert email."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/") + "/"
        self.env = environment()

    @staticmethod
    def subject(content: AlertContent) -> str:
        parts = []
        if len(content.changes) == 1:
            only = content.changes[0]
            parts.append(f"{only.platform_name} {only.document} changed")
        elif content.changes:
            parts.append(f"{len(content.changes)} documents changed")
        raised = sum(1 for c in content.changes if c.severity_raised)
        if raised:
            parts.append("severity raised" if len(content.changes) == 1 else f"{raised} with severity raised")
        if content.failures:
            parts.append(f"{len(content.failures)} document{'s' if len(content.failures) != 1 else ''} failing")
        return "clausewatch alert: " + ", ".join(parts)

    def render(self, content: AlertContent, subscriber: Subscriber | None = None) -> tuple[str, str, str]:
        subject = self.subject(content)
        context = {"alert": content, "subscriber": subscriber, "base_url": self.base_url, "subject": subject}
        text = self.env.get_template("alert.txt.j2").render(context)
        html = self.env.get_template("alert.html.j2").render(context)
        return subject, text, html


@dataclass(frozen=True)
class AlertMessage:
    """One subscriber's alert, with the changes it carries (marked alerted once it is delivered)."""

    subscriber: Subscriber
    message: EmailMessage
    change_ids: tuple[int, ...]


def alert_messages(
    content: AlertContent, subscribers: Sequence[Subscriber], *, renderer: AlertRenderer, sender: str, now: datetime
) -> tuple[list[AlertMessage], list[mail.Delivery]]:
    """One message per subscriber with something to read; a message that cannot be built is a failed delivery."""
    messages, failures = [], []
    for subscriber in subscribers:
        mine = for_subscriber(content, subscriber)
        if mine.empty:
            continue
        subject, text, html = renderer.render(mine, subscriber)
        try:
            message = mail.build_message(
                sender=sender, recipient=subscriber.email, recipient_name=subscriber.name, subject=subject,
                text=text, html=html, list_unsubscribe=unsubscribe_link(subscriber, sender), date=now,
            )
        except mail.MailError as exc:
            failures.append(mail.Delivery(subscriber.email, subject, ok=False, error=str(exc)))
            continue
        messages.append(AlertMessage(subscriber, message, tuple(c.id for c in mine.changes)))
    return messages, failures

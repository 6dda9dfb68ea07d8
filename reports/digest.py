"""The weekly digest: changes of the period ordered by severity, failing documents, per subscriber.

:func:`collect_digest` reads the period from the store once; :func:`for_subscriber`
narrows it to what one subscriber follows; :class:`DigestRenderer` turns it
into subject, plain text and HTML (absolute links, since an email has no
relative base); :func:`send_weekly_digest` builds one message per subscriber
with :mod:`reports.mail` and delivers them, one failure never stopping the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from analysis.domain import FactChange, severity_rank
from reports import mail
from reports.site import model
from reports.site.contexts import absolute_url, change_anchor, document_path, record_path
from reports.site.render import environment
from reports.subscribers import Subscriber, SubscriberList
from store.repository import Store
from store.changes import ChangeRecord, ClauseChangeRecord
from store.site_data import DocumentInfo, load_site_data

# With no subscriber configured, a dry run still writes the full digest, addressed here.
PREVIEW_RECIPIENT = "digest-preview@clausewatch.invalid"


@dataclass(frozen=True)
class DigestClauseChange:
    kind: str
    heading: str
    before: str | None
    after: str | None
    severity_before: str | None
    severity_after: str | None
    records: tuple[tuple[str, str], ...]  # (clause type title, absolute record URL)
    facts: tuple[FactChange, ...] = ()  # the stated facts that moved

    @property
    def severity(self) -> str | None:
        return max((self.severity_before, self.severity_after), key=severity_rank)


@dataclass(frozen=True)
class DigestChange:
    platform: str
    platform_name: str
    document: str
    document_id: str
    detected_at: datetime
    severity: str | None
    severity_raised: bool
    url: str
    clause_changes: tuple[DigestClauseChange, ...]


@dataclass(frozen=True)
class FailingDocument:
    platform: str
    platform_name: str
    document: str
    url: str
    error_kind: str | None
    failures: int
    last_attempt: datetime | None


@dataclass(frozen=True)
class DigestContent:
    since: datetime
    until: datetime
    changes: tuple[DigestChange, ...]  # most severe first
    failing: tuple[FailingDocument, ...]
    cosmetic: int = 0  # cosmetic changes archived in the period, not listed

    @property
    def empty(self) -> bool:
        return not (self.changes or self.failing)


def _clause_change(doc: DocumentInfo, item: ClauseChangeRecord, base_url: str) -> DigestClauseChange:
    types = {p.id: p.clause_type for p in doc.provisions}
    records = tuple((model.type_title(types[record_id]), absolute_url(base_url, record_path(record_id)))
                    for record_id in item.record_ids)
    change = item.change
    return DigestClauseChange(change.kind, " › ".join(change.heading_path), change.before, change.after,
                              change.severity_before, change.severity_after, records, change.facts)


def _digest_change(doc: DocumentInfo, change: ChangeRecord, base_url: str) -> DigestChange:
    clause_changes = sorted((_clause_change(doc, c, base_url) for c in change.clause_changes),
                            key=lambda c: -severity_rank(c.severity))
    return DigestChange(
        platform=doc.document.platform, platform_name=doc.document.platform_name,
        document=model.document_title(doc), document_id=doc.document.id, detected_at=change.detected_at,
        severity=change.severity, severity_raised=change.severity_raised,
        url=absolute_url(base_url, document_path(doc.document.id)) + "#" + change_anchor(change),
        clause_changes=tuple(clause_changes),
    )


def _rank(change: DigestChange) -> tuple:
    """Raised severity first, then the most severe, then the newest."""
    return (not change.severity_raised, -severity_rank(change.severity), -change.detected_at.timestamp(),
            change.platform_name.lower())


def collect_digest(store: Store, *, since: datetime, until: datetime, base_url: str) -> DigestContent:
    """Substantive changes detected in ``[since, until)`` and the documents whose latest fetches failed."""
    data = load_site_data(store)
    changes, cosmetic = [], 0
    for doc in data.documents:
        for change in doc.changes:
            if not (since <= change.detected_at < until) or not change.from_version or change.technical:
                continue
            if not change.substantive:
                cosmetic += 1
                continue
            changes.append(_digest_change(doc, change, base_url))
    failing = tuple(
        FailingDocument(doc.document.platform, doc.document.platform_name, model.document_title(doc),
                        absolute_url(base_url, document_path(doc.document.id)), doc.health.last_error_kind,
                        doc.health.consecutive_failures, doc.health.last_attempt)
        for doc in data.documents if doc.health.consecutive_failures
    )
    return DigestContent(since, until, tuple(sorted(changes, key=_rank)), failing, cosmetic)


def for_subscriber(content: DigestContent, subscriber: Subscriber) -> DigestContent:
    """Only the platforms the subscriber follows and the changes reaching their minimum severity."""
    changes = tuple(c for c in content.changes
                    if subscriber.follows(c.platform) and subscriber.wants_severity(c.severity))
    failing = tuple(f for f in content.failing if subscriber.follows(f.platform))
    return replace(content, changes=changes, failing=failing)


class DigestRenderer:
    """Subject, plain text and HTML of one digest, from ``digest.txt.j2`` and ``digest.html.j2``."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/") + "/"
        self.env = environment()

    def subject(self, content: DigestContent) -> str:
        high = sum(1 for c in content.changes if c.severity == "high")
        period = f"{content.since:%b %d} – {content.until:%b %d, %Y}"
        counts = f"{len(content.changes)} change{'s' if len(content.changes) != 1 else ''}"
        if high:
            counts += f", {high} high severity"
        if content.failing:
            counts += f", {len(content.failing)} failing"
        return f"clausewatch weekly digest: {counts} ({period})"

    def render(self, content: DigestContent, subscriber: Subscriber | None = None) -> tuple[str, str, str]:
        context = {"digest": content, "subscriber": subscriber, "base_url": self.base_url,
                   "subject": self.subject(content)}
        text = self.env.get_template("digest.txt.j2").render(context)
        html = self.env.get_template("digest.html.j2").render(context)
        return context["subject"], text, html


@dataclass
class DigestReport:
    since: datetime
    until: datetime
    changes: int
    failing: int
    deliveries: list[mail.Delivery] = field(default_factory=list)
    subscriber_errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(d.ok for d in self.deliveries)

    @property
    def failed(self) -> int:
        """Subscribers whose digest could not be delivered."""
        return sum(1 for d in self.deliveries if not d.ok)

    @property
    def counts(self) -> dict[str, int]:
        return {"changes": self.changes, "failing_documents": self.failing,
                "delivered": len(self.deliveries) - self.failed, "failed": self.failed}


def unsubscribe_link(subscriber: Subscriber, sender: str) -> str:
    if subscriber.unsubscribe:
        return subscriber.unsubscribe
    address = parseaddr(sender)[1] or "unsubscribe@clausewatch.invalid"
    # Short on purpose: a long header value would be folded into RFC 2047 encoded words clients cannot parse.
    return f"mailto:{address}?subject=unsubscribe"


def digest_messages(
    content: DigestContent, subscribers: Sequence[Subscriber], *, renderer: DigestRenderer, sender: str, now: datetime
) -> tuple[list[EmailMessage], list[mail.Delivery]]:
    """One message per subscriber; a subscriber whose message cannot be built gets a failed delivery."""
    messages, failures = [], []
    for subscriber in subscribers:
        mine = for_subscriber(content, subscriber)
        subject, text, html = renderer.render(mine, subscriber)
        try:
            messages.append(mail.build_message(
                sender=sender, recipient=subscriber.email, recipient_name=subscriber.name, subject=subject,
                text=text, html=html, list_unsubscribe=unsubscribe_link(subscriber, sender), date=now,
            ))
        except mail.MailError as exc:
            failures.append(mail.Delivery(subscriber.email, subject, ok=False, error=str(exc)))
    return messages, failures


def send_weekly_digest(
    store: Store, subscribers: SubscriberList, *, since: datetime, now: datetime, base_url: str, sender: str,
    smtp: mail.SmtpConfig, dry_run: Path | None = None,
) -> DigestReport:
    """Build and deliver the digest of ``[since, now)`` to every digest subscriber.

    With no subscriber configured, a dry run writes one digest covering everything.
    """
    content = collect_digest(store, since=since, until=now, base_url=base_url)
    recipients = list(subscribers.for_digest())
    if not recipients and dry_run is not None:
        recipients = [Subscriber(PREVIEW_RECIPIENT, name="Everything (preview)")]
    messages, failures = digest_messages(content, recipients, renderer=DigestRenderer(base_url), sender=sender, now=now)
    deliveries = failures + mail.deliver(messages, mail.mailer_for(smtp, dry_run)) if messages else failures
    return DigestReport(since, now, len(content.changes), len(content.failing), deliveries, subscribers.errors)

"""The weekly digest: the period's changes ordered by severity and the failing documents, per subscriber.

:func:`collect_digest` reads only the period's changes (and the documents they
touch) and the failing documents from the store — never the archive — into the
shared notification model (:mod:`reports.notification`), which filters it per
subscriber and renders it from ``digest.txt.j2`` and ``digest.html.j2``.
:func:`send_weekly_digest` delivers one message per subscriber, one failure
never stopping the rest. A subscriber with nothing at their threshold still
gets a short "nothing at your threshold" digest: a weekly email that does not
come is indistinguishable from a broken monitor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reports import mail
from reports.notification import Notification, NotificationRenderer, build_messages, collect
from reports.subscribers import SubscriberList
from store.change_records import failing_documents, list_changes
from store.repository import Store


def collect_digest(store: Store, *, since: datetime, until: datetime, base_url: str) -> Notification:
    """Changes detected in ``[since, until)`` (substantive listed, cosmetic counted) and failing documents."""
    changes = [c for c in list_changes(store, since=since) if c.detected_at < until]
    return collect(changes, failing_documents(store, at_least=1), base_url=base_url, since=since, until=until)


def digest_subject(content: Notification) -> str:
    period = f"{content.since:%b %d} – {content.until:%b %d, %Y}"
    if not content.changes and content.below_threshold:
        return f"clausewatch weekly digest: nothing at your threshold ({period})"
    counts = f"{len(content.changes)} change{'s' if len(content.changes) != 1 else ''}"
    if content.high:
        counts += f", {content.high} high severity"
    if content.failures:
        counts += f", {len(content.failures)} failing"
    return f"clausewatch weekly digest: {counts} ({period})"


def digest_renderer(base_url: str) -> NotificationRenderer:
    return NotificationRenderer(base_url, "digest", digest_subject)


@dataclass
class DigestReport:
    since: datetime
    until: datetime
    changes: int
    failing: int
    deliveries: list[mail.Delivery] = field(default_factory=list)

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


def send_weekly_digest(
    store: Store, subscribers: SubscriberList, *, since: datetime, now: datetime, base_url: str, sender: str,
    mailer: mail.Mailer,
) -> DigestReport:
    """Build and deliver the digest of ``[since, now)`` to every digest subscriber."""
    content = collect_digest(store, since=since, until=now, base_url=base_url)
    messages, failures = build_messages(content, subscribers.for_digest(), renderer=digest_renderer(base_url),
                                        sender=sender, now=now, when_empty=True)
    deliveries = failures + mail.deliver([m.message for m in messages], mailer) if messages else failures
    return DigestReport(since, now, len(content.changes), len(content.failures), deliveries)

"""Same-day alerts, wired: store → pending changes and failing documents → one email per subscriber.

Each change is alerted once: it is marked ``alerted_at`` when at least one
message carrying it was delivered (or when no subscriber wanted it). A change
whose every message failed stays pending and is tried again next run. Technical
changes (``reprocess``) and cosmetic ones never alert. A dry run writes ``.eml``
files and marks nothing, so it can be repeated.

A failing document is alerted once per failure streak: the start of the streak
last alerted is remembered in ``HOME/alert-state.json``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from clausewatch.app import ensure_folder, open_store, smtp_config, utcnow
from clausewatch.settings import Settings
from reports import mail
from reports.alerts import AlertMessage, AlertRenderer, alert_messages, collect_alert
from reports.subscribers import load_subscribers
from store.changes import FailingDocument, failing_documents, list_changes, mark_alerted
from store.repository import Store

log = logging.getLogger(__name__)

STATE_FILE = "alert-state.json"


@dataclass
class AlertReport:
    """What an alerts run did: changes and failures considered, deliveries, what was marked alerted."""

    changes: int = 0
    failing: int = 0
    deliveries: list[mail.Delivery] = field(default_factory=list)
    alerted_change_ids: list[int] = field(default_factory=list)
    subscriber_errors: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def failed(self) -> int:
        """Undelivered messages plus bad subscriber entries: the problems of the run."""
        return sum(not d.ok for d in self.deliveries) + len(self.subscriber_errors)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "pending_changes": self.changes, "failing_documents": self.failing,
            "sent": sum(d.ok for d in self.deliveries), "failed": self.failed,
            "alerted_changes": len(self.alerted_change_ids),
        }


def send_alerts(
    settings: Settings, *, store: Store | None = None, dry_run: Path | None = None, now: datetime | None = None
) -> AlertReport:
    """Email every alert subscriber about the changes not yet alerted and newly failing documents."""
    now = now or utcnow()
    if dry_run is not None:
        ensure_folder(dry_run, "alerts --dry-run")
    owned = store is None
    store = store or open_store(settings)
    try:
        return _send(settings, store, dry_run, now)
    finally:
        if owned:
            store.close()


def _send(settings: Settings, store: Store, dry_run: Path | None, now: datetime) -> AlertReport:
    subscribers = load_subscribers(settings.subscribers)
    pending = list_changes(store, pending_alert=True)
    state = _FailureState(settings.home / STATE_FILE)
    failing = [f for f in failing_documents(store, at_least=settings.failure_alert_after) if state.is_new(f)]
    content = collect_alert(pending, failing, base_url=settings.base_url)
    messages, unbuildable = alert_messages(
        content, subscribers.for_alerts(), renderer=AlertRenderer(settings.base_url), sender=settings.mail_from, now=now
    )
    sent = mail.deliver([m.message for m in messages], mail.mailer_for(smtp_config(settings), dry_run))
    report = AlertReport(len(pending), len(failing), unbuildable + sent, subscriber_errors=subscribers.errors,
                         dry_run=dry_run is not None)
    if dry_run is None:
        _remember(store, state, report, messages, sent, pending, failing, now)
    return report


def _remember(store, state, report, messages: list[AlertMessage], sent: list[mail.Delivery], pending, failing, now):
    """Mark what reached someone (or no one wanted) as alerted; keep the rest pending."""
    offered = {change_id for m in messages for change_id in m.change_ids}
    delivered = {change_id for m, d in zip(messages, sent, strict=True) if d.ok for change_id in m.change_ids}
    done = [c.id for c in pending if c.id in delivered or c.id not in offered]
    mark_alerted(store, done, now)
    report.alerted_change_ids = done
    if not messages or any(d.ok for d in sent):
        state.record(failing)


class _FailureState:
    """The failure streaks already alerted, by document, in a small JSON file."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.alerted: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.alerted = {}
        except (OSError, ValueError) as exc:
            log.warning("%s is unreadable (%s); failing documents may be alerted again", path, exc)
            self.alerted = {}

    def is_new(self, failing: FailingDocument) -> bool:
        return self.alerted.get(failing.document_id) != failing.failing_since.isoformat()

    def record(self, failing: list[FailingDocument]) -> None:
        if not failing:
            return
        self.alerted.update({f.document_id: f.failing_since.isoformat() for f in failing})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.alerted, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(self.path)

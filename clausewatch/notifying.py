"""Notifications wired to settings: same-day alerts, the subscribers file, and the one sending rule.

Alerts are exactly once across hosts. Before sending, a run *claims* each
pending change and each new failure streak in the store
(:mod:`store.notifications`); two hosts running the alerts job at once claim
disjoint sets, so no change is emailed twice. What reached someone (or no
subscriber wanted) is confirmed — and the change marked ``alerted_at``; what
every message failed to deliver is released and tried again next run.
Technical changes (``reprocess``) and cosmetic ones never alert. A dry run
writes ``.eml`` files, claims nothing and marks nothing, so it can be repeated.

Failure-alert state once lived in ``HOME/alert-state.json``, per host: such a
file is imported into the store once (and left in place).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from clausewatch.app import new_holder, smtp_config, store_failure_line, store_for, utcnow, writable_folder
from clausewatch.errors import BadInputError
from clausewatch.settings import Settings
from reports import mail
from reports.alerts import alert_renderer
from reports.notification import Outgoing, build_messages, collect, failure_key, streak_key
from reports.subscribers import Subscriber, SubscriberList, require_subscribers
from store import notifications
from store.change_records import failing_documents, list_changes, mark_alerted
from store.repository import Store, StoreFailedError

log = logging.getLogger(__name__)

LEGACY_STATE_FILE = "alert-state.json"


def check_sending(*, send: bool, dry_run: Path | None, command: str) -> None:
    """The one sending rule of ``alerts`` and ``digest``: ``--send`` or ``--dry-run DIR``, exactly one.

    Never a silent default: an unattended job passes ``send=True`` itself. Checked first, before any file is read.
    """
    if send == (dry_run is not None):
        raise BadInputError(f"{command}: give --send to send over SMTP, or --dry-run DIR to write .eml files "
                            "there instead" + (" (not both)" if send else ""))


def mailer_for(settings: Settings, *, dry_run: Path | None, command: str) -> mail.Mailer:
    """The mailer the sending rule allowed (:func:`check_sending`, which the caller ran first, before reading any
    file); asked for once the store and the subscribers file are read, so bad input leaves no ``--dry-run`` folder
    behind."""
    if dry_run is not None:
        return mail.DirectoryMailer(writable_folder(dry_run, f"{command} --dry-run"))
    return mail.SmtpMailer(smtp_config(settings))


def subscribers_of(settings: Settings, store: Store, receiving: str) -> SubscriberList:
    """The subscribers file, required to list someone ``receiving`` (``alerts`` or ``digest``), and checked
    against the platforms the catalog and the store know."""
    return require_subscribers(settings.subscribers, receiving=receiving, platforms=known_platforms(settings, store))


def known_platforms(settings: Settings, store: Store) -> set[str]:
    known = {d.platform for d in store.catalog.documents()}
    if Path(settings.catalog).is_dir():
        from crawler.declarations import load_catalog

        known |= {p.slug for p in load_catalog(Path(settings.catalog)).platforms}
    return known


@dataclass
class AlertReport:
    """What an alerts run did: changes and failures considered, deliveries, what was marked alerted."""

    changes: int = 0
    failing: int = 0
    deliveries: list[mail.Delivery] = field(default_factory=list)
    alerted_change_ids: list[int] = field(default_factory=list)
    dry_run: bool = False

    @property
    def failed(self) -> int:
        """Undelivered messages: the problems of the run."""
        return sum(not d.ok for d in self.deliveries)

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
    settings: Settings, *, store: Store | None = None, send: bool = False, dry_run: Path | None = None,
    now: datetime | None = None,
) -> AlertReport:
    """Email every alert subscriber about the changes not yet alerted and newly failing documents."""
    now = now or utcnow()
    check_sending(send=send, dry_run=dry_run, command="alerts")
    # A dry run only reads: it marks nothing sent, so it also runs on a store it may not write.
    with store_for(settings, store, "read" if dry_run is not None else "write") as opened:
        subscribers = subscribers_of(settings, opened, "alerts")  # before anything is claimed or marked
        mailer = mailer_for(settings, dry_run=dry_run, command="alerts")
        if dry_run is None:
            import_legacy_state(opened, settings.home / LEGACY_STATE_FILE, now=now)
        return _Run(settings, opened, new_holder(), now, dry=dry_run is not None).alert(subscribers, mailer)


class AlertsNotRecordedError(BadInputError):
    """The alerts went out, then the store failed before recording it: ``report`` says who got what."""

    def __init__(self, report: AlertReport, failure: str):
        self.report = report
        delivered = sum(d.ok for d in report.deliveries)
        super().__init__(f"{failure}; {delivered} alert message(s) were delivered before it and may not be recorded "
                         f"as sent: if not, their claims run out after {notifications.CLAIM_TTL}, and a run after "
                         "that sends them again")


@dataclass
class _Run:
    settings: Settings
    store: Store
    holder: str
    now: datetime
    dry: bool

    def alert(self, subscribers: SubscriberList, mailer: mail.Mailer) -> AlertReport:
        pending = {c.id: c for c in list_changes(self.store, pending_alert=True)}
        failing = {failure_key(f): f for f in failing_documents(self.store, at_least=self.settings.failure_alert_after)}
        change_keys = self._take(notifications.CHANGE, map(str, pending))
        failure_keys = self._take(notifications.FAILURE, failing)
        content = collect([pending[int(k)] for k in change_keys], [failing[k] for k in failure_keys],
                          base_url=self.settings.base_url)
        recipients = subscribers.for_alerts()
        received = self._received(change_keys, failure_keys, recipients)
        messages, unbuildable = build_messages(content, recipients, renderer=alert_renderer(self.settings.base_url),
                                               sender=self.settings.mail_from, now=self.now, when_empty=False,
                                               received=lambda subscriber: received.get(subscriber.email.lower(), ()))
        sent = mail.deliver([m.message for m in messages], mailer)
        report = AlertReport(len(change_keys), len(failure_keys), unbuildable + sent, dry_run=self.dry)
        if not self.dry:
            try:
                report.alerted_change_ids = self._settle(messages, sent, change_keys, failure_keys)
            except StoreFailedError as exc:
                raise AlertsNotRecordedError(report, store_failure_line(self.settings, exc)) from exc
        return report

    def _take(self, kind: str, keys) -> list[str]:
        """Claim ``keys`` (a dry run only leaves out what is claimed already), in their order."""
        keys = list(keys)
        if self.dry:
            taken = set(keys) - notifications.claimed(self.store, kind, keys)
        else:
            taken = notifications.claim(self.store, kind, keys, holder=self.holder, now=self.now)
        return [k for k in keys if k in taken]

    def _received(self, change_keys: list[str], failure_keys: list[str],
                  recipients: Sequence[Subscriber]) -> dict[str, set[str]]:
        """For each recipient (address in lower case), the keys of this run they got in an earlier one."""
        wanted = {notifications.received_key(kind, key, r.email): (r.email.lower(), key)
                  for kind, keys in ((notifications.CHANGE, change_keys), (notifications.FAILURE, failure_keys))
                  for key in keys for r in recipients}
        received: dict[str, set[str]] = {}
        for marker in notifications.claimed(self.store, notifications.RECEIVED, wanted):
            recipient, key = wanted[marker]
            received.setdefault(recipient, set()).add(key)
        return received

    def _settle(self, messages: list[Outgoing], sent: list[mail.Delivery], change_keys: list[str],
                failure_keys: list[str]) -> list[int]:
        """Confirm what reached everyone it was offered to (or no one wanted); release the rest for the next run.

        A key some recipients got and others did not stays pending, and who got
        it is recorded (``notifications.RECEIVED``): the next run sends it to
        the others only. (It was confirmed once any one recipient had it: a
        subscriber whose server refused an alert never got it.)
        """
        kinds = {**dict.fromkeys(change_keys, notifications.CHANGE), **dict.fromkeys(failure_keys, notifications.FAILURE)}
        failed = {key for m, d in zip(messages, sent, strict=True) if not d.ok for key in _keys(m)}
        got = [notifications.received_key(kinds[key], key, m.subscriber.email)
               for m, d in zip(messages, sent, strict=True) if d.ok for key in _keys(m) if key in failed]
        notifications.record_sent(self.store, notifications.RECEIVED, got, holder=self.holder, now=self.now)
        done = {key for key in kinds if key not in failed}
        for kind, keys in ((notifications.CHANGE, change_keys), (notifications.FAILURE, failure_keys)):
            notifications.confirm(self.store, kind, [k for k in keys if k in done], holder=self.holder, now=self.now)
            notifications.release(self.store, kind, [k for k in keys if k not in done], holder=self.holder)
        alerted = [int(k) for k in change_keys if k in done]
        mark_alerted(self.store, alerted, self.now)
        return alerted


def _keys(message: Outgoing) -> list[str]:
    return [*map(str, message.change_ids), *message.failure_keys]


def import_legacy_state(store: Store, path: Path, *, now: datetime) -> int:
    """Import ``HOME/alert-state.json`` (document id → start of the streak alerted) once; the file stays."""
    if not path.is_file():
        return 0
    marker = f"{socket.gethostname()}:{path.resolve()}"
    if notifications.claimed(store, notifications.IMPORT, [marker]):
        return 0
    try:
        alerted = json.loads(path.read_text(encoding="utf-8"))
        keys = [streak_key(document_id, since) for document_id, since in alerted.items()]
    except (OSError, ValueError, AttributeError) as exc:
        log.warning("%s is unreadable (%s); not imported, failing documents may be alerted again", path, exc)
        keys = []
    imported = notifications.record_sent(store, notifications.FAILURE, keys, holder=new_holder(), now=now)
    notifications.record_sent(store, notifications.IMPORT, [marker], holder=new_holder(), now=now)
    return imported

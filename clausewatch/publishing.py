"""Publishing wired to settings: the static site and the weekly digest.

``build_site`` and ``send_digest`` are what the CLI, the scheduler and the
``run`` job call; the work itself lives in :mod:`reports.site` and
:mod:`reports.digest`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

from clausewatch.app import ensure_folder, store_for, utcnow
from clausewatch.errors import BadInputError
from clausewatch.notifying import check_sending, mailer_for, subscribers_of
from clausewatch.settings import Settings
from clausewatch.signing import published_key
from reports import site
from reports.digest import DigestReport, send_weekly_digest
from reports.site import SiteReport
from reports.site.manifest import MANIFEST_NAME, is_site_folder
from store.repository import Store

DIGEST_PERIOD = timedelta(days=7)


class SiteFolderError(BadInputError):
    """The site folder holds files and no build manifest: someone else's folder, never written into."""


def build_site(settings: Settings, *, store: Store | None = None, out: Path | None = None,
               full: bool = False, progress: Callable[[SiteReport], None] | None = None) -> SiteReport:
    """Build the static site into ``out`` (default ``settings.site_dir``), only rewriting what changed."""
    key = published_key(settings)
    with store_for(settings, store, "read") as opened:  # publishing never writes to the store
        folder = _site_folder(Path(out or settings.site_dir))
        return site.build(opened, folder, base_url=settings.base_url, full=full,
                          progress=progress, public_key=key)


def _site_folder(folder: Path) -> Path:
    """The site's folder, created if needed; a non-empty folder no build made is refused, since a
    build overwrites pages and removes the ones it no longer produces."""
    if not is_site_folder(folder):
        raise SiteFolderError(f"{folder} is not empty and was not made by `clausewatch site` (no {MANIFEST_NAME}); "
                              "it was left untouched: choose another folder (site --out, CLAUSEWATCH_SITE_DIR)")
    return ensure_folder(folder, "SITE_DIR (site --out, CLAUSEWATCH_SITE_DIR)")


def send_digest(settings: Settings, *, store: Store | None = None, since: datetime | None = None,
                send: bool = False, dry_run: Path | None = None) -> DigestReport:
    """Send (``send``) or write as ``.eml`` files (``dry_run``) the digest of changes since ``since`` (default a week)."""
    now = utcnow()
    check_sending(send=send, dry_run=dry_run, command="digest")
    if since is not None and since > now:  # a period that ends before it begins: a typo, never an empty digest
        raise BadInputError(f"digest: --since {since:%Y-%m-%d %H:%M} UTC is in the future")
    with store_for(settings, store, "read") as opened:
        subscribers = subscribers_of(settings, opened, "digest")
        return send_weekly_digest(
            opened, subscribers, since=since or now - DIGEST_PERIOD, now=now, base_url=settings.base_url,
            sender=settings.mail_from, mailer=mailer_for(settings, dry_run=dry_run, command="digest"),
        )


def send_job_digest(settings: Settings, store: Store, job_id: str, since: datetime | None) -> DigestReport:
    """The digest job's run: each subscriber's period starts where their last digest of this job ended.

    Who got it is recorded (``notifications.DIGEST``); a subscriber with no
    record yet starts at ``since`` (the job's last good run; else a week ago),
    and one whose digest was refused keeps that start, so the next run covers
    their whole period while the others get only what is new: one address
    refused for good holds no one else's digest back (decision 0020).
    """
    from store import notifications

    now = utcnow()
    subscribers = subscribers_of(settings, store, "digest")
    readers = subscribers.for_digest()
    ends = notifications.digest_periods_end(store, job_id, [s.email for s in readers])
    default = since or now - DIGEST_PERIOD
    periods: dict[datetime, list] = {}
    for reader in readers:
        periods.setdefault(ends.get(reader.email.lower(), default), []).append(reader)
    mailer = mailer_for(settings, dry_run=None, command="digest")
    deliveries, changes, failing = [], 0, 0
    for start, members in sorted(periods.items()):
        report = send_weekly_digest(store, replace(subscribers, subscribers=tuple(members)), since=start, now=now,
                                    base_url=settings.base_url, sender=settings.mail_from, mailer=mailer)
        got = {parseaddr(d.recipient)[1].lower() for d in report.deliveries if d.ok}
        notifications.record_digest_periods(store, job_id, got, until=now)
        # A first digest refused: its period still starts here next time, whatever the job's next good run.
        first_refused = [m.email for m in members if m.email.lower() not in got and m.email.lower() not in ends]
        notifications.record_digest_periods(store, job_id, first_refused, until=start)
        deliveries += report.deliveries
        changes, failing = max(changes, report.changes), max(failing, report.failing)
    return DigestReport(min(periods, default=default), now, changes, failing, deliveries)

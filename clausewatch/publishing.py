"""Publishing wired to settings: the static site and the weekly digest.

``build_site`` and ``send_digest`` are what the CLI, the scheduler and the
``run`` job call; the work itself lives in :mod:`reports.site` and
:mod:`reports.digest`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from clausewatch.app import open_store, smtp_config, utcnow
from clausewatch.settings import Settings
from reports import site
from reports.digest import DigestReport, send_weekly_digest
from reports.site import SiteReport
from reports.subscribers import load_subscribers
from store.repository import Store
from store.signing import public_key_path

DIGEST_PERIOD = timedelta(days=7)


@contextmanager
def _store(settings: Settings, store: Store | None) -> Iterator[Store]:
    if store is not None:
        yield store
        return
    opened = open_store(settings)
    try:
        yield opened
    finally:
        opened.close()


def build_site(settings: Settings, *, store: Store | None = None, out: Path | None = None,
               full: bool = False, progress: Callable[[SiteReport], None] | None = None) -> SiteReport:
    """Build the static site into ``out`` (default ``settings.site_dir``), only rewriting what changed."""
    key = public_key_path(settings.log_key)
    with _store(settings, store) as opened:
        return site.build(opened, Path(out or settings.site_dir), base_url=settings.base_url, full=full,
                          progress=progress, public_key=key.read_bytes() if key.is_file() else None)


def send_digest(settings: Settings, *, store: Store | None = None, since: datetime | None = None,
                dry_run: Path | None = None) -> DigestReport:
    """Send (or with ``dry_run`` write as ``.eml`` files) the digest of changes since ``since`` (default a week)."""
    now = utcnow()
    subscribers = load_subscribers(settings.subscribers)
    with _store(settings, store) as opened:
        return send_weekly_digest(
            opened, subscribers, since=since or now - DIGEST_PERIOD, now=now, base_url=settings.base_url,
            sender=settings.mail_from, smtp=smtp_config(settings), dry_run=dry_run,
        )

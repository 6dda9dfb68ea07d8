"""Wiring shared by every command: settings → store, catalog and analyser.

Commands receive the resolved :class:`Settings` as ``ctx.obj`` and call these
helpers; nothing below ``clausewatch/`` reads settings or the environment.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from analysis.domain import PlatformSpec
from clausewatch.settings import Settings

if TYPE_CHECKING:  # imported where used: every command loads this module (decision 0014)
    from crawler.declarations import CatalogLoad
    from reports.mail import Delivery, SmtpConfig
    from store.repository import Store

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def open_store(settings: Settings) -> Store:
    """Open (creating and migrating as needed) the store the settings name."""
    from store.repository import Store

    settings.home.mkdir(parents=True, exist_ok=True)
    return Store.open(settings.database_url, settings.blobs)


def read_catalog(settings: Settings, *, strict: bool = False) -> CatalogLoad:
    """Load every declaration of the catalog folder; bad files are reported, never fatal.

    With ``strict`` a catalog with any error is a usage error (exit status 2).
    """
    from crawler.declarations import load_catalog

    folder = Path(settings.catalog)
    if not folder.is_dir():
        raise click.UsageError(f"catalog folder {folder} does not exist (set --catalog or CLAUSEWATCH_CATALOG)")
    loaded = load_catalog(folder)
    for warning in getattr(loaded, "warnings", ()):
        click.echo(f"catalog warning: {warning}", err=True)
    for error in loaded.errors:
        click.echo(f"catalog: {error}", err=True)
    if strict and loaded.errors:
        raise click.UsageError(f"{len(loaded.errors)} catalog file(s) could not be loaded")
    return loaded


def select_platforms(
    platforms: Sequence[PlatformSpec],
    *,
    slugs: Sequence[str] = (),
    tags: Sequence[str] = (),
    types: Sequence[str] = (),
) -> list[PlatformSpec]:
    """Keep the platforms and documents a selection names (empty selectors keep everything)."""
    chosen: list[PlatformSpec] = []
    wanted_types = {t.lower() for t in types}
    for platform in platforms:
        if slugs and platform.slug not in slugs:
            continue
        documents = tuple(
            doc for doc in platform.documents
            if (not tags or set(tags) & (set(doc.tags) | set(platform.tags)))
            and (not wanted_types or doc.type.lower() in wanted_types)
        )
        if documents:
            chosen.append(replace(platform, documents=documents))
    return chosen


def smtp_config(settings: Settings) -> SmtpConfig:
    """The SMTP server that alerts and digests are sent through."""
    from reports.mail import SmtpConfig

    return SmtpConfig(host=settings.smtp_host, port=settings.smtp_port, starttls=settings.smtp_starttls,
                      user=settings.smtp_user, password=settings.smtp_password)


def parse_since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """Click callback for ``--since DATE``: an ISO date or time, UTC when no zone is given."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected an ISO date such as 2026-03-01, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def echo_deliveries(deliveries: Sequence[Delivery], subscriber_errors: Sequence[str]) -> None:
    """One line per email: sent, written (with its path) or failed (on stderr, with the reason)."""
    for error in subscriber_errors:
        click.echo(f"subscribers: {error}", err=True)
    for delivery in deliveries:
        where = f" → {delivery.path}" if delivery.path else ""
        status = "ok" if delivery.ok else f"FAILED: {delivery.error}"
        click.echo(f"{delivery.recipient}: {status}{where}", err=not delivery.ok)

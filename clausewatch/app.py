"""Wiring shared by every command: settings → store, catalog and analyser.

Commands receive the resolved :class:`Settings` as ``ctx.obj`` and call these
helpers; nothing below ``clausewatch/`` reads settings or the environment.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from analysis.domain import PlatformSpec
from clausewatch.settings import Settings
from crawler.declarations import CatalogLoad, load_catalog
from store.repository import Store

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def open_store(settings: Settings) -> Store:
    """Open (creating and migrating as needed) the store the settings name."""
    settings.home.mkdir(parents=True, exist_ok=True)
    return Store.open(settings.database_url, settings.blobs)


def read_catalog(settings: Settings, *, strict: bool = False) -> CatalogLoad:
    """Load every declaration of the catalog folder; bad files are reported, never fatal.

    With ``strict`` a catalog with any error is a usage error (exit status 2).
    """
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
    from dataclasses import replace

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

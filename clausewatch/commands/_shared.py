"""What several commands print or parse the same way: catalog problems, dates, deliveries, checked documents.

The library below (``clausewatch.app`` and the rest) raises typed errors and
returns data; printing to people and click's parameter errors happen here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from clausewatch.app import CatalogError, read_catalog
from clausewatch.errors import BadInputError
from clausewatch.settings import CRAWL_DELAY_SECONDS, PER_DOMAIN, Settings, site_url

if TYPE_CHECKING:
    from crawler.declarations import CatalogLoad
    from crawler.recorder import DocumentResult
    from reports.mail import Delivery


def read_catalog_reporting(settings: Settings, *, strict: bool = False) -> CatalogLoad:
    """The catalog, with every warning and every error of every file printed on stderr, one a line.

    With ``strict`` a catalog with any error ends the command (exit status 2) listing them all.
    """
    loaded = read_catalog(settings)
    for warning in loaded.warnings:
        click.echo(f"catalog warning: {warning}", err=True)
    if strict and loaded.errors:
        raise CatalogError(Path(settings.catalog), loaded.errors)
    for error in loaded.errors:
        click.echo(f"catalog: {error}", err=True)
    return loaded


def check_platforms(platforms: Sequence[str], known: set[str]) -> None:
    """A platform the store never tracked is a typo, not "0 change(s)" or "reprocessed 0 document(s)"."""
    if unknown := sorted(set(platforms) - known):
        raise BadInputError(f"unknown platform {', '.join(map(repr, unknown))}: the store never tracked it "
                            f"(known: {', '.join(sorted(known)) or 'none'})")


def parse_since(_ctx: click.Context | None, _param: click.Parameter | None, value: str | None) -> datetime | None:
    """Click callback for ``--since DATE``: an ISO date or time, UTC when no zone is given."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected an ISO date such as 2026-03-01, got {value!r}") from None
    try:  # in UTC, as it is stored and shown; "0001-01-01T00:00+14:00" is a moment no datetime holds
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise click.BadParameter(f"{value!r} is out of the range of dates (years 1 to 9999 in UTC)") from None


def echo_deliveries(deliveries: Sequence[Delivery]) -> None:
    """One line per email: sent, written (with its path) or failed (on stderr, with the reason)."""
    for delivery in deliveries:
        where = f" → {delivery.path}" if delivery.path else ""
        status = "ok" if delivery.ok else f"FAILED: {delivery.error}"
        click.echo(f"{delivery.recipient}: {status}{where}", err=not delivery.ok)


def echo_results(results: Sequence[DocumentResult]) -> None:
    """One line per document checked: its id and outcome, then the failure, the version recorded or a detail."""
    for result in results:
        line = f"{result.document_id}  {result.outcome}"
        if result.error_kind:
            line += f"  {result.error_kind}: {result.detail}"
        elif result.version:
            line += f"  {result.version[:12]}"
        elif result.detail:
            line += f"  {result.detail}"
        click.echo(line)


class AsSetting(click.ParamType):
    """A flag read as the setting of the same meaning is read (``clausewatch.settings``), so a value the
    setting refuses (a delay of ``inf``, a base URL that is no URL) is refused as a flag too."""

    def __init__(self, read, metavar: str):
        self.read, self.name, self.metavar = read, read.__name__, metavar

    def get_metavar(self, *_args, **_kwargs) -> str:
        return self.metavar

    def convert(self, value, param, ctx):
        try:
            return self.read(value)
        except (TypeError, ValueError):
            self.fail(f"expects {self.name}, got {value!r}", param, ctx)


DELAY = AsSetting(CRAWL_DELAY_SECONDS, "SECONDS")
CONCURRENCY = AsSetting(PER_DOMAIN, "N")
BASE_URL = AsSetting(site_url, "URL")

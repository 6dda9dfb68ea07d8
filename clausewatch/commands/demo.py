"""`clausewatch demo`: the whole pipeline, offline, on bundled real policies."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import click

from clausewatch.app import first_few, open_store
from clausewatch.commands._global_options import global_options
from clausewatch.commands._paths import GivenPath
from clausewatch.demo import explore_commands, listing_made, run_demo, summarise
from clausewatch.errors import EXIT_PROBLEM
from clausewatch.notifying import send_alerts
from clausewatch.publishing import build_site, send_digest


@click.command("demo")
@global_options
@click.option("--out", type=GivenPath(file_okay=False),
              help="Folder for the demo's store, catalog, site and emails (default HOME/demo); in a folder an earlier demo made, only the files it made are replaced; any other non-empty folder is refused.")
@click.pass_obj
def command(settings, out: Path | None) -> None:
    """Serve sample policies on loopback, crawl version 1, switch to version 2, crawl again, and report."""
    folder = (out or settings.home / "demo").resolve()
    result = run_demo(settings, folder, echo=click.echo)
    settings = result.settings
    mail_dir = folder / "mail"
    with listing_made(folder, result.kept) as listing:
        store = open_store(settings)
        try:
            summarise(store, click.echo)
            alerts = send_alerts(settings, store=store, dry_run=mail_dir / "alerts")
            listing.record()
            site = build_site(settings, store=store)
            listing.site_built()
            digest = send_digest(settings, store=store, dry_run=mail_dir / "digest")
        finally:
            store.close()
    if listing.kept:
        click.echo(f"kept {len(listing.kept)} file(s) the demo did not make (or that changed since): "
                   f"{first_few(listing.kept)}")
    click.echo("")
    click.echo(f"store:    {settings.database_url}")
    click.echo(f"blobs:    {settings.blobs}")
    click.echo(f"catalog:  {settings.catalog}")
    click.echo(f"alerts:   {_written(alerts.deliveries)} email(s) for {alerts.changes} change(s) in "
               f"{mail_dir / 'alerts'}")
    click.echo(f"digest:   {_written(digest.deliveries)} email(s) in {mail_dir / 'digest'}")
    click.echo(f"site:     {site.pages} pages; open {site.out.resolve() / 'index.html'}")
    click.echo("\nexplore the demo's store:")
    for line in explore_commands(settings, program_name()):
        click.echo(f"  {line}")
    unwritten = [d for d in (*alerts.deliveries, *digest.deliveries) if not d.ok]
    for delivery in unwritten:  # a full disk: counted as written, exit 0, and the folder empty
        click.echo(f"error: {delivery.subject!r} to {delivery.recipient} was not written: {delivery.error}", err=True)
    if unwritten:
        raise click.exceptions.Exit(EXIT_PROBLEM)


def _written(deliveries) -> str:
    """How many emails were written, and how many were not."""
    failed = sum(not d.ok for d in deliveries)
    return f"{len(deliveries) - failed}" + (f" (and {failed} not written)" if failed else "")


def program_name() -> str:
    """How to call clausewatch again: ``clausewatch`` when that is on PATH, else the path this run used."""
    typed = sys.argv[0]
    on_path = shutil.which("clausewatch")
    if Path(typed).name == "clausewatch" and (on_path is None or Path(on_path).resolve() != Path(typed).resolve()):
        return shlex.quote(typed)
    return "clausewatch"

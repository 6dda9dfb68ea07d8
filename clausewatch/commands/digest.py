"""`clausewatch digest`: the weekly digest, sent over SMTP or written as .eml files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from clausewatch.commands._global_options import global_options
from clausewatch.commands._paths import GivenPath
from clausewatch.commands._shared import echo_deliveries, parse_since
from clausewatch.publishing import send_digest


@click.command("digest")
@global_options
@click.option("--since", callback=parse_since, metavar="DATE", help="Start of the period (default: a week ago).")
@click.option("--send", is_flag=True, help="Send over SMTP to every digest subscriber.")
@click.option("--dry-run", type=GivenPath(file_okay=False),
              help="Write one .eml file per subscriber into this folder instead of sending.")
@click.pass_obj
def command(settings, since: datetime | None, send: bool, dry_run: Path | None) -> None:
    """Send the weekly digest (--send) or write it as .eml files (--dry-run DIR).

    Exits 2 on a missing or bad subscribers file or one listing no digest subscriber, 1 when a
    subscriber's digest could not be delivered (the others are still sent).
    """
    report = send_digest(settings, since=since, send=send, dry_run=dry_run)
    echo_deliveries(report.deliveries)
    click.echo(f"digest {report.since:%Y-%m-%d} – {report.until:%Y-%m-%d}: {report.changes} change(s), "
               f"{report.failing} failing document(s), {len(report.deliveries)} message(s)")
    if not report.ok:
        raise click.exceptions.Exit(1)

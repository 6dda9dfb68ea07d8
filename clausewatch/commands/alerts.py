"""`clausewatch alerts`: same-day emails about changes not yet alerted and documents that keep failing."""

from __future__ import annotations

from pathlib import Path

import click

from clausewatch.commands._global_options import global_options
from clausewatch.commands._paths import GivenPath
from clausewatch.commands._shared import echo_deliveries
from clausewatch.notifying import AlertsNotRecordedError, send_alerts


@click.command("alerts")
@global_options
@click.option("--send", is_flag=True, help="Send over SMTP to every alert subscriber.")
@click.option("--dry-run", type=GivenPath(file_okay=False),
              help="Write one .eml file per subscriber into this folder; send nothing, mark nothing alerted.")
@click.pass_obj
def command(settings, send: bool, dry_run: Path | None) -> None:
    """Email each alert subscriber (--send, or --dry-run DIR) the substantive changes not yet alerted
    (severity raised first) and the documents that failed FAILURE_ALERT_AFTER fetches in a row.

    Each change is alerted once, whichever host runs this; one no subscriber's filters want is marked
    alerted unsent. Exits 2 on a missing or bad subscribers file or one listing no alert subscriber
    (nothing is marked then), 1 when a subscriber's alert could not be delivered (the others still get theirs).
    """
    try:
        report = send_alerts(settings, send=send, dry_run=dry_run)
    except AlertsNotRecordedError as error:  # who got what, then the error's one line
        echo_deliveries(error.report.deliveries)
        raise
    echo_deliveries(report.deliveries)
    marked = "" if report.dry_run else f", {len(report.alerted_change_ids)} marked alerted"
    click.echo(f"alerts: {report.changes} pending change(s), {report.failing} newly failing document(s), "
               f"{len(report.deliveries)} message(s){marked}")
    if not report.ok:
        raise click.exceptions.Exit(1)

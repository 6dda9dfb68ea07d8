"""`clausewatch export`: every provision record as one JSON document, or the captures as a WACZ web archive."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clausewatch.app import new_file, open_store, refuse_existing, utcnow
from clausewatch.archiving import export_wacz
from clausewatch.commands._global_options import global_options
from clausewatch.commands._paths import GivenPath
from clausewatch.commands._shared import parse_since
from reports.site.exports import export_store


@click.command("export")
@global_options
@click.option("--out", type=GivenPath(dir_okay=False),
              help="File to write (default: standard output).")
@click.option("--wacz", type=GivenPath(dir_okay=False),
              help="Write the captures as a WACZ web archive (replays in pywb / ReplayWeb.page) instead; "
                   "a new file, never one that exists.")
@click.option("--platform", "platforms", multiple=True, help="With --wacz: only this platform (slug); repeatable.")
@click.option("--document", "documents", multiple=True, help="With --wacz: only this document (CW-D-…); repeatable.")
@click.option("--since", callback=parse_since, help="With --wacz: only captures from this date (ISO) on.")
@click.pass_obj
def command(settings, out: Path | None, wacz: Path | None, platforms, documents, since) -> None:
    """Export every provision record (clauses, classification, evidence) as JSON, or with --wacz the captures."""
    if wacz is None and (platforms or documents or since):
        raise click.UsageError("--platform, --document and --since select captures for --wacz")
    if wacz is not None and out is not None:
        raise click.UsageError("--out is for the JSON export; --wacz names the web archive's file itself")
    for path, option in ((wacz, "--wacz"), (out, "--out")):
        if path is None:
            continue
        if str(path) == "-":  # read as standard output, not as a file of that name
            raise click.UsageError(f"{option} -: give a file name"
                                   + ("; the JSON goes to standard output without --out" if option == "--out" else
                                      "; a web archive is a zip file, not a stream"))
        refuse_existing(path, option)  # before any work: an export never replaces a file
    store = open_store(settings, "read")
    try:
        if wacz is not None:
            counts = export_wacz(store, wacz, platforms=platforms, documents=documents, since=since, now=utcnow())
            click.echo(f"exported {counts['records']} record(s), {counts['pages']} page(s) to {wacz} "
                       f"({counts['bytes']} bytes)", err=True)
            return
        data = export_store(store, base_url=settings.base_url)
    finally:
        store.close()
    if out is None:
        sys.stdout.buffer.write(data)  # a failure names standard output (clausewatch.cli), flushed at the end
    else:
        with new_file(out, "--out") as temporary:
            temporary.write_bytes(data)
        click.echo(f"exported to {out}", err=True)

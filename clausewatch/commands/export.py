"""`clausewatch export`: every provision record as one JSON document."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clausewatch.app import open_store
from reports.site.exports import export_store


@click.command("export")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False),
              help="File to write (default: standard output).")
@click.pass_obj
def command(settings, out: Path | None) -> None:
    """Export every provision record (clauses, classification, evidence) as JSON."""
    store = open_store(settings, "read")
    try:
        data = export_store(store, base_url=settings.base_url)
    finally:
        store.close()
    if out is None:
        sys.stdout.buffer.write(data)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        click.echo(f"exported to {out}", err=True)

"""`clausewatch demo`: the whole pipeline, offline, on bundled real policies."""

from __future__ import annotations

from pathlib import Path

import click

from clausewatch.app import open_store
from clausewatch.demo import run_demo, summarise


@click.command("demo")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="Folder for the demo's store, catalog, site and emails (default HOME/demo; replaced).")
@click.pass_obj
def command(settings, out: Path | None) -> None:
    """Serve sample policies on loopback, crawl version 1, switch to version 2, crawl again, and report."""
    folder = (out or settings.home / "demo").resolve()
    result = run_demo(settings, folder, echo=click.echo)
    store = open_store(result.settings)
    try:
        summarise(store, click.echo)
    finally:
        store.close()
    click.echo("")
    click.echo(f"store:    {result.settings.database_url}")
    click.echo(f"blobs:    {result.settings.blobs}")
    click.echo(f"catalog:  {result.settings.catalog}")

"""`clausewatch init`: create the data folder and the store, and load the catalog into it."""

from __future__ import annotations

import click

from clausewatch.app import open_store, read_catalog, utcnow
from clausewatch.signing import ensure_log_key, log_signer


@click.command("init")
@click.pass_obj
def command(settings) -> None:
    """Create the store (SQLite by default, or the database URL), the log signing key, and register the catalog."""
    catalog = read_catalog(settings)
    made = ensure_log_key(settings)
    log_signer(settings)  # an existing key readable by others is refused here too
    store = open_store(settings)
    try:
        documents = store.sync_catalog(catalog.platforms, now=utcnow())
    finally:
        store.close()
    click.echo(f"store ready: {settings.database_url}")
    click.echo(f"blobs: {settings.blobs}")
    click.echo(f"capture-log key: {settings.log_key} ({'made' if made else 'kept'}; public key {settings.log_key}.pub)")
    click.echo(f"catalog: {len(catalog.platforms)} platform(s), {len(documents)} document(s) from {settings.catalog}")
    if catalog.errors:
        raise click.exceptions.Exit(1)

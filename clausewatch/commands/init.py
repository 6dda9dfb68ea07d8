"""`clausewatch init`: create the data folder and the store, and register the catalog in it."""

from __future__ import annotations

import click

from clausewatch.app import open_store, utcnow
from clausewatch.commands._global_options import global_options
from clausewatch.commands._shared import read_catalog_reporting
from clausewatch.errors import EXIT_BAD_INPUT, BadInputError
from clausewatch.signing import ensure_log_key, log_signer


@click.command("init")
@global_options
@click.pass_obj
def command(settings) -> None:
    """Create (or migrate) the store and the capture-log signing key, and register the catalog: new
    documents are added, and documents the catalog no longer declares stop being tracked (their
    history is kept).

    With a catalog file that does not load, nothing stops being tracked and the exit status is 2; so with a
    catalog that declares no document at all while the store tracks some (a mistyped --catalog).
    """
    catalog = read_catalog_reporting(settings)
    store = open_store(settings, "create")
    try:
        made = ensure_log_key(settings, store)  # refused when the log was signed with a key not there
        log_signer(settings)  # an existing key readable by others is refused here too
        before = {d.id: d for d in store.catalog.documents() if d.in_catalog}
        _refuse_to_retire_all(settings, catalog, len(before))
        store.catalog.sync_catalog(catalog.platforms, now=utcnow(), retire_missing=not catalog.errors)
        documents = store.catalog.documents()
    finally:
        store.close()
    click.echo(f"store ready: {settings.database_url}")
    click.echo(f"blobs: {settings.blobs}")
    click.echo(f"capture-log key: {settings.log_key} ({'made' if made else 'kept'}; public key {settings.log_key}.pub)")
    tracked = [d for d in documents if d.in_catalog]
    click.echo(f"catalog: {len(catalog.platforms)} platform(s), {len(tracked)} document(s) from {settings.catalog}")
    for document in documents:
        if document.id in before and not document.in_catalog:
            click.echo(f"no longer tracked: {document.id} {document.platform} · {document.type} (history kept)")
    if catalog.errors:
        click.echo(f"Error: CATALOG: {len(catalog.errors)} problem(s) listed above; no document stopped being "
                   "tracked", err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


def _refuse_to_retire_all(settings, catalog, tracked: int) -> None:
    """A catalog declaring nothing would stop the tracking of every document: far likelier a wrong folder than
    the wish to track nothing (for which a new store is the way)."""
    if tracked and not any(p.documents for p in catalog.platforms):
        raise BadInputError(f"the catalog {settings.catalog} declares no document: init would stop tracking all "
                            f"{tracked} tracked document(s); nothing changed (CATALOG, --catalog)")

"""`clausewatch migrate`: create the store or bring its schema to the newest version; nothing else."""

from __future__ import annotations

import click

from clausewatch.app import open_store
from clausewatch.commands._global_options import global_options


@click.command("migrate")
@global_options
@click.pass_obj
def command(settings) -> None:
    """Create the store if it does not exist, or migrate its schema to this version of clausewatch.

    The catalog is not read: `init` and `crawl` register it. On PostgreSQL,
    concurrent migrations wait for each other (an advisory lock). A database
    holding another program's tables is refused and left untouched.
    """
    store = open_store(settings, "create")
    store.close()
    click.echo(f"store at the newest schema: {settings.database_url}")

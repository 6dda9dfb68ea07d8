"""`clausewatch sign-log`: sign the capture log's tree head now (crawls sign at their end by themselves)."""

from __future__ import annotations

import click

from clausewatch.app import open_store
from clausewatch.commands._global_options import global_options
from clausewatch.signing import log_signer, sign_log


@click.command("sign-log")
@global_options
@click.pass_obj
def command(settings) -> None:
    """Sign a tree head over every capture logged so far, e.g. after distributed crawl workers without the key."""
    signer = log_signer(settings)
    store = open_store(settings)
    try:
        head = sign_log(store, signer)
    finally:
        store.close()
    click.echo(f"tree head signed: {head.size} entries, root {head.root.hex()}, {head.time:%Y-%m-%d %H:%M:%S} UTC")

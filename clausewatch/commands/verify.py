"""`clausewatch verify`: re-hash every stored blob; exit 1 on any mismatch."""

from __future__ import annotations

import click

from clausewatch.app import open_store


@click.command("verify")
@click.pass_obj
def command(settings) -> None:
    """Re-hash every blob and check every snapshot and version has its blob."""
    store = open_store(settings, "read")
    try:
        problems = store.verify()
        count = sum(1 for _ in store.blobs.names())
    finally:
        store.close()
    for problem in problems:
        click.echo(f"MISMATCH {problem.sha256} {problem.path}: {problem.problem}", err=True)
    click.echo(f"{count} blob(s) checked, {len(problems)} problem(s)")
    if problems:
        raise click.exceptions.Exit(1)

"""`clausewatch verify-evidence`: check an evidence bundle offline; exit 1 naming every claim that fails."""

from __future__ import annotations

from pathlib import Path

import click

from clausewatch.commands._global_options import global_options
from clausewatch.commands._paths import GivenPath
from reports.evidence_check import BundleError, check_bundle, read_bundle


@click.command("verify-evidence")
@global_options
@click.argument("bundle", type=GivenPath(dir_okay=False))
def command(bundle: Path) -> None:
    """Check every hash, the WARC digests, the clause offsets, the inclusion proof and the signature of BUNDLE."""
    try:
        files = read_bundle(bundle)
    except BundleError as exc:
        raise click.UsageError(str(exc)) from None
    problems = check_bundle(files)
    for problem in problems:
        click.echo(f"FAILED {problem}", err=True)
    if problems:
        raise click.exceptions.Exit(1)
    click.echo(f"{bundle}: every hash, the WARC digests, the inclusion proof and the signature hold")

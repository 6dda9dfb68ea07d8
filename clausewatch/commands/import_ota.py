"""`clausewatch import-ota`: bring Open Terms Archive declarations into the catalog.

The work is ``crawler.ota_import``; this module parses the options and prints
what became of each declaration.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from clausewatch.commands._global_options import global_options
from clausewatch.commands._paths import GivenPath
from clausewatch.errors import EXIT_BAD_INPUT
from crawler.ota_import import (
    CONFLICT,
    FAILURES,
    IMPORTED,
    INVALID,
    UNCHANGED,
    UNTRACKED,
    CatalogImport,
    Outcome,
    declaration_sources,
)


@click.command("import-ota")
@global_options
@click.argument("source", type=GivenPath(exists=True))
# Not named "catalog": click would keep one value for it and the global --catalog, whichever came last.
@click.option("--to", "destination", type=GivenPath(file_okay=False),
              help="Catalog folder to import into (default: the CATALOG setting).")
@click.option("--convert/--copy", default=False, show_default=True,
              help="Rewrite declarations in our YAML form, or copy the JSON files as they are.")
@click.option("--force", is_flag=True, help="Overwrite catalog files that exist with other content.")
@click.pass_obj
def command(settings, source: Path, destination: Path | None, convert: bool, force: bool) -> None:
    """Import Open Terms Archive declarations from SOURCE (a folder or one .json file).

    Every declaration is validated first; invalid ones are reported and skipped, the others imported.
    Exit status 2 (bad input) when any declaration was invalid or conflicted with the catalog.
    """
    catalog = destination or Path(settings.catalog)
    if catalog.exists() and not catalog.is_dir():
        raise click.BadParameter(f"{catalog} is not a folder", param_hint="--to")
    sources, unloadable = declaration_sources(source)
    if not sources and not unloadable:
        raise click.BadParameter(f"no Open Terms Archive declaration (*.json) in {source}", param_hint="SOURCE")
    created = not catalog.exists()
    catalog.mkdir(parents=True, exist_ok=True)
    importer = CatalogImport(catalog, convert=convert, force=force)
    counts: Counter[str] = Counter()
    total = len(sources) + len(unloadable)
    for outcome in unloadable:
        counts[outcome.status] += 1
        _report(outcome)
    try:
        for path in sources:
            outcome = importer.run(path)
            counts[outcome.status] += 1
            _report(outcome)
    except OSError:  # a full disk: the error names the file; what was imported before it is said too
        click.echo(_summary(counts, total, catalog) + f"; stopped at {path.name}")
        raise
    click.echo(_summary(counts, total, catalog))
    if any(counts[status] for status in FAILURES):
        if created and not any(catalog.iterdir()):  # refused, and nothing imported: no empty catalog as if some were
            catalog.rmdir()
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


def _report(outcome: Outcome) -> None:
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    if outcome.status == INVALID:
        # Declaration errors already name their file, key and line.
        for line in outcome.detail.splitlines():
            click.echo(f"{INVALID}: {line}", err=True)
    elif outcome.detail:
        click.echo(f"{outcome.status}: {outcome.source.name}: {outcome.detail}", err=True)


def _summary(counts: Counter[str], total: int, catalog: Path) -> str:
    parts = ", ".join(
        f"{counts[status]} {label}"
        for status, label in (
            (IMPORTED, "imported"), (UNCHANGED, "unchanged"), (UNTRACKED, "skipped (no documents)"),
            (CONFLICT, "conflicting"), (INVALID, "invalid"),
        )
    )
    return f"{total} declaration(s) into {catalog}: {parts}"

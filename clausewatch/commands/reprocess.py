"""`clausewatch reprocess`: rebuild versions from the stored snapshots after the extractor changed."""

from __future__ import annotations

import sys

import click

from analysis.pipeline import Analyzer
from clausewatch.app import open_store
from clausewatch.commands._global_options import global_options
from clausewatch.commands._shared import check_platforms
from clausewatch.errors import EXIT_PROBLEM
from crawler.reprocess import reprocess


@click.command("reprocess")
@global_options
@click.option("--platform", "platforms", multiple=True, metavar="SLUG", help="Only this platform (repeatable).")
@click.option("--document", "document_ids", multiple=True, metavar="ID", help="Only this document, e.g. CW-D-00001 (repeatable).")
@click.pass_obj
def command(settings, platforms: tuple[str, ...], document_ids: tuple[str, ...]) -> None:
    """Extract every stored snapshot again and record the texts that came out different.

    The versions and changes this creates are technical: they never alert and are
    not listed by `changes`. Versions that no longer differ from their neighbours
    (per-visit noise) are folded: out of the history, their hash still resolving.
    Exits 1 when a snapshot could not be extracted or a document's blobs are missing
    (each named on a line of its own; `verify` checks them all).
    """
    store = open_store(settings)
    try:
        tracked = store.catalog.documents()
        check_platforms(platforms, {d.platform for d in tracked})
        documents = [d for d in tracked
                     if (not platforms or d.platform in platforms) and (not document_ids or d.id in document_ids)]
        unknown = set(document_ids) - {d.id for d in documents}
        if unknown:
            raise click.BadParameter(f"no such document: {', '.join(sorted(unknown))}", param_hint="--document")
        with click.progressbar(length=len(documents), label="reprocessing", file=sys.stderr) as bar:
            report = reprocess(store, documents, analyze=Analyzer(), progress=lambda _done: bar.update(1))
    finally:
        store.close()
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(f"reprocessed {len(report.documents) - report.failed} document(s): {report.replayed} fetch(es) "
               f"replayed, {report.new_versions} technical version(s) recorded, {report.folded} folded"
               + (f"; {report.failed} document(s) failed" if report.failed else ""))
    if report.errors:
        raise click.exceptions.Exit(EXIT_PROBLEM)


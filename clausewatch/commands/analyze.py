"""`clausewatch analyze`: re-classify stored versions after the classifier changes.

A version whose ``analyzed_with`` differs from the current analyser's id is
stale. Each one is split and classified again (``Analyzer.reanalyse``, which
keeps clause keys by the alignment every new version gets) and its clauses
replaced in one transaction; provisions are only ever added, so their record
ids never change.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace

import click

from analysis.domain import StoredVersion
from analysis.pipeline import Analyzer
from clausewatch.app import open_store, store_failure_line, utcnow
from clausewatch.commands._global_options import global_options
from clausewatch.errors import BadInputError
from store.analysis_queries import AnalysisMovedError, VersionRef, replace_analysis, versions_to_analyse
from store.blobs import BlobError
from store.repository import Store, StoreError, StoreFailedError


@click.command("analyze")
@global_options
@click.option("--all", "everything", is_flag=True, help="Re-analyse every stored version.")
@click.option("--stale", is_flag=True, help="Re-analyse only versions analysed with another classifier (the default).")
@click.pass_obj
def command(settings, everything: bool, stale: bool) -> None:
    """Re-classify stored versions, replacing their clauses and classifications."""
    if everything and stale:
        raise click.UsageError("--all and --stale exclude each other")
    try:
        analyzer = Analyzer()
    except Exception as exc:  # whatever the classifier raises when its model cannot be read
        raise click.ClickException(f"cannot load the classifier: {exc}") from exc
    store = open_store(settings)
    try:
        refs = versions_to_analyse(store, analyzer.analyzer_id, everything=everything)
        done, skipped, failed = _analyse_all(store, analyzer, refs)
    except StoreFailedError as exc:  # every later version would fail the same way: stop, one line
        raise BadInputError(f"{store_failure_line(settings, exc)}; analyze stopped (each version analysed before "
                            "is kept: run it again to finish)") from exc
    finally:
        store.close()
    click.echo(f"analysed {done} version(s) with {analyzer.analyzer_id}"
               + (f"; {skipped} already done by another run" if skipped else "")
               + (f"; {failed} failed" if failed else ""))
    if failed:
        raise click.exceptions.Exit(1)


def _analyse_all(store: Store, analyzer: Analyzer, refs: Sequence[VersionRef]) -> tuple[int, int, int]:
    """Re-analyse ``refs`` document by document, oldest version first; one bad version never stops the rest."""
    done = skipped = failed = 0
    by_document: dict[str, list[VersionRef]] = {}
    for ref in refs:
        by_document.setdefault(ref.document_id, []).append(ref)
    with click.progressbar(length=len(refs), label="analysing", file=sys.stderr) as bar:
        for document_id, wanted in by_document.items():
            try:
                stored = {v.version.sha256: v for v in store.history.versions(document_id)}
                document_type = store.history.document_type(document_id)
            except BlobError as exc:  # a missing or corrupt text: `clausewatch verify` says more
                click.echo(f"analyze: {document_id}: {exc}", err=True)
                failed += len(wanted)
                bar.update(len(wanted))
                continue
            order = list(stored)
            for ref in wanted:
                try:
                    previous = _previous(stored, order, ref.sha256)
                    analysis = analyzer.reanalyse(stored[ref.sha256], previous, document_type)
                    replace_analysis(store, ref, analysis, now=utcnow())
                    stored[ref.sha256] = replace(stored[ref.sha256], clauses=analysis.clauses)
                    done += 1
                except AnalysisMovedError:
                    skipped += 1
                except StoreFailedError:
                    raise
                except (StoreError, KeyError, ValueError) as exc:
                    click.echo(f"analyze: {document_id} version {ref.sha256[:12]}: {exc}", err=True)
                    failed += 1
                bar.update(1)
    return done, skipped, failed


def _previous(stored: dict[str, StoredVersion], order: list[str], sha256: str) -> StoredVersion | None:
    index = order.index(sha256)
    return stored[order[index - 1]] if index > 0 else None

"""`clausewatch analyze`: re-classify stored versions after the classifier changes.

A version whose ``analyzed_with`` differs from the current analyser's id is
stale. Each one is split and classified again and its clauses replaced in one
transaction. Clause keys stay stable: the new clauses are aligned with the
version's own previous clauses (or, for a version never analysed, with the
document's previous version), and provisions are only ever added, so their
record ids never change.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace

import click

from analysis import changes, dates
from analysis.domain import ClassifiedClause, StoredVersion, VersionAnalysis
from analysis.language import detect_language
from analysis.pipeline import Analyzer
from clausewatch.app import open_store, utcnow
from clausewatch.commands._global_options import global_options
from store.analysis_queries import AnalysisMovedError, VersionRef, replace_analysis, versions_to_analyse
from store.blobs import BlobError
from store.repository import Store, StoreError


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
                stored = {v.version.sha256: v for v in store.versions(document_id)}
            except BlobError as exc:  # a missing or corrupt text: `clausewatch verify` says more
                click.echo(f"analyze: {document_id}: {exc}", err=True)
                failed += len(wanted)
                bar.update(len(wanted))
                continue
            order = list(stored)
            for ref in wanted:
                try:
                    previous = _previous(stored, order, ref.sha256)
                    analysis = reanalyse(analyzer, stored[ref.sha256], previous)
                    replace_analysis(store, ref, analysis, now=utcnow())
                    stored[ref.sha256] = replace(stored[ref.sha256], clauses=analysis.clauses)
                    done += 1
                except AnalysisMovedError:
                    skipped += 1
                except (StoreError, KeyError, ValueError) as exc:
                    click.echo(f"analyze: {document_id} version {ref.sha256[:12]}: {exc}", err=True)
                    failed += 1
                bar.update(1)
    return done, skipped, failed


def _previous(stored: dict[str, StoredVersion], order: list[str], sha256: str) -> StoredVersion | None:
    index = order.index(sha256)
    return stored[order[index - 1]] if index > 0 else None


def reanalyse(analyzer: Analyzer, version: StoredVersion, previous: StoredVersion | None) -> VersionAnalysis:
    """The version's text split and classified again, keys carried over from its own old clauses.

    A version never analysed before takes its keys from the document's previous version.
    """
    language = detect_language(version.text)
    classified = analyzer.classify_text(version.text, language)
    reference = version if version.clauses else previous
    aligned, _change = changes.build_change(reference, version.text, version.version.sha256, classified)
    if reference is not None:
        aligned = keep_exact_keys(reference.clauses, aligned)
    stated, label = dates.find_stated_date(version.text)
    return VersionAnalysis(clauses=aligned, stated_date=stated, stated_date_label=label, analyzer=analyzer.analyzer_id,
                           language=language)


def keep_exact_keys(
    old: Sequence[ClassifiedClause], new: Sequence[ClassifiedClause]
) -> tuple[ClassifiedClause, ...]:
    """Give every clause whose text is unchanged its old key; keep the others' keys unless taken.

    Exact text wins over alignment by similarity, and a key names one clause of
    a version only.
    """
    old_keys: dict[str, list[str]] = {}
    for item in old:
        old_keys.setdefault(item.clause.text, []).append(item.clause.key)
    exact = {i: old_keys[item.clause.text].pop(0) for i, item in enumerate(new) if old_keys.get(item.clause.text)}
    used = set(exact.values())
    result: list[ClassifiedClause] = []
    for index, item in enumerate(new):
        key = exact.get(index)
        if key is None:
            key = item.clause.key
            suffix = 1
            while key in used:
                suffix += 1
                key = f"{item.clause.key}-{suffix}"
            used.add(key)
        result.append(replace(item, clause=replace(item.clause, key=key)))
    return tuple(result)

"""`clausewatch crawl`: check the catalog's documents once and archive what changed."""

from __future__ import annotations

import click

from clausewatch.commands._global_options import global_options
from clausewatch.commands._shared import CONCURRENCY, DELAY, echo_results
from clausewatch.crawling import CatalogCrawlReport, StopRequest, crawl_catalog, store_failure_problem
from clausewatch.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_PROBLEM
from crawler.recorder import DocumentResult
from crawler.runner import CrawlRunner


@click.command("crawl")
@global_options
@click.option("--platform", "platforms", multiple=True, help="Only this platform (slug); repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only documents with this tag; repeatable.")
@click.option("--type", "types", multiple=True, help="Only this document type; repeatable.")
@click.option("--delay", type=DELAY, help="Seconds between requests to one domain "
              "(0 lifts politeness: loopback benchmarks only).")
@click.option("--concurrency", type=CONCURRENCY, help="Concurrent requests per domain.")
@click.option("--wait", is_flag=True, help="If another crawl of this store is running, wait for it to end, then crawl.")
@click.pass_obj
def command(settings, platforms, tags, types, delay, concurrency, wait) -> None:
    """Fetch every selected document politely and record new versions.

    Exit 1 if any fetch failed, a document was not checked, or another crawl of
    the store is running (named); 2 if the catalog has a bad file or no longer
    declares a tracked document, or the store failed (a full disk: the crawl
    stops there); 130 if Ctrl-C stopped it (what was fetched by then is recorded
    and listed).
    """
    stop = StopRequest(CrawlRunner())
    results: list[DocumentResult] = []
    with stop.installed():
        report = crawl_catalog(settings, platforms=platforms, tags=tags, types=types, delay=delay,
                               concurrency=concurrency, wait=wait, stop=stop, on_result=results.append)
    _print(report, results)
    if report.interrupted:
        click.echo(f"interrupted by {report.interrupted}: {report.checked} document(s) checked and recorded, "
                   f"{report.unchecked} not checked", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED)
    for problem in report.catalog_problems:
        click.echo(f"Error: {problem}", err=True)
    if report.store_failure is not None:
        click.echo(f"Error: {store_failure_problem(settings, report)}", err=True)
    if report.catalog_problems or report.store_failure is not None:
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    if report.failed or report.unchecked:
        raise click.exceptions.Exit(EXIT_PROBLEM)


def _print(report: CatalogCrawlReport, results: list[DocumentResult]) -> None:
    """One line per document checked, in id order, then the counts."""
    echo_results(sorted(results, key=lambda r: r.document_id))
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.counts.items())) or "nothing to crawl"
    click.echo(f"run {report.run_id}: {counts}")

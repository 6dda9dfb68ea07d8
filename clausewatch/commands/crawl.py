"""`clausewatch crawl`: check the catalog's documents once and archive what changed."""

from __future__ import annotations

import click

from clausewatch.crawling import crawl_catalog


@click.command("crawl")
@click.option("--platform", "platforms", multiple=True, help="Only this platform (slug); repeatable.")
@click.option("--tag", "tags", multiple=True, help="Only documents with this tag; repeatable.")
@click.option("--type", "types", multiple=True, help="Only this document type; repeatable.")
@click.option("--delay", type=click.FloatRange(min=0), help="Seconds between requests to one domain "
              "(0 lifts politeness: loopback benchmarks only).")
@click.option("--concurrency", type=click.IntRange(min=1), help="Concurrent requests per domain.")
@click.pass_obj
def command(settings, platforms, tags, types, delay, concurrency) -> None:
    """Fetch every selected document politely and record new versions; exit 1 if any fetch failed."""
    report = crawl_catalog(settings, platforms=platforms, tags=tags, types=types, delay=delay,
                           concurrency=concurrency)
    for result in sorted(report.results, key=lambda r: r.document_id):
        line = f"{result.document_id}  {result.outcome}"
        if result.error_kind:
            line += f"  {result.error_kind}: {result.detail}"
        elif result.version:
            line += f"  {result.version[:12]}"
        click.echo(line)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.counts.items())) or "nothing to crawl"
    click.echo(f"run {report.run_id}: {counts}")
    if report.failed:
        raise click.exceptions.Exit(1)

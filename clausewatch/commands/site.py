"""`clausewatch site`: build the static site (incrementally unless --full)."""

from __future__ import annotations

from pathlib import Path

import click

from clausewatch.commands._global_options import global_options
from clausewatch.commands._paths import GivenPath
from clausewatch.commands._shared import BASE_URL
from clausewatch.publishing import build_site

PROGRESS_EVERY = 1000  # pages between two progress lines


def _progress(report) -> None:
    if report.pages % PROGRESS_EVERY == 0:
        click.echo(f"… {report.pages} pages checked, {len(report.written)} written", err=True)


@click.command("site")
@global_options
@click.option("--out", type=GivenPath(file_okay=False), help="Output folder (default SITE_DIR).")
@click.option("--full", is_flag=True, help="Rewrite every page, ignoring the manifest of the previous build.")
@click.option("--base-url", type=BASE_URL, help="Absolute URL the site is published at (default BASE_URL).")
@click.pass_obj
def command(settings, out: Path | None, full: bool, base_url: str | None) -> None:
    """Build the static site: index, platforms, documents, provision records, feeds, search, export.

    Exits 1 when an archived snapshot fails its hash check (the pages show ✗).
    """
    if base_url:
        settings = settings.replace(base_url=base_url)
    report = build_site(settings, out=out, full=full, progress=_progress)
    for problem in report.evidence_problems:
        click.echo(f"evidence: {problem}", err=True)
    click.echo(f"{report.pages} page(s): {len(report.written)} written, {report.unchanged} unchanged, "
               f"{len(report.removed)} removed → {report.out}")
    if not report.ok:
        raise click.exceptions.Exit(1)

"""`clausewatch changes`: the changes between consecutive versions, as JSON or readable text."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click

from clausewatch.app import open_store
from clausewatch.commands._global_options import global_options
from clausewatch.commands._shared import check_platforms, parse_since
from reports.terminal import plain, printable, redline
from reports.wording import severity_move
from store.change_records import ChangeRecord, list_changes


@click.command("changes")
@global_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (stable shape) instead of text.")
@click.option("--since", callback=parse_since, metavar="DATE", help="Only changes detected on or after DATE (ISO).")
@click.option("--platform", "platforms", multiple=True, metavar="SLUG", help="Only this platform (repeatable).")
@click.option("--substantive", is_flag=True, help="Leave cosmetic changes out.")
@click.option("--full", is_flag=True, help="Whole clause texts instead of the changed words with some context.")
@click.option("--color/--no-color", "colour", default=None,
              help="Colour the changed words (default: only on a terminal; otherwise [-deleted-]{+inserted+}).")
@click.pass_obj
def command(settings, as_json: bool, since: datetime | None, platforms: tuple[str, ...], substantive: bool,
            full: bool, colour: bool | None) -> None:
    """List the changes between consecutive versions, oldest first, with their clause changes.

    A modified clause is shown as a word-level redline: the words deleted and inserted, with some
    unchanged context (all of it with --full). Technical rebuilds (reprocess) are not changes and are
    never listed.
    """
    store = open_store(settings, "read")
    try:
        check_platforms(platforms, {d.platform for d in store.catalog.documents()})
        changes = list_changes(store, since=since, platforms=platforms, substantive_only=substantive)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"changes": [c.to_json() for c in changes]}, ensure_ascii=False, indent=2))
    else:
        colour = sys.stdout is not None and sys.stdout.isatty() if colour is None else colour  # None: `>&-`
        for change in changes:
            click.echo(_readable(change, colour=colour, full=full), color=colour)
        click.echo(f"{len(changes)} change(s)", err=True)


def _readable(change: ChangeRecord, *, colour: bool, full: bool) -> str:
    verdict = "substantive" if change.substantive else f"cosmetic ({change.cosmetic_reason})"
    raised = ", SEVERITY RAISED" if change.severity_raised else ""
    lines = [
        f"{change.detected_at:%Y-%m-%d %H:%M} {change.document_id} {printable(change.platform_name)} · "
        f"{printable(change.document_type)}: {verdict}{raised}",
        f"  {change.from_version[:12] if change.from_version else '—'} → {change.to_version[:12]}",
    ]
    for item in change.clause_changes:
        lines += _clause_lines(item, colour=colour, full=full)
    return "\n".join(lines)


def _clause_lines(item, *, colour: bool, full: bool) -> list[str]:
    """One clause change: its heading and severities, then its words (a redline when both sides exist)."""
    clause = item.change
    heading = printable(" › ".join(clause.heading_path)) or "(untitled clause)"
    record = f" [{item.record_id}]" if item.record_id else ""
    severity = f" ({severity_move(clause)})"
    lines = [f"  {clause.kind:<8} {heading}{record}{severity}"]
    if clause.kind != "moved":  # a moved clause kept its words
        lines += _words(clause.before, clause.after, colour=colour, full=full)
    lines += [f"    * {printable(fact.summary)}" + (" (against you)" if fact.against_user else "")
              for fact in clause.facts]
    return lines


def _words(before: str | None, after: str | None, *, colour: bool, full: bool) -> list[str]:
    """A modified clause as one redline line; an added or removed one as its text."""
    if before is not None and after is not None:
        return ["    ~ " + redline(before, after, colour=colour, full=full)]
    if before is not None:
        return ["    - " + plain(before, full=full)]
    return ["    + " + plain(after, full=full)] if after is not None else []

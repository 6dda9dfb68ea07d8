"""`clausewatch changes`: the changes between consecutive versions, as JSON or readable text."""

from __future__ import annotations

import json
from datetime import datetime

import click

from clausewatch.app import open_store, parse_since
from store.changes import ChangeRecord, list_changes



@click.command("changes")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (stable shape) instead of text.")
@click.option("--since", callback=parse_since, metavar="DATE", help="Only changes detected on or after DATE (ISO).")
@click.option("--platform", "platforms", multiple=True, metavar="SLUG", help="Only this platform (repeatable).")
@click.option("--substantive", is_flag=True, help="Leave cosmetic changes out.")
@click.pass_obj
def command(settings, as_json: bool, since: datetime | None, platforms: tuple[str, ...], substantive: bool) -> None:
    """List the changes between consecutive versions, oldest first, with their clause changes.

    Technical rebuilds (reprocess) are not changes and are never listed.
    """
    store = open_store(settings, "read")
    try:
        changes = list_changes(store, since=since, platforms=platforms, substantive_only=substantive)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"changes": [c.to_json() for c in changes]}, ensure_ascii=False, indent=2))
    else:
        for change in changes:
            click.echo(_readable(change))
        click.echo(f"{len(changes)} change(s)", err=True)


def _readable(change: ChangeRecord) -> str:
    verdict = "substantive" if change.substantive else f"cosmetic ({change.cosmetic_reason})"
    raised = ", SEVERITY RAISED" if change.severity_raised else ""
    lines = [
        f"{change.detected_at:%Y-%m-%d %H:%M} {change.document_id} {change.platform_name} · {change.document_type}: "
        f"{verdict}{raised}",
        f"  {change.from_version[:12] if change.from_version else '—'} → {change.to_version[:12]}",
    ]
    for item in change.clause_changes:
        clause = item.change
        heading = " › ".join(clause.heading_path) or "(untitled clause)"
        record = f" [{item.record_id}]" if item.record_id else ""
        lines.append(f"  {clause.kind:<8} {heading}{record} ({clause.severity_before or '—'} → {clause.severity_after or '—'})")
        if clause.before is not None and clause.kind != "moved":
            lines.append("    - " + _short(clause.before))
        if clause.after is not None:
            lines.append("    + " + _short(clause.after))
        for fact in clause.facts:
            lines.append(f"    * {fact.summary}" + (" (against you)" if fact.against_user else ""))
    return "\n".join(lines)


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

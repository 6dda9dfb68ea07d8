"""`clausewatch status`: every document of the catalog, crawled or not, and how its fetches went."""

from __future__ import annotations

import dataclasses
import json

import click

from analysis.volatile import VOLATILE_OBSERVATIONS
from clausewatch.app import catalog_problems, open_store, utcnow
from clausewatch.commands._global_options import global_options
from clausewatch.commands._shared import read_catalog_reporting
from clausewatch.errors import EXIT_BAD_INPUT
from store.notifications import CLAIM_TTL, Unconfirmed, unconfirmed
from store.size import StoreSize, store_size
from store.volatile import volatile_values

# The keys of `status --json`: scripts rely on this shape, keep it stable.
JSON_KEYS = ("id", "platform", "type", "url", "versions", "fetches", "failures", "last_outcome", "last_verified",
             "language")


@click.command("status")
@global_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (stable shape) instead of a table.")
@click.pass_obj
def command(settings, as_json: bool) -> None:
    """Show each tracked document: versions, fetches, failures, last outcome and last verification.

    Only reads: the store is never written. Exit 2 when the catalog has a bad file or no
    longer declares a tracked document (listed under "problems").
    """
    catalog = read_catalog_reporting(settings)
    now = utcnow()
    store = open_store(settings, "read")
    try:
        rows = [s for s in store.catalog.status() if s.in_catalog]
        problems = catalog_problems(catalog, rows)
        untracked = _untracked(catalog, rows)
        if not rows and not untracked:
            problems.append(f"catalog: {settings.catalog} declares no document: nothing is tracked (CATALOG, "
                            "--catalog)")
        jobs = _job_rows(settings, store, catalog, rows, problems)
        volatile = volatile_values(store)
        size = store_size(store)
        sending = unconfirmed(store)
    finally:
        store.close()
    if as_json:
        documents = [_json_row(s) for s in rows]
        # Learned and watched volatile values by document id, beside the stable document rows.
        learned = {s.id: _volatile_json(volatile[s.id]) for s in rows if s.id in volatile}
        click.echo(json.dumps({"documents": documents, "untracked": untracked, "jobs": jobs, "problems": problems,
                               "volatile": learned, "alerts_unconfirmed": _unconfirmed_json(sending, now),
                               "store_size": dataclasses.asdict(size) | {"total_bytes": size.total_bytes}},
                              indent=2))
    else:
        _print_table(rows, volatile)
        _print_untracked(untracked)
        _print_jobs(jobs)
        _print_unconfirmed(sending, now)
        _print_size(size)
        _print_problems(problems)
    if problems:
        click.echo(f"Error: {len(problems)} problem(s): {problems[0]}" + (" …" if len(problems) > 1 else ""),
                   err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT)


def _print_problems(problems: list[str]) -> None:
    if problems:
        click.echo("\nproblems:")
    for problem in problems:
        click.echo(f"  {problem}")


def _job_rows(settings, store, catalog, tracked, problems: list[str]) -> list[dict]:
    """Each scheduled job's last and next run; a bad schedules file, a missing one that a flag, the
    environment or the config file named, or a job selecting a platform nobody knows (as `run` checks it) is
    one more problem, not fatal here."""
    if settings.is_default("SCHEDULES") and not settings.schedules.exists():
        return []  # no ./schedules.yaml and none named: nothing is scheduled, which is no problem
    # Imported here: the job runner (and the schedules reader) matter only when a schedules file exists.
    from clausewatch.job_runner import job_selection_problems, job_status, read_schedules
    from clausewatch.schedules import SchedulesError

    try:
        schedules = read_schedules(settings)
    except SchedulesError as exc:
        problems.extend(f"schedules: {problem}" for problem in exc.problems)
        return []
    selection_problems = job_selection_problems(schedules, schedules.jobs, catalog, tracked)
    problems.extend(f"schedules: {problem}" for problem in selection_problems)
    return job_status(schedules, store)


def _print_jobs(jobs: list[dict]) -> None:
    """Each job, its next run, and the newest run of each outcome with its whole reason."""
    if not jobs:
        return
    click.echo("\njobs:")
    for job in jobs:
        running = f"; running now by {job['running_by']}" if job["running_by"] else ""
        click.echo(f"  {job['id']} ({job['action']}): next {_minute(job['next_run'])}{running}")
        if not job["last_runs"]:
            click.echo("    never run")
        for outcome, run in sorted(job["last_runs"].items(), key=lambda item: item[1]["started_at"], reverse=True):
            reason = f": {run['error']}" if run["error"] else ""
            click.echo(f"    last {outcome:<7} {_minute(run['started_at'])}{reason}")


def _minute(iso: str | None) -> str:
    """An ISO time to the minute, in UTC, for people: ``2026-03-01 06:00 UTC``."""
    return f"{iso[:16].replace('T', ' ')} UTC" if iso else "-"


def _print_unconfirmed(sending: list[Unconfirmed], now) -> None:
    """Alerts claimed and never confirmed: being sent now, or left by a sender that died (sent by a later run)."""
    if not sending:
        return
    click.echo("\nalerts claimed, not confirmed sent:")
    for claim in sending:
        state = ("abandoned: the next alerts run sends it to whoever did not get it" if claim.abandoned(now) else
                 f"being sent; if its sender died, a run after {_minute((claim.claimed_at + CLAIM_TTL).isoformat())} "
                 "sends it")
        click.echo(f"  {claim.kind} {claim.key}: claimed {_minute(claim.claimed_at.isoformat())} by {claim.holder}; "
                   f"{state}")


def _unconfirmed_json(sending: list[Unconfirmed], now) -> list[dict]:
    return [{"kind": c.kind, "key": c.key, "holder": c.holder, "claimed_at": c.claimed_at.isoformat(),
             "abandoned": c.abandoned(now)} for c in sending]


def _print_size(size: StoreSize) -> None:
    click.echo(f"\nstore size: {_bytes(size.total_bytes)} (database {_bytes(size.database_bytes)}, "
               f"{size.blobs} blob(s) {_bytes(size.blob_bytes)})")


def _bytes(count: int) -> str:
    """A size for people: ``512 B``, ``4.9 KB``, ``18.9 MB``, ``1.2 GB``."""
    size = float(count)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{count} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _json_row(status) -> dict:
    row = {key: getattr(status, key) for key in JSON_KEYS}
    row["last_verified"] = status.last_verified.isoformat() if status.last_verified else None
    return row


def _volatile_json(values) -> list[dict]:
    return [{"kind": v.kind, "value": v.value, "state": v.state, "observations": v.observations,
             "first_seen": v.first_seen.isoformat(), "last_seen": v.last_seen.isoformat()} for v in values]


def _volatile_line(values) -> str:
    """What is learned or watched as volatile: ``param xyz-did``, ``text 'Visits: {*}' (watched 2/3)``."""
    shown = []
    for v in values:
        what = f"param {v.value}" if v.kind == "param" else f"text {v.value[:80]!r}"
        shown.append(what if v.state == "learned" else f"{what} (watched {v.observations}/{VOLATILE_OBSERVATIONS})")
    return "; ".join(shown)


def _untracked(catalog, rows) -> list[dict]:
    """The catalog's documents the store does not track (yet, or any more: `init` retired them); `crawl` or
    `init` registers them. Shown, so that a document declared is never invisible."""
    tracked = {(s.platform, s.type) for s in rows}
    return [{"platform": p.slug, "type": d.type, "url": d.url} for p in catalog.platforms
            for d in p.documents if (p.slug, d.type) not in tracked]


def _print_untracked(untracked: list[dict]) -> None:
    if untracked:
        click.echo(f"\ndeclared by the catalog, not tracked yet ({len(untracked)}; `clausewatch crawl` or `init` "
                   "registers them):")
    for document in untracked:
        click.echo(f"  {document['platform']} · {document['type']}  {document['url']}")


def _print_table(rows, volatile) -> None:
    if not rows:
        click.echo("no document tracked")
        return
    click.echo(f"{'id':<11} {'platform':<18} {'type':<28} {'ver':>4} {'fetch':>5} {'fail':>4}  last")
    for s in rows:
        last = s.last_outcome or "never fetched"
        if s.last_error_kind:
            last += f" ({s.last_error_kind}, {s.consecutive_failures} in a row)"
        verified = s.last_verified.strftime("%Y-%m-%d %H:%M") if s.last_verified else "-"
        click.echo(f"{s.id:<11} {s.platform[:18]:<18} {s.type[:28]:<28} {s.versions:>4} {s.fetches:>5} "
                   f"{s.failures:>4}  {last}; verified {verified}")
        if s.id in volatile:
            click.echo(f"{'':<11} volatile: {_volatile_line(volatile[s.id])}")

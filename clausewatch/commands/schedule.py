"""`clausewatch schedule`: run the jobs of schedules.yaml on their cron schedules."""

from __future__ import annotations

from datetime import datetime

import click

from clausewatch.app import open_store, utcnow
from clausewatch.commands._global_options import global_options
from clausewatch.commands._shared import read_catalog_reporting
from clausewatch.errors import BadInputError, InterruptedRunError
from clausewatch.job_runner import (
    JobInterruptedError,
    JobOutcome,
    JobRunner,
    ShutdownSignals,
    job_selection_problems,
    read_schedules,
)
from clausewatch.logs import event_line
from clausewatch.scheduler import Scheduler, upcoming
from clausewatch.schedules import Schedules, SchedulesError
from clausewatch.settings import Settings
from reports.subscribers import load_subscribers

EXIT_PROBLEM = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


@click.command("schedule")
@global_options
@click.option("--list", "list_only", is_flag=True, help="Check the schedules, print each job with its next 3 start times, exit.")
@click.option("--once", metavar="JOB", help="Run JOB now, under its lock, and exit.")
@click.option("--wait", is_flag=True, help="With --once: wait for a run of JOB elsewhere to end instead of exiting 1.")
@click.pass_context
def command(ctx: click.Context, list_only: bool, once: str | None, wait: bool) -> None:
    """Run the jobs of the schedules file (--schedules) until stopped by SIGTERM or Ctrl-C.

    A job missed while the scheduler was down runs once at start-up. A job
    already running elsewhere (another scheduler, `clausewatch run`) is skipped
    and the skip recorded.
    """
    settings: Settings = ctx.obj
    schedules = schedules_or_exit(ctx, settings)
    if list_only:
        if any(not job.selection.is_all for job in schedules.jobs):  # else neither catalog nor store is needed
            check_selected_platforms(settings, schedules, schedules.jobs)
        print_upcoming(schedules, utcnow())
        return
    if once:
        ctx.exit(run_jobs(ctx, settings, schedules, [job_or_exit(ctx, schedules, once)], wait=wait))
    if not schedules.jobs:  # a scheduler of no job would run for ever doing nothing, its log saying only "started"
        raise BadInputError(f"{schedules.path}: no jobs to schedule (SCHEDULES, --schedules)")
    with ShutdownSignals().handling() as signals:
        store = open_store(settings)
        try:
            check_job_platforms(schedules, schedules.jobs, read_catalog_reporting(settings),
                                store.catalog.documents())
            Scheduler(schedules, JobRunner(settings, store, signals=signals), signals=signals).run_forever()
        finally:
            store.close()
    if signals.requested == "SIGINT":  # Ctrl-C ends it as it ends every command; SIGTERM is a service's stop, 0
        raise InterruptedRunError("SIGINT", "the scheduler stopped; a job it was running is recorded as failed "
                                            "and its lock released")


def schedules_or_exit(ctx: click.Context, settings: Settings) -> Schedules:
    """The validated schedules; every problem printed and exit status 2 if there is any."""
    try:
        return read_schedules(settings)
    except SchedulesError as exc:
        for problem in exc.problems:
            click.echo(f"Error: {problem}", err=True)
        ctx.exit(EXIT_BAD_INPUT)


def job_or_exit(ctx: click.Context, schedules: Schedules, job_id: str):
    try:
        return schedules.job(job_id)
    except KeyError as exc:
        click.echo(f"Error: {exc.args[0]}", err=True)
        ctx.exit(EXIT_BAD_INPUT)


def check_inputs(settings: Settings, schedules: Schedules, jobs) -> None:
    """Before running jobs by hand: a catalog or subscribers file they would read and cannot, or a job
    selecting a platform nobody knows, is bad input.

    The scheduler, unattended, does not stop here: its run records the problem as a failed run.
    """
    actions = {job.action for job in jobs}
    if actions & {"crawl", "run"}:
        check_selected_platforms(settings, schedules, jobs, strict=True)
    if actions & {"alerts", "digest", "run"}:
        load_subscribers(settings.subscribers)


def check_selected_platforms(settings: Settings, schedules: Schedules, jobs, *, strict: bool = False) -> None:
    """A crawling job that selects a platform neither the catalog nor the store knows, or whose selection matches
    no document of the catalog: bad input, one line each.

    With ``strict`` a catalog file that does not load is bad input too (jobs about to crawl); without, its
    problems are printed and its platforms still known from the store, as the scheduler reads it.
    """
    catalog = read_catalog_reporting(settings, strict=strict)
    store = open_store(settings, "read")
    try:
        check_job_platforms(schedules, jobs, catalog, store.catalog.documents())
    finally:
        store.close()


def check_job_platforms(schedules: Schedules, jobs, catalog, tracked) -> None:
    """A crawling job that selects a platform nobody knows, or matches no document: bad input, at its line."""
    problems = job_selection_problems(schedules, jobs, catalog, tracked)
    if problems:
        error = BadInputError(problems[0])
        error.problems = problems  # each printed on its own line by the CLI
        raise error


def run_jobs(ctx: click.Context, settings: Settings, schedules: Schedules, jobs, *, wait: bool) -> int:
    """Run ``jobs`` one after the other now; the exit status of the worst outcome."""
    check_inputs(settings, schedules, jobs)
    with ShutdownSignals().handling() as signals:
        store = open_store(settings)
        runner = JobRunner(settings, store, signals=signals)
        try:
            return max(report_outcome(runner.run(job, wait=wait)) for job in jobs)
        except JobInterruptedError as exc:  # the run, if one started, is recorded and its lock released
            click.echo(f"Error: {exc}; the job's run is recorded as failed and its lock released; what it recorded "
                       "before stands (every write is a transaction) and its next run checks the rest", err=True)
            return EXIT_INTERRUPTED if exc.signal_name == "SIGINT" else EXIT_PROBLEM
        finally:
            store.close()


def report_outcome(outcome: JobOutcome) -> int:
    """Print how a run ended; 0 if it went well, 1 if it failed, was skipped or found problems."""
    if outcome.outcome == "skipped":
        click.echo(f"Error: {outcome.error}; not run (use --wait to wait for it)", err=True)
        return EXIT_PROBLEM
    click.echo(event_line(outcome.job_id, outcome=outcome.outcome, problems=outcome.problems, **outcome.counts))
    if outcome.outcome == "failed":
        click.echo(f"Error: job {outcome.job_id!r} failed: {outcome.error}", err=True)
        return EXIT_PROBLEM
    return EXIT_PROBLEM if outcome.problems else 0


def print_upcoming(schedules: Schedules, now: datetime) -> None:
    click.echo(f"{schedules.path}: {len(schedules.jobs)} job(s)")
    for job, times in upcoming(schedules, now):
        jitter = f", jitter up to {job.jitter}s" if job.jitter else ""
        click.echo(f"{job.id}: {job.action} [{job.selection.describe()}] cron \"{job.cron}\" {job.timezone}{jitter}")
        for moment in times:
            click.echo(f"  {moment:%a %Y-%m-%d %H:%M %Z}")

"""`clausewatch run`: run jobs of schedules.yaml now, under the same lock as the scheduler."""

from __future__ import annotations

import click

from clausewatch.commands._global_options import global_options
from clausewatch.commands.schedule import job_or_exit, run_jobs, schedules_or_exit


@click.command("run")
@global_options
@click.argument("job_ids", metavar="[JOB]...", nargs=-1)
@click.option("--wait", is_flag=True, help="If a job is running elsewhere, wait for it to end, then run it.")
@click.pass_context
def command(ctx: click.Context, job_ids: tuple[str, ...], wait: bool) -> None:
    """Run JOBs of the schedules file now (default: every job whose action is `run`,
    i.e. crawl + analyse + alerts + site).

    A job already running elsewhere (the scheduler, another `run`) is never run
    twice: this exits with status 1 naming who runs it, or waits with --wait.
    Exit status 1 also when a job failed or found problems (failed fetches).
    """
    schedules = schedules_or_exit(ctx, ctx.obj)
    if job_ids:
        jobs = [job_or_exit(ctx, schedules, job_id) for job_id in job_ids]
    else:
        jobs = [job for job in schedules.jobs if job.action == "run"]
        if not jobs:
            raise click.UsageError(f"{schedules.path} has no job with action `run`; name the JOBs to run")
    ctx.exit(run_jobs(ctx, ctx.obj, schedules, jobs, wait=wait))

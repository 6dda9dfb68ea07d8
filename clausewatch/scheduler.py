"""``clausewatch schedule``: the long-lived APScheduler 3 process (SPEC §3, §10).

Each job of ``schedules.yaml`` gets a cron trigger (with its jitter) and runs
coalesced, one instance at a time, in the scheduler's own thread, so a signal
can interrupt it and jobs of one process never compete for the store.

Missed runs. A missed run (the process was down, the machine asleep) runs once
when the scheduler is back. Two mechanisms, each for its case:

- while the process lives, ``misfire_grace_time=None`` with ``coalesce=True``
  lets a late job still run, once however many times it was missed, and the
  main loop never sleeps longer than :data:`MAX_SLEEP` so a machine waking up
  notices at once (the monotonic clock that ``Event.wait`` uses stands still
  while the machine sleeps);
- across restarts, the run records of ``store.job_runs`` say when each job last
  started; a job whose schedule fell due since then starts at once.

The run records serve rather than APScheduler's SQLAlchemyJobStore: the jobs
are defined by ``schedules.yaml``, and a job store would keep a second,
pickled copy of them to reconcile with the file on every start, in a table
outside our migrations; the records are needed anyway for ``status``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from clausewatch.app import utcnow
from clausewatch.job_runner import JobInterruptedError, JobOutcome, JobRunner, ShutdownSignals
from clausewatch.logs import log_event
from clausewatch.schedules import ScheduledJob, Schedules
from clausewatch.signal_relay import SignalRelay
from store import job_runs as job_store
from store.job_runs import JobRun

log = logging.getLogger(__name__)

# Longest the main loop sleeps between checks, so a machine waking from sleep
# runs what fell due within this delay instead of when the monotonic wait ends.
MAX_SLEEP = 60.0

JOB_DEFAULTS = {
    "coalesce": True,  # missed several times: run once
    "max_instances": 1,  # never overlap with itself (the lease covers other processes)
    "misfire_grace_time": None,  # however late, a missed run still runs (once)
}


class _WallClockScheduler(BlockingScheduler):
    """A BlockingScheduler whose waits are capped at :data:`MAX_SLEEP` (see module doc)
    and which stops between two passes over the jobs when asked.

    ``shutdown()`` cannot be called from a job or a signal handler: it empties
    the job store while APScheduler is still updating the job that ran.

    It overrides APScheduler's private ``_process_jobs``: APScheduler 3 has no
    public API for either behaviour (docs/decisions/0008-scheduling.md, "The
    scheduler's loop").
    """

    stop_requested = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waker = SignalRelay(self._wake, name="clausewatch-scheduler-wakeup")

    def request_stop(self) -> None:
        """Ask the loop to stop; safe in a signal handler, where it is called.

        Waking the loop sets a ``threading.Event``, whose lock is not reentrant:
        a SIGTERM landing while the main thread held it (for an instant, in the
        loop's wait) deadlocked the scheduler for good (CI, 2026-12-03). The
        request goes through a :class:`SignalRelay`, whose thread wakes the loop.
        """
        self.stop_requested = True
        self._waker.ask()

    def start(self, *args: Any, **kwargs: Any) -> None:
        with self._waker.running():
            super().start(*args, **kwargs)

    def _wake(self) -> None:
        if self._event is not None:  # not started yet: start() wakes the loop, which then stops
            self.wakeup()

    def _process_jobs(self):
        wait_seconds = None if self.stop_requested else super()._process_jobs()
        if self.stop_requested:
            self.shutdown(wait=False)
            return None
        return MAX_SLEEP if wait_seconds is None else min(wait_seconds, MAX_SLEEP)


def missed_jobs(jobs: Sequence[ScheduledJob], last_runs: dict[str, JobRun], now: datetime) -> list[ScheduledJob]:
    """The jobs whose schedule fell due between their last recorded start and ``now``.

    A job never run is not missed: a new installation starts on schedule.
    """
    missed = []
    for job in jobs:
        last = last_runs.get(job.id)
        if last is None:
            continue
        due = job.next_fire_times(last.started_at + timedelta(microseconds=1), count=1)
        if due and due[0] <= now:
            missed.append(job)
    return missed


class Scheduler:
    """The scheduler process: the jobs of ``schedules.yaml`` run by one :class:`JobRunner`."""

    def __init__(self, schedules: Schedules, runner: JobRunner, *, signals: ShutdownSignals | None = None):
        self.schedules = schedules
        self.runner = runner
        self.signals = signals
        self.outcomes: deque[JobOutcome] = deque(maxlen=100)  # the latest, for tests and debugging
        self._scheduler = _WallClockScheduler(
            timezone=UTC, executors={"default": DebugExecutor()}, job_defaults=JOB_DEFAULTS,
        )

    @property
    def apscheduler(self) -> BlockingScheduler:
        return self._scheduler

    def plan(self, now: datetime) -> list[ScheduledJob]:
        """Add every job, due at its next fire time from ``now``, or at ``now`` if it was missed."""
        missed = missed_jobs(self.schedules.jobs, job_store.last_runs(self.runner.store), now)
        for job in self.schedules.jobs:
            trigger = job.trigger()
            first = now if job in missed else trigger.get_next_fire_time(None, now)
            self._scheduler.add_job(
                self._run, trigger=trigger, args=[job], id=job.id, name=f"{job.id} ({job.action})",
                next_run_time=first, **JOB_DEFAULTS,
            )
            log_event(log, "schedule", job=job.id, action=job.action, cron=job.cron, timezone=job.timezone,
                      jitter=job.jitter, first_run=first, missed=job in missed)
        return missed

    def run_forever(self, now: datetime | None = None) -> None:
        """Plan the jobs and run them until :meth:`stop` or a shutdown signal."""
        if self.signals is not None:
            self.signals.on_signal.append(self.stop)
        self.plan(now or utcnow())
        log.info("scheduler started with %d job(s)", len(self.schedules.jobs))
        self._scheduler.start()
        log.info("scheduler stopped")

    def stop(self) -> None:
        """Stop after the job in flight (a signal also interrupts it: see ShutdownSignals)."""
        self._scheduler.request_stop()

    def _run(self, job: ScheduledJob) -> None:
        if self._scheduler.stop_requested:
            # Stopping: APScheduler still hands over the other jobs due in this same pass.
            log.info("job %s not started: the scheduler is stopping", job.id)
            return
        try:
            self.outcomes.append(self.runner.run(job))
        except JobInterruptedError:
            # The run is recorded and its lease released; the scheduler is stopping.
            log.warning("job %s interrupted; the scheduler stops", job.id)


def upcoming(schedules: Schedules, now: datetime, count: int = 3) -> list[tuple[ScheduledJob, list[datetime]]]:
    """Every job with its next ``count`` start times (before jitter)."""
    return [(job, job.next_fire_times(now, count)) for job in schedules.jobs]


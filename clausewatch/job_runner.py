"""Run one job: its action, under the job's lease, with a run record.

Actions are an explicit extension point: a name in ``schedules.yaml`` maps to
a function registered with :func:`register_action`, taking an
:class:`ActionContext` and returning an :class:`ActionResult`. The built-in
actions are registered the same way; they import the code they call lazily, so
this module loads before (and without) the crawler or the mailers.

One run at a time per job, across processes: :class:`JobRunner` takes the
job's lease in the store (``store.job_runs``), renews it from a heartbeat thread
while the action runs, records the run (ok, failed or skipped, with counts and
error) and gives the lease back however the action ends.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, fields, is_dataclass
from dataclasses import replace as replace_fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from clausewatch.app import Selection, first_few, new_holder, selection_problem, utcnow
from clausewatch.errors import BadInputError, error_lines, exit_status_of
from clausewatch.logs import log_event
from clausewatch.schedules import SELECTING_ACTIONS, ScheduledJob, Schedules, load_schedules
from clausewatch.settings import Settings
from clausewatch.signal_relay import SignalRelay, signals_handled
from store import job_runs as job_store
from store.job_runs import LeaseHeldError, LeaseLostError
from store.repository import Store, StoreFailedError

if TYPE_CHECKING:
    from crawler.declarations import CatalogLoad

log = logging.getLogger(__name__)


# --- Actions ------------------------------------------------------------------


@dataclass(frozen=True)
class ActionContext:
    """What an action is given: the settings, the open store, and the documents it covers."""

    settings: Settings
    store: Store
    job_id: str
    selection: Selection = Selection()
    previous_ok_start: datetime | None = None  # when this job last started a run that went well


@dataclass(frozen=True)
class ActionResult:
    """What an action did: counts for the run record, and how many problems (failed fetches…)."""

    counts: Mapping[str, Any] = field(default_factory=dict)
    problems: int = 0
    errors: tuple[str, ...] = ()  # what makes the run fail although the action went on (a broken catalog)


Action = Callable[[ActionContext], ActionResult]
_ACTIONS: dict[str, Action] = {}


class UnknownActionError(KeyError):
    pass


def register_action(name: str, action: Action | None = None, *, replace: bool = False):
    """Make ``action`` available to ``schedules.yaml`` as ``name``; usable as a decorator."""
    def register(func: Action) -> Action:
        if name in _ACTIONS and not replace:
            raise ValueError(f"action {name!r} is already registered")
        _ACTIONS[name] = func
        return func

    return register(action) if action is not None else register


def action_names() -> tuple[str, ...]:
    return tuple(_ACTIONS)


def get_action(name: str) -> Action:
    try:
        return _ACTIONS[name]
    except KeyError:
        raise UnknownActionError(f"no action {name!r} (known: {', '.join(_ACTIONS)})") from None


def report_result(report: Any) -> ActionResult:
    """Read the counts and problems of a report object (CrawlReport, AlertReport…)."""
    counts = getattr(report, "counts", None)
    if not isinstance(counts, Mapping):
        counts = {f.name: getattr(report, f.name) for f in fields(report)} if is_dataclass(report) else {}
        counts = {k: v for k, v in counts.items() if isinstance(v, int | float | str | bool) or v is None}
    problems = getattr(report, "failed", 0)
    return ActionResult(dict(counts), problems if isinstance(problems, int) else len(problems))


@register_action("crawl")
def crawl(context: ActionContext) -> ActionResult:
    """Check the selected documents once, recording versions through the analysis pipeline."""
    from clausewatch.crawling import crawl_catalog, store_failure_problem

    selection = context.selection
    report = crawl_catalog(context.settings, store=context.store, platforms=selection.platforms,
                           tags=selection.tags, types=selection.types)
    if report.store_failure is not None:  # nothing more can be recorded: the job stops here, `run`'s later steps too
        raise BadInputError(store_failure_problem(context.settings, report))
    # Documents left unchecked are a day without monitoring: the run fails and says so (it read "ok", problems 0).
    unchecked = (f"{report.unchecked} document(s) not checked: the crawl ended early",) if report.unchecked else ()
    return replace_fields(report_result(report), errors=(*report.catalog_problems, *unchecked))


def undelivered(report: Any, what: str) -> ActionResult:
    """An email run's result; a message not delivered fails the run, naming who was not reached (under the
    scheduler no exit status shows it, and the run read "ok")."""
    result = report_result(report)
    missed = sorted({d.recipient for d in report.deliveries if not d.ok})
    if not missed:
        return result
    return replace_fields(result, errors=(f"{len(missed)} {what} not delivered ({first_few(missed)}): sent again at "
                                          "the next run",))


@register_action("alerts")
def alerts(context: ActionContext) -> ActionResult:
    """Send the same-day alerts of changes not alerted yet (as part of `run` too).

    With no subscribers file, or one that lists no alert subscriber, the step is
    skipped and says so in the run's counts: a new install still crawls and
    publishes, and nothing is marked alerted. A bad file fails the run.
    """
    from clausewatch.notifying import send_alerts
    from reports.subscribers import NoSubscribersError

    if not context.settings.subscribers.is_file():
        return ActionResult({"skipped": f"no subscribers file at {context.settings.subscribers}"})
    try:
        return undelivered(send_alerts(context.settings, store=context.store, send=True), "alert recipient(s)")
    except NoSubscribersError as exc:
        return ActionResult({"skipped": str(exc)})


@register_action("site")
def site(context: ActionContext) -> ActionResult:
    """Rebuild the static site."""
    from clausewatch.publishing import build_site

    return report_result(build_site(context.settings, store=context.store))


@register_action("digest")
def digest(context: ActionContext) -> ActionResult:
    """Send each digest subscriber the changes since their last digest of this job (the first time: since the job's
    last good run, or a week)."""
    from clausewatch.publishing import send_job_digest

    # From where each subscriber's last digest ended, not "a week ago": a digest sent late, retried or refused
    # neither skips nor repeats a change for anyone.
    return undelivered(send_job_digest(context.settings, context.store, context.job_id, context.previous_ok_start),
                       "digest recipient(s)")


@register_action("run")
def run(context: ActionContext) -> ActionResult:
    """Crawl (which analyses), then alert, then rebuild the site: the whole pipeline once."""
    counts: dict[str, Any] = {}
    problems = 0
    errors: tuple[str, ...] = ()
    for step in ("crawl", "alerts", "site"):
        result = get_action(step)(context)
        counts[step] = dict(result.counts)
        problems += result.problems
        errors += result.errors
    return ActionResult(counts, problems, errors)


# --- Interruption ---------------------------------------------------------------


class JobInterruptedError(BaseException):
    """SIGTERM or SIGINT arrived while a job ran; a BaseException so no action swallows it."""

    def __init__(self, signal_name: str):
        self.signal_name = signal_name
        super().__init__(f"interrupted by {signal_name}")


class ShutdownSignals:
    """Turns SIGTERM and SIGINT into a stop request, and interrupts the job in flight.

    The first signal calls the ``on_signal`` callbacks (the scheduler stops)
    and, if an action is running in the main thread, raises
    :class:`JobInterruptedError` inside it, so the run is closed as failed and
    its lease released. The store's writes are transactions, so an action cut
    short leaves nothing half-written; the next run does the rest. Each signal
    is logged by a thread of its own: a handler writing to the log could land
    inside the main thread's own write to it, and print logging's traceback.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self.on_signal: list[Callable[[], None]] = []
        self._interruptible = False
        self._logged = SignalRelay(lambda name: log.warning("received %s: stopping", name), name="shutdown-log")

    @contextmanager
    def handling(self) -> Iterator[ShutdownSignals]:
        """SIGTERM and SIGINT handled within the block; their previous handlers put back after, once the signals'
        log lines are written (a late signal is still this handler's: noted, not a KeyboardInterrupt)."""
        with signals_handled(self._handle, signal.SIGTERM, signal.SIGINT), self._logged.running(wait_seconds=5):
            yield self

    def _handle(self, signum: int, _frame: Any) -> None:
        first = self.requested is None
        self.requested = signal.Signals(signum).name
        self._logged.ask(self.requested)
        if not first:
            return
        for callback in self.on_signal:
            callback()
        if self._interruptible:
            self._interruptible = False
            raise JobInterruptedError(self.requested)

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """While inside, a shutdown signal interrupts the code running."""
        if self.requested:
            raise JobInterruptedError(self.requested)
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False


# --- Running a job ---------------------------------------------------------------


@dataclass(frozen=True)
class JobOutcome:
    """How one run of a job ended."""

    job_id: str
    run_id: int
    outcome: str  # ok, failed, skipped
    counts: Mapping[str, Any] = field(default_factory=dict)
    problems: int = 0
    error: str | None = None
    holder: str | None = None  # for a skipped run: who held the job


class JobRunner:
    """Runs jobs in this process, one at a time per job across every process."""

    def __init__(
        self, settings: Settings, store: Store, *,
        clock: Callable[[], datetime] = utcnow, signals: ShutdownSignals | None = None,
    ):
        self.settings = settings
        self.store = store
        self.clock = clock
        self.signals = signals
        self.ttl = timedelta(seconds=settings.job_lease_seconds)

    def run(self, job: ScheduledJob, *, wait: bool = False) -> JobOutcome:
        """Run ``job`` now; if another holds it, wait for it (``wait``) or record a skipped run."""
        holder = new_holder()
        try:
            lease = self._acquire(job.id, holder, wait=wait)
        except LeaseHeldError as held:
            run_id = job_store.record_skipped(self.store, job.id, job.action, holder, now=self.clock(), reason=str(held))
            log_event(log, "job", job=job.id, action=job.action, outcome="skipped", held_by=held.lease.holder)
            return JobOutcome(job.id, run_id, "skipped", error=str(held), holder=held.lease.holder)
        if lease.taken_over_from:
            log.warning("job %s: took over the expired lease of %s", job.id, lease.taken_over_from)
        return self._run_holding(job, holder)

    def _acquire(self, job_id: str, holder: str, *, wait: bool) -> job_store.Lease:
        return acquire_lease(self.store, job_id, holder, ttl=self.ttl, wait=wait, clock=self.clock,
                             interruptible=self._interruptible)

    def _run_holding(self, job: ScheduledJob, holder: str) -> JobOutcome:
        started = self.clock()
        try:
            run_id = job_store.start_run(self.store, job.id, job.action, holder, now=started)
        except BaseException:
            job_store.release_lease(self.store, job.id, holder)
            raise
        log_event(log, "job", job=job.id, action=job.action, outcome="started", selection=job.selection.describe())
        heartbeat = Heartbeat(self.store, job.id, holder, self.ttl, clock=self.clock)
        heartbeat.start()
        outcome = "failed"
        result, error = ActionResult(), None
        try:
            result, outcome = self._call_action(job), "ok"
        except Exception as exc:  # the run is recorded as failed; the scheduler goes on
            if exit_status_of(exc) is None:  # a bug: its traceback is what a fix needs
                error = f"{type(exc).__name__}: {exc}"
                log.exception("job %s failed", job.id)
            else:  # bad input, a store or a lock that is not ours: what it says is the whole story
                error = "; ".join(error_lines(exc))
                log.error("job %s failed: %s", job.id, error)
        except BaseException as exc:  # interrupted (a signal, Ctrl-C): record it, then let it stop us
            error = str(exc) if isinstance(exc, JobInterruptedError) else f"interrupted: {type(exc).__name__}"
            raise
        finally:
            heartbeat.stop()
            if result.errors and outcome == "ok":
                outcome, error = "failed", "; ".join(result.errors)
            if heartbeat.lost and outcome == "ok":
                outcome, error = "failed", "lease lost while running: another process may have run the job too"
            outcome, error = self._close(job, run_id, holder, started, outcome, result, error)
        return JobOutcome(job.id, run_id, outcome, result.counts, result.problems, error)

    def _call_action(self, job: ScheduledJob) -> ActionResult:
        action = get_action(job.action)
        previous = job_store.last_runs(self.store, outcomes=("ok",)).get(job.id)
        context = ActionContext(self.settings, self.store, job.id, job.selection,
                                previous.started_at if previous else None)
        with self._interruptible():
            return action(context)

    def _interruptible(self) -> AbstractContextManager[None]:
        return self.signals.interruptible() if self.signals else nullcontext()

    def _close(self, job, run_id, holder, started, outcome, result, error) -> tuple[str, str | None]:
        """Record how the run ended and release its lease; returns the outcome and error as recorded (a store
        that fails to record the run makes it failed)."""
        finished = self.clock()
        try:
            job_store.finish_run(self.store, run_id, outcome, now=finished, counts=dict(result.counts), error=error)
        except StoreFailedError as exc:  # the log line below still says how the run ended
            outcome, error = "failed", f"{error + '; ' if error else ''}the run could not be recorded: {exc}"
        release_or_say(self.store, job.id, holder)
        level = logging.ERROR if outcome != "ok" else logging.WARNING if result.problems else logging.INFO
        log_event(log, "job", level=level, job=job.id,
                  action=job.action, outcome=outcome, seconds=(finished - started).total_seconds(),
                  problems=result.problems, error=error, **dict(result.counts))
        return outcome, error


def acquire_lease(
    store: Store, lease_id: str, holder: str, *, ttl: timedelta, wait: bool = False,
    clock: Callable[[], datetime] = utcnow,
    interruptible: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> job_store.Lease:
    """Take the lease ``lease_id``; if another holds it, wait for it (``wait``) or raise LeaseHeldError."""
    # Polls when waiting: a lease frees either on release or on expiry, and
    # neither SQLite nor PostgreSQL can notify both in the same way.
    poll = min(5.0, ttl.total_seconds() / 10)
    waiting_for = None
    while True:
        try:
            return job_store.acquire_lease(store, lease_id, holder, now=clock(), ttl=ttl)
        except LeaseHeldError as held:
            taken = _take_over_if_dead(store, held.lease, holder, ttl=ttl, now=clock())
            if taken is not None:
                return taken
            if not wait:
                raise
            if held.lease.holder != waiting_for:
                waiting_for = held.lease.holder
                log.info("%s: waiting for %s to finish", lease_id, waiting_for)
            with interruptible():
                time.sleep(poll)


def holder_is_dead(holder: str) -> bool:
    """Whether a lease holder (``host:pid:token``) is a process of this host that no longer exists.

    A holder on another host, or whose pid is alive (perhaps reused), is not
    known to be dead: its lease is then left to expire.
    """
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not (pid.isascii() and pid.isdigit()):
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def _take_over_if_dead(store: Store, lease: job_store.Lease, holder: str, *, ttl: timedelta,
                       now: datetime) -> job_store.Lease | None:
    if not holder_is_dead(lease.holder):
        return None
    taken = job_store.take_over_dead_lease(store, lease, holder, now=now, ttl=ttl)
    if taken is not None:
        log.warning("%s: took over the lease of %s, which is no longer running", lease.job_id, lease.holder)
    return taken


@contextmanager
def holding_lease(
    store: Store, lease_id: str, *, ttl: timedelta, wait: bool = False,
    interruptible: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> Iterator[str]:
    """Hold the lease ``lease_id`` (renewed by a heartbeat) while inside; yields the holder's name.

    Raises LeaseHeldError naming the holder when another process has it and ``wait`` is false;
    ``interruptible`` wraps each pause while waiting (it may raise to stop waiting).
    """
    holder = new_holder()
    acquire_lease(store, lease_id, holder, ttl=ttl, wait=wait, interruptible=interruptible)
    heartbeat = Heartbeat(store, lease_id, holder, ttl, clock=utcnow)
    heartbeat.start()
    try:
        yield holder
    finally:
        heartbeat.stop()
        release_or_say(store, lease_id, holder)


def release_or_say(store: Store, lease_id: str, holder: str) -> None:
    """Release a lease; a store that fails to (a full disk) leaves it to run out, which is logged, and does not hide
    what the holder's work came to."""
    try:
        job_store.release_lease(store, lease_id, holder)
    except StoreFailedError as exc:
        log.error("lease %s could not be released, it runs out by itself: %s", lease_id, exc)


class Heartbeat(threading.Thread):
    """Renews a lease every third of its life while the job runs."""

    def __init__(self, store: Store, job_id: str, holder: str, ttl: timedelta, *, clock: Callable[[], datetime]):
        super().__init__(name=f"lease-{job_id}", daemon=True)
        self.store, self.job_id, self.holder, self.ttl, self.clock = store, job_id, holder, ttl, clock
        self.lost = False
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.ttl.total_seconds() / 3) and self.beat():
            pass

    def beat(self) -> bool:
        """Renew once; False when the lease is lost and beating should stop."""
        try:
            job_store.renew_lease(self.store, self.job_id, self.holder, now=self.clock(), ttl=self.ttl)
        except LeaseLostError as exc:
            self.lost = True
            log.error("job %s: %s", self.job_id, exc)
            return False
        except StoreFailedError as exc:  # a database hiccup: try again next beat, the lease has slack
            log.error("job %s: could not renew the lease: %s", self.job_id, exc)
        except Exception:  # a bug: its traceback is what a fix needs
            log.exception("job %s: could not renew the lease", self.job_id)
        return True

    def stop(self) -> None:
        self._stopped.set()
        self.join()


# --- Status -------------------------------------------------------------------------


def read_schedules(settings: Settings) -> Schedules:
    """The schedules file the settings name, validated against the registered actions."""
    return load_schedules(settings.schedules, actions=action_names())


def job_selection_problems(schedules: Schedules, jobs: Iterable[ScheduledJob], catalog: CatalogLoad,
                           tracked: Iterable[Any]) -> list[str]:
    """Each crawling job whose selection would check nothing (:func:`~clausewatch.app.selection_problem`), as
    ``file:line: job 'id': …``."""
    tracked = list(tracked)
    problems = []
    for job in jobs:
        if job.action in SELECTING_ACTIONS and (problem := selection_problem(job.selection, catalog, tracked)):
            problems.append(f"{schedules.path}:{job.line}: job {job.id!r}: {problem}")
    return problems


def job_status(schedules: Schedules, store: Store, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each job of the schedules: its last run, its next run, and who runs it now (if anyone).

    Times are ISO 8601 in UTC; ``next_run`` is before jitter.
    """
    now = now or utcnow()
    last = job_store.last_runs(store)
    by_outcome = {outcome: job_store.last_runs(store, outcomes=(outcome,)) for outcome in FINISHED_OUTCOMES}
    live = {lease.job_id: lease.holder for lease in job_store.leases(store) if lease.expires_at > now}
    return [_status_row(job, last.get(job.id), {o: runs.get(job.id) for o, runs in by_outcome.items()},
                        live.get(job.id), now) for job in schedules.jobs]


# The outcomes of a finished run; `status` shows the newest run of each, so a failure does not hide the last success.
FINISHED_OUTCOMES = ("ok", "failed", "skipped")


def _status_row(job: ScheduledJob, last: job_store.JobRun | None, last_of: dict[str, job_store.JobRun | None],
                running_by: str | None, now: datetime) -> dict:
    next_runs = job.next_fire_times(now, count=1)
    return {
        "id": job.id,
        "action": job.action,
        "cron": job.cron,
        "timezone": job.timezone,
        "selection": job.selection.describe(),
        "last_started_at": _iso(last.started_at if last else None),
        "last_finished_at": _iso(last.finished_at if last else None),
        "last_outcome": last.outcome if last else None,
        "last_error": last.error if last else None,
        "next_run": _iso(next_runs[0].astimezone(UTC) if next_runs else None),
        "running_by": running_by,
        "last_runs": {outcome: {"started_at": _iso(run.started_at), "error": run.error}
                      for outcome, run in last_of.items() if run is not None},
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None

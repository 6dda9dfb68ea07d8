"""Crawl the catalog: the wiring between settings, catalog, store, crawler and analysis."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.domain import Document, StoredVersion, VersionAnalysis
from clausewatch.app import (
    Selection,
    read_catalog,
    record_lost,
    store_failure_line,
    store_for,
    sync_selection,
    utcnow,
)
from clausewatch.errors import BusyError, InterruptedRunError
from clausewatch.job_runner import holding_lease
from clausewatch.settings import AUTO, AUTO_WORKER_FROM, Settings
from clausewatch.signal_relay import SignalRelay, signals_handled
from crawler.crawl import CrawlOptions, CrawlReport, crawl
from crawler.declarations import CatalogLoad
from crawler.recorder import DocumentResult, OnResult
from crawler.runner import CrawlRunner
from store.change_records import CATALOG_ERROR
from store.job_runs import LeaseHeldError
from store.repository import Store

if TYPE_CHECKING:
    from analysis.pipeline import Analyzer
    from clausewatch.parallel import ParallelAnalyzer

# The lease every crawl of a store holds (not a valid job id, so no job shares it by accident).
CRAWL_LEASE = "crawl:store"

log = logging.getLogger(__name__)

_parallel: dict[int, ParallelAnalyzer] = {}


class DeferredAnalyzer:
    """The in-process :class:`Analyzer`, built when the first new text needs it.

    Loading the classifier is a fixed cost of every crawl; a crawl whose pages
    are all unchanged (the usual daily run) analyses nothing and never pays it.
    """

    def __init__(self) -> None:
        self._analyzer: Analyzer | None = None
        self._lock = threading.Lock()
        self.prepared = False

    def __call__(self, previous: StoredVersion | None, text: str, document_type: str | None = None) -> VersionAnalysis:
        return self._load()(previous, text, document_type)

    def _load(self) -> Analyzer:
        with self._lock:
            if self._analyzer is None:
                from analysis.pipeline import Analyzer

                self._analyzer = Analyzer()
            return self._analyzer

    def prepare(self, coming: int = 1) -> None:
        """Load the analyser in a thread of its own now: the crawl expects ``coming`` first texts
        (``crawler.crawl``)."""
        self.prepared = True
        threading.Thread(target=self._load_quietly, name="clausewatch-analyzer-load", daemon=True).start()

    def _load_quietly(self) -> None:
        try:
            self._load()
        except Exception:  # noqa: BLE001 - the first text loads it again and fails as any analysis does
            log.debug("loading the analyser ahead of the first text failed", exc_info=True)

    @property
    def loaded(self) -> bool:
        return self._analyzer is not None


class AdaptiveAnalyzer:
    """``ANALYSIS_WORKERS=auto``: one worker process for a crawl that brings many first texts, in process otherwise.

    A worker takes the analysis off the crawling process's core, but its start
    (a fresh interpreter loading both models) costs more than it saves on a few
    texts: a daily run, with one or two new versions, is faster in process. The
    crawl says how many documents of its first batch were never fetched
    (``prepare``); from ``WORKER_FROM`` of them, on a machine that lets this
    process use two cores or more, one worker is started there and then, loading
    the models beside Scrapy's start. A crawl whose first batch was all fetched before
    never calls ``prepare`` and analyses in process. Made for one crawl: ``close`` stops
    the worker, so a scheduler keeps no idle process holding the models.
    """

    WORKER_FROM = AUTO_WORKER_FROM

    def __init__(self, cores: int | None = None) -> None:
        self.cores = usable_cores() if cores is None else cores
        self.in_process = DeferredAnalyzer()
        self.workers: ParallelAnalyzer | None = None

    def prepare(self, coming: int = 1) -> None:
        if self.workers is not None:
            return
        if coming >= self.WORKER_FROM and self.cores >= 2:
            from clausewatch.parallel import ParallelAnalyzer

            log.info("analysis in a worker process: %d documents of the first batch were never fetched", coming)
            workers = ParallelAnalyzer(workers=1)
            try:
                workers.prepare(coming)
            except (OSError, ImportError, NotImplementedError) as exc:  # no working semaphores, no process to spawn
                log.warning("cannot start an analysis worker (%s); analysing in the crawling process", exc)
                workers.close()
            else:
                self.workers = workers
                return
        self.in_process.prepare(coming)

    @property
    def worker_processes(self) -> int:
        """The worker's processes once ``prepare`` started it, else 0: texts are analysed in process."""
        return self.workers.worker_processes if self.workers is not None else 0

    def __call__(self, previous: StoredVersion | None, text: str, document_type: str | None = None) -> VersionAnalysis:
        workers = self.workers
        if workers is not None:
            from clausewatch.parallel import WorkersClosedError

            try:
                return workers(previous, text, document_type)
            except WorkersClosedError:
                pass  # a crawl cut short stopped its worker while a text was still being recorded: analysed here
        return self.in_process(previous, text, document_type)

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()


def usable_cores() -> int:
    """The CPUs this process may use, at least 1: its affinity, capped by a cgroup CPU quota (systemd's CPUQuota=,
    docker's --cpus, a Kubernetes limit), which the affinity does not show."""
    try:
        cores = len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    return max(1, min(cores, int(quota))) if quota is not None else cores


def cgroup_cpu_quota(membership: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """How many CPUs' worth of time this process's cgroup and its ancestors allow, or None: no limit, or no cgroup
    to read. cgroup v2 (``cpu.max``) or, on a host still on v1, the ``cpu`` controller's CFS quota."""
    try:
        lines = membership.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        number, _, rest = line.partition(":")
        controllers, _, own = rest.partition(":")
        if number == "0" and controllers == "":
            limits += _limits(root, own, _cpu_max)
        elif "cpu" in controllers.split(","):
            limits += _limits(root / controllers, own, _cfs_quota)
    return min(limits) if limits else None


def _limits(root: Path, own: str, read: Callable[[Path], float | None]) -> list[float]:
    """The limits ``read`` finds in the cgroup folder ``own`` under ``root`` and in each of its ancestors."""
    limits = []
    folder = root / own.strip().lstrip("/")
    while True:
        try:
            limit = read(folder)
        except (OSError, ValueError):
            limit = None  # no controller here, or a file not as expected: no limit known at this level
        if limit is not None:
            limits.append(limit)
        if folder == root or root not in folder.parents:
            return limits
        folder = folder.parent


def _cpu_max(folder: Path) -> float | None:
    quota, period = (folder / "cpu.max").read_text(encoding="utf-8").split()
    return None if quota == "max" else int(quota) / int(period)


def _cfs_quota(folder: Path) -> float | None:
    quota = int((folder / "cpu.cfs_quota_us").read_text(encoding="utf-8"))
    return None if quota < 0 else quota / int((folder / "cpu.cfs_period_us").read_text(encoding="utf-8"))


def default_analyzer(settings: Settings) -> DeferredAnalyzer | ParallelAnalyzer | AdaptiveAnalyzer:
    """The analyser a crawl uses: chosen per crawl (``auto``), in process, or a pool kept for the life of the
    process."""
    if settings.analysis_workers == AUTO:
        return AdaptiveAnalyzer()
    if settings.analysis_workers <= 0:
        return DeferredAnalyzer()
    if settings.analysis_workers not in _parallel:
        from clausewatch.parallel import ParallelAnalyzer

        _parallel[settings.analysis_workers] = ParallelAnalyzer(settings.analysis_workers)
    return _parallel[settings.analysis_workers]


def crawl_options(settings: Settings, *, delay: float | None = None, concurrency: int | None = None) -> CrawlOptions:
    return CrawlOptions(
        user_agent=settings.user_agent,
        delay=settings.crawl_delay if delay is None else delay,
        concurrency=settings.crawl_concurrency if concurrency is None else concurrency,
        timeout=settings.crawl_timeout,
        retries=settings.crawl_retries,
        max_bytes=settings.crawl_max_bytes,
        shrink_ratio=settings.crawl_shrink_ratio,
        browser_path=settings.browser_path,
        allowed_networks=settings.crawl_allowed_networks,
    )


@dataclass
class CatalogCrawlReport(CrawlReport):
    """A crawl of the catalog: the fetches, plus what the catalog itself got wrong.

    ``catalog_problems`` are the files that failed to load and the tracked
    documents they no longer declare (each also recorded as a failed fetch of
    kind ``catalog_error``); any of them makes the crawl end with exit status 2.
    ``interrupted`` names the signal that cut the crawl short.
    """

    catalog_problems: list[str] = field(default_factory=list)
    interrupted: str | None = None


def store_failure_problem(settings: Settings, report: CrawlReport) -> str:
    """The failure of the store that stopped a crawl, as one line naming the setting and what was checked."""
    unreached = ", and those it had not reached yet, which the failed store cannot list" \
        if report.unreached_unlisted else ""
    return (f"{store_failure_line(settings, report.store_failure)}; the crawl stopped: {report.checked} document(s) "
            f"checked, {report.unchecked} not checked{unreached}")


def _said_nothing(_unraisable: Any) -> None:
    """The unraisable-exception hook of a process ending at a second signal: the debris of the objects the signal
    cut short is not news."""


class StopRequest:
    """SIGINT and SIGTERM ask the crawl in flight to stop: open requests finish and are recorded.

    A second signal stops at once (every write is a transaction, so nothing is
    half-written either way).

    The handler only notes the signal and asks a :class:`SignalRelay`, whose
    thread logs it and asks the reactor to stop. The handler once did both
    itself: a Ctrl-C landing while the main thread held a lock that asking
    needs (crochet's registry, as the crawl's first call into the reactor was
    registered) took it a second time, and the crawl hung for good, as the
    scheduler's did (2026-12-03).
    """

    def __init__(self, runner: CrawlRunner):
        self.runner = runner
        self.signal_name: str | None = None
        self._stopper = SignalRelay(self._stop, name="clausewatch-crawl-stop", once=True)

    def _handle(self, signum: int, _frame: Any) -> None:
        signal_name = signal.Signals(signum).name
        if self.signal_name is None:
            self.signal_name = signal_name
            self._stopper.ask()
            return
        if _ending_on_a_signal():
            # A third signal, while the second's error makes its way out: raised again, it cut a cleanup short (the
            # store's connection being closed, which SQLAlchemy logged with a traceback).
            return
        # Raised wherever the main thread is: an object it was building (crochet's EventualResult) is left half made,
        # and its destructor's AttributeError came after the error line, as the process's last words.
        sys.unraisablehook = _said_nothing
        raise InterruptedRunError(signal_name)

    def _stop(self) -> None:
        log.warning("received %s: finishing the fetches in flight, then stopping", self.signal_name)
        try:
            self.runner.stop()
        except Exception as exc:  # noqa: BLE001 - a reactor too busy to take it within a minute
            log.warning("the crawl could not be told to stop (%s): a second %s ends it at once",
                        type(exc).__name__, self.signal_name)

    @contextmanager
    def while_waiting(self) -> Iterator[None]:
        """Around each pause while waiting for another crawl: a signal received stops the wait."""
        if self.signal_name:
            raise InterruptedRunError(self.signal_name, "nothing was crawled")
        yield

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        # The handlers outlast the relay: a second signal while the end of the crawl waits for the stopper (its word
        # comes before the crawl's summary) still ends it at once.
        with (signals_handled(self._handle, signal.SIGINT, signal.SIGTERM),
              self._stopper.running(wait_seconds=_STOPPER_JOIN_SECONDS)):
            yield self


def _ending_on_a_signal() -> bool:
    """Whether the code a signal handler interrupted is handling an :class:`InterruptedRunError`, or an error raised
    while one was handled: the process is ending on a signal already."""
    error = sys.exc_info()[1]
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, InterruptedRunError):
            return True
        seen.add(id(error))
        error = error.__context__
    return False


# How long the end of a crawl waits for the stopper thread still telling the (idle) reactor to stop.
_STOPPER_JOIN_SECONDS = 60.0


def crawl_catalog(
    settings: Settings,
    *,
    store: Store | None = None,
    platforms: Sequence[str] = (),
    tags: Sequence[str] = (),
    types: Sequence[str] = (),
    delay: float | None = None,
    concurrency: int | None = None,
    analyzer: Analyzer | DeferredAnalyzer | ParallelAnalyzer | AdaptiveAnalyzer | None = None,
    wait: bool = False,
    stop: StopRequest | None = None,
    on_result: OnResult | None = None,
) -> CatalogCrawlReport:
    """Sync the catalog into the store, check every selected document once, then sign the capture log.

    One crawl of a store at a time: the crawl holds the store's ``crawl:store``
    lease, shared by `crawl`, `run` and the scheduler; another holder makes this
    raise :class:`BusyError` naming it, or with ``wait`` wait for it. Tracked
    documents the catalog no longer declares are recorded as failed fetches.
    A selection naming an unknown platform, or matching nothing, is bad input.
    Every document's result goes to ``on_result``; the report counts them and
    names those that failed or were not checked.
    """
    from clausewatch.signing import check_clock, log_signer

    catalog = read_catalog(settings)
    for warning in catalog.warnings:
        log.warning("catalog warning: %s", warning)
    selection = Selection(tuple(platforms), tuple(tags), tuple(types))
    with store_for(settings, store) as opened:
        signer = log_signer(settings)  # before crawling: a run that could not be signed must not start
        check_clock(opened)
        with _crawl_lock(settings, opened, wait=wait, stop=stop):
            report = _crawl_locked(settings, opened, catalog, selection, delay=delay, concurrency=concurrency,
                                   analyzer=analyzer, stop=stop, on_result=on_result)
            if report.store_failure is None:
                _sign(opened, signer)
            else:  # the next crawl signs what this one recorded: a signed head covers every entry before it
                log.warning("capture log not signed: the store failed")
            return report


def _sign(store: Store, signer) -> None:
    from clausewatch.signing import sign_log

    head = sign_log(store, signer)
    log.info("capture log signed size=%d root=%s", head.size, head.root.hex()[:16])


@contextmanager
def _crawl_lock(settings: Settings, store: Store, *, wait: bool, stop: StopRequest | None) -> Iterator[None]:
    ttl = timedelta(seconds=settings.job_lease_seconds)
    interruptible = stop.while_waiting if stop else nullcontext
    try:
        with holding_lease(store, CRAWL_LEASE, ttl=ttl, wait=wait, interruptible=interruptible):
            yield
    except LeaseHeldError as held:
        lease = held.lease
        raise BusyError(f"another crawl of this store is running: {lease.holder} since "
                        f"{lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC (lease until {lease.expires_at:%H:%M:%S} UTC); "
                        "not run (use --wait to wait for it)") from None


def _crawl_locked(settings: Settings, store: Store, catalog: CatalogLoad, selection: Selection, *, delay,
                  concurrency, analyzer, stop: StopRequest | None, on_result: OnResult | None) -> CatalogCrawlReport:
    now = utcnow()
    lost = sync_selection(settings, store, catalog, selection, now)
    selected = SelectedDocuments(store.catalog.each_document(), selection.chosen(catalog))
    log.info("crawl selected=%d lost=%d", len(selected.chosen), len(lost))
    early = [_record_lost(store, document, catalog, now) for document in lost]
    problems = [f"catalog: {error}" for error in catalog.errors] + [f"{r.document_id}: {r.detail}" for r in early]
    stopped_already = stop is not None and stop.signal_name is not None  # before the first request
    if stopped_already:
        early += [DocumentResult(d.id, "skipped", detail="not checked: interrupted") for d in selected]
    for result in early if on_result else ():
        on_result(result)
    if stopped_already:
        report = CrawlReport(uuid.uuid4().hex[:12])
    else:
        analyze = analyzer or default_analyzer(settings)
        try:
            report = crawl(store, selected, crawl_options(settings, delay=delay, concurrency=concurrency),
                           analyze=analyze, runner=stop.runner if stop else None, on_result=on_result)
        finally:
            if analyzer is None and isinstance(analyze, AdaptiveAnalyzer):  # made for this crawl
                analyze.close()
    counts = Counter(report.counts) + Counter(r.outcome for r in early)
    return CatalogCrawlReport(report.run_id, dict(counts), [*early, *report.failures], report.store_failure,
                              report.unreached_unlisted, catalog_problems=problems,
                              interrupted=stop.signal_name if stop else None)


@dataclass(frozen=True)
class SelectedDocuments:
    """The store's documents that the catalog's selection covers, read afresh each time it is iterated."""

    documents: Iterable[Document]
    chosen: set[tuple[str, str]]

    def __iter__(self) -> Iterator[Document]:
        return (d for d in self.documents if (d.platform, d.type) in self.chosen)


def _record_lost(store: Store, document: Document, catalog: CatalogLoad, now) -> DocumentResult:
    """A tracked document the catalog no longer declares: a failed fetch, visible everywhere failures are."""
    return DocumentResult(document.id, "failed", CATALOG_ERROR, record_lost(store, document, catalog, now))

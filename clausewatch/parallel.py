"""Clause analysis in worker processes, so a crawl uses every core.

Extraction, the database and Scrapy stay in the crawling process; the
CPU-heavy analysis (splitting, classification, alignment) runs in a pool of
processes, each loading the model once; the crawling process never imports the
analysis itself. ``ANALYSIS_WORKERS=N``'s pool lives as long as the process (the
scheduler reuses it for every run); ``auto``'s lives for one crawl
(``clausewatch.crawling.AdaptiveAnalyzer``).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from analysis.domain import StoredVersion, VersionAnalysis

if TYPE_CHECKING:  # imported where an analysis runs: the crawling process only starts the workers
    from analysis.pipeline import Analyzer

log = logging.getLogger(__name__)

_worker_analyzer: Analyzer | None = None


def _start_worker() -> None:
    global _worker_analyzer
    # Ctrl-C signals the terminal's whole process group: the crawling process stops the crawl cleanly, and its texts
    # in flight still need their analysis. Interrupted mid-task, a worker handed its KeyboardInterrupt to a recording
    # thread as the task's result, which killed the crawl's reactor and hung the crawl. The worker was started with
    # SIGINT blocked (``_interrupts_held``), so one that arrived while it started is discarded here, not fatal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _end_with_parent()
    from analysis.pipeline import Analyzer

    _worker_analyzer = Analyzer()


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT back in this thread while it may start a worker.

    The signal mask is inherited through the spawn start method's fork and exec,
    so a Ctrl-C arriving while the new interpreter starts up stays pending until
    ``_start_worker`` ignores it; here it is delivered as soon as the mask is
    restored. SIGTERM is left alone: the pool itself ends a broken pool's workers
    with it.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _end_with_parent() -> None:
    """End this worker when the process that started it dies, however it died.

    A pool's worker waits on a task queue whose pipe it holds both ends of, so
    a crawl killed with SIGKILL (or by the out-of-memory killer) would leave it
    waiting for ever, holding both models. The spawn start method hands every
    worker a pipe from its parent that reads as closed once the parent is gone.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=wait, name="clausewatch-parent-watch", daemon=True).start()


def _analyze_in_worker(previous: StoredVersion | None, text: str, document_type: str | None) -> VersionAnalysis:
    assert _worker_analyzer is not None
    return _worker_analyzer(previous, text, document_type)


class WorkersClosedError(RuntimeError):
    """The analyser's workers were stopped (``ParallelAnalyzer.close``); it takes no more texts."""


class ParallelAnalyzer:
    """An ``analyze`` callable for the store that runs each analysis in a worker process."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self._lock = threading.Lock()

    @property
    def worker_processes(self) -> int:
        """How many texts are analysed at once, off the crawling process (the crawl's recording threads follow)."""
        return self.workers

    @cached_property
    def analyzer_id(self) -> str:
        # Loading the model here costs what the workers save; a crawl whose pages are all unchanged never asks.
        from analysis.pipeline import Analyzer

        return Analyzer().analyzer_id

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise WorkersClosedError("the analysis workers were stopped")
            if self._pool is None:
                # spawn, not fork: the crawling process runs the reactor and worker threads.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker)
            return self._pool

    def _submit(self, pool: ProcessPoolExecutor, fn, *args) -> Future:
        try:
            with _interrupts_held():  # a submit may start a worker
                return pool.submit(fn, *args)
        except RuntimeError as exc:  # "cannot schedule new futures after shutdown": closed meanwhile
            if self._closed:
                raise WorkersClosedError("the analysis workers were stopped") from exc
            raise

    def __call__(self, previous: StoredVersion | None, text: str, document_type: str | None = None) -> VersionAnalysis:
        pool = self._executor()
        try:
            return self._submit(pool, _analyze_in_worker, previous, text, document_type).result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the pool refuses all work from then on, and a scheduler keeps
            # it for every later run. A new pool gets this text once more; a second death is the caller's failure.
            log.warning("an analysis worker died; starting the pool again")
            self._discard(pool)
            return self._submit(self._executor(), _analyze_in_worker, previous, text, document_type).result()

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def prepare(self, coming: int = 1) -> None:
        """Start the workers now, each loading the models, without waiting: the crawl expects ``coming`` first
        texts."""
        pool = self._executor()
        for _ in range(self.workers):
            self._submit(pool, os.getpid)

    @property
    def started(self) -> bool:
        """Whether the worker processes were started (by the first new text to analyse)."""
        return self._pool is not None

    def close(self) -> None:
        """Stop the workers once the texts they were given are analysed; later texts are refused
        (``WorkersClosedError``)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()

"""Clause analysis in worker processes, so a crawl uses every core.

Extraction, the database and Scrapy stay in the crawling process; the
CPU-heavy analysis (splitting, classification, alignment) runs in a pool of
processes, each loading the model once. The pool lives as long as the process
(the scheduler reuses it for every run).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import cached_property

from analysis.domain import StoredVersion, VersionAnalysis
from analysis.pipeline import Analyzer

log = logging.getLogger(__name__)

_worker_analyzer: Analyzer | None = None


def _start_worker() -> None:
    global _worker_analyzer
    # Ctrl-C reaches the terminal's whole process group, and systemd's stop every process of the service: the
    # crawling process stops the crawl cleanly and then the pool, and its in-flight texts still need their
    # analysis. Interrupted mid-task, a worker handed its KeyboardInterrupt to a recording thread as the task's
    # result, which killed the crawl's reactor and hung the crawl. A worker ends with the pool or its parent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _end_with_parent()
    _worker_analyzer = Analyzer()


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


class ParallelAnalyzer:
    """An ``analyze`` callable for the store that runs each analysis in a worker process."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @cached_property
    def analyzer_id(self) -> str:
        # Loading the model here costs what the workers save; a crawl whose pages are all unchanged never asks.
        return Analyzer().analyzer_id

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the crawling process runs the reactor and worker threads.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_start_worker)
            return self._pool

    def __call__(self, previous: StoredVersion | None, text: str, document_type: str | None = None) -> VersionAnalysis:
        pool = self._executor()
        try:
            return pool.submit(_analyze_in_worker, previous, text, document_type).result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the pool refuses all work from then on, and a scheduler keeps
            # it for every later run. A new pool gets this text once more; a second death is the caller's failure.
            log.warning("an analysis worker died; starting the pool again")
            self._discard(pool)
            return self._executor().submit(_analyze_in_worker, previous, text, document_type).result()

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
            pool.submit(os.getpid)

    @property
    def started(self) -> bool:
        """Whether the worker processes were started (by the first new text to analyse)."""
        return self._pool is not None

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None

"""Analysis in worker processes gives exactly what analysis in process gives."""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from analysis.pipeline import Analyzer
from clausewatch.parallel import ParallelAnalyzer, WorkersClosedError

TEXT = """# Terms of Service

## 1. Disputes

Any dispute shall be resolved by binding arbitration in San Francisco, and you waive any right to a class action.

## 2. Termination

We may terminate your account at any time without notice for any reason.
"""


def test_worker_process_analysis_matches_in_process_analysis():
    parallel = ParallelAnalyzer(workers=1)
    try:
        assert parallel(None, TEXT) == Analyzer()(None, TEXT)
        assert parallel.analyzer_id == Analyzer().analyzer_id
    finally:
        parallel.close()


@contextmanager
def one_worker() -> Iterator[tuple[ParallelAnalyzer, multiprocessing.Process, object, set]]:
    """A pool of one worker that has analysed TEXT: the pool, its worker, the answer, and the children before it."""
    others = set(multiprocessing.active_children())
    parallel = ParallelAnalyzer(workers=1)
    try:
        expected = parallel(None, TEXT)
        (worker,) = set(multiprocessing.active_children()) - others
        yield parallel, worker, expected, others
    finally:
        parallel.close()


def test_a_worker_killed_mid_crawl_is_replaced_and_the_next_text_analysed():
    """A dead worker breaks a process pool for good; the scheduler keeps its pool for every run, so one kill (the
    out-of-memory killer, an operator) would otherwise fail every later analysis until a restart."""
    with one_worker() as (parallel, worker, expected, others):
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()

        assert parallel(None, TEXT) == expected
        (replacement,) = set(multiprocessing.active_children()) - others
        assert replacement.pid != worker.pid


def test_ctrl_c_leaves_the_worker_to_finish_its_texts():
    """Ctrl-C signals the terminal's whole process group: the crawling process stops cleanly and its texts in flight
    are still analysed. A worker that took SIGINT mid-task handed its KeyboardInterrupt to the crawl's recording
    thread, which hung the crawl."""
    with one_worker() as (parallel, worker, expected, others):
        os.kill(worker.pid, signal.SIGINT)
        assert parallel(None, TEXT) == expected
        assert set(multiprocessing.active_children()) - others == {worker} and worker.is_alive()


def test_a_ctrl_c_while_a_worker_starts_is_held_back_from_it():
    """A Ctrl-C in the ~0.1 s a new interpreter takes to start, before it could ignore the signal, killed the worker:
    the pool broke and a new worker loaded the models after the user had asked to stop."""
    others = set(multiprocessing.active_children())
    parallel = ParallelAnalyzer(workers=1)
    try:
        parallel.prepare()
        (worker,) = set(multiprocessing.active_children()) - others
        os.kill(worker.pid, signal.SIGINT)  # at once: the worker is still starting
        parallel(None, TEXT)
        assert set(multiprocessing.active_children()) - others == {worker} and worker.is_alive()
    finally:
        parallel.close()


def test_closed_workers_take_no_more_texts_and_a_broken_pools_survivors_end_with_it():
    parallel = ParallelAnalyzer(workers=2)
    others = set(multiprocessing.active_children())
    parallel.prepare()
    first = set(multiprocessing.active_children()) - others
    assert len(first) == 2
    victim, survivor = sorted(first, key=lambda p: p.pid)
    os.kill(victim.pid, signal.SIGKILL)
    try:
        assert parallel(None, TEXT) == Analyzer()(None, TEXT)  # a new pool
        survivor.join(60)  # the broken pool ends its other worker with SIGTERM
        assert not survivor.is_alive()
    finally:
        parallel.close()
    assert not set(multiprocessing.active_children()) - others
    with pytest.raises(WorkersClosedError):
        parallel(None, TEXT)


def test_prepared_workers_are_started_before_the_first_text_and_analyse_it():
    others = set(multiprocessing.active_children())
    parallel = ParallelAnalyzer(workers=1)
    try:
        parallel.prepare()
        assert parallel.started
        assert len(set(multiprocessing.active_children()) - others) == 1
        assert parallel(None, TEXT) == Analyzer()(None, TEXT)
    finally:
        parallel.close()


HOLDER = """
import sys
from clausewatch.parallel import ParallelAnalyzer, WorkersClosedError
parallel = ParallelAnalyzer(workers=1)
parallel(None, "# Terms\\n\\nWe may terminate your account at any time.\\n")
import multiprocessing
print(*(p.pid for p in multiprocessing.active_children()), flush=True)
sys.stdin.read()  # until the test kills this process
"""


def test_a_worker_ends_when_the_crawling_process_is_killed():
    """A crawl killed with SIGKILL (an operator, the out-of-memory killer) must not leave its worker behind,
    waiting for ever with both models loaded."""
    with subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True) as holder:
        try:
            (worker,) = (int(pid) for pid in holder.stdout.readline().split())
            watched = os.pidfd_open(worker)
        finally:
            holder.kill()
    try:
        ready, _, _ = select.select([watched], [], [], 60)  # readable once the worker has exited
        assert ready, "the worker outlived the process that started it"
    finally:
        os.close(watched)

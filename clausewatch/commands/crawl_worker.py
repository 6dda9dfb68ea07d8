"""`clausewatch crawl-worker`: check documents from the store's shared Redis queue (SPEC §9)."""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import click

from analysis.pipeline import Analyzer
from clausewatch.app import open_store, store_failure_line
from clausewatch.commands._global_options import global_options
from clausewatch.commands._shared import CONCURRENCY, DELAY, echo_results
from clausewatch.commands.enqueue import shared_queue
from clausewatch.crawling import crawl_options
from clausewatch.errors import EXIT_BAD_INPUT
from clausewatch.settings import Settings, without_password
from clausewatch.signal_relay import SignalRelay, signals_handled
from clausewatch.signing import check_clock
from crawler.distributed import WorkerOptions, work_queue
from crawler.runner import CrawlRunner

log = logging.getLogger(__name__)


@contextmanager
def stop_gracefully_on_sigterm(runner: CrawlRunner) -> Iterator[None]:
    """SIGTERM (systemd, Kubernetes) finishes the documents in flight and gives the rest back to the queue.

    The handler only asks a :class:`SignalRelay`, whose thread asks the reactor
    to stop, once; later SIGTERMs change nothing. Asked from the handler, the
    stop waited on the reactor in the main thread wherever the signal found it,
    and a SIGTERM landing while that thread registered the worker's call into
    the reactor took crochet's registry lock a second time: the worker hung for
    good (as `crawl`'s handler did, ``clausewatch.crawling.StopRequest``).
    """

    def stop() -> None:
        log.warning("received SIGTERM: finishing the documents in flight, then stopping")
        try:
            runner.stop()
        except Exception as exc:  # noqa: BLE001 - a reactor too busy to take it within a minute
            log.warning("the worker could not be told to stop (%s)", type(exc).__name__)

    stopper = SignalRelay(stop, name="clausewatch-worker-stop", once=True)
    with stopper.running(), signals_handled(lambda _signum, _frame: stopper.ask(), signal.SIGTERM):
        yield


@click.command("crawl-worker")
@global_options
@click.option("--drain", is_flag=True, help="Exit once the queue is empty (batch runs, tests).")
@click.option("--idle-exit", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Exit after the queue has been empty this long (default: wait for work forever).")
@click.option("--lease", "lease_seconds", type=click.FloatRange(min=1), default=300.0, show_default=True,
              metavar="SECONDS", help="A document this worker holds goes back to the queue if the worker has not "
              "renewed its lease for this long (it renews every third of it while alive).")
@click.option("--prefetch", type=click.IntRange(min=1), help="Documents held at once "
              "(default: the concurrent requests of the crawl, at least 16).")
@click.option("--delay", type=DELAY, help="Seconds between requests to one domain "
              "(0 lifts politeness: loopback benchmarks only).")
@click.option("--concurrency", type=CONCURRENCY, help="Concurrent requests per domain.")
@click.pass_obj
def command(settings: Settings, drain, idle_exit, lease_seconds, prefetch, delay, concurrency) -> None:
    """Fetch queued documents politely and record them in the shared store.

    Exit 1 if any fetch failed or the queue could not be reached.
    """
    if drain and idle_exit is not None:
        raise click.UsageError("--drain and --idle-exit are alternatives; give one")
    queue = shared_queue(settings)
    options = crawl_options(settings, delay=delay, concurrency=concurrency)
    worker = WorkerOptions(lease_seconds=lease_seconds, prefetch=prefetch or max(16, options.concurrency),
                           drain=drain, idle_exit=idle_exit)
    runner = CrawlRunner()
    store = open_store(settings)
    try:
        check_clock(store)
        with stop_gracefully_on_sigterm(runner):
            report = work_queue(store, queue, settings.crawl_redis_url, options, worker, analyze=Analyzer(),
                                runner=runner)
    finally:
        store.close()
    echo_results(report.results)
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.counts.items())) or "nothing checked"
    click.echo(f"worker {report.worker}: {counts} in {report.seconds:.1f}s")
    if drain:
        _say_held_elsewhere(queue, lease_seconds)
    if report.store_failure is not None:  # nothing more can be recorded, signed heads included
        click.echo(f"Error: {store_failure_line(settings, report.store_failure)}; the worker stopped and gave its "
                   "documents back to the queue", err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT)
    _sign(settings)
    if report.queue_errors:
        queue = without_password(settings.crawl_redis_url)
        click.echo(f"worker {report.worker}: the queue at {queue} failed {report.queue_errors} time(s); see the log",
                   err=True)
    if report.failed or report.queue_errors:
        raise click.exceptions.Exit(1)


def _say_held_elsewhere(queue, lease_seconds: float) -> None:
    """A drained queue may still hold documents leased by other workers, a killed one's among them: said, not
    left to look like a finished batch."""
    import redis

    try:
        leased = queue.counts().leased
    except redis.RedisError:
        return  # the queue's failures are counted and said already
    if leased:
        click.echo(f"{leased} document(s) still leased by other workers; a worker that was killed leaves its "
                   f"documents until their lease runs out (--lease, {lease_seconds:g} s here)", err=True)


def _sign(settings: Settings) -> None:
    """Sign the capture log where this machine holds the key; elsewhere `clausewatch sign-log` does it."""
    from clausewatch.errors import BadInputError
    from clausewatch.signing import log_signer, sign_log

    try:
        signer = log_signer(settings)
    except BadInputError as exc:
        click.echo(f"capture log not signed here: {exc}", err=True)
        return
    store = open_store(settings)
    try:
        head = sign_log(store, signer)
    finally:
        store.close()
    click.echo(f"capture log signed: {head.size} entries")

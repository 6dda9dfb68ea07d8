"""Shared crawl queue (SPEC §9): real Redis, real PostgreSQL, real worker processes on a loopback site.

Every test uses its own queue name, so its Redis keys (``clausewatch:<name>:*``)
are its own and are deleted afterwards. Redis being down fails these tests:
CI starts it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page
from crawler.distributed import WorkerOptions, work_queue
from crawler.pacing import DomainPacer
from crawler.queue import Claim, DocumentQueue, QueueCounts, QueueError, queue_name_for
from store.repository import Store
from tests.fakes import signalled_while_crochet_registers

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("CLAUSEWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PAGES = 20
PREFETCH = 4
POLICY = ("<html><body><nav>Home | Login</nav><main><h1>Terms of {name}</h1>"
          "<h2>1. Acceptance</h2><p>By using {name} you agree to these terms.</p>"
          "<h2>2. Termination</h2><p>{name} may suspend your account at any time.</p></main></body></html>")
RESULT_LINE = re.compile(r"^(CW-D-\d+)  (\S+)", re.MULTILINE)


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def queue() -> Iterator[DocumentQueue]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is not reachable ({exc}); start it (make services)")
    opened = DocumentQueue(client, "test-" + uuid.uuid4().hex[:12])
    try:
        yield opened
    finally:
        opened.clear()
        client.close()


# --- The queue on its own ------------------------------------------------------------


def test_enqueue_pushes_each_document_once_while_it_is_pending_or_leased(queue):
    assert queue.enqueue(["CW-D-00001", "CW-D-00002", "CW-D-00001"], "run1") == 2
    assert queue.enqueue(["CW-D-00002", "CW-D-00003"], "run2") == 1
    claimed = queue.claim(1, lease_seconds=60)
    assert [(c.document_id, c.run_id, c.attempt) for c in claimed] == [("CW-D-00001", "run1", 1)]
    assert queue.enqueue(["CW-D-00001"], "run3") == 0, "a leased document is still queued"
    assert queue.ack(claimed[0])
    assert queue.enqueue(["CW-D-00001"], "run3") == 1, "once checked it can be queued again"
    assert [c.document_id for c in queue.claim(10, lease_seconds=60)] == ["CW-D-00002", "CW-D-00003", "CW-D-00001"]
    assert queue.counts().pending == 0 and queue.counts().leased == 3


def test_a_lease_that_runs_out_goes_back_to_the_head_of_the_queue(queue):
    queue.enqueue(["CW-D-00001", "CW-D-00002"], "run1")
    [lost] = queue.claim(1, lease_seconds=-1)  # its worker died: the deadline is already past
    [again, other] = queue.claim(2, lease_seconds=60)
    assert (again.document_id, again.attempt) == ("CW-D-00001", 2)
    assert other.document_id == "CW-D-00002"
    assert not queue.ack(lost), "the dead worker's lease is gone"
    assert queue.renew([lost], 60) == 0 and queue.renew([again, other], 60) == 2
    assert queue.ack(again) and queue.counts().leased == 1


def test_a_document_that_keeps_failing_ends_on_the_dead_list(queue):
    queue.enqueue(["CW-D-00001"], "run1")
    for attempt in range(1, queue.max_attempts + 1):
        [claim] = queue.claim(1, lease_seconds=60)
        assert claim.attempt == attempt
        assert queue.release(claim, failed=True)
    assert queue.claim(1, lease_seconds=60) == []
    assert [Claim.parse(raw).attempt for raw in queue.dead()] == [queue.max_attempts + 1]
    assert queue.enqueue(["CW-D-00001"], "run2") == 1, "a dead document can be queued by a later run"


def test_a_payload_that_is_not_a_claim_goes_to_the_dead_list_without_blocking_the_queue(queue):
    queue.client.rpush(queue.pending_key, "https://example.com/")
    queue.enqueue(["CW-D-00001"], "run1")
    assert [c.document_id for c in queue.claim(2, lease_seconds=60)] == ["CW-D-00001"]
    queue.client.zadd(queue.keys[1], {"{not json": 0})  # an expired lease that is not a claim either
    assert queue.claim(1, lease_seconds=60) == []
    assert queue.dead() == ["https://example.com/", "{not json"]
    assert queue.counts() == QueueCounts(pending=0, leased=1, dead=2)


def test_bytes_that_are_not_utf8_go_to_the_dead_list_and_the_rest_of_the_batch_is_claimed(queue):
    # A traceback in Claim.parse stranded every valid claim of the batch on its lease (review of 2026-12-02).
    queue.enqueue(["CW-D-00001"], "run1")
    queue.client.rpush(queue.pending_key, b"\xff\xfe")
    queue.enqueue(["CW-D-00002"], "run1")
    assert [c.document_id for c in queue.claim(3, lease_seconds=60)] == ["CW-D-00001", "CW-D-00002"]
    assert queue.client.lrange(queue.keys[3], 0, -1) == [b"\xff\xfe"]


def test_an_id_marked_queued_that_no_list_holds_is_queued_again(queue):
    # The pending list deleted by hand (or an enqueue cut halfway) left ids marked queued: "0 of 8 queued (8 already
    # queued)", and they were never crawled again (review of 2026-12-02).
    assert queue.enqueue(["CW-D-00001", "CW-D-00002"], "run1") == 2
    [leased] = queue.claim(1, lease_seconds=60)
    queue.client.delete(queue.pending_key)
    assert queue.enqueue(["CW-D-00001", "CW-D-00002"], "run2") == 1, "the leased one is still queued"
    assert [c.document_id for c in queue.claim(5, lease_seconds=60)] == ["CW-D-00002"]
    assert leased.document_id == "CW-D-00001"


def test_a_key_of_the_queues_name_holding_another_kind_is_refused_before_any_write(queue):
    # WRONGTYPE halfway through the enqueue script was a traceback, and Redis kept its earlier writes: an id marked
    # queued in no list, never crawled again (review of 2026-12-02).
    queue.client.set(queue.pending_key, "another program's value")
    with pytest.raises(QueueError, match=f"the Redis key {queue.pending_key} holds a string, not the list of a "
                                         "crawl queue"):
        queue.enqueue(["CW-D-00001"], "run1")
    with pytest.raises(QueueError, match="holds a string"):
        queue.check()
    assert queue.client.smembers(queue.keys[2]) == set()
    queue.client.delete(queue.pending_key)
    queue.check()
    assert queue.enqueue(["CW-D-00001"], "run1") == 1


def test_a_drained_worker_says_what_other_workers_still_hold(queue, capsys):
    # `crawl-worker --drain` after a worker was killed said "nothing checked", exit 0, with its documents still
    # leased (review of 2026-12-02).
    from clausewatch.commands.crawl_worker import _say_held_elsewhere

    _say_held_elsewhere(queue, 300)
    assert capsys.readouterr().err == ""
    queue.enqueue(["CW-D-00001", "CW-D-00002"], "run1")
    queue.claim(2, lease_seconds=60)
    _say_held_elsewhere(queue, 300)
    assert capsys.readouterr().err == ("2 document(s) still leased by other workers; a worker that was killed leaves "
                                       "its documents until their lease runs out (--lease, 300 s here)\n")


def test_released_at_shutdown_is_not_counted_as_an_attempt(queue):
    queue.enqueue(["CW-D-00001"], "run1")
    [claim] = queue.claim(1, lease_seconds=60)
    assert queue.release(claim, failed=False)
    assert [c.attempt for c in queue.claim(1, lease_seconds=60)] == [1]


def test_workers_share_one_pace_per_host(queue):
    pacer = DomainPacer(queue.client)
    host = f"pace-{queue.name}.test"
    waits = [pacer.reserve(host, delay=10.0) for _ in range(3)]
    assert waits[0] == 0, "the first request to a host goes at once"
    assert 9 < waits[1] <= 10 and 19 < waits[2] <= 20, f"each later one a delay after the last: {waits}"
    assert pacer.reserve(f"other-{host}", delay=10.0) == 0, "hosts are paced apart"
    queue.client.delete(f"clausewatch:pace:{host}", f"clausewatch:pace:other-{host}")


def test_bad_names_and_payloads_are_refused(queue):
    with pytest.raises(QueueError, match="queue name"):
        DocumentQueue(queue.client, "a b:c")
    with pytest.raises(QueueError, match="not a document claim"):
        Claim.parse(b"https://example.com/")
    assert queue_name_for("postgresql+psycopg://u:secret@db.example:5432/clausewatch?sslmode=require") == "clausewatch"
    assert queue_name_for("sqlite:////var/lib/clausewatch/main.db") == "main"


# --- Worker processes -----------------------------------------------------------------


class GatedSite(LocalSite):
    """Holds every policy page until ``opens_at`` distinct pages have been asked for.

    One worker holds at most PREFETCH documents and answers none of them while
    the gate is shut, so the gate opening proves a second worker took work.
    """

    def __init__(self, opens_at: int):
        super().__init__()
        self.opens_at = opens_at
        self.asked: set[str] = set()
        self.gate = threading.Event()

    def page(self, path: str) -> Page | None:
        if path != "/robots.txt":
            with self._lock:
                self.asked.add(path)
                if len(self.asked) >= self.opens_at:
                    self.gate.set()
            self.gate.wait(timeout=60)
        return super().page(path)


def write_catalog(folder: Path, site: LocalSite, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(1, count + 1):
        name = f"Platform {n:02d}"
        site.set(f"/p{n:02d}/terms", Page(POLICY.format(name=name).encode()))
        (folder / f"platform-{n:02d}.yaml").write_text(
            f"name: {name}\ndocuments:\n  - type: Terms of Service\n    url: {site.url(f'/p{n:02d}/terms')}\n",
            encoding="utf-8")
    return folder


@pytest.fixture
def environment(tmp_path, pg_url, queue) -> dict[str, str]:
    """The CLAUSEWATCH_* settings every command of a test shares: one PostgreSQL store, one queue."""
    Store.open(pg_url, tmp_path / "objects").close()  # created once, as `clausewatch migrate` would
    return {
        "CLAUSEWATCH_HOME": str(tmp_path / "home"),
        "CLAUSEWATCH_DATABASE_URL": pg_url,
        "CLAUSEWATCH_BLOBS": str(tmp_path / "objects"),
        "CLAUSEWATCH_CATALOG": str(tmp_path / "catalog"),
        "CLAUSEWATCH_CRAWL_REDIS_URL": REDIS_URL,
        "CLAUSEWATCH_CRAWL_QUEUE": queue.name,
        "CLAUSEWATCH_USER_AGENT": "clausewatch-tests/1 (+http://127.0.0.1/)",
        "CLAUSEWATCH_CRAWL_TIMEOUT": "10",
        "CLAUSEWATCH_CRAWL_RETRIES": "1",
    }


def enqueue(environment: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, ["enqueue", *args], env=environment, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def start_worker(environment) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Starts `clausewatch crawl-worker` processes; any still running at the end are killed."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-c", "from clausewatch.cli import main; main()", "crawl-worker",
                   "--delay", "0", "--concurrency", "8", "--prefetch", str(PREFETCH), *args]
        started.append(subprocess.Popen(command, env={**os.environ, **environment}, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True))
        return started[-1]

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()


def finish(worker: subprocess.Popen[str]) -> dict[str, str]:
    """Wait for a worker; the outcome of every document it checked, from its report."""
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, f"worker exited {worker.returncode}\n{out}\n{err}"
    return dict(RESULT_LINE.findall(out))


def open_store(environment: dict[str, str]) -> Store:
    return Store.open(environment["CLAUSEWATCH_DATABASE_URL"], Path(environment["CLAUSEWATCH_BLOBS"]))


@pytest.fixture
def drain_here(environment, queue, analyzer, fast_options) -> Callable[[], dict[str, str]]:
    """Drain the queue with a worker in this process (on the crawl tests' reactor thread)."""

    def drain() -> dict[str, str]:
        store = open_store(environment)
        # A small delay, so the shared pacing middleware is in the crawl.
        options = dataclasses.replace(fast_options, delay=0.01)
        try:
            report = work_queue(store, queue, REDIS_URL, options,
                                WorkerOptions(prefetch=PREFETCH, drain=True), analyze=analyzer)
        finally:
            store.close()
        return {r.document_id: r.outcome for r in report.results}

    return drain


def test_two_workers_share_the_queue_and_check_each_document_exactly_once(tmp_path, environment, queue,
                                                                          start_worker):
    with GatedSite(opens_at=PREFETCH + 1) as site:
        write_catalog(tmp_path / "catalog", site, PAGES)
        output = enqueue(environment)
        assert f"{PAGES} of {PAGES} document(s) queued" in output
        assert "0 of 20 document(s) queued" in enqueue(environment), "re-enqueue while pending adds nothing"
        workers = [start_worker("--drain") for _ in range(2)]
        checked = [finish(worker) for worker in workers]
        assert site.gate.is_set()

    assert all(checked), f"each worker must have done some of the work: {checked}"
    assert not set(checked[0]) & set(checked[1]), "no document is checked by both workers"
    store = open_store(environment)
    try:
        status = store.catalog.status()
        assert {s.id for s in status} == set(checked[0]) | set(checked[1])
        assert [(s.fetches, s.versions, s.failures) for s in status] == [(1, 1, 0)] * PAGES
        assert set(checked[0].values()) | set(checked[1].values()) == {"new_version"}
        assert store.verify() == []
    finally:
        store.close()
    assert queue.counts() == QueueCounts(pending=0, leased=0, dead=0)


def test_a_worker_killed_mid_document_does_not_lose_it(tmp_path, environment, queue, drain_here, start_worker):
    with LocalSite() as site:
        write_catalog(tmp_path / "catalog", site, 1)
        site.set("/p01/terms", Page(hang=True))
        enqueue(environment)
        doomed = start_worker("--lease", "1", "--idle-exit", "120")
        assert site.wait_for_request("/p01/terms"), "the first worker never asked for its document"
        doomed.send_signal(signal.SIGKILL)
        doomed.communicate(timeout=30)
        [(payload, deadline)] = queue.client.zrange(queue.keys[1], 0, -1, withscores=True)
        wait_for(lambda: _redis_now(queue) > deadline, "the dead worker's lease to run out")

        site.set("/p01/terms", Page(POLICY.format(name="Platform 01").encode()))
        checked = drain_here()

    assert checked == {"CW-D-00001": "new_version"}
    store = open_store(environment)
    try:
        [status] = store.catalog.status()
        assert (status.fetches, status.versions) == (1, 1)
    finally:
        store.close()
    assert queue.counts() == QueueCounts(pending=0, leased=0, dead=0)


def test_a_worker_whose_blob_folder_fails_stops_and_gives_its_document_back(tmp_path, environment, queue,
                                                                            drain_here):
    """A store that cannot take a blob (here: a file past the process's size limit, RLIMIT_FSIZE, as a full disk
    would) stops the worker, exit 2 in one line naming BLOBS; the claim goes back to the queue uncounted, and a
    worker with room records the document. Before, the worker logged a traceback and exited 0."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    with LocalSite() as site:
        write_catalog(tmp_path / "catalog", site, 1)
        # A page's bytes are archived whole: random bytes do not compress below the cap.
        noise = b"<!-- " + os.urandom(300_000).hex().encode() + b" --></body>"
        site.set("/p01/terms", Page(POLICY.format(name="Platform 01").encode().replace(b"</body>", noise)))
        enqueue(environment)
        worker = subprocess.run([sys.executable, "-c", "from clausewatch.cli import main; main()", "crawl-worker",
                                 "--delay", "0", "--drain"], env={**os.environ, **environment}, preexec_fn=cap,
                                capture_output=True, text=True, timeout=120)
        assert worker.returncode == 2, worker.stderr[-3000:]
        assert "Traceback" not in worker.stderr
        assert worker.stderr.strip().splitlines()[-1] == (
            f"Error: BLOBS (CLAUSEWATCH_BLOBS): the blob folder {tmp_path / 'objects'} failed: File too large; the "
            "worker stopped and gave its documents back to the queue")
        assert queue.counts() == QueueCounts(pending=1, leased=0, dead=0)
        checked = drain_here()

    assert checked == {"CW-D-00001": "new_version"}
    assert queue.counts() == QueueCounts(pending=0, leased=0, dead=0)


def test_a_document_recorded_by_a_worker_that_died_before_acknowledging_is_not_fetched_again(
        tmp_path, environment, queue, drain_here):
    with LocalSite() as site:
        write_catalog(tmp_path / "catalog", site, 1)
        enqueue(environment)
        [claim] = queue.claim(1, lease_seconds=60)
        assert drain_here() == {}, "a leased document is not another's"
        queue.release(claim, failed=False)
        assert drain_here() == {"CW-D-00001": "new_version"}
        # Replay the crash: the same claim leased again, its holder gone before the ack.
        queue.client.sadd(queue.keys[2], claim.document_id)
        queue.client.zadd(queue.keys[1], {claim.payload: 0})
        requests_before = len(site.requests)
        assert drain_here() == {"CW-D-00001": "skipped"}
        assert len(site.requests) == requests_before

    store = open_store(environment)
    try:
        assert [(s.fetches, s.versions) for s in store.catalog.status()] == [(1, 1)]
    finally:
        store.close()
    assert queue.counts() == QueueCounts(pending=0, leased=0, dead=0)


def test_sigterm_finishes_the_document_in_flight_then_exits(tmp_path, environment, queue, start_worker):
    with GatedSite(opens_at=10**6) as site:
        write_catalog(tmp_path / "catalog", site, 1)
        enqueue(environment)
        worker = start_worker("--idle-exit", "120")
        assert site.wait_for_request("/p01/terms"), "the worker never asked for its document"
        worker.send_signal(signal.SIGTERM)
        site.gate.set()
        assert finish(worker) == {"CW-D-00001": "new_version"}

    store = open_store(environment)
    try:
        assert [(s.fetches, s.versions) for s in store.catalog.status()] == [(1, 1)]
    finally:
        store.close()
    assert queue.counts() == QueueCounts(pending=0, leased=0, dead=0)


# `clausewatch crawl-worker` with a real SIGTERM delivered while the main thread holds crochet's registry lock (a
# threading.Lock, not reentrant): the worker's call into the reactor registers its result under it, and the signal
# handler runs in that same thread.
SIGTERM_WHILE_CROCHET_REGISTERS = signalled_while_crochet_registers("SIGTERM")


def test_sigterm_while_the_main_thread_holds_a_lock_the_stop_needs_stops_the_worker(tmp_path, environment, queue):
    # The handler asked the reactor to stop and waited for it, in the main thread: a SIGTERM landing while crochet
    # registered the worker's call into the reactor took the registry's lock a second time, and the worker hung for
    # good (as `crawl`'s handler did).
    with LocalSite() as site:
        write_catalog(tmp_path / "catalog", site, 1)
        enqueue(environment)
        worker = subprocess.run([sys.executable, "-c", SIGTERM_WHILE_CROCHET_REGISTERS, "crawl-worker", "--delay",
                                 "0", "--idle-exit", "120"], env={**os.environ, **environment}, capture_output=True,
                                text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr
    assert "Traceback" not in worker.stderr
    assert worker.stdout.strip().splitlines()[-1].startswith("worker ")
    counts = queue.counts()
    assert (counts.leased, counts.dead) == (0, 0)  # the document checked, or given back: not held


def test_enqueue_queues_only_the_selected_documents(tmp_path, environment, queue):
    with LocalSite() as site:
        write_catalog(tmp_path / "catalog", site, 3)
    assert "1 of 1 document(s) queued" in enqueue(environment, "--platform", "platform-02")
    assert "2 of 3 document(s) queued" in enqueue(environment, "--type", "Terms of Service")
    nothing = CliRunner().invoke(main, ["enqueue", "--tag", "nothing-has-this-tag"], env=environment)
    assert nothing.exit_code == 2 and "matches no document" in nothing.stderr  # never a silent "0 queued"
    queued = [Claim.parse(raw).document_id for raw in queue.client.lrange(queue.pending_key, 0, -1)]
    assert sorted(queued) == ["CW-D-00001", "CW-D-00002", "CW-D-00003"] and queued[0] == "CW-D-00002"


def test_enqueue_without_a_redis_url_is_a_usage_error(environment):
    result = CliRunner().invoke(main, ["enqueue"], env={**environment, "CLAUSEWATCH_CRAWL_REDIS_URL": ""})
    assert result.exit_code == 2
    assert "CLAUSEWATCH_CRAWL_REDIS_URL" in result.output


def test_a_worker_without_its_redis_says_so(environment):
    result = CliRunner().invoke(main, ["crawl-worker", "--drain"],
                                env={**environment, "CLAUSEWATCH_CRAWL_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.exit_code == 2  # as an unreachable database: the setting names the wrong place
    assert result.stderr.startswith("Error: CRAWL_REDIS_URL (CLAUSEWATCH_CRAWL_REDIS_URL): Redis at "
                                    "redis://127.0.0.1:1/0 is not reachable")


def _redis_now(queue: DocumentQueue) -> float:
    seconds, micros = queue.client.time()
    return seconds + micros / 1_000_000

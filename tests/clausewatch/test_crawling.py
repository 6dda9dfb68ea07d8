"""Crawling the catalog from the shell: nothing silent (a broken catalog, an unknown platform),
one crawl of a store at a time, Ctrl-C that stops cleanly and says what was recorded, and an
in-process analyser built only when a new text needs it."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.cli import main
from clausewatch.crawling import AdaptiveAnalyzer, DeferredAnalyzer, default_analyzer
from clausewatch.job_runner import JobRunner, read_schedules
from clausewatch.loopback_site import LocalSite, Page
from clausewatch.parallel import ParallelAnalyzer
from clausewatch.settings import load_settings
from crawler.crawl import CrawlOptions, crawl
from store.repository import Store
from tests.fakes import signalled_while_crochet_registers

CLAUSEWATCH = str(Path(sys.executable).parent / "clausewatch")
REPO = Path(__file__).resolve().parents[2]


def policy(name: str) -> bytes:
    return (f"<main><h1>{name} terms</h1><h2>1. Use</h2><p>By using {name} you accept these terms.</p>"
            f"<h2>2. Changes</h2><p>{name} may change these terms at any time.</p></main>").encode()


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def stop_and_wait_for_the_word(crawling: subprocess.Popen, signum: signal.Signals) -> None:
    """Send ``signum`` to a running crawl and read its log until it says it is stopping."""
    crawling.send_signal(signum)
    for line in crawling.stderr:
        if f"received {signum.name}: finishing the fetches in flight" in line:
            break


def write_platform(catalog: Path, slug: str, url: str, *, key: str = "select") -> None:
    catalog.mkdir(exist_ok=True)
    (catalog / f"{slug}.yaml").write_text(
        f"name: {slug.title()}\nslug: {slug}\ndocuments:\n  - type: Terms of Service\n    url: {url}\n    {key}: main\n")


@pytest.fixture
def project(tmp_path):
    """A catalog of two platforms served on loopback, and the CLI arguments to reach it."""
    with LocalSite({"/acme": Page(policy("Acme")), "/zeta": Page(policy("Zeta"))}) as site:
        catalog = tmp_path / "catalog"
        write_platform(catalog, "acme", site.url("/acme"))
        write_platform(catalog, "zeta", site.url("/zeta"))
        (tmp_path / "schedules.yaml").write_text("jobs: []\n")  # named, so it must be there: nothing scheduled
        base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog), "--schedules",
                str(tmp_path / "schedules.yaml")]
        assert invoke(*base, "init").exit_code == 0
        yield site, catalog, base


def test_a_typo_in_a_tracked_platforms_file_fails_loudly_everywhere(project, tmp_path):
    site, catalog, base = project
    assert invoke(*base, "crawl", "--delay", "0").exit_code == 0
    write_platform(catalog, "acme", site.url("/acme"), key="selects")  # the typo

    crawl = invoke(*base, "crawl", "--delay", "0")
    assert crawl.exit_code == 2
    assert "nothing to crawl" not in crawl.output
    assert "acme.yaml:6: documents[0].selects: unknown key (did you mean 'select'?)" in crawl.stderr
    assert "CW-D-00001  failed  catalog_error" in crawl.stdout
    assert "CW-D-00002  not_modified" in crawl.stdout  # the other platform is still checked

    status = invoke(*base, "status", "--json")
    assert status.exit_code == 2
    shown = json.loads(status.stdout)
    assert [(d["id"], d["last_outcome"]) for d in shown["documents"]] == [
        ("CW-D-00001", "failed"), ("CW-D-00002", "not_modified")]
    assert any("CW-D-00001 acme · Terms of Service: tracked but no longer declared" in p for p in shown["problems"])

    (tmp_path / "home" / "subscribers.yaml").write_text("subscribers:\n  - email: legal@example.com\n")
    alerts = invoke(*base, "alerts", "--dry-run", str(tmp_path / "mail"))
    assert "1 newly failing document(s)" in alerts.output  # at once, not after FAILURE_ALERT_AFTER crawls

    assert invoke(*base, "site").exit_code == 0
    index = (tmp_path / "home" / "site" / "index.html").read_text()
    assert "catalog_error" in index and "CW-D-00001" in index

    write_platform(catalog, "acme", site.url("/acme"))  # fixed: tracking resumes, nothing lost
    assert invoke(*base, "crawl", "--delay", "0").exit_code == 0


def test_a_lost_document_is_told_why_its_own_file_or_no_file_not_another_files_problem(project, tmp_path):
    # With zeta.yaml deleted and another file broken, the crawl gave the other file's error as zeta's reason
    # (review of 2026-12-02).
    site, catalog, base = project
    write_platform(catalog, "acme", site.url("/acme"), key="selects")
    (catalog / "zeta.yaml").unlink()

    crawl = invoke(*base, "crawl", "--delay", "0")

    assert crawl.exit_code == 2
    lines = {line.split(": ", 2)[1]: line for line in crawl.stderr.splitlines() if line.startswith("Error: CW-D-")}
    assert lines["CW-D-00001"].startswith(
        "Error: CW-D-00001: acme · Terms of Service is tracked but no longer loads from the catalog (its file "
        f"failed to load: {catalog / 'acme.yaml'}:6: documents[0].selects: unknown key")
    assert lines["CW-D-00002"].startswith(
        "Error: CW-D-00002: zeta · Terms of Service is tracked but no longer loads from the catalog: no catalog file "
        "declares zeta (removed or renamed?); 1 problem(s) in files that failed to load, which may have, the first: "
        f"{catalog / 'acme.yaml'}:6: documents[0].selects: unknown key (did you mean 'select'?)")


def test_only_init_stops_tracking_a_document_the_catalog_dropped(project):
    site, catalog, base = project
    (catalog / "zeta.yaml").unlink()
    crawl = invoke(*base, "crawl", "--delay", "0")
    assert crawl.exit_code == 2 and "run `clausewatch init` to stop tracking it" in crawl.output
    init = invoke(*base, "init")
    assert init.exit_code == 0 and "no longer tracked: CW-D-00002 zeta · Terms of Service" in init.output
    assert invoke(*base, "crawl", "--delay", "0").exit_code == 0
    assert invoke(*base, "status").exit_code == 0


def test_a_catalog_that_declares_nothing_is_bad_input_never_nothing_to_crawl(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    base = ["--home", str(tmp_path / "home"), "--catalog", str(empty)]
    assert invoke(*base, "init").exit_code == 0  # a new store may start before its catalog
    crawl = invoke(*base, "crawl", "--delay", "0")
    assert crawl.exit_code == 2 and "nothing to crawl" not in crawl.stdout
    assert crawl.stderr.strip().splitlines()[-1] == (
        f"Error: the catalog {empty} declares no document: nothing to crawl (CATALOG, --catalog)")


def test_init_with_a_catalog_that_declares_nothing_stops_tracking_nothing(project, tmp_path):
    _site, catalog, base = project
    empty = tmp_path / "empty"
    empty.mkdir()
    wrong = [str(empty) if arg == str(catalog) else arg for arg in base]
    init = invoke(*wrong, "init")
    assert init.exit_code == 2
    assert f"the catalog {empty} declares no document: init would stop tracking all 2 tracked document(s)" \
        in init.stderr
    crawl = invoke(*base, "crawl", "--delay", "0")  # the right catalog: both documents are still tracked
    assert crawl.exit_code == 0 and "2 new_version" in crawl.stdout


@pytest.mark.redis
def test_enqueue_names_the_tracked_documents_the_catalog_lost_and_fails(project):
    import redis

    _site, catalog, base = project
    (catalog / "zeta.yaml").unlink()
    queue = f"test-lost-{uuid.uuid4().hex[:8]}"
    environment = {"CLAUSEWATCH_CRAWL_REDIS_URL": "redis://127.0.0.1:6379/15", "CLAUSEWATCH_CRAWL_QUEUE": queue}
    try:
        result = CliRunner().invoke(main, [*base, "enqueue"], env=environment)
    finally:
        client = redis.Redis.from_url(environment["CLAUSEWATCH_CRAWL_REDIS_URL"])
        client.delete(*client.keys(f"clausewatch:{queue}:*") or ["none"])
    assert result.exit_code == 2
    assert "1 of 1 document(s) queued" in result.stdout
    assert "Error: CW-D-00002: zeta · Terms of Service is tracked but no longer loads from the catalog" \
        in result.stderr
    status = json.loads(invoke(*base, "status", "--json").stdout)
    assert [(d["id"], d["last_outcome"]) for d in status["documents"]] == [("CW-D-00001", None),
                                                                             ("CW-D-00002", "failed")]


def test_crawl_of_an_unknown_platform_is_bad_input(project):
    _site, _catalog, base = project
    result = invoke(*base, "crawl", "--platform", "nosuch")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: unknown platform 'nosuch': neither in the catalog nor tracked in the store (known: acme, zeta)")
    nothing = invoke(*base, "crawl", "--type", "Cookie Policy")
    assert nothing.exit_code == 2 and "matches no document" in nothing.stderr


def test_a_job_selecting_an_unknown_platform_is_refused_at_its_line_and_fails_visibly_unattended(project, tmp_path,
                                                                                                  caplog):
    _site, _catalog, base = project
    (tmp_path / "schedules.yaml").write_text(
        "jobs:\n  - id: nightly\n    action: crawl\n    cron: \"0 3 * * *\"\n    select: {platforms: [nosuch]}\n")
    schedules = tmp_path / "schedules.yaml"
    for command in (["run", "nightly"], ["schedule"]):  # by hand, and the scheduler as it starts
        refused = invoke(*base, *command)
        assert refused.exit_code == 2, refused.output
        assert refused.stderr.strip().splitlines()[-1] == (
            f"Error: {schedules}:2: job 'nightly': unknown platform 'nosuch': neither in the catalog nor tracked in the store (known: acme, zeta)")

    settings = load_settings({}, {"HOME": tmp_path / "home", "CATALOG": _catalog, "SCHEDULES": schedules,
                                  "CRAWL_DELAY": 0})
    store = Store.open(settings.database_url, settings.blobs, mode="write")
    try:  # a platform that leaves the catalog while the scheduler runs: the unattended run fails, visibly
        outcome = JobRunner(settings, store).run(read_schedules(settings).job("nightly"))
    finally:
        store.close()
    assert outcome.outcome == "failed" and "unknown platform 'nosuch'" in outcome.error
    failed = [r for r in caplog.records if r.getMessage().startswith("job nightly failed")]
    assert [r.exc_info for r in failed] == [None], "bad input is one line in the log, not a traceback"
    assert "unknown platform 'nosuch'" in failed[0].getMessage()
    jobs = json.loads(invoke(*base, "status", "--json").stdout)["jobs"]
    assert jobs[0]["last_outcome"] == "failed" and "unknown platform 'nosuch'" in jobs[0]["last_error"]


def test_a_broken_catalog_fails_the_scheduled_run_instead_of_logging_ok(project, tmp_path):
    site, catalog, base = project
    (tmp_path / "schedules.yaml").write_text("jobs:\n  - id: daily\n    action: run\n    cron: \"0 3 * * *\"\n")
    write_platform(catalog, "acme", site.url("/acme"), key="selects")
    by_hand = invoke(*base, "run", "daily")  # by hand: refused before anything runs
    assert by_hand.exit_code == 2 and "acme.yaml:6: documents[0].selects: unknown key" in by_hand.stderr

    settings = load_settings({}, {"HOME": tmp_path / "home", "CATALOG": catalog, "SCHEDULES": tmp_path / "schedules.yaml",
                                  "CRAWL_DELAY": 0})
    store = Store.open(settings.database_url, settings.blobs, mode="write")
    try:  # unattended, as the scheduler runs it: the rest is crawled, alerted and published, the run fails
        outcome = JobRunner(settings, store).run(read_schedules(settings).job("daily"))
    finally:
        store.close()
    assert outcome.outcome == "failed"
    assert "selects: unknown key" in outcome.error and "CW-D-00001" in outcome.error
    assert outcome.counts["crawl"] == {"failed": 1, "new_version": 1}  # zeta was still crawled
    assert outcome.counts["alerts"] == {"skipped": f"no subscribers file at {settings.subscribers}"}
    assert outcome.counts["site"]["pages"] > 0


def test_one_crawl_per_store_and_ctrl_c_stops_cleanly(project, tmp_path):
    site, _catalog, base = project
    site.set("/zeta", Page(policy("Zeta"), hang=True))  # answered only when the test releases it
    first = subprocess.Popen([CLAUSEWATCH, *base, "crawl", "--delay", "0", "--concurrency", "4"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert site.wait_for_request("/zeta"), "the first crawl never reached /zeta"
        second = invoke(*base, "crawl", "--delay", "0")
        assert second.exit_code == 1
        assert f"Error: another crawl of this store is running: {os.uname().nodename}:{first.pid}:" in second.stderr
        assert "use --wait" in second.stderr

        first.send_signal(signal.SIGINT)
        site.release()
        out, err = first.communicate(timeout=120)
    finally:
        first.kill()
    assert first.returncode == 130, err
    assert "Aborted!" not in err and "Traceback" not in err
    assert "interrupted by SIGINT: 2 document(s) checked and recorded, 0 not checked" in err
    assert "CW-D-00002  new_version" in out  # the fetch in flight was finished and recorded

    again = invoke(*base, "crawl", "--delay", "0")  # the lock was given back
    assert again.exit_code == 0 and "2 not_modified" in again.stdout


def interrupted_twice(project, program: list[str]) -> tuple[subprocess.Popen, str]:
    """``program`` (the command line before clausewatch's arguments) crawling the project, a page of it never
    answered, sent SIGINT until it says it stops, then SIGINT again; the ended process and its standard error."""
    site, _catalog, base = project
    site.set("/zeta", Page(policy("Zeta"), hang=True))  # never answered while the crawl runs
    crawling = subprocess.Popen([*program, *base, "crawl", "--delay", "0", "--concurrency", "4"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert site.wait_for_request("/zeta"), "the crawl never reached /zeta"
        stop_and_wait_for_the_word(crawling, signal.SIGINT)
        crawling.send_signal(signal.SIGINT)
        _out, err = crawling.communicate(timeout=120)
    finally:
        crawling.kill()
        site.release()
    return crawling, err


def test_a_second_ctrl_c_ends_the_crawl_at_once(project):
    """The first Ctrl-C waits for the fetches in flight; the second must end the process. It printed its error and
    then waited for ever, at the interpreter's exit, for the recording threads of a crawl never closed."""
    crawling, err = interrupted_twice(project, [CLAUSEWATCH])
    assert crawling.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("Error: interrupted by SIGINT")
    assert "Traceback" not in err


# `clausewatch crawl` with a real SIGINT delivered while the main thread holds crochet's registry lock: the crawl's
# first call into the reactor registers its result under that lock (a threading.Lock, not reentrant), and the signal
# handler runs in that same thread.
CTRL_C_WHILE_CROCHET_REGISTERS = signalled_while_crochet_registers("SIGINT")


def test_ctrl_c_while_the_main_thread_holds_a_lock_the_stop_needs_stops_the_crawl(project):
    # The handler asked the reactor to stop and waited for it, in the main thread, wherever the signal found it: one
    # landing while crochet registered the crawl's call into the reactor took the registry's lock a second time, and
    # the crawl hung for good, Ctrl-C after Ctrl-C (the scheduler's deadlock of 2026-12-03, in the crawl's handler).
    _site, _catalog, base = project
    crawling = subprocess.run([sys.executable, "-c", CTRL_C_WHILE_CROCHET_REGISTERS, *base, "crawl", "--delay", "0"],
                              capture_output=True, text=True, timeout=120)
    assert crawling.returncode == 130, crawling.stderr
    assert "Traceback" not in crawling.stderr
    assert "received SIGINT: finishing the fetches in flight, then stopping" in crawling.stderr
    assert "interrupted by SIGINT: " in crawling.stderr.strip().splitlines()[-1]
    assert crawling.stdout.strip().splitlines()[-1].startswith("run ")  # what was recorded, then the counts


# `clausewatch crawl` sending itself a third SIGINT as the store's connection is closed (each time the store is
# closed, which a crawl stopped by a second signal does on its way out).
THIRD_CTRL_C_AS_THE_STORE_CLOSES = """
import os, signal, sys
from sqlalchemy.engine import default
import store.database
from clausewatch.cli import main

closing = []
close = store.database.Database.close
def closed(self):
    closing.append(True)
    close(self)
store.database.Database.close = closed
do_close = default.DefaultDialect.do_close
def signalled(self, connection):
    if closing:
        os.kill(os.getpid(), signal.SIGINT)  # its handler runs here, inside SQLAlchemy's closing of the connection
    do_close(self, connection)
default.DefaultDialect.do_close = signalled
sys.exit(main(sys.argv[1:]))
"""


def test_a_third_ctrl_c_while_the_second_ends_the_crawl_is_no_traceback(project):
    # The third signal raised the interruption again wherever the main thread was on its way out: inside
    # SQLAlchemy's closing of a connection, which logged it with two tracebacks before the error line.
    crawling, err = interrupted_twice(project, [sys.executable, "-c", THIRD_CTRL_C_AS_THE_STORE_CLOSES])
    assert crawling.returncode == 130, err
    assert "Traceback" not in err and "Exception closing connection" not in err
    assert err.strip().splitlines()[-1].startswith("Error: interrupted by SIGINT")


def test_signals_after_the_second_are_ignored_only_while_its_error_makes_its_way_out(restore_signals):
    from clausewatch.crawling import StopRequest
    from clausewatch.errors import InterruptedRunError

    class Runner:
        stopped = threading.Event()

        def stop(self):
            self.stopped.set()

    stop = StopRequest(Runner())
    with stop.installed():
        signal.raise_signal(signal.SIGTERM)  # the first: the crawl is asked to stop, nothing raised here
        assert Runner.stopped.wait(30) and stop.signal_name == "SIGTERM"
        try:
            signal.raise_signal(signal.SIGINT)  # the second: at once
        except InterruptedRunError as second:
            assert second.signal_name == "SIGINT"
            signal.raise_signal(signal.SIGINT)  # a third, while the second's error is handled: nothing
            try:
                raise ValueError("a cleanup failing")
            except ValueError:
                signal.raise_signal(signal.SIGINT)  # still on the way out
        else:
            pytest.fail("the second signal raised nothing")
        with pytest.raises(InterruptedRunError):  # the second's error was lost (in a destructor): raised again
            signal.raise_signal(signal.SIGINT)


def test_a_crawl_lock_left_by_a_killed_process_is_taken_over_at_once(project, caplog):
    from datetime import UTC, datetime, timedelta

    from store import job_runs as job_store

    _site, _catalog, base = project
    gone = subprocess.Popen(["true"])
    gone.wait()  # ended and reaped: its pid names no process now
    dead = f"{os.uname().nodename}:{gone.pid}:dead"
    store = Store.open(f"sqlite:///{base[1]}/clausewatch.db", Path(base[1]) / "objects", mode="write")
    job_store.acquire_lease(store, "crawl:store", dead, now=datetime.now(UTC), ttl=timedelta(hours=1))
    store.close()
    crawl = invoke(*base, "crawl", "--delay", "0")
    assert crawl.exit_code == 0, crawl.output
    assert f"took over the lease of {dead}, which is no longer running" in caplog.text


def test_ctrl_c_in_any_command_exits_130_without_a_traceback(project):
    _site, _catalog, base = project
    child = subprocess.Popen([sys.executable, "-c", INTERRUPTED_STATUS, *base], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert "Traceback" not in err and "Aborted!" not in err
    assert err.strip().splitlines()[-1].startswith("Error: interrupted by SIGINT")


# `clausewatch status` with a real SIGINT delivered while it reads the store.
INTERRUPTED_STATUS = """
import os, signal, sys
import store.catalog
from clausewatch.cli import main

status = store.catalog.Catalog.status
def interrupted(self):
    os.kill(os.getpid(), signal.SIGINT)
    return status(self)
store.catalog.Catalog.status = interrupted
sys.exit(main([*sys.argv[1:], "status"]))
"""


@pytest.mark.redis
def test_enqueue_of_an_unknown_platform_is_bad_input(project):
    _site, _catalog, base = project
    result = CliRunner().invoke(main, [*base, "enqueue", "--platform", "nosuch"],
                                env={"CLAUSEWATCH_CRAWL_REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert result.exit_code == 2 and "unknown platform 'nosuch'" in result.stderr


def test_crawl_wait_waits_for_the_crawl_running_elsewhere(project):
    from datetime import UTC, datetime, timedelta

    from clausewatch.app import new_holder
    from store import job_runs as job_store

    _site, _catalog, base = project
    store = Store.open(f"sqlite:///{base[1]}/clausewatch.db", Path(base[1]) / "objects", mode="write")
    holder = new_holder()  # this test process: alive, so its lease is not taken over
    job_store.acquire_lease(store, "crawl:store", holder, now=datetime.now(UTC), ttl=timedelta(hours=1))
    waiting = subprocess.Popen([CLAUSEWATCH, *base, "-v", "crawl", "--delay", "0", "--wait"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in waiting.stderr:  # until it says it waits
            if f"waiting for {holder} to finish" in line:
                break
        assert waiting.poll() is None, "the crawl did not wait"
        job_store.release_lease(store, "crawl:store", holder)
        out, _err = waiting.communicate(timeout=120)
    finally:
        waiting.kill()
        store.close()
    assert waiting.returncode == 0 and "2 new_version" in out


ANALYSED_POLICY = (b"<main><h1>Terms</h1><h2>1. Termination</h2><p>We may suspend your account at any time for any "
                   b"reason.</p><h2>2. Law</h2><p>These terms are governed by the laws of Ireland.</p></main>")
DIRECT_OPTIONS = CrawlOptions(user_agent="clausewatch-tests/1", delay=0, concurrency=4, timeout=5, retries=0)


def test_unchanged_pages_never_load_the_classifier_and_new_text_is_analysed(store):
    from datetime import UTC, datetime

    with LocalSite({"/terms": Page(ANALYSED_POLICY)}) as site:
        platforms = [PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service",
                                                                 (SourceSpec(site.url("/terms")),)),))]
        store.catalog.sync_catalog(platforms, now=datetime.now(UTC))
        documents = store.catalog.documents()

        first = DeferredAnalyzer()
        assert crawl(store, documents, DIRECT_OPTIONS, analyze=first).counts == {"new_version": 1}
        assert first.prepared and first.loaded  # a document never fetched: loading began before the crawl
        version = store.history.current_version(documents[0].id)
        assert any("suspend your account" in clause.clause.text for clause in version.clauses)

        again = DeferredAnalyzer()
        assert crawl(store, documents, DIRECT_OPTIONS, analyze=again).counts == {"not_modified": 1}
        assert not again.prepared and not again.loaded
        # Nor does the pool of analysis workers start, nor the crawling process load the model to name it.
        workers = ParallelAnalyzer(workers=1)
        try:
            assert crawl(store, documents, DIRECT_OPTIONS, analyze=workers).counts == {"not_modified": 1}
            assert not workers.started and "analyzer_id" not in vars(workers)
        finally:
            workers.close()


class EagerAdaptive(AdaptiveAnalyzer):
    WORKER_FROM = 2  # the shipped threshold is 20 first texts; two keep the crawls small


def acme_platforms(site: LocalSite, count: int) -> list[PlatformSpec]:
    return [PlatformSpec(f"acme{i}", f"Acme {i}", (DocumentSpec(f"acme{i}", "Terms of Service",
                                                                (SourceSpec(site.url(f"/terms{i}")),)),))
            for i in range(count)]


def test_auto_analyses_many_first_texts_in_one_worker_and_a_few_in_process(store):
    from datetime import UTC, datetime

    others = set(multiprocessing.active_children())
    with LocalSite({f"/terms{i}": Page(ANALYSED_POLICY.replace(b"Ireland", f"Ireland {i}".encode()))
                    for i in range(3)}) as site:
        store.catalog.sync_catalog(acme_platforms(site, 2), now=datetime.now(UTC))
        first = EagerAdaptive(cores=2)
        try:
            assert crawl(store, store.catalog.documents(), DIRECT_OPTIONS, analyze=first).counts == {"new_version": 2}
            assert first.workers is not None and first.workers.started and not first.in_process.prepared
        finally:
            first.close()
        assert not set(multiprocessing.active_children()) - others  # the crawl's worker is gone with it
        for document in store.catalog.documents():
            assert any("suspend your account" in c.clause.text for c in store.history.current_version(
                document.id).clauses)

        # One more document: one first text, below the threshold, is analysed in process.
        store.catalog.sync_catalog(acme_platforms(site, 3), now=datetime.now(UTC))
        later = EagerAdaptive(cores=2)
        assert crawl(store, store.catalog.documents(), DIRECT_OPTIONS, analyze=later).counts == {
            "new_version": 1, "not_modified": 2}
        assert later.workers is None and later.in_process.prepared and later.in_process.loaded
        assert not set(multiprocessing.active_children()) - others

    one_core = EagerAdaptive(cores=1)
    one_core.prepare(500)
    assert one_core.workers is None and one_core.in_process.prepared


class MeetingAnalyzer:
    """Analyses in process, each text once ``meet`` recording threads hold one (or after 30 s), noting how many
    held one at once; ``worker_processes`` is what it tells the crawl, as an analyser with workers does."""

    def __init__(self, worker_processes: int, meet: int) -> None:
        self.worker_processes = worker_processes
        self.meet = meet
        self.inside = self.most_inside = 0
        self.met = threading.Condition()
        self.model = DeferredAnalyzer()

    def __call__(self, previous, text, document_type=None):
        with self.met:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            self.met.notify_all()
            self.met.wait_for(lambda: self.most_inside >= self.meet, timeout=30)
        try:
            return self.model(previous, text, document_type)
        finally:
            with self.met:
                self.inside -= 1


def test_texts_wait_for_a_worker_in_more_recording_threads_than_texts_analysed_in_process(store):
    """A recording thread whose text is in a worker holds no GIL: two more threads a worker keep one text queued
    there while another is stored. In process, more threads would only contend: two."""
    from datetime import UTC, datetime

    with LocalSite({f"/terms{i}": Page(ANALYSED_POLICY.replace(b"Ireland", f"Ireland {i}".encode()))
                    for i in range(12)}) as site:
        store.catalog.sync_catalog(acme_platforms(site, 6), now=datetime.now(UTC))
        with_a_worker = MeetingAnalyzer(worker_processes=1, meet=4)
        assert crawl(store, store.catalog.documents(), DIRECT_OPTIONS, analyze=with_a_worker).counts == {
            "new_version": 6}
        assert with_a_worker.most_inside == 4

        store.catalog.sync_catalog(acme_platforms(site, 12), now=datetime.now(UTC))
        in_process = MeetingAnalyzer(worker_processes=0, meet=0)
        assert crawl(store, store.catalog.documents(), DIRECT_OPTIONS, analyze=in_process).counts == {
            "new_version": 6, "not_modified": 6}
        assert in_process.most_inside <= 2


def test_a_cgroup_cpu_quota_caps_the_cores_auto_counts_on(tmp_path):
    """sched_getaffinity lists every CPU of the host under systemd's CPUQuota=100% or docker's --cpus=1, where a
    worker costs more than it saves."""
    from clausewatch.crawling import cgroup_cpu_quota, usable_cores

    membership, root = tmp_path / "cgroup", tmp_path / "fs"
    service = root / "system.slice" / "clausewatch.service"
    service.mkdir(parents=True)
    membership.write_text("0::/system.slice/clausewatch.service\n")
    assert cgroup_cpu_quota(membership, root) is None  # no cpu.max anywhere: no limit known
    (root / "cpu.max").write_text("max 100000\n")
    (service / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(membership, root) is None
    (root / "system.slice" / "cpu.max").write_text("150000 100000\n")  # an ancestor's limit holds too
    assert cgroup_cpu_quota(membership, root) == 1.5
    (service / "cpu.max").write_text("50000 100000\n")
    assert cgroup_cpu_quota(membership, root) == 0.5
    # A host still on cgroup v1: the cpu controller's CFS quota, on the process's folder or an ancestor.
    membership.write_text("12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n")
    v1 = root / "cpu,cpuacct" / "docker" / "abc"
    v1.mkdir(parents=True)
    (v1 / "cpu.cfs_quota_us").write_text("-1\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_quota(membership, root) is None  # no quota in either hierarchy
    (v1 / "cpu.cfs_quota_us").write_text("100000\n")
    assert cgroup_cpu_quota(membership, root) == 1.0
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)


def test_the_default_crawl_chooses_per_crawl_and_stops_its_worker_when_the_crawl_ends(tmp_path, monkeypatch, caplog):
    assert isinstance(default_analyzer(load_settings({})), AdaptiveAnalyzer)
    assert default_analyzer(load_settings({})) is not default_analyzer(load_settings({}))  # one per crawl
    monkeypatch.setattr(AdaptiveAnalyzer, "WORKER_FROM", 2)
    monkeypatch.setattr("clausewatch.crawling.usable_cores", lambda: 2)  # as on the machines it runs on
    others = set(multiprocessing.active_children())
    catalog = tmp_path / "catalog"
    with LocalSite({f"/{slug}": Page(policy(slug)) for slug in ("acme", "globex")}) as site:
        for slug in ("acme", "globex"):
            write_platform(catalog, slug, site.url(f"/{slug}"))
        base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
        assert invoke(*base, "init").exit_code == 0
        with caplog.at_level("INFO", logger="clausewatch.crawling"):
            result = invoke(*base, "crawl", "--delay", "0")
    assert result.exit_code == 0 and "2 new_version" in result.output
    assert "analysis in a worker process: 2 documents of the first batch were never fetched" in caplog.text
    assert not set(multiprocessing.active_children()) - others


def test_auto_analyses_in_process_what_its_stopped_or_unstartable_worker_cannot(monkeypatch, caplog):
    """A crawl cut short (a second Ctrl-C, a job interrupted) stops its worker while recording threads may still hand
    texts over; and a host may have no working semaphores for a process pool (OSError 38 in some containers)."""
    from analysis.pipeline import Analyzer

    text = ANALYSED_POLICY.decode()
    expected = Analyzer()(None, text)
    others = set(multiprocessing.active_children())
    stopped = EagerAdaptive(cores=2)
    stopped.prepare(2)
    assert stopped.workers is not None and stopped.workers.started
    stopped.close()
    assert stopped(None, text) == expected
    assert not set(multiprocessing.active_children()) - others

    def no_semaphores(*args, **kwargs):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr("clausewatch.parallel.ProcessPoolExecutor", no_semaphores)
    unstartable = EagerAdaptive(cores=2)
    with caplog.at_level("WARNING", logger="clausewatch.crawling"):
        unstartable.prepare(2)
    assert unstartable.workers is None and unstartable.in_process.prepared
    assert "cannot start an analysis worker ([Errno 38] Function not implemented)" in caplog.text
    assert unstartable(None, text) == expected


def test_a_site_that_refuses_connections_is_a_failure_in_one_line_not_a_traceback(tmp_path):
    catalog = tmp_path / "catalog"
    write_platform(catalog, "acme", "http://127.0.0.1:9/terms")  # port 9: nothing listens, robots.txt is refused too
    base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
    assert invoke(*base, "init").exit_code == 0
    crawl = subprocess.run([CLAUSEWATCH, *base, "crawl", "--delay", "0"], capture_output=True, text=True, timeout=120)
    assert crawl.returncode == 1, crawl.stderr
    assert "Traceback" not in crawl.stderr
    assert "Error downloading <GET http://127.0.0.1:9/terms>: Connection was refused" in crawl.stderr
    assert "CW-D-00001  failed" in crawl.stdout + crawl.stderr


@pytest.mark.browser
def test_a_browser_page_that_never_yields_is_a_named_timeout_and_the_crawl_ends_with_exit_1(tmp_path):
    # A script looping for ever once its page had loaded kept scrapy-playwright waiting on page.content(): the crawl
    # ran past CRAWL_TIMEOUT and a SIGTERM, the document never fetched (decision 0013). Run from this checkout, not
    # through the console script, which imports the checkout it was installed from.
    script = "addEventListener('load', () => setTimeout(() => { while (true) {} }));"
    stuck = f"<html><body><main>{policy('Stuck').decode()}</main><script>{script}</script></body></html>"
    with LocalSite({"/stuck": Page(stuck.encode()), "/acme": Page(policy("Acme"))}) as site:
        catalog = tmp_path / "catalog"
        write_platform(catalog, "acme", site.url("/acme"))
        (catalog / "stuck.yaml").write_text("name: Stuck\nslug: stuck\ndocuments:\n  - type: Terms of Service\n"
                                            f"    url: {site.url('/stuck')}\n    fetcher: browser\n")
        base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
        assert invoke(*base, "init").exit_code == 0
        env = {key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")}
        env |= {"CLAUSEWATCH_CRAWL_TIMEOUT": "2", "CLAUSEWATCH_CRAWL_RETRIES": "0"}  # a deadline of 6 s
        crawl = subprocess.run([sys.executable, "-c", "from clausewatch.cli import main; main()", *base, "crawl",
                                "--delay", "0"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                               check=False)
    assert crawl.returncode == 1, crawl.stderr[-3000:]
    assert "Traceback" not in crawl.stderr
    assert ("  failed  timeout: the browser page did not finish within 6 s (a script that never yields?): its "
            f"browser context was closed ({site.url('/stuck')})") in crawl.stdout
    assert crawl.stdout.strip().splitlines()[-1].endswith(": 1 failed, 1 new_version")


def test_a_stop_sends_none_of_the_requests_waiting_for_their_crawl_delay(tmp_path):
    # Scrapy's stop let every request already in the downloader be sent, one crawl delay after another: a SIGTERM
    # went on crawling for minutes, past a service manager's stop timeout (review of 2026-12-01).
    names = ("alpha", "beta", "gamma", "delta", "epsilon")
    with LocalSite({f"/{name}": Page(policy(name.title())) for name in names}) as site:
        site.set("/alpha", Page(policy("Alpha"), hang=True))  # in flight when the signal comes
        catalog = tmp_path / "catalog"
        catalog.mkdir()
        for name in names:  # no robots.txt first: /alpha is sent at once, the others a minute apart each
            (catalog / f"{name}.yaml").write_text(
                f"name: {name.title()}\nslug: {name}\ndocuments:\n  - type: Terms of Service\n"
                f"    url: {site.url(f'/{name}')}\n    obey_robots: false\n")
        base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
        assert invoke(*base, "init").exit_code == 0
        crawling = subprocess.Popen([CLAUSEWATCH, *base, "crawl", "--delay", "60"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert site.wait_for_request("/alpha"), "the crawl never reached /alpha"
            stop_and_wait_for_the_word(crawling, signal.SIGTERM)
            site.release()
            out, err = crawling.communicate(timeout=120)
        finally:
            crawling.kill()
        fetched = [path for path, _headers in site.requests if path != "/robots.txt"]
    assert crawling.returncode == 130, err
    assert fetched == ["/alpha"]  # the four waiting for their delay were never sent
    assert "interrupted by SIGTERM: 1 document(s) checked and recorded, 4 not checked" in err
    assert "CW-D-00001  new_version" in out and "failed" not in out


def test_a_crawl_by_a_platform_tag_names_the_platform_documents_the_catalog_lost(project):
    # A tag counted on a platform to choose what to crawl, but only on the document to name what the catalog lost:
    # a job crawling `--tag eu` never said that Acme's privacy policy had stopped being tracked (review of
    # 2026-12-01).
    site, catalog, base = project
    site.set("/acme-privacy", Page(policy("Acme privacy")))
    declaration = ("name: Acme\nslug: acme\ntags: [eu]\ndocuments:\n"
                   f"  - type: Terms of Service\n    url: {site.url('/acme')}\n")
    (catalog / "acme.yaml").write_text(declaration + f"  - type: Privacy Policy\n    url: {site.url('/acme-privacy')}\n")
    assert invoke(*base, "crawl", "--delay", "0").exit_code == 0
    (catalog / "acme.yaml").write_text(declaration)  # the privacy policy's entry deleted by mistake

    crawl = invoke(*base, "crawl", "--delay", "0", "--tag", "eu")
    assert crawl.exit_code == 2
    assert "acme · Privacy Policy is tracked but no longer loads from the catalog" in crawl.stderr
    assert "zeta" not in crawl.stdout  # not tagged: not crawled

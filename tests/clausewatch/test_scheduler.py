"""The scheduler and the `schedule` / `run` commands.

Time is controlled, not waited for: plans are made from a given ``now``, and
the real APScheduler loop is run only on jobs already due, whose action stops
it. Locking and shutdown are tested with real processes (the CLI plus a
blocking test action, see scheduling_support.py); they wait by reading the
worker's output, never by sleeping.
"""

import json
import signal
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import BaseScheduler
from click.testing import CliRunner

from clausewatch import job_runner
from clausewatch.cli import main
from clausewatch.job_runner import ActionResult, JobRunner, read_schedules
from clausewatch.scheduler import MAX_SLEEP, Scheduler, missed_jobs
from clausewatch.schedules import ScheduledJob
from store import job_runs as job_store
from store.job_runs import JobRun
from store.repository import Store
from tests.clausewatch.scheduling_support import (  # noqa: F401
    BLOCKING,
    job_yaml,
    make_settings,
    recorded_actions,
    wait_for_line,
    worker,
    write_schedules,
)

T = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


def daily(job_id="daily", cron="0 5 * * *") -> ScheduledJob:
    return ScheduledJob(job_id, "count", cron, "UTC")


def ran(job_id: str, started: datetime) -> JobRun:
    return JobRun(1, job_id, "count", "h", started, started, "ok", {}, None)


# --- Planning from a given now -------------------------------------------------------


def test_missed_when_a_fire_time_passed_since_the_last_start():
    jobs_ = [daily("a"), daily("b"), daily("c"), daily("never")]
    last = {
        "a": ran("a", T - timedelta(days=1, hours=7)),  # Sunday 05:00: Monday 05:00 passed
        "b": ran("b", T - timedelta(hours=7)),  # today 05:00: next is tomorrow
        "c": ran("c", T - timedelta(days=9)),  # missed many times: listed once
    }
    assert [job.id for job in missed_jobs(jobs_, last, T)] == ["a", "c"]


def test_a_late_jittered_start_does_not_count_as_missed():
    job = ScheduledJob("j", "count", "0 5 * * *", "UTC", jitter=900)
    last = {"j": ran("j", T.replace(hour=5, minute=14))}
    assert missed_jobs([job], last, T) == []


@pytest.fixture
def settings(tmp_path, store_url):
    schedules = write_schedules(tmp_path / "schedules.yaml", job_yaml("daily", "count"),
                                job_yaml("digest", "digest", cron="0 7 * * 1"))
    return make_settings(tmp_path / "home", store_url, schedules)


def test_plan_sets_coalesce_one_instance_no_misfire_limit_and_catch_up(settings, store, recorded_actions):
    job_store.finish_run(store, job_store.start_run(store, "daily", "count", "h", now=T - timedelta(days=2)),
                         "ok", now=T - timedelta(days=2))
    scheduler = Scheduler(read_schedules(settings), JobRunner(settings, store))
    missed = scheduler.plan(T)
    assert [job.id for job in missed] == ["daily"]
    daily_job = scheduler.apscheduler.get_job("daily")
    digest_job = scheduler.apscheduler.get_job("digest")
    assert daily_job.next_run_time == T  # missed: runs at once
    assert digest_job.next_run_time == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # next Monday
    for job in (daily_job, digest_job):
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)


# --- The real loop, on jobs already due -------------------------------------------------


def stopping_scheduler(settings, store, job_ids=("daily",)):
    """A scheduler whose `count` action records its call and stops the scheduler."""
    scheduler = Scheduler(read_schedules(settings), JobRunner(settings, store))
    calls = []

    def count_then_stop(context):
        calls.append(context.job_id)
        scheduler.stop()
        return ActionResult({"calls": 1})

    job_runner.register_action("count", count_then_stop, replace=True)
    return scheduler, calls


def test_a_job_late_by_days_runs_once_not_once_per_missed_minute(settings, store, recorded_actions, tmp_path):
    settings = settings.replace(schedules=write_schedules(tmp_path / "minutely.yaml", job_yaml("daily", "count", "* * * * *")))
    scheduler, calls = stopping_scheduler(settings, store)
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    scheduler.run_forever(now=three_days_ago)  # due since 3 days: thousands of missed fire times
    assert calls == ["daily"]
    (record,) = job_store.runs(store, "daily")
    assert (record.outcome, record.counts) == ("ok", {"calls": 1})


def test_a_run_missed_while_down_runs_once_at_start(settings, store, recorded_actions):
    now = datetime.now(UTC)
    job_store.finish_run(store, job_store.start_run(store, "daily", "count", "h", now=now - timedelta(days=2)),
                         "ok", now=now - timedelta(days=2))
    scheduler, calls = stopping_scheduler(settings, store)
    scheduler.run_forever(now=now)
    assert calls == ["daily"]
    assert [r.outcome for r in job_store.runs(store, "daily")] == ["ok", "ok"]


def test_the_loop_wakes_at_least_every_max_sleep_and_stops_between_passes(settings, store, tmp_path):
    settings = settings.replace(schedules=write_schedules(tmp_path / "yearly.yaml", job_yaml("y", "site", "0 0 1 1 *")))
    scheduler = Scheduler(read_schedules(settings), JobRunner(settings, store))
    scheduler.plan(datetime.now(UTC))  # next run: next New Year
    loop = scheduler.apscheduler
    loop._event = threading.Event()
    BaseScheduler.start(loop)  # job stores and executors, without BlockingScheduler's endless loop
    assert loop._process_jobs() == MAX_SLEEP  # not the months until the job
    scheduler.stop()
    assert loop._process_jobs() is None and not loop.running


# --- The commands (in this process, read-only paths) -------------------------------------


def test_schedule_list_prints_next_three_runs(tmp_path):
    path = write_schedules(tmp_path / "s.yaml", job_yaml("weekly", "digest", cron="30 6 * * 1"))
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "--schedules", str(path), "schedule", "--list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == 'weekly: digest [all] cron "30 6 * * 1" UTC'
    assert len(lines) == 5 and all(line.startswith("  Mon ") and line.endswith(" 06:30 UTC") for line in lines[2:])


def test_bad_schedules_exit_2_naming_the_line(tmp_path):
    path = write_schedules(tmp_path / "s.yaml", job_yaml("daily", "run", cron="61 5 * * *"))
    for args in (["schedule", "--list"], ["schedule"], ["run"]):
        result = CliRunner().invoke(main, ["--home", str(tmp_path), "--schedules", str(path), *args])
        assert result.exit_code == 2
        assert f"{path}:4: job 'daily': cron '61 5 * * *' is not valid" in result.output


def test_a_scheduler_of_no_job_is_bad_input_not_a_process_that_waits_for_ever(tmp_path):
    # It logged "scheduler started with 0 job(s)" and ran on, doing nothing (review of 2026-12-02).
    path = tmp_path / "s.yaml"
    path.write_text("jobs: []\n")
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "--schedules", str(path), "schedule"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"Error: {path}: no jobs to schedule (SCHEDULES, --schedules)"]


def test_unknown_job_exits_2_listing_the_jobs(tmp_path):
    path = write_schedules(tmp_path / "s.yaml", job_yaml("daily", "run"))
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "--schedules", str(path), "schedule", "--once", "nightly"])
    assert result.exit_code == 2 and "no job 'nightly' (jobs: daily)" in result.output


@pytest.mark.parametrize("args", [["status"], ["run"], ["schedule"], ["schedule", "--list"]])
def test_a_schedules_file_that_is_not_utf8_is_one_line_naming_it(tmp_path, sqlite_url, args):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xff\xfe")
    declare_one_document(tmp_path / "catalog")
    Store.open(sqlite_url, tmp_path / "objects").close()  # an existing store: status lists the file as a problem
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "home"), "--database-url", sqlite_url,
                                       "--catalog", str(tmp_path / "catalog"), "--schedules", str(path), *args])
    assert result.exit_code == 2, (result.output, result.exception)  # not a UnicodeDecodeError's traceback
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and f"{path}:1: not UTF-8 text (byte 0xff at offset 0: invalid start byte)" in errors[0]
    if args == ["status"]:
        assert f"  schedules: {path}:1: not UTF-8 text" in result.stdout  # one more problem, the documents still shown


# --- Real processes: the lock and shutdown ------------------------------------------------


# Each worker process costs seconds (the CLI imports Scrapy), so the cross-database
# behaviour of the lease is covered in tests/store/test_job_runs.py and here only the
# refusal and SIGTERM run on both databases; the rest on SQLite alone.


def cli_args(tmp_path, url) -> list[str]:
    path = write_schedules(tmp_path / "s.yaml", job_yaml("blocker", "block"), job_yaml("other", "count"))
    return ["--home", str(tmp_path / "home"), "--database-url", url, "--schedules", str(path)]


@pytest.fixture
def cli_env(tmp_path, store_url):
    return cli_args(tmp_path, store_url)


@pytest.fixture
def sqlite_store(tmp_path, sqlite_url):
    opened = Store.open(sqlite_url, tmp_path / "objects")
    yield opened
    opened.close()


@pytest.fixture
def sqlite_cli_env(tmp_path, sqlite_url):
    return cli_args(tmp_path, sqlite_url)


def finish(process, stdin: str = "") -> tuple[int, str, str]:
    out, err = process.communicate(stdin, timeout=120)
    return process.returncode, out, err


def test_a_second_process_is_refused_naming_the_holder_and_never_runs_twice(cli_env, store):
    first = worker([*cli_env, "run", "blocker"], {})
    second = worker([*cli_env, "run", "blocker"], {}, gated=True)
    try:
        wait_for_line(first, BLOCKING)
        holder = job_store.lease(store, "blocker").holder
        assert holder.split(":")[1] == str(first.pid)
        code, out, err = finish(second, "start\n")
        assert code == 1
        assert f"job 'blocker' is being run by {holder}" in err and BLOCKING not in out
    finally:
        code, out, err = finish(first, "go\n")
    assert code == 0, err
    assert sorted(r.outcome for r in job_store.runs(store, "blocker")) == ["ok", "skipped"]
    assert job_store.lease(store, "blocker") is None


def test_a_killed_holders_lease_expires_and_is_taken_over(sqlite_cli_env, tmp_path, sqlite_url, sqlite_store,
                                                          recorded_actions):
    store = sqlite_store
    settings = make_settings(tmp_path / "home", sqlite_url, tmp_path / "s.yaml")
    first = worker([*sqlite_cli_env, "run", "blocker"], {})
    wait_for_line(first, BLOCKING)
    first.kill()  # SIGKILL: no chance to clean up
    first.communicate(timeout=60)
    dead = job_store.lease(store, "blocker")
    (stale,) = job_store.runs(store, "blocker")
    assert stale.outcome == "running" and stale.finished_at is None
    after_expiry = dead.expires_at + timedelta(seconds=1)
    runner = JobRunner(settings, store, clock=lambda: after_expiry)
    outcome = runner.run(ScheduledJob("blocker", "count", "0 5 * * *", "UTC"))
    assert outcome.outcome == "ok"
    ours, theirs = job_store.runs(store, "blocker")
    assert (ours.outcome, theirs.outcome) == ("ok", "failed")
    assert dead.holder in theirs.error and theirs.finished_at == after_expiry


def test_wait_runs_after_the_holder_finishes(sqlite_cli_env, sqlite_store):
    cli_env, store = sqlite_cli_env, sqlite_store
    first = worker([*cli_env, "run", "blocker"], {})
    second = worker(["-v", *cli_env, "run", "blocker", "--wait"], {"CLAUSEWATCH_JOB_LEASE_SECONDS": "5"}, gated=True)
    try:
        wait_for_line(first, BLOCKING)
        second.stdin.write("start\n")
        second.stdin.flush()
        for line in second.stderr:  # it has seen the lease held: it waits
            if "waiting for" in line:
                break
        assert finish(first, "go\n")[0] == 0
        wait_for_line(second, BLOCKING)
    finally:
        code, _out, err = finish(second, "go\n")
        assert code == 0, err
    first_run, second_run = sorted(job_store.runs(store, "blocker"), key=lambda r: r.started_at)
    assert (first_run.outcome, second_run.outcome) == ("ok", "ok")
    assert second_run.started_at >= first_run.finished_at


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_a_scheduled_run_closes_the_run_and_frees_the_lease(cli_env, store, signum, exit_code):
    # A run two days ago makes the job missed: the scheduler starts it at once.
    old = datetime.now(UTC) - timedelta(days=2)
    job_store.finish_run(store, job_store.start_run(store, "blocker", "block", "h", now=old), "ok", now=old)
    scheduler = worker([*cli_env, "schedule"], {})
    try:
        wait_for_line(scheduler, BLOCKING)
        assert job_store.lease(store, "blocker") is not None
        scheduler.send_signal(signum)
    finally:
        code, _out, err = finish(scheduler)
    assert code == exit_code, err  # a service stopped (SIGTERM) ends well; Ctrl-C ends as every command's does
    latest = job_store.runs(store, "blocker")[0]
    assert (latest.outcome, latest.error) == ("failed", f"interrupted by {signum.name}")
    assert latest.finished_at is not None
    assert job_store.lease(store, "blocker") is None
    assert [r.outcome for r in job_store.runs(store, "other")] == []  # nothing else started on the way out


def test_ctrl_c_during_run_says_what_became_of_the_job_and_exits_130(cli_env, store):
    by_hand = worker([*cli_env, "run", "blocker"], {})
    try:
        wait_for_line(by_hand, BLOCKING)
        by_hand.send_signal(signal.SIGINT)
    finally:
        code, _out, err = finish(by_hand)
    assert code == 130, err
    assert err.strip().splitlines()[-1] == (
        "Error: interrupted by SIGINT; the job's run is recorded as failed and its lock released; what it recorded "
        "before stands (every write is a transaction) and its next run checks the rest")
    assert job_store.runs(store, "blocker")[0].outcome == "failed" and job_store.lease(store, "blocker") is None


def test_run_without_job_runs_the_run_jobs_and_exits_1_on_problems(tmp_path, store_url, store, recorded_actions,
                                                                    restore_signals):
    path = write_schedules(tmp_path / "s.yaml", job_yaml("daily", "run"), job_yaml("digest", "digest"))
    args = ["--home", str(tmp_path / "home"), "--database-url", store_url, "--schedules", str(path), "run"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1  # the crawl had a failed document
    assert list(recorded_actions) == ["crawl", "alerts", "site"]  # not the digest
    assert "daily outcome=ok problems=1 crawl.new_version=2 crawl.unchanged=5 crawl.failed=1" in result.output
    assert [r.outcome for r in job_store.runs(store)] == ["ok"]


def test_schedule_once_runs_one_job_and_exits_0(tmp_path, store_url, store, recorded_actions, restore_signals):
    path = write_schedules(tmp_path / "s.yaml", job_yaml("daily", "run"), job_yaml("digest", "digest"))
    args = ["--home", str(tmp_path / "home"), "--database-url", store_url, "--schedules", str(path)]
    result = CliRunner().invoke(main, [*args, "schedule", "--once", "digest"])
    assert result.exit_code == 0, result.output
    assert list(recorded_actions) == ["digest"]
    assert [(r.job_id, r.outcome, r.counts) for r in job_store.runs(store)] == [("digest", "ok", {"sent": 1})]


def signal_when_idle(scheduler, signum: int) -> tuple[int, str]:
    """Send ``signum`` once the scheduler says it started (planned, now idle); its exit status and stderr."""
    try:
        for line in scheduler.stderr:
            if "scheduler started" in line:
                break
        scheduler.send_signal(signum)
    finally:
        code, _out, err = finish(scheduler)
    return code, err


def test_an_idle_scheduler_stops_cleanly_on_sigterm(sqlite_cli_env, sqlite_store):
    code, err = signal_when_idle(worker([*sqlite_cli_env, "schedule"], {}), signal.SIGTERM)  # idle till 05:00
    assert code == 0, err
    assert "scheduler stopped" in err
    assert job_store.runs(sqlite_store) == []


def test_an_idle_scheduler_stopped_by_ctrl_c_exits_130_saying_so(tmp_path, sqlite_url, sqlite_store):
    path = write_schedules(tmp_path / "yearly.yaml", job_yaml("yearly", "count", "0 0 1 1 *"))
    scheduler = worker(["--home", str(tmp_path / "home"), "--database-url", sqlite_url, "--schedules", str(path),
                        "schedule"], {})
    code, err = signal_when_idle(scheduler, signal.SIGINT)  # idle until New Year
    assert code == 130, err
    assert "Error: interrupted by SIGINT; the scheduler stopped" in err and "Traceback" not in err
    assert job_store.runs(sqlite_store) == []


def test_status_shows_the_jobs_and_adds_them_to_json(tmp_path, store_url, store):
    path = write_schedules(tmp_path / "s.yaml", job_yaml("daily", "run"), job_yaml("weekly", "digest", cron="0 7 * * 1"))
    started = datetime.now(UTC) - timedelta(hours=2)
    job_store.finish_run(store, job_store.start_run(store, "daily", "run", "h", now=started), "failed",
                         now=started + timedelta(minutes=1), error="RuntimeError: boom")
    catalog = declare_one_document(tmp_path / "catalog")
    args = ["--home", str(tmp_path / "home"), "--database-url", store_url, "--schedules", str(path),
            "--catalog", str(catalog), "status"]
    human = CliRunner().invoke(main, args)
    assert human.exit_code == 0, human.output
    assert "daily" in human.output and "failed" in human.output and "weekly" in human.output
    data = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    assert data["documents"] == []
    daily, weekly = data["jobs"]
    assert (daily["id"], daily["last_outcome"], daily["last_error"]) == ("daily", "failed", "RuntimeError: boom")
    assert weekly["last_outcome"] is None and weekly["next_run"].endswith("07:00:00+00:00")


def test_status_with_a_bad_schedules_file_still_shows_documents(tmp_path, store_url):
    path = write_schedules(tmp_path / "s.yaml", job_yaml("daily", "run", cron="0 99 * * *"))
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    args = ["--home", str(tmp_path / "home"), "--database-url", store_url, "--schedules", str(path),
            "--catalog", str(catalog), "status", "--json"]
    Store.open(store_url, tmp_path / "objects").close()  # an existing store: status never creates one
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2  # the schedules file is a problem, listed; the documents still show
    shown = json.loads(result.stdout)
    assert (shown["documents"], shown["jobs"]) == ([], [])
    assert any("s.yaml:4" in problem for problem in shown["problems"])


def test_a_schedules_file_named_but_missing_is_a_problem_and_the_default_one_missing_is_not(tmp_path, sqlite_url,
                                                                                           monkeypatch):
    declare_one_document(tmp_path / "catalog")
    Store.open(sqlite_url, tmp_path / "objects").close()
    base = ["--home", str(tmp_path / "home"), "--database-url", sqlite_url, "--catalog", str(tmp_path / "catalog")]
    monkeypatch.chdir(tmp_path)  # the default, ./schedules.yaml, is not there either
    monkeypatch.delenv("CLAUSEWATCH_SCHEDULES", raising=False)
    assert CliRunner().invoke(main, [*base, "status"]).exit_code == 0  # nothing scheduled, no problem
    missing = tmp_path / "missing.yaml"
    cannot = f"{missing}: cannot read the schedules file: No such file or directory"
    for args, env in (([*base, "status", "--schedules", str(missing)], {}),
                      ([*base, "status"], {"CLAUSEWATCH_SCHEDULES": str(missing)})):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 2, (env, result.output)
        assert f"  schedules: {cannot}" in result.stdout and cannot in result.stderr, env
    for command in (["run"], ["schedule"], ["schedule", "--list"]):
        result = CliRunner().invoke(main, [*base, "--schedules", str(missing), *command])
        assert (result.exit_code, result.stderr) == (2, f"Error: {cannot}\n"), command


def test_a_job_selecting_an_unknown_platform_is_bad_input_to_list_and_run_and_a_problem_in_status(tmp_path, sqlite_url):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text("name: Acme\nslug: acme\ndocuments:\n  - type: Terms of Service\n"
                                       "    url: http://127.0.0.1:9/terms\n")
    path = write_schedules(tmp_path / "s.yaml", job_yaml("acme", "crawl", extra="    select: {platforms: [acme]}\n"),
                           job_yaml("typo", "run", extra="    select: {platforms: [alpah, acme]}\n"))
    Store.open(sqlite_url, tmp_path / "objects").close()
    base = ["--home", str(tmp_path / "home"), "--database-url", sqlite_url, "--catalog", str(catalog),
            "--schedules", str(path)]
    problem = f"{path}:6: job 'typo': unknown platform 'alpah': neither in the catalog nor tracked in the store (known: acme)"
    for command in (["schedule", "--list"], ["run", "typo"]):  # --list checks what run checks
        result = CliRunner().invoke(main, [*base, *command])
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {problem}\n"), command
    status = CliRunner().invoke(main, [*base, "status"])
    assert status.exit_code == 2 and f"  schedules: {problem}" in status.stdout
    assert status.stderr == f"Error: 1 problem(s): schedules: {problem}\n"


def test_a_job_whose_tags_or_types_match_nothing_is_bad_input_to_list_and_run(tmp_path, sqlite_url):
    catalog = declare_one_document(tmp_path / "catalog")
    path = write_schedules(tmp_path / "s.yaml",
                           job_yaml("tagged", "crawl", extra="    select: {tags: [nosuchtag]}\n"),
                           job_yaml("typed", "run", extra="    select: {types: [Terms of Servce]}\n"))
    Store.open(sqlite_url, tmp_path / "objects").close()
    base = ["--home", str(tmp_path / "home"), "--database-url", sqlite_url, "--catalog", str(catalog),
            "--schedules", str(path)]
    problems = [f"{path}:2: job 'tagged': the selection (tags=nosuchtag) matches no document of the catalog",
                f"{path}:6: job 'typed': the selection (types=Terms of Servce) matches no document of the catalog"]
    listed = CliRunner().invoke(main, [*base, "schedule", "--list"])
    assert (listed.exit_code, listed.stderr) == (2, "".join(f"Error: {p}\n" for p in problems))
    ran = CliRunner().invoke(main, [*base, "run", "typed"])
    assert (ran.exit_code, ran.stderr) == (2, "".join(f"Error: {p}\n" for p in problems[1:]))


def declare_one_document(catalog: Path) -> Path:
    """A catalog declaring one document, never crawled: a catalog that declares none is a problem of its own."""
    catalog.mkdir()
    (catalog / "acme.yaml").write_text(
        "name: Acme\ndocuments:\n  - {type: Terms of Service, url: \"https://acme.example/terms\"}\n")
    return catalog


STOP_WHILE_THE_LOOP_LOCK_IS_HELD = """
import threading
from apscheduler.events import EVENT_SCHEDULER_STARTED
from clausewatch.scheduler import _WallClockScheduler

scheduler = _WallClockScheduler()
started = threading.Event()
scheduler.add_listener(lambda _event: started.set(), EVENT_SCHEDULER_STARTED)
loop = threading.Thread(target=scheduler.start, daemon=True)
loop.start()
assert started.wait(30)
# What a SIGTERM does when it lands while this thread holds the lock of the loop's event (Event.wait holds it for an
# instant): the handler, run in this same thread, asks the scheduler to stop.
with scheduler._event._cond:
    scheduler.request_stop()
loop.join(30)
print("stopped" if not loop.is_alive() else "still running")
"""


def test_a_stop_asked_while_the_loops_event_lock_is_held_neither_deadlocks_nor_is_lost():
    # request_stop set the loop's threading.Event from the signal handler; its lock is not reentrant, and a SIGTERM
    # landing while the main thread held it deadlocked the scheduler for good (CI, 2026-12-03: an idle scheduler
    # given SIGTERM never ended).
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", STOP_WHILE_THE_LOOP_LOCK_IS_HELD], capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stdout.strip()) == (0, "stopped"), done.stderr

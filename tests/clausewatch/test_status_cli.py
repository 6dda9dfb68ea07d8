"""`clausewatch status`: the newest run of each outcome with its whole reason, and the store's size."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from clausewatch.cli import main
from store import job_runs as job_store
from store import notifications
from tests.clausewatch.scheduling_support import job_yaml, write_schedules

SKIP_REASON = ("job 'daily' is held by host-b:4242 until 2026-03-01T05:05:00+00:00 (lease renewed "
               "2026-03-01T05:01:40+00:00); this run is skipped")


def test_status_shows_the_last_run_of_each_outcome_whole_and_the_store_size(tmp_path, store_url, store):
    path = write_schedules(tmp_path / "s.yaml", job_yaml("daily", "run"))
    day = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    job_store.finish_run(store, job_store.start_run(store, "daily", "run", "h", now=day), "ok",
                         now=day + timedelta(minutes=1))
    failed = job_store.start_run(store, "daily", "run", "h", now=day + timedelta(days=1))
    job_store.finish_run(store, failed, "failed", now=day + timedelta(days=1, minutes=1), error="RuntimeError: boom")
    job_store.record_skipped(store, "daily", "run", "host-b:4242", now=day + timedelta(days=2), reason=SKIP_REASON)
    blob = store.blobs.path(store.blobs.put(b"x" * 5000))
    catalog = tmp_path / "catalog"
    catalog.mkdir()  # a catalog declaring nothing is a problem of its own: one document, not crawled yet
    (catalog / "acme.yaml").write_text(
        "name: Acme\ndocuments:\n  - {type: Terms of Service, url: \"https://acme.example/terms\"}\n")
    args = ["status", "--home", str(tmp_path / "home"), "--database-url", store_url, "--schedules", str(path),
            "--catalog", str(catalog)]
    env = {"CLAUSEWATCH_BLOBS": str(tmp_path / "objects")}

    human = CliRunner().invoke(main, args, env=env)
    assert human.exit_code == 0, human.output
    minute = "%Y-%m-%d %H:%M UTC"
    assert f"    last skipped {(day + timedelta(days=2)).strftime(minute)}: {SKIP_REASON}" in human.stdout
    assert f"    last failed  {(day + timedelta(days=1)).strftime(minute)}: RuntimeError: boom" in human.stdout
    assert f"    last ok      {day.strftime(minute)}" in human.stdout  # the success is not hidden by the failure
    assert "\nstore size: " in human.stdout and ", 1 blob(s) " in human.stdout

    data = json.loads(CliRunner().invoke(main, [*args, "--json"], env=env).stdout)
    [daily] = data["jobs"]
    assert daily["last_runs"]["skipped"]["error"] == SKIP_REASON and daily["last_runs"]["ok"]["error"] is None
    size = data["store_size"]
    assert size["blobs"] == 1 and size["blob_bytes"] == blob.stat().st_size
    assert size["database_bytes"] > 0 and size["total_bytes"] == size["database_bytes"] + size["blob_bytes"]


def test_status_shows_declared_documents_not_tracked_yet_and_flags_a_catalog_that_declares_none(tmp_path):
    empty, catalog = tmp_path / "empty", tmp_path / "catalog"
    empty.mkdir()
    catalog.mkdir()
    (catalog / "acme.yaml").write_text(
        "name: Acme\ndocuments:\n  - {type: Terms of Service, url: \"https://acme.example/terms\"}\n")
    home = ["--home", str(tmp_path / "home")]
    assert CliRunner().invoke(main, [*home, "--catalog", str(empty), "init"]).exit_code == 0

    declared = CliRunner().invoke(main, [*home, "--catalog", str(catalog), "status"])
    assert declared.exit_code == 0, declared.output  # declared, not crawled yet: shown, not a problem
    assert "declared by the catalog, not tracked yet (1;" in declared.stdout
    assert "  acme · Terms of Service  https://acme.example/terms" in declared.stdout
    shown = json.loads(CliRunner().invoke(main, [*home, "--catalog", str(catalog), "status", "--json"]).stdout)
    assert shown["documents"] == [] and shown["untracked"] == [
        {"platform": "acme", "type": "Terms of Service", "url": "https://acme.example/terms"}]

    nothing = CliRunner().invoke(main, [*home, "--catalog", str(empty), "status"])
    assert nothing.exit_code == 2
    assert nothing.stderr.strip() == (f"Error: 1 problem(s): catalog: {empty} declares no document: nothing is "
                                      "tracked (CATALOG, --catalog)")


def test_status_lists_alert_claims_never_confirmed_and_says_which_a_dead_sender_left(tmp_path, store_url, store):
    # A host that died mid-send leaves its claim unconfirmed: its subscribers may not have the alert, and until the
    # claim runs out nobody sends it. Before, nothing showed it.
    now = datetime.now(UTC).replace(microsecond=0)
    notifications.claim(store, notifications.FAILURE, ["CW-D-00001@2026-03-01T05:00:00+00:00"],
                        holder="host-a:41:dead", now=now - timedelta(hours=2))
    notifications.claim(store, notifications.CHANGE, ["17", "18"], holder="host-b:42:live", now=now)
    notifications.confirm(store, notifications.CHANGE, ["18"], holder="host-b:42:live", now=now)
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text(
        "name: Acme\ndocuments:\n  - {type: Terms of Service, url: \"https://acme.example/terms\"}\n")
    args = ["status", "--home", str(tmp_path / "home"), "--database-url", store_url, "--catalog", str(catalog)]
    env = {"CLAUSEWATCH_BLOBS": str(tmp_path / "objects")}

    human = CliRunner().invoke(main, args, env=env)
    assert human.exit_code == 0, human.output
    minute = "%Y-%m-%d %H:%M UTC"
    assert "\nalerts claimed, not confirmed sent:\n" in human.stdout
    assert (f"  failure CW-D-00001@2026-03-01T05:00:00+00:00: claimed {(now - timedelta(hours=2)).strftime(minute)} by "
            "host-a:41:dead; abandoned: the next alerts run sends it to whoever did not get it") in human.stdout
    assert (f"  change 17: claimed {now.strftime(minute)} by host-b:42:live; being sent; if its sender died, a run "
            f"after {(now + timedelta(hours=1)).strftime(minute)} sends it") in human.stdout
    assert "change 18" not in human.stdout  # confirmed: nothing to show

    data = json.loads(CliRunner().invoke(main, [*args, "--json"], env=env).stdout)
    assert [(c["kind"], c["key"], c["abandoned"]) for c in data["alerts_unconfirmed"]] == [
        ("failure", "CW-D-00001@2026-03-01T05:00:00+00:00", True), ("change", "17", False)]


def test_a_catalog_warning_is_said_once(tmp_path):
    # Read by the command layer and logged by the wiring beneath it, each warning was printed twice (review of
    # 2026-12-01). A real process: the log's handler writes to the process's stderr.
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text(
        "name: Acme\ndocuments:\n  - {type: Terms of Service, url: \"https://acme.example/terms\"}\n")
    (catalog / "Gone.history.json").write_text("{}")
    command = [str(Path(sys.executable).parent / "clausewatch"), "--home", str(tmp_path / "home"), "--catalog",
               str(catalog)]
    for name in ("init", "status"):
        done = subprocess.run([*command, name], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stderr.count("history file without its declaration Gone.json") == 1, done.stderr

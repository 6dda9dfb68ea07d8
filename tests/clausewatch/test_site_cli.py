"""`clausewatch site`, `export` and `digest` through click's CliRunner on a real SQLite store."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clausewatch.cli import main
from store.repository import Store


def _site_kit():
    path = Path(__file__).resolve().parent.parent / "reports" / "site_store.py"
    spec = importlib.util.spec_from_file_location("clausewatch_site_store", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects")
    try:
        _site_kit().fill(store)
    finally:
        store.close()
    return home


def run(home: Path, *args: str):
    env = {"CLAUSEWATCH_BASE_URL": "https://cw.example.org/"}
    return CliRunner().invoke(main, ["--home", str(home), *args], env=env, catch_exceptions=False)


def test_site_builds_into_the_default_folder_then_rewrites_nothing(home):
    first = run(home, "site")
    assert first.exit_code == 0, first.output
    assert (home / "site" / "index.html").is_file()
    assert "0 unchanged" in first.output
    second = run(home, "site")
    assert second.exit_code == 0 and " 0 written" in second.output


def test_site_out_and_full(home, tmp_path):
    result = run(home, "site", "--out", str(tmp_path / "elsewhere"), "--full")
    assert result.exit_code == 0 and (tmp_path / "elsewhere" / "records").is_dir()


def test_site_refuses_a_folder_it_did_not_build(home, tmp_path):
    theirs = tmp_path / "mine"
    theirs.mkdir()
    (theirs / "index.html").write_text("my own page")
    result = run(home, "site", "--out", str(theirs))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(theirs) in result.stderr and "Traceback" not in result.output
    assert [path.name for path in theirs.iterdir()] == ["index.html"]
    assert (theirs / "index.html").read_text() == "my own page"


def test_site_rebuilds_a_folder_it_built(home, tmp_path):
    assert run(home, "site", "--out", str(tmp_path / "built")).exit_code == 0
    again = run(home, "site", "--out", str(tmp_path / "built"))
    assert again.exit_code == 0 and " 0 written" in again.output


def test_site_exits_1_when_a_snapshot_fails_its_hash_check(home):
    assert run(home, "site").exit_code == 0
    export = json.loads(run(home, "export").stdout)
    blob = next(home.joinpath("objects").rglob(export["records"][0]["snapshot_sha256"][2:]))
    blob.write_bytes(b"broken")
    result = run(home, "site")
    assert result.exit_code == 1 and "evidence:" in result.output


def test_export_writes_every_record(home, tmp_path):
    result = run(home, "export", "--out", str(tmp_path / "records.json"))
    assert result.exit_code == 0
    records = json.loads((tmp_path / "records.json").read_text())["records"]
    assert records and all(r["id"].startswith("CW-P-") and r["url"].startswith("https://cw.example.org/records/")
                           for r in records)
    again = run(home, "export", "--out", str(tmp_path / "records.json"))  # the file is there now: never replaced
    assert again.exit_code == 2
    assert again.stderr.strip() == f"Error: --out: {tmp_path / 'records.json'} exists; remove it or choose another --out"
    assert json.loads((tmp_path / "records.json").read_text())["records"] == records


def test_digest_dry_run_and_usage_errors(home, tmp_path):
    (home / "subscribers.yaml").write_text("- {email: legal@example.com}\n", encoding="utf-8")
    result = run(home, "digest", "--since", "2026-03-01", "--dry-run", str(tmp_path / "mail"))
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    assert run(home, "digest").exit_code == 2
    assert run(home, "digest", "--send", "--dry-run", str(tmp_path / "m")).exit_code == 2
    assert run(home, "digest", "--since", "yesterday", "--dry-run", str(tmp_path / "m")).exit_code == 2
    future = run(home, "digest", "--since", "2099-01-01", "--dry-run", str(tmp_path / "later"))
    assert future.exit_code == 2 and not (tmp_path / "later").exists()
    assert future.stderr.strip() == "Error: digest: --since 2099-01-01 00:00 UTC is in the future"


def test_digest_send_delivers_to_each_subscriber_and_exits_1_on_a_refusal(home, smtp_inbox):
    (home / "subscribers.yaml").write_text(
        "subscribers:\n"
        "  - {email: legal@example.com, name: Legal}\n"
        "  - {email: gone@refused.invalid}\n"
        "  - {email: acme@example.com, platforms: [acme], min_severity: high}\n", encoding="utf-8")
    env = {"CLAUSEWATCH_SMTP_HOST": smtp_inbox.host, "CLAUSEWATCH_SMTP_PORT": str(smtp_inbox.port),
           "CLAUSEWATCH_SMTP_STARTTLS": "false", "CLAUSEWATCH_BASE_URL": "https://cw.example.org/"}
    result = CliRunner().invoke(main, ["--home", str(home), "digest", "--since", "2026-03-01", "--send"], env=env)
    assert result.exit_code == 1, result.output
    assert "gone@refused.invalid: FAILED" in result.output
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_inbox.messages) == ["acme@example.com",
                                                                                   "legal@example.com"]


def test_digest_without_a_subscribers_file_or_with_a_bad_one_is_bad_input(home, tmp_path):
    result = run(home, "digest", "--send")
    assert result.exit_code == 2 and "subscribers.yaml does not exist" in result.output
    (home / "subscribers.yaml").write_text("- {email: legal@example.com, platforms: [acme, initech]}\n")
    result = run(home, "digest", "--dry-run", str(tmp_path / "mail"))
    assert result.exit_code == 2 and "subscribers.yaml:1: 'platforms': unknown platform 'initech'" in result.output

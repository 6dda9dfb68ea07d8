"""A clock behind what the store already holds: refused before anything is recorded, never a forged-looking log.

The clock cannot be turned back under a test, so the store is given what a clock gone back meets: a tree head
signed later than now (by this host before its clock went back, or by another whose clock is ahead). Before, a
crawl recorded captures stamped before the ones logged (versions "in force" before their predecessor, changes
left out of a digest period that had ended) and signed a head that `verify` then read as forged for good.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page
from store.capture_log import CaptureLog
from store.repository import Store
from store.signing import load_signer
from tests.clausewatch.home_support import acme_home

TERMS = b"<html><body><main><h1>Terms</h1><h2>1. Law</h2><p>Governed by the laws of Ireland.</p></main></body></html>"


def _sign_ahead(home: Path, hours: int) -> datetime:
    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects", mode="write")
    try:
        ahead = datetime.now(UTC) + timedelta(hours=hours)
        CaptureLog(store).sign_tree_head(load_signer(home / "keys" / "capture-log.key"), ahead)
    finally:
        store.close()
    return ahead


def test_a_crawl_with_the_clock_behind_the_last_signed_head_fetches_nothing_and_says_why(tmp_path):
    with LocalSite({"/terms": Page(TERMS)}) as site:
        base = acme_home(tmp_path, site)
        first = CliRunner().invoke(main, [*base, "crawl", "--delay", "0"])
        assert first.exit_code == 0, first.output
        ahead = _sign_ahead(tmp_path / "home", hours=2)
        asked = len(site.requests)

        behind = CliRunner().invoke(main, [*base, "crawl", "--delay", "0"])

        assert len(site.requests) == asked  # nothing fetched
    assert behind.exit_code == 2
    [line] = behind.output.splitlines()
    assert line.startswith("Error: the clock says ")
    assert line.endswith(f"before the capture log's last signed tree head ({ahead:%Y-%m-%d %H:%M:%S}"
                         f".{ahead.microsecond // 1000:03d}000 UTC): captures recorded now would be out of time "
                         "order; check the system clock; nothing was crawled")
    verify = CliRunner().invoke(main, [*base, "verify"])
    assert verify.exit_code == 0, verify.output


def test_sign_log_with_the_clock_behind_signs_nothing_and_says_so(tmp_path):
    with LocalSite({"/terms": Page(TERMS)}) as site:
        base = acme_home(tmp_path, site)
        assert CliRunner().invoke(main, [*base, "crawl", "--delay", "0"]).exit_code == 0
        _sign_ahead(tmp_path / "home", hours=1)
        # A worker whose clock was right recorded one more capture since.
        store = Store.open(f"sqlite:///{tmp_path / 'home' / 'clausewatch.db'}", tmp_path / "home" / "objects",
                           mode="write")
        try:
            now = datetime.now(UTC)
            store.recording.record_failure("CW-D-00001", started_at=now, finished_at=now, kind="network")
        finally:
            store.close()

        signed = CliRunner().invoke(main, [*base, "sign-log"])

    assert signed.exit_code == 2
    [line] = signed.output.splitlines()
    assert line.startswith("Error: the clock says ") and line.endswith(
        "; the capture log was not signed (what was recorded is kept: the next signing covers it)")

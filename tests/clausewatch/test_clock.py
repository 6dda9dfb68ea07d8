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
    assert line.endswith(f"before the latest time in the capture log ({ahead:%Y-%m-%d %H:%M:%S}"
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


def test_a_crawl_with_the_clock_behind_captures_logged_but_not_signed_yet_is_refused_too(tmp_path):
    # A crawl killed before its end (or a worker without the key) leaves captures no head signs yet: compared with
    # the last signed head only, a crawl with the clock behind them was accepted, and signed a head older than the
    # captures under it.
    with LocalSite({"/terms": Page(TERMS)}) as site:
        base = acme_home(tmp_path, site)
        assert CliRunner().invoke(main, [*base, "crawl", "--delay", "0"]).exit_code == 0
        home = tmp_path / "home"
        store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects", mode="write")
        try:
            ahead = datetime.now(UTC) + timedelta(hours=3)
            store.recording.record_failure("CW-D-00001", started_at=ahead, finished_at=ahead, kind="network")
        finally:
            store.close()
        asked = len(site.requests)

        behind = CliRunner().invoke(main, [*base, "crawl", "--delay", "0"])
        signed = CliRunner().invoke(main, [*base, "sign-log"])

        assert len(site.requests) == asked
    assert behind.exit_code == 2 and behind.output.startswith("Error: the clock says ")
    assert "; nothing was crawled" in behind.output
    assert signed.exit_code == 2 and "the capture log was not signed" in signed.output

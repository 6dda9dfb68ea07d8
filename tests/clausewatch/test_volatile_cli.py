"""`clausewatch status` shows what a document was seen to change on every load; `reprocess` reports folds."""

from __future__ import annotations

import json

from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page
from tests.clausewatch.home_support import acme_home

PAGE = "<main><h1>Terms</h1><p>Visits today: {visits}</p><h2>1. Use</h2><p>By using the service you accept these terms.</p></main>"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_status_shows_watched_then_learned_values_and_reprocess_reports_folds(tmp_path):
    with LocalSite({"/terms": Page(render=lambda visit: PAGE.format(visits=100 + visit).encode())},
                   conditional=False) as site:
        base = acme_home(tmp_path, site)
        for _ in range(2):
            assert invoke(*base, "crawl", "--delay", "0").exit_code == 0
        watched = invoke(*base, "status").output
        assert "volatile: text 'Visits today: {*}' (watched 1/3)" in watched
        # A held fetch is never made a version by a reprocess.
        assert "0 technical version(s) recorded, 0 folded" in invoke(*base, "reprocess").output
        for _ in range(2):
            assert invoke(*base, "crawl", "--delay", "0").exit_code == 0

    status = invoke(*base, "status")
    assert "volatile: text 'Visits today: {*}'\n" in status.output
    shown = json.loads(invoke(*base, "status", "--json").output)
    [document] = shown["documents"]
    assert document["versions"] == 1
    assert [(v["kind"], v["value"], v["state"]) for v in shown["volatile"][document["id"]]] == [
        ("text", "Visits today: {*}", "learned")]
    again = invoke(*base, "reprocess")
    assert again.exit_code == 0 and "0 technical version(s) recorded, 0 folded" in again.output

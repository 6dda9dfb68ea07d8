"""The key end-to-end test (STYLE rule 7): serve a real policy, crawl, serve it edited, crawl again,
check the version, the exact clause changes and the alert a real SMTP server received."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.crawling import crawl_catalog
from clausewatch.loopback_site import LocalSite, Page
from clausewatch.notifying import send_alerts
from clausewatch.settings import load_settings
from clausewatch.signing import ensure_log_key
from crawler.recorder import DocumentResult
from store.change_records import list_changes
from store.repository import Store

from .conftest import INSERTED, MOVED_START, REMOVED_START, REWORDED_AFTER, as_html, cosmetic_edit, edit_policy

pytestmark = pytest.mark.shared


@pytest.fixture
def site():
    with LocalSite() as running:
        yield running


@pytest.fixture
def settings(tmp_path, site, smtp_inbox):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "kling-ai.yaml").write_text(
        "name: Kling AI\nslug: kling-ai\ndocuments:\n"
        f"  - type: Developer Terms\n    title: Terms of API Paid Service\n    url: {site.url('/api-terms')}\n"
        "    obey_robots: false\n",
        encoding="utf-8",
    )
    (tmp_path / "subscribers.yaml").write_text(
        "- {email: legal@example.com, name: Legal, platforms: [kling-ai]}\n"
        "- {email: other@example.com, alerts: false}\n",
        encoding="utf-8",
    )
    settings = load_settings({}, {"HOME": str(tmp_path / "home"), "CATALOG": str(catalog)}).replace(
        subscribers=tmp_path / "subscribers.yaml", smtp_host=smtp_inbox.host, smtp_port=smtp_inbox.port,
        smtp_starttls=False, crawl_delay=0.0, base_url="https://cw.example/",
    )
    ensure_log_key(settings)  # what `clausewatch init` does: crawls sign the capture log
    return settings


@pytest.fixture
def store(settings):
    opened = Store.open(settings.database_url, settings.blobs)
    yield opened
    opened.close()


def _serve_and_crawl(site, settings, store, text: str) -> list[DocumentResult]:
    site.set("/api-terms", Page(as_html(text)))
    results: list[DocumentResult] = []
    report = crawl_catalog(settings, store=store, on_result=results.append)
    assert report.failed == 0, report.failures
    return results


def test_edited_policy_gives_the_exact_clause_changes_and_one_alert(site, settings, store, smtp_inbox, policy):
    _serve_and_crawl(site, settings, store, policy)
    [document] = store.catalog.documents()
    first = store.history.current_version(document.id)
    assert send_alerts(settings, store=store, send=True).deliveries == []  # a first version is no change

    _serve_and_crawl(site, settings, store, edit_policy(policy))
    assert len(store.history.versions(document.id)) == 2
    [change] = list_changes(store)
    assert change.substantive and change.severity_raised
    listed = [(c.change.kind, (c.change.before or c.change.after)[:40]) for c in change.clause_changes]
    assert sorted(listed) == sorted([
        ("added", INSERTED.replace("3.10", "4.10")[:40]),
        ("removed", REMOVED_START[:40]),
        ("modified", "4.1 We have the right to adjust or terminate"[:40]),
        ("moved", MOVED_START[:40]),
    ])
    modified = next(c.change for c in change.clause_changes if c.change.kind == "modified")
    assert modified.after.startswith(REWORDED_AFTER.replace("4.1", "5.1"))
    # Every clause that was only renumbered kept its key (and so its provision record).
    current = store.history.current_version(document.id)
    old_keys = {c.clause.key for c in first.clauses}
    carried = [c for c in current.clauses if c.clause.key in old_keys]
    assert len(carried) == len(first.clauses) - 1  # all but the removed clause
    assert {c.clause.heading_path[0] for c in carried if c.clause.heading_path} >= {"2. Definitions", "14. Contact Us"}

    report = send_alerts(settings, store=store, send=True)
    assert [d.ok for d in report.deliveries] == [True] and report.alerted_change_ids == [change.id]
    [message] = smtp_inbox.messages
    assert message["To"].addresses[0].addr_spec == "legal@example.com"
    assert message["Subject"] == "clausewatch alert: Kling AI Developer Terms changed, severity raised"
    text = message.get_body(("plain",)).get_content()
    # The most severe clause changes in full (severity raised first), the rest counted and linked.
    shown = [line for line in text.splitlines() if line.startswith("  - ")]
    assert len(shown) == 3 and "(severity raised)" in shown[0]
    more = len(change.clause_changes) - 3
    assert f"  {more} more clause change{'s' if more > 1 else ''} on the site: https://cw.example/documents/CW-D-00001.html#change-" in text
    assert "Before: 4.1 We have the right to adjust or terminate" in text
    assert "After:  5.1 We have the right to adjust, suspend or permanently terminate" in text

    # A cosmetic-only edit is archived as a version but never alerts. Only the page's date
    # changed: the first fetch is held as possibly volatile, the second confirms it (decision 0016).
    cosmetic = cosmetic_edit(edit_policy(policy)).replace("2025-1-15", "2025-2-1")
    assert _serve_and_crawl(site, settings, store, cosmetic)[0].outcome == "unchanged"
    assert _serve_and_crawl(site, settings, store, cosmetic)[0].outcome == "new_version"
    assert len(store.history.versions(document.id)) == 3
    latest = list_changes(store)[-1]
    assert not latest.substantive and latest.cosmetic_reason == "page dates" and latest.clause_changes == ()
    assert send_alerts(settings, store=store, send=True).deliveries == []
    assert len(smtp_inbox.messages) == 1

    result = CliRunner().invoke(main, ["--home", str(settings.home), "changes", "--json", "--platform", "kling-ai"])
    assert [c["substantive"] for c in json.loads(result.stdout)["changes"]] == [True, False]

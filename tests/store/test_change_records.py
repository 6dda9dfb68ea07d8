"""store/change_records.py on real SQLite and PostgreSQL stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from reports.site.derived import changes_of_provision
from store.change_records import failing_documents, list_changes, mark_alerted, provision_links
from store.site_data import load_site_data
from tests.fakes import record_fetched_text

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)




V1 = (
    "1. Accounts\n\n1.1 You must be 13 or older to use the Service, and keep your password secret.\n\n"
    "2. Termination\n\n2.1 We may suspend your account if you breach these Terms of Service.\n\n"
    "3. Law\n\n3.1 These Terms are governed by the law of Ireland and its courts alone.\n"
)
V2 = V1.replace("suspend your account if", "terminate your account at any time, even if")
V3 = V2.replace("Ireland and its", "Ireland, and its")  # punctuation only


def _catalog(*slugs: str) -> list[PlatformSpec]:
    return [
        PlatformSpec(slug, slug.title(), (DocumentSpec(slug, "Terms of Service", (SourceSpec(f"https://{slug}.example/tos"),)),))
        for slug in slugs
    ]




@pytest.fixture
def documents(store):
    store.catalog.sync_catalog(_catalog("acme", "globex"), now=T0)
    return [d.id for d in store.catalog.documents()]


def test_changes_list_with_record_ids_and_filters(store, documents):
    acme, globex = documents
    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(days=1))
    record_fetched_text(store, acme, V3, T0 + timedelta(days=2))
    record_fetched_text(store, globex, V1, T0)
    record_fetched_text(store, globex, V2, T0 + timedelta(days=3), technical=True)

    changes = list_changes(store)
    assert [(c.document_id, c.substantive, c.cosmetic_reason) for c in changes] == [
        (acme, True, None), (acme, False, "punctuation"),
    ]
    first = changes[0].to_json()
    assert first["severity_raised"] is True
    [clause] = first["clause_changes"]
    assert clause["kind"] == "modified" and clause["severity_before"] == "medium" and clause["severity_after"] == "high"
    assert clause["record_id"].startswith("CW-P-") and clause["heading_path"] == ["2. Termination", "2.1"]
    assert set(first) == {"document", "from_version", "to_version", "detected_at", "substantive", "severity_raised",
                          "clause_changes"}

    assert [c.document_id for c in list_changes(store, include_technical=True)] == [acme, acme, globex]
    assert list_changes(store, since=T0 + timedelta(days=2))[0].cosmetic_reason == "punctuation"
    assert list_changes(store, platforms=["globex"]) == []
    assert len(list_changes(store, substantive_only=True)) == 1


def test_alert_queue_marks_each_change_once(store, documents):
    acme, _ = documents
    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(days=1))
    pending = list_changes(store, pending_alert=True)
    assert len(pending) == 1
    assert mark_alerted(store, [pending[0].id], T0 + timedelta(days=1, hours=1)) == 1
    assert mark_alerted(store, [pending[0].id], T0 + timedelta(days=2)) == 0
    assert list_changes(store, pending_alert=True) == []
    assert list_changes(store)[0].alerted_at == T0 + timedelta(days=1, hours=1)


def test_failure_streaks(store, documents):
    acme, globex = documents
    record_fetched_text(store, acme, V1, T0)
    for hours in (1, 2, 3):
        store.recording.record_failure(acme, started_at=T0 + timedelta(hours=hours), finished_at=T0 + timedelta(hours=hours),
                                       kind="http_5xx" if hours < 3 else "timeout", detail=f"attempt {hours}")
    store.recording.record_failure(globex, started_at=T0, finished_at=T0, kind="dns")
    [failing] = failing_documents(store, at_least=3)
    assert (failing.document_id, failing.consecutive_failures, failing.error_kind) == (acme, 3, "timeout")
    assert failing.failing_since == T0 + timedelta(hours=1)
    assert [f.document_id for f in failing_documents(store, at_least=1)] == [acme, globex]
    record_fetched_text(store, acme, V1, T0 + timedelta(hours=4))
    assert [f.document_id for f in failing_documents(store, at_least=1)] == [globex]


def test_provision_links_follow_the_clause_on_each_side_of_the_change():
    records = {"arbitration": "CW-P-1", "choice_of_law": "CW-P-2", "unilateral_termination": "CW-P-3"}
    assert provision_links("added", ("choice_of_law",), ("arbitration",), records) == ("CW-P-1",)
    assert provision_links("removed", ("choice_of_law",), ("arbitration",), records) == ("CW-P-2",)
    assert provision_links("modified", ("choice_of_law", "arbitration"), ("arbitration", "unilateral_termination"),
                           records) == ("CW-P-1", "CW-P-3", "CW-P-2")
    assert provision_links("modified", ("no_record_yet",), (), records) == ()


def test_a_clause_that_changes_type_is_listed_under_both_records_by_changes_and_site(store, documents):
    acme, _ = documents
    record_fetched_text(store, acme, V1, T0)
    # The law clause now also lets the company terminate: its type moves from choice of law to termination.
    record_fetched_text(store, acme, V1.replace("These Terms are governed", "We may terminate; these Terms are governed"),
            T0 + timedelta(days=1))
    provisions = {p.clause_type: p.id for p in load_site_data(store).documents[0].provisions}
    [change] = list_changes(store)
    [clause] = change.clause_changes
    assert clause.record_ids == (provisions["unilateral_termination"], provisions["choice_of_law"])
    assert clause.record_id == provisions["unilateral_termination"]

    document = load_site_data(store).documents[0]
    assert [c.id for c in document.changes] == [list_changes(store, include_first=True)[0].id, change.id]
    assert document.changes[0].from_version is None and document.changes[1] == change
    for provision in document.provisions:
        assert [c.id for c in changes_of_provision(document, provision)] == [change.id]

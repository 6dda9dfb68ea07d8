import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.pipeline import Analyzer
from analysis.text import sha256_bytes, sha256_text
from store.catalog import StoredDocuments
from store.recording import KnownHead
from store.repository import UnknownDocumentError
from store.site_data import load_site_data
from store.tables import ChangeRow, VersionRow
from tests.fakes import KeywordClassifier, record_fetched_text


def test_record_text_then_unchanged(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
    store.catalog.sync_catalog([spec], now=now)
    (doc,) = store.catalog.documents()
    assert doc.id == "CW-D-00001"
    body = b"<h1>Terms</h1><p>Hello</p>"
    snap = Snapshot(sha256_bytes(body), doc.id, "http://x/t", "http://x/t", 200, "text/html", now, size=len(body))
    first = store.recording.record_text(doc.id, snapshot=snap, body=body, text="# Terms\n\nHello\n",
                                        started_at=now, finished_at=now, analyze=Analyzer())
    second = store.recording.record_text(doc.id, snapshot=snap, body=body, text="# Terms\n\nHello\n",
                                         started_at=now, finished_at=now, analyze=Analyzer())
    assert first.outcome == "new_version" and second.outcome == "unchanged"
    assert len(store.history.versions(doc.id)) == 1
    assert store.verify() == []


def test_provision_records_are_numbered_in_clause_type_order_and_kept_by_later_versions(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
    store.catalog.sync_catalog([spec], now=now)
    (doc,) = store.catalog.documents()
    analyze = Analyzer(KeywordClassifier(keywords={
        "terminate": ("unilateral_termination", "high"), "law": ("choice_of_law", "low"),
        "arbitration": ("arbitration", "high"),
    }))
    terms = "We may terminate your account at any time.\n\nThe law of Ireland governs these terms.\n"
    record_fetched_text(store, doc.id, terms, now, analyze=analyze)
    first = {p.clause_type: (p.id, p.first_seen) for p in load_site_data(store).documents[0].provisions}
    assert first == {"choice_of_law": ("CW-P-000001", now), "unilateral_termination": ("CW-P-000002", now)}
    later = now + timedelta(days=1)
    record_fetched_text(store, doc.id, terms + "\nDisputes go to binding arbitration in Dublin.\n", later,
                        analyze=analyze)
    second = {p.clause_type: (p.id, p.first_seen) for p in load_site_data(store).documents[0].provisions}
    assert second == {**first, "arbitration": ("CW-P-000003", later)}


def test_current_head_is_the_current_versions_hash_and_length(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
    store.catalog.sync_catalog([spec], now=now)
    (doc,) = store.catalog.documents()
    assert store.history.current_head(doc.id) is None
    record_fetched_text(store, doc.id, "# Terms\n\nHello\n", now)
    record_fetched_text(store, doc.id, "# Terms\n\nHello again\n", now + timedelta(days=1))
    assert store.history.current_head(doc.id) == (sha256_text("# Terms\n\nHello again\n"), 21)
    with pytest.raises(UnknownDocumentError):
        store.history.current_head("CW-D-99999")


def test_count_never_fetched_counts_the_documents_whose_first_text_is_still_to_come(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),
                                         DocumentSpec("acme", "Privacy Policy", (SourceSpec("http://x/p"),)),
                                         DocumentSpec("acme", "Cookie Policy", (SourceSpec("http://x/c"),))))
    store.catalog.sync_catalog([spec], now=now)
    terms, privacy, cookies = store.catalog.documents()
    assert store.history.count_never_fetched([terms.id, privacy.id, cookies.id]) == 3
    record_fetched_text(store, terms.id, "# Terms\n\nHello\n", now)
    # A dead page: no text to expect on every run.
    store.recording.record_failure(cookies.id, started_at=now, finished_at=now, kind="http_4xx", detail="HTTP 404")
    assert store.history.count_never_fetched([terms.id, cookies.id]) == 0
    assert store.history.count_never_fetched([terms.id, privacy.id, cookies.id, "CW-D-99999"]) == 1
    assert store.history.count_never_fetched([]) == 0


def test_a_stale_known_head_is_read_again_and_the_text_analysed_against_the_current_version(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Privacy Policy", (SourceSpec("http://x/t"),)),))
    store.catalog.sync_catalog([spec], now=now)
    (doc,) = store.catalog.documents()
    record_fetched_text(store, doc.id, "# Terms\n\nHello\n", now)
    seen = []
    analyzer = Analyzer(KeywordClassifier())

    def analyze(previous, text, document_type=None):
        seen.append((previous.version.sha256 if previous else None, document_type))
        return analyzer(previous, text, document_type)

    # What a caller read before the first version was recorded: no current version.
    stale = KnownHead(current=None, document_type="Privacy Policy")
    result = record_fetched_text(store, doc.id, "# Terms\n\nHello again\n", now + timedelta(days=1),
                                 analyze=analyze, known=stale)

    first = sha256_text("# Terms\n\nHello\n")
    assert result.outcome == "new_version"
    assert seen == [(None, "Privacy Policy"), (first, "Privacy Policy")]  # analysed again, against the first
    assert [v.version.sha256 for v in store.history.versions(doc.id)] == [first, result.version_sha256]
    with store.session() as session:  # the change leads from the first version, not from nothing
        changes = session.execute(select(ChangeRow.from_version_id, ChangeRow.to_version_id)
                                  .order_by(ChangeRow.id)).all()
        ids = {row.sha256: row.id for row in session.scalars(select(VersionRow))}
    assert changes[-1] == (ids[first], ids[result.version_sha256])
    # What a caller read that is still current is used as it is: no second analysis.
    del seen[:]
    current = KnownHead((result.version_sha256, len("# Terms\n\nHello again\n")), "Privacy Policy")
    assert record_fetched_text(store, doc.id, "# Terms\n\nBye\n", now + timedelta(days=2), analyze=analyze,
                               known=current).outcome == "new_version"
    assert seen == [(result.version_sha256, "Privacy Policy")]


def test_a_stale_known_head_never_refuses_a_text_as_a_shrink_of_a_version_no_longer_current(store):
    """The crawl's batch read the long version as current; another writer then recorded a short one. A slight edit
    of the short one is a new version, not a "suspicious shrink" of the long one (review of the twelfth pass)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
    store.catalog.sync_catalog([spec], now=now)
    (doc,) = store.catalog.documents()
    long = "# Terms\n\n" + "We may change these terms at any time without notice. " * 40 + "\n"
    short = "# Terms\n\nWe may change these terms at any time.\n" + "Short. " * 20 + "\n"
    record_fetched_text(store, doc.id, long, now)
    known = KnownHead((sha256_text(long), len(long)), "Terms of Service")
    assert record_fetched_text(store, doc.id, short, now + timedelta(hours=1)).outcome == "new_version"

    edited = short + "And one more line.\n"
    result = record_fetched_text(store, doc.id, edited, now + timedelta(hours=2), shrink_ratio=0.5, known=known)

    assert result.outcome == "new_version", result
    # A real shrink of what is current is still refused, known head or not.
    current = KnownHead((result.version_sha256, len(edited)), "Terms of Service")
    refused = record_fetched_text(store, doc.id, "# Terms\n\nGone.\n", now + timedelta(hours=3), shrink_ratio=0.5,
                                  known=current)
    assert (refused.outcome, refused.error_kind) == ("failed", "suspicious_shrink")


def _snapshot(doc_id, body, now):
    return Snapshot(sha256_bytes(body), doc_id, "http://x/t", "http://x/t", 200, "text/html", now, size=len(body),
                    etag='"v1"', last_modified="Thu, 01 Jan 2026 00:00:00 GMT")


def test_failures_are_fetches_never_versions_and_status_counts_them(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),
                                         DocumentSpec("acme", "Privacy Policy", (SourceSpec("http://x/p"),))))
    store.catalog.sync_catalog([spec], now=now)
    error_page = b"<h1>503 Service Unavailable</h1>"
    for _ in range(2):
        store.recording.record_failure("CW-D-00001", started_at=now, finished_at=now, kind="http_5xx", detail="HTTP 503",
                                       snapshot=_snapshot("CW-D-00001", error_page, now), body=error_page)
    assert store.history.current_version("CW-D-00001") is None
    assert len(store.history.snapshots("CW-D-00001")) == 1  # the error page is kept once, as evidence
    by_id = {s.id: s for s in store.catalog.status()}
    assert (by_id["CW-D-00001"].fetches, by_id["CW-D-00001"].failures) == (2, 2)
    assert by_id["CW-D-00001"].consecutive_failures == 2
    assert by_id["CW-D-00001"].last_error_kind == "http_5xx"
    assert by_id["CW-D-00002"].last_outcome is None  # in the catalog, never crawled, still listed


def test_conditional_headers_come_from_the_last_snapshot(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
    store.catalog.sync_catalog([spec], now=now)
    assert store.history.conditional_headers("CW-D-00001") == {}
    body = b"<p>Terms</p>"
    store.recording.record_text("CW-D-00001", snapshot=_snapshot("CW-D-00001", body, now), body=body, text="Terms\n",
                                started_at=now, finished_at=now)
    headers = store.history.conditional_headers("CW-D-00001")
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Thu, 01 Jan 2026 00:00:00 GMT"


@pytest.mark.parametrize("last_modified", ["Fri, 31 Dec 2100 23:59:59 GMT", "Thu, 01 Jan 2026 00:00:01 GMT",
                                           "yesterday"])
def test_a_last_modified_after_its_fetch_or_not_a_date_is_not_sent_back(store, last_modified):
    # A server stating a Last-Modified in 2100 then answered 304 to every If-Modified-Since before it: the document's
    # next version was never fetched, every crawl "not modified". RFC 9110 forbids a Last-Modified after the response.
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
    store.catalog.sync_catalog([spec], now=now)
    body = b"<p>Terms</p>"
    snapshot = dataclasses.replace(_snapshot("CW-D-00001", body, now), last_modified=last_modified)
    store.recording.record_text("CW-D-00001", snapshot=snapshot, body=body, text="Terms\n", started_at=now,
                                finished_at=now)
    assert store.history.conditional_headers("CW-D-00001") == {"If-None-Match": '"v1"'}
    assert store.history.conditional_headers_for(["CW-D-00001"]) == {"CW-D-00001": {"If-None-Match": '"v1"'}}


def test_document_ids_are_stable_and_dropped_documents_leave_the_catalog(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    terms = DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),))
    privacy = DocumentSpec("acme", "Privacy Policy", (SourceSpec("http://x/p"),))
    store.catalog.sync_catalog([PlatformSpec("acme", "Acme", (terms, privacy))], now=now)
    first = store.catalog.documents()
    assert [d.id for d in first] == ["CW-D-00001", "CW-D-00002"]
    store.catalog.sync_catalog([PlatformSpec("acme", "Acme", (privacy,))], now=now)
    kept = store.catalog.documents()
    assert {d.id: d.in_catalog for d in kept} == {"CW-D-00001": True, "CW-D-00002": True}  # absent is not retired
    store.catalog.sync_catalog([PlatformSpec("acme", "Acme", (privacy,))], now=now, retire_missing=True)
    again = store.catalog.documents()
    assert {d.id: d.in_catalog for d in again} == {"CW-D-00001": False, "CW-D-00002": True}
    store.catalog.sync_catalog([PlatformSpec("acme", "Acme", (terms, privacy))], now=now)
    back = store.catalog.documents()
    assert {d.id: (d.type, d.in_catalog) for d in back} == {
        "CW-D-00001": ("Terms of Service", True), "CW-D-00002": ("Privacy Policy", True)}


def test_each_document_reads_the_store_in_batches_and_afresh_each_time(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    specs = (PlatformSpec(f"p{n}", f"P{n}", (DocumentSpec(f"p{n}", "Terms", (SourceSpec(f"http://x/{n}"),)),))
             for n in range(5))
    store.catalog.sync_catalog(specs, now=now)  # a generator: the sync reads it once
    documents = StoredDocuments(store.catalog.db, batch=2)
    assert [d.id for d in documents] == [f"CW-D-{n:05d}" for n in range(1, 6)]
    assert list(documents) == store.catalog.documents() == list(store.catalog.each_document())

    privacy = DocumentSpec("p5", "Privacy", (SourceSpec("http://x/5"),))
    store.catalog.sync_catalog([PlatformSpec("p5", "P5", (privacy,))], now=now)
    assert [(d.id, d.platform, d.type) for d in documents][-1] == ("CW-D-00006", "p5", "Privacy")


def test_conditional_headers_of_many_documents_match_one_by_one(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    specs = [PlatformSpec(f"p{n}", f"P{n}", (DocumentSpec(f"p{n}", "Terms of Service", (SourceSpec(f"http://x/{n}"),)),))
             for n in range(4)]
    store.catalog.sync_catalog(specs, now=now)
    ids = [doc.id for doc in store.catalog.documents()]
    for number, doc_id in enumerate(ids[:3]):
        for fetch in range(number + 1):  # the newest snapshot behind the current version gives the validators
            body = f"<p>Terms {number}</p><!-- fetch {fetch} -->".encode()
            later = now.replace(hour=fetch)
            snapshot = Snapshot(sha256_bytes(body), doc_id, "http://x/t", "http://x/t", 200, "text/html", later,
                                size=len(body), etag=f'"{number}-{fetch}"',
                                last_modified=None if fetch else "Thu, 01 Jan 2026 00:00:00 GMT")
            store.recording.record_text(doc_id, snapshot=snapshot, body=body, text=f"Terms {number}\n",
                                        started_at=later, finished_at=later)
    together = store.history.conditional_headers_for(list(reversed(ids)))
    assert list(together) == list(reversed(ids))
    assert together == {doc_id: store.history.conditional_headers(doc_id) for doc_id in ids}
    assert together[ids[2]] == {"If-None-Match": '"2-2"'}
    assert together[ids[3]] == {}
    with pytest.raises(UnknownDocumentError):
        store.history.conditional_headers_for([ids[0], "CW-D-99999"])


def test_documents_dropped_from_a_large_catalog_all_leave_it_in_chunked_updates(store, monkeypatch):
    import store.catalog as catalog
    import store.database as database

    monkeypatch.setattr(database, "IDS_PER_QUERY", 2)
    monkeypatch.setattr(catalog, "_ROWS_PER_BATCH", 2)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    specs = [PlatformSpec(f"p{n}", f"P{n}", (DocumentSpec(f"p{n}", "Terms of Service", (SourceSpec(f"http://x/{n}"),)),))
             for n in range(7)]
    store.catalog.sync_catalog(specs, now=now)
    first = store.catalog.documents()
    assert [d.id for d in first] == [f"CW-D-{n:05d}" for n in range(1, 8)]
    store.catalog.sync_catalog(specs[3:4], now=now, retire_missing=True)
    again = store.catalog.documents()
    assert [(d.id, d.in_catalog) for d in again] == [(f"CW-D-{n:05d}", n == 4) for n in range(1, 8)]
    assert store.history.conditional_headers_for([d.id for d in again]) == {d.id: {} for d in again}


class _CountingClassifier(KeywordClassifier):
    """The keyword classifier, remembering every text it was asked to classify."""

    def __init__(self, analyzer_id: str = "keywords-test") -> None:
        super().__init__(analyzer_id, keywords={"terminate": ("unilateral_termination", "high"),
                                                "law": ("governing_law", "low")})
        self.asked: list[str] = []

    def classify(self, texts, privacy_policy=False):
        self.asked += list(texts)
        return super().classify(texts, privacy_policy)


def test_an_edit_classifies_only_the_clauses_worded_anew_and_stores_what_a_fresh_analysis_would(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
    store.catalog.sync_catalog([spec], now=now)
    (doc,) = store.catalog.documents()
    model = _CountingClassifier()
    terms = ("## 1. Termination\n\nWe may terminate your account at any time.\n\n"
             "## 2. Law\n\nThe law of Ireland governs these terms.\n")
    edited = terms.replace("Ireland", "France") + "\n## 3. Notice\n\nWe may terminate these terms without notice.\n"
    record_fetched_text(store, doc.id, terms, now, analyze=Analyzer(model))
    model.asked.clear()

    record_fetched_text(store, doc.id, edited, now + timedelta(days=1), analyze=Analyzer(model))

    assert model.asked == ["The law of France governs these terms.", "We may terminate these terms without notice."]
    stored = store.history.current_version(doc.id)
    fresh = Analyzer(_CountingClassifier())(None, edited)
    assert [(c.clause.text, c.classification) for c in stored.clauses] == [
        (c.clause.text, c.classification) for c in fresh.clauses]


def test_a_previous_version_classified_by_another_analyzer_is_classified_again(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
    store.catalog.sync_catalog([spec], now=now)
    (doc,) = store.catalog.documents()
    terms = "## 1. Termination\n\nWe may terminate your account at any time.\n"
    record_fetched_text(store, doc.id, terms, now, analyze=Analyzer(_CountingClassifier("old-model")))
    model = _CountingClassifier("new-model")

    record_fetched_text(store, doc.id, terms + "\n## 2. Law\n\nThe law of Ireland governs.\n", now + timedelta(days=1),
                        analyze=Analyzer(model))

    assert model.asked == ["We may terminate your account at any time.", "The law of Ireland governs."]


def _statements_of_status(store, platforms: int) -> tuple[int, list]:
    """How many SQL statements ``catalog.status()`` runs on a store of ``platforms`` platforms, each with a crawled
    document and one never crawled, and what it returns."""
    from sqlalchemy import event

    now = datetime(2026, 1, 1, tzinfo=UTC)
    store.catalog.sync_catalog([PlatformSpec(f"p{i}", f"P{i}", (
        DocumentSpec(f"p{i}", "Terms of Service", (SourceSpec(f"http://x/{i}/t"),)),
        DocumentSpec(f"p{i}", "Privacy Policy", (SourceSpec(f"http://x/{i}/p"),)))) for i in range(platforms)],
        now=now)
    for document in store.catalog.documents():
        if document.type == "Terms of Service":
            record_fetched_text(store, document.id, f"Terms of {document.id}.\n\nWe may end it.\n", now)
    statements = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    rows = store.catalog.status()
    return len(statements), rows, now


def test_status_reads_the_store_in_the_same_few_statements_whatever_the_number_of_documents(tmp_path):
    # It read each document's current version and platform apart: 2 statements a document, 20,000 for a catalog of
    # 10,000 (0.16 s of `status`'s 0.4 s at 100 documents).
    from store.repository import Store

    counts = {}
    for platforms in (2, 12):
        store = Store.open(f"sqlite:///{tmp_path}/{platforms}.db", tmp_path / f"objects-{platforms}")
        try:
            counts[platforms], rows, now = _statements_of_status(store, platforms)
        finally:
            store.close()
        assert len(rows) == 2 * platforms
        terms = [row for row in rows if row.type == "Terms of Service"]
        assert {row.platform for row in terms} == {f"p{i}" for i in range(platforms)}
        assert all(row.versions == 1 and row.last_verified == now and row.fetches == 1 for row in terms)
        assert all(row.versions == 0 and row.last_verified is None and row.language is None
                   for row in rows if row.type == "Privacy Policy")
    assert counts[12] == counts[2]

"""Time-travel queries on real SQLite and PostgreSQL: which version was in force when."""

from datetime import UTC, datetime, timedelta

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.text import normalize_text, sha256_bytes, sha256_text
from analysis.timeline import NotYetCapturedError
from store.repository import UnknownDocumentError
from store.site_data import load_site_data
from store.timeline import (
    UnknownRecordError,
    clauses_by_version,
    document_timeline,
    load_timelines,
    provision_of,
    version_captures,
)

T0 = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)
URL = "https://acme.test/terms"
V1 = "# Terms\n\n1. Disputes go to arbitration in Delaware.\n"
V2 = "# Terms\n\n1. Disputes go to binding arbitration in Delaware.\n\n2. We may change these terms.\n"


def _record(store, doc_id, text, when, **kwargs):
    body = f"<pre>{text}</pre>".encode()
    snap = Snapshot(sha256_bytes(body), doc_id, URL, URL, 200, "text/html", when, size=len(body))
    return store.recording.record_text(doc_id, snapshot=snap, body=body, text=normalize_text(text),
                                       started_at=when, finished_at=when, **kwargs)


@pytest.fixture
def history(store):
    """v1 at T0 (confirmed an hour later), v2 a day later, back to v1 on day 2, a 304 on day 3."""
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(URL),)),))
    store.catalog.sync_catalog([spec], now=T0)
    (doc,) = store.catalog.documents()
    _record(store, doc.id, V1, T0)
    _record(store, doc.id, V1, T0 + timedelta(hours=1))
    _record(store, doc.id, V2, T0 + DAY)
    _record(store, doc.id, V1, T0 + 2 * DAY)
    store.recording.record_not_modified(doc.id, started_at=T0 + 3 * DAY, finished_at=T0 + 3 * DAY)
    return doc.id


def test_version_in_force_at_the_boundaries(store, history):
    v1, v2 = sha256_text(normalize_text(V1)), sha256_text(normalize_text(V2))
    timeline = document_timeline(store, history)
    assert timeline.in_force(T0)[1].sha256 == v1  # exactly at first_seen
    assert timeline.in_force(T0 + DAY / 2)[1].sha256 == v1  # between versions
    assert timeline.in_force(T0 + DAY - timedelta(microseconds=1))[1].sha256 == v1
    assert timeline.in_force(T0 + DAY)[1].sha256 == v2  # exactly at the change
    assert timeline.in_force(T0 + 2 * DAY)[1].sha256 == v1  # the text went back
    assert timeline.in_force(T0 + 365 * DAY)[1].sha256 == v1  # after the last capture
    with pytest.raises(NotYetCapturedError) as caught:
        timeline.in_force(T0 - timedelta(seconds=1))
    assert caught.value.first_capture == T0


def test_periods_and_captures_of_every_version(store, history):
    v1, v2 = sha256_text(normalize_text(V1)), sha256_text(normalize_text(V2))
    timeline = document_timeline(store, history)
    assert [(p.version, p.start, p.end) for p in timeline.periods] == [
        (v1, T0, T0 + DAY), (v2, T0 + DAY, T0 + 2 * DAY), (v1, T0 + 2 * DAY, None)]
    first = timeline.version(v1)
    assert (first.capture_count, first.last_capture) == (4, T0 + 3 * DAY)  # the 304 confirms v1
    assert version_captures(store, history, v1) == (T0, T0 + timedelta(hours=1), T0 + 2 * DAY, T0 + 3 * DAY)
    assert version_captures(store, history, v2) == (T0 + DAY,)
    assert [s.fetched_at for s in first.snapshots] == [T0] and first.snapshots[0].sha256 == sha256_bytes(
        f"<pre>{V1}</pre>".encode())
    assert [v.sha256 for v in timeline.versions] == [v1, v2]
    assert load_timelines(store)[history] == timeline  # the bulk query of the site agrees


def _rebuild(store, document_id: str, *runs: tuple[str, str, datetime, datetime]) -> None:
    """Make ``runs`` (text, the page of its fetches, first fetch, last fetch) the history, as reprocess does: each
    run with the fetches that gave a text between its first and last."""
    from sqlalchemy import select

    from store.recording import RebuiltRun
    from store.tables import FetchRow

    pages = {V1: sha256_bytes(f"<pre>{V1}</pre>".encode()), V2: sha256_bytes(f"<pre>{V2}</pre>".encode())}
    with store.session() as session:
        fetches = session.execute(select(FetchRow.id, FetchRow.finished_at).where(
            FetchRow.outcome.in_(("new_version", "unchanged"))).order_by(FetchRow.finished_at, FetchRow.id)).all()
    store.recording.rebuild_history(document_id, [
        RebuiltRun(normalize_text(text), (pages[page],), first, last, (pages[page],),
                   tuple(fetch_id for fetch_id, at in fetches if first <= at <= last))
        for text, page, first, last in runs], analyze=None)


def test_a_technical_rereading_supersedes_the_version_it_reread(store, history):
    """reprocess replays a snapshot at its capture time; that reading is what was in force then."""
    v1, v2 = sha256_text(normalize_text(V1)), sha256_text(normalize_text(V2))
    reread = V1.replace("Delaware", "Delaware (re-read)")
    # The runs reprocess makes of the history: v1's fetches re-read, v2's as they were.
    _rebuild(store, history, (reread, V1, T0, T0 + timedelta(hours=1)), (V2, V2, T0 + DAY, T0 + DAY),
             (reread, V1, T0 + 2 * DAY, T0 + 2 * DAY))
    timeline = document_timeline(store, history)
    reread_sha = sha256_text(normalize_text(reread))
    assert timeline.version(v1).superseded_by == reread_sha
    assert timeline.in_force(T0 + DAY / 2)[1].sha256 == reread_sha
    assert timeline.in_force(T0 + DAY)[1].sha256 == v2
    assert timeline.in_force(T0 + 3 * DAY)[1].sha256 == reread_sha  # the 304 of day 3 confirmed v1 too


def test_a_page_re_read_differently_over_time_shows_each_reading_in_force_in_its_own_time(store, history):
    # The same bytes read under another declaration from some date on (or other volatile rules) give another text:
    # one snapshot re-read by two versions. Mapping every version recorded from it to the newest re-reading showed
    # the older reading in force after the newer one began.
    early, late = (V1.replace("Delaware", f"Delaware ({when})") for when in ("early", "late"))
    _rebuild(store, history, (early, V1, T0, T0 + timedelta(hours=1)), (V2, V2, T0 + DAY, T0 + DAY),
             (late, V1, T0 + 2 * DAY, T0 + 2 * DAY))
    timeline = document_timeline(store, history)

    assert timeline.in_force(T0 + DAY / 2)[1].sha256 == sha256_text(normalize_text(early))
    assert timeline.in_force(T0 + 2 * DAY)[1].sha256 == sha256_text(normalize_text(late))
    assert timeline.in_force(T0 + 30 * DAY)[1].sha256 == sha256_text(normalize_text(late))


def test_a_page_whose_bytes_did_not_change_reads_anew_from_the_fetch_a_new_declaration_governs(store, history):
    # v1's page fetched at T0 and again an hour later, a declaration change between the two: re-read under the old
    # declaration for the first fetch only. Both fetches recorded v1, so the timeline, which took the fetches where
    # the recorded version changed, showed the old reading in force until the next change.
    v1 = sha256_text(normalize_text(V1))
    old = V1.replace("Delaware", "Delaware (old declaration)")
    hour = T0 + timedelta(hours=1)
    _rebuild(store, history, (old, V1, T0, T0), (V1, V1, hour, hour), (V2, V2, T0 + DAY, T0 + DAY),
             (V1, V1, T0 + 2 * DAY, T0 + 2 * DAY))
    timeline = document_timeline(store, history)

    assert timeline.in_force(T0 + timedelta(minutes=30))[1].sha256 == sha256_text(normalize_text(old))
    assert timeline.in_force(T0 + timedelta(hours=2))[1].sha256 == v1
    assert timeline.in_force(T0 + 3 * DAY)[1].sha256 == v1


def test_clauses_of_every_version_and_provision_lookup(store):
    from analysis.pipeline import Analyzer

    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(URL),)),))
    store.catalog.sync_catalog([spec], now=T0)
    (doc,) = store.catalog.documents()
    _record(store, doc.id, V1, T0, analyze=Analyzer())
    _record(store, doc.id, V2, T0 + DAY, analyze=Analyzer())
    clauses = clauses_by_version(store, doc.id)
    assert len(clauses) == 2
    assert [c.clause.text for c in clauses[sha256_text(normalize_text(V1))]] == [
        "1. Disputes go to arbitration in Delaware."]
    for provision in load_site_data(store).documents[0].provisions:
        assert provision_of(store, provision.id) == (doc.id, provision.clause_type)
    with pytest.raises(UnknownRecordError):
        provision_of(store, "CW-P-999999")
    with pytest.raises(UnknownDocumentError):
        document_timeline(store, "CW-D-99999")


def test_after_a_real_reprocess_the_rebuilt_versions_are_in_force_where_their_snapshots_were(store):
    """crawler.reprocess replays stored snapshots: the timeline follows the re-readings, and agrees with current."""
    from analysis.pipeline import Analyzer
    from crawler.extract import extract_document
    from crawler.reprocess import reprocess

    source = SourceSpec(URL)
    pages = [f"<html><body><main><h1>Terms</h1><p>1. You must be {age} or older to use the Service.</p>"
             f"</main></body></html>".encode() for age in (13, 16)]
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (source,)),))
    store.catalog.sync_catalog([spec], now=T0)
    (doc,) = store.catalog.documents()
    for when, body in ((T0, pages[0]), (T0 + DAY / 2, pages[0]), (T0 + DAY, pages[1])):
        old_text = extract_document([(body, "text/html", URL, source)]) + "\nPrinted by an older extractor\n"
        snap = Snapshot(sha256_bytes(body), doc.id, URL, URL, 200, "text/html", when, size=len(body))
        store.recording.record_text(doc.id, snapshot=snap, body=body, text=old_text, started_at=when, finished_at=when)
    originals = [v.sha256 for v in document_timeline(store, doc.id).versions]

    report = reprocess(store, [doc], analyze=Analyzer())
    assert report.errors == [] and report.new_versions == 2
    timeline = document_timeline(store, doc.id)
    rebuilt = [sha256_text(extract_document([(body, "text/html", URL, source)])) for body in pages]
    assert [timeline.version(sha).superseded_by for sha in originals] == rebuilt
    assert [(p.version, p.start, p.end) for p in timeline.periods] == [
        (rebuilt[0], T0, T0 + DAY), (rebuilt[1], T0 + DAY, None)]
    assert timeline.in_force(T0 + DAY * 3 / 4)[1].sha256 == rebuilt[0]
    assert timeline.in_force(T0 + 2 * DAY)[1].sha256 == store.history.current_version(doc.id).version.sha256 == rebuilt[1]


def test_a_second_rebuild_replaces_what_the_first_said_each_fetch_reads_as(store, history):
    # Fetches re-read as X, Y, X, Y, then a second rebuild reading them all as they were recorded: guessed from the
    # snapshots the versions are linked to, the timeline kept readings of the first rebuild, and one version row
    # reused by two runs covered the gap between them.
    v1, v2 = sha256_text(normalize_text(V1)), sha256_text(normalize_text(V2))
    x, y = (V1.replace("Delaware", f"Delaware ({name})") for name in ("x", "y"))
    hour = T0 + timedelta(hours=1)
    _rebuild(store, history, (x, V1, T0, T0), (y, V1, hour, hour), (V2, V2, T0 + DAY, T0 + DAY),
             (x, V1, T0 + 2 * DAY, T0 + 2 * DAY))
    timeline = document_timeline(store, history)
    assert [p.version for p in timeline.periods] == [sha256_text(normalize_text(text)) for text in (x, y, V2, x)]

    _rebuild(store, history, (V1, V1, T0, hour), (V2, V2, T0 + DAY, T0 + DAY), (V1, V1, T0 + 2 * DAY, T0 + 2 * DAY))
    timeline = document_timeline(store, history)
    assert [(p.version, p.start) for p in timeline.periods] == [(v1, T0), (v2, T0 + DAY), (v1, T0 + 2 * DAY)]
    assert load_timelines(store)[history] == timeline

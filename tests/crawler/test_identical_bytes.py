"""A re-fetch of the very bytes the current text was extracted from, under the same rules, is recorded as
unchanged without extracting it again; any other fetch is extracted as before (decision 0014, eighth pass).
The crawl records such fetches in batches, one transaction each, with the evidence one-by-one recording
writes (ninth pass)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import crawler.extraction_key
import crawler.pipelines
import crawler.recorder
from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from analysis.evidence import LogLeaf
from analysis.text import sha256_bytes
from clausewatch.loopback_site import Page
from crawler.items import FetchedDocument, FetchedPart, NotModifiedDocument
from crawler.recorder import Recorder
from store.capture_log import REVISIT_IDENTICAL, CaptureLog
from store.log_check import check_log
from store.recording import IdenticalFetch
from store.repository import UnknownDocumentError
from store.tables import CaptureRecordRow, DocumentRow, FetchRow, LogEntryRow, SnapshotRow, VersionRow
from store.volatile import volatile_values

DOC = "CW-D-00001"
POLICY = """<html><head><title>Terms</title></head><body><nav>Home | Pricing</nav>
<main id="terms"><h1>Terms of Service</h1>
<h2>1. Termination</h2><p>We may suspend your account at any time for any reason.</p>
<h2>2. Governing law</h2><p>These terms are governed by the laws of Ireland.</p>
</main><section id="privacy"><h1>Privacy</h1><p>We keep your data for {days} days.</p></section>
<footer>© 2026 Acme{footer}</footer></body></html>"""


def policy(days: int = 30, footer: str = "") -> bytes:
    return POLICY.format(days=days, footer=footer).encode()


@pytest.fixture
def extractions(monkeypatch) -> list[str]:
    """The documents extracted, in order: the real extractor, counted."""
    seen: list[str] = []
    real = crawler.recorder._extract

    def counted(item, rules):
        seen.append(item.document_id)
        return real(item, rules)

    monkeypatch.setattr(crawler.recorder, "_extract", counted)
    return seen


def acme(*sources: SourceSpec) -> list[PlatformSpec]:
    return [PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", sources),))]


def outcome(report) -> str:
    [result] = report.results
    return result.outcome


def fetches(store) -> list[FetchRow]:
    with store.session() as session:
        return list(session.scalars(select(FetchRow).order_by(FetchRow.id)))


def test_identical_bytes_are_recorded_unchanged_without_extracting_with_the_same_evidence(
        store, site, run_crawl, extractions):
    site.conditional = False  # no ETag, no Last-Modified: every fetch gets the whole body
    site.set("/terms", Page(policy()))
    platforms = acme(SourceSpec(site.url("/terms")))

    assert outcome(run_crawl(store, platforms)) == "new_version"
    assert extractions == [DOC]  # the first fetch has no key: extracted
    first_verified = store.history.current_version(DOC).version.last_verified

    assert [outcome(run_crawl(store, platforms)) for _ in range(2)] == ["unchanged", "unchanged"]
    assert extractions == [DOC]  # never again

    current = store.history.current_version(DOC)
    assert len(store.history.versions(DOC)) == 1 and current.version.last_verified >= first_verified
    rows = fetches(store)
    assert [r.outcome for r in rows] == ["new_version", "unchanged", "unchanged"]
    assert len({r.snapshot_id for r in rows}) == 1 and all(r.snapshot_id for r in rows)
    with store.session() as session:
        version = session.scalar(select(VersionRow))
        assert {r.version_id for r in rows} == {version.id}
        assert session.scalar(select(DocumentRow.extraction_text_sha256)) == version.sha256
    assert store.verify() == []
    assert check_log(store, None).problems == []  # every fetch has its capture record in the log


def test_new_bytes_with_the_same_text_are_extracted_then_keyed(store, site, run_crawl, extractions):
    site.conditional = False
    site.set("/terms", Page(policy()))
    platforms = acme(SourceSpec(site.url("/terms")))
    run_crawl(store, platforms)

    site.set("/terms", Page(policy(footer=" Inc.")))  # page furniture only: the same text, other bytes
    assert outcome(run_crawl(store, platforms)) == "unchanged"
    assert extractions == [DOC, DOC]
    assert outcome(run_crawl(store, platforms)) == "unchanged"
    assert extractions == [DOC, DOC]  # the new bytes are now the key's
    assert len(store.history.snapshots(DOC)) == 2 and len(store.history.versions(DOC)) == 1


def test_changed_bytes_are_extracted_and_make_a_version(store, site, run_crawl, extractions):
    site.conditional = False
    site.set("/terms", Page(policy()))
    platforms = acme(SourceSpec(site.url("/terms")))
    run_crawl(store, platforms)

    site.set("/terms", Page(policy(days=90)))
    assert outcome(run_crawl(store, platforms)) == "new_version"
    assert "90 days" in store.history.current_version(DOC).text and extractions == [DOC, DOC]


def test_changed_rules_extract_the_same_bytes_again(store, site, run_crawl, extractions):
    site.conditional = False
    site.set("/terms", Page(policy()))
    run_crawl(store, acme(SourceSpec(site.url("/terms"), select=("#terms",))))
    assert "Privacy" not in store.history.current_version(DOC).text

    # The catalog now selects the privacy section too: the same bytes give another text.
    widened = acme(SourceSpec(site.url("/terms"), select=("#terms", "#privacy")))
    assert outcome(run_crawl(store, widened)) == "new_version"
    assert extractions == [DOC, DOC] and "30 days" in store.history.current_version(DOC).text
    assert outcome(run_crawl(store, widened)) == "unchanged" and extractions == [DOC, DOC]


def test_another_extractor_extracts_the_same_bytes_again(store, site, run_crawl, extractions, monkeypatch):
    site.conditional = False
    site.set("/terms", Page(policy()))
    platforms = acme(SourceSpec(site.url("/terms")))
    run_crawl(store, platforms)

    monkeypatch.setattr(crawler.extraction_key, "extractor_fingerprint", lambda: "an extractor of tomorrow")
    assert outcome(run_crawl(store, platforms)) == "unchanged"
    assert extractions == [DOC, DOC]


def test_a_combined_document_with_one_page_changed_is_extracted(store, site, run_crawl, extractions):
    site.conditional = False
    site.set("/a", Page(b"<main><h1>Part A</h1><p>First part of the policy text.</p></main>"))
    site.set("/b", Page(b"<main><h1>Part B</h1><p>Second part of the policy text.</p></main>"))
    platforms = acme(SourceSpec(site.url("/a")), SourceSpec(site.url("/b")))
    run_crawl(store, platforms)
    assert outcome(run_crawl(store, platforms)) == "unchanged" and extractions == [DOC]

    site.set("/b", Page(b"<main><h1>Part B</h1><p>Second part of the policy text, amended.</p></main>"))
    assert outcome(run_crawl(store, platforms)) == "new_version"
    assert extractions == [DOC, DOC] and "amended" in store.history.current_version(DOC).text
    # Both pages are linked to the new version with where each begins, as an extracted fetch links them.
    assert outcome(run_crawl(store, platforms)) == "unchanged" and extractions == [DOC, DOC]
    with store.session() as session:
        assert len(session.scalars(select(SnapshotRow)).all()) == 3


def test_bytes_back_to_the_current_version_while_values_are_watched_are_extracted(
        store, site, run_crawl, extractions):
    site.conditional = False
    page = """<html><body><main><h1>Terms</h1><p>Visits today: {visits:,}</p>
<p>We may suspend your account at any time.</p><p class="ref">Request {nonce}</p></main></body></html>"""
    first = page.format(visits=1000, nonce=uuid.uuid4().hex).encode()
    site.set("/terms", Page(first))
    platforms = acme(SourceSpec(site.url("/terms")))
    run_crawl(store, platforms)

    site.set("/terms", Page(page.format(visits=1037, nonce=uuid.uuid4().hex).encode()))
    assert outcome(run_crawl(store, platforms)) == "unchanged"  # held: candidates are being watched
    assert any(v.state == "candidate" for v in volatile_values(store)[DOC])

    # The very bytes of the current version again: extracted, which is what ends the watch.
    site.set("/terms", Page(first))
    assert outcome(run_crawl(store, platforms)) == "unchanged"
    assert extractions == [DOC, DOC, DOC]
    assert not any(v.state == "candidate" for v in volatile_values(store).get(DOC, ()))


def test_a_key_for_a_text_that_is_no_longer_current_is_not_used(store, site, run_crawl, extractions):
    site.conditional = False
    site.set("/terms", Page(policy()))
    platforms = acme(SourceSpec(site.url("/terms")))
    run_crawl(store, platforms)
    # Another writer (an import, a reprocess) made another version current without a key of its own.
    store.recording.record_text(DOC, snapshot=store.history.snapshots(DOC)[0], body=policy(),
                                text="Terms of Service\n\nAnother text.", started_at=datetime.now(UTC),
                                finished_at=datetime.now(UTC))

    assert outcome(run_crawl(store, platforms)) == "new_version"
    assert extractions == [DOC, DOC] and "Ireland" in store.history.current_version(DOC).text


def test_the_key_covers_every_input_of_an_extraction():
    from analysis.volatile import VolatileRules
    from crawler.extraction_key import extraction_key

    part = {"sha256": "a" * 64, "content_type": "text/html", "requested_url": "https://x.test/t",
            "final_url": "https://x.test/t", "source": {"url": "https://x.test/t", "select": ["main"]}}
    spec = {"name": "acme", "sources": [part["source"]]}
    base = extraction_key(spec, VolatileRules(), [part])
    assert extraction_key(spec, VolatileRules(), [dict(part)]) == base
    others = [
        extraction_key({**spec, "volatile": ["x"]}, VolatileRules(), [part]),
        extraction_key(spec, VolatileRules(params=frozenset({"sid"})), [part]),
        extraction_key(spec, VolatileRules(learned_texts=("Visits: {*}",)), [part]),
        extraction_key(spec, VolatileRules(), [part, part]),
        *(extraction_key(spec, VolatileRules(), [{**part, field: "other"}]) for field in part),
    ]
    assert base not in others and len(set(others)) == len(others)


# --- Identical pages recorded in batches (decision 0014, ninth pass) -----------------------------------------------

PAGES = 12


def numbered_pages(site) -> list[PlatformSpec]:
    site.conditional = False
    for number in range(PAGES):
        site.set(f"/p/{number}", Page(policy(days=number + 1)))
    sources = [SourceSpec(site.url(f"/p/{n}")) for n in range(PAGES)]
    return [PlatformSpec(f"p{n}", f"P{n}", (DocumentSpec(f"p{n}", "Terms of Service", (sources[n],)),))
            for n in range(PAGES)]


@pytest.fixture
def batch_sizes(store, monkeypatch) -> list[int]:
    """How many fetches each call of ``record_identical_many`` was given (the real method, counted)."""
    sizes: list[int] = []
    real = store.recording.record_identical_many

    def counted(fetches):
        sizes.append(len(fetches))
        return real(fetches)

    monkeypatch.setattr(store.recording, "record_identical_many", counted)
    return sizes


def evidence(store, run_id: str) -> dict[str, tuple]:
    """What a run recorded for each document, without what differs from run to run (times, WARC record ids, heads):
    the fetch, its snapshot and version, its capture records (which original each revisit names) and its log leaf."""
    with store.session() as session:
        rows = session.execute(
            select(DocumentRow.public_id, FetchRow, SnapshotRow.sha256, VersionRow.sha256)
            .join(DocumentRow, DocumentRow.id == FetchRow.document_id)
            .outerjoin(SnapshotRow, SnapshotRow.id == FetchRow.snapshot_id)
            .outerjoin(VersionRow, VersionRow.id == FetchRow.version_id)
            .where(FetchRow.run_id == run_id)).all()
        captures = {fetch.id: [(c.part, c.url, c.status, c.record_type, c.profile, c.payload_sha256,
                                c.refers_to_record_id, c.refers_to_uri, c.refers_to_date)
                               for c in session.scalars(select(CaptureRecordRow).where(
                                   CaptureRecordRow.fetch_id == fetch.id).order_by(CaptureRecordRow.part))]
                    for _document, fetch, _snapshot, _version in rows}
        leaves = {entry.fetch_id: LogLeaf.decode(entry.leaf) for entry in session.scalars(select(LogEntryRow))}
    found = {}
    for document, fetch, snapshot, version in rows:
        leaf = leaves[fetch.id]
        found[document] = (fetch.outcome, fetch.error_kind, snapshot, version, captures[fetch.id],
                           (leaf.document, leaf.url, leaf.outcome, leaf.status, leaf.snapshot, leaf.version,
                            len(leaf.records)))
    assert len(found) == len(rows)  # one fetch per document and run
    return found


def test_identical_pages_are_recorded_in_batches_with_the_evidence_one_by_one_recording_writes(
        store, site, run_crawl, extractions, batch_sizes, monkeypatch):
    platforms = numbered_pages(site)
    first = run_crawl(store, platforms)
    assert first.counts == {"new_version": PAGES} and batch_sizes == []  # no key yet: nothing to batch

    batched = run_crawl(store, platforms)
    assert batched.counts == {"unchanged": PAGES} and len(extractions) == PAGES
    assert sum(batch_sizes) == PAGES and max(batch_sizes) > 1  # several pages per transaction
    with store.session() as session:  # each version verified again by the batched fetch
        for fetch in session.scalars(select(FetchRow).where(FetchRow.run_id == batched.run_id)):
            assert session.get(VersionRow, fetch.version_id).last_verified == fetch.finished_at

    # The same re-sent pages again, each recorded alone as before batching.
    monkeypatch.setattr(crawler.pipelines, "BATCHED", {NotModifiedDocument: "record_not_modified_batch"})
    del batch_sizes[:]
    alone = run_crawl(store, platforms)
    assert alone.counts == {"unchanged": PAGES} and batch_sizes == [1] * PAGES and len(extractions) == PAGES

    recorded = evidence(store, batched.run_id)
    assert recorded == evidence(store, alone.run_id)
    captures = [capture for *_fetch, records, _leaf in recorded.values() for capture in records]
    assert len(captures) == PAGES and {(c[3], c[4]) for c in captures} == {("revisit", REVISIT_IDENTICAL)}
    assert all(c[6] for c in captures)  # each names the first run's archived response
    assert [entry.index for entry in CaptureLog(store).entries()] == list(range(3 * PAGES))  # no gap, no duplicate
    assert store.verify() == []
    assert check_log(store, None).problems == []  # every leaf matches what verify recomputes


def test_a_batch_is_recorded_once_its_pages_fill_half_of_what_scrapy_holds_for_recording(
        store, site, run_crawl, batch_sizes):
    platforms = numbered_pages(site)
    padding = " Acme" * 14_000  # ~70 KB pages: two fill half of SCRAPER_SLOT_MAX_ACTIVE_SIZE (256 KB)
    for number in range(PAGES):
        site.set(f"/p/{number}", Page(policy(days=number + 1, footer=padding)))
    run_crawl(store, platforms)

    assert run_crawl(store, platforms).counts == {"unchanged": PAGES}
    # Past those 256 KB Scrapy downloads nothing more until responses are recorded: batches of
    # two are recorded at once, not after a window in which no third page could arrive.
    assert sum(batch_sizes) == PAGES and max(batch_sizes) <= 2


def test_pages_of_a_batch_that_changed_are_extracted_alone_and_the_others_recorded_together(
        store, site, run_crawl, extractions, batch_sizes):
    platforms = numbered_pages(site)
    run_crawl(store, platforms)  # extracts and keys every page

    for number in (2, 7):
        site.set(f"/p/{number}", Page(policy(days=90 + number)))
    site.set("/p/5", Page(policy(days=6, footer=" Inc.")))  # other bytes, the same text
    second = run_crawl(store, platforms)

    assert second.counts == {"unchanged": PAGES - 2, "new_version": 2}
    changed = ["CW-D-00003", "CW-D-00006", "CW-D-00008"]
    assert sorted(extractions[PAGES:]) == changed  # only those were extracted
    assert sum(batch_sizes) == PAGES - len(changed)  # the others were recorded in batches
    assert "92 days" in store.history.current_version("CW-D-00003").text
    assert check_log(store, None).problems == []


def test_a_fetch_that_fails_a_check_in_the_transaction_writes_nothing_and_the_others_are_recorded(
        store, site, run_crawl):
    run_crawl(store, numbered_pages(site))
    now = datetime.now(UTC)

    def fetch(document_id: str, key: str | None = None) -> IdenticalFetch:
        with store.session() as session:
            doc = session.scalar(select(DocumentRow).where(DocumentRow.public_id == document_id))
        [snapshot] = store.history.snapshots(document_id)
        return IdenticalFetch(document_id, key or doc.extraction_key, [(snapshot, site_body(site, document_id))],
                              now, now, "r1")

    recorded = store.recording.record_identical_many(
        [fetch("CW-D-00001"), fetch("CW-D-00002", key="another key"), fetch("CW-D-00003")])

    assert [r.outcome if r else None for r in recorded] == ["unchanged", None, "unchanged"]
    assert set(evidence(store, "r1")) == {"CW-D-00001", "CW-D-00003"}  # nothing of the refused one
    assert check_log(store, None).problems == []


def test_a_batch_naming_an_unknown_document_records_nothing_and_each_is_then_recorded_alone(
        store, site, run_crawl, extractions):
    run_crawl(store, numbered_pages(site))
    before = len(fetches(store))
    now = datetime.now(UTC)
    [snapshot] = store.history.snapshots("CW-D-00001")
    source = SourceSpec(site.url("/p/0"))
    known = FetchedDocument("CW-D-00001", now, now, [FetchedPart(snapshot, site_body(site, "CW-D-00001"), source)])
    unknown = FetchedDocument("CW-D-99999", now, now, [FetchedPart(snapshot, site_body(site, "CW-D-00001"), source)])

    recorder = Recorder(store, analyze=None, run_id="r1")
    with pytest.raises(UnknownDocumentError, match="CW-D-99999"):
        recorder.record_identical_batch([known, unknown])
    assert len(fetches(store)) == before and recorder.counts == {}

    # What the pipeline does with a batch that failed as a whole: each item alone.
    assert recorder.record(known).outcome == "unchanged" and len(extractions) == PAGES
    assert recorder.counts == {"unchanged": 1}
    assert check_log(store, None).problems == []


def site_body(site, document_id: str) -> bytes:
    """The bytes the site serves for a document of :func:`numbered_pages`."""
    return policy(days=int(document_id[-5:]))


def test_a_fetch_a_batch_left_is_recorded_with_the_volatile_state_the_batch_read(store, site, run_crawl,
                                                                                 monkeypatch):
    run_crawl(store, numbered_pages(site))  # every page extracted and keyed
    now = datetime.now(UTC)
    [snapshot] = store.history.snapshots("CW-D-00002")
    source = SourceSpec(site.url("/p/1"))
    edited = policy(days=60)
    changed = FetchedDocument("CW-D-00002", now, now, [FetchedPart(
        replace(snapshot, sha256=sha256_bytes(edited), size=len(edited)), edited, source)])
    reads: list[str] = []
    real = crawler.recorder.volatile_state

    def counted(store, document_id):
        reads.append(document_id)
        return real(store, document_id)

    monkeypatch.setattr(crawler.recorder, "volatile_state", counted)
    recorder = Recorder(store, analyze=None, run_id="r1")
    assert recorder.record_identical_batch([changed]) == [None]  # other bytes: left to be extracted alone

    assert recorder.record(changed).outcome == "new_version" and reads == []  # the batch's read was enough
    assert "60 days" in store.history.current_version("CW-D-00002").text
    # A state is used once: the same fetch again reads the document afresh (its new version is current).
    assert recorder.record(changed).outcome == "unchanged" and reads == ["CW-D-00002"]
    assert check_log(store, None).problems == []

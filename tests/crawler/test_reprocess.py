"""crawler/reprocess.py: versions rebuilt from stored snapshots are technical and never alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.pipeline import Analyzer
from analysis.text import sha256_bytes
from crawler.extract import extract_document
from crawler.reprocess import reprocess
from store.change_records import list_changes

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
URL = "https://acme.example/terms"
SOURCE = SourceSpec(URL)
PAGES = [
    "<html><body><main><h1>Terms</h1><p>1. You must be 13 or older to use the Service at all.</p>"
    "<p>2. We may suspend your account if you break these Terms of Service.</p></main></body></html>",
    "<html><body><main><h1>Terms</h1><p>1. You must be 16 or older to use the Service at all.</p>"
    "<p>2. We may suspend your account if you break these Terms of Service.</p></main></body></html>",
]


def _snapshot(document_id: str, body: bytes, at: datetime) -> Snapshot:
    return Snapshot(sha256_bytes(body), document_id, URL, URL, 200, "text/html; charset=utf-8", at, size=len(body))


def _crawl_with_an_older_extractor(store, document_id: str) -> None:
    """Record both pages as an older extractor would have: with a footer it no longer keeps."""
    for day, page in enumerate(PAGES):
        body, at = page.encode(), T0 + timedelta(days=day)
        text = extract_document([(body, "text/html", URL, SOURCE)]) + "\nPrinted on day " + str(day) + "\n"
        store.recording.record_text(document_id, snapshot=_snapshot(document_id, body, at), body=body, text=text,
                                    started_at=at, finished_at=at, analyze=Analyzer())


def test_reprocess_rebuilds_versions_as_technical_changes(store):
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SOURCE,)),))
    store.catalog.sync_catalog([spec], now=T0)
    [document] = store.catalog.documents()
    _crawl_with_an_older_extractor(store, document.id)
    assert len(list_changes(store)) == 1

    old = [v.version.sha256 for v in store.history.versions(document.id)]

    report = reprocess(store, [document], analyze=Analyzer())
    assert report.errors == [] and report.replayed == 2 and report.new_versions == 2 and report.folded == 2
    current = store.history.current_version(document.id)
    assert current.text == extract_document([(PAGES[1].encode(), "text/html", URL, SOURCE)])
    assert current.version.technical and "Printed on" not in current.text
    assert current.clauses  # analysed like any version
    # The rebuilds are technical: not listed, never pending for alerts; the old
    # versions left the history, with the change between them.
    assert list_changes(store) == [] and list_changes(store, pending_alert=True) == []
    technical = list_changes(store, include_technical=True)
    assert len(technical) == 1 and technical[0].technical and technical[0].to_version == current.version.sha256
    history = store.history.versions(document.id)
    assert len(history) == 2 and len(store.history.versions(document.id, include_folded=True)) == 4
    # A citation of an old version still resolves, to the version it is now equal to.
    assert [store.history.resolve_version(document.id, sha).version.sha256 for sha in old] == [
        v.version.sha256 for v in history]

    again = reprocess(store, [document], analyze=Analyzer())
    assert again.replayed == 0 and again.new_versions == 0 and again.folded == 0
    assert len(store.history.versions(document.id)) == 2


def test_reprocess_folds_noise_versions_an_older_extractor_recorded(store):
    """A link carrying a fresh per-visit id made a version per fetch; reprocess keeps the real edits only."""
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SOURCE,)),))
    store.catalog.sync_catalog([spec], now=T0)
    [document] = store.catalog.documents()
    page = ('<main><h1>Terms</h1><p>1. You must be {age} or older. See <a href="/pricing?did={did}">pricing</a>.</p>'
            "<p>2. We may suspend your account if you break these Terms of Service.</p></main>")
    ages = [13] * 6 + [16] * 4
    for fetch, age in enumerate(ages):
        body, at = page.format(age=age, did=f"{fetch:08x}-7b4d-4e2a-9f1c-0a1b2c3d4e5f").encode(), T0 + timedelta(hours=fetch)
        # What the extractor recorded before per-visit tokens were dropped.
        text = extract_document([(body, "text/html", URL, SOURCE)]).replace(
            "/pricing)", f"/pricing?did={fetch:08x}-7b4d-4e2a-9f1c-0a1b2c3d4e5f)")
        store.recording.record_text(document.id, snapshot=_snapshot(document.id, body, at), body=body, text=text,
                                    started_at=at, finished_at=at, analyze=Analyzer())
    noisy = store.history.versions(document.id)
    assert len(noisy) == 10

    report = reprocess(store, [document], analyze=Analyzer())

    history = store.history.versions(document.id)
    assert report.new_versions == 2 and report.folded == 10
    assert ["13 or older" in v.text for v in history] == [True, False]
    assert all("did=" not in v.text for v in history)
    assert history[0].version.first_seen == T0 and history[1].version.first_seen == T0 + timedelta(hours=6)
    # Every noisy version still resolves: to the version of its own text.
    resolved = [store.history.resolve_version(document.id, v.version.sha256).version.sha256 for v in noisy]
    assert resolved == [history[0].version.sha256] * 6 + [history[1].version.sha256] * 4
    [shown] = list_changes(store, include_technical=True)
    assert shown.technical and shown.from_version == history[0].version.sha256
    # Folded changes are kept in the store but never listed (nor alerted).
    assert list_changes(store, pending_alert=True) == []


def test_reprocess_of_a_combined_document_reads_unchanged_parts_from_their_first_fetch(store, site, run_crawl):
    from clausewatch.loopback_site import Page

    site.conditional = False
    site.set("/b", Page(b"<main><h1>Part B</h1><p>Second part of the policy, never edited.</p></main>"))
    sources = (SourceSpec(site.url("/a")), SourceSpec(site.url("/b")))
    acme = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", sources),))
    for edit in ("first", "second", "second", "third"):
        site.set("/a", Page(f"<main><h1>Part A</h1><p>The {edit} wording of part A.</p></main>".encode()))
        run_crawl(store, [acme])
    [document] = store.catalog.documents()
    assert len(store.history.versions(document.id)) == 3

    report = reprocess(store, [document], analyze=Analyzer())

    assert report.errors == [] and report.new_versions == 0 and report.folded == 0
    assert ["third" in v.text and "Part B" in v.text for v in store.history.versions(document.id)] == [False, False, True]


def test_a_document_whose_snapshot_is_missing_fails_in_one_line_without_a_traceback(store, caplog):
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SOURCE,)),))
    store.catalog.sync_catalog([spec], now=T0)
    [document] = store.catalog.documents()
    _crawl_with_an_older_extractor(store, document.id)
    history = [v.version.sha256 for v in store.history.versions(document.id)]
    missing = sha256_bytes(PAGES[1].encode())
    store.blobs.path(missing).unlink()

    report = reprocess(store, [document], analyze=Analyzer())

    assert report.errors == [f"{document.id}: blob {missing} is missing from {store.blobs.root}"]
    assert report.failed == 1 and report.new_versions == 0
    assert not [record for record in caplog.records if record.exc_info]  # the line says it all
    assert [v.version.sha256 for v in store.history.versions(document.id)] == history  # left as it was


def test_reprocess_of_a_combined_document_whose_first_page_never_changed_keeps_a_later_pages_change(
        store, site, run_crawl):
    # Snapshots are stored once per distinct bytes: every fetch had the same first page, and grouping fetches by it
    # read them all as the first fetch, with its second page. The change of the second page was folded away
    # ("runs=1 new=0 folded=1"): gone from `changes`, one version in `status`. Each fetch's pages now come from
    # its capture records.
    from clausewatch.loopback_site import Page

    site.conditional = False
    site.set("/a", Page(b"<main><h1>Privacy</h1><p>We collect your email address to run the service.</p></main>"))
    sources = (SourceSpec(site.url("/a")), SourceSpec(site.url("/b")))
    acme = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Privacy Policy", sources),))
    for wording in ("We do not sell your personal data.", "We do not sell your personal data.",
                    "We may sell your personal data to advertisers."):
        site.set("/b", Page(f"<main><h2>Sharing</h2><p>{wording}</p></main>".encode()))
        run_crawl(store, [acme])
    [document] = store.catalog.documents()
    before = [v.version.sha256 for v in store.history.versions(document.id)]
    assert len(before) == 2 and len(list_changes(store)) == 1

    report = reprocess(store, [document], analyze=Analyzer())

    assert report.errors == [] and report.new_versions == 0 and report.folded == 0
    assert [v.version.sha256 for v in store.history.versions(document.id)] == before
    assert ["may sell" in v.text for v in store.history.versions(document.id)] == [False, True]
    assert len(list_changes(store)) == 1


def test_reprocess_reads_each_fetch_under_the_declaration_in_force_when_it_was_fetched(store, site, run_crawl):
    # The same bytes fetched before and after the declaration changed are one snapshot, stamped with the first
    # fetch's time: reading every fetch under the declaration of its snapshot's time folded the version the new
    # declaration made, and the next crawl recorded it again, the two flip-flopping for good.
    from analysis.domain import HistoricalDeclaration
    from clausewatch.loopback_site import Page

    site.conditional = False
    site.set("/terms", Page(b"<main><h1>Terms</h1><p>You may cancel at any time from your account page.</p>"
                            b"<h2>Advertising</h2><p>Our partners show you offers chosen for you.</p></main>"))
    old = (SourceSpec(site.url("/terms")),)
    run_crawl(store, [PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", old),))])
    changed_at = datetime.now(UTC)
    new = (SourceSpec(site.url("/terms"), remove=("h2", "h2 + p")),)
    acme = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", new,
                                                      history=(HistoricalDeclaration(changed_at, old),)),))
    run_crawl(store, [acme])
    [document] = store.catalog.documents()
    before = [v.version.sha256 for v in store.history.versions(document.id)]
    assert len(before) == 2

    report = reprocess(store, [document], analyze=Analyzer())

    assert report.errors == [] and report.folded == 0
    assert [v.version.sha256 for v in store.history.versions(document.id)] == before
    assert run_crawl(store, [acme]).results[0].outcome == "unchanged"

"""A re-fetch of the very bytes the current text was extracted from, under the same rules, is recorded as
unchanged without extracting it again; any other fetch is extracted as before (decision 0014, eighth pass)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import crawler.extraction_key
import crawler.recorder
from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page
from store.log_check import check_log
from store.tables import DocumentRow, FetchRow, SnapshotRow, VersionRow
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

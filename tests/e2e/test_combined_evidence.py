"""A document combined from several pages: each provision record cites the page its clauses came
from (URL, snapshot SHA-256, archive link), not the last page of the document, and the document's
own page shows the snapshot of every page, in the order the pages make up its text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from analysis.pipeline import Analyzer
from analysis.text import sha256_bytes
from clausewatch.loopback_site import LocalSite, Page
from crawler.crawl import CrawlOptions, crawl
from reports.site import build
from store.repository import Store

PAGE_1 = (b"<main><h1>Terms of Service</h1><h2>1. Disputes</h2><p>Any dispute arising from these terms shall be "
          b"resolved exclusively by final and binding arbitration, and you waive any right to a jury trial "
          b"or to participate in a class action.</p></main>")
PAGE_2 = (b"<main><h1>Additional Terms</h1><h2>9. Governing law</h2><p>These terms are governed by the laws of "
          b"the State of California, without regard to its conflict of laws rules.</p></main>")
OPTIONS = CrawlOptions(user_agent="clausewatch-tests/1", delay=0, concurrency=2, timeout=10, retries=0)


def _crawl_combined(tmp_path) -> tuple[Store, str, str]:
    """A store holding one document made of two pages, crawled; the two page URLs."""
    store = Store.open(f"sqlite:///{tmp_path / 'cw.db'}", tmp_path / "objects")
    with LocalSite({"/part-1": Page(PAGE_1), "/part-2": Page(PAGE_2)}) as site:
        spec = DocumentSpec("acme", "Terms of Service", (SourceSpec(site.url("/part-1")),
                                                         SourceSpec(site.url("/part-2"))))
        store.catalog.sync_catalog([PlatformSpec("acme", "Acme", (spec,))], now=datetime.now(UTC))
        documents = store.catalog.documents()
        report = crawl(store, documents, OPTIONS, analyze=Analyzer())
        assert report.counts == {"new_version": 1}
        return store, site.url("/part-1"), site.url("/part-2")


def test_each_record_cites_the_snapshot_of_the_page_its_clauses_came_from(tmp_path):
    store, page_1, page_2 = _crawl_combined(tmp_path)
    build(store, tmp_path / "site", base_url="https://cw.example/")
    records = {r["clause_type"]: r for r in json.loads((tmp_path / "site" / "export" / "records.json").read_text())["records"]}
    store.close()

    arbitration, law = records["arbitration"], records["governing_law"]
    assert (arbitration["source_url"], arbitration["snapshot_sha256"]) == (page_1, sha256_bytes(PAGE_1))
    assert arbitration["archive_link"].endswith("/" + page_1)
    assert (law["source_url"], law["snapshot_sha256"]) == (page_2, sha256_bytes(PAGE_2))

    page = (tmp_path / "site" / "records" / f"{arbitration['id']}.html").read_text()
    provenance = page[page.index('id="provenance"'):page.index('id="siblings"')]
    assert sha256_bytes(PAGE_1) in provenance and sha256_bytes(PAGE_2) not in provenance
    assert page_1 in provenance and page_2 not in provenance


def test_the_document_page_shows_the_snapshot_of_each_page_in_text_order(tmp_path):
    store, page_1, page_2 = _crawl_combined(tmp_path)
    build(store, tmp_path / "site", base_url="https://cw.example/")
    document_id = store.catalog.documents()[0].id
    store.close()

    page = (tmp_path / "site" / "documents" / f"{document_id}.html").read_text()
    provenance = page[page.index('id="provenance"'):]
    first, second = provenance.index(sha256_bytes(PAGE_1)), provenance.index(sha256_bytes(PAGE_2))
    assert first < second
    assert "Page 1 of 2" in provenance[:first] and "Page 2 of 2" in provenance[first:second]
    assert provenance.index(page_1) < first < provenance.index(page_2) < second
    assert provenance.count("Hash verified ✓") == 2

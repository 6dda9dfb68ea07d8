"""Every citation names one capture, whole: the page the cited clauses came from, that page's snapshot and capture
time in the fetch cited, and that fetch's entry in the capture log (store/citing.py). Crawled on loopback and read
through the real CLI; the record pages are the site's own.

Found by a review of 2026-12-01: a combined document's clauses were cited with its last page; a date was cited with
a capture made after it; a log entry was looked up by snapshot bytes, so another version's or another document's
capture of the same bytes was named; after `reprocess`, every clause of a combined document cited its last page.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from analysis.text import sha256_bytes
from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page
from store.capture_log import CaptureLog
from store.repository import Store
from store.site_data import load_site_data
from store.timeline import document_timeline


def _page(title: str, heading: str, text: str) -> Page:
    return Page(f"<html><body><main><h1>{title}</h1><h2>{heading}</h2><p>{text}</p></main></body></html>".encode())


DISPUTES = _page("Part one", "1. Disputes", "You agree to binding arbitration of any dispute. Class actions are waived.")
LAW = _page("Part two", "2. Law", "These terms are governed by the laws of Ireland.")
LAW_2 = _page("Part two", "2. Law", "These terms are governed by the laws of the State of New York.")


def _home(root: Path, documents: str) -> list[str]:
    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text(f"name: Acme\nslug: acme\ndocuments:\n{documents}")
    base = ["--home", str(root / "home"), "--catalog", str(catalog)]
    _ok(base, "init")
    return base


def _ok(base: list[str], *args: str) -> str:
    result = CliRunner().invoke(main, [*base, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _field(citation: str, name: str) -> str:
    return re.search(rf"^{name}: (.+)$", citation, re.MULTILINE).group(1)


def _store(root: Path) -> Store:
    return Store.open(f"sqlite:///{root / 'home' / 'clausewatch.db'}", root / "home" / "objects")


def _entries(root: Path) -> list:
    store = _store(root)
    try:
        return [entry.decoded for entry in CaptureLog(store).entries()]
    finally:
        store.close()


def _arbitration_record(root: Path) -> str:
    store = _store(root)
    try:
        return next(p.id for d in load_site_data(store).documents for p in d.provisions if p.clause_type == "arbitration")
    finally:
        store.close()


def _two_pages(tmp_path: Path, site: LocalSite) -> list[str]:
    return _home(tmp_path, f"  - type: Terms of Service\n    sources:\n      - url: {site.url('/part1')}\n"
                           f"      - url: {site.url('/part2')}\n")


def test_a_clause_of_a_combined_document_is_cited_with_its_own_page_in_the_capture_of_its_version(tmp_path):
    with LocalSite({"/part1": DISPUTES, "/part2": LAW}) as site:
        base = _two_pages(tmp_path, site)
        _ok(base, "crawl", "--delay", "0")
        site.set("/part2", LAW_2)  # a second version; page 1 keeps its bytes
        _ok(base, "crawl", "--delay", "0")
        part1 = site.url("/part1")
    assert [leaf.outcome for leaf in _entries(tmp_path)] == ["new_version", "new_version"]
    record = _arbitration_record(tmp_path)

    cited = _ok(base, "show", record, "--cite")  # the clause's page, in the capture of the version in force
    assert _field(cited, "Snapshot SHA-256") == sha256_bytes(DISPUTES.body)
    assert _field(cited, "Captured from") == part1
    assert _field(cited, "Capture log entry") == "1"  # not entry 0, version 1's capture of the same bytes

    _ok(base, "site", "--out", str(tmp_path / "site"))
    page = (tmp_path / "site" / "records" / f"{record}.html").read_text()
    citation = page[page.index("Entity:"):page.index("@misc")]
    assert sha256_bytes(DISPUTES.body) in citation and sha256_bytes(LAW_2.body) not in citation
    assert re.search(r"Capture log entry: 1\b", citation) and part1 in citation


def test_after_reprocess_each_clause_of_a_combined_document_still_cites_its_own_page(tmp_path):
    with LocalSite({"/part1": DISPUTES, "/part2": LAW}) as site:
        base = _two_pages(tmp_path, site)
        _ok(base, "crawl", "--delay", "0")
        part1 = site.url("/part1")
    catalog = tmp_path / "catalog" / "acme.yaml"  # a rule that changes the texts: reprocess rebuilds the history
    catalog.write_text(catalog.read_text() + "    remove: [h1]\n")
    _ok(base, "init")
    _ok(base, "reprocess")
    record = _arbitration_record(tmp_path)

    cited = _ok(base, "show", record, "--cite")
    assert (_field(cited, "Snapshot SHA-256"), _field(cited, "Captured from")) == (sha256_bytes(DISPUTES.body), part1)
    _ok(base, "site", "--out", str(tmp_path / "site"))
    page = (tmp_path / "site" / "records" / f"{record}.html").read_text()
    provenance = page[page.index('id="provenance"'):page.index('id="siblings"')]
    assert sha256_bytes(DISPUTES.body) in provenance and sha256_bytes(LAW.body) not in provenance


def test_a_date_is_cited_with_the_latest_capture_by_then_never_a_later_one(tmp_path):
    terms = _page("Acme terms", "1. Disputes", "You agree to binding arbitration of any dispute in Alpha county.")
    again = Page(terms.body.replace(b"<main>", b"<nav>Menu</nav><main>"))  # the same text, other bytes
    other = _page("Acme terms", "1. Disputes", "You agree to binding arbitration of any dispute in Bravo county.")
    with LocalSite({"/terms": terms}, conditional=False) as site:  # every fetch a full capture, never a 304
        base = _home(tmp_path, f"  - type: Terms of Service\n    url: {site.url('/terms')}\n")
        for body in (terms, terms, other, again):
            site.set("/terms", body)
            _ok(base, "crawl", "--delay", "0")
    assert [leaf.outcome for leaf in _entries(tmp_path)] == ["new_version", "unchanged", "new_version",
                                                            "new_version"]
    store = _store(tmp_path)
    try:
        periods = document_timeline(store, "CW-D-00001").periods
    finally:
        store.close()
    first_period_end = periods[0].end
    assert first_period_end is not None and len(periods) == 3

    cited = _ok(base, "show", "CW-D-00001", "--at", (first_period_end - timedelta(microseconds=1)).isoformat(),
                "--cite")
    assert _field(cited, "Version SHA-256") == periods[0].version == periods[2].version
    assert _field(cited, "Snapshot SHA-256") == sha256_bytes(terms.body)  # not the later bytes of the same text
    assert _field(cited, "Capture log entry") == "1"  # the second fetch: the latest by then
    assert _field(cited, "Captured").replace("+00:00", "") < first_period_end.isoformat().replace("+00:00", "")

    now = _ok(base, "show", "CW-D-00001", "--cite")  # the same text, in force again: its latest capture
    assert (_field(now, "Snapshot SHA-256"), _field(now, "Capture log entry")) == (sha256_bytes(again.body), "3")


def test_two_documents_of_the_same_bytes_each_cite_their_own_capture(tmp_path):
    terms = _page("Terms", "1. Disputes", "You agree to binding arbitration of any dispute.")
    with LocalSite({"/a": terms, "/b": terms}) as site:
        base = _home(tmp_path, f"  - type: Terms of Service\n    url: {site.url('/a')}\n"
                               f"  - type: Privacy Policy\n    url: {site.url('/b')}\n")
        _ok(base, "crawl", "--delay", "0")
    entry_of = {leaf.document: index for index, leaf in enumerate(_entries(tmp_path))}
    assert len(entry_of) == 2
    for document_id, index in entry_of.items():
        cited = _ok(base, "show", document_id, "--cite")
        assert _field(cited, "Capture log entry") == str(index), document_id

"""Version pages, "view as of", provision histories and citations of the built site (files, no browser)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from bs4 import BeautifulSoup

from analysis.pipeline import Analyzer
from analysis.text import normalize_text, sha256_text
from reports.site import build
from reports.site.timetravel import version_slugs

BASE = "https://watch.example.org/cw/"


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def sha(text: str) -> str:
    return sha256_text(normalize_text(text))


def version_page(site: Path, document_id: str, text: str) -> Path:
    return site / "documents" / document_id / "versions" / f"{sha(text)[:16]}.html"


def without_status(path: Path) -> str:
    page = soup(path)
    page.find(id="status").decompose()
    return str(page)


def record_id(site: Path, platform: str, title: str) -> str:
    records = json.loads((site / "export/records.json").read_text())["records"]
    return next(r["id"] for r in records if r["platform"] == platform and r["title"] == title)


def test_every_version_has_a_page_named_by_document_and_hash(filled, tmp_path, site_kit):
    site = tmp_path / "site"
    build(filled.store, site, base_url=BASE)
    for doc_id, texts in ((filled.acme, (site_kit.ACME_V1, site_kit.ACME_V2)),
                          (filled.hostile, (site_kit.HOSTILE_V1, site_kit.HOSTILE_V2))):
        for text in texts:
            page = soup(version_page(site, doc_id, text))
            facts = page.find(id="version-facts").get_text()
            assert sha(text) in facts
            assert page.find("link", rel="canonical")["href"] == (
                f"{BASE}documents/{doc_id}/versions/{sha(text)[:16]}.html")
    old = soup(version_page(site, filled.acme, site_kit.ACME_V1))
    assert "A newer version of this document exists" in old.find(id="status").get_text()
    assert "without notice or reason" not in old.find(id="text").get_text()  # v1's own text, not the latest
    assert old.find(id="text").find(id=re.compile("^c-"))  # clause anchors
    snapshots = old.find(id="snapshots").get_text(" ")
    assert re.search(r"\b[0-9a-f]{64}\b", snapshots) and "Wayback Machine" in snapshots
    assert "2026-03-02 09:30:00 UTC" in old.find(id="captures").get_text()
    current = soup(version_page(site, filled.acme, site_kit.ACME_V2)).find(id="status").get_text()
    assert "in force at the last capture" in current


def test_rebuilding_after_a_new_version_leaves_old_version_pages_where_and_as_they_were(filled, tmp_path, site_kit):
    site = tmp_path / "site"
    build(filled.store, site, base_url=BASE)
    v1, v2 = (version_page(site, filled.acme, t) for t in (site_kit.ACME_V1, site_kit.ACME_V2))
    v1_bytes, v2_body = v1.read_bytes(), without_status(v2)
    v3 = site_kit.ACME_V2.replace("without notice or reason", "with thirty days' notice")
    site_kit.record(filled.store, filled.acme, "https://acme.test/terms", v3, site_kit.T0 + timedelta(days=2),
                    Analyzer(model=site_kit.keyword_classifier()))
    report = build(filled.store, site, base_url=BASE)
    written = set(report.written)
    new_page = version_page(site, filled.acme, v3)
    assert new_page.relative_to(site).as_posix() in written
    assert v1.read_bytes() == v1_bytes and v1.relative_to(site).as_posix() not in written
    assert v2.relative_to(site).as_posix() in written  # only its status: it is no longer current
    assert without_status(v2) == v2_body
    assert "A newer version of this document exists" in soup(v2).find(id="status").get_text()
    manifest = json.loads((site / ".clausewatch-manifest.json").read_text())["pages"]
    assert new_page.relative_to(site).as_posix() in manifest and not report.removed
    again = build(filled.store, site, base_url=BASE)
    assert again.written == [] and again.rendered == 0  # nothing changed: nothing rendered


def test_version_slugs_never_rename_an_earlier_version():
    first, clash = "ab" * 8 + "0" * 48, "ab" * 8 + "1" * 48
    assert version_slugs([first, clash]) == {first: "ab" * 8, clash: clash}
    assert version_slugs([first]) == {first: "ab" * 8}


def test_document_page_reaches_every_version_as_of_a_date(filled, tmp_path, site_kit):
    site = tmp_path / "site"
    build(filled.store, site, base_url=BASE)
    page = soup(site / "documents" / f"{filled.acme}.html")
    items = page.find(id="as-of-list").find_all("li")
    assert [li["data-from"] for li in items] == [(site_kit.T0 + timedelta(days=1)).isoformat(), site_kit.T0.isoformat()]
    targets = [li.find("a")["href"] for li in items]
    assert targets == [f"../documents/{filled.acme}/versions/{sha(t)[:16]}.html"
                       for t in (site_kit.ACME_V2, site_kit.ACME_V1)]
    assert page.find("script", src="../static/asof.js") and not page.find("script", src=None, type=None)


def test_provision_history_shows_every_wording_with_dates_and_a_redline(filled, tmp_path, site_kit):
    site = tmp_path / "site"
    build(filled.store, site, base_url=BASE)
    arbitration = record_id(site, "acme", "Arbitration")
    record = soup(site / "records" / f"{arbitration}.html")
    link = record.find(id="wordings").find("a")["href"]
    assert link == f"../records/{arbitration}/history.html"
    history = soup(site / "records" / arbitration / "history.html")
    wordings = history.find_all("section", class_="wording")
    assert [w["id"] for w in wordings] == ["wording-2", "wording-1"]  # newest first
    newest, oldest = wordings
    assert "2026-03-03 09:30:00 UTC" in newest.find("h2").get_text()
    assert "2026-03-02 09:30:00 UTC – 2026-03-03 09:30:00 UTC" in oldest.find("h2").get_text()
    redline = newest.find("blockquote", class_="redline")
    assert "binding" in redline.find("ins").get_text() and oldest.find("blockquote", class_="redline") is None
    assert newest.find("a", href=re.compile(r"versions/[0-9a-f]{16}\.html#c-"))
    # each wording cites the version in force on its first day, not the latest
    old_citation = oldest.find("pre", class_="citation").get_text()
    assert f"Version SHA-256: {sha(site_kit.ACME_V1)}" in old_citation and sha(site_kit.ACME_V2) not in old_citation
    assert f"Record ID: {arbitration}" in old_citation and "As it stood on: 2026-03-02" in old_citation


def test_citations_name_the_version_and_its_page(filled, tmp_path, site_kit):
    site = tmp_path / "site"
    build(filled.store, site, base_url=BASE)
    arbitration = record_id(site, "acme", "Arbitration")
    citation = soup(site / "records" / f"{arbitration}.html").find(id="citation").get_text()
    current = sha(site_kit.ACME_V2)
    assert f"Version SHA-256: {current}" in citation
    assert f"Version page: {BASE}documents/{filled.acme}/versions/{current[:16]}.html" in citation
    assert f"@misc{{clausewatch-{arbitration}-{current[:12]}," in citation
    old = soup(version_page(site, filled.acme, site_kit.ACME_V1)).find(id="citation").get_text()
    assert f"Version SHA-256: {sha(site_kit.ACME_V1)}" in old and current not in old
    assert "in force from 2026-03-02" in old and "until" not in old  # a fact that never changes


def test_evidence_bundle_link_appears_only_when_the_bundle_exists(filled, tmp_path, site_kit):
    site = tmp_path / "site"
    build(filled.store, site, base_url=BASE)
    page = version_page(site, filled.acme, site_kit.ACME_V1)
    assert "Evidence bundle" not in page.read_text()
    bundle = site / "evidence" / f"{filled.acme}-{sha(site_kit.ACME_V1)[:16]}.zip"
    bundle.parent.mkdir()
    bundle.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    build(filled.store, site, base_url=BASE)
    link = soup(page).find(id="version-facts").find("a", href=re.compile(r"\.zip$"))
    assert link["href"] == f"../../../evidence/{bundle.name}" and bundle.exists()


def test_hostile_text_stays_escaped_on_time_travel_pages(filled, tmp_path, site_kit):
    site = tmp_path / "site"
    build(filled.store, site, base_url=BASE)
    governing = record_id(site, "hostile", "Governing Law")
    pages = [version_page(site, filled.hostile, t) for t in (site_kit.HOSTILE_V1, site_kit.HOSTILE_V2)]
    pages.append(site / "records" / governing / "history.html")
    for path in pages:
        html = path.read_text()
        assert "<script>window" not in html and "<svg onload" not in html and "<img src=x" not in html
        assert "javascript:" not in "".join(a.get("href", "") for a in soup(path).find_all("a"))
        assert "Hostile &lt;b&gt;Corp&lt;/b&gt;" in html


def test_a_version_never_split_into_clauses_shows_its_escaped_text(filled, tmp_path, site_kit):
    text = "# Notice\n\nPlain <b>text</b> kept as [a link](https://example.com/x) and [a trap](javascript:alert(1)).\n"
    site_kit.record(filled.store, filled.hostile, "https://hostile.test/privacy", text,
                    site_kit.T0 + timedelta(days=3), None)  # no analysis: no clauses
    site = tmp_path / "site"
    build(filled.store, site, base_url=BASE)
    body = soup(version_page(site, filled.hostile, text)).find(id="text")
    assert "Plain <b>text</b> kept" in body.get_text() and body.find("b") is None
    assert [a["href"] for a in body.find_all("a")] == ["https://example.com/x"]


def test_record_page_quotes_carry_a_permanent_link_to_the_clause_in_its_version(filled, tmp_path, site_kit):
    site = tmp_path / "site"
    build(filled.store, site, base_url=BASE)
    arbitration = record_id(site, "acme", "Arbitration")
    record = site / "records" / f"{arbitration}.html"
    links = soup(record).find(id="original-language").find_all("a", class_="permalink")
    assert links
    for link in links:
        path, anchor = link["href"].split("#")
        target = (record.parent / path).resolve()
        assert target == version_page(site, filled.acme, site_kit.ACME_V2).resolve()
        assert "binding arbitration" in soup(target).find(id=anchor).get_text()


def test_a_version_page_holds_the_text_between_clauses_once():
    # A date line, and a heading with no clause under it, were left out of "Text of this version", which `show`
    # prints (review of 2026-12-02); the heading just above a clause is its own heading, not shown twice.
    from analysis.domain import Classification, ClassifiedClause
    from analysis.splitter import split_clauses
    from reports.site.timetravel import version_text_rows

    text = normalize_text("# Terms of Service\n\nLast updated: 1 May 2026\n\n## 1. Your account\n\n"
                          "We may close your account at any time.\n\n## 2. Fees\n\nWe may change our fees.\n\n"
                          "## 3. Contact\n")
    clauses = [ClassifiedClause(clause, Classification(())) for clause in split_clauses(text)]
    rows = version_text_rows(clauses, {}, text)
    shown = [("between" if row["between"] else row["heading"], row["text"]) for row in rows]
    assert shown == [
        ("between", "# Terms of Service\nLast updated: 1 May 2026"),
        ("1. Your account", "We may close your account at any time."),
        ("2. Fees", "We may change our fees."),
        ("between", "## 3. Contact"),
    ]
    assert version_text_rows(clauses, {}) == [row for row in rows if not row["between"]]  # without the text

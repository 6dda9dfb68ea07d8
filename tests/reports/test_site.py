"""The static site built from a real store: pages, links, escaping, evidence checks, incremental builds."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from analysis.pipeline import Analyzer
from reports.citations import bibtex
from reports.site import build
from reports.site.exports import export_store, search_index_js
from reports.site.render import diff_html, json_ld, linkify

BASE = "https://watch.example.org/cw/"
RECORD_SECTIONS = ("what-it-is", "why-it-matters", "consumer-impact", "original-language", "regulatory-landscape",
                   "agencies", "regulations", "jurisdiction-flags", "other-platforms", "monitoring", "details",
                   "provenance", "citation", "siblings", "faq")


@pytest.fixture
def site(filled, tmp_path) -> Path:
    out = tmp_path / "site"
    build(filled.store, out, base_url=BASE)
    return out


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def record_of(site: Path, title: str, platform: str) -> Path:
    for path in sorted((site / "records").glob("*.html")):
        h1 = soup(path).find("h1").get_text(strip=True)
        if h1 == title and platform in soup(path).find("p", class_="crumbs").get_text():
            return path
    raise AssertionError(f"no record page for {title} of {platform}")


def test_every_page_of_a_two_platform_store_is_built(store, tmp_path, site_kit):
    ids = site_kit.fill(store)
    report = build(store, tmp_path / "site", base_url=BASE)
    site = tmp_path / "site"
    assert report.ok and report.written and report.unchanged == 0
    for path in ("index.html", "search.html", "search-index.js", "types/index.html", "platforms/acme.html",
                 f"documents/{ids.acme}.html", f"documents/{ids.hostile}.html", "feeds/all.atom",
                 f"feeds/{ids.acme}.atom", "feeds/platform-acme.atom", "export/records.json", "static/style.css"):
        assert (site / path).is_file(), path
    records = json.loads((site / "export/records.json").read_text())["records"]
    assert {r["title"] for r in records if r["platform"] == "acme"} >= {"Arbitration", "Class Action Waiver",
                                                                          "User Content License"}
    for entry in records:
        assert (site / "records" / f"{entry['id']}.html").is_file()


def test_record_page_has_every_section_of_the_seed_pages(site):
    page = soup(record_of(site, "Arbitration", "Acme Cloud"))
    for section in RECORD_SECTIONS:
        assert page.find(id=section) is not None, section
    text = page.get_text(" ", strip=True)
    assert "High severity" in text and "Confidence 90%" in text and "Stated explicitly" in text
    assert "Unique · 1 of 2 platforms" in text
    assert "binding arbitration in Delaware" in page.find(id="original-language").get_text()
    details = page.find(id="details").get_text(" ", strip=True)
    assert "Record ID CW-P-" in details and "Document ID CW-D-" in details and "First tracked March 2, 2026" in details
    provenance = page.find(id="provenance").get_text(" ", strip=True)
    assert "Snapshot stored ✓" in provenance and "Hash verified ✓" in provenance
    assert page.find(id="provenance").find("a", string="Wayback Machine")["href"].startswith(
        "https://web.archive.org/web/20260303093000/https://acme.test/terms")
    citation = page.find(id="citation").get_text()
    assert "@misc{clausewatch-CW-P-" in citation and BASE + "records/CW-P-" in citation
    history = page.find(id="monitoring").get_text(" ", strip=True)
    assert "Any dispute will be resolved by arbitration in Delaware." in history  # the clause before the change


def test_other_platforms_and_clause_type_comparison(site):
    page = soup(record_of(site, "Governing Law", "Acme Cloud"))
    others = page.find(id="other-platforms")
    assert "Hostile <b>Corp</b>" in others.get_text()  # the name, escaped, shown as text
    assert others.find("b") is None
    comparison = soup(site / "types/governing_law.html").get_text(" ", strip=True)
    assert "Acme Cloud" in comparison and "Hostile <b>Corp</b>" in comparison
    assert "Common · 2 of 2 platforms" not in comparison and "2 of 2 platforms" in comparison


def test_platform_page_has_an_explained_grade(site):
    page = soup(site / "platforms/acme.html")
    assert page.find(class_="grade").get_text(strip=True) == "D"
    assert "2 high-severity" in page.find(id="grade").get_text()


def test_document_page_has_clause_anchors_versions_and_a_diff(filled, site):
    page = soup(site / f"documents/{filled.acme}.html")
    anchors = [div["id"] for div in page.select("#current-text div.clause")]
    assert len(anchors) >= 5 and len(set(anchors)) == len(anchors)
    assert len(page.select("ol.versions li")) == 2
    diff = page.select_one("#changes pre.diff")
    assert "binding" in diff.find("ins").get_text() or any("binding" in i.get_text() for i in diff.find_all("ins"))
    assert diff.find_all("del")
    # Severities in words on the page, as in the emails: never a raw "None".
    moves = [span.get_text() for span in page.select("span.sev-move")]
    assert moves and not [m for m in moves if "none" in m.lower()]
    assert not [b for b in page.select("span.badge") if "none" in b.get_text().lower()]


def test_every_internal_link_resolves_to_a_file_and_anchor(site):
    pages = sorted(site.rglob("*.html"))
    checked = 0
    for page in pages:
        for anchor in soup(page).find_all(["a", "link", "script", "form"]):
            target = anchor.get("href") or anchor.get("src") or anchor.get("action")
            if not target or urlsplit(target).scheme in ("http", "https", "mailto"):
                continue
            parts = urlsplit(target)
            path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert path.is_file(), f"{page.relative_to(site)} links to missing {target}"
            assert site.resolve() in path.parents
            if parts.fragment and path.suffix == ".html":
                assert soup(path).find(id=parts.fragment) is not None, f"{page.name} → {target}"
            checked += 1
    assert checked > 100


def test_hostile_text_is_escaped_and_never_active(filled, site):
    for page in site.rglob("*.html"):
        tree = soup(page)
        for script in tree.find_all("script"):
            assert script.get("src") or script.get("type") == "application/ld+json", page
        for tag in tree.find_all(True):
            assert not [a for a in tag.attrs if a.lower().startswith("on")], (page, tag)
            for attr in ("href", "src", "action"):
                value = tag.get(attr)
                if value:
                    assert urlsplit(value).scheme in ("", "http", "https"), (page, value)
        assert tree.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"].startswith(
            "default-src 'none'; script-src 'self'; style-src 'self'")
    text = soup(site / f"documents/{filled.hostile}.html").find(id="current-text")
    assert '<script>window.__pwned = "script"' in text.get_text()  # shown, as text
    assert text.find("a", href="https://example.com/help") is not None
    assert "[our FAQ](javascript:window.__pwned='link')" in text.get_text()


def test_linkify_only_links_http_urls():
    html = str(linkify('a [x](javascript:alert(1)) [y](https://e.org/p?a=1&b=2) "><img src=x onerror=alert(1)> http://b.org'))
    assert '<a href="https://e.org/p?a=1&amp;b=2"' in html and '<a href="http://b.org"' in html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
    assert "<img" not in html and "&lt;img" in html


def test_a_link_whose_target_holds_parentheses_keeps_them():
    # "…/Refund_(finance)" was cut at its first ")": the link went to ".../Refund_(finance" and a ")" trailed it.
    html = str(linkify("See [refunds](https://en.wikipedia.org/wiki/Refund_(finance)) and [a](https://e.org/a_(b)_c)."))

    assert '<a href="https://en.wikipedia.org/wiki/Refund_(finance)"' in html and ">refunds</a> and" in html
    assert '<a href="https://e.org/a_(b)_c"' in html and html.endswith(">a</a>.")
    # A bare URL and an autolink (the extractor writes <U> for a link whose text is its URL) keep them too; a ")"
    # closing the prose around a URL is not part of it.
    bare = str(linkify("See https://en.wikipedia.org/wiki/Refund_(finance) and <https://e.org/a_(b)> (or https://x.org/a)."))
    assert bare.count('href="https://en.wikipedia.org/wiki/Refund_(finance)"') == 1
    assert 'href="https://e.org/a_(b)"' in bare and 'href="https://x.org/a"' in bare and bare.endswith("</a>).")


def test_the_search_index_shows_controls_and_overrides_as_replacement_characters():
    # search.js shows excerpts through textContent, which leaves a right-to-left override to reorder the text.
    script = search_index_js([{"u": "r.html", "t": "Refunds \u202etxt.exe\u202c", "k": "record", "x": "a\x1b[2J b"}])

    entries = json.loads(script.decode().removeprefix("window.CLAUSEWATCH_SEARCH = ").removesuffix(";\n"))
    assert entries == [{"u": "r.html", "t": "Refunds \ufffdtxt.exe\ufffd", "k": "record", "x": "a\ufffd[2J b"}]


def test_json_ld_and_diffs_cannot_break_out_of_their_elements():
    encoded = str(json_ld({"text": "</script><script>alert(1)</script> & more"}))
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert json.loads(encoded)["text"].startswith("</script>")
    assert str(diff_html([(0, "a<b"), (1, "<i>"), (-1, "&")])) == "a&lt;b<ins>&lt;i&gt;</ins><del>&amp;</del>"


def test_rebuild_after_one_document_changes_rewrites_only_its_pages(filled, site, site_kit):
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in site.rglob("*") if p.is_file()}
    analyzer = Analyzer(model=site_kit.keyword_classifier())
    v3 = site_kit.ACME_V2.replace("without notice or reason", "with thirty days' notice")
    site_kit.record(filled.store, filled.acme, "https://acme.test/terms", v3, site_kit.T0 + timedelta(days=2), analyzer)
    report = build(filled.store, site, base_url=BASE)
    written = set(report.written)
    assert f"documents/{filled.acme}.html" in written and "index.html" in written
    assert "feeds/all.atom" in written and f"feeds/{filled.acme}.atom" in written
    assert f"documents/{filled.hostile}.html" not in written and f"feeds/{filled.hostile}.atom" not in written
    hostile_pages = [site / f"documents/{filled.hostile}.html", site / "platforms/hostile.html",
                     *(site / "records" / f"{r['id']}.html" for r in _records(site) if r["platform"] == "hostile")]
    # and its time-travel pages: every version page and every provision history
    hostile_pages += [*(site / "documents" / filled.hostile).rglob("*.html"),
                      *(site / "records" / f"{r['id']}" / "history.html" for r in _records(site)
                        if r["platform"] == "hostile")]
    for path in hostile_pages:
        assert path.stat().st_mtime_ns == before[path][0], path
        assert path.read_bytes() == before[path][1]
    assert report.unchanged == report.pages - len(written) and report.unchanged >= len(hostile_pages)
    assert report.rendered < report.pages - len(hostile_pages)  # unchanged inputs are not even rendered


def _records(site: Path) -> list[dict]:
    return json.loads((site / "export/records.json").read_text())["records"]


def test_rebuilds_are_stable_and_full_rebuild_is_byte_identical(filled, site, tmp_path):
    first = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    report = build(filled.store, site, base_url=BASE)
    assert report.written == [] and report.rendered == 0 and report.unchanged == report.pages
    build(filled.store, tmp_path / "again", base_url=BASE, full=True)
    again = {p.relative_to(tmp_path / "again"): p.read_bytes() for p in (tmp_path / "again").rglob("*") if p.is_file()}
    assert again == first


def test_a_corrupted_snapshot_shows_a_visible_cross(filled, site):
    page_path = record_of(site, "Arbitration", "Acme Cloud")
    sha = soup(page_path).find(id="provenance").find("code").get_text()
    blob = filled.store.blobs.path(sha)
    blob.chmod(0o644)
    blob.write_bytes(b"tampered")
    report = build(filled.store, site, base_url=BASE)
    assert not report.ok and sha in report.evidence_problems[0]
    assert report.failed == 1 and report.counts["evidence_problems"] == 1  # what a scheduled job reports
    provenance = soup(page_path).find(id="provenance").get_text(" ", strip=True)
    assert "Hash verified ✗" in provenance and "Hash verified ✓" not in provenance


def test_export_matches_the_published_json(filled, site):
    assert export_store(filled.store, base_url=BASE) == (site / "export/records.json").read_bytes()


def test_search_index_is_a_script_assigning_one_variable(site):
    source = (site / "search-index.js").read_text()
    assert source.startswith("window.CLAUSEWATCH_SEARCH = ") and source.endswith(";\n")
    entries = json.loads(source.removeprefix("window.CLAUSEWATCH_SEARCH = ").removesuffix(";\n"))
    assert any("binding arbitration" in e["x"] and e["u"].startswith("records/") for e in entries)


def test_bibtex_entry_keeps_crawled_braces_out_of_its_syntax():
    entry = bibtex("CW-P-000007", "Evil {Corp}} \\input{x}", "https://e.org/r.html", "note", 2026)
    assert entry.startswith("@misc{clausewatch-CW-P-000007,\n") and entry.endswith("\n}")
    assert "title = {Evil (Corp))  input(x)}," in entry
    assert "howpublished = {\\url{https://e.org/r.html}}" in entry
    assert entry.count("{") == entry.count("}")


def test_monitoring_history_says_when_no_change_touched_a_provision(site):
    text = " ".join(soup(record_of(site, "Governing Law", "Acme Cloud")).find(id="monitoring").get_text().split())
    assert "changed this document 1 time since we started tracking it; none of those changes touched" in text


def test_unfetched_and_failing_documents_are_shown_without_breaking_the_build(filled, tmp_path, site_kit):
    from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec

    newcomer = PlatformSpec("new/../co", "Newcomer", (DocumentSpec("new/../co", "Terms of Service",
                                                                    (SourceSpec("javascript:alert(1)"),)),))
    filled.store.catalog.sync_catalog([*site_kit.PLATFORMS, newcomer], now=site_kit.T0)
    docs = filled.store.catalog.documents()
    newcomer_id = next(d.id for d in docs if d.platform == "new/../co")
    when = site_kit.T0 + timedelta(days=3)
    for _ in range(2):
        filled.store.recording.record_failure(filled.acme, started_at=when, finished_at=when, kind="bot_wall", detail="captcha")
    report = build(filled.store, tmp_path / "out", base_url=BASE)
    assert report.ok
    out = tmp_path / "out"
    index = soup(out / "index.html").get_text(" ", strip=True)
    assert "Failing documents" in index and "bot_wall × 2" in index
    acme = soup(out / f"documents/{filled.acme}.html")
    assert "The last 2 fetch(es) failed (bot_wall)" in acme.get_text()
    page = soup(out / f"documents/{newcomer_id}.html")
    assert "No version archived yet." in page.get_text()
    assert page.find("a", string="Original document ↗") is None  # javascript: is never a link
    assert (out / "platforms/new-..-co.html").is_file() and not (tmp_path / "co.html").exists()

"""PDF documents and JavaScript-rendered documents, crawled for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "crawl"


def one_document(url: str, **fields) -> list[PlatformSpec]:
    return [PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(url),), **fields),))]


def test_pdf_document_text_is_extracted_and_versioned(store, site, run_crawl):
    site.set("/terms.pdf", Page((FIXTURES / "api-terms.pdf").read_bytes(), content_type="application/pdf"))
    report = run_crawl(store, one_document(site.url("/terms.pdf")))
    assert [r.outcome for r in report.results] == ["new_version"]
    text = store.history.current_version("CW-D-00001").text
    assert "We grant you a limited licence to use the API." in text
    assert "We may terminate access at any time." in text
    assert store.history.snapshots("CW-D-00001")[0].content_type == "application/pdf"


@pytest.mark.browser
def test_browser_document_is_rendered_in_headless_chromium(sqlite_url, tmp_path, site, run_crawl):
    from store.repository import Store

    store = Store.open(sqlite_url, tmp_path / "objects")
    site.set("/app", Page((FIXTURES / "rendered.html").read_bytes()))
    http = run_crawl(store, one_document(site.url("/app")))
    # Plain HTTP sees the shell, "Loading…": a failure, not a version (review of 2026-12-01: it was archived).
    assert [(r.outcome, r.error_kind) for r in http.results] == [("failed", "empty")]
    assert "application's shell" in http.results[0].detail and store.history.current_version("CW-D-00001") is None

    browser = run_crawl(store, one_document(site.url("/app"), fetcher="browser"))
    assert [r.outcome for r in browser.results] == ["new_version"]
    text = store.history.current_version("CW-D-00001").text
    assert "You grant us a licence to the content you upload." in text
    snapshot = store.history.snapshots("CW-D-00001")[-1]
    assert snapshot.fetcher == "browser"
    store.close()


def pdf_mapping_a_to(code_point: str) -> bytes:
    """A one-page PDF whose font's ToUnicode map turns each "A" it shows into ``code_point`` (four hex digits)."""
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Broken def /CMapType 2 def\n"
            "1 begincodespacerange <00> <FF> endcodespacerange\n"
            f"1 beginbfchar <41> <{code_point}> endbfchar\n"
            "endcmap CMapName currentdict /CMap defineresource pop end end\n")
    content = "BT /F1 10 Tf 20 700 Td (1. Terms. You agree to binding arbitration. A) Tj ET\n"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 2000 800] /Contents 4 0 R "
               "/Resources << /Font << /F1 5 0 R >> >> >>",
               f"<< /Length {len(content)} >>\nstream\n{content}endstream",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
               f"<< /Length {len(cmap)} >>\nstream\n{cmap}endstream"]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    return out + f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()


@pytest.mark.parametrize("code_point", ["D800", "0000"])
def test_a_pdf_mapping_a_glyph_to_what_no_store_keeps_is_archived_with_the_replacement_character(
        store, site, run_crawl, code_point):
    # pypdf decodes a ToUnicode map with surrogatepass: a lone surrogate made every crawl fail "could not be
    # recorded: UnicodeEncodeError", and a NUL stopped the whole crawl on PostgreSQL.
    site.set("/terms.pdf", Page(pdf_mapping_a_to(code_point), content_type="application/pdf"))

    report = run_crawl(store, one_document(site.url("/terms.pdf")))

    assert [r.outcome for r in report.results] == ["new_version"], report.results
    assert "binding arbitration. \ufffd" in store.history.current_version("CW-D-00001").text

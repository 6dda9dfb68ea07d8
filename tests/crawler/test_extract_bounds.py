"""Hostile bodies end as named failures or bounded extractions: gzip bombs, PDF bombs, pathological HTML."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page
from crawler import extract
from crawler.extract import ExtractionError, extract_source

URL = "https://example.com/terms"


def extract_html(body: bytes) -> str:
    return extract_source(body, "text/html; charset=utf-8", URL, SourceSpec(URL))


def test_deeply_nested_html_keeps_its_text_in_order():
    depth = 20_000  # the benchmark goes to 100,000
    body = (b"<html><body><main><h1>Terms</h1>" + b"<div><span>" * (depth // 2) + b"<p>First deep clause.</p>"
            b"<script>steal()</script><p>Second deep clause.</p>" + b"</span></div>" * (depth // 2)
            + b"<p>Shallow closing clause.</p></main></body></html>")
    text = extract_html(body)
    assert text.index("First deep clause.") < text.index("Second deep clause.") < text.index("Shallow closing")
    assert "steal" not in text


def test_nesting_just_under_the_bound_keeps_its_structure():
    body = (b"<main>" + b"<div>" * (extract.HTML_MAX_DEPTH - 10) + b"<h2>4. Liability</h2><ul><li>one</li></ul>"
            + b"</div>" * (extract.HTML_MAX_DEPTH - 10) + b"</main>")
    text = extract_html(body)
    assert "## 4. Liability" in text and "- one" in text


def test_a_page_of_too_many_elements_is_too_large():
    body = b"<main><p>" + b"<span>a</span>" * (extract.HTML_MAX_ELEMENTS + 1) + b"</p></main>"
    with pytest.raises(ExtractionError) as caught:
        extract_html(body)
    assert caught.value.kind == "too_large" and URL in caught.value.detail


def test_one_long_line_extracts():
    body = b"<main><p>" + b"word " * 1_000_000 + b"</p></main>"
    assert extract_html(body).count("word") == 1_000_000


def _pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(612, 792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def flate_bomb_pdf(inflated: int) -> bytes:
    """A one-page PDF whose content stream inflates to ``inflated`` bytes (built without holding them;
    pypdf has no public API to add a pre-compressed stream)."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, EncodedStreamObject, NameObject

    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    data = compressor.compress(b"BT /F1 10 Tf 50 700 Td (x) Tj ET\n")
    data += b"".join(compressor.compress(chunk) for _ in range(inflated >> 20)) + compressor.flush()
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    stream = EncodedStreamObject()
    stream._data = data
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_pdf_whose_content_stream_inflates_past_the_limit_is_too_large():
    with pytest.raises(ExtractionError) as caught:
        extract_source(flate_bomb_pdf(200 << 20), "application/pdf", URL, SourceSpec(URL))
    assert caught.value.kind == "too_large" and "limit" in caught.value.detail


def test_a_pdf_of_too_many_pages_is_too_large():
    with pytest.raises(ExtractionError) as caught:
        extract_source(_pdf(extract.PDF_MAX_PAGES + 1), "application/pdf", URL, SourceSpec(URL))
    assert caught.value.kind == "too_large" and "pages" in caught.value.detail


@pytest.mark.parametrize("body", [
    b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    b"%PDF-1.4\n" + b"[" * 50_000 + b"\n%%EOF",
    b"%PDF-1.4\n1 0 obj << /Length 99999999999 >> stream\nxx\nendstream endobj\ntrailer << /Root 1 0 R >>",
])
def test_a_malformed_or_hostile_pdf_is_a_named_failure(body):
    with pytest.raises(ExtractionError) as caught:
        extract_source(body, "application/pdf", URL, SourceSpec(URL))
    assert caught.value.kind in ("decode", "too_large", "empty")


def test_a_gzip_bomb_is_too_large_and_nothing_is_stored(store, site, run_crawl, fast_options):
    inflated = fast_options.max_bytes * 5
    bomb = gzip.compress(b"<p>" + b" " * inflated, compresslevel=9)
    assert len(bomb) < inflated // 500
    site.set("/terms", Page(bomb, headers={"Content-Encoding": "gzip"}))
    acme = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(site.url("/terms")),)),))
    report = run_crawl(store, [acme])
    assert [(r.outcome, r.error_kind) for r in report.results] == [("failed", "too_large")]
    assert "DOWNLOAD_MAXSIZE" in report.results[0].detail
    assert store.history.versions("CW-D-00001") == [] and store.history.snapshots("CW-D-00001") == []

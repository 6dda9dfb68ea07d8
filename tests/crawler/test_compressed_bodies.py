"""A compressed body decodes to the end of its stream or the fetch fails: a page cut short in transit is never a
version (review of 2026-12-01: a gzip body missing its last fifth became a new version, its last clauses "removed").

Real crawls of a loopback site on SQLite and PostgreSQL (the ``store`` fixture); the bodies are sent as they are,
their Content-Length matching what is sent, so only the compressed stream shows the cut.
"""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
from backports import zstd

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page

POLICY = ("<html><body><main><h1>Terms of Service</h1>"
          + "".join(f"<h2>{n}. Section</h2><p>Clause {n}: we may end your account for reason {n}.</p>" for n in range(40))
          + "</main></body></html>").encode()


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


ENCODINGS = {"gzip": gzip.compress, "deflate": _deflate, "br": brotli.compress, "zstd": zstd.compress}


def _acme(site) -> list[PlatformSpec]:
    return [PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(site.url("/terms")),)),))]


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_compressed_body_cut_short_is_a_truncated_failure_and_no_version(store, site, run_crawl, encoding):
    site.set("/terms", Page(POLICY))
    first = run_crawl(store, _acme(site))
    assert first.counts == {"new_version": 1}
    whole = ENCODINGS[encoding](POLICY)
    site.set("/terms", Page(whole[:len(whole) * 4 // 5], headers={"Content-Encoding": encoding}))

    cut = run_crawl(store, _acme(site))

    assert [(r.outcome, r.error_kind) for r in cut.results] == [("failed", "truncated")]
    assert "cut short" in cut.results[0].detail
    assert len(store.history.versions("CW-D-00001")) == 1


def test_a_gzip_body_whose_checksum_fails_is_a_decode_failure(store, site, run_crawl):
    whole = bytearray(gzip.compress(POLICY))
    whole[-8] ^= 0xFF  # the CRC-32 of the trailer
    site.set("/terms", Page(bytes(whole), headers={"Content-Encoding": "gzip"}))
    report = run_crawl(store, _acme(site))
    assert [(r.outcome, r.error_kind) for r in report.results] == [("failed", "decode")]
    assert store.history.versions("CW-D-00001") == []


@pytest.mark.parametrize(("encoding", "body"), [
    ("gzip", gzip.compress(POLICY[:500]) + gzip.compress(POLICY[500:])),  # two members, as concatenated logs are
    ("gzip", gzip.compress(POLICY) + b"\x00" * 16),  # padded with NULs
    ("deflate", _raw_deflate(POLICY)),  # raw deflate, without the zlib wrapper
    ("deflate", _deflate(POLICY)),
    ("br", brotli.compress(POLICY)),
    ("zstd", zstd.compress(POLICY[:500]) + zstd.compress(POLICY[500:])),  # two frames
    ("gzip", gzip.compress(POLICY) + b"\r\n"),  # a stray newline after the member, which browsers ignore
    # Lists naming identity, or ending in a comma: Scrapy decoded from the last coding back and stopped at the first
    # it did not know, and the page failed as "an encoding not read here ('gzip')" (probe of 2026-12-03).
    ("gzip, identity", gzip.compress(POLICY)),
    ("gzip,", gzip.compress(POLICY)),
    ("identity, br, identity", brotli.compress(POLICY)),
])
def test_whole_compressed_bodies_still_decode_to_the_page(store, site, run_crawl, encoding, body):
    site.set("/terms", Page(body, headers={"Content-Encoding": encoding}))
    report = run_crawl(store, _acme(site))
    assert report.counts == {"new_version": 1}
    text = store.history.current_version("CW-D-00001").text
    assert "Clause 0:" in text and "Clause 39:" in text


@pytest.mark.parametrize("encoding", [*sorted(ENCODINGS), "utf-8"])
def test_an_empty_body_sent_with_a_content_encoding_is_nothing_to_decode(store, site, run_crawl, encoding):
    # A 304, a 204 or a 503 may carry the page's Content-Encoding and no body: "cut short" failed every unchanged
    # page, and a 503 was never retried (review of 2026-12-01).
    from crawler.decompression import decode

    assert decode(b"", encoding.encode(), 0) == b""
    site.set("/terms", Page(b"", status=503, headers={"Content-Encoding": encoding}))
    report = run_crawl(store, _acme(site))
    assert [(r.outcome, r.error_kind) for r in report.results] == [("failed", "http_5xx")]


@pytest.mark.parametrize(("page", "kind", "said"), [
    # Scrapy warned of an encoding it does not read and handed the bytes on: they became the version.
    (Page(b"\x1f\x9d\x90" + POLICY, headers={"Content-Encoding": "compress"}), "decode",
     "in an encoding not read here ('compress')"),
    # A precompressed file served without its Content-Encoding, whose bytes pass the control-byte test.
    (Page(brotli.compress(POLICY, quality=5)), "not_text", "a brotli-compressed body served without its"),
    # Declared UTF-16: the magic numbers of a gzip and a zip body were never looked at, and they were archived as
    # CJK characters.
    (Page(gzip.compress(POLICY), content_type="text/html; charset=utf-16"), "not_text", "binary body"),
    (Page(b"PK\x03\x04" + POLICY, content_type="text/html; charset=utf-16"), "not_text", "binary body"),
])
def test_a_body_whose_encoding_is_not_said_or_not_read_is_a_failure_not_a_version(store, site, run_crawl, page, kind,
                                                                                 said):
    # Probe of 2026-12-03.
    site.set("/terms", page)
    report = run_crawl(store, _acme(site))
    assert [(r.outcome, r.error_kind) for r in report.results] == [("failed", kind)]
    assert said in report.results[0].detail
    assert store.history.versions("CW-D-00001") == []


@pytest.mark.parametrize("token", ["utf-8", "UTF-8", "none", "binary", "8bit", "utf-8, identity"])
def test_a_content_encoding_that_names_no_coding_is_read_as_identity(store, site, run_crawl, token):
    # A PHP or server misconfiguration sends a charset (or "none") as the Content-Encoding; browsers ignore a token they
    # do not know and show the page. It failed as `decode`, "an encoding not read here" (probe of 2026-12-03).
    site.set("/terms", Page(POLICY, headers={"Content-Encoding": token}))
    report = run_crawl(store, _acme(site))
    assert [(r.outcome, r.error_kind) for r in report.results] == [("new_version", None)]
    assert "Clause 39: we may end your account" in store.history.current_version("CW-D-00001").text


@pytest.mark.parametrize(("token", "body", "name"), [
    ("utf-8", gzip.compress(POLICY), "gzip"),
    ("none", _raw_deflate(POLICY), "deflate"),
    ("binary", brotli.compress(POLICY), "br"),
    ("8bit", zstd.compress(POLICY), "zstd"),
])
def test_a_compressed_body_under_a_token_that_names_no_coding_is_still_a_decode_failure(store, site, run_crawl, token,
                                                                                        body, name):
    site.set("/terms", Page(body, headers={"Content-Encoding": token}))
    report = run_crawl(store, _acme(site))
    assert [(r.outcome, r.error_kind) for r in report.results] == [("failed", "decode")]
    assert f"a {name} body under Content-Encoding {token!r}" in report.results[0].detail
    assert store.history.versions("CW-D-00001") == []


@pytest.mark.parametrize("body", [b"3", b";", b"?", b"=", b"5"])
def test_a_text_that_is_a_whole_stream_of_nothing_is_not_called_compressed(body):
    # One byte such as `3` is a complete, empty brotli stream: a page of it sent under `Content-Encoding: utf-8`
    # failed as `decode` (review of 2026-12-03). A real stream still is one.
    from crawler.decompression import compressed_as

    assert compressed_as(body, 10**6) is None
    assert compressed_as(brotli.compress(b"<p>Terms</p>"), 10**6) is not None
    assert compressed_as(zlib.compress(b"<p>Terms</p>"), 10**6) == "deflate"

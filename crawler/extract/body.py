"""What a fetched body is (PDF, plain text, HTML or refused) and how it decodes to text."""

from __future__ import annotations

import codecs
import json
import re
import zlib

from bs4.dammit import UnicodeDammit

from crawler.extract.errors import ExtractionError

# --- What the body is ----------------------------------------------------------

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml")
_TEXT_TYPES = ("text/plain", "text/markdown", "text/x-markdown")
# Magic numbers of the binary formats most often served where a page was
# expected (images, archives, office files, fonts).
_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"BZh",
                 b"\xd0\xcf\x11\xe0", b"RIFF", b"wOFF", b"wOF2", b"\x00\x00\x01\x00", b"7z\xbc\xaf",
                 b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")
# Brotli and deflate have no magic number: served without their Content-Encoding (a precompressed file on a CDN),
# a third of brotli pages pass the control-byte test. A first kilobyte this far from ASCII is tried as each, and
# one that decodes to this much text was compressed.
_HIGH_BYTES = bytes(range(128, 256))
_COMPRESSED_HIGH_SHARE = 0.25
_DECOMPRESSED_TEXT = 64
_WIDE_CODECS = ("utf-16", "utf-32")
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
# Control bytes no text holds (tab, line breaks and form feed aside). A stray one in a page (a NUL pasted into a
# policy) is the page's own oddity, and the page is still archived; binary data is full of them: over a tenth of
# the first kilobyte, or NULs in one byte of fifty (UTF-16 without its BOM has one in two).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f")
_BINARY_CONTROL_SHARE = 0.10
_BINARY_NUL_SHARE = 0.02
# The first tag of a page served as text/plain (or without a known type) that makes it HTML.
_LOOKS_HTML = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|link|style|script"
                         rb"|div|p|h[1-6]|main|article|section|header|nav|footer|table|ul|ol)\b", re.I | re.S)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def sniff_kind(body: bytes, content_type: str | None, url: str) -> str:
    """``pdf``, ``text`` or ``html``; raises for empty or binary bodies."""
    if not body.strip():
        raise ExtractionError("empty", f"0-byte or blank body from {url}")
    head = body[:1024]
    media = _media_type(content_type)
    if head.lstrip().startswith(b"%PDF") or media == "application/pdf":
        return "pdf"
    if head.startswith(_BINARY_MAGIC):  # before a declared UTF-16, which a zip served so is not
        raise ExtractionError("not_text", f"binary body ({media or 'no content type'}) from {url}")
    if head.startswith(_WIDE_BOMS) or _declared_wide_text(head, content_type):
        return "html" if media not in _TEXT_TYPES else "text"
    if _looks_binary(head):
        raise ExtractionError("not_text", f"binary body ({media or 'no content type'}) from {url}")
    if compression := _undeclared_compression(head):
        raise ExtractionError("not_text", f"a {compression}-compressed body served without its Content-Encoding "
                                          f"({media or 'no content type'}) from {url}")
    if _is_json(body):
        raise ExtractionError("not_text", f"a JSON document ({media or 'no content type'}), not a page, from {url}")
    if media in _TEXT_TYPES and not _LOOKS_HTML.match(head):
        return "text"
    if media and media not in _HTML_TYPES and media not in _TEXT_TYPES and not _LOOKS_HTML.match(head):
        raise ExtractionError("not_text", f"unsupported content type {media} from {url}")
    return "html"


def _is_json(body: bytes) -> bool:
    """An API's answer (an error object, a list) served as a page: a policy's text never parses as JSON."""
    if body.lstrip()[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(body)
    except ValueError:  # UnicodeDecodeError is one
        return False
    return True


def _declared_wide_text(head: bytes, content_type: str | None) -> bool:
    """A body in the UTF-16 or UTF-32 its Content-Type declares, without a BOM: text once decoded so (its NULs,
    half its bytes, made it look binary)."""
    declared = charset(content_type)
    if not declared or not declared.startswith(_WIDE_CODECS):
        return False
    text = head[:len(head) - len(head) % 4].decode(declared, errors="replace")
    return not _looks_binary(text.encode("utf-8", errors="replace"))


def _undeclared_compression(head: bytes) -> str | None:
    """``brotli`` or ``deflate`` when ``head``, far from ASCII and not UTF-8, decodes as that to some UTF-8 text; else
    None. Text in a script outside ASCII is as far from it: Vietnamese UTF-8 decoded "as brotli" to bytes that passed
    the control-byte test (review of 2026-12-03)."""
    if len(head) - len(head.translate(None, _HIGH_BYTES)) < _COMPRESSED_HIGH_SHARE * len(head) or _utf8(head):
        return None
    import brotli  # Scrapy's own dependency; imported for such a body only

    attempts = (("brotli", lambda: brotli.Decompressor().process(head)),
                ("deflate", lambda: zlib.decompressobj(-zlib.MAX_WBITS).decompress(head, 4096)),
                ("deflate", lambda: zlib.decompressobj().decompress(head, 4096)))
    for name, attempt in attempts:
        try:
            text = attempt()
        except (brotli.error, zlib.error):  # not that compression
            continue
        if len(text) >= _DECOMPRESSED_TEXT and not _looks_binary(text[:1024]) and _utf8(text[:1024]):
            return name
    return None


def _utf8(head: bytes) -> bool:
    """Whether ``head`` is UTF-8, its last character possibly cut."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return False
    return True


def _looks_binary(head: bytes) -> bool:
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls > _BINARY_CONTROL_SHARE * len(head) or head.count(0) > _BINARY_NUL_SHARE * len(head)


# --- Decoding ------------------------------------------------------------------

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)


def charset(content_type: str | None) -> str | None:
    """The charset named by a Content-Type header, if Python knows it."""
    match = _CHARSET.search(content_type or "")
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def decode(body: bytes, declared: str | None, *, is_html: bool) -> str:
    """Decode with the BOM, then UTF-8 when valid, then the declarations, then detection.

    Valid UTF-8 with non-ASCII bytes is almost never valid text in another
    encoding, so it wins over a declared single-byte charset: a UTF-8 page
    served as ISO-8859-1 still decodes right. A declared UTF-8 that fails to
    decode falls through to the ``<meta>`` charset and to detection, unless
    the body is UTF-8 with a few stray bytes (:func:`_utf8_with_strays`): then
    it is decoded as UTF-8 with those bytes replaced, as a browser shows it.
    """
    for bom, encoding in _BOM_NAMES.items():
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace")
    if (declared or "").startswith(_WIDE_CODECS) and body[:1024].count(0) > _BINARY_CONTROL_SHARE * len(body[:1024]):
        return body.decode(declared, errors="replace")  # its NULs show it is (a server's utf-16 may be a slip)
    if body.isascii():
        return body.decode("ascii")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if (text := _utf8_with_strays(body)) is not None:
        return text
    known = [declared] if declared and declared != "utf-8" else []
    dammit = UnicodeDammit(body, known_definite_encodings=known, is_html=is_html)
    guessed = codecs.lookup(dammit.original_encoding).name if dammit.original_encoding else None
    if dammit.unicode_markup is None or (guessed in _LATIN_SINGLE_BYTE and guessed not in (*known, dammit.declared_html_encoding)):
        # Detection cannot tell the Latin code pages apart on a few accented
        # letters; windows-1252 is what undeclared Western pages really use.
        return body.decode("windows-1252", errors="replace")
    return dammit.unicode_markup


# Characters no text holds: what decoding could not read (U+FFFD) and control characters (tab, line breaks and form
# feed aside). A page with a few stray bytes has a handful; random or binary bytes that passed the sniff (a tenth of
# control bytes is its line, and random bytes hold 11 %) decode to over half of them.
_NOT_TEXT = re.compile(r"[\ufffd\x00-\x08\x0b\x0e-\x1f\x7f]")
_NOT_TEXT_SHARE = 0.2


def check_decoded(text: str, body: bytes, url: str) -> None:
    """Raise ``decode`` when a decoded body is not text: a fifth or more of it is characters no text holds. A U+FFFD
    the site itself sent (its UTF-8 bytes in the body) is its text's, however broken: not counted."""
    if not text:
        return
    sent = min(body.count("\ufffd".encode()), text.count("\ufffd"))
    share = (len(_NOT_TEXT.findall(text)) - sent) / len(text)
    if share >= _NOT_TEXT_SHARE:
        raise ExtractionError("decode", f"the body from {url} decodes to {share:.0%} characters that are not text "
                                        "(undecodable bytes and control characters): binary data, or text in an "
                                        "encoding it does not declare")


def _utf8_with_strays(body: bytes) -> str | None:
    """``body`` as UTF-8 with its invalid bytes replaced, when its valid multi-byte characters outnumber them at
    least two to one; else None.

    One stray byte in a UTF-8 page made detection pick a single-byte code page,
    and every accented letter of the page changed, a whole-document change
    that came back when the byte was fixed. A page really in a single-byte code
    page has (almost) no valid UTF-8 sequences: it still goes to detection.
    """
    text = body.decode("utf-8", errors="replace")
    strays = text.count("\ufffd") - body.count("\ufffd".encode())
    multibyte = sum(1 for character in text if ord(character) > 0x7F) - strays
    return text if multibyte >= 2 * strays else None


_LATIN_SINGLE_BYTE = frozenset(codecs.lookup(name).name for name in (
    "cp1250", "cp1252", "cp1254", "cp1257", "latin-1", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-9",
    "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "mac-roman", "mac-latin2", "cp850",
))
_BOM_NAMES = {
    codecs.BOM_UTF8: "utf-8",
    codecs.BOM_UTF32_LE: "utf-32-le",  # before UTF-16 LE, whose BOM it starts with
    codecs.BOM_UTF16_LE: "utf-16-le",
    codecs.BOM_UTF16_BE: "utf-16-be",
    codecs.BOM_UTF32_BE: "utf-32-be",
}

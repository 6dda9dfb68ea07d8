"""Content-Encoding decoded strictly: the whole stream, its checksum checked, or an error saying which.

Scrapy's decoders return what they decoded before a stream broke off; a page
cut short in transit then reads as a page with its end removed. These decode
every member of a gzip body (checking its CRC and length), a zlib or raw
deflate body, a brotli body and every frame of a zstd body, each to its end
marker; the size cap is Scrapy's own (``DOWNLOAD_MAXSIZE``, raised as its
``_DecompressionMaxSizeExceeded`` so the middleware turns it into a
``too_large`` failure). An empty body (a 304, a 204) is nothing to decode, and
bytes after a complete gzip member that start no other member are ignored, as
browsers ignore them. Unknown encodings are left as they are.

:func:`compressed_as` tells whether a body is compressed whatever its
Content-Encoding says, for a header naming a token that is no coding (``utf-8``).
"""

from __future__ import annotations

import zlib

import brotli  # Scrapy's own dependency
from scrapy.utils._compression import _CHUNK_SIZE, _check_max_size, _DecompressionMaxSizeExceeded, zstd

from crawler.errors import CorruptBodyError, TruncatedBodyError

_GZIP = 16 + zlib.MAX_WBITS
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS
_GZIP_MAGIC = b"\x1f\x8b"


def decode(body: bytes, encoding: bytes, max_size: int) -> bytes:
    """``body`` decoded from ``encoding`` (gzip, x-gzip, deflate, br, zstd)."""
    name = encoding.decode("latin-1").strip().lower()
    if not body:
        return body  # a 304 or a 204 with the header of the page it stands for
    if name in ("gzip", "x-gzip"):
        return _gunzip(body, max_size)
    if name == "deflate":
        return _inflate(body, max_size)
    if name == "br":
        return _unbrotli(body, max_size)
    if name == "zstd":
        return _unzstd(body, max_size)
    return body


# The magic numbers of compressed streams, read here or not (compress is LZW; xz and bzip2 are no HTTP coding but
# are served as files).
_MAGIC = ((_GZIP_MAGIC, "gzip"), (b"\x1f\x9d", "compress"), (b"\x28\xb5\x2f\xfd", "zstd"),
          (b"\xfd7zXZ\x00", "xz"), (b"BZh", "bzip2"))


def compressed_as(body: bytes, max_size: int) -> str | None:
    """The compression ``body`` is in, whatever its Content-Encoding says: a magic number, or a whole zlib, raw deflate
    or brotli stream (they have none; a text is not one past its first bytes); None for a body that is not
    compressed."""
    if not body:
        return None
    for magic, name in _MAGIC:
        if body.startswith(magic):
            return name
    for name in ("deflate", "br"):
        try:
            decoded = decode(body, name.encode(), max_size)
        except (CorruptBodyError, TruncatedBodyError):
            continue
        except _DecompressionMaxSizeExceeded:
            return name
        if decoded:  # a whole stream of nothing is no compressed page: one byte (`3`, `;`) is an empty brotli stream
            return name
    return None


def _gunzip(body: bytes, max_size: int) -> bytes:
    out, rest = bytearray(), body
    while True:
        decompressor = zlib.decompressobj(_GZIP)
        _run(decompressor, rest, out, max_size, "gzip")
        rest = decompressor.unused_data
        if not rest.startswith(_GZIP_MAGIC):  # NUL padding, a stray newline: not a member, and browsers ignore it
            return bytes(out)


def _inflate(body: bytes, max_size: int) -> bytes:
    out = bytearray()
    try:
        _run(zlib.decompressobj(_ZLIB), body, out, max_size, "deflate")
    except CorruptBodyError:  # raw deflate without the zlib wrapper, as some servers send it
        out.clear()
        _run(zlib.decompressobj(_RAW_DEFLATE), body, out, max_size, "deflate")
    return bytes(out)


def _run(decompressor, data: bytes, out: bytearray, max_size: int, name: str) -> None:
    try:
        out += decompressor.decompress(data, _CHUNK_SIZE)
        _check_max_size(len(out), max_size)
        while decompressor.unconsumed_tail and not decompressor.eof:
            out += decompressor.decompress(decompressor.unconsumed_tail, _CHUNK_SIZE)
            _check_max_size(len(out), max_size)
    except zlib.error as error:
        raise CorruptBodyError(f"the {name} body does not decode: {error}") from None
    if not decompressor.eof:
        raise _cut_short(name, len(data), len(out))


def _unbrotli(body: bytes, max_size: int) -> bytes:
    decompressor, out = brotli.Decompressor(), bytearray()
    try:
        out += decompressor.process(body, output_buffer_limit=_CHUNK_SIZE)
        _check_max_size(len(out), max_size)
        while not decompressor.is_finished():
            chunk = decompressor.process(b"", output_buffer_limit=_CHUNK_SIZE)
            if not chunk:
                break
            out += chunk
            _check_max_size(len(out), max_size)
    except brotli.error as error:
        raise CorruptBodyError(f"the br body does not decode: {error}") from None
    if not decompressor.is_finished():
        raise _cut_short("br", len(body), len(out))
    return bytes(out)


def _unzstd(body: bytes, max_size: int) -> bytes:
    out, rest = bytearray(), body
    while rest:
        decompressor = zstd.ZstdDecompressor()
        try:
            out += decompressor.decompress(rest, _CHUNK_SIZE)
            _check_max_size(len(out), max_size)
            while not decompressor.eof and not decompressor.needs_input:
                out += decompressor.decompress(b"", _CHUNK_SIZE)
                _check_max_size(len(out), max_size)
        except zstd.ZstdError as error:
            raise CorruptBodyError(f"the zstd body does not decode: {error}") from None
        if not decompressor.eof:
            raise _cut_short("zstd", len(body), len(out))
        rest = decompressor.unused_data  # the next frame, if any
    return bytes(out)


def _cut_short(name: str, sent: int, decoded: int) -> TruncatedBodyError:
    return TruncatedBodyError(f"the {name} body ends before its stream does ({sent} bytes sent, {decoded} decoded): "
                              "the page was cut short")

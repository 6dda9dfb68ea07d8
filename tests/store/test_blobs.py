"""The content-addressed blob store: write once, compressed, verified."""

from __future__ import annotations

import zlib

import pytest

from analysis.text import sha256_bytes
from store.blobs import BlobError, BlobStore


def test_put_is_idempotent_and_content_addressed(tmp_path):
    blobs = BlobStore(tmp_path)
    sha = blobs.put(b"terms of service")
    assert sha == sha256_bytes(b"terms of service")
    assert blobs.path(sha) == tmp_path / sha[:2] / sha[2:]
    assert blobs.put(b"terms of service") == sha
    assert blobs.get(sha) == b"terms of service"
    assert list(blobs.names()) == [sha]
    assert blobs.path(sha).read_bytes() != b"terms of service"  # stored compressed


def test_verify_reports_a_corrupted_blob_by_hash(tmp_path):
    blobs = BlobStore(tmp_path)
    good = blobs.put(b"good")
    bad = blobs.put(b"original text")
    blobs.path(bad).write_bytes(zlib.compress(b"tampered text"))
    problems = list(blobs.verify())
    assert [p.sha256 for p in problems] == [bad]
    assert blobs.check(good) is None


def test_reading_a_missing_blob_names_it(tmp_path):
    blobs = BlobStore(tmp_path)
    with pytest.raises(BlobError, match="ab" * 32):
        blobs.get("ab" * 32)


def test_no_temporary_file_survives_a_write(tmp_path):
    blobs = BlobStore(tmp_path)
    for n in range(20):
        blobs.put(f"text {n}".encode())
    assert blobs.orphan_temporaries() == []
    assert not list(tmp_path.rglob(".tmp-*"))

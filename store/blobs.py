"""Content-addressed blob store: ``objects/ab/cdef…`` keyed by the SHA-256 of
the uncompressed bytes, zlib-compressed on disk.

Writes go to a temporary file in the same folder, are fsynced and renamed, so
a crash never leaves a partial blob under a real name (SPEC §2).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from analysis.text import sha256_bytes
from store.errors import BlobFolderFailedError


class BlobError(Exception):
    """A blob is missing or unreadable; the message names it."""


@dataclass(frozen=True)
class BlobMismatch:
    sha256: str
    path: Path
    problem: str


class BlobStore:
    """Write-once, content-addressed storage of snapshots and version texts."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._root = str(self.root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def _file(self, sha256: str) -> tuple[str, str]:
        """The blob's folder and file as strings, for reading and writing it.

        Not a Path: pathlib interns every part of a path it builds (``sys.intern``).
        Each blob's name was a new entry in Python's table of interned strings,
        which does not reuse the slots of names gone: it was rebuilt every ~40,000
        names, and rebuilt beside the program's own interned names it doubled
        (+1.8 MB) about 8,700 documents into a crawl (decision 0014, fifteenth pass).
        """
        folder = os.path.join(self._root, sha256[:2])
        return folder, os.path.join(folder, sha256[2:])

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256."""
        sha = sha256_bytes(data)
        folder, target = self._file(sha)
        if os.path.exists(target):
            return sha
        try:
            self._write(folder, target, zlib.compress(data, 6))
        except OSError as exc:  # a full disk, a folder turned read-only: every later blob would fail too
            raise BlobFolderFailedError(f"the blob folder {self.root} failed: {exc.strerror or exc}") from exc
        return sha

    @staticmethod
    def _write(folder: str, target: str, compressed: bytes) -> None:
        # The fan-out folder only: a root gone in use fails here (the store made it when it opened).
        with contextlib.suppress(FileExistsError):
            os.mkdir(folder)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(compressed)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(folder)

    def get(self, sha256: str) -> bytes:
        return b"".join(self._inflated(sha256))

    def _inflated(self, sha256: str) -> Iterator[bytes]:
        """The blob's bytes a piece at a time (:func:`_inflate_pieces`); every way it can fail is a
        :class:`BlobError` naming it."""
        try:
            with open(self._file(sha256)[1], "rb") as handle:
                yield from _inflate_pieces(handle)
        except FileNotFoundError:
            raise BlobError(f"blob {sha256} is missing from {self.root}") from None
        except zlib.error as exc:
            raise BlobError(f"blob {sha256} in {self.root} is corrupt: {exc}") from None
        except OSError as exc:  # unreadable (its permissions, a failing disk): this blob's problem, said as one
            raise BlobError(f"blob {sha256} in {self.root} cannot be read: {exc.strerror}") from None

    def exists(self, sha256: str) -> bool:
        return os.path.isfile(self._file(sha256)[1])

    def check(self, sha256: str) -> str | None:
        """None when the blob is present and hashes to its name, else the problem.

        Inflated and hashed a piece at a time: a blob is never held whole here, so a tampered one that inflates
        to gigabytes (a zlib stream of zeros) costs ``verify`` time, not the machine's memory."""
        digest = hashlib.sha256()
        try:
            for piece in self._inflated(sha256):
                digest.update(piece)
        except BlobError as exc:
            return str(exc)
        actual = digest.hexdigest()
        return None if actual == sha256 else f"content hashes to {actual}"

    def names(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and len(folder.name) == 2:
                for blob in sorted(folder.iterdir()):
                    if not blob.name.startswith(".tmp-"):
                        yield folder.name + blob.name

    def verify(self) -> Iterator[BlobMismatch]:
        """Re-hash every stored blob; yield each one that does not match its name."""
        for sha in self.names():
            problem = self.check(sha)
            if problem:
                yield BlobMismatch(sha, self.path(sha), problem)

    def orphan_temporaries(self) -> list[Path]:
        """Temporary files a crash left behind (harmless; removed by ``clean``)."""
        return sorted(self.root.glob("*/.tmp-*")) if self.root.is_dir() else []


# Pieces a blob is read in: the compressed bytes read at once, and the most one of them inflates to at a time.
_READ_BYTES = 1 << 20
_INFLATE_BYTES = 4 << 20


def _inflate_pieces(handle: BinaryIO) -> Iterator[bytes]:
    """What a blob file inflates to, in pieces of bounded size: one whole zlib stream and nothing after it
    (``zlib.decompress`` ignores bytes appended to a blob's file, which ``verify`` must see)."""
    inflater = zlib.decompressobj()
    after = 0  # bytes read past the end of the stream
    while piece := handle.read(_READ_BYTES):
        if inflater.eof:
            after += len(piece)
            continue
        data = piece
        while data and not inflater.eof:
            yield inflater.decompress(data, _INFLATE_BYTES)
            data = inflater.unconsumed_tail
        # At the end of the stream the rest of the piece is in unused_data, or, when the output limit stopped the
        # last call, still in unconsumed_tail.
        after += max(len(inflater.unused_data), len(data)) if inflater.eof else 0
    if not inflater.eof:
        raise zlib.error("the compressed stream is cut short")
    if after:
        raise zlib.error(f"{after} byte(s) after the compressed stream")


def _fsync_dir(path: str) -> None:
    # The rename is only durable once the folder entry is on disk.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

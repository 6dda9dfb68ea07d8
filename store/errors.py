"""The store's own errors, apart from what raises them: the blob folder and the database both fail as the store."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot do what was asked; the message says why."""


class CorruptValueError(StoreError):
    """A value read from the database is not of its column's kind (edited or damaged by hand); the message says
    which value."""


class StoreFailedError(StoreError):
    """The database or the blob folder failed while in use: a full disk, a database server gone, an I/O error.

    Nothing about one document: every later write would fail the same way, so
    a crawl stops at the first (decision 0013, "Third review"). What was being
    written is not half-written: a blob is renamed into place only once whole,
    a row is written in a transaction.
    """


class BlobFolderFailedError(StoreFailedError):
    """The blob folder failed while a blob was written (the database is fine as far as is known)."""

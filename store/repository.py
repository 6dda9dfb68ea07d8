"""The store's front door: one :class:`Store` handle over the database, with a repository per aggregate.

``Store.open(url, blobs)`` gives a :class:`~store.database.Database` (engine,
blobs, sessions) whose repositories split the work as Open Terms Archive's
engine separates its storage:

- ``store.catalog`` (:mod:`store.catalog`): platforms and documents, ``status``;
- ``store.history`` (:mod:`store.history`): versions, snapshots, fetch sequence;
- ``store.recording`` (:mod:`store.recording`): recording fetches, rebuilding histories
  (imported when first used: commands that only read never load it);
- changes, the one read model of "what changed" (:mod:`store.change_records`), and
  jobs and leases (:mod:`store.job_runs`) are functions over the same handle.

The names importers used before the split (errors, ``make_engine``…) are
importable from here as well; the recording's own are in :mod:`store.recording`.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from store.blobs import BlobStore
from store.catalog import Catalog, DocumentStatus
from store.database import (
    OPEN_MODES,
    SUPPORTED_DATABASES,
    BlobFolderMissingError,
    Database,
    StoreNotFoundError,
    StoreSchemaError,
    StoreUnavailableError,
    UnknownDocumentError,
    describe_url,
    make_engine,
)
from store.errors import StoreError, StoreFailedError
from store.history import History

if TYPE_CHECKING:
    from store.recording import Recording

__all__ = [
    "OPEN_MODES", "SUPPORTED_DATABASES", "BlobFolderMissingError", "DocumentStatus", "Store", "StoreError",
    "StoreFailedError", "StoreNotFoundError", "StoreSchemaError", "StoreUnavailableError", "UnknownDocumentError",
    "describe_url", "make_engine",
]


class Store(Database):
    """A database with its repositories: ``catalog``, ``history`` and ``recording``."""

    def __init__(self, engine: Engine, blobs: BlobStore):
        super().__init__(engine, blobs)
        self.catalog = Catalog(self)
        self.history = History(self)

    @cached_property
    def recording(self) -> Recording:
        # Imported on first use: it brings the capture log and WARC writing (warcio), which only recording needs.
        from store.recording import Recording

        return Recording(self, self.history)

"""The store's front door: one :class:`Store` handle over the database, with a repository per aggregate.

``Store.open(url, blobs)`` gives a :class:`~store.database.Database` (engine,
blobs, sessions) whose repositories split the work as Open Terms Archive's
engine separates its storage:

- ``store.catalog`` (:mod:`store.catalog`): platforms and documents, ``status``;
- ``store.history`` (:mod:`store.history`): versions, snapshots, fetch sequence;
- ``store.recording`` (:mod:`store.recording`): recording fetches, rebuilding histories;
- changes, the one read model of "what changed" (:mod:`store.change_records`), and
  jobs and leases (:mod:`store.job_runs`) are functions over the same handle.

The names importers used before the split (errors, ``make_engine``,
``RecordResult``…) are importable from here as well.
"""

from __future__ import annotations

from sqlalchemy import Engine

from store.blobs import BlobStore
from store.catalog import Catalog, DocumentStatus
from store.database import (
    OPEN_MODES,
    SUPPORTED_DATABASES,
    Database,
    StoreError,
    StoreNotFoundError,
    StoreSchemaError,
    StoreUnavailableError,
    UnknownDocumentError,
    describe_url,
    make_engine,
)
from store.history import History
from store.recording import SHRINK_CONFIRMATIONS, AnalyzeVersion, RebuiltRun, Recorder, RecordResult

__all__ = [
    "OPEN_MODES", "SHRINK_CONFIRMATIONS", "SUPPORTED_DATABASES", "AnalyzeVersion", "DocumentStatus", "RebuiltRun",
    "RecordResult", "Store", "StoreError", "StoreNotFoundError", "StoreSchemaError", "StoreUnavailableError",
    "UnknownDocumentError", "describe_url", "make_engine",
]


class Store(Database):
    """A database with its repositories: ``catalog``, ``history`` and ``recording``."""

    def __init__(self, engine: Engine, blobs: BlobStore):
        super().__init__(engine, blobs)
        self.catalog = Catalog(self)
        self.history = History(self)
        self.recording = Recorder(self, self.history)

"""The store's front door: one :class:`Store` handle over the database, with a repository per aggregate.

``Store.open(url, blobs)`` gives a :class:`~store.database.Database` (engine,
blobs, sessions) whose repositories split the work as Open Terms Archive's
engine separates its storage:

- ``store.catalog`` (:mod:`store.catalog`): platforms and documents, ``status``;
- ``store.history`` (:mod:`store.history`): versions, snapshots, fetch sequence;
- ``store.recording`` (:mod:`store.recording`): recording fetches, rebuilding histories
  (imported when first used: commands that only read never load it);
- everything else is a module of functions (or a small class) over the same handle:
  changes, the one read model of "what changed" (:mod:`store.change_records`); jobs and
  leases (:mod:`store.job_runs`); the capture log (:mod:`store.capture_log`, ``CaptureLog(store)``)
  and its check (:mod:`store.log_check`); the reads behind the site (:mod:`store.site_data`),
  evidence bundles (:mod:`store.evidence_data`), citations (:mod:`store.citing`) and
  ``show --at`` (:mod:`store.timeline`); alert claims (:mod:`store.notifications`), learned
  volatile values (:mod:`store.volatile`), ``status``' health (:mod:`store.health`),
  re-analysis (:mod:`store.analysis_queries`) and ``verify``'s clause check (:mod:`store.clause_check`).

The store's errors and ``make_engine`` are importable from here as well; the recording's own
names are in :mod:`store.recording`.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from store.blobs import BlobStore
from store.catalog import Catalog
from store.database import (
    BlobFolderMissingError,
    Database,
    StoreNotFoundError,
    StoreSchemaError,
    StoreUnavailableError,
    UnknownDocumentError,
    make_engine,
)
from store.errors import StoreError, StoreFailedError
from store.history import History

if TYPE_CHECKING:
    from store.recording import Recording

__all__ = [
    "BlobFolderMissingError", "Store", "StoreError", "StoreFailedError", "StoreNotFoundError", "StoreSchemaError",
    "StoreUnavailableError", "UnknownDocumentError", "make_engine",
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

"""How much disk the store takes: its database and its blobs (``status`` shows it)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from store.database import sqlite_path
from store.repository import Store


@dataclass(frozen=True)
class StoreSize:
    database_bytes: int
    blob_bytes: int
    blobs: int

    @property
    def total_bytes(self) -> int:
        return self.database_bytes + self.blob_bytes


def store_size(store: Store) -> StoreSize:
    """The database's size (SQLite's file and its journal, or PostgreSQL's ``pg_database_size``) and the blobs'."""
    blob_bytes, blobs = _folder_size(store.blobs.root)
    return StoreSize(_database_bytes(store), blob_bytes, blobs)


def _database_bytes(store: Store) -> int:
    path = sqlite_path(store.engine)
    if path is not None:
        files = (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        return sum(file.stat().st_size for file in files if file.is_file())
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as connection:
            return int(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    return 0


def _folder_size(root: Path) -> tuple[int, int]:
    """Bytes and files under ``root`` (0, 0 when it does not exist)."""
    total = count = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            total += os.stat(os.path.join(folder, name)).st_size
            count += 1
    return total, count

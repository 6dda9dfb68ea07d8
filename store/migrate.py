"""Alembic migrations, run programmatically: the schema is owned by
``store/migrations`` on SQLite and PostgreSQL alike.

Only ``clausewatch migrate`` and ``clausewatch init`` change a schema; every
other command checks it with :func:`schema_state` and refuses a store that is
missing, behind, ahead of this code, or not ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"

# Key of the PostgreSQL advisory lock taken while migrating, so two processes
# upgrading one database at once run the migrations one after the other.
# Any constant works; this one reads "clausewat" in ASCII.
MIGRATION_LOCK_KEY = 0x636C617573657761


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this code's migrations."""

    current: tuple[str, ...]  # revisions recorded in the database (empty: none)
    heads: tuple[str, ...]  # the newest revisions this code knows
    known: bool  # every current revision is one of this code's migrations
    foreign_tables: tuple[str, ...]  # tables present although no revision is recorded

    @property
    def up_to_date(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def empty(self) -> bool:
        return not self.current and not self.foreign_tables


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_state(engine: Engine) -> SchemaState:
    """Read (never write) the database's schema revision and compare it with this code's."""
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as connection:
        current = tuple(MigrationContext.configure(connection).get_current_heads())
        tables = () if current else tuple(sorted(inspect(connection).get_table_names()))
    known = all(_is_known(scripts, revision) for revision in current)
    return SchemaState(current, tuple(scripts.get_heads()), known, tables)


def _is_known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for a revision it has never heard of
        return False


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent), one migrating process at a time on PostgreSQL."""
    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """A session-level advisory lock on PostgreSQL; SQLite serialises writers itself."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        _advisory(connection, "pg_advisory_lock")
        try:
            yield
        finally:
            _advisory(connection, "pg_advisory_unlock")


def _advisory(connection: Connection, function: str) -> None:
    connection.execute(text(f"SELECT {function}(:key)"), {"key": MIGRATION_LOCK_KEY})
    connection.commit()

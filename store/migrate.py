"""Alembic migrations, run programmatically: the schema is owned by
``store/migrations`` on SQLite and PostgreSQL alike.

Only ``clausewatch migrate`` and ``clausewatch init`` change a schema; every
other command checks it with :func:`schema_state` and refuses a store that is
missing, behind, ahead of this code, or not ours.

Alembic (with Mako and Pygments) costs about 0.3 CPU-s to import and read its
scripts, paid by every command that opens a store. So the store's
``alembic_version`` is first compared with the heads of the revision files,
read with ``ast``; only a store behind them, or files that cannot be read so,
bring in Alembic (decision 0014).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"

# Key of the PostgreSQL advisory lock taken while migrating, so two processes
# upgrading one database at once run the migrations one after the other.
# Any constant works; this one reads "clausewat" in ASCII.
MIGRATION_LOCK_KEY = 0x636C617573657761
# Where a revision file's first top-level function starts: its identifiers are above it.
_TOP_FUNCTION = re.compile(rb"^def ", re.MULTILINE)


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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_state(engine: Engine) -> SchemaState:
    """Read (never write) the database's schema revision and compare it with this code's."""
    current = stored_revisions(engine)
    heads = script_heads(MIGRATIONS / "versions")
    if current and heads is not None and current == heads:  # the usual case, without Alembic
        return SchemaState(tuple(sorted(current)), tuple(sorted(heads)), True, ())
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as connection:
        tables = () if current else tuple(sorted(inspect(connection).get_table_names()))
    known = all(_is_known(scripts, revision) for revision in current)
    return SchemaState(tuple(sorted(current)), tuple(scripts.get_heads()), known, tables)


def _is_known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for a revision it has never heard of
        return False


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent), one migrating process at a time on PostgreSQL."""
    if revision == "head" and is_at_head(engine):
        return
    from alembic import command

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


def is_at_head(engine: Engine) -> bool:
    """Whether the store's schema is at the newest revision of ``store/migrations`` (False when unsure)."""
    heads = script_heads(MIGRATIONS / "versions")
    return heads is not None and stored_revisions(engine) == heads


def stored_revisions(engine: Engine) -> set[str]:
    """The revisions ``alembic_version`` records (none for a new database)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return set()
        return set(connection.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))


def script_heads(folder: Path) -> set[str] | None:
    """Revisions no other revision file names as its ``down_revision``; None if a file cannot be read so."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(folder.glob("*.py")):
        found = _revision_of(path)
        if found is None:
            return None
        revision, down = found
        revisions.add(revision)
        parents.update(down)
    return revisions - parents or None


def _revision_of(path: Path) -> tuple[str, set[str]] | None:
    """A revision file's ``revision`` and ``down_revision``, read from the lines above its first function.

    Alembic writes them there; parsing the migrations' bodies too took ~4 ms of every command that
    opens a store. A file that keeps them anywhere else is one that cannot be read so (None).
    """
    try:
        tree = ast.parse(_TOP_FUNCTION.split(path.read_bytes(), 1)[0], filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and node.value:
                    try:
                        values[target.id] = ast.literal_eval(node.value)
                    except (ValueError, TypeError, SyntaxError):
                        return None
    revision, down = values.get("revision"), values.get("down_revision", ...)
    if not isinstance(revision, str):
        return None
    if down is None:
        return revision, set()
    if isinstance(down, str):
        return revision, {down}
    if isinstance(down, tuple | list) and all(isinstance(each, str) for each in down):
        return revision, set(down)
    return None

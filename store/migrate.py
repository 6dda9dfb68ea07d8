"""Alembic migrations, run programmatically: the schema is owned by
``store/migrations`` on SQLite and PostgreSQL alike.

Alembic (with Mako and Pygments) costs about 0.3 CPU-s to import and read its
scripts, paid by every command that opens a store. ``upgrade`` to head first
compares the store's ``alembic_version`` with the heads of the revision files,
read with ``ast``; only a store behind them, or files it cannot read, bring in
Alembic (decision 0014).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    if revision == "head" and is_at_head(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


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
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
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

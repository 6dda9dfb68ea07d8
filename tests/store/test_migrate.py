"""Migrations: a store already at head is recognised without importing Alembic; any other store is upgraded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from store.migrate import MIGRATIONS, alembic_config, is_at_head, script_heads, stored_revisions, upgrade
from store.repository import make_engine

REPO = Path(__file__).resolve().parents[2]


def test_the_heads_read_from_the_files_are_alembics(sqlite_url):
    engine = make_engine(sqlite_url)
    assert script_heads(MIGRATIONS / "versions") == set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def test_a_new_store_is_migrated_and_then_at_head(store_url):
    engine = make_engine(store_url)
    assert stored_revisions(engine) == set() and not is_at_head(engine)
    upgrade(engine)
    assert is_at_head(engine)
    upgrade(engine)  # idempotent
    assert stored_revisions(engine) == script_heads(MIGRATIONS / "versions")
    engine.dispose()


def test_a_store_behind_head_is_upgraded(store_url):
    engine = make_engine(store_url)
    upgrade(engine)
    command.downgrade(alembic_config(engine), "-1")
    assert not is_at_head(engine)
    upgrade(engine)
    assert is_at_head(engine)
    engine.dispose()


def test_opening_a_store_at_head_does_not_import_alembic(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    code = (f"from pathlib import Path\nfrom store.repository import Store\n"
            f"Store.open({sqlite_url!r}, Path({str(tmp_path / 'objects')!r})).close()\n"
            "import json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert "alembic" not in json.loads(done.stdout)


def write(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(body)


def test_script_heads_follow_branches_and_merges_and_give_up_on_what_they_cannot_read(tmp_path):
    write(tmp_path, "a.py", "revision = 'a'\ndown_revision = None\n")
    write(tmp_path, "b.py", "revision: str = 'b'\ndown_revision = 'a'\n")
    write(tmp_path, "c.py", "revision = 'c'\ndown_revision = 'a'\n")
    assert script_heads(tmp_path) == {"b", "c"}
    write(tmp_path, "m.py", "revision = 'm'\ndown_revision = ('b', 'c')\n")
    assert script_heads(tmp_path) == {"m"}
    write(tmp_path, "n.py", "revision = 'n'\ndown_revision = 'm'\n\n\ndef upgrade():\n    revision = 'inner'\n")
    assert script_heads(tmp_path) == {"n"}
    write(tmp_path, "late.py", "def upgrade():\n    pass\n\nrevision = 'late'\ndown_revision = 'n'\n")
    assert script_heads(tmp_path) is None  # only the lines above the first function are read: Alembic decides
    (tmp_path / "late.py").unlink()
    write(tmp_path, "x.py", "revision = make_id()\ndown_revision = 'n'\n")
    assert script_heads(tmp_path) is None

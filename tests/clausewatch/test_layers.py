"""Below the command layer nothing depends on click: the scheduler and the library raise typed errors."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import clausewatch

REPO = Path(__file__).resolve().parents[2]
COMMAND_LAYER = {"cli", "commands"}


def test_no_module_below_the_command_layer_imports_click():
    modules = sorted(f"clausewatch.{m.name}" for m in pkgutil.iter_modules(clausewatch.__path__)
                     if m.name not in COMMAND_LAYER)
    assert "clausewatch.scheduler" in modules and "clausewatch.app" in modules
    probe = "".join(f"import {m}\n" for m in modules) + "import json, sys\nprint(json.dumps('click' in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) is False


def test_a_bad_catalog_where_none_is_allowed_lists_every_problem(tmp_path):
    from clausewatch.app import CatalogError, read_catalog
    from clausewatch.settings import load_settings

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "a.yaml").write_text("name: A\nslug: a\ndocuments: []\n")
    (catalog / "b.yaml").write_text("name: B\n")
    settings = load_settings({}, {"HOME": tmp_path, "CATALOG": catalog})
    try:
        read_catalog(settings, strict=True)
    except CatalogError as error:
        assert len(error.problems) >= 2 and all(p.startswith("catalog: ") for p in error.problems)
        assert {"a.yaml", "b.yaml"} <= {Path(p.split(": ")[1].split(":")[0]).name for p in error.problems}
    else:
        raise AssertionError("a bad catalog was accepted")

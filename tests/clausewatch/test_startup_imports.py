"""Reading commands load only what they use: no crawler, no HTML parser, no scheduler library, no recording.

Behaviour, not timing: each check runs a fresh interpreter and looks at ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

# What ``status`` once imported through the catalog loader and the schedules module.
NOT_FOR_STATUS = {"scrapy", "twisted", "soupsieve", "bs4", "lxml", "apscheduler", "markdownify", "jinja2"}
# What reading commands once imported with the store (its recorder, the capture log's WARC writing) and, for
# ``status``, with the job runner although no schedules file exists (decision 0014, ninth pass).
NOT_FOR_READING = {"store.recording", "store.capture_log", "store.warc", "warcio", "clausewatch.job_runner",
                   "clausewatch.schedules", "store.job_runs"}


def run_and_list_modules(args: list[str], home: Path, catalog: Path) -> set[str]:
    """The modules in ``sys.modules`` after ``clausewatch ARGS`` in a fresh interpreter.

    It runs beside ``home``, where there is no schedules file (reading one needs APScheduler).
    """
    probe = textwrap.dedent(f"""
        import json, sys
        from clausewatch.cli import main
        try:
            main({args!r})
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
        print(json.dumps(sorted(sys.modules)))
    """)
    env = {"PATH": "/usr/bin:/bin", "CLAUSEWATCH_HOME": str(home), "CLAUSEWATCH_CATALOG": str(catalog)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=home.parent, env=env, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def packages(modules: set[str]) -> set[str]:
    return {module.split(".")[0] for module in modules}


def write_platform(folder: Path, extra: str = "") -> None:
    """One platform file with one document; ``extra`` is added to the document's keys."""
    folder.mkdir(exist_ok=True)
    document = "  - type: Terms of Service\n    url: https://example.com/terms\n" + extra
    (folder / "example.yaml").write_text(f"name: Example\nslug: example\ndocuments:\n{document}")


def test_status_reads_store_and_catalog_without_parser_or_scheduler_libraries(tmp_path):
    catalog = tmp_path / "catalog"
    write_platform(catalog)
    run_and_list_modules(["init"], tmp_path / "home", catalog)
    loaded = run_and_list_modules(["status"], tmp_path / "home", catalog)
    assert "sqlalchemy" in loaded and "yaml" in loaded  # it did read the store and the catalog
    assert packages(loaded) & NOT_FOR_STATUS == set()


def test_status_and_changes_read_the_store_without_its_recorder_or_the_job_runner(tmp_path):
    catalog = tmp_path / "catalog"
    write_platform(catalog)
    run_and_list_modules(["init"], tmp_path / "home", catalog)
    # changes reads no catalog, and there is no config file: nothing for PyYAML to parse.
    for command, not_needed in (("status", NOT_FOR_READING), ("changes", NOT_FOR_READING | {"yaml"})):
        loaded = run_and_list_modules([command], tmp_path / "home", catalog)
        assert "store.tables" in loaded  # it did open the store
        assert loaded & not_needed == set(), command


def test_a_catalog_selector_is_still_checked_when_the_catalog_loads(tmp_path):
    from crawler.declarations import load_catalog

    write_platform(tmp_path, '    select: "div["\n')
    errors = [str(error) for error in load_catalog(tmp_path).errors]
    assert len(errors) == 1 and "invalid CSS selector 'div['" in errors[0]

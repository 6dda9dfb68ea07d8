"""Bad input everywhere: every command, each broken setting it reads → a one-line error naming the
setting or file, exit status 2, never a traceback, and nothing written (README, SPEC §10)."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.settings import ENV_PREFIX

# Every command with the arguments it needs to get as far as reading its settings.
COMMANDS = {
    "init": ["init"],
    "migrate": ["migrate"],
    "crawl": ["crawl", "--delay", "0"],
    "status": ["status"],
    "verify": ["verify"],
    "changes": ["changes"],
    "export": ["export"],
    "site": ["site"],
    "digest": ["digest", "--dry-run", "{tmp}/digest"],
    "alerts": ["alerts", "--dry-run", "{tmp}/alerts"],
    "analyze": ["analyze"],
    "reprocess": ["reprocess"],
    "run": ["run", "daily"],
    "schedule": ["schedule", "--once", "daily"],
    "enqueue": ["enqueue"],
    "crawl-worker": ["crawl-worker", "--drain"],
    "demo": ["demo", "--out", "{tmp}/demo"],
    "classify": ["classify", "{tmp}/clauses.jsonl"],
    "import-ota": ["import-ota", "{tmp}/ota", "--to", "{tmp}/catalog"],
}
STORE_COMMANDS = ("crawl", "status", "verify", "changes", "export", "site", "digest", "alerts", "analyze",
                  "reprocess", "run", "schedule", "enqueue", "crawl-worker")
CREATING_COMMANDS = ("init", "migrate")


def _break_database_url(tmp: Path) -> dict[str, str]:
    return {"CLAUSEWATCH_DATABASE_URL": "not a url"}


def _break_database_driver(tmp: Path) -> dict[str, str]:
    return {"CLAUSEWATCH_DATABASE_URL": "mysql://terms@127.0.0.1/terms"}


def _break_database_server(tmp: Path) -> dict[str, str]:
    return {"CLAUSEWATCH_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/test"}


def _break_database_port(tmp: Path) -> dict[str, str]:
    return {"CLAUSEWATCH_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:abc/test"}


def _break_database_file(tmp: Path) -> dict[str, str]:
    (tmp / "not-a.db").write_text("these are my notes, not a database\n")
    return {"CLAUSEWATCH_DATABASE_URL": f"sqlite:///{tmp / 'not-a.db'}"}


def _block_home(tmp: Path) -> dict[str, str]:
    (tmp / "blocked").write_text("a file where the data folder should be\n")
    return {"CLAUSEWATCH_HOME": str(tmp / "blocked")}


def _mistype_home(tmp: Path) -> dict[str, str]:
    return {"CLAUSEWATCH_HOME": str(tmp / "hoem")}


def _mistype_blobs(tmp: Path) -> dict[str, str]:
    _record_a_version(tmp)  # a store with nothing in it yet may still make its blob folder
    return {"CLAUSEWATCH_BLOBS": str(tmp / "home" / "objcts")}


def _record_a_version(tmp: Path) -> None:
    """One fetched text of the catalog's document in the project's store, its blobs in HOME/objects."""
    from analysis.domain import Snapshot
    from analysis.text import sha256_bytes
    from store.repository import Store

    store = Store.open(f"sqlite:///{tmp / 'home' / 'clausewatch.db'}", tmp / "home" / "objects", mode="write")
    try:
        [document] = store.catalog.documents()
        body, url, now = b"<main><p>We may terminate your account.</p></main>", document.spec.sources[0].url, \
            datetime.now(UTC)
        snapshot = Snapshot(sha256_bytes(body), document.id, url, url, 200, "text/html", now, size=len(body))
        store.recording.record_text(document.id, snapshot=snapshot, body=body, text="We may terminate your account.",
                                    started_at=now, finished_at=now)
    finally:
        store.close()


def _break_catalog(tmp: Path) -> dict[str, str]:
    (tmp / "catalog" / "acme.yaml").write_text("name: Acme\nslug: acme\ndocuments:\n  - type: Terms of Service\n"
                                               "    url: http://127.0.0.1:9/terms\n    selects: main\n")
    return {}


def _break_schedules(tmp: Path) -> dict[str, str]:
    (tmp / "schedules.yaml").write_text("jobs:\n  - id: daily\n    action: run\n    cron: [not, a, cron\n")
    return {}


def _break_config(tmp: Path) -> dict[str, str]:
    (tmp / "home" / "config.yaml").write_text("crawl_delay: 2\ncrawl_dealy: 0\n")
    return {}


def _break_config_encoding(tmp: Path) -> dict[str, str]:
    (tmp / "home" / "config.yaml").write_bytes(b"crawl_delay: 2\n\xff\n")
    return {}


def _break_subscribers(tmp: Path) -> dict[str, str]:
    (tmp / "home" / "subscribers.yaml").write_text("subscribers: [{email: a@example.org\n")
    return {}


# PyYAML composes nested nodes by recursion: 600 levels ended every command reading the file in a RecursionError.
NESTED = "[" * 600 + "]" * 600


def _nest_catalog(tmp: Path) -> dict[str, str]:
    (tmp / "catalog" / "acme.yaml").write_text(f"name: Acme\nslug: acme\ntags: {NESTED}\n")
    return {}


def _nest_schedules(tmp: Path) -> dict[str, str]:
    (tmp / "schedules.yaml").write_text(f"jobs:\n  - id: daily\n    action: run\n    select: {NESTED}\n")
    return {}


def _nest_config(tmp: Path) -> dict[str, str]:
    (tmp / "home" / "config.yaml").write_text(f"crawl_delay: 2\nsite_dir: {NESTED}\n")
    return {}


def _nest_subscribers(tmp: Path) -> dict[str, str]:
    (tmp / "home" / "subscribers.yaml").write_text(f"subscribers:\n  - email: a@example.org\n    tags: {NESTED}\n")
    return {}


# Values PyYAML builds itself and cannot: each ended every command that read its file in a ValueError traceback
# (probe of 2026-12-03).
LONG_NUMBER = "9" * 5000


def _impossible_date_in_catalog(tmp: Path) -> dict[str, str]:
    (tmp / "catalog" / "acme.yaml").write_text("name: Acme\nslug: acme\nupdated: 2026-02-30\n")
    return {}


def _long_number_in_config(tmp: Path) -> dict[str, str]:
    (tmp / "home" / "config.yaml").write_text(f"crawl_delay: 2\ncrawl_max_bytes: {LONG_NUMBER}\n")
    return {}


def _impossible_date_in_subscribers(tmp: Path) -> dict[str, str]:
    (tmp / "home" / "subscribers.yaml").write_text("subscribers:\n  - email: a@example.org\n    name: 2026-13-01\n")
    return {}


def _long_jitter_in_schedules(tmp: Path) -> dict[str, str]:
    (tmp / "schedules.yaml").write_text(f"jobs:\n  - id: daily\n    action: run\n    cron: \"0 5 * * *\"\n"
                                        f"    jitter: {LONG_NUMBER}\n")
    return {}


def _alias_in_itself_in_catalog(tmp: Path) -> dict[str, str]:
    # It passed the alias guard (its anchor was marked only once its part was done) and ended in json.dumps.
    (tmp / "catalog" / "acme.yaml").write_text(
        "name: Acme\nslug: acme\ndocuments:\n  - type: Terms of Service\n    url: http://127.0.0.1:9/terms\n"
        "    filters:\n      - removeQueryParams: &a [utm, *a]\n")
    return {}


def _break_setting_type(tmp: Path) -> dict[str, str]:
    return {"CLAUSEWATCH_CRAWL_DELAY": "two seconds"}


def _break_setting_range(tmp: Path) -> dict[str, str]:
    return {"CLAUSEWATCH_CRAWL_CONCURRENCY": "0"}  # a crawl that may open no request waits for ever


def _mistype_variable(tmp: Path) -> dict[str, str]:
    return {ENV_PREFIX + "CRAWL_DELAYS": "5"}  # spelled apart: not counted as a variable the tests use


def _break_log_level(tmp: Path) -> dict[str, str]:
    return {"CLAUSEWATCH_LOG_LEVEL": "LOUD"}


# Each broken setting: how to break it, what the error line must name, and the commands that read it.
BROKEN = {
    "database url": (_break_database_url, "DATABASE_URL", STORE_COMMANDS + CREATING_COMMANDS),
    "database driver": (_break_database_driver, "DATABASE_URL", STORE_COMMANDS + CREATING_COMMANDS),
    "database server": (_break_database_server, "DATABASE_URL", STORE_COMMANDS + CREATING_COMMANDS),
    "database port": (_break_database_port, "DATABASE_URL", STORE_COMMANDS + CREATING_COMMANDS),
    "database file": (_break_database_file, "DATABASE_URL", STORE_COMMANDS + CREATING_COMMANDS),
    "home blocked by a file": (_block_home, "HOME", STORE_COMMANDS + CREATING_COMMANDS),
    "home mistyped": (_mistype_home, "HOME", STORE_COMMANDS),
    "blob folder mistyped": (_mistype_blobs, "(BLOBS, CLAUSEWATCH_BLOBS) does not exist", STORE_COMMANDS),
    "catalog file": (_break_catalog, "acme.yaml", ("init", "crawl", "status", "run", "schedule", "enqueue")),
    "schedules file": (_break_schedules, "schedules.yaml", ("status", "run", "schedule")),
    "config file": (_break_config, "config.yaml", tuple(COMMANDS)),
    "config file not UTF-8": (_break_config_encoding, "config.yaml:2: not UTF-8 text", tuple(COMMANDS)),
    "setting value": (_break_setting_type, "CLAUSEWATCH_CRAWL_DELAY", tuple(COMMANDS)),
    "setting range": (_break_setting_range, "CLAUSEWATCH_CRAWL_CONCURRENCY", tuple(COMMANDS)),
    "log level": (_break_log_level, "CLAUSEWATCH_LOG_LEVEL", tuple(COMMANDS)),
    "mistyped variable": (_mistype_variable, "did you mean CLAUSEWATCH_CRAWL_DELAY?", tuple(COMMANDS)),
    "subscribers file": (_break_subscribers, "subscribers.yaml", ("digest", "alerts", "run", "schedule")),
    "catalog nested deep": (_nest_catalog, "acme.yaml:3: (file): invalid YAML: nested more than 100 levels deep",
                            ("init", "crawl", "status", "run", "schedule", "enqueue")),
    "schedules nested deep": (_nest_schedules, "schedules.yaml:4: not valid YAML: nested more than 100 levels",
                              ("status", "run", "schedule")),
    # Every command reads the config through one loader: three stand for the others.
    "config nested deep": (_nest_config, "config.yaml:2: not valid YAML: nested more than 100 levels deep",
                           ("init", "status", "classify")),
    "subscribers nested deep": (_nest_subscribers, "subscribers.yaml:3:", ("digest", "alerts", "run", "schedule")),
    "catalog impossible date": (_impossible_date_in_catalog, "acme.yaml:3: (file): invalid YAML: '2026-02-30' is not "
                                "a valid timestamp", ("init", "crawl", "status", "run", "schedule", "enqueue")),
    "config long number": (_long_number_in_config, "config.yaml:2: not valid YAML: '9999", ("init", "status",
                                                                                           "classify")),
    "subscribers impossible date": (_impossible_date_in_subscribers, "subscribers.yaml:3:", ("digest", "alerts", "run",
                                                                                             "schedule")),
    "schedules long jitter": (_long_jitter_in_schedules, "schedules.yaml:5: job 'daily': jitter", ("status", "run",
                                                                                                  "schedule")),
    "catalog alias in itself": (_alias_in_itself_in_catalog, "acme.yaml:7: (file): invalid YAML: the alias *a refers "
                                "to the part it is in", ("init", "crawl", "status", "run", "schedule", "enqueue")),
}

# A tracked document its broken catalog file no longer declares is recorded as a failed fetch by the
# commands that crawl (decision 0013: nothing lost, nothing silent); nothing else writes on bad input.
RECORDS_ON_BAD_INPUT = {(broken, command) for broken in ("catalog file", "catalog nested deep",
                                                          "catalog impossible date", "catalog alias in itself")
                        for command in ("crawl", "run", "schedule")}

CASES = [pytest.param(command, broken, id=f"{command}-{broken.replace(' ', '-')}")
         for broken, (_how, _named, commands) in BROKEN.items() for command in commands]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working set-up (store, catalog, schedules, subscribers) that each case then breaks once."""
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "acme.yaml").write_text(
        "name: Acme\nslug: acme\ndocuments:\n  - type: Terms of Service\n    url: http://127.0.0.1:9/terms\n")
    (tmp_path / "schedules.yaml").write_text("jobs:\n  - id: daily\n    action: run\n    cron: \"0 5 * * *\"\n")
    (tmp_path / "ota").mkdir()
    (tmp_path / "clauses.jsonl").write_text('{"text": "We may terminate your account at any time."}\n')
    result = CliRunner().invoke(main, ["init"], env=_env(tmp_path, {}), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (tmp_path / "home" / "subscribers.yaml").write_text("subscribers:\n  - email: legal@example.org\n")
    return tmp_path


def _env(tmp: Path, extra: dict[str, str]) -> dict[str, str]:
    return {"CLAUSEWATCH_HOME": str(tmp / "home"), "CLAUSEWATCH_CATALOG": str(tmp / "catalog"),
            "CLAUSEWATCH_SCHEDULES": str(tmp / "schedules.yaml"), "CLAUSEWATCH_DATABASE_URL": "",
            "CLAUSEWATCH_CRAWL_REDIS_URL": "redis://127.0.0.1:6379/15", **extra}


@pytest.mark.parametrize("command, broken", CASES)
def test_every_command_names_the_broken_setting_and_exits_2(project: Path, command: str, broken: str):
    how, named, _commands = BROKEN[broken]
    env = _env(project, how(project))
    args = [arg.replace("{tmp}", str(project)) for arg in COMMANDS[command]]
    before = _contents(project)
    result = CliRunner().invoke(main, args, env=env)
    problem = f"`clausewatch {' '.join(args)}` with a broken {broken}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (problem, result.exception)
    assert "Traceback" not in result.output, problem
    assert result.exit_code == 2, (problem, result.output)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors, (problem, result.stderr)
    assert any(named in line for line in result.stderr.splitlines()), (problem, named, result.stderr)
    assert all(len(line) < 1000 for line in result.stderr.splitlines()), problem
    if (broken, command) not in RECORDS_ON_BAD_INPUT:
        assert _contents(project) == before, (problem, "wrote to the project")


def _contents(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with a hash of its bytes (folders too, so a new empty one shows)."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "/"
            for path in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("args, said", [
    # The setting refused these, the flag let a crawl hang for ever.
    (["crawl", "--delay", "inf"], "Invalid value for '--delay': expects "),
    (["crawl", "--delay", "nan"], "Invalid value for '--delay': expects "),
    (["crawl", "--concurrency", "0"], "Invalid value for '--concurrency': expects "),
    (["crawl-worker", "--delay", "inf"], "Invalid value for '--delay': expects "),
    (["site", "--base-url", "ftp:notaurl"], "Invalid value for '--base-url': expects "),
    # Path("") is ".": `evidence --out ''` said ". exists", `site --out ''` that "." is not empty (an unset variable).
    (["evidence", "CW-P-000001", "--out", ""], "Invalid value for '--out': is empty: name a path"),
    (["site", "--out", ""], "Invalid value for '--out': is empty: name a path"),
    (["digest", "--dry-run", " "], "Invalid value for '--dry-run': is empty: name a path"),
    (["--home", "", "status"], "Invalid value for '--home': is empty: name a path"),
])
def test_a_flag_value_its_option_refuses_is_named_and_nothing_is_written(project: Path, args: list[str], said: str):
    before = _contents(project)
    result = CliRunner().invoke(main, args, env=_env(project, {}))
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert _contents(project) == before


@pytest.mark.parametrize("args, said", [
    (["status"], "DATABASE_URL (--database-url, CLAUSEWATCH_DATABASE_URL): cannot use {loops}/loop.db: its symbolic "
                 "links make a loop"),
    (["init"], "cannot use {loops}/loop.db: its symbolic links make a loop"),
    (["crawl"], "cannot use {loops}/loop.db: its symbolic links make a loop"),
    (["demo", "--out", "{loops}/loop"], "Invalid value for '--out': '{loops}/loop': its symbolic links make a loop"),
])
def test_a_loop_of_symbolic_links_is_named_not_a_traceback(project: Path, tmp_path_factory, args: list[str],
                                                           said: str):
    # Path.resolve() raised RuntimeError: a 40-line traceback, exit 1 (probe of 2026-12-03).
    loops = tmp_path_factory.mktemp("loops")
    for name in ("loop.db", "loop"):
        (loops / name).symlink_to(name)
    env = _env(project, {"CLAUSEWATCH_DATABASE_URL": f"sqlite:///{loops}/loop.db"})
    result = CliRunner().invoke(main, [arg.replace("{loops}", str(loops)) for arg in args], env=env)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and said.replace("{loops}", str(loops)) in errors[0], result.stderr


@pytest.mark.parametrize("args, setting", [
    (["site", "--out", "{tmp}/notes.txt/site/deeper"], "SITE_DIR"),
    (["digest", "--dry-run", "{tmp}/notes.txt/digest"], "digest --dry-run"),
    (["demo", "--out", "{tmp}/notes.txt/demo"], "demo --out"),
])
def test_an_output_folder_blocked_by_a_file_names_that_file(project: Path, args: list[str], setting: str):
    (project / "notes.txt").write_text("my notes, where a folder's parent should be\n")
    before = _contents(project)
    args = [arg.replace("{tmp}", str(project)) for arg in args]
    result = CliRunner().invoke(main, args, env=_env(project, {}))
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert setting in errors[0] and f"{project / 'notes.txt'} is in the way" in errors[0], errors[0]
    assert _contents(project) == before


@pytest.mark.parametrize("args", [["show", "CW-D-00001"], ["evidence", "CW-D-00001", "--out", "{tmp}/e.zip"],
                                  ["sign-log"]], ids=["show", "evidence", "sign-log"])
def test_a_mistyped_blob_folder_is_named_by_the_commands_that_read_one_record_too(project: Path, args: list[str]):
    env = _env(project, _mistype_blobs(project))
    before = _contents(project)
    result = CliRunner().invoke(main, [arg.replace("{tmp}", str(project)) for arg in args], env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"Error: the blob folder {project / 'home' / 'objcts'} (BLOBS, CLAUSEWATCH_BLOBS) does not exist, but the "
        "store holds 1 version(s) and 1 snapshot(s): is BLOBS mistyped?"]
    assert _contents(project) == before


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder the OS refuses to write in, even for root (the suite runs as root in CI): immutable (chattr +i)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    subprocess.run(["chattr", "+i", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


@pytest.mark.parametrize("args, named", [
    # Each ran its work, then failed once per file: FAILED PermissionError for each message, exit 1.
    (["digest", "--dry-run", "{ro}"], "digest --dry-run: cannot write in {ro}: Operation not permitted"),
    (["alerts", "--dry-run", "{ro}"], "alerts --dry-run: cannot write in {ro}: Operation not permitted"),
    # These named the random temporary file they tried beside the output.
    (["export", "--out", "{ro}/records.jsonl"], "--out: cannot write {ro}/records.jsonl: Operation not permitted"),
    (["export", "--wacz", "{ro}/archive.wacz"], "--wacz: cannot write {ro}/archive.wacz: Operation not permitted"),
    (["import-ota", "{tmp}/ota", "--to", "{ro}"], "cannot use {ro}/Acme.json: Operation not permitted"),
], ids=["digest", "alerts", "export", "export-wacz", "import-ota"])
def test_an_output_folder_the_os_refuses_is_named_with_its_option(project: Path, read_only_folder: Path,
                                                                   args: list[str], named: str):
    (project / "ota" / "Acme.json").write_text('{"name": "Acme", "terms": {"Terms of Service": '
                                               '{"fetch": "http://127.0.0.1:9/terms", "select": "main"}}}')
    (project / "home" / "subscribers.yaml").write_text("subscribers:\n  - email: legal@example.org\n    alerts: true\n")
    args = [arg.replace("{tmp}", str(project)).replace("{ro}", str(read_only_folder)) for arg in args]
    result = CliRunner().invoke(main, args, env=_env(project, {}))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1] == "Error: " + named.replace("{ro}", str(read_only_folder))
    assert list(read_only_folder.iterdir()) == []


@pytest.mark.parametrize("command", ["digest", "alerts"])
@pytest.mark.parametrize("host", ["", "a..b", " mail.example.org"])
def test_an_smtp_host_that_is_no_host_is_bad_input_before_any_message(project: Path, command: str, host: str):
    # "" failed each message with "please run connect() first", "a..b" with an idna UnicodeError: exit 1.
    (project / "home" / "subscribers.yaml").write_text("subscribers:\n  - email: legal@example.org\n    alerts: true\n")
    before = _contents(project)
    result = CliRunner().invoke(main, [command, "--send"], env=_env(project, {"CLAUSEWATCH_SMTP_HOST": host}))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"Error: SMTP_HOST (CLAUSEWATCH_SMTP_HOST): {host!r} is not a host name or address"]
    assert _contents(project) == before


def test_a_file_option_written_as_a_folder_is_refused(project: Path):
    # `--wacz exports/archive.wacz/` wrote a file named archive.wacz.
    result = CliRunner().invoke(main, ["export", "--wacz", f"{project}/archive.wacz/"], env=_env(project, {}))
    assert result.exit_code == 2, result.output
    assert f"'{project}/archive.wacz/' ends in '/', as a folder's name does: name a file" in result.stderr
    assert not (project / "archive.wacz").exists()


@pytest.mark.parametrize("column, value, what, command", [
    ("versions.first_seen", "garbage", "'garbage' where a date and time should be", ["verify"]),
    ("clauses.types", "not json", "'not json' where JSON should be", ["export"]),
])
def test_a_value_edited_into_the_database_is_named_not_a_traceback(project: Path, column: str, value: str, what: str,
                                                                   command: list[str]):
    # verify ended in "ValueError: Invalid isoformat string" from deep in SQLAlchemy (review of 2026-12-02).
    import sqlite3

    _record_a_version(project)
    table, _, field = column.partition(".")
    with sqlite3.connect(project / "home" / "clausewatch.db") as database:
        if table == "clauses":
            database.execute("INSERT INTO clauses (version_id, ordinal, key, heading_path, text, sha256, types, "
                             "evidence) SELECT id, 0, 'k', '[]', 'x', 'x', '[]', '[]' FROM versions")
        database.execute(f"UPDATE {table} SET {field} = ?", (value,))
    database.close()
    result = CliRunner().invoke(main, command, env=_env(project, {}))
    assert result.exit_code == 2, result.output
    [error] = result.stderr.splitlines()
    assert error.startswith(f"Error: the store holds {what} (")
    assert error.endswith("): the database was edited or damaged outside clausewatch")

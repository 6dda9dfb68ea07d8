"""The thin CLI over the library: init, crawl, status --json and verify, with meaningful exit codes."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import zlib

import pytest
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page

POLICY = b"<main><h1>Terms</h1><h2>1. Use</h2><p>By using the service you accept these terms.</p></main>"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write_catalog(folder, site):
    folder.mkdir()
    (folder / "acme.yaml").write_text(
        "name: Acme\nslug: acme\ndocuments:\n"
        f"  - type: Terms of Service\n    url: {site.url('/terms')}\n"
        f"  - type: Privacy Policy\n    url: {site.url('/privacy')}\n")


def test_crawl_status_and_verify(tmp_path):
    with LocalSite({"/terms": Page(POLICY)}) as site:
        catalog = tmp_path / "catalog"
        write_catalog(catalog, site)
        base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
        assert invoke(*base, "init").exit_code == 0

        before = json.loads(invoke(*base, "status", "--json").output)
        assert [(d["id"], d["last_outcome"], d["versions"]) for d in before["documents"]] == [
            ("CW-D-00001", None, 0), ("CW-D-00002", None, 0)]

        assert invoke(*base, "init").exit_code == 0
        crawl = invoke(*base, "crawl", "--delay", "0", "--concurrency", "2")
        assert crawl.exit_code == 1  # the privacy policy is a 404
        assert "CW-D-00002  failed  http_4xx" in crawl.output

    documents = json.loads(invoke(*base, "status", "--json").output)["documents"]
    assert [(d["id"], d["last_outcome"], d["versions"], d["failures"]) for d in documents] == [
        ("CW-D-00001", "new_version", 1, 0), ("CW-D-00002", "failed", 0, 1)]
    assert documents[0]["last_verified"] is not None

    assert invoke(*base, "verify").exit_code == 0
    blob = next(p for p in (tmp_path / "home" / "objects").rglob("*") if p.is_file())
    blob.write_bytes(zlib.compress(b"tampered"))
    tampered = invoke(*base, "verify")
    assert tampered.exit_code == 1 and "MISMATCH" in tampered.output


def test_missing_catalog_folder_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["--home", str(tmp_path), "--catalog", str(tmp_path / "nope"), "status"])
    assert result.exit_code == 2 and "CATALOG" in result.output and "is not a folder" in result.output


def test_read_only_commands_never_create_or_touch_a_store(tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for command in ("status", "verify", "changes", "export", "site"):
        typo = CliRunner().invoke(main, ["--home", str(tmp_path / "hmoe"), "--catalog", str(catalog), command])
        assert typo.exit_code == 2 and "run `clausewatch init`" in typo.stderr, command
        assert not (tmp_path / "hmoe").exists(), command

    other = tmp_path / "notes.sqlite"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE notes (body TEXT)")
    connection.commit()
    connection.close()
    before = other.read_bytes()
    status = CliRunner().invoke(main, ["--database-url", f"sqlite:///{other}", "--catalog", str(catalog), "status"])
    assert status.exit_code == 2 and "is not a clausewatch store" in status.stderr
    assert other.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["catalog", "notes.sqlite"]


@pytest.mark.parametrize("args, line", [
    (["crawl", "--delay", "-1"],
     "Invalid value for '--delay': expects a number of seconds from 0 to 3600, got '-1' (clausewatch crawl --help)"),
    (["changes", "--since", "2020-02-30"], "Invalid value for '--since': expected an ISO date such as 2026-03-01, "
                                           "got '2020-02-30' (clausewatch changes --help)"),
    # A moment past year 9999 once in UTC ended in a SQLAlchemy OverflowError traceback (review of 2026-12-01).
    (["changes", "--since", "9999-12-31T23:59:59-14:00"], "Invalid value for '--since': '9999-12-31T23:59:59-14:00' "
                                                          "is out of the range of dates (years 1 to 9999 in UTC) "
                                                          "(clausewatch changes --help)"),
    (["digest", "--dry-run", "x", "--since", "0001-01-01T00:00+14:00"],
     "Invalid value for '--since': '0001-01-01T00:00+14:00' is out of the range of dates (years 1 to 9999 in UTC) "
     "(clausewatch digest --help)"),
    (["status", "--home"], "Option '--home' requires an argument. (clausewatch status --help)"),
    (["analyze", "--all", "--stale"], "--all and --stale exclude each other (clausewatch analyze --help)"),
    (["crwl"], "No such command 'crwl'. Did you mean 'crawl'? (clausewatch --help)"),
    (["--home"], "Option '--home' requires an argument. (clausewatch --help)"),
], ids=["value", "callback", "since-past-9999", "since-before-1", "missing-value", "command-body", "unknown-command",
        "group-option"])
def test_a_usage_error_is_one_line_with_the_help_to_read(args, line):
    result = CliRunner().invoke(main, args, prog_name="clausewatch")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {line}\n")


def test_clausewatch_alone_still_shows_its_help():
    result = CliRunner().invoke(main, [], prog_name="clausewatch")
    assert result.output.startswith("Usage: clausewatch [OPTIONS] COMMAND [ARGS]...") and "Commands:" in result.output


# The export held at its write, until a signal ends it: the file it writes is its temporary one.
HELD_EXPORT = """
import pathlib, sys
write = pathlib.Path.write_bytes
def held(path, data):
    if path.name.startswith(".clausewatch-tmp-"):
        write(path, data[:10])
        print("writing", flush=True)
        sys.stdin.read()  # until the signal
    return write(path, data)
pathlib.Path.write_bytes = held
from clausewatch.cli import main
main(sys.argv[1:])
"""


def test_sigterm_ends_a_command_as_ctrl_c_does_leaving_no_temporary_file(tmp_path):
    # A service manager's stop killed `export` at once, silently, its half-written temporary file left in the
    # operator's folder (review of 2026-12-01); Ctrl-C ended it with one line and removed it.
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text(
        "name: Acme\ndocuments:\n  - {type: Terms of Service, url: \"https://a.example/t\"}\n")
    home = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
    assert invoke(*home, "init").exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    export = subprocess.Popen([sys.executable, "-c", HELD_EXPORT, *home, "export", "--out", str(out / "e.json")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert export.stdout.readline() == "writing\n"
        assert any(out.iterdir())  # the temporary file, half written
        export.send_signal(signal.SIGTERM)
        _, stderr = export.communicate(timeout=60)
    finally:
        export.kill()
    assert export.returncode == 130
    assert stderr.startswith("Error: interrupted by SIGTERM") and stderr.count("\n") == 1, stderr
    assert list(out.iterdir()) == []

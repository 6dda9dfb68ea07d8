"""The global options are taken before or after any command, and `settings` says where each value came from."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from scrapy.exceptions import DownloadConnectionRefusedError, ResponseDataLossError

from clausewatch.cli import main
from clausewatch.commands._global_options import FLAG_SETTINGS, _without_traceback
from clausewatch.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
GLOBAL_FLAGS = ("--home", "--database-url", "--catalog", "--schedules", "--config", "--verbose")


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_takes_every_global_option(name):
    flags = {flag for param in main.commands[name].params for flag in param.opts}
    assert set(GLOBAL_FLAGS) <= flags, name


def test_every_flag_names_a_setting():
    assert set(FLAG_SETTINGS.values()) <= {s.name for s in SETTINGS}


def test_options_after_the_command_act_like_options_before_it(tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text("name: Acme\nslug: acme\ndocuments:\n"
                                       "  - type: Terms of Service\n    url: https://acme.example/terms\n")
    home = tmp_path / "home"
    init = invoke("init", "--catalog", str(catalog), "--home", str(home))
    assert init.exit_code == 0, init.output
    assert (home / "clausewatch.db").is_file() and "1 document(s)" in init.output

    status = json.loads(invoke("status", "--json", "--home", str(home), "--catalog", str(catalog)).stdout)
    assert [d["platform"] for d in status["documents"]] == ["acme"]


def test_an_option_after_the_command_wins_over_the_same_option_before_it(tmp_path):
    result = invoke("--home", str(tmp_path / "before"), "settings", "--json", "--home", str(tmp_path / "after"))
    home = next(s for s in json.loads(result.stdout)["settings"] if s["name"] == "HOME")
    assert home == {"name": "HOME", "value": str(tmp_path / "after"), "source": "option --home",
                    "help": home["help"]}


def test_settings_shows_value_source_and_help_and_masks_secrets(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text("# mail\ncrawl_delay: 5\nsmtp_password: config-secret\n")
    (home / "config.yaml").chmod(0o600)
    env = {"CLAUSEWATCH_CRAWL_CONCURRENCY": "4", "CLAUSEWATCH_SMTP_USER": "mailer",
           "CLAUSEWATCH_DATABASE_URL": "postgresql+psycopg://clause:db-secret@db.example/cw"}
    result = invoke("settings", "--home", str(home), env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"CRAWL_DELAY = 5.0  [{home / 'config.yaml'}:2]" in lines
    assert "CRAWL_CONCURRENCY = 4  [environment CLAUSEWATCH_CRAWL_CONCURRENCY]" in lines
    assert f"HOME = {home}  [option --home]" in lines
    assert "CRAWL_RETRIES = 2  [default]" in lines
    assert f"SMTP_PASSWORD = ********  [{home / 'config.yaml'}:3]" in lines
    assert "DATABASE_URL = postgresql+psycopg://clause:********@db.example/cw  [environment " \
           "CLAUSEWATCH_DATABASE_URL]" in lines
    assert "config-secret" not in result.output and "db-secret" not in result.output
    for setting in SETTINGS:  # each with its help under it
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{setting.name} = "))
        assert lines[index + 1] == f"    {setting.help}"


def test_settings_only_reads(tmp_path):
    result = invoke("settings", "--home", str(tmp_path / "nowhere"))
    assert result.exit_code == 0 and not (tmp_path / "nowhere").exists()


def test_a_bad_config_line_is_named_by_file_and_line(tmp_path):
    (tmp_path / "config.yaml").write_text("crawl_delay: 1\ncrawl_dealy: 2\n")
    result = CliRunner().invoke(main, ["settings", "--home", str(tmp_path)])
    assert result.exit_code == 2 and f"{tmp_path / 'config.yaml'}:2: unknown setting 'crawl_dealy'" in result.stderr


def test_a_config_file_named_and_missing_or_a_folder_in_its_place_is_one_line_naming_it(tmp_path):
    missing = CliRunner().invoke(main, ["settings", "--home", str(tmp_path), "--config", str(tmp_path / "nope.yaml")])
    assert (missing.exit_code, missing.stderr) == (
        2, f"Error: {tmp_path / 'nope.yaml'}: the config file does not exist (--config)\n")
    (tmp_path / "config.yaml").mkdir()
    folder = CliRunner().invoke(main, ["settings", "--home", str(tmp_path)])
    assert (folder.exit_code, folder.stderr) == (
        2, f"Error: {tmp_path / 'config.yaml'}: the config file is a folder, not a file (HOME/config.yaml)\n")


def test_a_config_file_that_is_not_utf8_is_one_line_naming_it(tmp_path):
    (tmp_path / "config.yaml").write_bytes(b"\xff")
    for args in (["settings", "--home", str(tmp_path)], ["status", "--config", str(tmp_path / "config.yaml")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (result.output, result.exception)  # not a UnicodeDecodeError's traceback
        assert result.stderr == (f"Error: {tmp_path / 'config.yaml'}:1: not UTF-8 text (byte 0xff at offset 0: "
                                 "invalid start byte)\n")


def test_every_setting_is_documented():
    documented = (ROOT / "README.md").read_text(encoding="utf-8") + (ROOT / "docs" / "operations.md").read_text(
        encoding="utf-8")
    undocumented = [s.name for s in SETTINGS if f"CLAUSEWATCH_{s.name}" not in documented]
    assert not undocumented, f"settings missing from README.md and docs/operations.md: {undocumented}"


def test_only_a_network_failure_loses_its_traceback_below_vv():
    def record_of(error: Exception) -> logging.LogRecord:
        try:
            raise error
        except Exception:
            return logging.LogRecord("scrapy.downloadermiddlewares.robotstxt", logging.ERROR, __file__, 1,
                                     "Error downloading robots.txt", None, sys.exc_info())

    refused, crashed = record_of(DownloadConnectionRefusedError("refused")), record_of(ValueError("parser bug"))
    assert _without_traceback(refused) and refused.exc_info is None
    assert _without_traceback(crashed) and crashed.exc_info is not None  # a bug in reading robots.txt stays visible


def test_a_robots_txt_cut_short_and_a_failed_browser_page_lose_their_traceback_below_vv():
    # Both failures are recorded against their document; the crawl printed 60 lines of traceback each (probe of
    # 2026-12-03).
    def record_of(logger: str, message: str, error: Exception) -> logging.LogRecord:
        try:
            raise error
        except Exception:
            return logging.LogRecord(logger, logging.WARNING, __file__, 1, message, None, sys.exc_info())

    cut = record_of("scrapy.downloadermiddlewares.robotstxt", "Error downloading robots.txt",
                    ResponseDataLossError("cut"))
    page = record_of("scrapy-playwright", "Closing page due to failed request: %s exc_type=%s exc_msg=%s",
                     RuntimeError("Failed to download"))
    assert _without_traceback(cut) and cut.exc_info is None
    assert _without_traceback(page) and page.exc_info is None

"""Settings: declared once, documented, and resolved defaults < config file < environment < flags."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.settings import ENV_PREFIX, NOT_SETTINGS, SETTINGS, Settings, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]
# Mistyped settings, spelled with the prefix apart so that the scan of the variables in use does not count them.
DELAY_TYPO = ENV_PREFIX + "CRAWL_DELAYS"


def test_every_setting_is_declared_once_with_help_and_a_field():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.help.strip() for s in SETTINGS)
    assert {s.name.lower() for s in SETTINGS} == {f.name for f in dataclasses.fields(Settings)} - {"sources"}


def test_precedence_defaults_config_environment_flags(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text("crawl_delay: 5\ncrawl_concurrency: 3\nbase_url: https://config/\n")
    environ = {"CLAUSEWATCH_HOME": str(home), "CLAUSEWATCH_CRAWL_CONCURRENCY": "4",
               "CLAUSEWATCH_BASE_URL": "https://env/"}
    settings = load_settings(environ, {"BASE_URL": "https://flag/"})
    assert settings.crawl_delay == 5.0  # config over default
    assert settings.crawl_concurrency == 4  # environment over config
    assert settings.base_url == "https://flag/"  # flag over environment
    assert settings.database_url == f"sqlite:///{home / 'clausewatch.db'}"
    assert settings.blobs == home / "objects"
    assert load_settings({}).catalog.as_posix() == "catalog"


def test_a_config_file_given_must_exist_and_home_config_must_be_a_file_if_it_is_there(tmp_path):
    with pytest.raises(SettingsError, match=f"^{tmp_path / 'nope.yaml'}: the config file does not exist \\(--config\\)$"):
        load_settings({}, config_file=tmp_path / "nope.yaml")
    home = {"CLAUSEWATCH_HOME": str(tmp_path)}
    assert load_settings(home).crawl_delay == 2.0  # no HOME/config.yaml: the defaults, nothing to say
    (tmp_path / "config.yaml").mkdir()
    with pytest.raises(SettingsError, match=f"^{tmp_path / 'config.yaml'}: the config file is a folder, not a file "
                                            "\\(HOME/config.yaml\\)$"):
        load_settings(home)


ALIAS_BOMB = (  # "billion laughs", three levels deep here; nine took minutes and 1.5 GB
    "a: &a [lol, lol, lol]\n"
    "b: &b [*a, *a, *a]\n"
    "c: &c [*b, *b, *b]\n"
)


def test_a_config_file_with_an_alias_bomb_is_refused_at_its_line(tmp_path):
    (tmp_path / "config.yaml").write_text("crawl_delay: 5\n" + ALIAS_BOMB)
    with pytest.raises(SettingsError, match=f"^{tmp_path / 'config.yaml'}:4: not valid YAML: the alias \\*b refers "
                                            "to a part that holds aliases itself"):
        load_settings({"CLAUSEWATCH_HOME": str(tmp_path)})


@pytest.mark.parametrize(("text", "said"), [
    ("crawl_delay: 5\ncrawl_delay: 0\n", ":2: not valid YAML: duplicate key 'crawl_delay'"),
    ("CRAWL_DELAY: 10\nclausewatch_crawl_delay: 0\n",
     ":2: 'clausewatch_crawl_delay' sets CRAWL_DELAY again (line 1 set it already)"),
])
def test_a_setting_written_twice_is_refused_at_its_line(tmp_path, text, said):
    # The last one won unsaid: a politeness delay of 10 s became 0 (review of 2026-12-01).
    (tmp_path / "config.yaml").write_text(text)
    with pytest.raises(SettingsError, match=f"^{re.escape(str(tmp_path / 'config.yaml') + said)}$"):
        load_settings({"CLAUSEWATCH_HOME": str(tmp_path)})


def test_settings_know_which_values_were_left_at_their_default(tmp_path):
    (tmp_path / "config.yaml").write_text("crawl_delay: 5\n")
    settings = load_settings({"CLAUSEWATCH_CATALOG": "elsewhere"}, {"HOME": tmp_path})
    assert [name for name in ("HOME", "CATALOG", "CRAWL_DELAY", "SCHEDULES") if settings.is_default(name)] == [
        "SCHEDULES"]
    assert settings.sources["CRAWL_DELAY"] == f"{tmp_path / 'config.yaml'}:1"
    assert not settings.replace(schedules=tmp_path / "s.yaml").is_default("SCHEDULES")


def test_an_unknown_clausewatch_variable_is_refused_naming_the_setting_it_looks_like():
    with pytest.raises(SettingsError) as raised:
        load_settings({DELAY_TYPO: "5", ENV_PREFIX + "ZZZ": "1", "CLAUSEWATCH_CRAWL_DELAY": "3", "HOME": "/root"})
    assert raised.value.problems == [
        f"environment {DELAY_TYPO}: no such setting; did you mean CLAUSEWATCH_CRAWL_DELAY?",
        f"environment {ENV_PREFIX}ZZZ: no such setting",  # nothing close: no guess
    ]
    assert load_settings(dict.fromkeys(NOT_SETTINGS, "1")).crawl_delay == 2.0  # the tests' own are no settings


def test_an_unknown_clausewatch_variable_is_one_line_and_exit_2():
    result = CliRunner().invoke(main, ["settings"], env={DELAY_TYPO: "5"})
    assert (result.exit_code, result.stderr) == (
        2, f"Error: environment {DELAY_TYPO}: no such setting; did you mean CLAUSEWATCH_CRAWL_DELAY?\n")


def test_every_clausewatch_variable_the_tests_benchmarks_and_ci_use_is_a_setting_or_declared_not_one():
    files = [*REPO.glob("tests/**/*.py"), *REPO.glob("benchmarks/**/*.py"), *REPO.glob("scripts/*"),
             REPO / "Makefile", REPO / ".ci" / "run"]
    used = {name for path in files if path.is_file()
            for name in re.findall(r"(?<![.\w])CLAUSEWATCH_[A-Z][A-Z0-9_]*", path.read_text(encoding="utf-8"))}
    assert used - {ENV_PREFIX + s.name for s in SETTINGS} == NOT_SETTINGS


def test_a_bad_value_names_the_setting_and_where_it_came_from():
    with pytest.raises(SettingsError, match="CLAUSEWATCH_CRAWL_DELAY"):
        load_settings({"CLAUSEWATCH_CRAWL_DELAY": "soon"})


@pytest.mark.parametrize("value", ["", "   ", "clausewatch/1\r\nX-Injected: yes"])
def test_an_empty_or_multi_line_user_agent_is_refused(value):
    # Empty, Scrapy sends no User-Agent at all: the sites would see requests from no one.
    with pytest.raises(SettingsError, match="CLAUSEWATCH_USER_AGENT"):
        load_settings({"CLAUSEWATCH_USER_AGENT": value})
    assert load_settings({"CLAUSEWATCH_USER_AGENT": " bot/1 (+https://x.example) "}).user_agent == \
        "bot/1 (+https://x.example)"


def test_allowed_networks_are_parsed_and_a_bad_one_names_the_setting():
    from clausewatch.settings import SettingsError, load_settings

    settings = load_settings({"CLAUSEWATCH_CRAWL_ALLOWED_NETWORKS": "10.0.0.0/8, fd00::/8,192.168.1.7"})
    assert settings.crawl_allowed_networks == ("10.0.0.0/8", "fd00::/8", "192.168.1.7/32")
    with pytest.raises(SettingsError, match="CRAWL_ALLOWED_NETWORKS"):
        load_settings({"CLAUSEWATCH_CRAWL_ALLOWED_NETWORKS": "10.0.0.0/33"})


@pytest.mark.parametrize("name, value", [
    ("CRAWL_DELAY", "-1"), ("CRAWL_DELAY", "inf"), ("CRAWL_DELAY", "nan"), ("CRAWL_CONCURRENCY", "0"),
    ("CRAWL_TIMEOUT", "0"), ("CRAWL_RETRIES", "-1"), ("CRAWL_MAX_BYTES", "-1"), ("CRAWL_SHRINK_RATIO", "2"),
    ("ANALYSIS_WORKERS", "-1"), ("FAILURE_ALERT_AFTER", "0"), ("SMTP_PORT", "70000"), ("JOB_LEASE_SECONDS", "0"),
    ("LOG_LEVEL", "LOUD"),
    # Ceilings (review of 2026-12-01): a delay of 1e300 s never ended, not even on SIGTERM.
    ("CRAWL_DELAY", "1e300"), ("CRAWL_DELAY", "3601"), ("CRAWL_CONCURRENCY", "99999999999999999999"),
    ("ANALYSIS_WORKERS", "99999"),
    # A lease past year 9999 was a traceback in `run` and killed the thread renewing it; retries without end hung a
    # crawl of a refused port (review of 2026-12-02).
    ("JOB_LEASE_SECONDS", "99999999999999999999999"), ("JOB_LEASE_SECONDS", "86401"), ("CRAWL_RETRIES", "21"),
])
def test_a_value_out_of_range_names_the_setting_and_what_it_takes(name, value):
    with pytest.raises(SettingsError, match=f"CLAUSEWATCH_{name}: {name} expects (a|one of) .*, got '{value}'"):
        load_settings({f"CLAUSEWATCH_{name}": value})


@pytest.mark.parametrize("line, said", [
    # str() made these "None", "[1]" and "5": `init` made a store in a folder named None.
    ("HOME: ~", "HOME expects text, got None"),
    ("HOME: [1]", "HOME expects text, got [1]"),
    ("CATALOG: 5", "CATALOG expects text, got 5 (in quotes it is text)"),
    ("USER_AGENT: [a]", "USER_AGENT expects an identifying User-Agent on one line (the crawler's name and a contact "
                        "URL), got ['a']"),
    ("DATABASE_URL: {a: 1}", "DATABASE_URL expects text, got {'a': 1}"),
    ("SMTP_STARTTLS: 5", "SMTP_STARTTLS expects bool, got 5 (in quotes it is text)"),  # it was true
    ("SMTP_PASSWORD: 123456", "SMTP_PASSWORD expects text, got a value not shown (a secret) (in quotes it is text)"),
])
def test_a_config_value_of_a_kind_the_setting_cannot_mean_is_refused_at_its_line(tmp_path, line, said):
    config = tmp_path / "config.yaml"
    config.write_text(f"CRAWL_DELAY: 1\n{line}\n")
    with pytest.raises(SettingsError) as refused:
        load_settings({}, config_file=config)
    assert str(refused.value) == f"{config}:2: {said}"
    assert "123456" not in str(refused.value)


@pytest.mark.parametrize("line, field, value", [
    ("CRAWL_DELAY: 2", "crawl_delay", 2.0), ("SMTP_STARTTLS: no", "smtp_starttls", False),
    ("CRAWL_ALLOWED_NETWORKS: [10.0.0.0/8]", "crawl_allowed_networks", ("10.0.0.0/8",)),
    ("ANALYSIS_WORKERS: 2", "analysis_workers", 2), ("SMTP_PASSWORD: '123456'", "smtp_password", "123456"),
])
def test_config_values_of_the_kinds_settings_take_are_read(tmp_path, line, field, value):
    config = tmp_path / "config.yaml"
    config.write_text(line + "\n")
    config.chmod(0o600)  # a password in a file others can read is refused
    assert getattr(load_settings({}, config_file=config), field) == value


@pytest.mark.parametrize("name", ["BASE_URL", "USER_AGENT", "MAIL_FROM", "SMTP_PASSWORD"])
def test_a_setting_holding_a_byte_that_is_not_utf8_is_refused_before_use(name):
    # A User-Agent with one such byte failed every request: the crawl recorded each page as a failure (robots.txt),
    # and BASE_URL failed halfway through writing the site, both with a traceback.
    value = b"http://x.example/\xff".decode("utf-8", "surrogateescape")
    with pytest.raises(SettingsError) as refused:
        load_settings({f"CLAUSEWATCH_{name}": value})
    assert str(refused.value).startswith(f"environment CLAUSEWATCH_{name}: {name} is not valid UTF-8: ")
    assert ("x.example" in str(refused.value)) == (name != "SMTP_PASSWORD")  # a secret is never shown


def test_a_path_setting_may_hold_any_bytes_as_a_linux_file_name_does(tmp_path):
    home = str(tmp_path / b"h\xff".decode("utf-8", "surrogateescape"))
    assert str(load_settings({"CLAUSEWATCH_HOME": home}).home) == home


def test_a_log_level_is_read_in_any_case_and_the_edges_of_a_range_are_taken(tmp_path):
    settings = load_settings({"CLAUSEWATCH_LOG_LEVEL": "debug", "CLAUSEWATCH_CRAWL_DELAY": "0",
                              "CLAUSEWATCH_CRAWL_SHRINK_RATIO": "1", "CLAUSEWATCH_SMTP_PORT": "65535"})
    assert (settings.log_level, settings.crawl_delay, settings.crawl_shrink_ratio, settings.smtp_port) == (
        "DEBUG", 0.0, 1.0, 65535)
    for line in ("crawl_concurrency: 0", "crawl_concurrency: 2.5", "crawl_concurrency: yes"):
        (tmp_path / "config.yaml").write_text(line + "\n")
        with pytest.raises(SettingsError, match="config.yaml:1: CRAWL_CONCURRENCY expects a whole number from 1 to 100"):
            load_settings({}, config_file=tmp_path / "config.yaml")
    (tmp_path / "config.yaml").write_text("crawl_concurrency: 4.0\ncrawl_delay: 1\n")
    assert load_settings({}, config_file=tmp_path / "config.yaml").crawl_concurrency == 4


@pytest.mark.parametrize("name, value, expected", [
    ("BASE_URL", "notaurl", "an absolute http(s) or file URL"),
    ("BASE_URL", "ftp://example.com/", "an absolute http(s) or file URL"),
    ("MAIL_FROM", "nobody", "one email address"),
    ("MAIL_FROM", "clausewatch <alerts>", "one email address"),
    ("MAIL_FROM", "a@example.org, b@example.org", "one email address"),
    ("MAIL_FROM", "<a@example.org> and more", "one email address"),
    ("MAIL_FROM", "Legal, Team <legal@example.org>",
     'one email address (user@host, or Name <user@host>; quote a name with a comma: "Legal, Team"'),
    ("BASE_URL", "http://exa mple.org/", "an absolute http(s) or file URL"),
    ("CRAWL_REDIS_URL", "REDIS://queue:6379/0", "a redis://, rediss:// or unix:// URL"),
    ("CRAWL_REDIS_URL", "user:hunter2@queue:6379", "a redis://, rediss:// or unix:// URL"),
    ("CRAWL_REDIS_URL", "notredis://user:hunter2@queue:6379/0", "a redis://, rediss:// or unix:// URL"),
])
def test_an_address_that_cannot_work_names_the_setting_and_no_password(name, value, expected):
    with pytest.raises(SettingsError, match=f"CLAUSEWATCH_{name}: {name} expects {re.escape(expected)}") as raised:
        load_settings({f"CLAUSEWATCH_{name}": value})
    assert "hunter2" not in str(raised.value)


def test_addresses_that_work_are_taken_as_given():
    settings = load_settings({"CLAUSEWATCH_BASE_URL": "https://terms.example.org/watch/",
                              "CLAUSEWATCH_MAIL_FROM": '"Legal, watch" <legal@example.org>',
                              "CLAUSEWATCH_CRAWL_REDIS_URL": "rediss://:secret@queue.example.org:6380/2"})
    assert (settings.base_url, settings.mail_from, settings.crawl_redis_url) == (
        "https://terms.example.org/watch/", '"Legal, watch" <legal@example.org>',
        "rediss://:secret@queue.example.org:6380/2")
    assert load_settings({"CLAUSEWATCH_BASE_URL": "file:///srv/site/"}).base_url == "file:///srv/site/"


@pytest.mark.parametrize("given, level", [("warn", "WARNING"), ("FATAL", "CRITICAL"), ("notset", "DEBUG"),
                                          ("Error", "ERROR")])
def test_the_logging_modules_other_names_for_a_level_are_taken(given, level):
    assert load_settings({"CLAUSEWATCH_LOG_LEVEL": given}).log_level == level


def test_the_analysis_workers_help_says_the_batch_and_the_threshold_the_crawl_uses():
    from clausewatch.crawling import AdaptiveAnalyzer
    from clausewatch.settings import SETTINGS
    from crawler.crawl import _TARGETS_PER_BATCH

    described = next(s for s in SETTINGS if s.name == "ANALYSIS_WORKERS").help
    assert f"first {_TARGETS_PER_BATCH} documents include {AdaptiveAnalyzer.WORKER_FROM} or more" in described


def test_a_home_whose_name_holds_url_characters_keeps_its_database_inside_it(tmp_path):
    # The default store URL was "sqlite:///" + HOME/clausewatch.db unescaped: a HOME of "a?b" put the database at
    # the file "a" (the rest read as the URL's query) and the blobs in "a?b"; "%41" read as "A".
    from click.testing import CliRunner

    from clausewatch.cli import main

    home = tmp_path / "we ird%41?#x"
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text("name: Acme\ndocuments:\n  - {type: Terms of Service, url: \"https://acme.example/t\"}\n")
    made = CliRunner().invoke(main, ["--home", str(home), "--catalog", str(catalog), "init"])
    assert made.exit_code == 0, made.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog", "we ird%41?#x"]
    assert (home / "clausewatch.db").is_file()
    status = CliRunner().invoke(main, ["--home", str(home), "--catalog", str(catalog), "status"])
    assert status.exit_code == 0, status.output
    assert "acme" in status.output


def test_a_config_file_of_no_end_is_refused_not_read_for_ever(tmp_path):
    # `--config /dev/zero` read until memory ran out (review of 2026-12-01).
    with pytest.raises(SettingsError, match="^/dev/zero: more than 1048576 bytes: not a config file$"):
        load_settings({}, {"HOME": tmp_path}, config_file=Path("/dev/zero"))

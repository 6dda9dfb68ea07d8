"""Settings: declared once, documented, and resolved defaults < config file < environment < flags."""

from __future__ import annotations

import dataclasses

import pytest

from clausewatch.settings import SETTINGS, Settings, SettingsError, load_settings


def test_every_setting_is_declared_once_with_help_and_a_field():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.help.strip() for s in SETTINGS)
    assert {s.name.lower() for s in SETTINGS} == {f.name for f in dataclasses.fields(Settings)}


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


def test_a_bad_value_names_the_setting_and_where_it_came_from():
    with pytest.raises(SettingsError, match="CLAUSEWATCH_CRAWL_DELAY"):
        load_settings({"CLAUSEWATCH_CRAWL_DELAY": "soon"})


def test_allowed_networks_are_parsed_and_a_bad_one_names_the_setting():
    from clausewatch.settings import SettingsError, load_settings

    settings = load_settings({"CLAUSEWATCH_CRAWL_ALLOWED_NETWORKS": "10.0.0.0/8, fd00::/8,192.168.1.7"})
    assert settings.crawl_allowed_networks == ("10.0.0.0/8", "fd00::/8", "192.168.1.7/32")
    with pytest.raises(SettingsError, match="CRAWL_ALLOWED_NETWORKS"):
        load_settings({"CLAUSEWATCH_CRAWL_ALLOWED_NETWORKS": "10.0.0.0/33"})

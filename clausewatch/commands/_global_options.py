"""The options every command takes, before or after its name.

``clausewatch --catalog DIR init`` and ``clausewatch init --catalog DIR`` mean
the same: the group and each command carry the same options (the
``global_options`` decorator), each records the value it was given in the
context's ``meta`` (shared by the group's context and the command's), and the
command resolves the settings once, just before it runs. A value given after
the command wins over one given before it.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from clausewatch.commands._paths import GivenPath
from clausewatch.settings import Settings, load_settings

_GIVEN = "clausewatch.global_options"  # ctx.meta key: {parameter name: value given}
SETTINGS = "clausewatch.settings"  # ctx.meta key: the command's resolved settings

# Our own loggers; Scrapy, Alembic and the rest only speak up for warnings unless -vv asks for everything.
OUR_LOGGERS = ("clausewatch", "crawler", "store", "reports", "analysis")
# Scrapy loggers that report a page they could not fetch (a robots.txt refused, say) with its traceback.
# The crawl records that failure against the document and prints it; below -vv their one line is enough.
NETWORK_ERROR_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt", "scrapy-playwright")


def _record(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Keep a value the user gave (a flag's default is not a choice and is not kept)."""
    if param.name == "verbose":
        if value:
            given = ctx.meta.setdefault(_GIVEN, {})
            given["verbose"] = given.get("verbose", 0) + value
    elif value is not None:
        ctx.meta.setdefault(_GIVEN, {})[param.name] = value


def _options() -> list[Callable]:
    """The options, newly made for each command (click parameters belong to one command)."""
    path = GivenPath()
    common = {"expose_value": False, "callback": _record}
    return [
        click.option("--home", type=path, help="Data folder (CLAUSEWATCH_HOME).", **common),
        click.option("--database-url", help="Store URL (CLAUSEWATCH_DATABASE_URL).", **common),
        click.option("--catalog", type=path, help="Catalog folder (CLAUSEWATCH_CATALOG).", **common),
        click.option("--schedules", type=path, help="Schedules file (CLAUSEWATCH_SCHEDULES).", **common),
        click.option("--config", "config_file", type=GivenPath(dir_okay=False),
                     help="Config file, which must exist (default HOME/config.yaml, if there is one).", **common),
        click.option("-v", "--verbose", count=True, help="More logging (-v INFO, -vv DEBUG).", **common),
    ]


# The flags, as the settings call them: what a user typed overrides the environment and the config file.
FLAG_SETTINGS = {"home": "HOME", "database_url": "DATABASE_URL", "catalog": "CATALOG", "schedules": "SCHEDULES"}


def add_global_options(function: Callable) -> Callable:
    """The options alone, for the group: it records them and leaves resolving to the command."""
    for option in reversed(_options()):
        function = option(function)
    return function


def global_options(function: Callable) -> Callable:
    """Give a command the global options and its resolved settings as ``ctx.obj``.

    Put it right under ``@click.command``. A command invoked with settings of its
    own (``obj=settings``, as tests do) and no global option keeps them.
    """

    @functools.wraps(function)
    def with_settings(*args, **kwargs):
        ctx = click.get_current_context()
        if _GIVEN in ctx.meta or not isinstance(ctx.obj, Settings):
            ctx.obj = resolve_settings(ctx)
        ctx.meta[SETTINGS] = ctx.obj  # for the group's error handler, which names the setting a failing store came from
        return function(*args, **kwargs)

    return add_global_options(with_settings)


def given_options(ctx: click.Context) -> dict[str, Any]:
    """What the user typed of the global options, before or after the command."""
    return dict(ctx.meta.get(_GIVEN, {}))


def flag_overrides(given: dict[str, Any]) -> dict[str, Any]:
    return {setting: given[name] for name, setting in FLAG_SETTINGS.items() if name in given}


def resolve_settings(ctx: click.Context) -> Settings:
    """The settings the environment, config file and global options give; logging set to match."""
    given = given_options(ctx)
    settings = load_settings(os.environ, flag_overrides(given), given.get("config_file"))
    _configure_logging(settings, given.get("verbose", 0))
    return settings


def _configure_logging(settings: Settings, verbose: int) -> None:
    level = {0: settings.log_level, 1: "INFO"}.get(verbose, "DEBUG")
    logging.basicConfig(level="DEBUG" if verbose >= 2 else "WARNING", stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(level)
    for name in NETWORK_ERROR_LOGGERS:
        logger = logging.getLogger(name)
        logger.removeFilter(_without_traceback)
        if verbose < 2:
            logger.addFilter(_without_traceback)


# Network failures (connection refused, DNS, timeouts, a response cut short), as Scrapy wraps Twisted's and as
# Twisted raises them; named, not imported, so that no command pays for Scrapy to configure its logging.
_NETWORK_ERROR_MODULES = ("twisted.internet.error", "twisted.web._newclient")
_SCRAPY_NETWORK_ERRORS = frozenset({
    "DownloadConnectionRefusedError", "DownloadTimeoutError", "DownloadCancelledError", "DownloadFailedError",
    "CannotResolveHostError", "UnsupportedURLSchemeError", "ResponseDataLossError",
})
# scrapy-playwright's warning of a browser page that failed (a timeout, a crash, a download): the crawl records the
# failure with its message; the traceback says nothing more, whatever the error's type.
_FAILED_PAGE = "Closing page due to failed request"


def _without_traceback(record: logging.LogRecord) -> bool:
    """Keep the record, without the traceback of a network failure; any other error keeps its traceback
    (a robots.txt that crashes its parser is a bug worth seeing)."""
    kind = type(record.exc_info[1]) if record.exc_info else None
    if kind is not None and (kind.__module__.startswith(_NETWORK_ERROR_MODULES) or (
            kind.__module__ == "scrapy.exceptions" and kind.__name__ in _SCRAPY_NETWORK_ERRORS)
            or str(record.msg).startswith(_FAILED_PAGE)):
        record.exc_info, record.exc_text = None, None
    return True

"""The ``clausewatch`` command: a thin click layer over the library.

Each subcommand lives in its own module ``clausewatch/commands/<name>.py``
exposing a click command named ``command``; every module of that package is
registered, in name order. A module is imported only when its command runs
(or when ``--help`` cannot read its summary from the source), so commands that
do not crawl never import Scrapy or Twisted (decision 0014).

Exit codes: 0 success, 1 the work ran but found a problem (a failed fetch, a
hash mismatch), 2 bad input (usage, settings, catalog, schedules, store), 130
interrupted by Ctrl-C. Typed errors become one line and their exit code in
``clausewatch.errors.GuardedGroup``, never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from clausewatch.commands import CommandLoader, CommandTable
from clausewatch.errors import GuardedGroup
from clausewatch.settings import load_settings


EXIT_PROBLEM = 1
EXIT_BAD_INPUT = 2


class LazyGroup(GuardedGroup):
    """A click group whose subcommands are the modules of ``clausewatch.commands``, imported on use.

    ``commands`` is a :class:`CommandTable`: it lists every module's command
    without importing it, so click's own ``list_commands``/``get_command`` (and
    any caller of ``main.commands``) work unchanged.
    """

    def __init__(self, *args, loader: CommandLoader, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.commands = CommandTable(loader, self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List every command with its summary, read from the source rather than imported."""
        listed = [(name, self.commands.listing(name)) for name in self.list_commands(ctx)]
        listed = [(name, command) for name, command in listed if command is not None and not command.hidden]
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _ in listed)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in listed])


@click.group(cls=LazyGroup, loader=CommandLoader(), context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--home", type=click.Path(path_type=Path), help="Data folder (CLAUSEWATCH_HOME).")
@click.option("--database-url", help="Store URL (CLAUSEWATCH_DATABASE_URL).")
@click.option("--catalog", type=click.Path(path_type=Path), help="Catalog folder (CLAUSEWATCH_CATALOG).")
@click.option("--schedules", type=click.Path(path_type=Path), help="Schedules file (CLAUSEWATCH_SCHEDULES).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file (default HOME/config.yaml).")
@click.option("-v", "--verbose", count=True, help="More logging (-v INFO, -vv DEBUG).")
@click.version_option(package_name="clausewatch")
@click.pass_context
def main(ctx: click.Context, home, database_url, catalog, schedules, config_file, verbose) -> None:
    """Archive, analyse and publish the legal documents of online platforms."""
    overrides = {"HOME": home, "DATABASE_URL": database_url, "CATALOG": catalog, "SCHEDULES": schedules}
    ctx.obj = load_settings(os.environ, overrides, config_file)  # a SettingsError exits 2 in GuardedGroup
    level = {0: ctx.obj.log_level, 1: "INFO"}.get(verbose, "DEBUG")
    # Our own loggers at the chosen level; Scrapy, Alembic and the rest only
    # speak up for warnings unless -vv asks for everything.
    logging.basicConfig(level="DEBUG" if verbose >= 2 else "WARNING", stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in ("clausewatch", "crawler", "store", "reports", "analysis"):
        logging.getLogger(name).setLevel(level)

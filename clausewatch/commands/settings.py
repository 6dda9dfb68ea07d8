"""`clausewatch settings`: every setting, its value, where the value came from, and what it does."""

from __future__ import annotations

import json
import os

import click

from clausewatch.commands._global_options import flag_overrides, given_options, global_options
from clausewatch.settings import explain_settings


@click.command("settings")
@global_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Show every setting with its value, its source (default, environment, config file:line, option) and
    its help. Secrets (the SMTP password, a password in a URL) are masked, never shown.

    Only reads: nothing is created, not even the data folder.
    """
    given = given_options(ctx)
    explained = explain_settings(os.environ, flag_overrides(given), given.get("config_file"))
    if as_json:
        rows = [{"name": s.name, "value": s.shown, "source": s.source, "help": s.help} for s in explained]
        click.echo(json.dumps({"settings": rows}, ensure_ascii=False, indent=2))
        return
    for setting in explained:
        click.echo(f"{setting.name} = {setting.shown}  [{setting.source}]")
        click.echo(f"    {setting.help}")

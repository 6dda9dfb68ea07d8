"""Commands are found without being imported: start-up never loads the crawler unless a command needs it.

Behaviour, not timing: each check runs a fresh interpreter and looks at ``sys.modules``.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import click
from click.testing import CliRunner

import clausewatch.commands as commands
from clausewatch.cli import main
from clausewatch.commands import CommandLoader

REPO = Path(__file__).resolve().parents[2]
CRAWLER_STACK = {"scrapy", "twisted", "crochet", "parsel", "lxml"}
STORE_STACK = {"sqlalchemy", "alembic"}
PUBLISHING_STACK = {"jinja2", "markdownify", "css_inline", "numpy", "redis", "diff_match_patch"}


def imported_after(code: str, tmp_path: Path) -> set[str]:
    """Top-level packages in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    env = {"PATH": "/usr/bin:/bin", "CLAUSEWATCH_HOME": str(tmp_path / "home"),
           "CLAUSEWATCH_CATALOG": str(tmp_path / "catalog")}
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                          check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_crawler_store_or_publishing_library(tmp_path):
    loaded = imported_after("import clausewatch.cli", tmp_path)
    assert loaded & (CRAWLER_STACK | STORE_STACK | PUBLISHING_STACK) == set()


def test_help_and_version_load_no_command_module(tmp_path):
    code = textwrap.dedent("""
        from clausewatch.cli import main
        assert "crawl" in main.commands and len(sorted(main.commands)) == len(main.commands)
        for args in (["--help"], ["--version"]):
            try:
                main(args)
            except SystemExit:
                pass
    """)
    loaded = imported_after(code, tmp_path)
    assert loaded & (CRAWLER_STACK | STORE_STACK | PUBLISHING_STACK) == set()
    assert "yaml" not in loaded  # no config file to read


def test_a_command_that_does_not_crawl_loads_no_crawler(tmp_path):
    (tmp_path / "catalog").mkdir()
    imported_after(textwrap.dedent("""
        from clausewatch.cli import main
        try:
            main(["init"])
        except SystemExit as exit:
            assert exit.code == 0, exit.code
    """), tmp_path)  # only init creates a store; in its own interpreter
    code = textwrap.dedent("""
        from clausewatch.cli import main
        try:
            main(["changes"])
        except SystemExit as exit:
            assert exit.code == 0, exit.code
    """)
    loaded = imported_after(code, tmp_path)
    assert "sqlalchemy" in loaded  # it did open the store
    assert loaded & CRAWLER_STACK == set()


def test_a_command_module_is_imported_uncollected_and_its_objects_frozen(tmp_path):
    code = textwrap.dedent("""
        import gc, json
        from clausewatch.commands import import_command_module
        import_command_module("clausewatch.commands.changes")
        after_first = [gc.isenabled(), gc.get_freeze_count()]
        gc.disable()
        import_command_module("clausewatch.commands.status")
        print(json.dumps(after_first + [gc.isenabled(), gc.get_freeze_count()]))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    enabled, frozen, still_disabled, frozen_later = json.loads(done.stdout)
    assert enabled and not still_disabled  # the caller's setting is given back
    assert frozen > 10_000  # SQLAlchemy's objects, left out of later collections
    assert frozen_later > frozen  # status's own modules too


def eager_group() -> click.Group:
    """The group as it was registered before: every command module imported and added."""
    group = click.Group("eager")
    for info in pkgutil.iter_modules(commands.__path__):
        if not info.name.startswith("_"):
            group.add_command(importlib.import_module(f"{commands.__name__}.{info.name}").command)
    return group


def eager_listing() -> dict[str, str]:
    """What ``--help`` listed with that registration."""
    return {name: command.get_short_help_str(1000) for name, command in eager_group().commands.items()
            if not command.hidden}


def test_help_lists_every_command_module_with_the_summary_click_would_give():
    loader = CommandLoader()
    lazy = {name: loader.listing(name).get_short_help_str(1000) for name in loader.names()
            if loader.listing(name) is not None}
    eager = eager_listing()
    assert set(loader.names()) == set(eager_group().commands)
    assert {name: lazy.get(name, eager[name]) for name in eager} == eager
    output = CliRunner().invoke(main, ["--help"]).output
    for name in eager:
        assert f"  {name} " in output


def test_the_groups_commands_mapping_still_holds_every_command():
    eager = eager_group().commands
    assert sorted(main.commands) == sorted(eager)
    assert {name: command.help for name, command in main.commands.items()} == {
        name: command.help for name, command in eager.items()}
    assert main.commands.get("nosuch") is None and "nosuch" not in main.commands


def test_invoking_a_command_imports_its_module():
    result = CliRunner().invoke(main, ["classify", "--help"])
    assert result.exit_code == 0
    assert "Classify clauses from SOURCE" in result.output
    assert CliRunner().invoke(main, ["nosuch"]).exit_code == 2


def write_package(root: Path, modules: dict[str, str], name: str = "lazycommands") -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(source))
    return folder


def test_commands_the_source_cannot_describe_are_imported_and_asked(tmp_path, monkeypatch):
    folder = write_package(tmp_path, {
        "plain_one": '''
            import click
            @click.command("plain-one")
            def command():
                """Say one thing.

                More detail.
                """
        ''',
        "secret": '''
            import click
            @click.command("secret", hidden=True)
            def command():
                """Not listed."""
        ''',
        "built": '''
            import click
            command = click.Command("built", help="Made without a decorator.")
        ''',
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    loader = CommandLoader("lazycommands", folder)
    assert loader.names() == ["built", "plain-one", "secret"]
    assert "lazycommands.plain_one" not in sys.modules  # read, not imported
    assert loader.listing("plain-one").get_short_help_str() == "Say one thing."
    assert loader.listing("secret") is None and loader.listing("built") is None
    assert loader.load("secret").hidden
    assert loader.load("built").help == "Made without a decorator."
    assert loader.load("nosuch") is None


def test_a_command_is_loaded_from_the_module_named_after_it_without_reading_the_others(tmp_path, monkeypatch):
    folder = write_package(tmp_path, {
        "plain_one": '''
            import click
            @click.command("plain-one")
            def command():
                """Say one thing."""
        ''',
        "built": '''
            import click
            command = click.Command("built")
        ''',
        "elsewhere": '''
            import click
            @click.command("other-name")
            def command():
                """Named unlike its module."""
        ''',
    }, name="namedcommands")
    monkeypatch.syspath_prepend(str(tmp_path))
    loader = CommandLoader("namedcommands", folder)
    assert loader.load("plain-one").help == "Say one thing."
    assert "namedcommands.built" not in sys.modules  # reading its source would have imported it
    assert loader.load("other-name").help == "Named unlike its module."  # found by reading them all
    assert "namedcommands.built" in sys.modules
    assert loader.load("../plain_one") is None

"""The subcommands of ``clausewatch``: one module each, exposing a click command named ``command``.

``CommandLoader`` finds them without importing them: it reads each module's
source for the command's name and summary (the ``@click.command("name")``
decorator of the function ``command`` and its docstring), and imports a module
only when its command is asked for. A module whose command it cannot read
statically is imported to ask click instead, so every module is registered.
Running a command reads only the module named after it, when that one declares it.
"""

from __future__ import annotations

import ast
import gc
import importlib
import pkgutil
import sys
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import click

# Decorator arguments the summary does not depend on; any other (hidden=,
# deprecated=, cls=...) sends the listing to the imported command instead.
_PLAIN_KEYWORDS = frozenset({"help", "short_help", "context_settings", "no_args_is_help", "add_help_option"})


@dataclass(frozen=True)
class CommandSource:
    """What the source of one command module says, without running it."""

    module: str
    name: str
    help: str | None = None
    short_help: str | None = None
    plain: bool = False  # False: only the imported command can say how it is listed


class CommandLoader:
    """Finds the command modules of a package and imports one only when its command is used."""

    def __init__(self, package: str = __name__, folder: Path = Path(__file__).parent) -> None:
        self.package = package
        self.folder = folder
        self._sources: dict[str, CommandSource] | None = None

    def names(self) -> list[str]:
        return sorted(self._by_name())

    def listing(self, name: str) -> click.Command | None:
        """A stand-in carrying the command's help as its source states it, or None to import it."""
        source = self._by_name().get(name)
        if source is None or not source.plain:
            return None
        return click.Command(name, help=source.help, short_help=source.short_help)

    def load(self, name: str) -> click.Command | None:
        source = self._source(name)
        if source is None:
            return None
        return import_command_module(f"{self.package}.{source.module}").command

    def _source(self, name: str) -> CommandSource | None:
        """The source of command ``name``: the module named after it (``sign-log``: ``sign_log``) when it
        says so, without reading the others (all of them take ~13 ms); else whichever module does."""
        module = name.replace("-", "_")
        if self._sources is None and module.isidentifier() and not module.startswith("_") \
                and (self.folder / f"{module}.py").is_file():
            source = self._read(module)
            if source.name == name:
                return source
        return self._by_name().get(name)

    def _by_name(self) -> dict[str, CommandSource]:
        if self._sources is None:
            modules = sorted(info.name for info in pkgutil.iter_modules([str(self.folder)]))
            sources = (self._read(module) for module in modules if not module.startswith("_"))
            self._sources = {source.name: source for source in sources}
        return self._sources

    def _read(self, module: str) -> CommandSource:
        path = self.folder / f"{module}.py"
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (OSError, SyntaxError, ValueError):
            tree = None
        found = _command_in(tree, module) if tree is not None else None
        return found or self._imported(module)

    def _imported(self, module: str) -> CommandSource:
        command = import_command_module(f"{self.package}.{module}").command
        return CommandSource(module, command.name or module)


def import_command_module(name: str) -> ModuleType:
    """Import a command's module with the cycle collector paused, then freeze what is alive.

    Importing a command (SQLAlchemy and its mapped tables, or Scrapy and Twisted) makes
    ~100,000 objects the collector tracks that live as long as the process and almost no garbage,
    yet their allocations set off collections that walk every object made so far, and the
    collection at exit walks them all once more: ~0.09 s of `status`'s 0.39 s (decision 0014).
    Frozen (:func:`gc.freeze`), they are left out of every later collection; what the command
    itself makes is collected as before. The garbage of the caller (a test session, say) is
    collected first, so that none of it is frozen with them.
    """
    if name in sys.modules:  # imported already: nothing to pause for, and nothing new to freeze
        return sys.modules[name]
    collecting = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        return importlib.import_module(name)
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


class CommandTable(MutableMapping[str, click.Command]):
    """A group's ``commands`` mapping: every module's command by name, each imported when first looked up.

    Iterating, ``len`` and ``in`` read names only; commands added with
    ``add_command`` are kept as given and win over a module of the same name.
    """

    def __init__(self, loader: CommandLoader, added: dict[str, click.Command] | None = None) -> None:
        self.loader = loader
        self.added = dict(added or {})

    def __getitem__(self, name: str) -> click.Command:
        command = self.added.get(name) or self.loader.load(name)
        if command is None:
            raise KeyError(name)
        return command

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.added[name] = command

    def __delitem__(self, name: str) -> None:
        del self.added[name]

    def __contains__(self, name: object) -> bool:
        return name in self.added or name in self.loader.names()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(set(self.added) | set(self.loader.names())))

    def __len__(self) -> int:
        return len(set(self.added) | set(self.loader.names()))

    def listing(self, name: str) -> click.Command | None:
        """What ``--help`` lists for ``name``: the source's stand-in when it has one, else the command."""
        stand_in = None if name in self.added else self.loader.listing(name)
        return stand_in or self.get(name)


def _command_in(tree: ast.Module, module: str) -> CommandSource | None:
    """The name and help of ``@click.command("name", ...) def command`` in a parsed module, if plain."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "command":
            decorator = next((d for d in node.decorator_list if _is_click_command(d)), None)
            if decorator is None:
                return None
            return _from_decorator(decorator, node, module)
    return None


def _is_click_command(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else node
    return isinstance(func, ast.Attribute) and func.attr == "command" and \
        isinstance(func.value, ast.Name) and func.value.id == "click"


def _from_decorator(decorator: ast.expr, function: ast.FunctionDef, module: str) -> CommandSource | None:
    args = decorator.args if isinstance(decorator, ast.Call) else []
    keywords = {k.arg: k.value for k in decorator.keywords} if isinstance(decorator, ast.Call) else {}
    if len(args) != 1 or not set(keywords) <= _PLAIN_KEYWORDS:
        return None
    texts = [_constant(args[0]), *(_constant(keywords[key]) for key in ("help", "short_help") if key in keywords)]
    if None in texts:
        return None
    help_text = _constant(keywords["help"]) if "help" in keywords else ast.get_docstring(function)
    short_help = _constant(keywords["short_help"]) if "short_help" in keywords else None
    return CommandSource(module, texts[0], help_text, short_help, plain=True)


def _constant(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

"""Problems found in declarations: where each is (file, key path, line) and what was expected.

Parsing raises :class:`InvalidDeclarationError` with every problem of an entry;
``Problems`` gathers them entry by entry and locates each at its line, so one
bad document hides no other and a run reports them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.domain import PlatformSpec
from analysis.text import CONTROLS
from analysis.yaml_loading import BoundedLoader

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class CatalogProblem:
    """One problem of one catalog file: where it is and what was expected."""

    file: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return _escaped(f"{where}: {self.key or '(file)'}: {self.message}")


def _escaped(line: str) -> str:
    """``line`` with every control character (line breaks too: a problem is one line), bidirectional override and
    lone surrogate written as its escape (``\\x1b``): a hostile declaration's key or value, echoed in a problem,
    never reaches a terminal raw."""
    return CONTROLS.sub(lambda found: found[0].encode("unicode_escape").decode("ascii"), line)


@dataclass
class CatalogLoad:
    """The platforms of a catalog folder, the files rejected and why, and harmless oddities."""

    platforms: list[PlatformSpec] = field(default_factory=list)
    errors: list[CatalogProblem] = field(default_factory=list)
    warnings: list[CatalogProblem] = field(default_factory=list)


@dataclass
class FileLoad:
    """One declaration file read: its platform, or ``None`` when it has errors."""

    platform: PlatformSpec | None
    errors: list[CatalogProblem] = field(default_factory=list)
    warnings: list[CatalogProblem] = field(default_factory=list)


class InvalidDeclarationError(Exception):
    """Values of a declaration are not what was expected (raised while parsing one entry).

    It carries every problem found in the entry (``problems``: key path and
    message), so one run reports them all rather than the first.
    """

    def __init__(self, path: KeyPath, message: str, *, more: tuple[tuple[KeyPath, str], ...] = ()) -> None:
        self.problems = ((path, message), *more)
        super().__init__("; ".join(f"{format_key(p)}: {m}" for p, m in self.problems))

    @classmethod
    def of(cls, problems: list[tuple[KeyPath, str]]) -> InvalidDeclarationError:
        (path, message), *more = problems
        return cls(path, message, more=tuple(more))


def read_fields(**readers: Callable[[], Any]) -> dict[str, Any]:
    """Run every reader of an entry's fields; if any fails, raise once with the problems of all."""
    values: dict[str, Any] = {}
    found: list[tuple[KeyPath, str]] = []
    for name, read in readers.items():
        try:
            values[name] = read()
        except InvalidDeclarationError as exc:
            found.extend(exc.problems)
    if found:
        raise InvalidDeclarationError.of(found)
    return values


def format_key(path: KeyPath) -> str:
    """``("terms", "Terms of Service", "select", 1)`` → ``terms.Terms of Service.select[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class Problems:
    """The errors of one file, gathered entry by entry so one bad document hides no other."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.found: list[tuple[Path, KeyPath, str, int | None]] = []

    @contextmanager
    def entry(self, file: Path | None = None) -> Iterator[None]:
        try:
            yield
        except InvalidDeclarationError as exc:
            self.found.extend((file or self.file, path, message, None) for path, message in exc.problems)

    def add(self, path: KeyPath, message: str, *, file: Path | None = None, line: int | None = None) -> None:
        self.found.append((file or self.file, path, message, line))

    def errors(self) -> list[CatalogProblem]:
        # Each file is parsed once for all its problems: parsing it again for each made a file
        # with hundreds of bad documents take minutes.
        nodes: dict[Path, yaml.Node | None] = {}
        located = []
        for file, path, message, line in self.found:
            if not line:
                if file not in nodes:
                    nodes[file] = _compose(file)
                line = _line_of(nodes[file], path)
            located.append(CatalogProblem(str(file), format_key(path), message, line))
        return located


def _compose(file: Path) -> yaml.Node | None:
    """The node tree of ``file`` (JSON is YAML enough for this), or ``None`` when it does not parse."""
    try:
        return yaml.compose(file.read_text(encoding="utf-8-sig"), Loader=BoundedLoader)  # deep nesting refused
    except (OSError, UnicodeError, yaml.YAMLError):
        return None


def _line_of(node: yaml.Node | None, path: KeyPath) -> int | None:
    """The 1-based line of ``path`` in the tree ``node``, or ``None``."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        node = _child(node, part)
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None

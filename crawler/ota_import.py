"""Bringing Open Terms Archive declarations into a catalog folder (``clausewatch import-ota``).

Each declaration is validated first; a bad one is reported and skipped. By
default the JSON file and its ``.history.json`` are copied as they are, since
the catalog reads them natively; with ``convert`` they are rewritten in our
YAML form. A catalog file that exists with other content is never overwritten
without ``force``; files are written beside their target and renamed, so a
crash never leaves half a declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from analysis.domain import PlatformSpec
from crawler.declarations import (
    HISTORY_SUFFIX,
    OTA_SUFFIX,
    history_file_of,
    load_catalog,
    load_declaration_file,
    platform_to_yaml,
    why_not_loaded,
)
from store.files import write_whole

# Outcomes of one declaration; the last two make the command exit with status 1.
IMPORTED, UNCHANGED, UNTRACKED, CONFLICT, INVALID = "imported", "unchanged", "untracked", "conflict", "invalid"
FAILURES = (CONFLICT, INVALID)


@dataclass(frozen=True)
class Outcome:
    """What became of one source declaration, and why when it was not imported."""

    source: Path
    status: str
    detail: str = ""
    warnings: tuple[str, ...] = ()  # harmless oddities of the declaration, for the user to see


class CatalogImport:
    """Imports declarations into one catalog folder, remembering which file declares each slug."""

    def __init__(self, catalog: Path, *, convert: bool, force: bool) -> None:
        self.catalog = catalog
        self.convert = convert
        self.force = force
        self.owners = {platform.slug: Path(platform.source_file).name for platform in load_catalog(catalog).platforms}

    def run(self, source: Path) -> Outcome:
        """Validate one declaration and place it in the catalog; what became of it, with its warnings."""
        loaded = load_declaration_file(source)
        warnings = tuple(str(warning) for warning in loaded.warnings)
        if loaded.errors:
            outcome = Outcome(source, INVALID, "\n".join(str(error) for error in loaded.errors))
        elif loaded.platform is None:
            outcome = Outcome(source, UNTRACKED)  # its warning says why
        else:
            outcome = self._place(source, loaded.platform)
        return replace(outcome, warnings=warnings)

    def _place(self, source: Path, platform: PlatformSpec) -> Outcome:
        targets = self._targets(source, platform)
        owner = self.owners.get(platform.slug)
        if owner is not None and owner not in {path.name for path in targets}:
            return Outcome(source, CONFLICT, f"platform '{platform.slug}' is already declared by {owner} in the catalog")
        changed = {path: content for path, content in targets.items() if _read_bytes(path) != content}
        if not changed:
            return Outcome(source, UNCHANGED)
        existing = [path.name for path in changed if path.exists()]
        if existing and not self.force:
            return Outcome(source, CONFLICT, f"{', '.join(existing)} exists with other content (use --force to overwrite)")
        # The history file first: a write that fails after it leaves an orphan the catalog warns of, never a
        # declaration without its history.
        for path, content in reversed(changed.items()):
            write_whole(path, content)
        self.owners[platform.slug] = next(iter(targets)).name
        return Outcome(source, IMPORTED)

    def _targets(self, source: Path, platform: PlatformSpec) -> dict[Path, bytes]:
        """The catalog files this declaration becomes, with their content (declaration first)."""
        if self.convert:
            header = f"Converted from the Open Terms Archive declaration {source.name!r} by clausewatch import-ota."
            text = platform_to_yaml(platform, header=header)
            return {self.catalog / f"{platform.slug}.yaml": text.encode("utf-8")}
        targets = {self.catalog / source.name: source.read_bytes()}
        history = history_file_of(source)
        if history.is_file():
            targets[self.catalog / history.name] = history.read_bytes()
        return targets


def _read_bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def declaration_sources(source: Path) -> tuple[list[Path], list[Outcome]]:
    """The Open Terms Archive declarations of a folder (their history files travel with them), and the names that
    read as declarations but would not load from a catalog (a folder, a broken link, ``X.JSON``), each as an
    invalid outcome saying why. Hidden files are no declarations, here as in the catalog."""
    if source.is_file():
        return [source], []
    declarations, unloadable = [], []
    for path in sorted(source.iterdir()):
        if path.name.startswith(".") or path.name.endswith(HISTORY_SUFFIX):
            continue
        if path.is_file() and path.name.endswith(OTA_SUFFIX):
            declarations.append(path)
        elif path.name.lower().endswith(OTA_SUFFIX) and (reason := why_not_loaded(path)) is not None:
            unloadable.append(Outcome(path, INVALID, f"{path}: {reason}"))
    return declarations, unloadable

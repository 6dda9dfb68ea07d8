"""`clausewatch import-ota`: bring Open Terms Archive declarations into the catalog.

Each declaration is validated first; a bad one is reported and skipped. With
``--copy`` (the default) the JSON file and its ``.history.json`` are copied as
they are, since the catalog reads them natively; with ``--convert`` they are
rewritten in our YAML form. A catalog file that exists with other content is
never overwritten without ``--force``.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import click

from analysis.domain import PlatformSpec
from crawler.declarations import (
    HISTORY_SUFFIX,
    OTA_SUFFIX,
    history_file_of,
    load_catalog,
    load_declaration_file,
    platform_to_yaml,
)
from clausewatch.commands._global_options import global_options

# Outcomes of one declaration; the last two make the command exit with status 1.
IMPORTED, UNCHANGED, UNTRACKED, CONFLICT, INVALID = "imported", "unchanged", "untracked", "conflict", "invalid"
FAILURES = (CONFLICT, INVALID)


@dataclass(frozen=True)
class Outcome:
    """What became of one source declaration, and why when it was not imported."""

    source: Path
    status: str
    detail: str = ""


class CatalogImport:
    """Imports declarations into one catalog folder, remembering which file declares each slug."""

    def __init__(self, catalog: Path, *, convert: bool, force: bool) -> None:
        self.catalog = catalog
        self.convert = convert
        self.force = force
        self.owners = {platform.slug: Path(platform.source_file).name for platform in load_catalog(catalog).platforms}

    def run(self, source: Path) -> Outcome:
        loaded = load_declaration_file(source)
        for warning in loaded.warnings:
            click.echo(f"warning: {warning}", err=True)
        if loaded.errors:
            return Outcome(source, INVALID, "\n".join(str(error) for error in loaded.errors))
        if loaded.platform is None:
            return Outcome(source, UNTRACKED)  # its warning says why
        return self._place(source, loaded.platform)

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
        for path, content in changed.items():
            _write_atomically(path, content)
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


def _write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target and rename, so a crash never leaves half a declaration."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def declaration_sources(source: Path) -> list[Path]:
    """The Open Terms Archive declarations of a folder (their history files travel with them)."""
    if source.is_file():
        return [source]
    return sorted(
        path for path in source.iterdir()
        if path.is_file() and path.name.endswith(OTA_SUFFIX) and not path.name.endswith(HISTORY_SUFFIX)
    )


@click.command("import-ota")
@global_options
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--to", "catalog", type=click.Path(file_okay=False, path_type=Path),
              help="Catalog folder to import into (default: the CATALOG setting).")
@click.option("--convert/--copy", default=False, show_default=True,
              help="Rewrite declarations in our YAML form, or copy the JSON files as they are.")
@click.option("--force", is_flag=True, help="Overwrite catalog files that exist with other content.")
@click.pass_obj
def command(settings, source: Path, catalog: Path | None, convert: bool, force: bool) -> None:
    """Import Open Terms Archive declarations from SOURCE (a folder or one .json file).

    Every declaration is validated first; invalid ones are reported and skipped.
    Exits with status 1 when any declaration was invalid or conflicted with the catalog.
    """
    catalog = catalog or Path(settings.catalog)
    if catalog.exists() and not catalog.is_dir():
        raise click.BadParameter(f"{catalog} is not a folder", param_hint="--to")
    sources = declaration_sources(source)
    if not sources:
        raise click.BadParameter(f"no Open Terms Archive declaration (*.json) in {source}", param_hint="SOURCE")
    catalog.mkdir(parents=True, exist_ok=True)
    importer = CatalogImport(catalog, convert=convert, force=force)
    counts: Counter[str] = Counter()
    for path in sources:
        outcome = importer.run(path)
        counts[outcome.status] += 1
        _report(outcome)
    click.echo(_summary(counts, len(sources), catalog))
    if any(counts[status] for status in FAILURES):
        raise click.exceptions.Exit(1)


def _report(outcome: Outcome) -> None:
    if outcome.status == INVALID:
        # Declaration errors already name their file, key and line.
        for line in outcome.detail.splitlines():
            click.echo(f"{INVALID}: {line}", err=True)
    elif outcome.detail:
        click.echo(f"{outcome.status}: {outcome.source.name}: {outcome.detail}", err=True)


def _summary(counts: Counter[str], total: int, catalog: Path) -> str:
    parts = ", ".join(
        f"{counts[status]} {label}"
        for status, label in (
            (IMPORTED, "imported"), (UNCHANGED, "unchanged"), (UNTRACKED, "skipped (no documents)"),
            (CONFLICT, "conflicting"), (INVALID, "invalid"),
        )
    )
    return f"{total} declaration(s) into {catalog}: {parts}"

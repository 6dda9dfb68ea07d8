"""Incremental output: a page is rewritten only when its inputs, and then its bytes, change.

The manifest (``.clausewatch-manifest.json`` in the output folder) maps each
page's relative path to the fingerprint it was last written with; a page
whose fingerprint changed is rendered, and written only if its bytes differ
from the file already there (a code change that leaves it identical rewrites
nothing). Files are written atomically (temporary file, then rename), so a
reader of the site never sees half a page; pages no longer produced are removed,
and so are the temporary files a build killed mid-write left behind. Those carry a
name only this module makes (``.clausewatch-tmp-…``): a ``.tmp-`` file of
someone else's in the folder is never touched. The manifest also marks the
folder as a site clausewatch built (``is_site_folder``): it is written first
thing, so even a first build killed midway leaves its folder recognisable.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from store.files import TEMPORARY_PREFIX, write_whole

MANIFEST_NAME = ".clausewatch-manifest.json"


class SitePathError(ValueError):
    """A page path would leave the output folder."""


def is_site_folder(folder: Path) -> bool:
    """True when ``folder`` is empty or holds the manifest a build writes: only then may a build
    write (and remove) files in it."""
    folder = Path(folder)
    return not folder.is_dir() or (folder / MANIFEST_NAME).is_file() or not any(folder.iterdir())


def manifest_pages(folder: Path) -> dict[str, str]:
    """The pages the last finished build of the site in ``folder`` wrote (or found written as it would write them),
    by path, with their fingerprints; none when it has no manifest or one it cannot read."""
    try:
        data = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    pages = data.get("pages", {}) if isinstance(data, dict) else {}
    return pages if isinstance(pages, dict) else {}


def atomic_write(target: Path, data: bytes) -> None:
    """Write ``target`` whole or not at all, its folder made if needed (``store.files.write_whole``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    write_whole(target, data)


def _same_content(target: Path, data: bytes) -> bool:
    try:
        return target.stat().st_size == len(data) and target.read_bytes() == data
    except FileNotFoundError:
        return False


class IncrementalWriter:
    """Writes pages whose fingerprint changed and remembers what it wrote."""

    def __init__(self, out: Path, *, full: bool = False):
        self.out = Path(out)
        self.full = full
        self.started = time.time()
        self.previous = {} if full else self._load()
        if not (self.out / MANIFEST_NAME).is_file():  # mark the folder before the first page lands in it
            self._save({})
        self.current: dict[str, str] = {}
        self.written: list[str] = []
        self.rendered = 0
        self.unchanged = 0

    def _load(self) -> dict[str, str]:
        return manifest_pages(self.out)

    def _target(self, path: str) -> Path:
        relative = PurePosixPath(path)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise SitePathError(f"page path {path!r} is not inside the site")
        return self.out.joinpath(*relative.parts)

    def write(self, path: str, fingerprint: str, produce: Callable[[], bytes]) -> bool:
        """Write ``produce()`` at ``path`` unless the same fingerprint is already there; True if written."""
        target = self._target(path)
        self.current[path] = fingerprint
        if self.previous.get(path) == fingerprint and target.is_file():
            self.unchanged += 1
            return False
        data = produce()
        self.rendered += 1
        if _same_content(target, data):  # new inputs (or new code) that render the same page
            self.unchanged += 1
            return False
        atomic_write(target, data)
        self.written.append(path)
        return True

    def finish(self) -> list[str]:
        """Remove pages no longer produced, save the manifest; returns the removed paths."""
        removed = sorted(set(self.previous) - set(self.current))
        for path in removed:
            self._target(path).unlink(missing_ok=True)
        self._remove_leftovers()
        self._save(self.current)
        return removed

    def _save(self, pages: dict[str, str]) -> None:
        manifest = {"format": 1, "pages": dict(sorted(pages.items()))}
        atomic_write(self.out / MANIFEST_NAME, json.dumps(manifest, indent=0).encode("utf-8"))

    def _remove_leftovers(self) -> None:
        """Temporary files of a build that was killed before renaming them (older than this build,
        so a build running beside this one keeps its own)."""
        for leftover in self.out.rglob(TEMPORARY_PREFIX + "*"):
            try:
                if leftover.is_file() and leftover.stat().st_mtime < self.started:
                    leftover.unlink()
            except FileNotFoundError:  # renamed or removed meanwhile
                pass

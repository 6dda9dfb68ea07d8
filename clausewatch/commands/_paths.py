"""The path a command's option names, as the user meant it.

``Path("")`` is the current folder: ``--out ''`` (an unset shell variable)
wrote to, or complained about, ".". A file option ending in "/" names a folder:
``--wacz exports/`` wrote a file called ``exports``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click


class GivenPath(click.Path):
    """``click.Path`` that refuses an empty value, a file's name written as a folder's, and a loop of symbolic
    links (which every command would meet as a RuntimeError when it resolves the path)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(path_type=Path, **kwargs)

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            if not value.strip():
                self.fail("is empty: name a path (an unset variable?)", param, ctx)
            if not self.dir_okay and value.endswith(("/", os.sep)):
                self.fail(f"{value!r} ends in '/', as a folder's name does: name a file", param, ctx)
        path = super().convert(value, param, ctx)
        try:
            path.resolve()
        except (OSError, RuntimeError):  # RuntimeError before Python 3.13
            self.fail(f"{str(path)!r}: its symbolic links make a loop", param, ctx)
        return path

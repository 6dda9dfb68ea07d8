"""Files written whole or not at all: how clausewatch lands a file it writes in one go.

Pages of the site, dry-run emails, imported declarations and the signing key
all go through :func:`write_whole`; a streamed output (a web archive, an
export) goes through ``clausewatch.app.new_file``, and a blob through
``store.blobs`` (which also makes its folder entry durable).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# What a temporary file beside its target is called; a build cleans up only files of this prefix (reports.site).
TEMPORARY_PREFIX = ".clausewatch-tmp-"


def write_whole(target: Path, data: bytes, *, mode: int = 0o644, replace: bool = True, durable: bool = False) -> bool:
    """Write ``target`` through a temporary file beside it, then rename it into place; False, and nothing written,
    when ``replace`` is off and a file is already there (linked, never renamed, onto the name).

    The temporary file is made with mode 0600 and given ``mode`` only once
    whole; ``durable`` syncs it to disk before it lands. A write the OS refuses
    (a full disk) raises an ``OSError`` naming ``target``: the OS names no file
    for a failed write. The temporary file never outlives the call.
    """
    try:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=TEMPORARY_PREFIX)
    except OSError as exc:  # a folder that is read-only or not there: named, not the random name tried in it
        raise naming(exc, target) from exc
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        if replace:
            os.replace(temporary, target)
            return True
        try:
            os.link(temporary, target)
        except FileExistsError:
            return False
        return True
    except OSError as exc:
        raise naming(exc, target) from exc
    finally:
        temporary.unlink(missing_ok=True)


def naming(error: OSError, target: Path) -> OSError:
    """``error`` as the user's file's error: the temporary file is ours, and its random name means nothing to them
    (a rename onto a folder names both; a failed write names neither)."""
    if error.filename is not None and TEMPORARY_PREFIX not in str(error.filename):
        return error
    return type(error)(error.errno, error.strerror, str(target))

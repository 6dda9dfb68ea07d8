"""Errors as data at the edge: the typed errors a command may end with, and the
exit status and one-line message each becomes. No click here: the library and
the scheduler raise these; only the command layer (``clausewatch.cli``) prints
them and exits.

Exit statuses (README): 0 success, 1 the work ran but found a problem,
2 bad input (usage, settings, catalog, schedules, store, files),
130 interrupted by Ctrl-C (128 + SIGINT, as shells report it).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

EXIT_PROBLEM = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
# The disk, not the program: full, over quota, a file past its size limit, read-only, failing.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})


class BadInputError(Exception):
    """Input the user must fix (a setting, a file, an argument); the message names it."""


class BusyError(Exception):
    """Another process holds the lock this work needs; the message names the holder."""


class InterruptedRunError(BaseException):
    """The command was stopped by a signal; the message says what became of its work.

    Raised by a signal handler, so anywhere in the main thread: a BaseException, as
    KeyboardInterrupt is, so that no ``except Exception`` on the way swallows it (one
    in logging's emit did, when the second Ctrl-C came while the first was logged).
    """

    def __init__(self, signal_name: str, what: str = "every write is a transaction: nothing is half-written"):
        self.signal_name = signal_name
        super().__init__(f"interrupted by {signal_name}; {what}")


def _exit_statuses() -> tuple[tuple[type[BaseException], int], ...]:
    """Errors a command may end with, and the exit status each means.

    Imported here, on the error path only, so that starting a command never
    pays for the store's or the mailer's imports. Store errors are bad input: a
    URL, a missing or foreign database, a schema to migrate.
    """
    from clausewatch.schedules import SchedulesError
    from clausewatch.settings import SettingsError
    from reports.subscribers import SubscribersError
    from store.blobs import BlobError
    from store.repository import StoreError

    return (
        (BadInputError, EXIT_BAD_INPUT),
        (SettingsError, EXIT_BAD_INPUT),
        (SchedulesError, EXIT_BAD_INPUT),
        (SubscribersError, EXIT_BAD_INPUT),
        (StoreError, EXIT_BAD_INPUT),
        (BlobError, EXIT_PROBLEM),  # a missing or corrupt blob: `verify` says more
        (BusyError, EXIT_PROBLEM),
        (InterruptedRunError, EXIT_INTERRUPTED),
    )


def exit_status_of(error: BaseException) -> int | None:
    """The exit status an error means, or None for an error that is a bug (it keeps its traceback)."""
    for kind, status in _exit_statuses():
        if isinstance(error, kind):
            return status
    if isinstance(error, OSError) and (error.filename is not None or error.errno in DISK_ERRNOS):
        return EXIT_BAD_INPUT  # a path that is blocked, unreadable or not a folder; a full or failing disk
    return None


def error_lines(error: BaseException) -> list[str]:
    """The error as lines of its own: one per problem (a schedules file may have several), else one."""
    if isinstance(error, OSError) and error.filename is not None:
        texts = [f"cannot use {error.filename}: {_path_problem(error)}"]
    elif isinstance(error, OSError) and error.errno in DISK_ERRNOS:  # a failed write names no file
        texts = [f"a write failed: {error.strerror}"]
    else:
        texts = list(getattr(error, "problems", None) or [str(error) or type(error).__name__])
    return [" ".join(text.split()) for text in texts]


def not_utf8(path: object, error: UnicodeDecodeError) -> str:
    """Where a file that should be UTF-8 text is not, as ``PATH:LINE: …`` with the byte and its offset."""
    line = error.object[:error.start].count(b"\n") + 1
    byte = error.object[error.start:error.start + 1].hex()
    return f"{path}:{line}: not UTF-8 text (byte 0x{byte} at offset {error.start}: {error.reason})"


def _path_problem(error: OSError) -> str:
    """What is wrong with the path an OS error names; "File exists" or "Not a directory" alone do not say which."""
    if isinstance(error, (FileExistsError, NotADirectoryError)) and (blocking := file_in_the_way(error.filename)):
        return f"{blocking} is a file, where a folder is needed"
    return error.strerror or str(error)


def file_in_the_way(path: str) -> str | None:
    """The file at ``path`` or at the nearest of its folders that exists, if that is a file."""
    for candidate in (path, *map(str, Path(path).parents)):
        if os.path.exists(candidate):
            return candidate if os.path.isfile(candidate) else None
    return None

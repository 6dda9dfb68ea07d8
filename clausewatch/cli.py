"""The ``clausewatch`` command: a thin click layer over the library.

Each subcommand lives in its own module ``clausewatch/commands/<name>.py``
exposing a click command named ``command``; every module of that package is
registered, in name order. A module is imported only when its command runs
(or when ``--help`` cannot read its summary from the source), so commands that
do not crawl never import Scrapy or Twisted (decision 0014).

Exit codes: 0 success, 1 the work ran but found a problem (a failed fetch, a
hash mismatch; or the reader of its output went away before the end, ``| head``),
2 bad input (usage, settings, catalog, schedules, store), 130 interrupted by
Ctrl-C. Typed errors, and click's usage errors, become one line
and their exit code in ``GuardedGroup`` (statuses in ``clausewatch.errors``),
never a traceback.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click

from clausewatch.commands import CommandLoader, CommandTable
from clausewatch.commands._global_options import add_global_options
from clausewatch.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, InterruptedRunError, error_lines, exit_status_of
from clausewatch.signal_relay import signals_handled


class GuardedGroup(click.Group):
    """A click group whose commands end on typed errors with one line and an exit status, never a traceback.

    Usage errors too (a bad option value, a missing argument, an unknown command) are one line, where click
    prints four (usage, "Try …", a blank line, the error), in the group's options as in each command's.
    """

    def main(self, *args, **kwargs):
        """Click's main, with standard output written whole or its failure said in one line, exit 2.

        A full disk (or ``> /dev/full``) failed the interpreter's last flush: "Exception ignored … OSError",
        exit 120, after "a write failed" naming no file. Unbuffered (``PYTHONUNBUFFERED``, ``-u``) a short write
        was taken as whole: output cut short, exit 0. Standard output is given a buffer that writes all or
        raises, naming itself, and is flushed here.
        """
        _buffered_standard_output()
        # Started with one closed: click's wrapper of a missing standard error failed the last flush (exit 120), and
        # `classify -` found no standard input to read (a RuntimeError traceback). Closed, they are empty.
        if sys.stderr is None:
            sys.stderr = open(os.devnull, "w")  # noqa: SIM115 -- for the life of the process
        if sys.stdin is None:
            sys.stdin = open(os.devnull)  # noqa: SIM115
        said = False
        try:
            return super().main(*args, **kwargs)
        except SystemExit as exit:
            said = exit.code not in (0, None)  # a failed write of the command's was said, in one line
            raise
        finally:
            problem = _flushed_standard_output()
            if problem == _READER_GONE:
                if not said:  # as click ends a command whose reader went away before its last line: exit 1
                    raise SystemExit(1)
            elif problem is not None:
                if not said:
                    click.echo(f"Error: cannot use standard output: {problem}", err=True)
                raise SystemExit(EXIT_BAD_INPUT)  # the output is incomplete, whatever the command said

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise  # `clausewatch` alone: the help, as asked
        except click.UsageError as error:
            click.echo(usage_line(error, info_name or self.name), err=True)
            raise click.exceptions.Exit(error.exit_code) from None

    def invoke(self, ctx: click.Context):
        try:
            with _terminated_as_interrupted():
                return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.UsageError as error:
            command = " ".join(filter(None, (ctx.command_path, ctx.invoked_subcommand)))
            click.echo(usage_line(error, command), err=True)
            ctx.exit(error.exit_code)
        except InterruptedRunError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except KeyboardInterrupt:  # Ctrl-C outside a command that stops on it by itself (crawl does)
            click.echo("Error: interrupted by SIGINT; every write is a transaction: nothing is half-written, "
                       "run the command again to finish", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except Exception as error:
            status = exit_status_of(error)
            if status is None:
                raise
            for line in _named(error_lines(error), error, ctx):
                click.echo(f"Error: {line}", err=True)
            ctx.exit(status)


class _StandardOutputBuffer(io.BufferedWriter):
    """Standard output's buffer: it writes all or raises, and its failures name it ("cannot use standard output:
    No space left on device"), as the OS names no file. The text layer above it and ``export``'s bytes meet it
    alike."""

    def write(self, data) -> int:
        try:
            return super().write(data)
        except OSError as exc:
            raise _named_output_error(exc) from None

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            raise _named_output_error(exc) from None


def _named_output_error(exc: OSError) -> OSError:
    return exc if isinstance(exc, BrokenPipeError) else OSError(exc.errno, exc.strerror, "standard output")


def _buffered_standard_output() -> None:
    """Standard output through :class:`_StandardOutputBuffer`.

    Unbuffered (``PYTHONUNBUFFERED``, ``-u``), ``sys.stdout`` writes to the file itself, and a partial write (a
    disk filling) was neither retried nor said; lines still go out as they are printed.
    """
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if isinstance(buffer, _StandardOutputBuffer):
        return  # done already
    raw = buffer.raw if isinstance(buffer, io.BufferedWriter) else buffer
    if not isinstance(raw, io.FileIO):
        return  # a test's captured output
    stream.flush()
    sys.stdout = io.TextIOWrapper(_StandardOutputBuffer(raw), encoding=stream.encoding, errors=stream.errors,
                                  line_buffering=stream.line_buffering or buffer is raw)


# What :func:`_flushed_standard_output` says of a reader that went away (``| head``): nothing to tell, but the output
# did not all arrive, as when it went away earlier (click's exit 1 then); a pipe's buffer decides which of the two.
_READER_GONE = ""


def _flushed_standard_output() -> str | None:
    """Flush standard output; when the OS refuses (a full disk), why (:data:`_READER_GONE` for a reader that went
    away), and the file swapped for /dev/null so that the interpreter's own last flush fails no more."""
    if sys.stdout is None:  # started with standard output closed (`>&-`): click wrote nothing, nothing to flush
        return None
    try:
        sys.stdout.flush()
        return None
    except (OSError, ValueError) as exc:
        problem = _READER_GONE if isinstance(exc, BrokenPipeError) else (getattr(exc, "strerror", None) or str(exc))
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass
    return problem


@contextmanager
def _terminated_as_interrupted() -> Iterator[None]:
    """SIGTERM (a service manager's stop, `kill`) ends a command as Ctrl-C does: through its cleanups (a half-written
    export's temporary file is removed) and with one line, where its default action killed the process at once.
    Commands that stop on it by themselves (crawl, run, schedule, crawl-worker) install their own handler inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with signals_handled(_raise_interrupted, signal.SIGTERM):
        yield


def _raise_interrupted(_signum: int, _frame: object) -> None:
    raise InterruptedRunError("SIGTERM")


def _named(lines: list[str], error: Exception, ctx: click.Context) -> list[str]:
    """A store that failed in use, where no layer below named the setting it came from: named here."""
    from clausewatch.commands._global_options import SETTINGS
    from store.errors import StoreFailedError

    settings = ctx.meta.get(SETTINGS)
    if not isinstance(error, StoreFailedError) or settings is None:
        return lines
    from clausewatch.app import store_failure_line

    return [" ".join(store_failure_line(settings, error).split())]


def usage_line(error: click.UsageError, command_path: str) -> str:
    """A usage error as one line: what was wrong, then the help that says how it goes (the help of the command
    it arose in, ``command_path`` when click does not say)."""
    return f"Error: {error.format_message()} ({error.ctx.command_path if error.ctx else command_path} --help)"


class LazyGroup(GuardedGroup):
    """A click group whose subcommands are the modules of ``clausewatch.commands``, imported on use.

    ``commands`` is a :class:`CommandTable`: it lists every module's command
    without importing it, so click's own ``list_commands``/``get_command`` (and
    any caller of ``main.commands``) work unchanged.
    """

    def __init__(self, *args, loader: CommandLoader, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.commands = CommandTable(loader, self.commands)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List every command with its summary, read from the source rather than imported."""
        listed = [(name, self.commands.listing(name)) for name in self.list_commands(ctx)]
        listed = [(name, command) for name, command in listed if command is not None and not command.hidden]
        if listed:
            limit = formatter.width - 6 - max(len(name) for name, _ in listed)
            with formatter.section("Commands"):
                formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in listed])


@click.group(cls=LazyGroup, loader=CommandLoader(), context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@add_global_options
@click.version_option(package_name="clausewatch")
def main() -> None:
    """Archive, analyse and publish the legal documents of online platforms.

    The options below are also taken after the command (`clausewatch init --catalog DIR`).
    """
    # The options are recorded, not applied: each command resolves its settings once its own
    # options are read too (clausewatch/commands/_global_options.py); a SettingsError exits 2.

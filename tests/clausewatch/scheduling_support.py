"""Shared by the scheduling tests: settings on the test store, test actions, and a
worker process (run this file) that is the real CLI plus a blocking action.

    python scheduling_support.py ARGS...   # = clausewatch ARGS..., with actions
                                            #   `block` (prints BLOCKING, waits on stdin)
                                            #   `count` (returns {"calls": 1})
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clausewatch import job_runner
from clausewatch.job_runner import ActionContext, ActionResult
from clausewatch.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
BLOCKING = "BLOCKING"
GATED = "CLAUSEWATCH_TEST_WORKER_GATED"


def block(context: ActionContext) -> ActionResult:
    """Announce itself on stdout, then wait until stdin says go (or closes)."""
    print(BLOCKING, context.job_id, flush=True)
    line = sys.stdin.readline()
    return ActionResult({"released": line.strip() or "eof"})


def count(context: ActionContext) -> ActionResult:
    return ActionResult({"calls": 1})


def write_schedules(path: Path, *jobs_yaml: str) -> Path:
    path.write_text("jobs:\n" + "".join(jobs_yaml), encoding="utf-8")
    return path


def job_yaml(job_id: str, action: str, cron: str = "0 5 * * *", extra: str = "") -> str:
    return f"  - id: {job_id}\n    action: {action}\n    cron: \"{cron}\"\n{extra}"


def make_settings(home: Path, database_url: str, schedules: Path, **more: object) -> Settings:
    overrides = {"HOME": home, "DATABASE_URL": database_url, "SCHEDULES": schedules, **more}
    return load_settings({}, overrides)


@pytest.fixture
def recorded_actions() -> Iterator[dict[str, list[ActionContext]]]:
    """Registers ``block``-free test actions; records each call; restores the registry after."""
    saved = dict(job_runner._ACTIONS)
    calls: dict[str, list[ActionContext]] = {}

    def recording(name: str, result: ActionResult | Exception):
        def action(context: ActionContext) -> ActionResult:
            calls.setdefault(name, []).append(context)
            if isinstance(result, Exception):
                raise result
            return result
        return action

    for name, result in {
        "crawl": ActionResult({"new_version": 2, "unchanged": 5, "failed": 1}, problems=1),
        "alerts": ActionResult({"sent": 3}),
        "site": ActionResult({"pages": 40}),
        "digest": ActionResult({"sent": 1}),
        "count": ActionResult({"calls": 1}),
        "explode": RuntimeError("the catalog folder is on fire"),
    }.items():
        job_runner.register_action(name, recording(name, result), replace=True)
    try:
        yield calls
    finally:
        job_runner._ACTIONS.clear()
        job_runner._ACTIONS.update(saved)


def worker(args: list[str], env: dict[str, str], *, gated: bool = False, **popen: object) -> subprocess.Popen:
    """Start the CLI with the test actions in a real subprocess.

    A ``gated`` worker loads, then waits for a line on stdin before running the
    command: start it early, beside another, and release it when it is time.
    """
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=REPO, env={**os.environ, **env, **({GATED: "1"} if gated else {})}, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen,
    )


def wait_for_line(process: subprocess.Popen, marker: str) -> str:
    """Read the worker's stdout until a line starts with ``marker`` (the read is the wait)."""
    for line in process.stdout:
        if line.startswith(marker):
            return line
    raise AssertionError(f"worker ended without printing {marker}: {process.stderr.read()}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    job_runner.register_action("block", block)
    job_runner.register_action("count", count)
    from clausewatch.cli import main

    if os.environ.get(GATED):
        sys.stdin.readline()  # imported (the slow part); start only when the test says so
    main(sys.argv[1:], prog_name="clausewatch")

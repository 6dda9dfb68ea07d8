"""Fixtures shared by the command and job tests."""

from __future__ import annotations

import signal

import pytest


@pytest.fixture
def restore_signals():
    """Put back the SIGTERM and SIGINT handlers a job runner installed."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield saved
    for signum, handler in saved.items():
        signal.signal(signum, handler)

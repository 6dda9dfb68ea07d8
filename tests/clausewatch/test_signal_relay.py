"""The relay from a signal handler to a thread, with real signals sent to this process."""

from __future__ import annotations

import os
import signal
import threading
from queue import SimpleQueue

import pytest

from clausewatch.signal_relay import SignalRelay, signals_handled

# A hang guard only: each wait below ends as soon as the thing waited on happens.
HANG_GUARD = 30.0


def signalled(times: int = 1) -> None:
    """Send this process SIGUSR1; its handler has run when this returns (Python runs it in the main thread, here)."""
    for _ in range(times):
        os.kill(os.getpid(), signal.SIGUSR1)


def relay_threads(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == name]


def test_a_signal_landing_while_the_main_thread_holds_the_lock_the_action_needs_is_acted_on_after():
    # The handler runs in the main thread, the lock held: had it acted itself, it would have waited on itself for good.
    lock = threading.Lock()
    acted: SimpleQueue[str] = SimpleQueue()

    def act() -> None:
        with lock:
            acted.put(threading.current_thread().name)

    relay = SignalRelay(act, name="test-relay")
    with signals_handled(lambda _signum, _frame: relay.ask(), signal.SIGUSR1), relay.running():
        with lock:
            signalled()
        assert acted.get(timeout=HANG_GUARD) == "test-relay"


def test_once_acts_on_the_first_request_of_each_block_and_drops_the_others():
    acted: list[int] = []
    relay = SignalRelay(lambda: acted.append(1), name="test-relay-once", once=True)
    with signals_handled(lambda _signum, _frame: relay.ask(), signal.SIGUSR1):
        with relay.running(wait_seconds=HANG_GUARD):
            signalled(3)
        assert acted == [1]  # the block's end waited for the thread
        assert relay_threads("test-relay-once") == []
        with relay.running(wait_seconds=HANG_GUARD):
            pass  # the first block's dropped requests are not this one's
        assert acted == [1]
        with relay.running(wait_seconds=HANG_GUARD):
            signalled(2)
        assert acted == [1, 1]


def test_each_request_is_acted_on_before_the_thread_ends():
    acted: list[int] = []
    relay = SignalRelay(lambda: acted.append(1), name="test-relay-each")
    with signals_handled(lambda _signum, _frame: relay.ask(), signal.SIGUSR1):
        with relay.running(wait_seconds=HANG_GUARD):
            signalled(3)
        assert acted == [1, 1, 1]
        assert relay_threads("test-relay-each") == []


def test_a_request_made_before_the_relay_runs_waits_for_it_and_one_never_made_is_not_acted_on():
    acted: list[str] = []
    relay = SignalRelay(lambda: acted.append("asked"), name="test-relay-early")
    with relay.running(wait_seconds=HANG_GUARD):
        pass
    assert acted == [] and relay_threads("test-relay-early") == []
    relay.ask()
    with relay.running(wait_seconds=HANG_GUARD):
        pass
    assert acted == ["asked"]


def test_the_previous_handlers_are_put_back_even_when_the_block_fails():
    previous = signal.getsignal(signal.SIGUSR1), signal.getsignal(signal.SIGUSR2)

    def handler(_signum, _frame) -> None:
        raise LookupError("handled")

    with pytest.raises(LookupError), signals_handled(handler, signal.SIGUSR1, signal.SIGUSR2):
        assert signal.getsignal(signal.SIGUSR1) is handler and signal.getsignal(signal.SIGUSR2) is handler
        signalled()
    assert (signal.getsignal(signal.SIGUSR1), signal.getsignal(signal.SIGUSR2)) == previous


def test_a_thread_still_acting_after_its_block_failed_takes_nothing_of_the_next_block():
    # One queue for every block: the second block's thread took the first block's end and left, and the first
    # block's thread, still acting, took the second block's request and dropped it (review of 2026-12-03).
    acting, go_on = threading.Event(), threading.Event()
    acted: SimpleQueue[str] = SimpleQueue()

    def act() -> None:
        acting.set()
        go_on.wait(HANG_GUARD)
        acted.put(threading.current_thread().name)

    relay = SignalRelay(act, name="test-relay-blocks", once=True)
    with pytest.raises(RuntimeError), relay.running(wait_seconds=HANG_GUARD):
        relay.ask()
        assert acting.wait(HANG_GUARD)
        raise RuntimeError("the block fails while its thread acts: it is not waited for")
    with relay.running(wait_seconds=HANG_GUARD):
        relay.ask()
        go_on.set()
    assert [acted.get(timeout=HANG_GUARD), acted.get(timeout=HANG_GUARD)] == ["test-relay-blocks"] * 2

"""What a signal handler may do: note a request, which a thread of its own acts on.

A Python signal handler runs in the main thread, between two bytecodes of
whatever that thread was doing, locks held included. A handler that takes a
lock the main thread holds (crochet's registry, a ``threading.Event``'s) waits
on itself for good: `crawl`, `crawl-worker` and the scheduler each hung so on
2026-12-03. A :class:`SignalRelay` puts the request on a ``SimpleQueue``, whose
``put`` is reentrant, and a thread of the relay's takes it and acts, free to
take any lock (docs/decisions/0013-hardening.md, seventeenth pass).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from queue import SimpleQueue
from typing import Any


class SignalRelay:
    """Calls ``act`` in a thread named ``name`` when asked, from a signal handler or anywhere, with what the request
    carries (``ask(*args)``: the signal's name, say).

    ``once``: the thread acts on the first request of a :meth:`running` block
    and drops the others; otherwise it acts on each. Requests made while no
    block runs wait for the next.
    """

    def __init__(self, act: Callable[..., object], *, name: str, once: bool = False) -> None:
        self._act = act
        self._name = name
        self._once = once
        self._requests = self._queue()

    @staticmethod
    def _queue() -> SimpleQueue[tuple[object, ...] | None]:
        return SimpleQueue()  # a request's arguments; None: the block ended, the thread ends

    def ask(self, *args: object) -> None:
        """Have the thread act on ``args``; takes no lock, so safe in a signal handler."""
        self._requests.put(args)

    @contextmanager
    def running(self, *, wait_seconds: float = 0) -> Iterator[SignalRelay]:
        """The relay's thread, from the start of the block to its end, where it acts on what was asked before it
        ends. A block that ended without an error waits up to ``wait_seconds`` for that.

        Each block's thread has a queue of its own (what was asked before the block, then during it): a thread still
        acting after its block ended cannot take the next block's requests, nor that block's thread its end."""
        requests = self._requests
        thread = threading.Thread(target=self._relay, args=(requests,), name=self._name, daemon=True)
        thread.start()  # here, not in a handler: starting a thread takes locks of threading's own
        finished = False
        try:
            yield self
            finished = True
        finally:
            self._requests = self._queue()  # asked from now on: for the next block
            requests.put(None)
            if finished and wait_seconds:
                thread.join(wait_seconds)

    def _relay(self, requests: SimpleQueue[tuple[object, ...] | None]) -> None:
        acted = False
        while (args := requests.get()) is not None:  # up to this block's end
            if not (acted and self._once):
                self._act(*args)
                acted = True


@contextmanager
def signals_handled(handler: Callable[[int, Any], None], *signums: int) -> Iterator[None]:
    """``handler`` handles each of ``signums`` within the block; their previous handlers are put back after."""
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield
    finally:
        for signum, replaced in previous.items():
            signal.signal(signum, replaced)

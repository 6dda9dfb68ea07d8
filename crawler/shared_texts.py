"""One analysis for each text a crawl meets, however many documents serve it.

Documents often share their text: one company's terms served for each of its
services, a store's policy copied to its regional sites, a template on many
small sites. Each document keeps versions of its own (the archive is per
document), but the analysis of a new text depends only on the text, the
document's type and, for a later version, the version it replaces (text, clause
keys and classifications): two documents bringing the same text from the same
starting point get the same clauses, keys and change. A crawl asks for that
analysis once; the other documents get the same result, waiting for it if it
is still being computed in another recording thread or the analysis worker.

What is kept is bounded (``KEEP`` results, the most recently used), so a crawl
of any size holds the same memory; a shared text seen again after that many
others is analysed again, which is only slower. A result that failed is not
kept: each document waiting for it analyses the text itself.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from concurrent.futures import Future

from analysis.domain import StoredVersion, VersionAnalysis
from analysis.text import sha256_text
from store.recording import AnalyzeVersion

# Results kept for texts met again later in the crawl (each holds one version's clauses).
KEEP = 64

_Key = tuple[str, str | None, str | None]


class SharedTexts:
    """An ``analyze`` callable for the recorder that analyses each (text, type, previous version) once."""

    def __init__(self, analyze: AnalyzeVersion, keep: int = KEEP) -> None:
        self.analyze = analyze
        self.keep = keep
        self.shared = 0  # analyses a document got from another's (for the benchmarks and tests)
        self._results: OrderedDict[_Key, Future] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, previous: StoredVersion | None, text: str, document_type: str | None = None) -> VersionAnalysis:
        key = (sha256_text(text), document_type, _previous_key(previous))
        mine: Future | None = None
        try:
            with self._lock:
                result = self._results.get(key)
                if result is None:
                    mine = Future()  # named before it is published: whatever interrupts this thread now ends it
                    self._results[key] = result = mine
                    if len(self._results) > self.keep:
                        self._results.popitem(last=False)  # a waiter holds its future: it still gets the result
                else:
                    self._results.move_to_end(key)
            if mine is not None:
                analysis = self.analyze(previous, text, document_type)
                mine.set_result(analysis)
                return analysis
        except BaseException as exc:
            if mine is not None and not mine.done():
                self._forget(key, mine, exc)
            raise
        try:
            analysis = self._wait_for(result)
        except Exception:  # noqa: BLE001 - the other document's failure is its own: this one analyses the text itself
            return self.analyze(previous, text, document_type)
        with self._lock:
            self.shared += 1
        return analysis

    def _wait_for(self, result: Future) -> VersionAnalysis:
        """The analysis another document's recording is computing or computed."""
        return result.result()

    def _forget(self, key: _Key, result: Future, exc: BaseException) -> None:
        """A failed analysis is not kept; its waiters are told it failed (an interruption of the thread that ran it
        is that thread's, not theirs: they see an error, and analyse the text themselves)."""
        with self._lock:
            if self._results.get(key) is result:
                del self._results[key]
        result.set_exception(exc if isinstance(exc, Exception) else
                             RuntimeError(f"the analysis was interrupted ({type(exc).__name__})"))


def _previous_key(previous: StoredVersion | None) -> str | None:
    """What of the version a text replaces its analysis depends on: the text, and each clause's key and
    classification (the alignment carries them over). None for a document's first text."""
    if previous is None:
        return None
    digest = hashlib.sha256(previous.version.sha256.encode())
    digest.update(repr(previous.clauses).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()

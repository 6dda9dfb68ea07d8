"""Turn what the spider fetched into store records: extraction, versioning, failures.

The recorder is the one place a fetch becomes a Fetch row (and maybe a
Version); the pipeline calls it from a recording thread (``crawler.pipelines``),
and the distributed worker's ``QueueRecorder`` wraps one per run
(``crawler.distributed``).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from analysis.text import sha256_text
from analysis.volatile import VolatileRules, volatile_difference
from crawler.extraction_key import extraction_key, parts_of
from crawler.items import FailedDocument, FetchedDocument, NotModifiedDocument
from crawler.shared_texts import SharedTexts
from store.recording import AnalyzeVersion, IdenticalFetch, KnownHead, NotModifiedFetch, RecordResult
from store.repository import Store, StoreFailedError
from store.volatile import HELD, LEARNED, VolatileState, observe, stop_watching, volatile_state, volatile_states

log = logging.getLogger("clausewatch.crawl")


@dataclass(frozen=True)
class DocumentResult:
    document_id: str
    outcome: str
    error_kind: str | None = None
    detail: str | None = None
    version: str | None = None


# Outcomes a report names document by document: counts alone would hide which ones they were.
UNSUCCESSFUL = frozenset({"failed", "skipped"})

OnResult = Callable[[DocumentResult], None]

# How much of an unexpected error's message a failed fetch keeps.
ERROR_DETAIL_CHARS = 300


class OutcomeCounts:
    """``failed`` from ``self.counts``, for the reports of crawls and workers."""

    counts: dict[str, int]

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)


class Recorder:
    """Records every item of one crawl run into the store and tallies the results.

    A run of any size keeps counts by outcome and, by name, the documents that
    failed or were not checked; a caller that wants every result passes
    ``on_result``, which is called once per document, from a recording thread.
    """

    def __init__(self, store: Store, *, analyze: AnalyzeVersion | None, run_id: str, shrink_ratio: float = 0.0,
                 on_result: OnResult | None = None):
        self.store = store
        # Documents sharing a text in this run share its analysis (``crawler.shared_texts``).
        self.analyze = SharedTexts(analyze) if analyze is not None else None
        self.run_id = run_id
        self.shrink_ratio = shrink_ratio
        self.on_result = on_result
        self.counts: Counter[str] = Counter()
        self.failures: list[DocumentResult] = []
        self._unrecorded: set[str] = set()
        # The volatile state a batch read of each fetch it left to be recorded alone, taken by that recording.
        self._left_states: dict[str, VolatileState] = {}
        # The first failure of the store itself: nothing more can be recorded, and the crawl stops.
        self.store_failure: StoreFailedError | None = None
        self._lock = threading.Lock()

    def expect(self, document_id: str) -> None:
        """The document's fetch has begun: until its result is kept it is among :meth:`unrecorded`."""
        with self._lock:
            self._unrecorded.add(document_id)

    def unrecorded(self) -> list[str]:
        """Documents whose fetch began and has no result yet, in id order: none once a crawl has ended well."""
        with self._lock:
            return sorted(self._unrecorded)

    def skip(self, document_id: str, detail: str) -> DocumentResult:
        """The document was not checked: a result that says so, kept as any other."""
        result = DocumentResult(document_id, "skipped", detail=detail)
        self._keep(result)
        return result

    def record(self, item: FetchedDocument | NotModifiedDocument | FailedDocument) -> DocumentResult:
        """Record one document's fetch and keep its result.

        An error of this document's own (a bug met in its extraction or
        analysis) is recorded as its failed fetch, of kind ``error``, and the
        crawl goes on. A :class:`StoreFailedError` is kept as
        :attr:`store_failure` and raised: the store cannot record anything more,
        and every later item is refused with it at once (extracting and
        analysing the pages Scrapy still holds would be for nothing).
        """
        if self.store_failure is not None:
            raise self.store_failure
        try:
            try:
                result = self._record_item(item)
            except StoreFailedError:
                raise
            except Exception as exc:  # noqa: BLE001 - this document's failure, not the crawl's end
                result = self._record_error(item, exc)
        except StoreFailedError as exc:
            self._store_failed(item.document_id, exc)
            raise
        self._keep(result)
        return result

    def _record_item(self, item: FetchedDocument | NotModifiedDocument | FailedDocument) -> DocumentResult:
        if isinstance(item, FetchedDocument):
            return self._record_fetched(item)
        if isinstance(item, NotModifiedDocument):
            recorded = self.store.recording.record_not_modified(
                item.document_id, started_at=item.started_at, finished_at=item.finished_at, run_id=self.run_id,
                exchanges=item.exchanges,
            )
            return DocumentResult(item.document_id, recorded.outcome, version=recorded.version_sha256)
        return self._record_failure(item)

    def _store_failed(self, document_id: str, error: StoreFailedError) -> None:
        with self._lock:
            first, self.store_failure = self.store_failure is None, self.store_failure or error
        if first:
            log.error("crawl run=%s document=%s could not be recorded: %s; the crawl stops", self.run_id,
                      document_id, error)

    def _record_error(self, item: FetchedDocument | NotModifiedDocument | FailedDocument,
                      error: Exception) -> DocumentResult:
        """The document's fetch recorded as failed, of kind ``error``, naming what went wrong; a page it fetched is
        kept as evidence. The traceback is logged at DEBUG: the line at ERROR says what and where."""
        what = " ".join(f"{type(error).__name__}: {error}".split())[:ERROR_DETAIL_CHARS]
        log.error("crawl run=%s document=%s could not be recorded: %s (traceback at LOG_LEVEL=DEBUG)",
                  self.run_id, item.document_id, what)
        log.debug("recording %s failed", item.document_id, exc_info=error)
        part = item.parts[0] if isinstance(item, FetchedDocument) else getattr(item, "part", None)
        return self._record_failure(FailedDocument(item.document_id, item.started_at, item.finished_at, "error",
                                                   f"could not be recorded: {what}", part, item.exchanges))

    def record_not_modified_batch(self, items: list[NotModifiedDocument]) -> list[DocumentResult]:
        """Record several 304s in one transaction: all of them, or (on an error) none."""
        fetches = [NotModifiedFetch(item.document_id, item.started_at, item.finished_at, self.run_id, item.exchanges)
                   for item in items]
        recorded = self.store.recording.record_not_modified_many(fetches)
        results = [DocumentResult(item.document_id, r.outcome, version=r.version_sha256)
                   for item, r in zip(items, recorded, strict=True)]
        for result in results:
            self._keep(result)
        return results

    def record_identical_batch(self, items: list[FetchedDocument]) -> list[DocumentResult | None]:
        """Record in one transaction those of ``items`` that re-send the bytes of their current text.

        The others get None: the caller records each alone (:meth:`record`
        extracts it), as it does a fetch that fails a check in the transaction.
        The documents' volatile states are read in one session for the batch;
        each fetch left to be recorded alone keeps its state for that recording,
        which would otherwise read it again in a session of its own (~1.4 ms of
        a first run's 22, decision 0014): a state read before extraction, as it
        always was, whose current version the recording transaction checks.
        """
        states = volatile_states(self.store, [item.document_id for item in items])
        fetches = []
        for item in items:
            state = states[item.document_id]
            fetches.append(self._identical_fetch(item, state, _key(item, state)))
        with self._lock:
            self._left_states.update((item.document_id, states[item.document_id])
                                     for item, fetch in zip(items, fetches, strict=True) if fetch is None)
        candidates = [fetch for fetch in fetches if fetch is not None]
        recorded = iter(self.store.recording.record_identical_many(candidates) if candidates else ())
        results = []
        for item, fetch in zip(items, fetches, strict=True):
            outcome = next(recorded) if fetch is not None else None
            results.append(_result(item.document_id, outcome) if outcome is not None else None)
        for result in results:
            if result is not None:
                self._keep(result)
        return results

    def _keep(self, result: DocumentResult) -> None:
        with self._lock:
            self.counts[result.outcome] += 1
            if result.outcome in UNSUCCESSFUL:
                self.failures.append(result)
            self._unrecorded.discard(result.document_id)
            if self.on_result is not None:
                self.on_result(result)
        log.info(
            "crawl run=%s document=%s outcome=%s%s%s", self.run_id, result.document_id, result.outcome,
            f" kind={result.error_kind}" if result.error_kind else "",
            f" version={result.version[:12]}" if result.version else "",
        )

    def _record_fetched(self, item: FetchedDocument) -> DocumentResult:
        first = item.parts[0]
        with self._lock:
            state = self._left_states.pop(item.document_id, None)
        state = state or volatile_state(self.store, item.document_id)
        key = _key(item, state)
        if identical := self._record_identical(item, state, key):
            return identical
        from crawler.extract import ExtractionError  # here: a fetch of identical bytes never loads the extractor

        try:
            text, starts = _extract(item, state.rules)
        except ExtractionError as exc:
            return self._record_failure(FailedDocument(
                item.document_id, item.started_at, item.finished_at, exc.kind, exc.detail, first, item.exchanges
            ))
        verdict = self._watch(item, text, state)
        if verdict == HELD:
            held = self.store.recording.record_held(
                item.document_id, snapshot=first.snapshot, body=first.body, started_at=item.started_at,
                finished_at=item.finished_at, extra_snapshots=[(p.snapshot, p.body) for p in item.parts[1:]],
                exchanges=item.exchanges, run_id=self.run_id)
            return _result(item.document_id, held)
        if verdict == LEARNED:
            from crawler.reprocess import document_rules, reprocess_document

            # Versions are normalised without what was just learned: fold the
            # history under the new rules, then record this fetch under them
            # (without a key: the next fetch is extracted under the new rules and keyed).
            document = self.store.catalog.document(item.document_id)
            reprocess_document(self.store, document, analyze=self.analyze)
            text, starts = _extract(item, document_rules(self.store, document))
            key = None
        recorded = self.store.recording.record_text(
            item.document_id, snapshot=first.snapshot, body=first.body, text=text,
            extra_snapshots=[(p.snapshot, p.body) for p in item.parts[1:]], part_starts=starts,
            started_at=item.started_at, finished_at=item.finished_at, analyze=self.analyze,
            shrink_ratio=self.shrink_ratio, run_id=self.run_id, exchanges=item.exchanges, extraction_key=key,
            known=_known_head(state) if verdict != LEARNED else None,  # a history just folded has another head
        )
        return _result(item.document_id, recorded)

    def _record_identical(self, item: FetchedDocument, state: VolatileState, key: str) -> DocumentResult | None:
        """The fetch recorded as unchanged without extracting it, when :meth:`_identical_fetch` allows (else None)."""
        fetch = self._identical_fetch(item, state, key)
        [recorded] = self.store.recording.record_identical_many([fetch]) if fetch is not None else [None]
        return _result(item.document_id, recorded) if recorded is not None else None

    def _identical_fetch(self, item: FetchedDocument, state: VolatileState, key: str) -> IdenticalFetch | None:
        """The fetch to record as unchanged without extracting it, when its key is the current text's (else None).

        Not while volatile candidates are watched: extracting the current text
        again is what ends a watch (:meth:`_watch`).
        """
        if state.watching or key != state.extraction_key or state.extraction_text_sha256 != state.current_sha256:
            return None
        return IdenticalFetch(item.document_id, key, [(p.snapshot, p.body) for p in item.parts], item.started_at,
                              item.finished_at, self.run_id, item.exchanges)

    def _watch(self, item: FetchedDocument, text: str, state: VolatileState) -> str | None:
        """``held`` or ``learned`` when the text differs from the current version only in volatile-looking values."""
        current, text_sha = state.current_sha256, sha256_text(text)
        keys = None
        if current is not None and current != text_sha:
            keys = volatile_difference(self.store.blobs.get(current).decode("utf-8"), text)
        if not keys or any(key.value in state.keep for key in keys):
            if state.watching:
                stop_watching(self.store, item.document_id)
            return None
        verdict = observe(self.store, item.document_id, keys, text_sha, item.finished_at)
        log.info("volatile document=%s verdict=%s values=%s", item.document_id, verdict,
                 ",".join(f"{k.kind}:{k.value[:60]!r}" for k in sorted(keys)))  # crawled text: quoted, escaped
        return verdict

    def _record_failure(self, item: FailedDocument) -> DocumentResult:
        part = item.part
        self.store.recording.record_failure(
            item.document_id, started_at=item.started_at, finished_at=item.finished_at, kind=item.kind,
            detail=item.detail, snapshot=part.snapshot if part else None, body=part.body if part else None,
            run_id=self.run_id, exchanges=item.exchanges,
        )
        return DocumentResult(item.document_id, "failed", item.kind, item.detail)


def _extract(item: FetchedDocument, rules: VolatileRules) -> tuple[str, tuple[int, ...]]:
    """The document's text and where each of its pages begins in it."""
    from crawler.extract import extract_parts  # imported on the first fetch that needs extracting

    return extract_parts([(p.body, p.snapshot.content_type, p.snapshot.final_url, p.source) for p in item.parts],
                         rules)


def _key(item: FetchedDocument, state: VolatileState) -> str:
    """The fetch's extraction key under the document's stored declaration and rules (crawler.extraction_key)."""
    return extraction_key(state.spec, state.rules, parts_of(item.parts))


def _known_head(state: VolatileState) -> KnownHead:
    """The current version and type the volatile state read, so that ``record_text`` does not read them again."""
    current = (state.current_sha256, state.current_length) if state.current_sha256 is not None else None
    return KnownHead(current, state.document_type)


def _result(document_id: str, recorded: RecordResult) -> DocumentResult:
    return DocumentResult(document_id, recorded.outcome, recorded.error_kind, recorded.detail, recorded.version_sha256)

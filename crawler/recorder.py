"""Turn what the spider fetched into store records: extraction, versioning, failures.

The recorder is the one place a fetch becomes a Fetch row (and maybe a
Version); the pipeline calls it from a worker thread, ``reprocess`` calls it
directly.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from analysis.domain import StoredVersion, VersionAnalysis
from crawler.extract import ExtractionError, extract_parts
from crawler.items import FailedDocument, FetchedDocument, NotModifiedDocument
from store.repository import RecordResult, Store

log = logging.getLogger("clausewatch.crawl")

Analyze = Callable[[StoredVersion | None, str], VersionAnalysis]


@dataclass(frozen=True)
class DocumentResult:
    document_id: str
    outcome: str
    error_kind: str | None = None
    detail: str | None = None
    version: str | None = None


class OutcomeCounts:
    """Counts over ``self.results`` for the reports of crawls and workers."""

    results: list[DocumentResult]

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(r.outcome for r in self.results))

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if r.outcome == "failed")


class Recorder:
    """Records every item of one crawl run into the store and keeps the results."""

    def __init__(self, store: Store, *, analyze: Analyze | None, run_id: str, shrink_ratio: float = 0.0):
        self.store = store
        self.analyze = analyze
        self.run_id = run_id
        self.shrink_ratio = shrink_ratio
        self.results: list[DocumentResult] = []
        self._lock = threading.Lock()

    def record(self, item: FetchedDocument | NotModifiedDocument | FailedDocument) -> DocumentResult:
        if isinstance(item, FetchedDocument):
            result = self._record_fetched(item)
        elif isinstance(item, NotModifiedDocument):
            recorded = self.store.record_not_modified(
                item.document_id, started_at=item.started_at, finished_at=item.finished_at, run_id=self.run_id
            )
            result = DocumentResult(item.document_id, recorded.outcome, version=recorded.version_sha256)
        else:
            result = self._record_failure(item)
        with self._lock:
            self.results.append(result)
        log.info(
            "crawl run=%s document=%s outcome=%s%s%s", self.run_id, result.document_id, result.outcome,
            f" kind={result.error_kind}" if result.error_kind else "",
            f" version={result.version[:12]}" if result.version else "",
        )
        return result

    def _record_fetched(self, item: FetchedDocument) -> DocumentResult:
        first = item.parts[0]
        try:
            text, starts = extract_parts([(p.body, p.snapshot.content_type, p.snapshot.final_url, p.source)
                                          for p in item.parts])
        except ExtractionError as exc:
            return self._record_failure(FailedDocument(
                item.document_id, item.started_at, item.finished_at, exc.kind, exc.detail, first
            ))
        recorded = self.store.record_text(
            item.document_id, snapshot=first.snapshot, body=first.body, text=text,
            extra_snapshots=[(p.snapshot, p.body) for p in item.parts[1:]], part_starts=starts,
            started_at=item.started_at, finished_at=item.finished_at, analyze=self.analyze,
            shrink_ratio=self.shrink_ratio, run_id=self.run_id,
        )
        return _result(item.document_id, recorded)

    def _record_failure(self, item: FailedDocument) -> DocumentResult:
        part = item.part
        self.store.record_failure(
            item.document_id, started_at=item.started_at, finished_at=item.finished_at, kind=item.kind,
            detail=item.detail, snapshot=part.snapshot if part else None, body=part.body if part else None,
            run_id=self.run_id,
        )
        return DocumentResult(item.document_id, "failed", item.kind, item.detail)


def _result(document_id: str, recorded: RecordResult) -> DocumentResult:
    return DocumentResult(document_id, recorded.outcome, recorded.error_kind, None, recorded.version_sha256)

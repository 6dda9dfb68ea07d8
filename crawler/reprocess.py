"""Rebuild versions from the stored snapshots after the extractor changed (SPEC §4).

Versions are always rebuildable from snapshots: each fetch's raw bytes are in
the blob store. ``reprocess_document`` extracts every fetch of a document again
with today's extractor, in capture order, from the first fetch whose text comes
out different to the last one, and records the texts with
``Store.record_text(..., technical=True)``: new versions and changes born of an
extractor upgrade are *technical* and never alert. Fetches whose text does not
change are left alone, so a second run with the same extractor does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from analysis.domain import Document, DocumentSpec, Snapshot, SourceSpec
from analysis.text import sha256_text
from crawler.extract import ExtractionError, extract_parts
from store.repository import Analyzer, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Fetch:
    """The snapshots one fetch of a document produced (one per source), and the versions they belong to."""

    parts: tuple[Snapshot, ...]
    versions: frozenset[str]

    @property
    def primary(self) -> Snapshot:
        return self.parts[0]


@dataclass
class DocumentReprocess:
    document_id: str
    fetches: int = 0
    replayed: int = 0
    new_versions: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class ReprocessReport:
    documents: list[DocumentReprocess] = field(default_factory=list)

    @property
    def replayed(self) -> int:
        return sum(d.replayed for d in self.documents)

    @property
    def new_versions(self) -> int:
        return sum(d.new_versions for d in self.documents)

    @property
    def errors(self) -> list[str]:
        return [f"{d.document_id}: {e}" for d in self.documents for e in d.errors]


def sources_at(spec: DocumentSpec, snapshot: Snapshot) -> tuple[SourceSpec, ...]:
    """The declaration in force when ``snapshot`` was taken (history entries end at ``valid_until``)."""
    for past in sorted(spec.history, key=lambda h: h.valid_until):
        if snapshot.fetched_at < past.valid_until:
            return past.sources
    return spec.sources


def _fetches(store: Store, document: Document) -> list[_Fetch]:
    """Snapshots grouped into fetches, oldest first; error pages kept as evidence are left out."""
    linked: dict[str, set[str]] = {}
    for stored in store.versions(document.id):
        for sha in stored.version.snapshot_sha256s:
            linked.setdefault(sha, set()).add(stored.version.sha256)
    fetches: list[list[Snapshot]] = []
    for snapshot in store.snapshots(document.id):
        if snapshot.sha256 not in linked:
            continue
        primary_url = sources_at(document.spec, snapshot)[0].url
        if snapshot.requested_url == primary_url or not fetches:
            fetches.append([snapshot])
        else:
            fetches[-1].append(snapshot)
    return [_Fetch(tuple(parts), frozenset(linked[parts[0].sha256])) for parts in fetches]


@dataclass(frozen=True)
class _Extracted:
    """A fetch extracted again: its text, its snapshots in source order, and where each begins in the text."""

    text: str
    snapshots: tuple[Snapshot, ...]
    starts: tuple[int, ...]


def _text_of(store: Store, document: Document, fetch: _Fetch) -> _Extracted:
    by_url = {part.requested_url: part for part in fetch.parts}
    parts, ordered = [], []
    for index, source in enumerate(sources_at(document.spec, fetch.primary)):
        snapshot = fetch.primary if index == 0 else by_url.get(source.url)
        if snapshot is None:
            raise ExtractionError("empty", f"no snapshot of source {source.url} in the fetch of {fetch.primary.fetched_at}")
        parts.append((store.blobs.get(snapshot.sha256), snapshot.content_type, snapshot.final_url, source))
        ordered.append(snapshot)
    text, starts = extract_parts(parts)
    return _Extracted(text, tuple(ordered), starts)


def reprocess_document(store: Store, document: Document, *, analyze: Analyzer, run_id: str | None = None) -> DocumentReprocess:
    """Extract every fetch of ``document`` again and record what changed, as technical versions."""
    result = DocumentReprocess(document.id)
    fetches = _fetches(store, document)
    result.fetches = len(fetches)
    texts: list[_Extracted | None] = []
    for fetch in fetches:
        try:
            texts.append(_text_of(store, document, fetch))
        except ExtractionError as exc:
            result.errors.append(f"snapshot {fetch.primary.sha256[:12]} of {fetch.primary.fetched_at:%Y-%m-%d %H:%M}: {exc}")
            texts.append(None)
    start = next((i for i, (f, t) in enumerate(zip(fetches, texts))
                  if t is not None and sha256_text(t.text) not in f.versions), None)
    if start is None:
        return result
    for fetch, text in zip(fetches[start:], texts[start:]):
        if text is not None:
            _replay(store, document, fetch, text, analyze, run_id, result)
    return result


def _replay(store, document, fetch: _Fetch, extracted: _Extracted, analyze, run_id, result: DocumentReprocess) -> None:
    extra = [(part, store.blobs.get(part.sha256)) for part in extracted.snapshots[1:]]
    kwargs = {"extra_snapshots": extra, "part_starts": extracted.starts} if extra else {}
    recorded = store.record_text(
        document.id, snapshot=fetch.primary, body=store.blobs.get(fetch.primary.sha256), text=extracted.text,
        started_at=fetch.primary.fetched_at, finished_at=fetch.primary.fetched_at, analyze=analyze,
        technical=True, run_id=run_id, **kwargs,
    )
    result.replayed += 1
    if recorded.outcome == "new_version" and recorded.version_sha256 not in fetch.versions:
        result.new_versions += 1


def reprocess(
    store: Store,
    documents: Sequence[Document],
    *,
    analyze: Analyzer,
    run_id: str | None = None,
    progress: Callable[[DocumentReprocess], None] | None = None,
) -> ReprocessReport:
    """Reprocess each document; one document's trouble never stops the others."""
    report = ReprocessReport()
    for document in documents:
        try:
            done = reprocess_document(store, document, analyze=analyze, run_id=run_id)
        except Exception as exc:  # one broken document must not stop the run: name it and go on
            log.exception("reprocessing %s failed", document.id)
            done = DocumentReprocess(document.id, errors=[f"{type(exc).__name__}: {exc}"])
        report.documents.append(done)
        if progress is not None:
            progress(done)
    return report

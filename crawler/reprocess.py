"""Rebuild versions from the stored snapshots after the extractor changed (SPEC §4).

Versions are always rebuildable from snapshots: each fetch's raw bytes are in
the blob store. ``reprocess_document`` extracts every fetch of a document again
with today's extractor and the document's volatile rules (declared and
learned), groups consecutive fetches whose texts are now equal into runs, and
makes those runs the document's history (``Store.rebuild_history``): a run
whose text is already a version keeps it, others become *technical* versions
that never alert, and every version that no longer differs from its
neighbours is folded into the run holding its first snapshot; its hash still
resolves (``Store.resolve_version``). A second run with the same extractor and
rules finds the history unchanged and does nothing (decision 0016).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from analysis.domain import Document, DocumentSpec, Snapshot, SourceSpec
from analysis.volatile import VolatileRules
from crawler.extract import ExtractionError, extract_document
from store.blobs import BlobError
from store.recording import AnalyzeVersion, RebuiltRun
from store.repository import Store
from store.volatile import volatile_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Fetch:
    """The snapshots one fetch of a document produced (one per source), and the versions they belong to."""

    parts: tuple[Snapshot, ...]
    versions: frozenset[str]
    # The latest snapshot of each source URL up to this fetch: a combined
    # document's part whose bytes did not change is stored once, at its first fetch.
    known: dict[str, Snapshot] = field(default_factory=dict)

    @property
    def primary(self) -> Snapshot:
        return self.parts[0]


@dataclass
class DocumentReprocess:
    document_id: str
    fetches: int = 0
    replayed: int = 0
    new_versions: int = 0
    folded: int = 0
    errors: list[str] = field(default_factory=list)
    failed: bool = False  # not reprocessed at all (its history is as it was)


@dataclass
class ReprocessReport:
    documents: list[DocumentReprocess] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(d.failed for d in self.documents)

    @property
    def replayed(self) -> int:
        return sum(d.replayed for d in self.documents)

    @property
    def new_versions(self) -> int:
        return sum(d.new_versions for d in self.documents)

    @property
    def folded(self) -> int:
        return sum(d.folded for d in self.documents)

    @property
    def errors(self) -> list[str]:
        return [f"{d.document_id}: {e}" for d in self.documents for e in d.errors]


def sources_at(spec: DocumentSpec, snapshot: Snapshot) -> tuple[SourceSpec, ...]:
    """The declaration in force when ``snapshot`` was taken (history entries end at ``valid_until``)."""
    for past in sorted(spec.history, key=lambda h: h.valid_until):
        if snapshot.fetched_at < past.valid_until:
            return past.sources
    return spec.sources


def document_rules(store: Store, document: Document) -> VolatileRules:
    """The volatile rules a version of ``document`` is normalised with: declared and learned."""
    return volatile_state(store, document.id).rules


def _fetches(store: Store, document: Document, fetched: set[str]) -> list[_Fetch]:
    """Snapshots grouped into fetches, oldest first; error pages kept as evidence are left out.

    A snapshot some fetch recorded as its primary starts a fetch; other linked
    snapshots are the further parts of a combined document.
    """
    linked: dict[str, set[str]] = {}
    for stored in store.history.versions(document.id, include_folded=True):
        for sha in stored.version.snapshot_sha256s:
            linked.setdefault(sha, set()).add(stored.version.sha256)
    groups: list[list[Snapshot]] = []
    for snapshot in store.history.snapshots(document.id):
        if snapshot.sha256 not in linked and snapshot.sha256 not in fetched:
            continue
        if snapshot.sha256 in fetched or not groups:
            groups.append([snapshot])
        else:
            groups[-1].append(snapshot)
    fetches, known = [], {}
    for parts in groups:
        known = {**known, **{part.requested_url: part for part in parts}}
        fetches.append(_Fetch(tuple(parts), frozenset(linked.get(parts[0].sha256, ())), known))
    return fetches


def _text_of(store: Store, document: Document, fetch: _Fetch, rules: VolatileRules) -> str:
    by_url = {**fetch.known, **{part.requested_url: part for part in fetch.parts}}
    parts = []
    for index, source in enumerate(sources_at(document.spec, fetch.primary)):
        snapshot = fetch.primary if index == 0 else by_url.get(source.url)
        if snapshot is None:
            raise ExtractionError("empty", f"no snapshot of source {source.url} in the fetch of {fetch.primary.fetched_at}")
        parts.append((store.blobs.get(snapshot.sha256), snapshot.content_type, snapshot.final_url, source))
    return extract_document(parts, rules)


def reprocess_document(store: Store, document: Document, *, analyze: AnalyzeVersion, run_id: str | None = None) -> DocumentReprocess:
    """Extract every fetch of ``document`` again and make the texts that still differ its history."""
    result = DocumentReprocess(document.id)
    sequence = store.history.fetch_sequence(document.id)
    fetches = {f.primary.sha256: f for f in _fetches(store, document, {sha for sha, _ in sequence})}
    texts = _texts(store, document, fetches, result)
    runs = _runs(sequence, fetches, texts)
    result.fetches = len(sequence)
    head = store.history.current_head(document.id)
    if not runs or ([r.sha256 for r in runs] == store.history.history_shas(document.id)
                    and head and head[0] == runs[-1].sha256):
        return result
    before = len(store.history.versions(document.id))
    result.new_versions = store.recording.rebuild_history(document.id, runs, analyze=analyze)
    result.replayed = len(sequence)
    result.folded = max(before + result.new_versions - len(store.history.versions(document.id)), 0)
    log.info("reprocess document=%s runs=%d new=%d folded=%d", document.id, len(runs), result.new_versions,
             result.folded)
    return result


def _texts(store: Store, document: Document, fetches: dict[str, _Fetch], result: DocumentReprocess) -> dict[str, str]:
    rules = document_rules(store, document)
    texts = {}
    for sha, fetch in fetches.items():
        try:
            texts[sha] = _text_of(store, document, fetch, rules)
        except ExtractionError as exc:
            result.errors.append(f"snapshot {sha[:12]} of {fetch.primary.fetched_at:%Y-%m-%d %H:%M}: {exc}")
    return texts


def _runs(sequence: list[tuple[str, datetime]], fetches: dict[str, _Fetch], texts: dict[str, str]) -> list[RebuiltRun]:
    """Consecutive fetches with equal texts, as runs.

    Fetches that gave no text are skipped, and so are held fetches (linked to no
    version) unless their text now equals the run before them.
    """
    runs: list[RebuiltRun] = []
    for sha, at in sequence:
        if sha not in texts:
            continue
        text, parts = texts[sha], tuple(p.sha256 for p in fetches[sha].parts)
        held = not fetches[sha].versions  # watched as volatile, never a version of its own
        if held and not (runs and runs[-1].text == text):
            continue
        if runs and runs[-1].text == text:
            last = runs[-1]
            runs[-1] = RebuiltRun(text, last.snapshot_shas + tuple(p for p in parts if p not in last.snapshot_shas),
                                  last.first_seen, at, last.fetch_shas + (sha,))
        else:
            runs.append(RebuiltRun(text, parts, at, at, (sha,)))
    return runs


def reprocess(
    store: Store,
    documents: Sequence[Document],
    *,
    analyze: AnalyzeVersion,
    run_id: str | None = None,
    progress: Callable[[DocumentReprocess], None] | None = None,
) -> ReprocessReport:
    """Reprocess each document; one document's trouble never stops the others."""
    report = ReprocessReport()
    for document in documents:
        try:
            done = reprocess_document(store, document, analyze=analyze, run_id=run_id)
        except BlobError as exc:  # its bytes are gone: the report's line names the blob; a traceback adds nothing
            done = DocumentReprocess(document.id, errors=[str(exc)], failed=True)
        except Exception as exc:  # one broken document must not stop the run: name it and go on
            log.exception("reprocessing %s failed", document.id)
            done = DocumentReprocess(document.id, errors=[f"{type(exc).__name__}: {exc}"], failed=True)
        report.documents.append(done)
        if progress is not None:
            progress(done)
    return report

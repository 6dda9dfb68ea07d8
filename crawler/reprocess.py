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

from analysis.domain import Document, DocumentSpec, HistoricalDeclaration, Snapshot, SourceSpec
from analysis.volatile import VolatileRules
from crawler.extract import ExtractionError, extract_parts
from store.blobs import BlobError
from store.recording import AnalyzeVersion, RebuiltRun
from store.repository import Store, StoreFailedError
from store.volatile import volatile_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Fetch:
    """The snapshots one fetch of a document produced (one per source), and whether it was held.

    ``known`` is the latest snapshot of each source URL up to this fetch, for a
    fetch whose pages are not all known (recorded before capture records
    existed): a combined document's part whose bytes did not change is stored
    once, at its first fetch. ``in_order``: the parts are the fetch's own, one
    per source in the declaration's order.
    """

    parts: tuple[Snapshot, ...]
    held: bool  # watched as volatile: no page of it was linked to a version
    sources: tuple[SourceSpec, ...]  # the declaration in force when it was fetched
    known: dict[str, Snapshot] = field(default_factory=dict)
    in_order: bool = False

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


def sources_at(spec: DocumentSpec, moment: datetime) -> tuple[SourceSpec, ...]:
    """The declaration in force at ``moment``, a fetch's time (history entries end at ``valid_until``).

    The fetch's, not its snapshot's: a snapshot is stored once per distinct
    bytes, at the first fetch of them, and the same bytes fetched after a
    declaration changed are read under the new one.
    """
    history = _history(spec)
    index = _declaration_of(spec, moment)
    return history[index].sources if index < len(history) else spec.sources


def document_rules(store: Store, document: Document) -> VolatileRules:
    """The volatile rules a version of ``document`` is normalised with: declared and learned."""
    return volatile_state(store, document.id).rules


Pages = tuple[str, ...]  # the snapshot hashes of one fetch, its primary first
# A fetch as reprocessing reads it: its pages, and which declaration was in force (an index into the document's
# history oldest first; its length for the current declaration).
FetchKey = tuple[Pages, int]


def _history(spec: DocumentSpec) -> list[HistoricalDeclaration]:
    return sorted(spec.history, key=lambda h: h.valid_until)


def _declaration_of(spec: DocumentSpec, moment: datetime) -> int:
    """Which declaration was in force at ``moment``: an index into :func:`_history`, its length for the current."""
    history = _history(spec)
    return next((index for index, past in enumerate(history) if moment < past.valid_until), len(history))


def _keys(spec: DocumentSpec, sequence: list[tuple[Pages, datetime, int]]) -> list[tuple[FetchKey, datetime, int]]:
    return [((pages, _declaration_of(spec, at)), at, fetch_id) for pages, at, fetch_id in sequence]


def _fetches(store: Store, document: Document,
             sequence: list[tuple[FetchKey, datetime, int]]) -> dict[FetchKey, _Fetch]:
    """Each distinct fetch of the sequence by its pages and declaration; error pages kept as evidence are left out.

    A fetch whose capture records name all its pages is those pages. One that
    names only its primary (recorded before capture records existed, or a
    one-page document) is grouped as snapshots were stored: a snapshot some
    fetch recorded as its primary starts a fetch, other linked snapshots are
    the further parts of a combined document. Grouping every fetch that way
    read two fetches of a combined document whose first page did not change
    as one, with the first fetch's other pages: a later page's real change
    was folded away.
    """
    linked: dict[str, set[str]] = {}
    for stored in store.history.versions(document.id, include_folded=True):
        for sha in stored.version.snapshot_sha256s:
            linked.setdefault(sha, set()).add(stored.version.sha256)
    snapshots = store.history.snapshots(document.id)
    by_sha = {snapshot.sha256: snapshot for snapshot in snapshots}
    fetched = {pages[0] for (pages, _declaration), _at, _id in sequence}
    groups: list[list[Snapshot]] = []
    for snapshot in snapshots:
        if snapshot.sha256 not in linked and snapshot.sha256 not in fetched:
            continue
        if snapshot.sha256 in fetched or not groups:
            groups.append([snapshot])
        else:
            groups[-1].append(snapshot)
    grouped, known = {}, {}
    for parts in groups:
        known = {**known, **{part.requested_url: part for part in parts}}
        grouped[parts[0].sha256] = (tuple(parts), known)
    fetches: dict[FetchKey, _Fetch] = {}
    for key, at, _id in sequence:
        pages = key[0]
        if key in fetches:
            continue
        sources = sources_at(document.spec, at)
        if len(pages) == 1 or any(sha not in by_sha for sha in pages):
            parts, known = grouped[pages[0]]
            fetches[key] = _Fetch(parts, pages[0] not in linked, sources, known)
        else:
            fetches[key] = _Fetch(tuple(by_sha[sha] for sha in pages), any(sha not in linked for sha in pages),
                                  sources, in_order=True)
    return fetches


def _text_of(store: Store, fetch: _Fetch, rules: VolatileRules) -> tuple[str, dict[str, int]]:
    """The fetch's text, and for a document of several pages where each page (by hash) begins in it."""
    sources = fetch.sources
    if fetch.in_order and len(fetch.parts) == len(sources):
        chosen = list(zip(fetch.parts, sources, strict=True))
    else:
        by_url = {**fetch.known, **{part.requested_url: part for part in fetch.parts}}
        chosen = []
        for index, source in enumerate(sources):
            snapshot = fetch.primary if index == 0 else by_url.get(source.url)
            if snapshot is None:
                raise ExtractionError("empty", f"no snapshot of source {source.url} in the fetch of "
                                               f"{fetch.primary.fetched_at}")
            chosen.append((snapshot, source))
    parts = [(store.blobs.get(snapshot.sha256), snapshot.content_type, snapshot.final_url, source)
             for snapshot, source in chosen]
    text, starts = extract_parts(parts, rules)
    if len(chosen) < 2:
        return text, {}
    found: dict[str, int] = {}
    for (snapshot, _source), start in zip(chosen, starts, strict=True):
        found.setdefault(snapshot.sha256, start)  # a page that is two parts: linked at its first start
    return text, found


def reprocess_document(store: Store, document: Document, *, analyze: AnalyzeVersion) -> DocumentReprocess:
    """Extract every fetch of ``document`` again and make the texts that still differ its history."""
    result = DocumentReprocess(document.id)
    sequence = _keys(document.spec, store.history.fetch_sequence(document.id))
    fetches = _fetches(store, document, sequence)
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


def _texts(store: Store, document: Document, fetches: dict[FetchKey, _Fetch],
           result: DocumentReprocess) -> dict[FetchKey, tuple[str, dict[str, int]]]:
    rules = document_rules(store, document)
    texts = {}
    for key, fetch in fetches.items():
        try:
            texts[key] = _text_of(store, fetch, rules)
        except ExtractionError as exc:
            result.errors.append(f"snapshot {key[0][0][:12]} of {fetch.primary.fetched_at:%Y-%m-%d %H:%M}: {exc}")
    return texts


def _runs(sequence: list[tuple[FetchKey, datetime, int]], fetches: dict[FetchKey, _Fetch],
          texts: dict[FetchKey, tuple[str, dict[str, int]]]) -> list[RebuiltRun]:
    """Consecutive fetches with equal texts, as runs.

    Fetches that gave no text are skipped, and so are held fetches (linked to no
    version) unless their text now equals the run before them.
    """
    runs: list[RebuiltRun] = []
    for key, at, fetch_id in sequence:
        if key not in texts:
            continue
        (text, starts), parts, primary = texts[key], tuple(p.sha256 for p in fetches[key].parts), key[0][0]
        if fetches[key].held and not (runs and runs[-1].text == text):
            continue  # watched as volatile, never a version of its own
        if runs and runs[-1].text == text:
            last = runs[-1]
            runs[-1] = RebuiltRun(text, last.snapshot_shas + tuple(p for p in parts if p not in last.snapshot_shas),
                                  last.first_seen, at, last.fetch_shas + (primary,), last.fetch_ids + (fetch_id,),
                                  {**starts, **last.part_starts})
        else:
            runs.append(RebuiltRun(text, parts, at, at, (primary,), (fetch_id,), starts))
    return runs


def reprocess(
    store: Store,
    documents: Sequence[Document],
    *,
    analyze: AnalyzeVersion,
    progress: Callable[[DocumentReprocess], None] | None = None,
) -> ReprocessReport:
    """Reprocess each document; one document's trouble never stops the others, the store's own failure (a full
    disk, a database gone) stops them all: each later document would only fail the same way, with a traceback
    each (``StoreFailedError`` is raised for the command to name in one line, as a crawl does)."""
    report = ReprocessReport()
    for document in documents:
        try:
            done = reprocess_document(store, document, analyze=analyze)
        except StoreFailedError:
            raise
        except BlobError as exc:  # its bytes are gone: the report's line names the blob; a traceback adds nothing
            done = DocumentReprocess(document.id, errors=[str(exc)], failed=True)
        except Exception as exc:  # one broken document must not stop the run: name it and go on
            log.exception("reprocessing %s failed", document.id)
            done = DocumentReprocess(document.id, errors=[f"{type(exc).__name__}: {exc}"], failed=True)
        report.documents.append(done)
        if progress is not None:
            progress(done)
    return report

"""Build the static site: plan every page, fingerprint its inputs, render what changed.

Every page is a :class:`Page`: a path, a template, a context, and optionally
extra data computed only when the page is actually rendered (diffs, full
texts). The fingerprint covers the context and the site's own code,
templates and static files, so a rebuild after one document changes rewrites
only that document's pages and the pages that show its data (index, its
platform, the clause-type pages and records that quote it, feeds, search).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, is_dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import analysis.diff
import analysis.explain
import analysis.explain_facts
import analysis.explanations
from analysis.diff import Diff, diff_texts
from analysis.domain import Snapshot
from reports import feeds
from reports.site import contexts, exports, timetravel
from reports.site.contexts import Evidence, SiteIndex
from reports.site.evidence_pages import EvidencePages
from reports.site.manifest import IncrementalWriter
from reports.site.render import STATIC, TEMPLATES, environment, json_ld
from store.analysis_queries import prevalence
from store.blobs import BlobError
from store.capture_log import CaptureLog
from store.citing import CitedCaptures
from store.repository import Store
from store.site_data import (
    DocumentInfo,
    ProvisionInfo,
    SiteData,
    clause_starts,
    load_site_data,
    snapshot_problem,
    version_text,
)
from store.timeline import clauses_by_version, load_timelines, version_captures

log = logging.getLogger(__name__)

_CODE = Path(__file__).resolve().parent
_EXPLANATIONS = Path(analysis.explanations.__file__).resolve().parent


@dataclass(frozen=True)
class Page:
    path: str
    template: str | None
    context: dict[str, Any]
    extra: Callable[[], dict[str, Any]] | None = None
    raw: Callable[[], bytes] | None = None  # non-template outputs (feeds, data files)


@dataclass
class SiteReport:
    out: Path
    pages: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    rendered: int = 0  # pages whose inputs changed (written or found identical)
    removed: list[str] = field(default_factory=list)
    evidence_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.evidence_problems

    @property
    def counts(self) -> dict[str, int]:
        return {"pages": self.pages, "rendered": self.rendered, "written": len(self.written),
                "unchanged": self.unchanged,
                "removed": len(self.removed), "evidence_problems": len(self.evidence_problems)}

    @property
    def failed(self) -> int:
        """Snapshots that failed their hash check: the job reports them as problems."""
        return len(self.evidence_problems)


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return vars(value)  # json recurses into the fields; asdict's deep copy would cost 3× more
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


@cache
def _code_fingerprint() -> str:
    """Hash of the site's templates, static files and code: a change to any re-renders every page.

    Modules whose output is computed only at render time are included: the
    diffs of document pages and the analysis sections of record pages depend
    on inputs in the fingerprint (version hashes, clauses) and on this code.
    """
    digest = hashlib.sha256()
    for folder in (TEMPLATES, STATIC, _CODE, _EXPLANATIONS):
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for module in (feeds, analysis.diff, analysis.explain, analysis.explain_facts):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def fingerprint(page: Page, base_url: str) -> str:
    payload = json.dumps([page.path, page.template, page.context, base_url], default=_encode, sort_keys=True)
    return hashlib.sha256((_code_fingerprint() + payload).encode("utf-8")).hexdigest()


class SiteBuilder:
    """Plans and writes the site of one store into one folder."""

    def __init__(self, store: Store, out: Path, base_url: str, public_key: bytes | None = None, *,
                 time_travel: bool = True):
        """``time_travel=False`` leaves out version and provision-history pages (the benchmark's baseline)."""
        self.store = store
        self.time_travel = time_travel
        self.out = Path(out)
        self.base_url = base_url.rstrip("/") + "/"
        self.env = environment()
        self.public_key = public_key
        self._clauses_of: tuple[str | None, dict] = (None, {})
        self.travel = timetravel.TimeTravel({}, self.out)  # the store's timelines, loaded by build()

    def build(self, *, full: bool = False, progress: Callable[[SiteReport], None] | None = None) -> SiteReport:
        """Write every page whose inputs changed; ``progress`` is called after each page."""
        site = self.index()
        snapshot_indexes = CaptureLog(self.store).first_log_index_by_page()
        self.travel = timetravel.TimeTravel(load_timelines(self.store), self.out, CitedCaptures(self.store),
                                            lambda document_id, sha256: snapshot_indexes.get((document_id, sha256)))
        report = SiteReport(self.out, evidence_problems=[
            f"{doc_id}: snapshot {e.snapshot_sha256}: {e.problem}"
            for doc_id, pages in sorted(site.document_evidence().items()) for e in pages if e.problem
        ])
        writer = IncrementalWriter(self.out, full=full)
        for page in self._plan(site):
            report.pages += 1
            try:
                writer.write(page.path, fingerprint(page, self.base_url), lambda page=page: self._produce(page))
            except BlobError as exc:  # an evidence bundle of a blob changed on disk: not published, and said
                report.evidence_problems.append(f"{page.path}: not published: {exc}")
            if progress is not None:
                progress(report)
        report.removed = writer.finish()
        report.written, report.unchanged, report.rendered = writer.written, writer.unchanged, writer.rendered
        return report

    # --- Evidence ----------------------------------------------------------------

    def index(self) -> SiteIndex:
        """Everything the pages are made from, evidence re-checked against the blob store."""
        data = load_site_data(self.store)
        parts = self._parts_evidence(data)
        return SiteIndex.build(data, self.base_url, self._check_evidence(data), prevalence(self.store),
                               clause_evidence=self._clause_evidence(data, parts), parts_evidence=parts)

    def _check_evidence(self, data: SiteData) -> dict[str, Evidence]:
        """Re-hash each current version's latest snapshot in the blob store (on every build)."""
        result = {}
        for doc in data.documents:
            current = doc.current
            if current is None:
                continue
            result[doc.document.id] = self._evidence(current.snapshot, current.sha256)
        return result

    def _evidence(self, snap: Snapshot | None, version_sha256: str) -> Evidence:
        problem = snapshot_problem(self.store, snap.sha256) if snap else "no snapshot recorded"
        stored = snap is not None and self.store.blobs.exists(snap.sha256)
        return Evidence(
            source_url=snap.requested_url if snap else None, final_url=snap.final_url if snap else None,
            archive_link=snap.archive_link if snap else None, snapshot_sha256=snap.sha256 if snap else None,
            version_sha256=version_sha256, captured_at=snap.fetched_at.isoformat() if snap else None,
            http_status=snap.status if snap else None, content_type=snap.content_type if snap else None,
            stored=stored, verified=problem is None, problem=problem,
        )

    def _parts_evidence(self, data: SiteData) -> dict[str, list[Evidence]]:
        """For documents combined from several pages: each page's latest snapshot, re-checked, in text order."""
        result = {}
        for doc in data.documents:
            current = doc.current
            if current is not None and len(current.parts) >= 2:
                result[doc.document.id] = [self._evidence(snap, current.sha256) for _start, snap in current.parts]
        return result

    def _clause_evidence(self, data: SiteData, parts: dict[str, list[Evidence]]) -> dict[tuple[str, str], Evidence]:
        """For documents combined from several pages: each current clause's evidence is its own page's snapshot."""
        result: dict[tuple[str, str], Evidence] = {}
        for doc in data.documents:
            current = doc.current
            if doc.document.id not in parts or not doc.clauses:
                continue
            by_page = dict(zip((start for start, _snap in current.parts), parts[doc.document.id], strict=True))
            starts = sorted(by_page)
            for key, position in clause_starts(version_text(self.store, current.sha256), doc.clauses).items():
                page = max((start for start in starts if start <= position), default=starts[0])
                result[(doc.document.id, key)] = by_page[page]
        return result

    # --- Planning ----------------------------------------------------------------

    def _plan(self, site: SiteIndex) -> Iterator[Page]:
        evidence = EvidencePages(self.store, self.public_key, self.base_url) if self.public_key else None
        if evidence is not None:
            self.travel.bundles = {timetravel.bundle_name(doc, sha) for doc, sha in evidence.signed_versions}
        yield from self._static_pages()
        if evidence is not None:
            yield from (Page(p.path, None, p.fingerprint, raw=p.produce) for p in evidence.log_pages())
        yield Page("index.html", "index.html.j2", contexts.index_context(site))
        yield Page("search.html", "search.html.j2", {})
        yield Page("types/index.html", "types.html.j2", contexts.types_index_context(site))
        for clause_type in site.by_type:
            yield Page(contexts.type_path(clause_type), "type.html.j2", contexts.type_context(site, clause_type))
        for slug in site.data.platforms:
            if site.data.by_platform(slug):
                yield Page(contexts.platform_path(slug), "platform.html.j2", contexts.platform_context(site, slug))
        for doc in site.data.documents:
            yield self._document_page(site, doc)
            for provision in doc.provisions:
                context = self._record_context(site, doc, provision)
                context["capture"] = evidence.capture_line(doc.document.id, provision.id) if evidence else None
                yield Page(contexts.record_path(provision.id), "record.html.j2", context,
                           extra=lambda doc=doc, provision=provision: contexts.record_analysis(site, doc, provision))
                bundle = evidence.bundle_page(doc.document.id, provision.id, doc.current_sha256) if evidence else None
                if bundle is not None:
                    yield Page(bundle.path, None, bundle.fingerprint, raw=bundle.produce)
            yield from self._time_travel_pages(site, doc, evidence)
        yield from self._feed_pages(site)
        entries = exports.search_entries(site)
        yield Page("search-index.js", None, {"entries": entries}, raw=lambda: exports.search_index_js(entries))
        yield Page("export/records.json", None, {"records": exports.export_records(site)},
                   raw=lambda: exports.export_json(site))

    def _static_pages(self) -> Iterator[Page]:
        for path in sorted(STATIC.iterdir()):
            if path.is_file():
                yield Page(f"static/{path.name}", None, {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
                           raw=path.read_bytes)

    def _record_context(self, site: SiteIndex, doc: DocumentInfo, provision: ProvisionInfo) -> dict[str, Any]:
        """The record page's context, with its history link and its citation naming the version in force."""
        context = contexts.record_context(site, doc, provision)
        context["history_path"] = timetravel.history_path(provision.id)
        pages = site.parts_evidence.get(doc.document.id, [])
        cited = context.get("evidence")
        part = pages.index(cited) if cited in pages else 0  # the page the record's clauses came from
        context["citation"] = timetravel.record_citation(site, self.travel, doc, provision, part)
        context["version_path"] = timetravel.current_version_path(self.travel, doc)
        return context

    def _time_travel_pages(self, site: SiteIndex, doc: DocumentInfo,
                           evidence: EvidencePages | None) -> Iterator[Page]:
        """A page per version of the document (after its evidence bundle) and a history page per provision."""
        if not self.time_travel:
            return
        doc_id = doc.document.id
        for version in self.travel.timeline(doc_id).versions:
            bundle = self._version_bundle(evidence, doc_id, version.sha256) if evidence else None
            if bundle is not None:
                yield bundle
            context = timetravel.version_context(site, self.travel, doc, version)
            yield Page(context["path"], "version.html.j2", context,
                       extra=lambda context=context: self._version_extra(doc_id, context))
        for provision in doc.provisions:
            context = timetravel.history_context(site, self.travel, doc, provision)
            yield Page(timetravel.history_path(provision.id), "history.html.j2", context,
                       extra=lambda context=context: self._history_extra(doc, context))

    def _version_bundle(self, evidence: EvidencePages, document_id: str, sha256: str) -> Page | None:
        """The evidence bundle a version page links, when the capture log signed its capture."""
        path = self.travel.bundle_of(document_id, sha256)
        raw = evidence.version_bundle(document_id, sha256, path) if path else None
        return Page(raw.path, None, raw.fingerprint, raw=raw.produce) if raw else None

    def _version_extra(self, document_id: str, context: dict[str, Any]) -> dict[str, Any]:
        """The version's clauses with their anchors (or its plain text when it has none) and every capture."""
        clauses = self._clauses(document_id).get(context["sha256"], ())
        text = version_text(self.store, context["sha256"])
        return {"clauses": timetravel.version_text_rows(clauses, context["provisions"], text), "text": text,
                "captures": version_captures(self.store, document_id, context["sha256"])}

    def _history_extra(self, doc: DocumentInfo, context: dict[str, Any]) -> dict[str, Any]:
        """Every wording of the provision, its redline against the one before, and its citation."""
        doc_id = doc.document.id
        periods = timetravel.periods_from_context(context["periods"])
        provision = (context["id"], context["clause_type"])

        def cite(moment):
            return timetravel.cite_at(self.base_url, self.travel, doc.document, context["document"], moment, provision)

        return {"wordings": timetravel.wording_rows(self.travel, doc_id, periods, self._clauses(doc_id),
                                                    context["clause_type"], cite)}

    def _clauses(self, document_id: str):
        """Every version's clauses of one document, read once per build for its version and history pages."""
        if self._clauses_of[0] != document_id:
            self._clauses_of = (document_id, clauses_by_version(self.store, document_id))
        return self._clauses_of[1]

    def _document_page(self, site: SiteIndex, doc: DocumentInfo) -> Page:
        context = contexts.document_context(site, doc)
        context.update(timetravel.as_of_context(self.travel, doc))
        return Page(contexts.document_path(doc.document.id), "document.html.j2", context,
                    extra=lambda: self._document_extra(doc, context))

    def _document_extra(self, doc: DocumentInfo, context: dict[str, Any]) -> dict[str, Any]:
        """Diffs of every change and the raw text when the version has no clauses."""
        diffs = {row["anchor"]: self._diff(row["from_sha256"], row["to_sha256"]) for row in context["changes"]}
        text = None
        if doc.current_sha256 and not doc.clauses:
            text = version_text(self.store, doc.current_sha256)
        return {"diffs": diffs, "text": text}

    def _diff(self, before_sha: str, after_sha: str) -> Diff:
        # Change.diff is not stored with the change; it is fully determined by the two texts.
        return diff_texts(version_text(self.store, before_sha), version_text(self.store, after_sha))

    def _feed_pages(self, site: SiteIndex) -> Iterator[Page]:
        for path, feed in feed_definitions(site):
            yield Page(path, None, {"feed": feed}, raw=lambda feed=feed: feeds.render_atom(feed))

    # --- Rendering ---------------------------------------------------------------

    def _produce(self, page: Page) -> bytes:
        if page.raw is not None:
            return page.raw()
        context = dict(page.context)
        if page.extra is not None:
            context.update(page.extra())
        depth = page.path.count("/")
        context["root"] = "../" * depth
        context["page_path"] = page.path
        context["json_ld"] = json_ld
        context["faq_json_ld"] = contexts.faq_json_ld
        return self.env.get_template(page.template).render(context).encode("utf-8")


# --- Feeds ------------------------------------------------------------------------------


def feed_path(name: str) -> str:
    return f"feeds/{contexts.safe_name(name)}.atom"


def _entries(site: SiteIndex, documents: list[DocumentInfo]) -> list[feeds.FeedEntry]:
    entries = []
    for doc in documents:
        for change in doc.changes:
            if not change.from_version or change.technical:  # a re-analysis or rebuilt history is ours, not news
                continue
            row = contexts.change_row(doc, change)
            entries.append(feeds.FeedEntry(
                id=f"urn:clausewatch:{doc.document.id}:{change.to_version}",
                title=f"{doc.document.platform_name} · {row['document']}: {row['summary']}",
                link=site.absolute(contexts.document_path(doc.document.id)) + "#" + row["anchor"],
                updated=change.detected_at,
                summary="\n".join(f"{c['kind']}: {c['heading'] or '(untitled clause)'}"
                                  f" [{c['severity_before'] or '–'} → {c['severity_after'] or '–'}]"
                                  for c in row["clause_changes"]) or row["summary"],
            ))
    return entries


def feed_definitions(site: SiteIndex) -> list[tuple[str, feeds.Feed]]:
    """(path, feed) of every change, one per platform and one per document."""
    def make(name: str, feed_id: str, title: str, page: str, docs: list[DocumentInfo]) -> tuple[str, feeds.Feed]:
        path = feed_path(name)
        return path, feeds.Feed(feed_id, title, site.absolute(path), site.absolute(page), _entries(site, docs))

    result = [make("all", "urn:clausewatch:feed:all", "clausewatch: every change", "index.html",
                   list(site.data.documents))]
    for slug, info in site.data.platforms.items():
        if mine := site.data.by_platform(slug):
            result.append(make(f"platform-{slug}", f"urn:clausewatch:feed:platform:{slug}",
                               f"clausewatch: {info.name}", contexts.platform_path(slug), mine))
    for doc in site.data.documents:
        result.append(make(doc.document.id, f"urn:clausewatch:feed:document:{doc.document.id}",
                           f"clausewatch: {doc.document.platform_name} · {doc.document.type}",
                           contexts.document_path(doc.document.id), [doc]))
    return result


def build(store: Store, out: Path, *, base_url: str, full: bool = False,
          progress: Callable[[SiteReport], None] | None = None, public_key: bytes | None = None) -> SiteReport:
    """Build (or incrementally update) the site of ``store`` in ``out``; with the capture log's
    ``public_key`` it also publishes the log and every record's evidence bundle."""
    return SiteBuilder(store, out, base_url, public_key).build(full=full, progress=progress)

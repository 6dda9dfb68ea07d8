"""The archive as it stood on any date: version pages, "view as of" and provision histories (SPEC §7).

Every version of a document gets a page at a path derived from the document id
and the version's SHA-256 (:func:`version_slugs`), never from an ordinal, so a
published URL keeps working however many versions follow. Only the
``status`` part of a version page (in force until when, the newer version)
changes after it is published; the text, hashes, captures and citation do not.

Pages here are planned from :class:`store.timeline.DocumentTimeline` records;
the clauses of past versions are read only when a page is rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from analysis.domain import ClassifiedClause, Document
from analysis.splitter import heading_label
from analysis.timeline import Period, Wording, periods_of_version, wordings_of
from reports.citations import NO_CAPTURES, Captures, Citation
from reports.site import derived
from reports.site.contexts import SiteIndex, clause_anchor, document_path, record_path
from reports.site.render import safe_name
from store.site_data import DocumentInfo, ProvisionInfo
from store.timeline import DocumentTimeline, VersionRecord

# 16 hex digits (64 bits) name a version in its URL: two versions of one document
# sharing them is beyond unlikely, and then the later one takes its full SHA-256
# rather than renaming the earlier one (:func:`version_slugs`).
VERSION_SLUG_CHARS = 16


def version_slugs(shas_oldest_first: Sequence[str]) -> dict[str, str]:
    """The URL name of each version: its SHA-256 prefix, or the whole hash if an older one has that prefix."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for sha in shas_oldest_first:
        slug = sha[:VERSION_SLUG_CHARS]
        slugs[sha] = sha if slug in taken else slug
        taken.add(slug)
    return slugs


def version_path(document_id: str, slug: str) -> str:
    return f"documents/{safe_name(document_id)}/versions/{safe_name(slug)}.html"


def history_path(record_id: str) -> str:
    return f"records/{safe_name(record_id)}/history.html"


def bundle_name(document_id: str, version_sha256: str) -> str:
    """The evidence bundle of one version, as ``evidence/<name>.zip`` in the site."""
    return f"{document_id}-{version_sha256[:VERSION_SLUG_CHARS]}"


def bundle_path_of(name: str) -> str:
    return f"evidence/{safe_name(name)}.zip"


def bundle_link(out: Path | None, name: str) -> str | None:
    """Site path of ``evidence/<name>.zip`` when the evidence work wrote it into the site ``out``; else None."""
    path = bundle_path_of(name)
    return path if out is not None and (Path(out) / path).is_file() else None


# (document id, snapshot SHA-256) -> the log index of the document's first capture of that snapshot
SnapshotIndex = Callable[[str, str], int | None]


def no_snapshot_index(_document_id: str, _snapshot_sha256: str) -> None:
    return None


class TimeTravel:
    """The timelines of one build and the stable paths derived from them."""

    def __init__(self, timelines: dict[str, DocumentTimeline], out: Path | None = None,
                 captures: Captures = NO_CAPTURES, snapshot_index: SnapshotIndex = no_snapshot_index):
        """``out`` is the site folder evidence bundles are looked for in (None: no bundle links); ``captures`` finds
        the capture each citation names, ``snapshot_index`` the log entry of each snapshot a version page lists."""
        self.timelines = timelines
        self.out = out
        self.captures = captures
        self.snapshot_index = snapshot_index
        # The version bundles this build writes (names); None: look for them in ``out``.
        self.bundles: set[str] | None = None
        self._slugs = {doc_id: version_slugs([v.sha256 for v in t.versions]) for doc_id, t in timelines.items()}

    def timeline(self, document_id: str) -> DocumentTimeline:
        return self.timelines.get(document_id) or DocumentTimeline(document_id, (), ())

    def bundle_of(self, document_id: str, sha256: str) -> str | None:
        """Site path of the version's evidence bundle, or None when there is none."""
        name = bundle_name(document_id, sha256)
        if self.bundles is None:
            return bundle_link(self.out, name)
        return bundle_path_of(name) if name in self.bundles else None

    def page_of(self, document_id: str, sha256: str) -> str:
        return version_path(document_id, self._slugs[document_id][sha256])


# --- Document page: "view as of" -------------------------------------------------------


def as_of_context(travel: TimeTravel, doc: DocumentInfo) -> dict[str, Any]:
    """Every period of the document, newest first, with its version page; and each version's page."""
    timeline = travel.timeline(doc.document.id)
    doc_id = doc.document.id
    return {
        "as_of": [{"sha256": p.version, "start": p.start, "end": p.end,
                   "path": travel.page_of(doc_id, p.version), "current": p.end is None}
                  for p in reversed(timeline.periods)],
        "version_pages": {v.sha256: travel.page_of(doc_id, v.sha256) for v in timeline.versions},
    }


def current_version_path(travel: TimeTravel, doc: DocumentInfo) -> str | None:
    """The page of the version in force at the last capture: where a quoted clause stays as quoted."""
    periods = travel.timeline(doc.document.id).periods
    return travel.page_of(doc.document.id, periods[-1].version) if periods else None


# --- Version pages -------------------------------------------------------------------------


def version_context(site: SiteIndex, travel: TimeTravel, doc: DocumentInfo, version: VersionRecord) -> dict[str, Any]:
    """A version's page: fixed facts (hashes, snapshots, captures, citation) and its evolving status."""
    doc_id = doc.document.id
    timeline = travel.timeline(doc_id)
    path = travel.page_of(doc_id, version.sha256)
    return {
        "document_id": doc_id, "title": derived.document_title(doc), "platform": doc.document.platform,
        "platform_name": doc.document.platform_name, "url": doc.document.url, "path": path,
        "canonical": site.absolute(path), "sha256": version.sha256, "first_seen": version.first_seen, "last_verified": version.last_verified,
        "stated_date": version.stated_date, "technical": version.technical, "analyzed_with": version.analyzed_with,
        # the count and the last capture stand for the list, read when the page is rendered
        "length": version.text_length, "capture_count": version.capture_count, "last_capture": version.last_capture,
        "snapshots": [{"sha256": s.sha256, "fetched_at": s.fetched_at, "status": s.status, "url": s.final_url,
                       "content_type": s.content_type, "archive_link": s.archive_link,
                       "log_index": travel.snapshot_index(doc_id, s.sha256)} for s in reversed(version.snapshots)],
        "previous": _neighbour(travel, timeline, version, -1),
        "status": _status(travel, timeline, doc, version),
        "bundle": travel.bundle_of(doc_id, version.sha256),
        "provisions": {p.clause_type: p.id for p in doc.provisions},
        "citation": _version_citation(site, travel, doc, version, path),
    }


def _neighbour(travel: TimeTravel, timeline: DocumentTimeline, version: VersionRecord, step: int) -> dict | None:
    shas = [v.sha256 for v in timeline.versions]
    index = shas.index(version.sha256) + step
    if not 0 <= index < len(shas):
        return None
    other = timeline.versions[index]
    return {"sha256": other.sha256, "first_seen": other.first_seen,
            "path": travel.page_of(timeline.document_id, other.sha256)}


def _status(travel: TimeTravel, timeline: DocumentTimeline, doc: DocumentInfo, version: VersionRecord) -> dict:
    """What may change after publication: when it was in force, and what replaced it."""
    # It names neither the current version nor how many followed, so a new version
    # rewrites only the page of the one it replaced (its end date and next link).
    current = timeline.periods[-1].version if timeline.periods else None
    superseded = version.superseded_by
    return {
        "periods": [{"start": p.start, "end": p.end} for p in periods_of_version(timeline.periods, version.sha256)],
        "current": current == version.sha256,
        "next": _neighbour(travel, timeline, version, +1),
        "superseded_by": None if superseded is None else {
            "sha256": superseded, "path": travel.page_of(doc.document.id, superseded)},
    }


def _version_citation(site: SiteIndex, travel: TimeTravel, doc: DocumentInfo, version: VersionRecord,
                      path: str) -> dict[str, str]:
    """Names the capture that first recorded the version (its first page): fixed once published, as the page is."""
    citation = Citation.of_capture(
        travel.captures.first(doc.document.id, version.sha256),
        entity=doc.document.platform_name, document=derived.document_title(doc), document_id=doc.document.id,
        version_sha256=version.sha256, in_force_from=version.first_seen, in_force_until=None, still_in_force=False,
        url=site.absolute(path),
    )
    return {"plain": citation.plain_text(), "bibtex": citation.bibtex()}


def version_text_rows(clauses: Sequence[ClassifiedClause], provisions: dict[str, str],
                      text: str | None = None) -> list[dict[str, Any]]:
    """A version's clauses as its page shows them, each with its anchor and the records it belongs to; with the
    version's ``text``, the text between them too (a date line, a heading with no clause under it), so that the
    page holds the whole version, as ``show`` prints it. The heading lines just above a clause, which it shows as
    its own heading, are not shown twice."""
    rows: list[dict[str, Any]] = []
    position = 0
    for item in clauses:
        c = item.classification
        if text is not None and (at := text.find(item.clause.text, position)) >= 0:
            rows += _gap(text[position:at], item.clause.heading_path)
            position = at + len(item.clause.text)
        rows.append({
            "between": False, "anchor": clause_anchor(item.clause.key), "heading": item.clause.heading,
            "text": item.clause.text, "severity": c.severity if c.types else None,
            "types": [{"title": derived.type_title(t), "record_id": provisions.get(t)} for t in c.types],
        })
    if text is not None and clauses:
        rows += _gap(text[position:], ())
    return rows


def _gap(text: str, next_headings: Sequence[str]) -> list[dict[str, Any]]:
    """The text between two clauses as a row of its own, without the heading lines, just above the next clause,
    that it shows itself."""
    shown = {heading_label(h) for h in next_headings}
    lines = [line for line in text.splitlines() if line.strip()]
    while lines and heading_label(lines[-1].lstrip("# \t")) in shown:  # its headings, just above it
        lines.pop()
    return [{"between": True, "text": "\n".join(lines)}] if lines else []


# --- Provision history ---------------------------------------------------------------------


def history_context(site: SiteIndex, travel: TimeTravel, doc: DocumentInfo, provision: ProvisionInfo) -> dict[str, Any]:
    """The provision history page without its wordings, which are computed when it is rendered.

    The wordings are a function of the periods and of each version's clauses,
    so the periods and every version's analyser are the page's inputs.
    """
    timeline = travel.timeline(doc.document.id)
    return {
        "id": provision.id, "clause_type": provision.clause_type, "title": derived.type_title(provision.clause_type),
        "platform": doc.document.platform, "platform_name": doc.document.platform_name,
        "document": derived.document_title(doc), "document_id": doc.document.id,
        "record_path": record_path(provision.id), "document_path": document_path(doc.document.id),
        "url": site.absolute(history_path(provision.id)),
        "periods": [{"version": p.version, "start": p.start, "end": p.end} for p in timeline.periods],
        "analysers": {v.sha256: v.analyzed_with for v in timeline.versions},
    }


def wording_rows(travel: TimeTravel, document_id: str, periods: Sequence[Period],
                 clauses: dict[str, Sequence[ClassifiedClause]], clause_type: str,
                 cite: Callable[[datetime], Citation] | None = None) -> list[dict[str, Any]]:
    """Every wording of a provision, newest first, each with the text it replaced (for the redline).

    With ``cite``, each wording carries the citation of the provision as it stood on its first day.
    """
    wordings = wordings_of(periods, clauses, clause_type)
    rows = []
    for number, wording in enumerate(wordings, start=1):
        before: Wording | None = wordings[number - 2] if number > 1 else None
        rows.append({
            "number": number, "start": wording.start, "end": wording.end, "text": wording.text,
            "before": before.text if before is not None else None,
            "clauses": [{"heading": c.clause.heading, "text": c.clause.text, "anchor": clause_anchor(c.clause.key),
                         "severity": c.classification.severity} for c in wording.clauses],
            "versions": [{"sha256": sha, "path": travel.page_of(document_id, sha)} for sha in wording.versions],
            "citation": cite(wording.start).plain_text() if cite else None,
        })
    return list(reversed(rows))


def periods_from_context(rows: Sequence[dict[str, Any]]) -> list[Period]:
    """The periods a history context carries, back as :class:`Period` records."""
    return [Period(r["version"], r["start"], r["end"]) for r in rows]


def cite_at(base_url: str, travel: TimeTravel, document: Document, title: str, moment: datetime,
            provision: tuple[str, str] | None = None) -> Citation:
    """The citation of a document (or of its provision ``(record id, clause type)``) as it stood at ``moment``.

    Names the version in force then, not the latest, and the latest capture by then that read as it, of the page
    the provision's clauses came from; raises :class:`~analysis.timeline.NotYetCapturedError` before the first
    capture.
    """
    period, version = travel.timeline(document.id).in_force(moment)
    part = travel.captures.part_of(document.id, version.sha256, provision[1]) if provision else 0
    capture = (travel.captures.at(document.id, version.sha256, moment, part)
               or travel.captures.first(document.id, version.sha256, part))
    return Citation.of_capture(
        capture, entity=document.platform_name, document=title, document_id=document.id,
        version_sha256=version.sha256, in_force_from=period.start, in_force_until=period.end,
        url=base_url.rstrip("/") + "/" + travel.page_of(document.id, version.sha256),
        record_id=provision[0] if provision else None,
        provision=derived.type_title(provision[1]) if provision else None, cited_at=moment,
    )


def record_citation(site: SiteIndex, travel: TimeTravel, doc: DocumentInfo, provision: ProvisionInfo,
                    part: int = 0) -> dict | None:
    """A record page's citation: the record URL, and the version in force now with its own stable page.

    Names the capture that first recorded that version (the one the record's evidence bundle proves), of page
    ``part``: the page the record's clauses came from, for a document combined from several pages.
    """
    timeline = travel.timeline(doc.document.id)
    if not timeline.periods:
        return None
    period = timeline.periods[-1]
    version = timeline.version(period.version)
    citation = Citation.of_capture(
        travel.captures.first(doc.document.id, version.sha256, part),
        entity=doc.document.platform_name, document=derived.document_title(doc), document_id=doc.document.id,
        version_sha256=version.sha256, in_force_from=period.start, in_force_until=None,
        url=site.absolute(record_path(provision.id)), record_id=provision.id,
        provision=derived.type_title(provision.clause_type),
        version_url=site.absolute(travel.page_of(doc.document.id, version.sha256)),
    )
    return {"plain": citation.plain_text(), "bibtex": citation.bibtex()}

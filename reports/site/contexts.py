"""The data each page template receives, built from :class:`store.site_data.SiteData`.

A context is made of plain values and frozen records only, so it can be
fingerprinted (the incremental build rewrites a page only when its context
changes) and rendered without touching the store. Document pages add their
text diffs at render time: those are fully determined by version hashes,
which are in the context.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from analysis.domain import ClassifiedClause, severity_rank
from analysis.prevalence import Prevalence
from reports.site import derived
from reports.site.explaining import explain_provision
from reports.site.render import safe_name
from reports.wording import severity_move
from store.change_records import ChangeRecord
from store.site_data import DocumentInfo, ProvisionInfo, SiteData

OTHER_PLATFORMS_SHOWN = 3
LATEST_CHANGES_SHOWN = 20


def absolute_url(base_url: str, path: str) -> str:
    """A site path as an absolute link (emails and feeds cannot use relative ones)."""
    return base_url.rstrip("/") + "/" + path


def record_path(record_id: str) -> str:
    return f"records/{safe_name(record_id)}.html"


def document_path(document_id: str) -> str:
    return f"documents/{safe_name(document_id)}.html"


def platform_path(slug: str) -> str:
    return f"platforms/{safe_name(slug)}.html"


def type_path(clause_type: str) -> str:
    return f"types/{safe_name(clause_type)}.html"


def change_anchor(change: ChangeRecord) -> str:
    return f"change-{change.to_version[:12]}"


def clause_anchor(key: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in key)


@dataclass(frozen=True)
class Evidence:
    """Where a version came from, and whether its snapshot is still intact in the blob store."""

    source_url: str | None
    final_url: str | None
    archive_link: str | None
    snapshot_sha256: str | None
    version_sha256: str | None
    captured_at: str | None
    http_status: int | None
    content_type: str | None
    stored: bool
    verified: bool
    problem: str | None


@dataclass
class SiteIndex:
    """Cross-document facts every page may need, computed once per build."""

    data: SiteData
    base_url: str
    evidence: dict[str, Evidence]  # document id -> evidence of its current version
    prevalences: dict[str, Prevalence]  # clause type -> platforms having it (analysis.prevalence)
    by_type: dict[str, list[dict[str, Any]]]  # clause type -> one comparison row per provision
    # (document id, clause key) -> the snapshot of the page the clause came from, for combined documents
    clause_evidence: dict[tuple[str, str], Evidence] = field(default_factory=dict)
    # document id -> the evidence of each page of a combined document's current version, in text order
    parts_evidence: dict[str, list[Evidence]] = field(default_factory=dict)

    @classmethod
    def build(cls, data: SiteData, base_url: str, evidence: dict[str, Evidence],
              prevalences: dict[str, Prevalence],
              clause_evidence: dict[tuple[str, str], Evidence] | None = None,
              parts_evidence: dict[str, list[Evidence]] | None = None) -> SiteIndex:
        by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in data.documents:
            for provision in doc.provisions:
                clauses = derived.clauses_of_type(doc, provision.clause_type)
                if clauses:
                    by_type[provision.clause_type].append(_comparison_row(doc, provision, clauses))
        for rows in by_type.values():
            rows.sort(key=lambda r: (-severity_rank(r["severity"]), r["platform_name"].lower(), r["record_id"]))
        return cls(data, base_url.rstrip("/") + "/", evidence, prevalences, dict(by_type), clause_evidence or {},
                   parts_evidence or {})

    def document_evidence(self) -> dict[str, list[Evidence]]:
        """Document id -> what its page shows as provenance: each page's snapshot, or the latest snapshot."""
        return {doc_id: self.parts_evidence.get(doc_id, [whole]) for doc_id, whole in self.evidence.items()}

    def record_evidence(self, doc: DocumentInfo, clauses: Sequence[ClassifiedClause]) -> list[Evidence]:
        """The evidence a record cites: the page of each of its clauses (most severe first), one entry per
        snapshot; the document's latest snapshot when its pages were not traced (one page, older records)."""
        cited: dict[str | None, Evidence] = {}
        for item in clauses:
            page = self.clause_evidence.get((doc.document.id, item.clause.key))
            if page is not None:
                cited.setdefault(page.snapshot_sha256, page)
        if cited:
            return list(cited.values())
        whole = self.evidence.get(doc.document.id)
        return [whole] if whole is not None else []

    def prevalence(self, clause_type: str) -> Prevalence:
        known = self.prevalences.get(clause_type)
        if known is not None:
            return known
        total = max((p.total for p in self.prevalences.values()), default=0)
        return Prevalence(clause_type, 0, total)

    def absolute(self, path: str) -> str:
        return self.base_url + path


def _comparison_row(doc: DocumentInfo, provision: ProvisionInfo, clauses) -> dict[str, Any]:
    top = clauses[0]
    return {
        "record_id": provision.id, "platform": doc.document.platform, "platform_name": doc.document.platform_name,
        "document": derived.document_title(doc), "document_id": doc.document.id,
        "severity": top.classification.severity, "excerpt": derived.excerpt(top.clause.text),
        "clauses": len(clauses),
    }


def _summarise_change(change: ChangeRecord) -> str:
    counts = defaultdict(int)
    for clause_change in change.clause_changes:
        counts[clause_change.change.kind] += 1
    parts = [f"{n} {kind}" for kind, n in sorted(counts.items())]
    if not change.from_version:
        return "first version archived"
    summary = ", ".join(parts) if parts else "text changed"
    if not change.substantive:
        summary += f" (cosmetic{': ' + change.cosmetic_reason if change.cosmetic_reason else ''})"
    if change.severity_raised:
        summary += " — severity raised"
    return summary


def change_row(doc: DocumentInfo, change: ChangeRecord, record_id: str | None = None) -> dict[str, Any]:
    """A change as pages show it; with ``record_id``, only the clause changes concerning that provision record."""
    shown = [c.change for c in change.clause_changes if record_id is None or record_id in c.record_ids]
    return {
        "anchor": change_anchor(change), "detected_at": change.detected_at, "summary": _summarise_change(change),
        "severity": change.severity, "severity_raised": change.severity_raised, "substantive": change.substantive,
        "technical": change.technical, "document_id": doc.document.id, "document": derived.document_title(doc),
        "platform": doc.document.platform, "platform_name": doc.document.platform_name,
        "from_sha256": change.from_version, "to_sha256": change.to_version,
        "clause_changes": [
            {"kind": c.kind, "heading": " › ".join(c.heading_path), "before": c.before, "after": c.after,
             "severity_before": c.severity_before, "severity_after": c.severity_after,
             "severity_move": severity_move(c), "facts": c.facts}
            for c in sorted(shown,
                            key=lambda c: -max(severity_rank(c.severity_before), severity_rank(c.severity_after)))
        ],
    }


def _clause_row(item, provisions_by_type: dict[str, str]) -> dict[str, Any]:
    c = item.classification
    return {
        "key": item.clause.key, "anchor": clause_anchor(item.clause.key), "heading": item.clause.heading,
        "text": item.clause.text,
        "severity": c.severity if c.types else None, "confidence": c.confidence, "basis": c.basis,
        "reason": c.reason, "evidence": list(c.evidence),
        "types": [{"id": t, "title": derived.type_title(t), "record_id": provisions_by_type.get(t)} for t in c.types],
    }


# --- Record pages -------------------------------------------------------------------


def record_context(site: SiteIndex, doc: DocumentInfo, provision: ProvisionInfo) -> dict[str, Any]:
    """Everything the provision record page shows (SPEC §7), in the seed pages' order."""
    title = derived.type_title(provision.clause_type)
    clauses = derived.clauses_of_type(doc, provision.clause_type)
    top = clauses[0].classification if clauses else None
    platform = doc.document.platform_name
    current = doc.current
    provisions_by_type = {p.clause_type: p.id for p in doc.provisions}
    url = site.absolute(record_path(provision.id))
    cited = site.record_evidence(doc, clauses)
    return {
        "id": provision.id, "clause_type": provision.clause_type, "title": title, "url": url,
        "platform": doc.document.platform, "platform_name": platform, "document": derived.document_title(doc),
        "document_id": doc.document.id, "document_url": doc.document.url,
        "severity": top.severity if top else None, "severity_reason": top.reason if top else "",
        "confidence": top.confidence if top else None, "basis": top.basis if top else None,
        "evidence_phrases": _unique_phrases(top.evidence) if top else [],
        "prevalence": derived.not_analysed(doc) or site.prevalence(provision.clause_type).display,
        "not_analysed": derived.not_analysed(doc),
        "others": [r for r in site.by_type.get(provision.clause_type, ())
                   if r["platform"] != doc.document.platform][:OTHER_PLATFORMS_SHOWN],
        "history": [change_row(doc, c, provision.id) for c in reversed(derived.changes_of_provision(doc, provision))],
        # The platform's changes: a re-analysis or a rebuilt history is ours (technical), shown but not counted.
        "document_changes": len([c for c in doc.changes if c.from_version and not c.technical]),
        "clauses": [_clause_row(c, provisions_by_type) for c in clauses],
        "last_updated": (current.stated_date if current and current.stated_date else None),
        "last_changed": current.first_seen if current else None,
        "first_tracked": provision.first_seen, "document_first_tracked": doc.first_tracked,
        "last_verified": current.last_verified if current else None,
        "evidence": cited[0] if cited else None,
        "more_evidence": cited[1:],
        "siblings": _siblings(doc, provision),
    }


def record_analysis(site: SiteIndex, doc: DocumentInfo, provision: ProvisionInfo) -> dict[str, Any]:
    """The analysis sections and FAQ of a record page, computed only when the page is rendered.

    They are a function of the record's clauses (in its context, keys included)
    and of the explanation templates (in the code fingerprint), so they need
    no place in the fingerprint of their own.
    """
    title = derived.type_title(provision.clause_type)
    clauses = derived.clauses_of_type(doc, provision.clause_type)
    platform = doc.document.platform_name
    explanation = explain_provision(provision.clause_type, title, platform, clauses)
    top = clauses[0].classification if clauses else None
    return {"explanation": explanation,
            "faq": _faq(platform, explanation, site.prevalence(provision.clause_type), top)}


def _unique_phrases(phrases) -> list[str]:
    """Evidence phrases once each, whatever their case ("arbitration" and "Arbitration")."""
    seen: dict[str, str] = {}
    for phrase in phrases:
        seen.setdefault(" ".join(phrase.split()).casefold(), phrase)
    return list(seen.values())


def _siblings(doc: DocumentInfo, provision: ProvisionInfo) -> list[dict[str, Any]]:
    rows = []
    for other in doc.provisions:
        if other.id != provision.id:
            severity = derived.provision_severity(doc, other.clause_type)
            rows.append({"id": other.id, "title": derived.type_title(other.clause_type), "severity": severity})
    return sorted(rows, key=lambda r: (-severity_rank(r["severity"]), r["title"]))


def _faq(platform, explanation, prevalence, top) -> list[dict[str, str]]:
    """The analysis's own questions, then severity and independence, which only the site knows."""
    faq = [{"q": q, "a": a} for q, a in explanation.faq(platform, prevalence) if a]
    if top is not None:
        faq.append({"q": "How severe is it?",
                    "a": f"{top.severity.capitalize()} severity ({top.basis}, confidence {top.confidence:.0%}). "
                         f"{top.reason}".strip()})
    faq.append({"q": f"Is clausewatch affiliated with {platform}?",
                "a": f"No. clausewatch is an independent archive; it is not affiliated with or endorsed by {platform}."})
    return faq


def faq_json_ld(faq: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "@context": "https://schema.org", "@type": "FAQPage",
        "mainEntity": [{"@type": "Question", "name": item["q"],
                        "acceptedAnswer": {"@type": "Answer", "text": item["a"]}} for item in faq],
    }


# --- Document, platform, type and index pages -----------------------------------------


def document_context(site: SiteIndex, doc: DocumentInfo) -> dict[str, Any]:
    """The document page without its diffs (added at render time from the version hashes)."""
    provisions_by_type = {p.clause_type: p.id for p in doc.provisions}
    return {
        "id": doc.document.id, "title": derived.document_title(doc), "platform": doc.document.platform,
        "platform_name": doc.document.platform_name, "url": doc.document.url,
        "current_sha256": doc.current_sha256, "not_analysed": derived.not_analysed(doc),
        "clauses": [_clause_row(c, provisions_by_type) for c in doc.clauses],
        "versions": [
            {"sha256": v.sha256, "first_seen": v.first_seen, "last_verified": v.last_verified,
             "stated_date": v.stated_date, "technical": v.technical, "length": v.text_length,
             "archive_link": v.snapshot.archive_link if v.snapshot else None}
            for v in reversed(doc.versions)
        ],
        "changes": [change_row(doc, c) for c in reversed(doc.changes) if c.from_version],
        "provisions": _provision_rows(doc),
        "health": doc.health, "evidence": site.evidence.get(doc.document.id),
        "part_evidence": site.parts_evidence.get(doc.document.id, []),
    }


def _provision_rows(doc: DocumentInfo) -> list[dict[str, Any]]:
    rows = [{"id": p.id, "title": derived.type_title(p.clause_type), "clause_type": p.clause_type,
             "severity": derived.provision_severity(doc, p.clause_type),
             "platform_name": doc.document.platform_name, "document": derived.document_title(doc)}
            for p in doc.provisions]
    return sorted(rows, key=lambda r: (-severity_rank(r["severity"]), r["title"]))


def platform_context(site: SiteIndex, slug: str) -> dict[str, Any]:
    info = site.data.platforms[slug]
    docs = site.data.by_platform(slug)
    grade = derived.platform_grade(docs)
    provisions = [row for doc in docs for row in _provision_rows(doc) if row["severity"]]
    provisions.sort(key=lambda r: (-severity_rank(r["severity"]), r["title"]))
    return {
        "slug": slug, "name": info.name, "homepage": info.homepage, "jurisdictions": list(info.jurisdictions),
        "grade": grade,
        "documents": [{"id": d.document.id, "title": derived.document_title(d), "url": d.document.url,
                       "versions": len(d.versions), "last_verified": d.current.last_verified if d.current else None,
                       "health": d.health} for d in docs],
        "riskiest": provisions[:10],
        "changes": sorted((change_row(d, c) for d in docs for c in d.changes
                           if c.from_version and not c.technical),
                          key=lambda r: r["detected_at"], reverse=True)[:LATEST_CHANGES_SHOWN],
    }


def type_context(site: SiteIndex, clause_type: str) -> dict[str, Any]:
    return {"id": clause_type, "title": derived.type_title(clause_type),
            "prevalence": site.prevalence(clause_type).display, "rows": site.by_type.get(clause_type, [])}


def types_index_context(site: SiteIndex) -> dict[str, Any]:
    types = sorted(site.by_type, key=lambda t: (-site.prevalence(t).count, derived.type_title(t)))
    return {"types": [{"id": t, "title": derived.type_title(t), "prevalence": site.prevalence(t).display} for t in types]}


def index_context(site: SiteIndex) -> dict[str, Any]:
    data = site.data
    platforms = []
    for slug, info in data.platforms.items():
        docs = data.by_platform(slug)
        if docs:
            platforms.append({"slug": slug, "name": info.name, "grade": derived.platform_grade(docs).letter,
                              "documents": len(docs), "provisions": sum(len(d.provisions) for d in docs)})
    # The platforms' changes: a re-analysis or a rebuilt history (technical) is on the document's page only.
    changes = [change_row(d, c) for d in data.documents for c in d.changes if c.from_version and not c.technical]
    changes.sort(key=lambda r: (r["severity_raised"], severity_rank(r["severity"]), r["detected_at"]), reverse=True)
    changes.sort(key=lambda r: r["detected_at"].date(), reverse=True)
    failing = [{"id": d.document.id, "title": derived.document_title(d), "platform_name": d.document.platform_name,
                "health": d.health} for d in data.documents if d.health.consecutive_failures]
    return {
        "platforms": sorted(platforms, key=lambda p: p["name"].lower()),
        "changes": changes[:LATEST_CHANGES_SHOWN], "failing": failing,
        "counts": {"platforms": len(platforms), "documents": len(data.documents),
                   "versions": sum(len(d.versions) for d in data.documents),
                   "provisions": sum(len(d.provisions) for d in data.documents),
                   "changes": len(changes), "failing": len(failing)},
    }

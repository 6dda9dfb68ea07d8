"""Machine-readable outputs of the site: the search index and the JSON export of every record.

The search index is a JavaScript file assigning one variable, not a JSON file:
browsers refuse ``fetch()`` of ``file://`` URLs, but a ``<script src>`` loads
from ``file://`` like from any host. ``json.dumps`` with ``ensure_ascii``
leaves no raw U+2028/U+2029 that would end a JavaScript line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.site import derived
from reports.site.contexts import SiteIndex, document_path, platform_path, record_path, type_path
from reports.terminal import without_controls
from store.repository import Store

SEARCH_TEXT_CHARS = 600
EXPORT_FORMAT = 1


def search_entries(site: SiteIndex) -> list[dict[str, str]]:
    """One entry per record, document, platform and clause type: url, title, kind, text."""
    entries: list[dict[str, str]] = []
    for slug, info in site.data.platforms.items():
        entries.append({"u": platform_path(slug), "t": info.name, "k": "platform", "x": ""})
    for doc in site.data.documents:
        title = f"{doc.document.platform_name} · {derived.document_title(doc)}"
        entries.append({"u": document_path(doc.document.id), "t": title, "k": "document", "x": doc.document.id})
        for provision in doc.provisions:
            clauses = derived.clauses_of_type(doc, provision.clause_type)
            text = " ".join(c.clause.text for c in clauses)
            entries.append({
                "u": record_path(provision.id), "k": "record",
                "t": f"{derived.type_title(provision.clause_type)} — {title}",
                "s": derived.provision_severity(doc, provision.clause_type) or "",
                "x": f"{provision.id} " + derived.excerpt(text, SEARCH_TEXT_CHARS),
            })
    for clause_type in site.by_type:
        entries.append({"u": type_path(clause_type), "t": derived.type_title(clause_type), "k": "type", "x": clause_type})
    return entries


def search_index_js(entries: list[dict[str, str]]) -> bytes:
    """The index as a script. Its texts are shown by ``search.js`` through ``textContent``, which escapes markup
    but not a bidirectional override: controls and overrides are shown as ``�`` here, as on every page."""
    shown = [{key: without_controls(value) for key, value in entry.items()} for entry in entries]
    return ("window.CLAUSEWATCH_SEARCH = " + json.dumps(shown, ensure_ascii=True, separators=(",", ":")) + ";\n").encode()


def export_records(site: SiteIndex) -> dict[str, Any]:
    """Every provision record with its clauses, classification and evidence, as plain JSON."""
    records = []
    for doc in site.data.documents:
        current = doc.current
        for provision in doc.provisions:
            clauses = derived.clauses_of_type(doc, provision.clause_type)
            cited = site.record_evidence(doc, clauses)
            evidence = cited[0] if cited else None
            records.append({
                "id": provision.id, "url": site.absolute(record_path(provision.id)),
                "clause_type": provision.clause_type, "title": derived.type_title(provision.clause_type),
                "platform": doc.document.platform, "platform_name": doc.document.platform_name,
                "document_id": doc.document.id, "document": derived.document_title(doc),
                "document_url": doc.document.url,
                "severity": derived.provision_severity(doc, provision.clause_type),
                "prevalence": site.prevalence(provision.clause_type).display,
                "first_tracked": provision.first_seen.isoformat(),
                "last_verified": current.last_verified.isoformat() if current else None,
                "version_sha256": doc.current_sha256,
                "snapshot_sha256": evidence.snapshot_sha256 if evidence else None,
                "captured_at": evidence.captured_at if evidence else None,
                "source_url": evidence.source_url if evidence else None,
                "archive_link": evidence.archive_link if evidence else None,
                "clauses": [{
                    "key": c.clause.key, "heading": c.clause.heading, "text": c.clause.text,
                    "types": list(c.classification.types), "severity": c.classification.severity,
                    "confidence": c.classification.confidence, "basis": c.classification.basis,
                    "evidence": list(c.classification.evidence), "reason": c.classification.reason,
                } for c in clauses],
            })
    return {"format": EXPORT_FORMAT, "records": records}


def export_json(site: SiteIndex) -> bytes:
    return json.dumps(export_records(site), ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")


def export_store(store: Store, *, base_url: str) -> bytes:
    """The JSON export of a store, as the site build writes it to ``export/records.json``."""
    from reports.site.builder import SiteBuilder  # the builder writes this export too

    return export_json(SiteBuilder(store, Path("."), base_url).index())

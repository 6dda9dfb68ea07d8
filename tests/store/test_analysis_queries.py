"""Prevalence counts and version re-analysis in the store, on real SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from analysis.domain import ClassifiedClause, DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.pipeline import Analyzer
from analysis.text import normalize_text, sha256_bytes
from store.analysis_queries import (
    AnalysisMovedError,
    prevalence,
    prevalence_counts,
    replace_analysis,
    tracked_platform_count,
    versions_to_analyse,
)
from store.repository import Store
from store.tables import DocumentRow, ProvisionRow
from tests.fakes import KeywordClassifier

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)




OLD = Analyzer(KeywordClassifier("kw-1", {"arbitration": ("arbitration", "medium"), "cookies": ("tracking", "medium")}))
NEW = Analyzer(KeywordClassifier("kw-2", {"arbitration": ("arbitration", "medium"),
                                          "governed": ("governing_law", "medium")}))

TERMS = normalize_text("""\
## 1. Disputes

1.1 Any dispute will be resolved by binding arbitration administered by the AAA in New York.

1.2 These terms are governed by the laws of the State of New York.

## 2. Cookies

We use cookies to remember your preferences and measure traffic on the site.
""")


def catalog(*slugs: str) -> list[PlatformSpec]:
    return [
        PlatformSpec(slug, slug.title(), (DocumentSpec(slug, "Terms of Service", (SourceSpec(f"https://{slug}.test/tos"),)),))
        for slug in slugs
    ]


def record(store: Store, document_id: str, text: str, analyzer: Analyzer, at: datetime = T0):
    body = text.encode()
    snapshot = Snapshot(sha256_bytes(body), document_id, "https://x.test/", "https://x.test/", 200, "text/html", at)
    return store.recording.record_text(
        document_id, snapshot=snapshot, body=body, text=text, started_at=at, finished_at=at, analyze=analyzer
    )


def ids(store: Store) -> dict[str, str]:
    return {doc.platform: doc.id for doc in store.catalog.documents()}


def provision_ids(store: Store) -> dict[str, str]:
    with store.session() as session:
        return {row.clause_type: row.public_id for row in session.scalars(select(ProvisionRow))}


def test_prevalence_counts_platforms_whose_current_version_has_the_type(store):
    store.catalog.sync_catalog(catalog("alpha", "beta", "gamma", "delta"), now=T0)
    doc = ids(store)
    record(store, doc["alpha"], TERMS, OLD)
    record(store, doc["beta"], TERMS, OLD)
    # gamma once had arbitration, but its current version has none.
    record(store, doc["gamma"], TERMS, OLD)
    record(store, doc["gamma"], "We may change these terms whenever we like.\n", OLD, T0 + timedelta(days=1))
    # delta was never fetched: not a tracked platform yet.
    assert tracked_platform_count(store) == 3
    assert prevalence_counts(store) == {"arbitration": 2, "tracking": 2}
    table = prevalence(store, ("arbitration", "governing_law"))
    assert table["arbitration"].display == "Common · 2 of 3 platforms"
    assert table["governing_law"].count == 0


def test_platforms_dropped_from_the_catalog_no_longer_count(store):
    store.catalog.sync_catalog(catalog("alpha", "beta"), now=T0)
    doc = ids(store)
    record(store, doc["alpha"], TERMS, OLD)
    record(store, doc["beta"], TERMS, OLD)
    with store.session() as session:
        session.execute(update(DocumentRow).where(DocumentRow.public_id == doc["beta"]).values(in_catalog=False))
    assert tracked_platform_count(store) == 1
    assert prevalence_counts(store)["arbitration"] == 1


def test_versions_to_analyse_are_those_of_another_analyser(store):
    store.catalog.sync_catalog(catalog("alpha", "beta"), now=T0)
    doc = ids(store)
    record(store, doc["alpha"], TERMS, OLD)
    record(store, doc["alpha"], TERMS + "\nA new paragraph about refunds.\n", NEW, T0 + timedelta(days=1))
    record(store, doc["beta"], TERMS, NEW)
    stale = versions_to_analyse(store, NEW.analyzer_id)
    assert [(r.document_id, r.analyzed_with) for r in stale] == [(doc["alpha"], OLD.analyzer_id)]
    everything = versions_to_analyse(store, NEW.analyzer_id, everything=True)
    assert len(everything) == 3
    assert [r.document_id for r in everything] == [doc["alpha"], doc["alpha"], doc["beta"]]


def test_replace_analysis_swaps_clauses_and_keeps_provision_ids(store):
    store.catalog.sync_catalog(catalog("alpha"), now=T0)
    document_id = ids(store)["alpha"]
    record(store, document_id, TERMS, OLD)
    before = provision_ids(store)
    assert set(before) == {"arbitration", "tracking"}
    (ref,) = versions_to_analyse(store, NEW.analyzer_id)
    stored = store.history.current_version(document_id)
    fresh = NEW.classify_text(stored.text)
    analysis = NEW(None, stored.text)
    replace_analysis(store, ref, replace(analysis, clauses=fresh), now=T0 + timedelta(days=2))

    after = store.history.current_version(document_id)
    assert [c.clause.text for c in after.clauses] == [c.clause.text for c in fresh]
    law = [c for c in after.clauses if "governed" in c.clause.text][0]
    assert law.classification.types == ("governing_law",)
    assert not any("tracking" in c.classification.types for c in after.clauses)
    ids_after = provision_ids(store)
    # Old provisions keep their record ids (never reused or renumbered); the new type gets a new one.
    assert {k: ids_after[k] for k in before} == before
    assert ids_after["governing_law"] not in before.values()
    assert versions_to_analyse(store, NEW.analyzer_id) == []


def test_replace_analysis_refuses_a_version_someone_else_reanalysed(store):
    store.catalog.sync_catalog(catalog("alpha"), now=T0)
    document_id = ids(store)["alpha"]
    record(store, document_id, TERMS, OLD)
    (ref,) = versions_to_analyse(store, NEW.analyzer_id)
    text = store.history.current_version(document_id).text
    replace_analysis(store, ref, NEW(None, text), now=T0)
    with pytest.raises(AnalysisMovedError, match="kw-2"):
        replace_analysis(store, ref, NEW(None, text), now=T0)


def test_replace_analysis_is_one_transaction(store):
    store.catalog.sync_catalog(catalog("alpha"), now=T0)
    document_id = ids(store)["alpha"]
    record(store, document_id, TERMS, OLD)
    (ref,) = versions_to_analyse(store, NEW.analyzer_id)
    old_clauses = store.history.current_version(document_id).clauses
    analysis = NEW(None, store.history.current_version(document_id).text)
    # Two clauses with one ordinal break the (version, ordinal) constraint half-way through.
    broken = analysis.clauses + (ClassifiedClause(analysis.clauses[0].clause, analysis.clauses[0].classification),)
    with pytest.raises(Exception):  # noqa: B017 - whichever IntegrityError the driver raises
        replace_analysis(store, ref, replace(analysis, clauses=broken), now=T0)
    assert store.history.current_version(document_id).clauses == old_clauses
    assert versions_to_analyse(store, NEW.analyzer_id)[0].analyzed_with == OLD.analyzer_id

"""A clause is classified as its document's: inside a privacy policy the privacy types keep their own thresholds.

The store passes each document's catalog type to the analysis wherever it
analyses a text (a new fetch, a rebuilt history, ``clausewatch analyze``), and
the analysis asks the classifier for a privacy policy's thresholds only there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from analysis.domain import Classification, DocumentSpec, PlatformSpec, SourceSpec
from analysis.pipeline import PRIVACY_POLICY_TYPES, Analyzer
from store.recording import RebuiltRun
from tests.fakes import record_fetched_text

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACCESS = "You may access and delete the information you gave us by writing to privacy@acme.test."


class PolicyAware:
    """Gives ``user_rights`` to a clause about access only when told the clause is a privacy policy's."""

    analyzer_id = "policy-aware-1"

    def __init__(self) -> None:
        self.asked: list[bool] = []

    def classify(self, texts: Sequence[str], privacy_policy: bool = False) -> list[Classification]:
        self.asked.append(privacy_policy)
        return [Classification(types=("user_rights",) if privacy_policy and "access" in t else ()) for t in texts]


def _documents(store):
    spec = PlatformSpec("acme", "Acme", tuple(
        DocumentSpec("acme", kind, (SourceSpec(f"https://acme.test/{slug}"),))
        for kind, slug in (("Terms of Service", "terms"), ("Privacy Policy", "privacy"))))
    store.catalog.sync_catalog([spec], now=T0)
    return {d.type: d.id for d in store.catalog.documents()}


def _types(store, document_id: str) -> set[str]:
    (version, *_) = store.history.versions(document_id)[-1:]
    return {t for c in version.clauses for t in c.classification.types}


def test_a_new_text_is_classified_as_its_documents(store):
    ids = _documents(store)
    analyze = Analyzer(PolicyAware())
    for document_id in ids.values():
        record_fetched_text(store, document_id, f"# Your data\n\n{ACCESS}\n", T0, analyze=analyze)
    assert _types(store, ids["Privacy Policy"]) == {"user_rights"}
    assert _types(store, ids["Terms of Service"]) == set()
    assert store.history.document_type(ids["Privacy Policy"]) == "Privacy Policy"


def test_a_rebuilt_history_and_a_reanalysis_classify_as_the_document_too(store):
    ids = _documents(store)
    analyze = Analyzer(PolicyAware())
    for document_id in ids.values():
        record_fetched_text(store, document_id, "# Your data\n\nWe keep little.\n", T0, analyze=analyze)
        later = T0 + timedelta(days=1)
        run = RebuiltRun(f"# Your data\n\n{ACCESS}\n", (), later, later)
        store.recording.rebuild_history(document_id, [run], analyze=analyze)
    assert _types(store, ids["Privacy Policy"]) == {"user_rights"}
    assert _types(store, ids["Terms of Service"]) == set()

    fresh = Analyzer(PolicyAware())
    (version,) = store.history.versions(ids["Privacy Policy"])[-1:]
    again = fresh.reanalyse(version, None, store.history.document_type(ids["Privacy Policy"]))
    assert {t for c in again.clauses for t in c.classification.types} == {"user_rights"}
    assert fresh.model.asked == [True]


def test_only_a_privacy_policy_is_read_as_one():
    model = PolicyAware()
    analyzer = Analyzer(model)
    for kind in ("Terms of Service", "Cookies Policy", None):
        assert analyzer.classify_text(ACCESS, "en", document_type=kind)[0].classification.types == ()
    assert PRIVACY_POLICY_TYPES == {"Privacy Policy", "Business Privacy Policy"}
    assert analyzer.classify_text(ACCESS, "en", document_type="Privacy Policy")[0].classification.types == (
        "user_rights",)

"""Documents serving the same text share one analysis within a crawl (crawler.shared_texts)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest

from analysis.domain import (
    Classification,
    ClassifiedClause,
    Clause,
    DocumentSpec,
    PlatformSpec,
    SourceSpec,
    StoredVersion,
    Version,
    VersionAnalysis,
)
from clausewatch.loopback_site import Page
from crawler.crawl import crawl
from crawler.shared_texts import SharedTexts

from .conftest import FAST_OPTIONS

POLICY = """<main><h1>Terms of Service</h1>
<h2>1. Disputes</h2><p>Any dispute shall be resolved by binding arbitration and you waive any class action.</p>
<h2>2. Your content</h2><p>You grant us a worldwide, royalty-free licence to use the content you post.</p>
<h2>3. Termination</h2><p>We may terminate your account at any time without notice.</p>
</main>"""


class CountingAnalyzer:
    """The real analyser, counting the texts it is given by document type."""

    def __init__(self, analyzer):
        self.analyzer = analyzer
        self.calls: Counter[str | None] = Counter()
        self._lock = threading.Lock()

    def __call__(self, previous, text, document_type=None):
        with self._lock:
            self.calls[document_type] += 1
        return self.analyzer(previous, text, document_type)


def test_documents_serving_one_text_are_analysed_once_and_each_keeps_its_own_versions(store, site, analyzer):
    # The same policy in different page furniture at four addresses: three terms of service and a privacy policy.
    for n, path in enumerate(("/a", "/b", "/c", "/d")):
        site.set(path, Page(f"<html><body><nav>Site {n}</nav>{POLICY}<footer>© {n}</footer></body></html>".encode()))
    platforms = [PlatformSpec(slug, slug.title(), (DocumentSpec(slug, kind, (SourceSpec(site.url(path)),)),))
                 for slug, kind, path in (("one", "Terms of Service", "/a"), ("two", "Terms of Service", "/b"),
                                          ("three", "Terms of Service", "/c"), ("four", "Privacy Policy", "/d"))]
    store.catalog.sync_catalog(platforms, now=datetime.now(UTC))
    counting = CountingAnalyzer(analyzer)

    report = crawl(store, store.catalog.each_document(), FAST_OPTIONS, analyze=counting)

    assert report.counts == {"new_version": 4}
    # Once per document type: privacy types are classified by the document's type (decision 0027).
    assert counting.calls == {"Terms of Service": 1, "Privacy Policy": 1}
    versions = {document.platform: store.history.current_version(document.id)
                for document in store.catalog.documents()}
    assert {v.version.document_id for v in versions.values()} == {d.id for d in store.catalog.documents()}
    assert len({v.version.sha256 for v in versions.values()}) == 1
    clauses = [versions[slug].clauses for slug in ("one", "two", "three")]
    assert clauses[0] and clauses[0] == clauses[1] == clauses[2]
    assert any("arbitration" in c.classification.types for c in clauses[0])


def analysis_of(text: str) -> VersionAnalysis:
    return VersionAnalysis(clauses=(ClassifiedClause(Clause(0, (), text), Classification(("other",))),))


def previous_with(types: tuple[str, ...]) -> StoredVersion:
    version = Version("a" * 64, "CW-D-00001", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    return StoredVersion(version, "old text", (ClassifiedClause(Clause(0, (), "old text", "k1"),
                                                                Classification(types)),))


class Gate:
    """An ``analyze`` that counts its calls and, for a text marked blocking, waits until released."""

    def __init__(self):
        self.calls: Counter[str] = Counter()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail_first = False

    def __call__(self, previous, text, document_type=None):
        self.calls[text] += 1
        if text.startswith("blocking"):
            self.entered.set()
            assert self.release.wait(30)
        if self.fail_first and self.calls[text] == 1:
            raise self.fail_first("the worker died")
        return analysis_of(text)


def in_thread(shared: SharedTexts, text: str, results: list) -> threading.Thread:
    def run():
        try:
            results.append(shared(None, text, "Terms of Service"))
        except BaseException as exc:  # noqa: BLE001 - the test reads what each caller got
            results.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


class Observed(SharedTexts):
    """Says when a document starts waiting for another's analysis of its text."""

    def __init__(self, analyze, **kwargs):
        super().__init__(analyze, **kwargs)
        self.waiting = threading.Event()

    def _wait_for(self, result):
        self.waiting.set()
        return super()._wait_for(result)


def two_documents_at_once(gate: Gate) -> tuple[Observed, list]:
    """A document's text in analysis (held at the gate) while a second document brings the same text and waits;
    then the gate opens. Returns the shared analyser and what each document got."""
    shared = Observed(gate)
    results: list = []
    first = in_thread(shared, "blocking text", results)
    assert gate.entered.wait(30)
    second = in_thread(shared, "blocking text", results)
    assert shared.waiting.wait(30)
    gate.release.set()
    first.join(30)
    second.join(30)
    return shared, results


def test_a_text_in_analysis_is_waited_for_not_analysed_again():
    gate = Gate()
    shared, results = two_documents_at_once(gate)
    assert gate.calls == {"blocking text": 1}
    assert len(results) == 2 and results[0] is results[1]
    assert shared.shared == 1


@pytest.mark.parametrize("failure", [RuntimeError, KeyboardInterrupt])
def test_a_failed_analysis_is_not_shared_a_waiting_document_analyses_for_itself(failure):
    # An interruption of the thread that ran it is that thread's: the waiting one gets no KeyboardInterrupt of its own
    # (review of 2026-12-03), nor does it wait for a retry by another.
    gate = Gate()
    gate.fail_first = failure
    shared, results = two_documents_at_once(gate)
    assert sorted(type(r).__name__ for r in results) == sorted([failure.__name__, "VersionAnalysis"])
    assert gate.calls == {"blocking text": 2} and shared.shared == 0
    # Nothing kept of the failure: the next document analyses the text, and the one after shares that.
    kept = shared(None, "blocking text", "Terms of Service")
    assert gate.calls == {"blocking text": 3} and shared.shared == 0
    assert shared(None, "blocking text", "Terms of Service") is kept and shared.shared == 1


@pytest.mark.parametrize(("type_a", "type_b", "analyses"), [
    (("arbitration",), ("arbitration",), 1),
    (("arbitration",), ("jurisdiction",), 2),  # the same previous text, classified otherwise: aligned otherwise
])
def test_a_later_text_is_shared_only_from_the_same_previous_version(type_a, type_b, analyses):
    gate = Gate()
    shared = SharedTexts(gate)
    shared(previous_with(type_a), "new text", "Terms of Service")
    shared(previous_with(type_b), "new text", "Terms of Service")
    assert gate.calls["new text"] == analyses
    shared(None, "new text", "Terms of Service")  # a first text is not a later one
    assert gate.calls["new text"] == analyses + 1


def test_what_is_kept_is_bounded_the_oldest_text_is_analysed_again():
    gate = Gate()
    shared = SharedTexts(gate, keep=2)
    for text in ("one", "two", "one", "three", "two", "one"):
        shared(None, text, "Terms of Service")
    # "one" was used again before "three" came, so "two" went first; "two" then pushed "one" out.
    assert gate.calls == {"one": 2, "two": 2, "three": 1}
    assert len(shared._results) == 2

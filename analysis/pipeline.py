"""From a new text to everything stored with its version: clauses, classifications, change, date.

``Analyzer`` is the callable ``Store.record_text`` takes as ``analyze``; it is
pure (text in, dataclasses out) so the store can call it inside its retry loop.
"""

from __future__ import annotations

from analysis import changes, classifier, dates, splitter
from analysis.domain import ClassifiedClause, StoredVersion, VersionAnalysis
from analysis.text import sha256_text


class Analyzer:
    def __init__(self, model: classifier.Classifier | None = None):
        self.model = model or classifier.load_default()

    @property
    def analyzer_id(self) -> str:
        return self.model.analyzer_id

    def classify_text(self, text: str) -> tuple[ClassifiedClause, ...]:
        clauses = splitter.split_clauses(text)
        labels = self.model.classify([c.text for c in clauses])
        return tuple(ClassifiedClause(c, label) for c, label in zip(clauses, labels, strict=True))

    def __call__(self, previous: StoredVersion | None, text: str) -> VersionAnalysis:
        classified = self.classify_text(text)
        aligned, change = changes.build_change(previous, text, sha256_text(text), classified)
        stated, label = dates.find_stated_date(text)
        return VersionAnalysis(
            clauses=aligned, change=change, stated_date=stated, stated_date_label=label, analyzer=self.analyzer_id
        )

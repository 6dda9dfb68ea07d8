"""From a new text to everything stored with its version: clauses, classifications, change, date.

``Analyzer`` is the callable ``Recorder.record_text`` (``store.recording``) takes as ``analyze``; it is
pure (text in, dataclasses out) so the store can call it inside its retry loop.
"""

from __future__ import annotations

from dataclasses import replace

from analysis import alignment, classifier, dates, splitter
from analysis.domain import Classification, ClassifiedClause, StoredVersion, VersionAnalysis
from analysis.language import detect_language, detector_id, load_detector, not_analysed_reason
from analysis.text import sha256_text

# Languages a classifier reads when it does not say (the shipped model is trained on English only).
DEFAULT_LANGUAGES = ("en",)
# The document types whose clauses are classified as a privacy policy's: there the privacy types keep their own
# thresholds, elsewhere they must also stay off terms of service (decision 0027). A document's type is part of
# its identity (one per platform and type), so every version of a document is classified the same way.
PRIVACY_POLICY_TYPES = frozenset({"Privacy Policy", "Business Privacy Policy"})


class Analyzer:
    def __init__(self, model: classifier.Classifier | None = None):
        self.model = model or classifier.load_default()
        load_detector()

    @property
    def analyzer_id(self) -> str:
        # The detector decides which texts are classified at all: a new one re-analyses, as a new model does.
        return f"{self.model.analyzer_id}+{detector_id()}"

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the model was trained and measured for; other texts get no types."""
        return tuple(getattr(self.model, "languages", DEFAULT_LANGUAGES))

    def classify_text(self, text: str, language: str | None = None, previous: StoredVersion | None = None,
                      document_type: str | None = None) -> tuple[ClassifiedClause, ...]:
        """Split ``text`` and classify its clauses, unless it is in a language the model cannot read.

        Such clauses get no type, and their reason says why ("not analysed:
        language fr"): a French policy never gets a confident wrong English type.
        A clause worded as in ``previous``, classified by this same analyzer, keeps
        that classification (a clause's labels depend on its text and its
        document's type, which ``previous`` shares): an edit to one paragraph
        classifies that paragraph, not the whole policy again.
        """
        clauses = splitter.split_clauses(text)
        language = language or detect_language(text)
        if language not in self.languages:
            unread = Classification(types=(), reason=not_analysed_reason(language))
            return tuple(ClassifiedClause(c, unread) for c in clauses)
        known = self._known_labels(previous)
        new = list(dict.fromkeys(c.text for c in clauses if c.text not in known))
        labels = self.model.classify(new, privacy_policy=document_type in PRIVACY_POLICY_TYPES)
        known.update(zip(new, labels, strict=True))
        return tuple(ClassifiedClause(c, known[c.text]) for c in clauses)

    def _known_labels(self, previous: StoredVersion | None) -> dict[str, Classification]:
        """The classifications of ``previous``'s clauses by text, if this analyzer made them."""
        if previous is None or previous.version.analyzed_with != self.analyzer_id:
            return {}
        return {c.clause.text: c.classification for c in previous.clauses}

    def __call__(self, previous: StoredVersion | None, text: str, document_type: str | None = None) -> VersionAnalysis:
        """``text`` analysed as the new version of a document of ``document_type`` whose current version is ``previous``."""
        language = detect_language(text)
        classified = self.classify_text(text, language, previous, document_type)
        aligned, change = alignment.build_change(previous, text, sha256_text(text), classified)
        stated, label = dates.find_stated_date(text)
        return VersionAnalysis(
            clauses=aligned, change=change, stated_date=stated, stated_date_label=label, analyzer=self.analyzer_id,
            language=language,
        )

    def reanalyse(self, version: StoredVersion, previous: StoredVersion | None,
                  document_type: str | None = None) -> VersionAnalysis:
        """A stored version classified again (``clausewatch analyze``), its clause keys kept.

        Keys come from the version's own old clauses, or, for a version never
        analysed, from the document's previous version, by the same alignment a
        new version gets: unchanged texts keep their keys, so provision records
        keep their ids. Nothing changed between versions: the analysis carries no change.
        """
        reference = version if version.clauses else previous
        return replace(self(reference, version.text, document_type), change=None)

"""Training-side features: the n-gram vocabulary and its statistics per feature space.

Inference (``analysis.classifier``) computes the same TF-IDF rows with numpy alone; this module
adds what training needs on top (document frequencies, scipy matrices). scipy is imported where
a matrix is built, so reading this module costs nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from analysis import classifier
from analysis.taxonomy import CLAUDETTE_TYPES
from analysis.training.data import APPSI_TYPES, GUIDELINES_SOURCE, PRIVACY_SOURCES, Example

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

NGRAM_SIZES = (1, 2)
MIN_DF = 2
# CLAUDETTE labels one operative sentence of an arbitration section as unfair; the other sentences of the
# section look alike. A label with a gate learns (and is applied) only where its gate matches, which
# separates the operative sentence from its neighbours far better than one model over every sentence
# (grouped CV over the 40 documents: arbitration F1 0.62 → 0.74, see docs/decisions/0009-classifier-v2.md).
# The gate names the forums newer terms cite without the word "arbitration" nearby (JAMS, ICC, AAA, small claims).
GATES: dict[str, str] = {
    "arbitration": r"arbitrat|arbitral|\bJAMS\b|\bICC\b|small[- ]claims|\bAAA\b|dispute resolution",
}

# --- features -----------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """The n-grams kept as features (sorted) and, per feature space, their smoothed inverse document
    frequencies; a term too rare in a space's own texts has idf 0 there (it is not a feature of that space)."""

    terms: tuple[str, ...]
    idf: np.ndarray  # (spaces, terms)

    @classmethod
    def fit(cls, spaces: Sequence[Sequence[str]], min_dfs: Sequence[int], sizes: Sequence[int] = NGRAM_SIZES,
            ) -> Vocabulary:
        """``spaces[0]`` holds every text; the other spaces are subsets of it with their own statistics;
        a term is a feature of a space when ``min_dfs[space]`` of its texts hold it."""
        frequencies = [_document_frequency(texts, sizes) for texts in spaces]
        terms = tuple(sorted(t for t, df in frequencies[0].items() if df >= min_dfs[0]))
        idf = np.zeros((len(spaces), len(terms)))
        for s, (texts, frequency) in enumerate(zip(spaces, frequencies, strict=True)):
            df = np.array([frequency.get(t, 0) for t in terms], dtype=np.float64)
            # The smoothed idf of scikit-learn's TfidfTransformer: as if one document held every term.
            idf[s] = np.where(df >= min_dfs[s], np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0, 0.0)
        return cls(terms, idf)

    def rows(self, texts: Iterable[str], space: int = 0, sizes: Sequence[int] = NGRAM_SIZES) -> csr_matrix:
        from scipy.sparse import csr_matrix

        index = {t: i for i, t in enumerate(self.terms)}
        rows = classifier.tfidf_rows(texts, index, self.idf[space], sizes)
        return csr_matrix((rows.data, rows.indices, rows.indptr), shape=(len(rows.indptr) - 1, len(self.terms)))


def _document_frequency(texts: Sequence[str], sizes: Sequence[int]) -> Counter[str]:
    frequency: Counter[str] = Counter()
    for text in texts:
        frequency.update(set(classifier.ngrams(text, sizes)))
    return frequency



# --- feature spaces -------------------------------------------------------------

# One vocabulary, three sets of statistics. The CLAUDETTE types (and the severity model) see the features the
# CLAUDETTE sentences alone give: terms of 2+ of its sentences, weighted by their rarity there. Mixed with the
# ToS;DR and privacy-policy texts, their idf and norms shifted and grouped CV lost a point of macro-F1. The
# gated arbitration model sees the statistics of the CLAUDETTE sentences its gate lets through, where a term
# of one sentence already counts (what separates the operative sentence from its neighbours is rare there).
# The APPSI-139 types see the statistics of the texts they learn from (``data.PRIVACY_SOURCES``: the privacy
# policies' sentences and the CLAUDETTE terms of service as negatives), without the ToS;DR quotes (0027).
FEATURE_SPACES = ("all", "claudette", "arbitration", "privacy")
CLAUDETTE_SPACE = 1
ARBITRATION_SPACE = 2
PRIVACY_SPACE = 3
MIN_DFS = (MIN_DF, MIN_DF, 1, MIN_DF)


def space_of(label: str) -> int:
    if label == "arbitration":
        return ARBITRATION_SPACE
    if label in APPSI_TYPES:
        return PRIVACY_SPACE
    return CLAUDETTE_SPACE if label in CLAUDETTE_TYPES.values() else 0


def space_texts(examples: Sequence[Example]) -> list[list[str]]:
    """The texts whose statistics make each feature space.

    CUAD's contract spans count in none: with them in the statistics of "all", the idf of every type learned
    there shifted, and types CUAD says nothing of moved on their own data (docs/decisions/0023-cuad.md). Nor do
    the community guidelines' sentences, which only the privacy types see, as negatives (0029).
    """
    claudette = [e.text for e in examples if e.source == "claudette"]
    gate = re.compile(GATES["arbitration"], re.IGNORECASE)
    policies = [e.text for e in examples if e.source not in ("cuad", GUIDELINES_SOURCE)]
    privacy = [e.text for e in examples if e.source in PRIVACY_SOURCES]
    return [policies, claudette, [t for t in claudette if gate.search(t)], privacy]

"""Clause classification (placeholder: classifies nothing; the trained classifier replaces it)."""

from __future__ import annotations

from collections.abc import Sequence

from analysis.domain import Classification

ANALYZER_ID = "placeholder-0"


class Classifier:
    analyzer_id = ANALYZER_ID

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        return [Classification(types=(), severity="low", confidence=0.0, reason="not classified") for _ in texts]


def load_default() -> Classifier:
    return Classifier()

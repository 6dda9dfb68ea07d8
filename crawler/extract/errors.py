"""The one error extraction raises: a body that gave no trustworthy text."""

from __future__ import annotations

from analysis.domain import ERROR_KINDS
from analysis.volatile import VolatileRules

# The default "no learned volatile values" for every entry point.
NO_RULES = VolatileRules()


class ExtractionError(Exception):
    """A fetched body gave no trustworthy text; ``kind`` is one of ``ERROR_KINDS``."""

    def __init__(self, kind: str, detail: str) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown extraction error kind {kind!r}")
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail

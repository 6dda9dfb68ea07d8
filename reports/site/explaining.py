"""The plain-language analysis of a provision (SPEC §5), for record pages.

The curated, versioned templates per clause type belong to ``analysis.explain``.
A type without a template gets a minimal fallback with the same fields: it
says only what the classification states and marks every section as not
analysed yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis import explain as _explain
from analysis.domain import ClassifiedClause
from analysis.prevalence import Prevalence

_NOT_YET = "Not analysed yet for this clause type: only the classification shown above is available."


@dataclass(frozen=True)
class FallbackExplanation:
    """The fields of ``analysis.explain.Explanation`` that record pages show."""

    what_it_is: str
    why_it_matters: str = _NOT_YET
    consumer_impact: str = _NOT_YET
    regulatory_landscape: str = _NOT_YET
    agencies: tuple = ()
    regulations: tuple = ()
    jurisdiction_flags: tuple[str, ...] = ()
    stated_facts: tuple = ()
    inferred_facts: tuple = ()
    interpretive_note: str = "No curated analysis exists for this clause type yet; nothing here is inferred."
    template_version: str = "fallback"
    title: str = ""

    def faq(self, platform_name: str, prevalence: Prevalence | None = None) -> tuple[tuple[str, str], ...]:
        """The same questions as ``analysis.explain.Explanation.faq``, for the sections this one has."""
        pairs = [(f"What does {platform_name}'s {self.title} clause do?", self.what_it_is)]
        if prevalence is not None:
            pairs.append(("How many platforms have this type of clause?",
                          f"{prevalence.count} of the {prevalence.total} tracked platforms ({prevalence.label.lower()})."))
        return tuple(pairs)


def explain_provision(clause_type: str, title: str, platform: str, clauses: Sequence[ClassifiedClause]):
    """The analysis sections of a provision whose current clauses are ``clauses``."""
    if clauses:
        try:
            return _explain.explain(clause_type, clauses, platform)
        except _explain.TemplateError:
            pass
    return _fallback(title, platform, clauses)


def _fallback(title: str, platform: str, clauses: Sequence[ClassifiedClause]) -> FallbackExplanation:
    if not clauses:
        return FallbackExplanation(f"{platform}'s current text no longer contains a clause classified as {title}.",
                                   title=title)
    what = f"{platform}'s document contains {len(clauses)} clause(s) classified as {title}."
    reason = clauses[0].classification.reason
    return FallbackExplanation(what + (f" Classifier's reason: {reason}" if reason else ""), title=title)

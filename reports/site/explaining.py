"""The plain-language analysis of a provision (SPEC §5), for record pages.

The curated, versioned templates per clause type belong to ``analysis.explain``;
until that module is present, a minimal fallback says only what the
classification itself states and marks everything else as not yet analysed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.domain import ClassifiedClause

try:  # the analysis engineers' curated explanations, when installed
    from analysis import explain as _explain
except ImportError:  # pragma: no cover - depends on what has landed
    _explain = None


@dataclass(frozen=True)
class Agency:
    name: str
    role: str
    url: str | None = None


@dataclass(frozen=True)
class Regulation:
    name: str
    region: str = ""


@dataclass(frozen=True)
class Explanation:
    what_it_is: str
    why_it_matters: str
    consumer_impact: str
    regulatory_landscape: str
    jurisdiction_flags: tuple[str, ...] = ()
    agencies: tuple[Agency, ...] = ()
    regulations: tuple[Regulation, ...] = ()
    inferred_points: tuple[str, ...] = field(default=())
    source: str = "fallback"


_NOT_YET = "Not analysed yet for this clause type: only the classification below is available."


def explain_provision(clause_type: str, title: str, platform: str, clauses: Sequence[ClassifiedClause]) -> Explanation:
    """The analysis sections of a provision whose current clauses are ``clauses`` (most severe first)."""
    if _explain is not None and hasattr(_explain, "explain"):
        return _from_analysis(_explain.explain(clause_type, [c.clause.text for c in clauses], platform=platform))
    return _fallback(title, platform, clauses)


def _fallback(title: str, platform: str, clauses: Sequence[ClassifiedClause]) -> Explanation:
    if not clauses:
        what = f"{platform}'s current text no longer contains a clause classified as {title}."
    else:
        reason = clauses[0].classification.reason
        what = f"{platform}'s document contains {len(clauses)} clause(s) classified as {title}."
        if reason:
            what += f" Classifier's reason: {reason}"
    return Explanation(what_it_is=what, why_it_matters=_NOT_YET, consumer_impact=_NOT_YET,
                       regulatory_landscape=_NOT_YET, inferred_points=("every analysis section",))


def _from_analysis(result) -> Explanation:
    """Adapt ``analysis.explain``'s result, whatever its exact record, to the page's sections."""
    def get(name, default=""):
        return getattr(result, name, None) or (result.get(name) if isinstance(result, dict) else None) or default

    agencies = tuple(
        a if isinstance(a, Agency) else Agency(getattr(a, "name", str(a)), getattr(a, "role", getattr(a, "description", "")),
                                               getattr(a, "url", None))
        for a in get("agencies", ())
    )
    regulations = tuple(
        r if isinstance(r, Regulation) else Regulation(getattr(r, "name", str(r)), getattr(r, "region", ""))
        for r in get("regulations", ())
    )
    return Explanation(
        what_it_is=get("what_it_is"), why_it_matters=get("why_it_matters"), consumer_impact=get("consumer_impact"),
        regulatory_landscape=get("regulatory_landscape"), jurisdiction_flags=tuple(get("jurisdiction_flags", ())),
        agencies=agencies, regulations=regulations, inferred_points=tuple(get("inferred_points", ())),
        source="analysis.explain",
    )

"""What the pages show, derived from the store's data: provisions, clause types, grades.

These are plain functions over :mod:`store.site_data` records; templates get
the results and never compute anything themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analysis import taxonomy
from analysis.domain import ClassifiedClause, severity_rank
from analysis.language import not_analysed_reason
from store.change_records import ChangeRecord
from store.site_data import DocumentInfo, ProvisionInfo

EXCERPT_CHARS = 300


def type_title(clause_type: str) -> str:
    """The SPEC §5 title of a clause type; an unknown type (from a newer classifier) shows its id."""
    known = taxonomy.BY_ID.get(clause_type)
    return known.title if known else clause_type.replace("_", " ").capitalize()


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters, cut at a word, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def clauses_of_type(document: DocumentInfo, clause_type: str) -> list[ClassifiedClause]:
    """The current clauses of a provision, most severe (then most confident) first."""
    found = [c for c in document.clauses if clause_type in c.classification.types]
    return sorted(found, key=lambda c: (-severity_rank(c.classification.severity), -c.classification.confidence,
                                        c.clause.ordinal))


def document_title(document: DocumentInfo) -> str:
    return document.document.spec.title or document.document.type


# --- Grades --------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    letter: str
    explanation: str
    high: int
    medium: int
    low: int


GRADE_RULE = (
    "A: no high-severity provision and at most two medium; B: no high-severity provision; "
    "C: one high-severity provision; D: two or three; E: four or more."
)


def grade(severities: Iterable[str]) -> Grade:
    """A–E from the severities of a platform's provisions (each provision counted once)."""
    counts = Counter(severities)
    high, medium, low = counts["high"], counts["medium"], counts["low"]
    if not (high or medium or low):
        return Grade("–", "Not graded: no provision of this platform has been classified yet.", 0, 0, 0)
    if high >= 4:
        letter = "E"
    elif high >= 2:
        letter = "D"
    elif high == 1:
        letter = "C"
    else:
        letter = "B" if medium > 2 else "A"
    explanation = (
        f"Grade {letter}: {high} high-severity, {medium} medium-severity and {low} low-severity "
        f"provisions across the platform's tracked documents. {GRADE_RULE}"
    )
    return Grade(letter, explanation, high, medium, low)


def provision_severity(document: DocumentInfo, clause_type: str) -> str | None:
    clauses = clauses_of_type(document, clause_type)
    return clauses[0].classification.severity if clauses else None


def not_analysed(document: DocumentInfo) -> str | None:
    """"not analysed: language fr" when the current version is in a language no model reads, else None."""
    current = document.current
    if current is None or not current.language or not document.clauses:
        return None
    reason = not_analysed_reason(current.language)
    return reason if all(c.classification.reason == reason for c in document.clauses) else None


def platform_grade(documents: Sequence[DocumentInfo]) -> Grade:
    """The grade of the documents that were analysed; those that were not are named, never graded."""
    severities = []
    skipped = []
    for doc in documents:
        if reason := not_analysed(doc):
            skipped.append(f"{document_title(doc)} ({reason})")
            continue
        for provision in doc.provisions:
            severity = provision_severity(doc, provision.clause_type)
            if severity:
                severities.append(severity)
    result = grade(severities)
    if not skipped:
        return result
    note = "Not graded: " + "; ".join(skipped) + "."
    if result.letter == "–":
        return Grade("–", note, 0, 0, 0)
    return Grade(result.letter, f"{result.explanation} {note}", result.high, result.medium, result.low)


# --- Monitoring history ---------------------------------------------------------


def changes_of_provision(document: DocumentInfo, provision: ProvisionInfo) -> list[ChangeRecord]:
    """Changes of the document that concern the provision record (:func:`store.change_records.provision_links`)."""
    return [change for change in document.changes
            if any(provision.id in c.record_ids for c in change.clause_changes)]

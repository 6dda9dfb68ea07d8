"""The domain concepts of clausewatch as frozen dataclasses (SPEC §2).

They are separate from the SQLAlchemy models in ``store/``; ``store/mapping.py``
is the one mapper between the two. Every other package speaks in these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from analysis.text import sha256_text
from analysis.volatile import VolatileRules

FETCHERS = ("http", "browser")
SEVERITIES = ("low", "medium", "high")
BASES = ("explicit", "inferred")
FETCH_OUTCOMES = ("new_version", "unchanged", "not_modified", "failed")
ERROR_KINDS = (
    "http_3xx",
    "http_4xx",
    "http_5xx",
    "timeout",
    "dns",
    "connection",
    "truncated",
    "framing",
    "redirect_loop",
    "redirect_refused",
    "selector_missing",
    "empty",
    "too_large",
    "suspicious_shrink",
    "robots_disallowed",
    "bot_wall",
    "not_text",
    "decode",
    "catalog_error",
    "error",
)
CLAUSE_CHANGE_KINDS = ("added", "removed", "modified", "moved")


def severity_rank(severity: str | None) -> int:
    """0 for none, then low < medium < high."""
    return SEVERITIES.index(severity) + 1 if severity in SEVERITIES else 0


# --- Catalog -----------------------------------------------------------------


@dataclass(frozen=True)
class RangeSelector:
    """An Open Terms Archive range: content between two CSS-selected elements."""

    start_before: str | None = None
    start_after: str | None = None
    end_before: str | None = None
    end_after: str | None = None


Selector = str | RangeSelector


@dataclass(frozen=True)
class SourceSpec:
    """One page (or PDF) a document is made of; several are combined in order."""

    url: str
    select: tuple[Selector, ...] = ()
    remove: tuple[Selector, ...] = ()
    filters: tuple[str, ...] = ()
    execute_client_scripts: bool = False


@dataclass(frozen=True)
class HistoricalDeclaration:
    """A past declaration of a document, valid for snapshots taken until ``valid_until``."""

    valid_until: datetime
    sources: tuple[SourceSpec, ...]


@dataclass(frozen=True)
class DocumentSpec:
    """A tracked document as declared in the catalog."""

    platform: str
    type: str
    sources: tuple[SourceSpec, ...]
    fetcher: str = "http"
    schedule_group: str = "default"
    tags: tuple[str, ...] = ()
    obey_robots: bool = True
    history: tuple[HistoricalDeclaration, ...] = ()
    # The platform's own name for the document when it differs from the type
    # ("Terms of API Paid Service" for a "Developer Terms" document).
    title: str | None = None
    # Declared volatile values (catalog key ``volatile``), and the learned ones
    # an operator said are content after all (``volatile.keep``).
    volatile: VolatileRules = VolatileRules()
    volatile_keep: frozenset[str] = frozenset()

    def volatile_rules(self, learned: VolatileRules) -> VolatileRules:
        """The rules a version of this document is normalised with: declared plus learned, less the kept."""
        return self.volatile.merged(learned.without(self.volatile_keep))

    @property
    def key(self) -> str:
        """``platform/type``: unique in a catalog."""
        return f"{self.platform}/{self.type}"

    @property
    def url(self) -> str:
        return self.sources[0].url


@dataclass(frozen=True)
class PlatformSpec:
    """A tracked platform and its documents, from one catalog file."""

    slug: str
    name: str
    documents: tuple[DocumentSpec, ...]
    homepage: str | None = None
    jurisdictions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source_file: str | None = None


# --- Archive -----------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Raw bytes exactly as fetched (stored as a blob keyed by ``sha256``)."""

    sha256: str
    document_id: str
    requested_url: str
    final_url: str
    status: int
    content_type: str | None
    fetched_at: datetime
    fetcher: str = "http"
    etag: str | None = None
    last_modified: str | None = None
    size: int = 0

    @property
    def archive_link(self) -> str:
        """The Wayback Machine address of the page as it stood at capture time."""
        return f"https://web.archive.org/web/{self.fetched_at:%Y%m%d%H%M%S}/{self.requested_url}"


@dataclass(frozen=True)
class Version:
    """Normalised text extracted from one or more identical-text snapshots."""

    sha256: str
    document_id: str
    first_seen: datetime
    last_verified: datetime
    snapshot_sha256s: tuple[str, ...] = ()
    stated_date: str | None = None
    technical: bool = False
    language: str | None = None  # ISO 639-1 code, None until detected
    # The analyzer id its clauses were classified with (None: never analysed); not part of the version's identity.
    analyzed_with: str | None = field(default=None, compare=False)


# --- Analysis ----------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """One provision of a version."""

    ordinal: int
    heading_path: tuple[str, ...]
    text: str
    key: str = ""

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)

    @property
    def heading(self) -> str:
        """The heading path as shown to people: ``8. Conduct › 8.2``."""
        return " › ".join(self.heading_path)


@dataclass(frozen=True)
class Classification:
    """What a clause is, how severe, how sure, and why."""

    types: tuple[str, ...]
    severity: str = "low"
    confidence: float = 0.0
    evidence: tuple[str, ...] = ()
    basis: str = "inferred"
    reason: str = ""


@dataclass(frozen=True)
class ClassifiedClause:
    clause: Clause
    classification: Classification


@dataclass(frozen=True)
class FactChange:
    """A specific of a reworded clause that moved: "liability cap: US$100 → US$50".

    ``against_user`` is True when the move is against the user (a lower cap, a
    shorter notice), False when in the user's favour, None when it has no
    direction (another court, another law) or none can be told.
    """

    fact: str
    label: str
    before: str | None
    after: str | None
    against_user: bool | None = None

    @property
    def summary(self) -> str:
        return f"{self.label}: {self.before or 'none'} → {self.after or 'none'}"


@dataclass(frozen=True)
class ClauseChange:
    """How one clause moved between two consecutive versions."""

    kind: str
    clause_key: str
    heading_path: tuple[str, ...]
    before: str | None
    after: str | None
    severity_before: str | None = None
    severity_after: str | None = None
    similarity: float | None = None
    facts: tuple[FactChange, ...] = ()

    @property
    def raises_severity(self) -> bool:
        """True for a clause that became more severe, a new high-severity clause, or a fact moved against the user.

        A liability cap cut from US$100 to US$50 keeps its type and grade, yet is
        worse for the user: the moved fact raises the change's severity.
        """
        if self.kind == "added":
            return self.severity_after == "high"
        if self.kind == "removed":
            return False
        if any(fact.against_user for fact in self.facts):
            return True
        return severity_rank(self.severity_after) > severity_rank(self.severity_before)


@dataclass(frozen=True)
class Change:
    """The difference between two consecutive versions of a document."""

    from_version: str | None
    to_version: str
    clause_changes: tuple[ClauseChange, ...] = ()
    substantive: bool = True
    severity_raised: bool = False
    cosmetic_reason: str | None = None
    diff: tuple[tuple[int, str], ...] = field(default=(), repr=False)


# --- Stored records ----------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A tracked document as the store knows it, with its stable public id."""

    id: str
    platform: str
    platform_name: str
    type: str
    url: str
    spec: DocumentSpec
    in_catalog: bool = True


@dataclass(frozen=True)
class StoredVersion:
    """A version with its text and analysed clauses, as read back from the store."""

    version: Version
    text: str
    clauses: tuple[ClassifiedClause, ...] = ()


@dataclass(frozen=True)
class VersionAnalysis:
    """Everything derived from a new version's text, stored in the version's transaction."""

    clauses: tuple[ClassifiedClause, ...]
    change: Change | None = None
    stated_date: str | None = None
    stated_date_label: str | None = None
    analyzer: str = ""
    language: str | None = None

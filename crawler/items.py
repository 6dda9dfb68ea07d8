"""What the spider hands to the recording pipeline: one item per document checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from analysis.domain import Snapshot, SourceSpec
from analysis.evidence import HttpExchange


@dataclass(frozen=True)
class FetchedPart:
    """One source of a document, fetched: its raw body and the snapshot describing it; ``hops`` are the redirects
    followed on the way to it, each archived as an exchange of its own before the page's."""

    snapshot: Snapshot
    body: bytes = field(repr=False)  # a page's bytes are hostile and large: never in a log line (Scrapy logs items)
    source: SourceSpec
    exchange: HttpExchange | None = None
    hops: tuple[HttpExchange, ...] = ()

    @property
    def exchanges(self) -> list[HttpExchange]:
        """The part's exchanges as they went over the wire: its redirects, then the page."""
        return [*self.hops, self.exchange] if self.exchange is not None else [*self.hops]


@dataclass
class FetchedDocument:
    """Every source of a document fetched successfully (one part unless the declaration combines)."""

    document_id: str
    started_at: datetime
    finished_at: datetime
    parts: list[FetchedPart] = field(default_factory=list)

    @property
    def exchanges(self) -> list[HttpExchange]:
        return [exchange for p in self.parts for exchange in p.exchanges]


@dataclass
class NotModifiedDocument:
    """The server answered 304 to our conditional request: the stored version is still current."""

    document_id: str
    started_at: datetime
    finished_at: datetime
    exchanges: list[HttpExchange] = field(default_factory=list)


@dataclass
class FailedDocument:
    """A fetch that failed; ``part`` keeps an error page as evidence when there was one."""

    document_id: str
    started_at: datetime
    finished_at: datetime
    kind: str
    detail: str
    part: FetchedPart | None = None
    exchanges: list[HttpExchange] = field(default_factory=list)

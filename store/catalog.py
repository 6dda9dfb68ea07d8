"""The catalog repository: platforms and documents, and each document's state at a glance."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from analysis.domain import Document, PlatformSpec
from store import mapping
from store.database import Database, StoreError, chunks, document_row
from store.health import NEVER_FETCHED, fetch_health
from store.tables import DocumentRow, FetchRow, PlatformRow, VersionRow

_ROWS_PER_BATCH = 500


# What ``status`` shows of each document, its platform's slug and its current version's, in one query.
_STATUS_ROWS = (
    select(DocumentRow.id, DocumentRow.public_id, DocumentRow.type, DocumentRow.url, DocumentRow.in_catalog,
           PlatformRow.slug, VersionRow.last_verified, VersionRow.language)
    .join(PlatformRow, PlatformRow.id == DocumentRow.platform_id)
    .outerjoin(VersionRow, VersionRow.id == DocumentRow.current_version_id)
    .order_by(DocumentRow.id)
)


@dataclass(frozen=True)
class DocumentStatus:
    id: str
    platform: str
    type: str
    url: str
    versions: int
    fetches: int
    failures: int
    consecutive_failures: int
    last_outcome: str | None
    last_error_kind: str | None
    last_verified: datetime | None
    in_catalog: bool
    language: str | None = None  # of the current version, as detected


@dataclass(frozen=True)
class StoredDocuments:
    """The store's documents as an iterable read ``batch`` rows at a time, so a catalog of any
    size is never in memory at once. Each iteration reads the store afresh, so a crawl can go
    through the documents twice (once for its set-up, once to fetch them)."""

    db: Database
    batch: int = _ROWS_PER_BATCH

    def __iter__(self) -> Iterator[Document]:
        after = 0
        while batch := self._batch_after(after):
            after = batch[-1][0]
            yield from (document for _, document in batch)

    def _batch_after(self, after: int) -> list[tuple[int, Document]]:
        """The next batch by row id, in a short session of its own: a crawl reading the
        catalog as it goes holds no transaction open while its recording threads write."""
        with self.db.session() as session:
            rows = session.scalars(select(DocumentRow).options(joinedload(DocumentRow.platform))
                                   .where(DocumentRow.id > after).order_by(DocumentRow.id).limit(self.batch))
            return [(row.id, mapping.document_from_row(row)) for row in rows]


class Catalog:
    """Platforms and documents: synced from the catalog files, listed, looked up."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def sync_catalog(
        self, platforms: Iterable[PlatformSpec], *, now: datetime, retire_missing: bool = False
    ) -> None:
        """Insert or update every platform and document; ids of known documents never change.

        ``platforms`` is read once, so it may be a generator. A tracked document
        absent from ``platforms`` stays tracked (its history and its failures
        stay visible) unless ``retire_missing`` says the catalog is complete and
        its absence is meant: only ``clausewatch init`` does that. The synced
        documents are read back with :meth:`each_document` or :meth:`documents`:
        returning them all made every sync hold the whole catalog twice.
        """
        try:
            self._sync(platforms, now=now, retire_missing=retire_missing)
        except IntegrityError as exc:  # a platform or document another process inserted between our read and write
            raise StoreError("another process synced its catalog into this store at the same moment; nothing of "
                             "this sync was kept: run the command again") from exc

    def _sync(self, platforms: Iterable[PlatformSpec], *, now: datetime, retire_missing: bool) -> None:
        with self.db.session() as session:
            kept: set[int] = set()
            specs = iter(platforms)
            while chunk := list(islice(specs, _ROWS_PER_BATCH)):  # read as it goes: ``platforms`` may be a generator
                synced = self._upsert_chunk(session, chunk, now)
                if retire_missing:
                    kept.update(synced)
            if retire_missing:
                # Documents dropped from the catalog keep their history but are no longer crawled.
                # Ids only: loading every row at once made the sync's peak memory grow with the catalog.
                listed = session.scalars(select(DocumentRow.id).where(DocumentRow.in_catalog.is_(True))).all()
                dropped = [document_id for document_id in listed if document_id not in kept]
                for ids in chunks(dropped):
                    session.execute(update(DocumentRow).where(DocumentRow.id.in_(ids)).values(in_catalog=False))

    def _upsert_chunk(self, session: Session, specs: list[PlatformSpec], now: datetime) -> list[int]:
        """Insert or update a chunk of platforms and their documents; their document row ids.

        The chunk's existing rows are read in two queries and written in one
        flush (a query and a flush per platform and per document cost ~1.3 ms
        CPU per document of every command that syncs). Rows are added in
        catalog order, so new documents get the ids a row-by-row sync gave.
        """
        platforms = {row.slug: row for row in session.scalars(
            select(PlatformRow).where(PlatformRow.slug.in_({spec.slug for spec in specs})))}
        documents = {(row.platform_id, row.type): row for row in session.scalars(
            select(DocumentRow).where(DocumentRow.platform_id.in_([row.id for row in platforms.values()])))}
        for spec in specs:
            self._upsert_platform(session, platforms, spec)
        session.flush()  # new platforms' ids, for their documents
        synced, created = [], []
        for spec in specs:
            platform = platforms[spec.slug]
            for doc in spec.documents:
                row, new = self._upsert_document(session, documents, platform, doc, now)
                synced.append(row)
                if new:
                    created.append(row)
        session.flush()
        for row in created:
            # The public id derives from the primary key, known only after the insert.
            row.public_id = f"CW-D-{row.id:05d}"
        session.flush()
        return [row.id for row in synced]

    @staticmethod
    def _upsert_platform(session: Session, rows: dict[str, PlatformRow], spec: PlatformSpec) -> None:
        row = rows.get(spec.slug)
        if row is None:
            row = rows[spec.slug] = PlatformRow(slug=spec.slug)
            session.add(row)
        row.name = spec.name
        row.homepage = spec.homepage
        row.jurisdictions = list(spec.jurisdictions)
        row.tags = list(spec.tags)

    @staticmethod
    def _upsert_document(session: Session, rows: dict[tuple[int, str], DocumentRow], platform: PlatformRow, spec,
                         now: datetime) -> tuple[DocumentRow, bool]:
        row = rows.get((platform.id, spec.type))
        created = row is None
        if created:
            row = rows[(platform.id, spec.type)] = DocumentRow(
                platform_id=platform.id, type=spec.type, public_id="~" + uuid.uuid4().hex[:16], created_at=now)
            session.add(row)
        row.url = spec.url
        row.spec = mapping.spec_to_json(spec)
        row.fetcher = spec.fetcher
        row.schedule_group = spec.schedule_group
        row.tags = list(spec.tags)
        row.in_catalog = True
        return row, created

    def documents(self) -> list[Document]:
        """Every document of the store, in id order."""
        return list(self.each_document())

    def each_document(self) -> StoredDocuments:
        """Every document of the store, in id order, read a batch at a time each time it is iterated."""
        return StoredDocuments(self.db)

    def document(self, document_id: str) -> Document:
        with self.db.session() as session:
            return mapping.document_from_row(document_row(session, document_id))


    def status(self) -> list[DocumentStatus]:
        """One line per document of the store, crawled or not; failures counted by :mod:`store.health`.

        A few statements whatever the number of documents: each document's platform and current version are read
        in the documents' query (read apart, they were two statements a document, 20,000 for 10,000 documents).
        """
        with self.db.session() as session:
            counts = self._fetch_counts(session)
            version_counts = dict(session.execute(
                select(VersionRow.document_id, func.count()).where(VersionRow.folded_into_id.is_(None))
                .group_by(VersionRow.document_id)
            ).all())
            health = fetch_health(session)
            return [_status_line(row, counts.get(row.id, (0, 0)), version_counts.get(row.id, 0),
                                 health.get(row.id, NEVER_FETCHED)) for row in session.execute(_STATUS_ROWS)]

    @staticmethod
    def _fetch_counts(session: Session) -> dict[int, tuple[int, int]]:
        failed = func.sum(case((FetchRow.outcome == "failed", 1), else_=0))
        rows = session.execute(select(FetchRow.document_id, func.count(), failed).group_by(FetchRow.document_id))
        return {doc_id: (total, int(fails or 0)) for doc_id, total, fails in rows}


def _status_line(row, counts: tuple[int, int], versions: int, health) -> DocumentStatus:
    """A row of :data:`_STATUS_ROWS` as ``status`` shows it, with its fetches (all, failed) and versions counted."""
    return DocumentStatus(
        id=row.public_id, platform=row.slug, type=row.type, url=row.url,
        versions=versions, fetches=counts[0], failures=counts[1], consecutive_failures=health.consecutive_failures,
        last_outcome=health.last_outcome, last_error_kind=health.last_error_kind,
        last_verified=row.last_verified, in_catalog=row.in_catalog, language=row.language,
    )

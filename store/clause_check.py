"""Every stored clause against its version's text: what ``verify`` checks of the analysis.

A clause row holds its text and the SHA-256 of that text; the version it
belongs to is a blob named by its own hash. A clause whose text was edited in
the database (its hash left as it was, or recomputed) is found here: it must
hash to its recorded SHA-256 and stand verbatim in its version's text, as an
evidence bundle proves it (``reports.evidence.clause_offsets``). Versions whose
blob is missing or corrupt are skipped: the blob check, which has hashed every
blob already, names them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from sqlalchemy import select

from analysis.text import sha256_bytes
from store.blobs import BlobError
from store.database import chunks
from store.tables import ClauseRow, DocumentRow, VersionRow

# Versions whose clauses are read in one query: a few hundred clauses each, a bounded memory.
_VERSIONS_AT_ONCE = 200


def check_clauses(store, skip: Collection[str] = ()) -> Iterator[str]:
    """One line per clause that is not its recorded text or not in its version's text (or is empty). Versions whose
    blob is in ``skip`` (the blob check found it wrong) are not read: a blob tampered into a zlib bomb would be
    inflated whole here, and one edited would make every clause of its version a problem of its own."""
    with store.session() as session:
        versions = session.execute(
            select(VersionRow.id, VersionRow.sha256, DocumentRow.public_id)
            .join(DocumentRow, DocumentRow.id == VersionRow.document_id)
            .order_by(VersionRow.id)).all()
    for chunk in chunks(versions, _VERSIONS_AT_ONCE):
        with store.session() as session:
            rows = session.execute(
                select(ClauseRow.version_id, ClauseRow.ordinal, ClauseRow.text, ClauseRow.sha256)
                .where(ClauseRow.version_id.in_([version_id for version_id, _sha, _doc in chunk]))
                .order_by(ClauseRow.version_id, ClauseRow.ordinal)).all()
        clauses: dict[int, list] = {}
        for row in rows:
            clauses.setdefault(row.version_id, []).append(row)
        for version_id, sha, document in chunk:
            if version_id in clauses and sha not in skip:
                yield from _version_problems(store, sha, document, clauses[version_id])


def _version_problems(store, sha: str, document: str, clauses: list) -> Iterator[str]:
    try:
        text = store.blobs.get(sha).decode("utf-8")
    except (BlobError, UnicodeDecodeError):
        return  # the blob check says what is wrong with it
    for clause in clauses:
        where = f"{document} version {sha[:12]} clause {clause.ordinal}"
        if not clause.text.strip():  # "" is in every text
            yield f"{where}: its text is empty"
        elif sha256_bytes(clause.text.encode("utf-8")) != clause.sha256:
            yield f"{where}: its text does not hash to the SHA-256 recorded with it"
        elif clause.text not in text:
            yield f"{where}: its text is not in the version's text"

"""Citations of archived texts: plain text and BibTeX, naming the exact version cited.

A citation names the version SHA-256 that was in force on the cited date (not
only the latest), the dates it was in force, the snapshot it was read from,
and the stable page of that version. Record pages, version pages and
``clausewatch show --cite`` all build their citations here.

A citation names one capture: one page of one logged fetch, its URL, time and
snapshot, and its index in the capture log (the Merkle log of every capture).
:class:`Captures` is the hook that finds it (``store.citing.CitedCaptures``);
:data:`NO_CAPTURES` finds none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Protocol


class CapturedPage(Protocol):
    log_index: int
    url: str
    captured_at: datetime
    snapshot_sha256: str | None


class Captures(Protocol):
    """Which capture a citation names (store/citing.py says how it is chosen)."""

    def first(self, document_id: str, version_sha256: str, part: int = 0) -> CapturedPage | None:
        """Page ``part`` of the capture that first recorded the version."""

    def at(self, document_id: str, version_sha256: str, moment: datetime, part: int = 0) -> CapturedPage | None:
        """Page ``part`` of the latest capture by ``moment`` that read as the version."""

    def part_of(self, document_id: str, version_sha256: str, clause_type: str) -> int:
        """The page of the document the version's clauses of ``clause_type`` came from."""


class _NoCaptures:
    def first(self, document_id: str, version_sha256: str, part: int = 0) -> None:
        return None

    def at(self, document_id: str, version_sha256: str, moment: datetime, part: int = 0) -> None:
        return None

    def part_of(self, document_id: str, version_sha256: str, clause_type: str) -> int:
        return 0


NO_CAPTURES: Captures = _NoCaptures()


@dataclass(frozen=True)
class Citation:
    """What is cited: a document (or one provision of it) as a given version stood."""

    entity: str
    document: str
    document_id: str
    version_sha256: str
    in_force_from: datetime
    in_force_until: datetime | None  # None: still in force at the last capture, or not stated
    url: str  # the stable page of the version (or the record page for the current text)
    still_in_force: bool = True  # False on a version's own page, which never changes once published
    version_url: str | None = None  # the version's own page, when ``url`` is another page
    record_id: str | None = None
    provision: str | None = None
    cited_at: datetime | None = None  # the date the reader cites, when not "now"
    snapshot_sha256: str | None = None
    captured_at: datetime | None = None
    log_index: int | None = None
    source_url: str | None = None  # the page the snapshot was captured from

    @classmethod
    def of_capture(cls, capture: CapturedPage | None, **fields) -> Citation:
        """A citation naming ``capture`` (nothing of a capture when None)."""
        if capture is None:
            return cls(**fields)
        return cls(**fields, snapshot_sha256=capture.snapshot_sha256, captured_at=capture.captured_at,
                   log_index=capture.log_index, source_url=capture.url)

    @property
    def title(self) -> str:
        base = f"{self.entity}, {self.document}"
        return f"{base}: {self.provision}" if self.provision else base

    @property
    def key(self) -> str:
        key = f"clausewatch-{self.record_id or self.document_id}-{self.version_sha256[:12]}"
        if not self.cited_at:
            return key
        return key + (f"-{self.cited_at:%Y%m%d}" if _whole_day(self.cited_at) else
                      f"-{self.cited_at.astimezone(UTC):%Y%m%dT%H%M%S}")

    def _in_force(self) -> str:
        until = self.in_force_until
        # Two versions in force on one day are told apart by the time of the change.
        same_day = until is not None and _day(until) == _day(self.in_force_from)
        shown = _time if same_day else _day
        since = f"in force from {shown(self.in_force_from)}"
        if until:
            return f"{since} until {shown(until)}"
        return f"{since}, still in force at the last capture" if self.still_in_force else since

    def plain_text(self) -> str:
        lines = [f"Entity: {self.entity}", f"Document: {self.document} ({self.document_id})"]
        if self.provision:
            lines += [f"Provision: {self.provision}", f"Record ID: {self.record_id}"]
        if self.cited_at:
            lines.append(f"As it stood on: {_cited(self.cited_at)}")
        lines += [f"Version SHA-256: {self.version_sha256}", f"Version {self._in_force()}"]
        if self.snapshot_sha256:
            lines.append(f"Snapshot SHA-256: {self.snapshot_sha256}")
        if self.source_url:
            lines.append(f"Captured from: {self.source_url}")
        if self.captured_at:
            lines.append(f"Captured: {self.captured_at.isoformat()}")
        if self.log_index is not None:
            lines.append(f"Capture log entry: {self.log_index}")
        lines.append(f"URL: {self.url}")
        if self.version_url:
            lines.append(f"Version page: {self.version_url}")
        return "\n".join(lines)

    def bibtex(self) -> str:
        note = [f"Record {self.record_id}, document {self.document_id}" if self.record_id
                else f"Document {self.document_id}"]
        if self.cited_at:
            note.append(f"as it stood on {_cited(self.cited_at)}")
        note.append(f"version SHA-256 {self.version_sha256}, {self._in_force()}")
        if self.snapshot_sha256:
            captured = f" captured {self.captured_at.isoformat()}" if self.captured_at else ""
            captured += f" from {self.source_url}" if self.source_url else ""
            note.append(f"snapshot SHA-256 {self.snapshot_sha256}{captured}")
        if self.log_index is not None:
            note.append(f"capture log entry {self.log_index}")
        if self.version_url:
            note.append(f"version page {self.version_url}")
        year = (self.cited_at or self.in_force_from).year
        return bibtex(self.key, self.title, self.url, ", ".join(note), year)


def _day(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d}"


def _time(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _whole_day(moment: datetime) -> bool:
    """A bare date asked for (``--at 2026-05-01``) stands for the end of that day, UTC."""
    return moment.astimezone(UTC).time() == time.max


def _cited(moment: datetime) -> str:
    """The date cited as the reader gave it: a day, or the exact time (two versions may share a day)."""
    return _day(moment) if _whole_day(moment) else _time(moment)


def _bibtex_text(value: str) -> str:
    # Braces and backslashes are BibTeX syntax; crawled names must not open or close a field.
    return value.replace("\\", " ").replace("{", "(").replace("}", ")")


def bibtex(key: str, title: str, url: str, note: str, year: int) -> str:
    """A BibTeX ``@misc`` entry; ``key`` is used after ``clausewatch-`` unless it already starts so."""
    key = key if key.startswith("clausewatch-") else f"clausewatch-{key}"
    return "\n".join([
        f"@misc{{{_bibtex_text(key)},",
        f"  title = {{{_bibtex_text(title)}}},",
        "  author = {{clausewatch}},",
        f"  howpublished = {{\\url{{{_bibtex_text(url)}}}}},",
        f"  note = {{{_bibtex_text(note)}}},",
        f"  year = {{{year}}}",
        "}",
    ])

"""`clausewatch show CW-D-…|CW-P-… [--at DATE]`: the text in force at a date, from the archive."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import click

from analysis.domain import Document
from analysis.text import is_utf8
from analysis.timeline import NotYetCapturedError, Period
from clausewatch.app import open_store, utcnow
from clausewatch.commands._global_options import global_options
from reports.site.timetravel import TimeTravel, cite_at
from reports.terminal import without_controls
from store.citing import CitedCaptures
from store.repository import StoreError
from store.timeline import DocumentTimeline, VersionRecord, clauses_by_version, document_timeline, provision_of


class ShowError(click.ClickException):
    """Bad input to `show`: one line on stderr, exit status 2."""

    exit_code = 2


def parse_moment(value: str | None, now: datetime) -> datetime:
    """``--at``: an ISO date (its whole day, UTC: the text at the end of it) or date and time (UTC if no zone)."""
    if value is None:
        return now
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time.max, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ShowError(f"--at: expected an ISO date such as 2026-05-01 or 2026-05-01T12:00, got {value!r}") from None
    try:  # in UTC, as it is stored and cited; "9999-12-31T20:00-05:00" is a moment no datetime holds
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise ShowError(f"--at: {value!r} is out of the range of dates (years 1 to 9999 in UTC)") from None


@click.command("show")
@global_options
@click.argument("record_id", metavar="CW-D-…|CW-P-…")
@click.option("--at", "at", metavar="DATE", help="Date (ISO; a bare date means the end of that day, UTC). Default: now.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: version SHA-256, dates, text.")
@click.option("--cite", is_flag=True, help="Print the citation (plain text and BibTeX) of the text in force then.")
@click.pass_obj
def command(settings, record_id: str, at: str | None, as_json: bool, cite: bool) -> None:
    """Print a document's text (CW-D-…) or a provision's clauses (CW-P-…) as they stood at a date.

    Exits 2 when the id is unknown or the date is before the document's first capture.
    """
    moment = parse_moment(at, utcnow())
    store = open_store(settings, "read")
    try:
        found = _lookup(store, record_id.strip(), moment)
        if cite:  # names the capture, and its log entry, that shows the text as it stood then
            found.travel.captures = CitedCaptures(store)
            citation = cite_at(settings.base_url, found.travel, found.document, found.title, moment, found.provision)
    finally:
        store.close()
    if cite:
        click.echo(citation.plain_text() + "\n\n" + citation.bibtex())
    elif as_json:
        click.echo(json.dumps(found.to_json(moment), ensure_ascii=False, indent=2))
    else:
        click.echo(found.header(moment), err=True)
        body = without_controls(found.body)  # crawled text: no escape sequence reaches the terminal
        click.echo(body, nl=not body.endswith("\n"))


class _Found:
    """What was in force: the period, its version, and the text to print."""

    def __init__(self, document: Document, timeline: DocumentTimeline, period: Period, version: VersionRecord,
                 body: str, provision: tuple[str, str] | None, clauses: list[dict] | None):
        self.document, self.timeline, self.period, self.version = document, timeline, period, version
        self.body, self.provision, self.clauses = body, provision, clauses
        self.title = document.spec.title or document.type
        self.travel = TimeTravel({document.id: timeline})

    def header(self, moment: datetime) -> str:
        what = f"{self.provision[0]} ({self.provision[1]}) of " if self.provision else ""
        until = self.period.end.isoformat() if self.period.end else "the last capture"
        line = (f"{what}{self.document.id} {self.document.platform_name} · {self.title} at {moment.isoformat()}: "
                f"version {self.version.sha256}, in force from {self.period.start.isoformat()} until {until}")
        if self.provision and not self.clauses:
            line += f"\n(no clause of type {self.provision[1]} in the version in force then)"
        return line

    def to_json(self, moment: datetime) -> dict:
        data = {
            "id": self.provision[0] if self.provision else self.document.id,
            "document": self.document.id, "at": moment.isoformat(),
            "version": {
                "sha256": self.version.sha256, "first_seen": self.version.first_seen.isoformat(),
                "last_verified": self.version.last_verified.isoformat(),
                "in_force_from": self.period.start.isoformat(),
                "in_force_until": self.period.end.isoformat() if self.period.end else None,
                "snapshots": [{"sha256": s.sha256, "fetched_at": s.fetched_at.isoformat(),
                               "archive_link": s.archive_link} for s in self.version.snapshots],
            },
            "first_capture": self.timeline.first_capture.isoformat() if self.timeline.first_capture else None,
            "text": self.body,
        }
        if self.provision:
            data["clause_type"] = self.provision[1]
            data["clauses"] = self.clauses
        return data


def _lookup(store, record_id: str, moment: datetime) -> _Found:
    if not is_utf8(record_id):  # a byte of the shell's that is not UTF-8: no id holds one, and the database refuses
        raise ShowError(f"no document or provision record {record_id!a} in the store")
    try:
        provision = None
        document_id = record_id
        if record_id.upper().startswith("CW-P-"):
            document_id, clause_type = provision_of(store, record_id)
            provision = (record_id, clause_type)
        document = store.catalog.document(document_id)
        timeline = document_timeline(store, document_id)
        period, version = timeline.in_force(moment)
    except NotYetCapturedError as exc:
        first = f"its first capture is {exc.first_capture.isoformat()}" if exc.first_capture else "it was never captured"
        raise ShowError(f"{record_id}: nothing archived at {moment.isoformat()}; {first}") from None
    except StoreError as exc:
        raise ShowError(str(exc)) from None
    if provision is None:
        return _Found(document, timeline, period, version, store.blobs.get(version.sha256).decode("utf-8"), None, None)
    clauses = [c for c in clauses_by_version(store, document_id).get(version.sha256, ())
               if provision[1] in c.classification.types]
    rows = [{"heading": " › ".join(c.clause.heading_path), "text": c.clause.text, "key": c.clause.key,
             "severity": c.classification.severity} for c in clauses]
    body = "\n\n".join((f"{r['heading']}\n{r['text']}" if r["heading"] else r["text"]) for r in rows)
    return _Found(document, timeline, period, version, body, provision, rows)

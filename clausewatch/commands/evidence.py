"""`clausewatch evidence`: write the evidence bundle of a record (or document) as it stood on a date."""

from __future__ import annotations

from pathlib import Path

import click

from clausewatch.app import new_file, open_store, refuse_existing
from clausewatch.commands._global_options import global_options
from clausewatch.commands._paths import GivenPath
from clausewatch.commands._shared import parse_since
from clausewatch.signing import public_key
from reports.evidence import check_blobs, write_bundle
from store.capture_log import CaptureLogError
from store.evidence_data import EvidenceError, evidence_subject


def _split_at(value: str) -> tuple[str, str | None]:
    record, at, date = value.partition("@")
    if at and not date.strip():  # "CW-P-000001@": a date forgotten, never "the current version" unsaid
        raise click.UsageError(f"{value}: no date after '@' (e.g. {record}@2026-05-01)")
    return record, date or None


@click.command("evidence")
@global_options
@click.argument("record")
@click.option("--out", type=GivenPath(dir_okay=False), required=True,
              help="The zip file to write (a new file).")
@click.pass_obj
def command(settings, record: str, out: Path) -> None:
    """Write the evidence bundle of RECORD: CW-P-000001 or CW-D-00001, optionally @DATE (the version in force then).

    --out must not exist yet: an existing file is never overwritten.

    The bundle holds the WARC records, the version text, the clauses with their
    offsets, the analysis, the capture log's inclusion proof, the signed tree
    head, the public key and VERIFY.md (how to check it all without clausewatch).
    Exits 1, writing nothing, when a blob it would hold fails its hash check.
    """
    record_id, date = _split_at(record)
    at = parse_since(None, None, date) if date else None
    if at is not None and len(date or "") == 10:
        at = at.replace(hour=23, minute=59, second=59, microsecond=999999)  # a day means by its end
    refuse_existing(out, "--out")  # before any work: the bundle never replaces a file
    key = public_key(settings)
    store = open_store(settings, "read")  # a bundle is written from the store, never into it
    try:
        subject = evidence_subject(store, record_id, at)
        check_blobs(subject, store.blobs)  # a tampered blob makes no bundle (the site shows it ✗ instead)
        data = write_bundle(subject, store.blobs, key, base_url=settings.base_url)
    except (EvidenceError, CaptureLogError) as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        store.close()
    with new_file(out, "--out") as temporary:
        temporary.write_bytes(data)
    click.echo(f"{out}: {record_id} version {subject.version.version.sha256[:12]}, log entry {subject.log_index} "
               f"of the tree of {subject.tree_head.size} signed {subject.tree_head.time:%Y-%m-%d %H:%M} UTC")
    captured = subject.decoded_leaf.time
    if at is not None and captured > at:
        click.echo(f"note: the capture proving it was made {captured:%Y-%m-%d %H:%M:%S} UTC, after {date}: no "
                   "capture before that date names this version (it was rebuilt from earlier captures)", err=True)

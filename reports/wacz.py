"""WACZ export (Web Archive Collection Zipped 1.1.1): the captures as one WARC, its CDXJ index
made by cdxj-indexer, a pages list and a datapackage with the SHA-256 of every file, so the
archive replays in pywb or ReplayWeb.page.

Why not the ``wacz`` package: it brings frictionless, pydantic, typer and a dozen more for
what is a zip of four files; cdxj-indexer (the index pywb itself reads) is the part that
needs the field's own code. See docs/decisions/0011-web-archive-captures.md.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cdxj_indexer.main import write_cdx_index

from analysis.evidence import CaptureRecord, iso_time
from store.warc import CaptureWriter

WACZ_VERSION = "1.1.1"
WARC_NAME = "data.warc.gz"


class WaczError(Exception):
    """Nothing to export, or the export could not be written; the message says why."""


@dataclass(frozen=True)
class WaczPage:
    """One entry of pages.jsonl: a policy as it stood at a capture."""

    url: str
    captured_at: datetime
    title: str


def write_wacz(path: Path, captures: Sequence[CaptureRecord], pages: Sequence[WaczPage], blobs, *,
               title: str, created: datetime, software: str = "clausewatch") -> dict[str, int]:
    """Write the WACZ at ``path``; returns counts of what went in."""
    if not captures:
        raise WaczError("no captures match the selection: nothing to export")
    warc = _warc(captures, blobs, created)
    files = {
        f"archive/{WARC_NAME}": warc,
        "indexes/index.cdx": _index(warc),
        "pages/pages.jsonl": _pages(pages),
    }
    package = _datapackage(files, title=title, created=created, software=software)
    files["datapackage.json"] = package
    files["datapackage-digest.json"] = _json({"path": "datapackage.json", "hash": _hash(package)})
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            # WARCs are stored, not deflated: replay tools seek into them by offset.
            method = zipfile.ZIP_STORED if name.endswith(".gz") else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, date_time=created.timetuple()[:6]), data, compress_type=method)
    return {"records": sum(1 for _ in files["indexes/index.cdx"].splitlines()), "pages": len(pages),
            "bytes": path.stat().st_size}


def _warc(captures: Sequence[CaptureRecord], blobs, created: datetime) -> bytes:
    out = io.BytesIO()
    writer = CaptureWriter(out, blobs)
    writer.write_warcinfo(WARC_NAME, created)
    writer.write_all(captures)
    return out.getvalue()


def _index(warc: bytes) -> bytes:
    """The sorted CDXJ index of the WARC, by cdxj-indexer (request records folded into their responses)."""
    text = io.StringIO()
    write_cdx_index(text, [io.BytesIO(warc)], {"sort": True, "post_append": True, "filename": WARC_NAME})
    return text.getvalue().encode("utf-8")


def _pages(pages: Sequence[WaczPage]) -> bytes:
    lines = [{"format": "json-pages-1.0", "id": "pages", "title": "Captured policies"}]
    lines += [{"id": hashlib.sha256(f"{p.url} {iso_time(p.captured_at)}".encode()).hexdigest()[:16],
               "url": p.url, "ts": iso_time(p.captured_at), "title": p.title} for p in pages]
    return b"".join(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n" for line in lines)


def _datapackage(files: dict[str, bytes], *, title: str, created: datetime, software: str) -> bytes:
    resources = [{"name": Path(name).name, "path": name, "hash": _hash(data), "bytes": len(data)}
                 for name, data in files.items()]
    return _json({"profile": "data-package", "wacz_version": WACZ_VERSION, "title": title,
                  "created": iso_time(created), "software": software, "resources": resources})


def _hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json(value: object) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8")

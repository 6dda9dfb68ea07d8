"""Web-archive exports wired to the store: which captures a selection names, and the WACZ of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from analysis.domain import Document
from analysis.evidence import CaptureRecord
from clausewatch.app import new_file
from clausewatch.errors import BadInputError
from reports.wacz import WaczError, WaczPage, write_wacz
from store.capture_log import CaptureLog
from store.repository import Store


def export_wacz(store: Store, path: Path, *, platforms: Sequence[str] = (), documents: Sequence[str] = (),
                since: datetime | None = None, now: datetime) -> dict[str, int]:
    """Write the WACZ of the selected documents' captures; an unknown selection is bad input."""
    known = store.catalog.documents()
    unknown = sorted(set(documents) - {d.id for d in known}) + sorted(set(platforms) - {d.platform for d in known})
    if unknown:
        raise BadInputError(f"no such document or platform in the store: {', '.join(unknown)}")
    chosen = [d for d in known if (not documents or d.id in documents) and (not platforms or d.platform in platforms)]
    captured = CaptureLog(store).captures([d.id for d in chosen], since)
    try:
        with new_file(path, "--wacz") as temporary:  # a failed export leaves no half archive
            return write_wacz(temporary, [c for _, c in captured], _replay_pages(chosen, captured), store.blobs,
                              title="clausewatch captures", created=now)
    except WaczError as exc:
        raise BadInputError(str(exc)) from None


def _replay_pages(chosen: Sequence[Document], captured: Sequence[tuple[str, CaptureRecord]]) -> list[WaczPage]:
    """The page each document opens at in a replay: its latest capture sent in full.

    After a revert that is a revisit of the earlier response, which replays as that text (a 304 replays as itself,
    an empty answer). A document of several pages opens at its first, not at whichever was fetched last (unless
    its first is never captured at its URL). A page that refreshed to another (a redirect followed) is not one: its
    replay goes on to the page it names.
    """
    titles = {d.id: f"{d.platform_name} — {d.type}" for d in chosen}
    first_urls = {d.id: d.url for d in chosen}
    latest: dict[str, WaczPage] = {}
    for document_id, capture in captured:
        shown = latest.get(document_id)
        if capture.record_type in ("response", "revisit") and capture.exchange.status == 200 and document_id in titles \
                and not capture.exchange.hop \
                and (capture.exchange.url == first_urls[document_id] or shown is None
                     or shown.url != first_urls[document_id]):
            latest[document_id] = WaczPage(capture.exchange.url, capture.exchange.captured_at, titles[document_id])
    return list(latest.values())

"""One failure streak (store/health.py), read the same by `status`, the site and failure alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.text import sha256_bytes
from store.change_records import failing_documents
from store.site_data import load_site_data

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _catalog(store) -> list[str]:
    spec = PlatformSpec("acme", "Acme", tuple(DocumentSpec("acme", kind, (SourceSpec(f"https://acme.example/{n}"),))
                                              for n, kind in enumerate(("Terms of Service", "Privacy Policy",
                                                                        "Cookie Policy"))))
    store.catalog.sync_catalog([spec], now=T0)
    return [d.id for d in store.catalog.documents()]


def _ok(store, document_id: str, at: datetime) -> None:
    body = b"Terms: be nice."
    snapshot = Snapshot(sha256_bytes(body), document_id, "https://acme.example/", "https://acme.example/", 200,
                        "text/plain", at, size=len(body))
    store.recording.record_text(document_id, snapshot=snapshot, body=body, text="Terms: be nice.\n",
                                started_at=at, finished_at=at)


def _fail(store, document_id: str, at: datetime, kind: str) -> None:
    store.recording.record_failure(document_id, started_at=at, finished_at=at, kind=kind, detail=f"{kind} at {at}")


def _streaks(store) -> dict[str, tuple]:
    """Each document's streak as status, the site data and failure alerts see it."""
    status = {s.id: (s.consecutive_failures, s.last_outcome, s.last_error_kind) for s in store.catalog.status()}
    site = {d.document.id: d.health for d in load_site_data(store).documents}
    alerts = {f.document_id: f for f in failing_documents(store, at_least=1)}
    return {doc: (status[doc], site[doc], alerts.get(doc)) for doc in status}


def test_status_site_and_alerts_count_the_same_streak_past_fifty_fetches(store):
    long_streak, recovered, never = _catalog(store)
    _ok(store, long_streak, T0)
    _fail(store, long_streak, T0 + timedelta(minutes=1), "dns")  # an older streak, ended by the next success
    _ok(store, long_streak, T0 + timedelta(minutes=2))
    for minute in range(3, 3 + 55):
        _fail(store, long_streak, T0 + timedelta(minutes=minute), "timeout" if minute % 2 else "http_5xx")
    _fail(store, recovered, T0, "timeout")
    _ok(store, recovered, T0 + timedelta(minutes=1))

    streaks = _streaks(store)
    status, site, alert = streaks[long_streak]
    last = T0 + timedelta(minutes=57)
    assert status == (55, "failed", "timeout")  # `status` once stopped counting at the last 50 fetches
    assert (site.consecutive_failures, site.failing_since, site.last_attempt) == (55, T0 + timedelta(minutes=3), last)
    assert (alert.consecutive_failures, alert.failing_since, alert.last_failure) == (55, site.failing_since, last)
    assert alert.error_detail == f"timeout at {last}"

    status, site, alert = streaks[recovered]
    assert status == (0, "new_version", None) and site.consecutive_failures == 0 and alert is None
    status, site, alert = streaks[never]
    assert status == (0, None, None) and site.last_attempt is None and alert is None

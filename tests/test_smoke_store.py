from datetime import UTC, datetime

from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.pipeline import Analyzer
from analysis.text import sha256_bytes


def test_record_text_then_unchanged(store):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("http://x/t"),)),))
    (doc,) = store.sync_catalog([spec], now=now)
    assert doc.id == "CW-D-00001"
    body = b"<h1>Terms</h1><p>Hello</p>"
    snap = Snapshot(sha256_bytes(body), doc.id, "http://x/t", "http://x/t", 200, "text/html", now, size=len(body))
    first = store.record_text(doc.id, snapshot=snap, body=body, text="# Terms\n\nHello\n",
                              started_at=now, finished_at=now, analyze=Analyzer())
    second = store.record_text(doc.id, snapshot=snap, body=body, text="# Terms\n\nHello\n",
                               started_at=now, finished_at=now, analyze=Analyzer())
    assert first.outcome == "new_version" and second.outcome == "unchanged"
    assert len(store.versions(doc.id)) == 1
    assert store.verify() == []

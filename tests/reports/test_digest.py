"""The weekly digest from a real store, delivered to a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup

from reports.digest import DigestRenderer, collect_digest, send_weekly_digest
from reports.mail import SmtpConfig
from reports.subscribers import Subscriber, SubscriberList

BASE = "https://watch.example.org/cw/"
SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)
SENDER = "clausewatch <digest@watch.example.org>"


def _send(filled, subscribers, smtp_inbox=None, dry_run=None):
    config = SmtpConfig(host=smtp_inbox.host, port=smtp_inbox.port, starttls=False) if smtp_inbox else SmtpConfig("x")
    return send_weekly_digest(filled.store, SubscriberList(tuple(subscribers)), since=SINCE, now=UNTIL, base_url=BASE,
                              sender=SENDER, smtp=config, dry_run=dry_run)


def _parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_digest_orders_changes_by_severity_with_before_and_after(filled):
    content = collect_digest(filled.store, since=SINCE, until=UNTIL, base_url=BASE)
    assert [c.platform for c in content.changes] == ["acme", "hostile"]  # high before low
    first = content.changes[0].clause_changes[0]
    assert first.severity == "high" and "arbitration in Delaware." in first.before and "binding" in first.after
    assert first.records and all(url.startswith(BASE + "records/CW-P-") for _, url in first.records)
    assert collect_digest(filled.store, since=UNTIL, until=UNTIL.replace(month=4), base_url=BASE).empty


def test_digest_reaches_a_real_smtp_server_as_multipart_with_absolute_links(filled, smtp_inbox):
    report = _send(filled, [Subscriber("legal@example.com", name="Legal")], smtp_inbox)
    assert report.ok and [d.ok for d in report.deliveries] == [True]
    (message,) = smtp_inbox.messages
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"].startswith("clausewatch weekly digest: 2 changes, 1 high severity")
    assert message["To"].addresses[0].addr_spec == "legal@example.com"
    assert message["List-Unsubscribe"] == "<mailto:digest@watch.example.org?subject=unsubscribe>"
    text, html = _parts(message)
    assert "Before: 2. Any dispute will be resolved by arbitration in Delaware." in text
    assert "After:  2. Any dispute will be resolved by binding arbitration" in text
    assert f"{BASE}records/CW-P-" in text
    tree = BeautifulSoup(html, "html.parser")
    hrefs = [a["href"] for a in tree.find_all("a")]
    assert hrefs and all(h.startswith(BASE) for h in hrefs)
    assert tree.find(class_="badge")["style"]  # CSS inlined
    assert "<svg" not in html and "&lt;svg onload=alert(1)&gt;" in html  # crawled text escaped
    redline = tree.find(class_="redline")  # modified clauses as a word-level redline
    assert "binding" in redline.find("ins").get_text() and redline.find("ins")["style"]


def test_each_subscriber_gets_their_filter_and_one_failure_stops_no_one(filled, smtp_inbox):
    subscribers = [
        Subscriber("not an address", name="Broken"),
        Subscriber("gone@refused.invalid"),
        Subscriber("acme-high@example.com", platforms=("acme",), min_severity="high"),
        Subscriber("hostile@example.com", platforms=("hostile",)),
    ]
    report = _send(filled, subscribers, smtp_inbox)
    assert not report.ok and report.failed == 2 and report.counts["delivered"] == 2
    failed = {d.recipient for d in report.deliveries if not d.ok}
    assert any("not an address" in r for r in failed) and any("gone@refused.invalid" in r for r in failed)
    received = {m["To"].addresses[0].addr_spec: m for m in smtp_inbox.messages}
    assert set(received) == {"acme-high@example.com", "hostile@example.com"}
    acme_text, _ = _parts(received["acme-high@example.com"])
    assert "Acme Cloud" in acme_text and "Hostile" not in acme_text
    hostile_text, _ = _parts(received["hostile@example.com"])
    assert "Hostile <b>Corp</b>" in hostile_text and "Acme Cloud" not in hostile_text


def test_dry_run_without_subscribers_writes_one_digest_of_everything(filled, tmp_path):
    report = _send(filled, [], dry_run=tmp_path / "out")
    (path,) = sorted((tmp_path / "out").glob("*.eml"))
    assert report.ok and report.deliveries[0].path == path
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text, _ = _parts(message)
    assert "Acme Cloud" in text and "Hostile" in text


def test_failing_documents_are_listed(filled):
    now = datetime(2026, 3, 5, tzinfo=UTC)
    filled.store.recording.record_failure(filled.acme, started_at=now, finished_at=now, kind="http_5xx", detail="503")
    content = collect_digest(filled.store, since=SINCE, until=UNTIL, base_url=BASE)
    subject, text, html = DigestRenderer(BASE).render(content)
    assert "1 failing" in subject
    assert "DOCUMENTS THAT FAILED TO FETCH" in text and "http_5xx, 1 failed fetch(es) in a row" in text
    assert "Documents that failed to fetch" in html

"""The weekly digest from a real store, delivered to a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta

from bs4 import BeautifulSoup

from analysis.domain import ClauseChange
from reports import mail
from reports.digest import collect_digest, digest_renderer, send_weekly_digest
from reports.mail import SmtpConfig
from reports.notification import HTML_LIMIT, collect, for_subscriber
from reports.subscribers import Subscriber, SubscriberList
from store.change_records import ChangeRecord, ClauseChangeRecord

BASE = "https://watch.example.org/cw/"
SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)
SENDER = "clausewatch <digest@watch.example.org>"


def _send(filled, subscribers, smtp_inbox=None, dry_run=None):
    mailer = (mail.DirectoryMailer(dry_run) if dry_run else
              mail.SmtpMailer(SmtpConfig(host=smtp_inbox.host, port=smtp_inbox.port, starttls=False)))
    return send_weekly_digest(filled.store, SubscriberList(dry_run, tuple(subscribers)), since=SINCE, now=UNTIL,
                              base_url=BASE, sender=SENDER, mailer=mailer)


def _parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_digest_orders_changes_by_severity_with_before_and_after(filled):
    content = collect_digest(filled.store, since=SINCE, until=UNTIL, base_url=BASE)
    assert [c.platform for c in content.changes] == ["acme", "hostile"]  # high before low
    first = content.changes[0].clauses[0]
    assert first.severity == "high" and "arbitration in Delaware." in first.before and "binding" in first.after
    assert first.record_url.startswith(BASE + "records/CW-P-")
    assert content.changes[0].url.startswith(BASE + "documents/") and "#change-" in content.changes[0].url
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
    # Each side on its own line: the heading line never runs into "Before:".
    assert re.search(r"\)\n    Before: 2\. Any dispute will be resolved by arbitration in Delaware\.", text)
    assert "\n    After:  2. Any dispute will be resolved by binding arbitration" in text
    assert f"{BASE}records/CW-P-" in text
    tree = BeautifulSoup(html, "html.parser")
    hrefs = [a["href"] for a in tree.find_all("a")]
    assert hrefs and all(h.startswith(BASE) for h in hrefs)
    assert tree.find(class_="badge")["style"]  # CSS inlined
    assert "<svg" not in html and "&lt;svg onload=alert(1)&gt;" in html  # crawled text escaped
    for part in (text, html):  # no escape sequence for a terminal reading the mail, no reordering override
        assert "\x1b" not in part and "\x07" not in part and "\u202e" not in part
    assert "]0;PWNED" in text
    assert "binding" in tree.find("ins").get_text() and tree.find("ins")["style"]  # a word-level redline


def test_no_raw_none_reaches_a_reader(filled, smtp_inbox):
    _send(filled, [Subscriber("legal@example.com")], smtp_inbox)
    text, html = _parts(smtp_inbox.messages[0])
    visible = BeautifulSoup(html, "html.parser").get_text(" ")
    for body in (text, visible):
        assert "None" not in body and "NONE" not in body
    assert "new clause, " in text or "Unrated" in text or "→" in text


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


def test_nothing_at_the_threshold_is_a_short_digest_not_zero_changes(filled, tmp_path):
    report = _send(filled, [Subscriber("hostile-high@example.com", platforms=("hostile",), min_severity="high")],
                   dry_run=tmp_path / "out")
    (path,) = sorted((tmp_path / "out").glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text, _ = _parts(message)
    assert report.ok and "nothing at your threshold" in message["Subject"]
    assert "Nothing at your threshold this week: 1 changed document(s)" in text
    assert "0 substantive" not in text


def test_failing_documents_are_listed(filled):
    now = datetime(2026, 3, 5, tzinfo=UTC)
    filled.store.recording.record_failure(filled.acme, started_at=now, finished_at=now, kind="http_5xx", detail="503")
    content = collect_digest(filled.store, since=SINCE, until=UNTIL, base_url=BASE)
    subject, text, html = digest_renderer(BASE).render(content)
    assert "1 failing" in subject
    assert "DOCUMENTS THAT KEEP FAILING TO FETCH" in text and "http_5xx, 1 failed fetch in a row" in text
    assert "Documents that keep failing to fetch" in html


# --- Size: a digest fits in a mail client whatever happened ------------------------------


def synthetic_week(documents: int, clauses: int = 12, words: int = 120) -> list[ChangeRecord]:
    """``documents`` changed documents, each with ``clauses`` long modified clauses, over one week."""
    text = " ".join(f"word{i}" for i in range(words))
    severities = ("low", "medium", "high", None)
    return [
        ChangeRecord(
            id=n, document_id=f"CW-D-{n:05d}", platform=f"p{n % 50}", platform_name=f"Platform {n % 50}",
            document_type="Terms of Service", url=f"https://p{n}.example/tos", from_version="a" * 64,
            to_version=f"{n:064x}", detected_at=SINCE + timedelta(minutes=n), substantive=True,
            severity_raised=n % 7 == 0, cosmetic_reason=None, technical=False, alerted_at=None,
            clause_changes=tuple(
                ClauseChangeRecord(ClauseChange("modified", f"k{c}", (f"{c}. Clause", f"{c}.1"), text,
                                                text.replace("word7", "changed"), severities[c % 4],
                                                severities[(c + n) % 4]), f"CW-P-{n:05d}{c}")
                for c in range(clauses)),
        )
        for n in range(documents)
    ]


def test_a_week_of_1000_changed_documents_fits_under_the_html_limit_with_the_rest_linked():
    content = for_subscriber(collect(synthetic_week(1000), [], base_url=BASE, since=SINCE, until=UNTIL),
                             Subscriber("all@example.com"))
    subject, text, html = digest_renderer(BASE).render(content)
    sent = mail.inline_css(html)
    assert len(sent.encode()) <= HTML_LIMIT
    assert subject.startswith("clausewatch weekly digest: 1000 changes")
    tree = BeautifulSoup(html, "html.parser")
    changes = tree.find_all(class_="change")
    assert 0 < len(changes) < 1000 and re.search(r"\d+ more changed documents on the site", html)
    # The first documents keep their most severe clause changes in full; the rest are counted and linked.
    first = changes[0]
    assert len(first.find_all(class_="clause")) == 3 and "9 more clause changes on the site" in first.get_text()
    assert "more changed document(s) on the site" in text

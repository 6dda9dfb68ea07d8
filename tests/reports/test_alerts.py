"""Same-day alerts: content, filters, rendering and delivery to a real SMTP server (reports/alerts.py,
clausewatch/notifying.py)."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.notifying import send_alerts
from clausewatch.settings import load_settings
from store.change_records import list_changes
from tests.fakes import record_fetched_text

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)



V1 = (
    "1. Accounts\n\n1.1 You must be 13 or older to use the Service, and keep your password secret.\n\n"
    "2. Termination\n\n2.1 We may suspend your account if you breach these Terms of Service.\n\n"
    "3. Law\n\n3.1 These Terms are governed by the law of Ireland and its courts alone.\n"
)
V2 = V1.replace("suspend your account if", "terminate your account at any time, even if").replace(
    "Ireland and its courts", "Ireland <script>alert(1)</script> and its courts"
)




@pytest.fixture
def settings(tmp_path, store_url, smtp_inbox):
    subscribers = tmp_path / "subscribers.yaml"
    subscribers.write_text(
        "subscribers:\n"
        "  - {email: all@example.com, name: Everyone}\n"
        "  - {email: high@example.com, min_severity: high}\n"
        "  - {email: globex@example.com, platforms: [globex]}\n"
        "  - {email: gone@refused.invalid}\n"
        "  - {email: digest-only@example.com, alerts: false}\n",
        encoding="utf-8",
    )
    return load_settings({}, {"HOME": str(tmp_path / "home"), "DATABASE_URL": store_url}).replace(
        subscribers=subscribers, smtp_host=smtp_inbox.host, smtp_port=smtp_inbox.port, smtp_starttls=False,
        base_url="https://cw.example/", failure_alert_after=2,
    )


@pytest.fixture
def acme(store):
    specs = [PlatformSpec(s, s.title(), (DocumentSpec(s, "Terms of Service", (SourceSpec(f"https://{s}.example/"),)),))
             for s in ("acme", "globex")]
    store.catalog.sync_catalog(specs, now=T0)
    return store.catalog.documents()[0].id


def _inbox(smtp_inbox) -> dict[str, email.message.EmailMessage]:
    return {m["To"].addresses[0].addr_spec: m for m in smtp_inbox.messages}


def test_alert_per_subscriber_once_with_filters_and_isolation(settings, store, acme, smtp_inbox):
    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=1))
    report = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=2))

    assert [(d.recipient.split("<")[-1].rstrip(">"), d.ok) for d in report.deliveries] == [
        ("all@example.com", True), ("high@example.com", True), ("gone@refused.invalid", False),
    ]
    # gone@ did not get it: the change stays pending, for gone@ alone (see the test of a late recipient below).
    assert not report.ok and report.alerted_change_ids == []
    assert report.counts == {"pending_changes": 1, "failing_documents": 0, "sent": 2, "failed": 1, "alerted_changes": 0}
    inbox = _inbox(smtp_inbox)
    assert set(inbox) == {"all@example.com", "high@example.com"}
    message = inbox["all@example.com"]
    assert message["Subject"] == "clausewatch alert: Acme Terms of Service changed, severity raised"
    assert message["List-Unsubscribe"].startswith("<mailto:")
    text = message.get_body(("plain",)).get_content()
    # The clause that raised severity comes first, before → after.
    assert text.index("MODIFIED (severity raised): 2. Termination › 2.1") < text.index("3. Law › 3.1")
    assert "Before: 2.1 We may suspend your account" in text and "After:  2.1 We may terminate" in text
    assert "https://cw.example/records/CW-P-" in text
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'style="' in html  # CSS inlined
    # The high-only subscriber sees the high clause, not the low one.
    high_text = inbox["high@example.com"].get_body(("plain",)).get_content()
    assert "2. Termination › 2.1" in high_text and "3. Law › 3.1" not in high_text

    again = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=3))
    assert [(d.recipient, d.ok) for d in again.deliveries] == [("gone@refused.invalid", False)]
    assert len(smtp_inbox.messages) == 2


def test_a_recipient_whose_server_refused_an_alert_gets_it_at_the_next_run_and_no_one_else_twice(
        settings, store, acme, smtp_inbox):
    """Nothing lost: a change some subscribers got and one did not stays pending for that one. Before, it was
    confirmed once any one recipient had it, and the refused subscriber never got it."""
    settings.subscribers.write_text("subscribers:\n  - {email: all@example.com}\n  - {email: late@example.com}\n",
                                    encoding="utf-8")
    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=1))
    smtp_inbox.refused = {"late@example.com"}
    first = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=2))
    assert [d.ok for d in first.deliveries] == [True, False] and first.alerted_change_ids == []
    assert list(_inbox(smtp_inbox)) == ["all@example.com"]

    smtp_inbox.refused = set()
    second = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=3))
    assert [(d.recipient, d.ok) for d in second.deliveries] == [("late@example.com", True)]
    assert len(second.alerted_change_ids) == 1 and list_changes(store, pending_alert=True) == []
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_inbox.messages) == ["all@example.com",
                                                                                   "late@example.com"]
    third = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=4))
    assert third.deliveries == [] and third.changes == 0 and len(smtp_inbox.messages) == 2


def test_cosmetic_and_technical_changes_never_alert(settings, store, acme, smtp_inbox):
    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V1.replace("Ireland and", "Ireland, and"), T0 + timedelta(hours=1))
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=2), technical=True)
    report = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=3))
    assert report.changes == 0 and report.deliveries == [] and smtp_inbox.messages == []
    assert [c.substantive for c in list_changes(store, include_technical=True)] == [False, True]


def test_failing_document_alerted_once_per_streak_naming_the_kind(settings, store, acme, smtp_inbox):
    record_fetched_text(store, acme, V1, T0)
    for hours in (1, 2):
        store.recording.record_failure(acme, started_at=T0 + timedelta(hours=hours), finished_at=T0 + timedelta(hours=hours),
                             kind="selector_missing", detail="no element matched main.terms")
    first = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=3))
    assert first.failing == 1 and all(d.ok for d in first.deliveries[:2])
    text = _inbox(smtp_inbox)["all@example.com"].get_body(("plain",)).get_content()
    assert "Acme · Terms of Service: selector_missing, 2 failed fetches in a row" in text
    assert "globex@example.com" not in _inbox(smtp_inbox)
    # Once per streak to each: the next run offers it only to gone@, whose server refused it.
    again = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=4))
    assert [(d.recipient, d.ok) for d in again.deliveries] == [("gone@refused.invalid", False)]
    assert len(smtp_inbox.messages) == 2


def test_dry_run_writes_eml_and_marks_nothing(settings, store, acme, smtp_inbox, tmp_path):
    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=1))
    report = send_alerts(settings, store=store, dry_run=tmp_path / "eml", now=T0 + timedelta(hours=2))
    assert sorted(p.name for p in (tmp_path / "eml").iterdir()) == [
        "001-all@example.com.eml", "002-high@example.com.eml", "003-gone@refused.invalid.eml",
    ]
    parsed = email.message_from_bytes((tmp_path / "eml/001-all@example.com.eml").read_bytes(), policy=email.policy.default)
    assert "severity raised" in parsed["Subject"]
    assert report.alerted_change_ids == [] and smtp_inbox.messages == []
    assert len(list_changes(store, pending_alert=True)) == 1


# --- Exactly once across hosts (store/notifications.py) ----------------------------------


def _second_host(store_url, tmp_path):
    from store.repository import Store

    return Store.open(store_url, tmp_path / "objects", mode="write")


def test_two_hosts_running_alerts_at_once_send_each_change_once(settings, store, store_url, acme, smtp_inbox,
                                                                tmp_path):
    import threading

    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=1))
    for hours in (2, 3):
        store.recording.record_failure(acme, started_at=T0 + timedelta(hours=hours), finished_at=T0 + timedelta(hours=hours),
                             kind="selector_missing", detail="no element matched main.terms")
    other = _second_host(store_url, tmp_path)
    start, reports = threading.Barrier(2), {}

    def host(name, host_store):
        start.wait()
        reports[name] = send_alerts(settings, store=host_store, send=True, now=T0 + timedelta(hours=4))

    try:
        threads = [threading.Thread(target=host, args=(n, s)) for n, s in (("a", store), ("b", other))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    # Together the hosts took the change and the failure streak (one host may take both, or each one; and a host
    # that comes second may take one again once the first released it for the refused address, then tries that
    # address alone): every willing subscriber hears of each exactly once.
    assert sum(r.changes for r in reports.values()) >= 1 and sum(r.failing for r in reports.values()) >= 1
    subjects: dict[str, list[str]] = {}
    for message in smtp_inbox.messages:
        subjects.setdefault(message["To"].addresses[0].addr_spec, []).append(message["Subject"])
    assert sorted(subjects) == ["all@example.com", "high@example.com"]
    for received in subjects.values():
        assert sum("changed" in s for s in received) == 1 and sum("failing" in s for s in received) == 1
    assert len(list_changes(store, pending_alert=True)) == 1  # still, for gone@refused.invalid alone


def test_a_change_another_host_is_sending_is_left_to_it_until_its_claim_expires(settings, store, acme, smtp_inbox):
    from store import notifications

    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=1))
    (pending,) = list_changes(store, pending_alert=True)
    sent_at = T0 + timedelta(hours=2)
    assert notifications.claim(store, "change", [str(pending.id)], holder="host-a", now=sent_at) == {str(pending.id)}
    busy = send_alerts(settings, store=store, send=True, now=sent_at + timedelta(minutes=5))
    assert busy.changes == 0 and smtp_inbox.messages == []
    # host-a died mid-send: after the claim's time to live another host takes the change over.
    late = send_alerts(settings, store=store, send=True, now=sent_at + notifications.CLAIM_TTL)
    assert late.changes == 1 and [d.ok for d in late.deliveries] == [True, True, False]  # gone@ refuses
    assert sorted(_inbox(smtp_inbox)) == ["all@example.com", "high@example.com"]


def test_a_failed_delivery_releases_the_claim_for_the_next_run(settings, store, acme, smtp_inbox, tmp_path):
    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=1))
    (settings.subscribers).write_text("subscribers:\n  - {email: gone@refused.invalid}\n", encoding="utf-8")
    first = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=2))
    assert first.changes == 1 and first.alerted_change_ids == [] and not first.ok
    (settings.subscribers).write_text("subscribers:\n  - {email: all@example.com}\n", encoding="utf-8")
    second = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=3))
    assert second.changes == 1 and len(second.alerted_change_ids) == 1 and list(_inbox(smtp_inbox)) == ["all@example.com"]


def test_alerts_delivered_then_not_recorded_for_a_failed_store_are_listed_and_said_to_be_unrecorded(
        settings, store, store_url, acme, smtp_inbox):
    """The store failing between delivery and its record (here another program renames the claims table as the
    first message is accepted): who got what is printed, then one line saying they may go out again; before, only
    the store's error was printed, and the deliveries were lost from sight."""
    import sqlalchemy as sa
    from click.testing import CliRunner

    from clausewatch.cli import main

    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=1))
    settings.subscribers.write_text("subscribers:\n  - {email: all@example.com}\n", encoding="utf-8")
    other = sa.create_engine(store_url)

    def break_the_store(_message) -> None:
        with other.begin() as connection:
            connection.execute(sa.text("ALTER TABLE notification_claims RENAME TO notification_claims_moved"))

    smtp_inbox.on_message = break_the_store
    env = {"CLAUSEWATCH_HOME": str(settings.home), "CLAUSEWATCH_DATABASE_URL": store_url,
           "CLAUSEWATCH_BLOBS": str(store.blobs.root), "CLAUSEWATCH_SUBSCRIBERS": str(settings.subscribers),
           "CLAUSEWATCH_SMTP_HOST": smtp_inbox.host, "CLAUSEWATCH_SMTP_PORT": str(smtp_inbox.port),
           "CLAUSEWATCH_SMTP_STARTTLS": "false"}
    try:
        result = CliRunner().invoke(main, ["alerts", "--send"], env=env)
    finally:
        other.dispose()
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("all@example.com") or "all@example.com" in lines[0]
    assert "ok" in lines[0]
    assert re.fullmatch(r"Error: DATABASE_URL \(--database-url, CLAUSEWATCH_DATABASE_URL\): the database at \S+ "
                        r"failed: .+; 1 alert message\(s\) were delivered before it and may not be recorded as sent: "
                        r"if not, their claims run out after 1:00:00, and a run after that sends them again",
                        lines[-1]), lines[-1]
    assert len(smtp_inbox.messages) == 1


def test_legacy_alert_state_file_is_imported_once_and_kept(settings, store, acme, smtp_inbox):
    import json

    from store.change_records import failing_documents

    record_fetched_text(store, acme, V1, T0)
    for hours in (1, 2):
        store.recording.record_failure(acme, started_at=T0 + timedelta(hours=hours), finished_at=T0 + timedelta(hours=hours),
                             kind="selector_missing", detail="gone")
    (failing,) = failing_documents(store, at_least=2)
    legacy = settings.home / "alert-state.json"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_text(json.dumps({failing.document_id: failing.failing_since.isoformat()}), encoding="utf-8")
    report = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=3))
    assert report.failing == 0 and smtp_inbox.messages == []  # this host alerted that streak before the upgrade
    assert legacy.is_file()
    # Imported once: emptying the file later does not make the streak new again.
    legacy.write_text("{}", encoding="utf-8")
    assert send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=4)).failing == 0


def test_nothing_at_the_threshold_means_no_alert(settings, store, acme, smtp_inbox):
    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V1.replace("governed by the law", "governed by the laws"), T0 + timedelta(hours=1))
    settings.subscribers.write_text("subscribers:\n  - {email: high@example.com, min_severity: high}\n",
                                    encoding="utf-8")
    report = send_alerts(settings, store=store, send=True, now=T0 + timedelta(hours=2))
    assert report.changes == 1 and report.deliveries == [] and smtp_inbox.messages == []
    assert list_changes(store, pending_alert=True) == []  # no one wanted it: done, not retried forever


def test_sending_needs_send_or_dry_run_and_a_subscribers_file(settings, store, acme, tmp_path):
    from clausewatch.errors import BadInputError
    from reports.subscribers import SubscribersError

    with pytest.raises(BadInputError, match="give --send"):
        send_alerts(settings, store=store)
    settings.subscribers.unlink()
    with pytest.raises(SubscribersError, match="does not exist"):
        send_alerts(settings, store=store, dry_run=tmp_path / "eml")
    settings.subscribers.write_text("subscribers:\n  - {email: a@example.com, platforms: [initech]}\n",
                                    encoding="utf-8")
    with pytest.raises(SubscribersError, match=r"subscribers.yaml:2: 'platforms': unknown platform 'initech'"):
        send_alerts(settings, store=store, dry_run=tmp_path / "eml")


def test_the_scheduled_alerts_job_sends_by_itself_and_skips_without_a_subscribers_file(settings, store, acme,
                                                                                        smtp_inbox):
    from clausewatch.job_runner import ActionContext, get_action

    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=1))
    result = get_action("alerts")(ActionContext(settings, store, "daily"))
    assert result.counts["sent"] == 2 and sorted(_inbox(smtp_inbox)) == ["all@example.com", "high@example.com"]
    settings.subscribers.unlink()
    skipped = get_action("alerts")(ActionContext(settings, store, "daily"))
    assert skipped.counts == {"skipped": f"no subscribers file at {settings.subscribers}"} and not skipped.errors


def test_the_scheduled_alerts_job_skips_a_file_listing_no_alert_subscriber_and_marks_nothing(settings, store, acme,
                                                                                             smtp_inbox):
    from clausewatch.job_runner import ActionContext, get_action

    record_fetched_text(store, acme, V1, T0)
    record_fetched_text(store, acme, V2, T0 + timedelta(hours=1))
    settings.subscribers.write_text("subscribers: []\n", encoding="utf-8")
    skipped = get_action("alerts")(ActionContext(settings, store, "daily"))
    assert skipped.counts == {"skipped": f"SUBSCRIBERS (CLAUSEWATCH_SUBSCRIBERS): {settings.subscribers} lists no "
                                         "alert subscribers; nothing was marked alerted"} and not skipped.errors
    assert len(list_changes(store, pending_alert=True)) == 1  # still there for the first subscriber added

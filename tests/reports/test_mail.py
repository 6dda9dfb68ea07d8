"""reports/mail.py against a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reports.mail import (
    DirectoryMailer,
    InvalidAddressError,
    SmtpConfig,
    SmtpMailer,
    build_message,
    deliver,
)

HTML = "<html><head><style>.sev{color:#b00}</style></head><body><p class='sev'>high</p></body></html>"


def _message(recipient: str, **extra):
    return build_message(
        sender="clausewatch <alerts@example.org>", recipient=recipient, subject="Terms changed",
        text="plain body", html=HTML, **extra,
    )


def test_message_is_multipart_with_inlined_css_and_unsubscribe():
    message = _message("a@example.com", recipient_name="Legal\nTeam", list_unsubscribe="mailto:u@example.org",
                       date=datetime(2026, 3, 3, 12, tzinfo=UTC))
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert text.get_content().strip() == "plain body"
    assert 'style="color: #b00;"' in html.get_content()
    assert "<style>" not in html.get_content()
    assert message["List-Unsubscribe"] == "<mailto:u@example.org>"
    assert message["To"].addresses[0].display_name == "Legal Team"
    assert message["Message-ID"].endswith("@example.org>")


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b.com\nBcc: x@y.com", "a b@example.com", "a@localhost"])
def test_bad_recipient_is_refused_before_sending(bad):
    with pytest.raises(InvalidAddressError):
        _message(bad)


def test_subject_cannot_inject_headers():
    message = build_message(sender="a@example.org", recipient="b@example.com", subject="x\r\nBcc: evil@x.com", text="t")
    assert message["Bcc"] is None
    assert message["Subject"] == "x Bcc: evil@x.com"


def test_a_subject_and_a_name_from_a_hostile_catalog_arrive_without_escapes_or_overrides(smtp_inbox):
    # The subject carries a platform's name: an escape sequence or a right-to-left override reached the reader's
    # mail client as it was (only line breaks were folded).
    message = build_message(sender="a@example.org", recipient="b@example.com", recipient_name="Legal \x1b[2J team",
                            subject="clausewatch alert: Evil \x1b[31mCorp\x1b[0m \u202eProc\u202c\x85", text="t")
    config = SmtpConfig(host=smtp_inbox.host, port=smtp_inbox.port, starttls=False)

    assert [d.ok for d in deliver([message], SmtpMailer(config))] == [True]

    [received] = smtp_inbox.messages
    assert received["Subject"] == "clausewatch alert: Evil \ufffd[31mCorp\ufffd[0m \ufffdProc\ufffd"
    assert received["To"].addresses[0].display_name == "Legal \ufffd[2J team"


def test_smtp_delivery_isolates_a_refused_recipient(smtp_inbox):
    config = SmtpConfig(host=smtp_inbox.host, port=smtp_inbox.port, starttls=False)
    messages = [_message("one@example.com"), _message("gone@refused.invalid"), _message("two@example.com")]
    deliveries = deliver(messages, SmtpMailer(config))
    assert [d.ok for d in deliveries] == [True, False, True]
    assert "SMTPRecipientsRefused" in deliveries[1].error
    received = [m["To"].addresses[0].addr_spec for m in smtp_inbox.messages]
    assert received == ["one@example.com", "two@example.com"]
    assert smtp_inbox.messages[0].get_body(("html",)).get_content().count('style="color: #b00;"') == 1


def test_unreachable_server_is_reported_for_every_recipient_naming_the_server(smtp_inbox):
    config = SmtpConfig(host="127.0.0.1", port=1, starttls=False, timeout=5)
    deliveries = deliver([_message("one@example.com"), _message("two@example.com")], SmtpMailer(config))
    assert [d.ok for d in deliveries] == [False, False]
    assert {d.error for d in deliveries} == {
        "the SMTP server 127.0.0.1:1 could not be used (SMTP_HOST, SMTP_PORT): ConnectionRefusedError: [Errno 111] "
        "Connection refused"}


def test_a_server_that_cannot_be_used_is_tried_once_per_run_not_once_per_recipient():
    # A server that is down cost each recipient its own connection attempt (and timeout): a thousand subscribers,
    # a thousand timeouts. This one accepts and hangs up at once, before any greeting.
    accepted = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        def hang_up() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:  # the listener closed: the run is over
                    return
                accepted.append(connection)
                connection.close()

        thread = threading.Thread(target=hang_up, daemon=True)
        thread.start()
        config = SmtpConfig(host="127.0.0.1", port=listener.getsockname()[1], starttls=False, timeout=5)
        deliveries = deliver([_message(f"{n}@example.com") for n in range(3)], SmtpMailer(config))
        listener.shutdown(socket.SHUT_RDWR)
    thread.join()
    assert len(accepted) == 1
    assert [d.ok for d in deliveries] == [False] * 3
    assert all(d.error.startswith("the SMTP server 127.0.0.1:") and "SMTPServerDisconnected" in d.error
               for d in deliveries)


def test_starttls_required_but_not_offered_fails_cleanly(smtp_inbox):
    config = SmtpConfig(host=smtp_inbox.host, port=smtp_inbox.port, starttls=True)
    [delivery] = deliver([_message("one@example.com")], SmtpMailer(config))
    assert not delivery.ok and "STARTTLS" in delivery.error
    assert smtp_inbox.messages == []


def test_dry_run_writes_parseable_eml_files(tmp_path):
    deliveries = deliver([_message("one@example.com"), _message("two@example.com")], DirectoryMailer(tmp_path / "out"))
    paths = [d.path for d in deliveries]
    assert [p.name for p in paths] == ["001-one@example.com.eml", "002-two@example.com.eml"]
    parsed = email.message_from_bytes(paths[1].read_bytes(), policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == "two@example.com"
    assert parsed.get_body(("plain",)).get_content().strip() == "plain body"


def test_a_dry_run_to_an_address_longer_than_a_file_name_writes_it_under_a_shortened_name(tmp_path):
    # "File name too long": a 2000-character local part passed the subscribers' check and failed every dry run.
    address = "a" * 2000 + "@example.com"
    [delivery] = deliver([_message(address)], DirectoryMailer(tmp_path / "out"))
    assert delivery.ok, delivery.error
    assert delivery.path.name == "001-" + "a" * 120 + ".eml"
    parsed = email.message_from_bytes(delivery.path.read_bytes(), policy=email.policy.default)
    assert parsed["To"].addresses[0].addr_spec == address


def test_a_dry_run_into_a_folder_already_used_numbers_on_and_overwrites_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "001-one@example.com.eml").write_text("my notes\n")
    deliveries = deliver([_message("one@example.com"), _message("two@example.com")], DirectoryMailer(out))
    assert [d.path.name for d in deliveries] == ["002-one@example.com.eml", "003-two@example.com.eml"]
    assert (out / "001-one@example.com.eml").read_text() == "my notes\n"
    again = deliver([_message("one@example.com")], DirectoryMailer(out))
    assert [d.path.name for d in again] == ["004-one@example.com.eml"]
    assert sorted(p.name for p in out.iterdir()) == [
        "001-one@example.com.eml", "002-one@example.com.eml", "003-two@example.com.eml", "004-one@example.com.eml"]


def test_a_dry_run_the_disk_cannot_take_leaves_no_cut_message(tmp_path):
    """Each message appears whole under its name or not at all: here a process whose files may not grow past 4 KB
    (RLIMIT_FSIZE, as a full disk would refuse) writes a message of 20 KB."""
    code = (
        "import resource, sys; from pathlib import Path\n"
        "from reports.mail import DirectoryMailer, build_message, deliver\n"
        "message = build_message(sender='a <a@example.org>', recipient='b@example.com', subject='s',"
        " text='x' * 20000, html='<p>' + 'y' * 20000 + '</p>')\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "[delivery] = deliver([message], DirectoryMailer(Path(sys.argv[1])))\n"
        "print(delivery.ok, delivery.error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.startswith("False OSError: [Errno 27] File too large: ")
    assert f"{tmp_path / 'out' / '001-b@example.com.eml'}" in done.stdout
    assert list((tmp_path / "out").iterdir()) == []

"""`clausewatch changes`, `alerts` and `reprocess` through the real CLI (CliRunner) on a SQLite home."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.pipeline import Analyzer
from analysis.text import sha256_bytes
from clausewatch.cli import main
from store.repository import Store

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
V1 = (
    "1. Accounts\n\n1.1 You must be 13 or older to use the Service, and keep your password secret.\n\n"
    "2. Fees\n\n2.1 Fees are billed monthly in advance and are not refundable in any case at all.\n"
)
V2 = V1.replace("not refundable in any case at all", "refundable within thirty days of the purchase")
V3 = V2.replace("billed monthly", "billed  monthly")


def _record(home, texts: dict[str, list[str]]):
    """A store in ``home`` where each platform's Terms of Service went through ``texts``, a day apart."""
    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects")
    specs = [PlatformSpec(s, s.title(), (DocumentSpec(s, "Terms of Service", (SourceSpec(f"https://{s}.example/"),)),))
             for s in texts]
    store.catalog.sync_catalog(specs, now=T0)
    ids = [d.id for d in store.catalog.documents()]
    versions = [(document_id, text, days) for document_id, slug in zip(ids, texts, strict=True)
                for days, text in texts[slug]]
    for document_id, text, days in versions:
        body = text.encode()
        at = T0 + timedelta(days=days)
        snapshot = Snapshot(sha256_bytes(body), document_id, "https://x.example/", "https://x.example/", 200,
                            "text/plain", at, size=len(body))
        store.recording.record_text(document_id, snapshot=snapshot, body=body, text=text, started_at=at, finished_at=at,
                          analyze=Analyzer())
    store.close()


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    _record(home, {"acme": [(0, V1), (1, V2), (2, V3)], "globex": [(0, V1), (5, V2)]})
    return home


def _run(home, *args):
    return CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)


def test_changes_json_has_the_stable_shape(home):
    result = _run(home, "changes", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["changes"]
    assert [(c["document"], c["substantive"]) for c in data["changes"]] == [
        ("CW-D-00001", True), ("CW-D-00001", False), ("CW-D-00002", True),
    ]
    first = data["changes"][0]
    assert list(first) == ["document", "from_version", "to_version", "detected_at", "substantive", "severity_raised",
                           "clause_changes"]
    assert first["detected_at"] == "2026-03-02T09:00:00+00:00" and len(first["to_version"]) == 64
    [clause] = first["clause_changes"]
    assert list(clause) == ["kind", "clause_key", "record_id", "heading_path", "severity_before", "severity_after",
                            "before", "after", "facts"]
    assert clause["kind"] == "modified" and "not refundable" in clause["before"] and "thirty days" in clause["after"]


def test_changes_filters(home):
    since = json.loads(_run(home, "changes", "--json", "--since", "2026-03-03").stdout)["changes"]
    assert [c["document"] for c in since] == ["CW-D-00001", "CW-D-00002"]
    globex = json.loads(_run(home, "changes", "--json", "--platform", "globex").stdout)["changes"]
    assert [c["document"] for c in globex] == ["CW-D-00002"]
    typo = CliRunner().invoke(main, ["--home", str(home), "changes", "--platform", "globx"])
    assert typo.exit_code == 2 and typo.stdout == ""  # a typo, never a quiet "0 change(s)"
    assert typo.stderr.strip() == "Error: unknown platform 'globx': the store never tracked it (known: acme, globex)"


def test_changes_readable_form_and_bad_date(home):
    result = _run(home, "changes", "--substantive")
    assert result.exit_code == 0
    assert "CW-D-00001 Acme · Terms of Service: substantive" in result.stdout
    assert "cosmetic" not in result.stdout
    assert "are [-not -]refundable [-in any case at all-]{+within thirty days of the purchase+}." in result.stdout
    # Severities in words, never a raw value ("(none → none)" before).
    assert "2.1 [CW-P-000002] (Low)" in result.stdout
    assert "none" not in result.stdout.lower()
    bad = CliRunner().invoke(main, ["--home", str(home), "changes", "--since", "yesterday"])
    assert bad.exit_code == 2 and "ISO date" in bad.output


CAP = ("3. Liability\n\n3.1 To the fullest extent permitted by the law applicable to you, and except where the "
       "law of your country of residence says otherwise, our total liability to you for all claims arising out of "
       "or relating to these terms or the Service is limited to US$100 per year.\n")


def test_a_change_past_the_first_lines_shows_the_changed_words(tmp_path):
    home = tmp_path / "home"
    _record(home, {"acme": [(0, V1 + CAP), (1, V1 + CAP.replace("US$100", "US$50") + "\x1b[2J")]})
    text = _run(home, "changes").stdout
    assert "US$[-100-]{+50+} per year" in text  # not two lines identical up to a cut
    assert "…" in text and "To the fullest extent" not in text  # long unchanged context is folded
    assert "\x1b" not in text  # an escape sequence in crawled text never reaches the terminal

    full = _run(home, "changes", "--full").stdout
    assert "3.1 To the fullest extent permitted by the law applicable to you" in full and "US$[-100-]{+50+}" in full

    coloured = _run(home, "changes", "--color").stdout
    assert "US$\x1b[31;9m100\x1b[0m\x1b[32;4m50\x1b[0m per year" in coloured and "[-" not in coloured


def test_alerts_dry_run_command(home, tmp_path):
    (home / "subscribers.yaml").write_text("- {email: a@example.com}\n- {email: nope}\n", encoding="utf-8")
    result = _run(home, "alerts", "--dry-run", str(tmp_path / "eml"))
    assert result.exit_code == 2  # a bad entry is bad input, named at its line; nothing is sent
    assert result.stderr.strip().endswith("subscribers.yaml:2: 'email': not a valid email address: 'nope'")
    assert not (tmp_path / "eml").exists() or not list((tmp_path / "eml").iterdir())
    (home / "subscribers.yaml").write_text("- {email: a@example.com}\n", encoding="utf-8")
    result = _run(home, "alerts", "--dry-run", str(tmp_path / "eml"))
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / "eml").iterdir()] == ["001-a@example.com.eml"]
    assert "2 pending change(s)" in result.stdout
    bare = _run(home, "alerts")
    assert bare.exit_code == 2 and "give --send" in bare.stderr  # never a silent default
    (home / "subscribers.yaml").unlink()
    missing = _run(home, "alerts", "--send")
    assert missing.exit_code == 2 and "subscribers.yaml does not exist" in missing.stderr
    unsaid = _run(home, "alerts")  # how to send is asked before any file is read
    assert unsaid.exit_code == 2 and "give --send" in unsaid.stderr


@pytest.mark.parametrize("listed", ["", "subscribers: []\n", "- {email: a@example.com, alerts: false, digest: false}\n"],
                         ids=["empty-file", "empty-list", "all-opted-out"])
def test_a_subscribers_file_with_no_one_to_send_to_marks_nothing_and_exits_2(home, tmp_path, listed):
    subscribers = home / "subscribers.yaml"
    subscribers.write_text(listed, encoding="utf-8")
    alerts = _run(home, "alerts", "--send")
    assert alerts.exit_code == 2, alerts.output
    assert alerts.stderr.splitlines() == [
        f"Error: SUBSCRIBERS (CLAUSEWATCH_SUBSCRIBERS): {subscribers} lists no alert subscribers"
        + (" (its 1 subscriber(s) all have alerts: false)" if "false" in listed else "") + "; nothing was marked alerted"]
    digest = _run(home, "digest", "--dry-run", str(tmp_path / "digest"))
    assert digest.exit_code == 2, digest.output
    assert digest.stderr.splitlines()[-1].endswith("lists no digest subscribers"
                                                    + (" (its 1 subscriber(s) all have digest: false)"
                                                       if "false" in listed else "") + "; nothing was sent")
    assert not (tmp_path / "digest").exists()
    subscribers.write_text("- {email: a@example.com}\n", encoding="utf-8")  # someone to tell, at last
    assert "2 pending change(s)" in _run(home, "alerts", "--dry-run", str(tmp_path / "eml")).stdout


def test_an_unsubscribe_url_that_is_not_http_or_mailto_never_reaches_a_header(home, tmp_path):
    subscribers = home / "subscribers.yaml"
    subscribers.write_text("- email: a@example.com\n  unsubscribe: javascript:alert(1)\n", encoding="utf-8")
    result = _run(home, "alerts", "--dry-run", str(tmp_path / "eml"))
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"Error: {subscribers}:1: 'unsubscribe' must be an https:, http: or mailto: URL, got 'javascript:alert(1)'"]
    assert not (tmp_path / "eml").exists()


def test_reprocess_command(home):
    result = _run(home, "reprocess")
    assert result.exit_code == 0, result.output
    # Plain-text snapshots extract to the very texts stored: nothing to rebuild.
    assert "reprocessed 2 document(s): 0 fetch(es) replayed, 0 technical version(s) recorded" in result.stdout
    unknown = CliRunner().invoke(main, ["--home", str(home), "reprocess", "--document", "CW-D-99999"])
    assert unknown.exit_code == 2 and "CW-D-99999" in unknown.output
    # A platform mistyped reprocessed nothing, exit 0 (review of 2026-12-02).
    typo = CliRunner().invoke(main, ["--home", str(home), "reprocess", "--platform", "globx"])
    assert typo.exit_code == 2
    assert typo.stderr.strip() == "Error: unknown platform 'globx': the store never tracked it (known: acme, globex)"


def test_reprocess_names_a_document_whose_blob_is_missing_in_one_line_and_exits_1(home):
    missing = sha256_bytes(V3.encode())  # acme's third text (and its snapshot): globex never had it
    (home / "objects" / missing[:2] / missing[2:]).unlink()
    result = CliRunner().invoke(main, ["--home", str(home), "reprocess"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert [line for line in result.stderr.splitlines() if "CW-D-" in line or "blob" in line] == [
        f"error: CW-D-00001: blob {missing} is missing from {home / 'objects'}"]
    assert "reprocessed 1 document(s): 0 fetch(es) replayed, 0 technical version(s) recorded, 0 folded; " \
           "1 document(s) failed" in result.stdout


def test_reprocess_stops_at_the_first_failure_of_the_store_in_one_line(tmp_path):
    # A full disk: every document after the first failed the same way, a traceback each, exit 1. A file-size
    # limit makes SQLite's writes fail for real (SIGXFSZ ignored: the write returns EFBIG, as a full disk's would);
    # 40 KB lets the 32 KB -shm be made, not the first document's rebuilt version.
    home = tmp_path / "home"
    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects")
    specs = [PlatformSpec(s, s.title(), (DocumentSpec(s, "Terms of Service", (SourceSpec(f"https://{s}.example/"),)),))
             for s in ("acme", "globex", "initech")]
    store.catalog.sync_catalog(specs, now=T0)
    for document in store.catalog.documents():
        body = V1.encode()
        snapshot = Snapshot(sha256_bytes(body), document.id, "https://x.example/", "https://x.example/", 200,
                            "text/plain", T0, size=len(body))
        # Recorded as an older extractor did, with a line it no longer keeps: reprocess rebuilds each.
        store.recording.record_text(document.id, snapshot=snapshot, body=body, text=V1 + "\nPrinted today\n",
                                    started_at=T0, finished_at=T0, analyze=Analyzer())
    store.close()
    script = ("import resource, signal, sys\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (40960, resource.RLIM_INFINITY))\n"
              "from clausewatch.cli import main\n"
              "sys.argv = ['clausewatch', '--home', sys.argv[1], 'reprocess']\n"
              "main()\n")

    done = subprocess.run([sys.executable, "-c", script, str(home)], capture_output=True, text=True)

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "reprocessed" not in done.stdout, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "clausewatch.db" in errors[0], done.stderr

"""`clausewatch show` through the real CLI (CliRunner) on a SQLite home: the text in force at a date."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from analysis.domain import Classification, DocumentSpec, PlatformSpec, Snapshot, SourceSpec
from analysis.pipeline import Analyzer
from analysis.text import normalize_text, sha256_bytes, sha256_text
from clausewatch.cli import main
from store.repository import Store
from store.site_data import load_site_data

T0 = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
V1 = "# Terms\n\n## Disputes\n\nAny dispute goes to arbitration in Delaware.\n\n## Fees\n\nFees are billed monthly.\n"
V2 = V1.replace("to arbitration", "to binding arbitration")


class ArbitrationOnly:
    """Deterministic classifier: a clause mentioning arbitration is one, nothing else has a type."""

    analyzer_id = "test-arbitration-1"

    def classify(self, texts: Sequence[str], privacy_policy: bool = False) -> list[Classification]:
        return [Classification(types=("arbitration",), severity="high", confidence=0.9, basis="explicit")
                if "arbitration" in t else Classification(types=()) for t in texts]


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects")
    spec = PlatformSpec("acme", "Acme <b>Cloud</b>", (DocumentSpec("acme", "Terms of Service",
                                                                   (SourceSpec("https://acme.test/terms"),)),))
    store.catalog.sync_catalog([spec], now=T0)
    (doc,) = store.catalog.documents()
    for text, when in ((V1, T0), (V2, T0 + timedelta(days=1))):
        body = text.encode()
        snap = Snapshot(sha256_bytes(body), doc.id, "https://acme.test/terms", "https://acme.test/terms", 200,
                        "text/plain", when, size=len(body))
        store.recording.record_text(doc.id, snapshot=snap, body=body, text=normalize_text(text), started_at=when,
                                    finished_at=when, analyze=Analyzer(model=ArbitrationOnly()))
    record = load_site_data(store).documents[0].provisions[0].id
    store.close()
    return home, doc.id, record


def _run(home, *args):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def test_show_prints_the_text_in_force_at_a_date(home):
    folder, doc_id, _ = home
    result = _run(folder, "show", doc_id, "--at", "2026-05-01T12:00")
    assert result.exit_code == 0, result.output
    assert result.stdout == normalize_text(V1)
    assert sha256_text(normalize_text(V1)) in result.stderr
    assert _run(folder, "show", doc_id).stdout == normalize_text(V2)  # default: now
    # a bare date is the whole day: the text at its end
    assert _run(folder, "show", doc_id, "--at", "2026-05-02").stdout == normalize_text(V2)


def test_show_json_gives_the_version_dates_and_text(home):
    folder, doc_id, _ = home
    data = json.loads(_run(folder, "show", doc_id, "--at", T0.isoformat(), "--json").stdout)
    assert data["version"]["sha256"] == sha256_text(normalize_text(V1))
    assert data["version"]["in_force_from"] == T0.isoformat()
    assert data["version"]["in_force_until"] == (T0 + timedelta(days=1)).isoformat()
    assert data["first_capture"] == T0.isoformat() and data["text"] == normalize_text(V1)
    assert data["version"]["snapshots"][0]["sha256"] == sha256_bytes(V1.encode())


def test_show_a_provision_prints_its_clause_as_it_stood(home):
    folder, doc_id, record = home
    old = json.loads(_run(folder, "show", record, "--at", "2026-05-01T23:00", "--json").stdout)
    assert old["clause_type"] == "arbitration" and old["document"] == doc_id
    assert [c["text"] for c in old["clauses"]] == ["Any dispute goes to arbitration in Delaware."]
    now = _run(folder, "show", record)
    assert now.exit_code == 0 and now.stdout.strip().endswith("\nAny dispute goes to binding arbitration in Delaware.")


def test_a_date_before_the_first_capture_is_a_one_line_error(home):
    folder, doc_id, record = home
    for target in (doc_id, record):
        result = _run(folder, "show", target, "--at", "2026-04-30")
        assert result.exit_code == 2
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
        assert f"its first capture is {T0.isoformat()}" in result.stderr


@pytest.mark.parametrize("args, expected", [
    (("show", "CW-D-99999"), "no document 'CW-D-99999'"),
    (("show", "CW-P-999999"), "no provision record 'CW-P-999999'"),
    (("show", "CW-D-00001", "--at", "last tuesday"), "--at: expected an ISO date"),
    # Past year 9999 once in UTC: --cite ended in an OverflowError traceback (review of 2026-12-02).
    (("show", "CW-P-000001", "--at", "9999-12-31T20:00-05:00", "--cite"), "--at: '9999-12-31T20:00-05:00' is out of "
                                                                           "the range of dates (years 1 to 9999 in UTC)"),
    # A byte that is not UTF-8, as a shell passes it: a traceback from the database driver (review of 2026-12-02).
    (("show", b"CW-D-\xff".decode("utf-8", "surrogateescape")), "no document or provision record 'CW-D-\\udcff'"),
    (("show", b"CW-P-\xff".decode("utf-8", "surrogateescape")), "no document or provision record 'CW-P-\\udcff'"),
])
def test_bad_input_is_a_one_line_error_with_exit_2(home, args, expected):
    result = _run(home[0], *args)
    assert result.exit_code == 2 and expected in result.stderr
    assert result.stderr.count("\n") == 1


def test_cite_names_the_version_in_force_on_the_cited_date_not_the_latest(home):
    folder, doc_id, record = home
    v1, v2 = sha256_text(normalize_text(V1)), sha256_text(normalize_text(V2))
    cited = _run(folder, "--config", "/dev/null", "show", record, "--at", "2026-05-01", "--cite").stdout
    assert f"Version SHA-256: {v1}" in cited and v2 not in cited
    assert "As it stood on: 2026-05-01" in cited and "in force from 2026-05-01 until 2026-05-02" in cited
    assert f"documents/{doc_id}/versions/{v1[:16]}.html" in cited
    assert f"@misc{{clausewatch-{record}-{v1[:12]}-20260501," in cited
    assert "Acme <b>Cloud</b>, Terms of Service: Arbitration" in cited  # plain text: not HTML, nothing escaped
    assert "Capture log entry: " in cited  # the cited snapshot's leaf in the capture log
    latest = _run(folder, "show", doc_id, "--cite").stdout
    assert f"Version SHA-256: {v2}" in latest and "until" not in latest.split("Version in force")[1].split("\n")[0]


def test_a_document_never_captured_says_so(home):
    folder = home[0]
    store = Store.open(f"sqlite:///{folder / 'clausewatch.db'}", folder / "objects")
    spec = PlatformSpec("globex", "Globex", (DocumentSpec("globex", "Privacy Policy", (SourceSpec("https://g.test/"),)),))
    store.catalog.sync_catalog([spec], now=T0)
    doc = next(d for d in store.catalog.documents() if d.platform == "globex")
    store.close()
    result = _run(folder, "show", doc.id)
    assert result.exit_code == 2 and "it was never captured" in result.stderr


def test_crawled_escape_sequences_and_overrides_never_reach_the_terminal(tmp_path):
    # `show` wrote a page's ESC ] 0 ; … BEL (the window's title), ESC [ 2 J (clear the screen) and a right-to-left
    # override to the terminal as they were (review of 2026-12-01).
    home = tmp_path / "home"
    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects")
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec("https://acme.test/t"),)),))
    store.catalog.sync_catalog([spec], now=T0)
    (doc,) = store.catalog.documents()
    text = "# Terms\n\n## Fees\n\nFees\x1b]0;PWNED\x07 are\x1b[2J billed \u202eylhtnom\u202c.\n\tTabs stay.\n"
    body = text.encode()
    snap = Snapshot(sha256_bytes(body), doc.id, "https://acme.test/t", "https://acme.test/t", 200, "text/plain", T0,
                    size=len(body))
    store.recording.record_text(doc.id, snapshot=snap, body=body, text=normalize_text(text), started_at=T0,
                                finished_at=T0, analyze=Analyzer(model=ArbitrationOnly()))
    store.close()

    result = _run(home, "show", doc.id)

    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "Fees\ufffd]0;PWNED\ufffd are\ufffd[2J billed \ufffdylhtnom\ufffd." in result.output

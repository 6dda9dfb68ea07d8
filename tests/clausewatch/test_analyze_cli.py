"""`clausewatch analyze`: stale versions are re-classified, keys and provision ids stay put."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from analysis import alignment, classifier, pipeline
from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec, StoredVersion, Version
from analysis.pipeline import Analyzer
from analysis.text import normalize_text, sha256_bytes
from clausewatch.cli import main
from store.analysis_queries import versions_to_analyse
from store.repository import Store
from store.site_data import load_site_data
from tests.fakes import KeywordClassifier

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

V1 = normalize_text("""\
## 1. Disputes

1.1 Any dispute will be resolved by binding arbitration administered by the AAA in New York.

1.2 These terms are governed by the laws of the State of New York.

## 2. Cookies

We use cookies to remember your preferences and measure traffic on the site.
""")
V2 = V1.replace("measure traffic on the site", "show you personalised advertising from our partners")


def old_classifier() -> KeywordClassifier:
    """What the store was analysed with before: marks cookies as tracking, nothing else."""
    return KeywordClassifier("old-keywords-0", {"cookies": ("tracking", "low")})


def new_classifier() -> KeywordClassifier:
    """The classifier now in place: also knows governing-law clauses."""
    return KeywordClassifier("new-keywords-1", {"cookies": ("tracking", "low"), "governed": ("governing_law", "low")})


@pytest.fixture(autouse=True)
def the_new_classifier_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command loads the default classifier; here that is new_classifier() (the model is another test's business)."""
    monkeypatch.setattr(classifier, "load_default", new_classifier)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def record_versions(store_url: str, home: Path, *analyzers: Analyzer | None) -> tuple[str, Store]:
    """A store at ``store_url`` with one document whose versions V1, V2 were analysed by ``analyzers`` (None: never)."""
    store = Store.open(store_url, home / "objects")
    spec = DocumentSpec("acme", "Terms of Service", (SourceSpec("https://acme.test/tos"),))
    store.catalog.sync_catalog([PlatformSpec("acme", "Acme", (spec,))], now=T0)
    (document,) = store.catalog.documents()
    for day, (text, analyzer) in enumerate(zip((V1, V2), analyzers, strict=True)):
        at = T0 + timedelta(days=day)
        body = text.encode()
        snapshot = Snapshot(sha256_bytes(body), document.id, spec.url, spec.url, 200, "text/html", at)
        store.recording.record_text(document.id, snapshot=snapshot, body=body, text=text, started_at=at, finished_at=at,
                          analyze=analyzer)
    return document.id, store


@pytest.fixture
def recorded(store_url: str, home: Path) -> tuple[str, Store]:
    """Two versions of one document, both analysed by old_classifier()."""
    document_id, store = record_versions(store_url, home, Analyzer(old_classifier()), Analyzer(old_classifier()))
    yield document_id, store
    store.close()


@pytest.fixture
def second_never_analysed(store_url: str, home: Path) -> tuple[str, Store]:
    """Two versions of one document, the first analysed by old_classifier(), the second never analysed."""
    document_id, store = record_versions(store_url, home, Analyzer(old_classifier()), None)
    yield document_id, store
    store.close()


def analyze(home: Path, url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(home), "--database-url", url, "analyze", *args],
                              catch_exceptions=False)


def analysed_with(store: Store) -> list[str | None]:
    """The analyser of every stored version, oldest first."""
    return [ref.analyzed_with for ref in versions_to_analyse(store, "", everything=True)]


def provisions(store: Store) -> dict[str, str]:
    """The provision record id of each clause type of the (one) document."""
    return {p.clause_type: p.id for document in load_site_data(store).documents for p in document.provisions}


def test_stale_versions_are_reanalysed_keeping_keys_and_provision_ids(recorded, store_url, home):
    document_id, store = recorded
    keys_before = [[c.clause.key for c in v.clauses] for v in store.history.versions(document_id)]
    provisions_before = provisions(store)
    assert provisions_before.keys() == {"tracking"}

    result = analyze(home, store_url)
    current = Analyzer(new_classifier()).analyzer_id
    assert result.exit_code == 0, result.output
    assert f"analysed 2 version(s) with {current}" in result.output
    assert analysed_with(store) == [current, current]
    assert [[c.clause.key for c in v.clauses] for v in store.history.versions(document_id)] == keys_before
    after = provisions(store)
    assert {k: after[k] for k in provisions_before} == provisions_before
    assert after.keys() == {"tracking", "governing_law"}
    law = [c for c in store.history.current_version(document_id).clauses if "governed" in c.clause.text][0]
    assert law.classification.types == ("governing_law",)

    # Nothing is stale any more; --all does them again.
    assert "analysed 0 version(s)" in analyze(home, store_url, "--stale").output
    assert "analysed 2 version(s)" in analyze(home, store_url, "--all").output
    assert [[c.clause.key for c in v.clauses] for v in store.history.versions(document_id)] == keys_before


def test_versions_whose_language_another_detector_named_are_stale(store_url, home, monkeypatch):
    with monkeypatch.context() as earlier:
        earlier.setattr(pipeline, "detector_id", lambda: "older-detector-1")
        document_id, store = record_versions(store_url, home, Analyzer(new_classifier()), Analyzer(new_classifier()))
    try:
        assert analysed_with(store) == ["new-keywords-1+older-detector-1"] * 2
        result = analyze(home, store_url, "--stale")
        assert "analysed 2 version(s)" in result.output, result.output
        assert analysed_with(store) == [Analyzer(new_classifier()).analyzer_id] * 2
    finally:
        store.close()


def test_a_version_never_analysed_takes_keys_from_the_previous_version(second_never_analysed, store_url, home):
    document_id, store = second_never_analysed
    assert analysed_with(store) == [Analyzer(old_classifier()).analyzer_id, None]
    assert store.history.versions(document_id)[1].clauses == ()
    assert analyze(home, store_url, "--stale").exit_code == 0
    first, second = store.history.versions(document_id)
    shared_text = [c for c in second.clauses if "governed by" in c.clause.text][0]
    assert shared_text.clause.key == [c for c in first.clauses if "governed by" in c.clause.text][0].clause.key


def test_a_missing_text_blob_fails_that_document_only_with_exit_status_1(recorded, store_url, home):
    document_id, store = recorded
    current = store.history.current_version(document_id)
    store.blobs.path(current.version.sha256).unlink()
    result = CliRunner().invoke(main, ["--home", str(home), "--database-url", store_url, "analyze"])
    assert result.exit_code == 1
    assert f"analyze: {document_id}: blob {current.version.sha256} is missing" in result.output
    assert "2 failed" in result.output
    assert analysed_with(store) == [Analyzer(old_classifier()).analyzer_id] * 2


def test_all_and_stale_together_are_a_usage_error(sqlite_url, home):
    result = CliRunner().invoke(main, ["--home", str(home), "--database-url", sqlite_url, "analyze", "--all", "--stale"])
    assert result.exit_code == 2
    assert "exclude each other" in result.output


def test_of_clauses_alike_but_for_case_the_one_with_the_same_text_keeps_its_key():
    shout, plain = "FEES apply to every order placed on the site!", "Fees apply to every order placed on the site."
    analyzer = Analyzer(old_classifier())
    old = analyzer.classify_text(f"## Fees\n\n{plain}\n\n{shout}\n")
    new = analyzer.classify_text(f"## Fees\n\n{shout}\n\n{plain}\n")
    assert alignment.align(old, new) == {0: (1, 1.0), 1: (0, 1.0)}  # not document order: the very same text
    text = f"## Fees\n\n{shout}\n\n{plain}\n"
    kept = tuple(replace(c, clause=replace(c.clause, key=f"k-{i}")) for i, c in enumerate(analyzer.classify_text(text)))
    version = Version("0" * 64, "CW-D-00001", T0, T0)
    again = Analyzer(new_classifier()).reanalyse(StoredVersion(version, text, kept), None)
    assert [c.clause.key for c in again.clauses] == ["k-0", "k-1"]
    assert again.change is None


def stricter_classifier() -> KeywordClassifier:
    """A model that now finds personalised advertising high-severity tracking, and knows governing law."""
    return KeywordClassifier("stricter-2", {"cookies": ("tracking", "low"), "advertising": ("tracking", "high"),
                                            "governed": ("governing_law", "medium")})


def test_past_changes_get_the_new_severities_and_the_reanalysis_is_a_technical_change(
        recorded, store_url, home, monkeypatch):
    from store.change_records import list_changes

    document_id, store = recorded
    [before] = list_changes(store)
    [cookies] = before.clause_changes
    assert (cookies.change.severity_before, cookies.change.severity_after, before.severity_raised) == (
        "low", "low", False)

    monkeypatch.setattr(classifier, "load_default", stricter_classifier)
    assert analyze(home, store_url, "--stale").exit_code == 0

    [after] = list_changes(store)  # the stored change between the two versions, brought up to date
    assert after.id == before.id
    [cookies] = after.clause_changes
    assert (cookies.change.severity_before, cookies.change.severity_after) == ("low", "high")
    assert after.severity_raised

    technical = [c for c in list_changes(store, include_technical=True) if c.technical]
    [reanalysis] = technical
    assert reanalysis.from_version == reanalysis.to_version == store.history.current_version(document_id).version.sha256
    assert not reanalysis.substantive and reanalysis.cosmetic_reason == (
        f"re-analysed: {Analyzer(old_classifier()).analyzer_id} → {Analyzer(stricter_classifier()).analyzer_id}")
    moved = {c.change.clause_key: (c.change.severity_before, c.change.severity_after) for c in reanalysis.clause_changes}
    assert sorted(moved.values(), key=str) == [("low", "high"), (None, "medium")]
    assert all(c.change.before == c.change.after for c in reanalysis.clause_changes)
    # Never alerted: the alert queue holds only the change of text.
    assert [c.id for c in list_changes(store, pending_alert=True)] == [before.id]

    # Nothing moves on a second run with the same model: no second technical change.
    assert "analysed 0 version(s)" in analyze(home, store_url, "--stale").output
    assert len([c for c in list_changes(store, include_technical=True) if c.technical]) == 1


def test_the_site_shows_a_reanalysis_as_a_technical_change(recorded, store_url, home, tmp_path, monkeypatch):
    document_id, _store = recorded
    monkeypatch.setattr(classifier, "load_default", stricter_classifier)
    assert analyze(home, store_url, "--stale").exit_code == 0
    out = tmp_path / "site"
    built = CliRunner().invoke(main, ["--home", str(home), "--database-url", store_url, "site", "--out", str(out)],
                               catch_exceptions=False)
    assert built.exit_code == 0, built.output
    page = (out / "documents" / f"{document_id}.html").read_text()
    reason = f"re-analysed: {Analyzer(old_classifier()).analyzer_id} → {Analyzer(stricter_classifier()).analyzer_id}"
    assert reason in page and "technical rebuild" in page


def test_a_record_a_reanalysis_opened_dates_the_tracking_from_the_document(store_url, home, tmp_path):
    # The record page said "Acme has changed this document 1 time": the re-analysis, ours, counted as the
    # platform's change; and "… since we started tracking it on" gave the day the new model found the clause type,
    # not the day the document was first archived.
    store = Store.open(store_url, home / "objects")
    spec = DocumentSpec("acme", "Terms of Service", (SourceSpec("https://acme.test/tos"),))
    store.catalog.sync_catalog([PlatformSpec("acme", "Acme", (spec,))], now=T0)
    (document,) = store.catalog.documents()
    snapshot = Snapshot(sha256_bytes(V1.encode()), document.id, spec.url, spec.url, 200, "text/html", T0)
    store.recording.record_text(document.id, snapshot=snapshot, body=V1.encode(), text=V1, started_at=T0,
                                finished_at=T0, analyze=Analyzer(old_classifier()))
    store.close()
    assert analyze(home, store_url, "--stale").exit_code == 0  # the new model finds governing law: a new record
    out = tmp_path / "site"

    built = CliRunner().invoke(main, ["--home", str(home), "--database-url", store_url, "site", "--out", str(out)],
                               catch_exceptions=False)

    assert built.exit_code == 0, built.output
    [record] = [page for page in (out / "records").glob("*.html") if "Governing law" in page.read_text()]
    assert "has not changed this document since we started tracking it on May 1, 2026." in record.read_text()
    # Nor do the feeds (whose entry shared the atom:id of the version, so a reader kept the re-analysis in place of
    # the real change), the index or the platform's page count it as a change.
    for feed in ("all", "CW-D-00001", "platform-acme"):
        assert "<entry>" not in (out / "feeds" / f"{feed}.atom").read_text(), feed
    index = (out / "index.html").read_text()
    assert "<strong>0</strong> changes" in index and "re-analysed" not in index
    assert "re-analysed" not in (out / "platforms" / "acme.html").read_text()
    assert "re-analysed" in (out / "documents" / "CW-D-00001.html").read_text()  # shown where it belongs

"""reports/citations.py: what a citation says about the version it names."""

from datetime import UTC, datetime, time

from reports.citations import Citation

FROM, UNTIL, CITED = (datetime(2026, 5, d, 9, tzinfo=UTC) for d in (1, 9, 4))
SHA = "ab" * 32


def _citation(**changes) -> Citation:
    fields = dict(entity="Evil {Corp}} \\input{x}", document="Terms of Service", document_id="CW-D-00007",
                  version_sha256=SHA, in_force_from=FROM, in_force_until=UNTIL,
                  url="https://watch.example/documents/CW-D-00007/versions/abababababababab.html",
                  record_id="CW-P-000042", provision="Arbitration", cited_at=CITED, snapshot_sha256="cd" * 32,
                  captured_at=FROM)
    fields.update(changes)
    return Citation(**fields)


def test_a_dated_citation_names_the_version_and_when_it_was_in_force():
    text = _citation().plain_text()
    assert "As it stood on: 2026-05-04" in text and f"Version SHA-256: {SHA}" in text
    assert "Version in force from 2026-05-01 until 2026-05-09" in text
    assert "Capture log entry" not in text  # no log yet: nothing claimed


def test_the_capture_log_index_is_cited_once_known():
    cited = _citation(log_index=1234)
    assert "Capture log entry: 1234" in cited.plain_text() and "capture log entry 1234" in cited.bibtex()


def test_open_ended_wording_depends_on_where_it_is_printed():
    assert "still in force at the last capture" in _citation(in_force_until=None).plain_text()
    page = _citation(in_force_until=None, still_in_force=False, cited_at=None).plain_text()
    assert "Version in force from 2026-05-01\n" in page and "still" not in page


def test_bibtex_key_names_record_version_and_date_and_crawled_braces_stay_out():
    entry = _citation().bibtex()
    assert entry.startswith("@misc{clausewatch-CW-P-000042-abababababab-20260504T090000,\n")
    assert entry.count("{") == entry.count("}") and "\\input" not in entry
    assert "title = {Evil (Corp))  input(x), Terms of Service: Arbitration}," in entry
    assert "note = {Record CW-P-000042, document CW-D-00007, as it stood on 2026-05-04 09:00:00 UTC" in entry
    whole_day = _citation(cited_at=datetime.combine(CITED.date(), time.max, tzinfo=UTC)).bibtex()
    assert whole_day.startswith("@misc{clausewatch-CW-P-000042-abababababab-20260504,\n")


def test_a_time_cited_and_two_versions_of_one_day_are_told_apart_by_the_time():
    # Both citations said "As it stood on: 2026-05-04", "in force from 2026-05-04 until 2026-05-04", for two
    # different versions: a bare date stands for the end of the day, which neither was cited at.
    morning = _citation(in_force_from=datetime(2026, 5, 4, 6, 0, 8, tzinfo=UTC),
                        in_force_until=datetime(2026, 5, 4, 6, 0, 12, tzinfo=UTC)).plain_text()
    assert "As it stood on: 2026-05-04 09:00:00 UTC" in morning
    assert "in force from 2026-05-04 06:00:08 UTC until 2026-05-04 06:00:12 UTC" in morning
    day = _citation(cited_at=datetime.combine(CITED.date(), time.max, tzinfo=UTC)).plain_text()
    assert "As it stood on: 2026-05-04\n" in day

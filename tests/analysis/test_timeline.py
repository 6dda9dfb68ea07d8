from datetime import UTC, datetime, timedelta

import pytest

from analysis.domain import Classification, ClassifiedClause, Clause
from analysis.timeline import Capture, NotYetCapturedError, in_force_at, periods_of, wordings_of

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_captures_of_one_version_make_one_period_until_the_next_version():
    periods = periods_of([Capture(T0, "a"), Capture(T0 + DAY, "a"), Capture(T0 + 2 * DAY, "b")])
    assert [(p.version, p.start, p.end) for p in periods] == [("a", T0, T0 + 2 * DAY), ("b", T0 + 2 * DAY, None)]


def test_a_text_that_goes_back_opens_a_new_period_of_the_old_version():
    periods = periods_of([Capture(T0, "a"), Capture(T0 + DAY, "b"), Capture(T0 + 2 * DAY, "a")])
    assert [p.version for p in periods] == ["a", "b", "a"]
    assert in_force_at(periods, T0 + 3 * DAY).version == "a"
    assert in_force_at(periods, T0 + DAY + timedelta(hours=1)).version == "b"


def test_boundaries_first_capture_change_moment_and_after_the_last():
    periods = periods_of([Capture(T0, "a"), Capture(T0 + DAY, "b")])
    assert in_force_at(periods, T0).version == "a"  # exactly at the first capture
    assert in_force_at(periods, T0 + DAY - timedelta(microseconds=1)).version == "a"
    assert in_force_at(periods, T0 + DAY).version == "b"  # exactly at the change
    assert in_force_at(periods, T0 + 400 * DAY).version == "b"
    with pytest.raises(NotYetCapturedError) as caught:
        in_force_at(periods, T0 - timedelta(seconds=1))
    assert caught.value.first_capture == T0
    with pytest.raises(NotYetCapturedError):
        in_force_at((), T0)


def _clause(ordinal, text, types):
    return ClassifiedClause(Clause(ordinal, (f"{ordinal}.",), text, key=f"k{ordinal}"),
                            Classification(types=types, severity="high" if types else "low"))


def test_wordings_merge_versions_that_left_the_provision_alone():
    periods = periods_of([Capture(T0, "a"), Capture(T0 + DAY, "b"), Capture(T0 + 2 * DAY, "c"),
                          Capture(T0 + 3 * DAY, "d")])
    clauses = {
        "a": [_clause(1, "Intro.", ())],
        "b": [_clause(1, "Intro.", ()), _clause(2, "Disputes go to arbitration.", ("arbitration",))],
        "c": [_clause(1, "Intro, reworded.", ()), _clause(2, "Disputes go to arbitration.", ("arbitration",))],
        "d": [_clause(1, "Intro.", ())],
    }
    wordings = wordings_of(periods, clauses, "arbitration")
    # Before the provision first appeared is not a wording of it; its removal is one.
    assert [(w.text, w.start, w.end, w.versions) for w in wordings] == [
        ("Disputes go to arbitration.", T0 + DAY, T0 + 3 * DAY, ("b", "c")),
        ("", T0 + 3 * DAY, None, ("d",)),
    ]

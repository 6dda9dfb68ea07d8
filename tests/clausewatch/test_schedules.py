"""schedules.yaml: parsing, validation with line numbers, and fire times from a given ``now``."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clausewatch.schedules import (
    ScheduledJob,
    SchedulesError,
    Selection,
    cron_weekdays,
    load_schedules,
    parse_schedules,
)

ACTIONS = ("crawl", "run", "digest", "alerts", "site")
REPO = Path(__file__).resolve().parents[2]


def parse(text: str):
    return parse_schedules(text, path=Path("schedules.yaml"), actions=ACTIONS)


def problems(text: str) -> list[str]:
    with pytest.raises(SchedulesError) as error:
        parse(text)
    return error.value.problems


def test_the_shipped_file_is_valid_daily_run_and_monday_digest():
    schedules = load_schedules(REPO / "schedules.yaml", actions=ACTIONS)
    daily, digest = schedules.jobs
    assert (daily.action, daily.selection.is_all, daily.timezone) == ("run", True, "UTC")
    assert (digest.action, digest.timezone) == ("digest", "Europe/Paris")
    (monday,) = digest.next_fire_times(datetime(2026, 11, 24, tzinfo=UTC), count=1)
    assert monday.weekday() == 0 and monday.hour == 7


def test_full_job_is_parsed():
    schedules = parse("""
timezone: Europe/Berlin
jobs:
  - id: ai-terms
    action: crawl
    select: {platforms: [kling-ai, openai], types: Terms of Service}
    cron: "*/30 8-18 * * 1-5"
    jitter: 60
""")
    (job,) = schedules.jobs
    assert job == ScheduledJob("ai-terms", "crawl", "*/30 8-18 * * 1-5", "Europe/Berlin", 60,
                               Selection(platforms=("kling-ai", "openai"), types=("Terms of Service",)), line=4)
    assert job.trigger().jitter == 60
    assert job.selection.describe() == "platforms=kling-ai,openai types=Terms of Service"


def test_next_fire_times_from_a_given_now_in_the_jobs_zone():
    (job,) = parse('jobs: [{id: d, action: digest, cron: "0 7 * * mon", timezone: Europe/Paris}]').jobs
    now = datetime(2026, 3, 23, 6, 30, tzinfo=UTC)  # Monday 07:30 in Paris: this week's has passed
    times = job.next_fire_times(now)
    assert [t.astimezone(UTC).isoformat() for t in times] == [
        "2026-03-30T05:00:00+00:00",  # summer time began on the 29th: 07:00 CEST
        "2026-04-06T05:00:00+00:00",
        "2026-04-13T05:00:00+00:00",
    ]


@pytest.mark.parametrize(("cron_field", "names"), [
    ("0", "sun"), ("7", "sun"), ("1", "mon"), ("1-5", "mon,tue,wed,thu,fri"),
    ("0,6", "sun,sat"), ("*/2", "sun,tue,thu,sat"), ("mon-fri", "mon-fri"), ("*", "*"), ("5-7", "fri,sat,sun"),
])
def test_cron_weekday_numbers_mean_what_they_mean_to_cron(cron_field, names):
    assert cron_weekdays(cron_field) == names


def test_cron_monday_is_monday():
    (job,) = parse('jobs: [{id: m, action: site, cron: "0 9 * * 1"}]').jobs
    (fire,) = job.next_fire_times(datetime(2026, 11, 23, 10, tzinfo=UTC), count=1)  # a Monday, after 09:00
    assert fire == datetime(2026, 11, 30, 9, tzinfo=UTC)


@pytest.mark.parametrize(("cron", "expected"), [
    # Both day fields restricted: cron runs on either day (APScheduler alone ran only Mondays that are a 1st).
    ("0 7 1 * mon", ["2026-12-01", "2026-12-07", "2026-12-14", "2026-12-21", "2026-12-28", "2027-01-01"]),
    ("0 7 15 * 5", ["2026-12-04", "2026-12-11", "2026-12-15", "2026-12-18", "2026-12-25", "2027-01-01"]),
    # One of them holds "*": the other alone decides, as in cron.
    ("0 7 */10 * mon", ["2026-12-21", "2027-01-11", "2027-02-01", "2027-03-01", "2027-05-31", "2027-06-21"]),
    ("0 7 1 * *", ["2026-12-01", "2027-01-01", "2027-02-01", "2027-03-01", "2027-04-01", "2027-05-01"]),
    # A step starting with "*" is a "*" to cron, though it is translated into day names for APScheduler.
    ("0 7 1 * */1", ["2026-12-01", "2027-01-01", "2027-02-01", "2027-03-01", "2027-04-01", "2027-05-01"]),
])
def test_a_day_of_month_and_a_day_of_week_mean_either_day_as_in_cron(cron, expected):
    (job,) = parse(f'jobs: [{{id: j, action: site, cron: "{cron}", jitter: 30}}]').jobs
    times = job.next_fire_times(datetime(2026, 11, 30, 8, tzinfo=UTC), count=6)
    assert [t.date().isoformat() for t in times] == expected
    assert {t.hour for t in times} == {7}
    assert job.trigger().jitter == 30


@pytest.mark.parametrize("field", ["1/-1", "*/0", "mon/x"])
def test_a_weekday_step_that_is_no_step_is_named(field):
    # "1/-1" was reported as 'Unrecognized expression ""', "*/0" as Python's "range() arg 3 must not be zero".
    assert problems(f'jobs: [{{id: j, action: site, cron: "0 7 * * {field}"}}]') == [
        f"schedules.yaml:1: job 'j': cron '0 7 * * {field}' is not valid: day-of-week step "
        f"{field.partition('/')[2]!r} in {field!r} is not a whole number from 1 on"]


def test_every_problem_is_reported_with_its_line():
    found = problems("""jobs:
  - id: daily
    action: crawl
    cron: "0 25 * * *"
  - id: Bad Id
    action: explode
    cron: "0 5 * *"
    timezone: Mars/Olympus
    jitter: -5
    colour: blue
  - id: daily
    action: site
    cron: "0 6 * * *"
""")
    assert found[0].startswith("schedules.yaml:4: job 'daily': cron '0 25 * * *' is not valid")
    joined = "\n".join(found)
    assert "schedules.yaml:10: unknown key `colour`" in joined
    assert "schedules.yaml:5: job id 'Bad Id'" in joined
    assert "schedules.yaml:6: job 'Bad Id': unknown action 'explode' (expected one of: crawl, run" in joined
    assert "schedules.yaml:8: unknown time zone 'Mars/Olympus'" in joined
    assert "schedules.yaml:9: job 'Bad Id': jitter '-5' must be a whole number" in joined
    assert "schedules.yaml:11: job id 'daily' is already used on line 2" in joined


@pytest.mark.parametrize(("text", "expected"), [
    ("", "schedules.yaml:1: the file is empty"),
    ("jobs: {daily: 1}\n", "schedules.yaml:1: `jobs` must be a list"),
    ("timezone: UTC\n", "schedules.yaml:1: no `jobs` list"),
    ("jobs:\n  - id: x\n    action: crawl\n", "schedules.yaml:2: job is missing `cron`"),
    ("jobs:\n  - [1, 2]\n", "schedules.yaml:2: a job must be a mapping"),
    ("jobs:\n  - id: x\n    cron: '0 5 * * *'\n    action: digest\n    select: all\n",
     "schedules.yaml:5: job 'x': `select` applies to crawl and run jobs only"),
    ("jobs:\n  - id: x\n    cron: '0 5 * * *'\n    action: crawl\n    select: {owners: [me]}\n",
     "schedules.yaml:5: unknown key `owners` in `select`"),
    ("jobs:\n  - id: x\n  cron: [\n", "schedules.yaml:3: not valid YAML"),
    ("jobs:\n  - id: x\n    action: crawl\n    cron: '0 5 * * 8'\n", "schedules.yaml:4: job 'x': cron '0 5 * * 8' is not valid"),
    ("jobs:\n  - id: x\n    action: crawl\n    cron: '0 5 30 2 *'\n",
     "schedules.yaml:4: job 'x': cron '0 5 30 2 *' never fires (no date matches it)"),
])
def test_bad_files_name_the_line_and_the_problem(text, expected):
    assert problems(text)[0].startswith(expected)


def test_missing_file_is_a_schedules_error(tmp_path):
    with pytest.raises(SchedulesError, match="cannot read the schedules file"):
        load_schedules(tmp_path / "nope.yaml", actions=ACTIONS)


def test_a_file_that_is_not_utf8_names_the_file_the_line_and_the_byte(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"jobs:\n  - id: caf\xe9\n")
    with pytest.raises(SchedulesError) as error:
        load_schedules(path, actions=ACTIONS)
    assert error.value.problems == [f"{path}:2: not UTF-8 text (byte 0xe9 at offset 17: invalid continuation byte)"]


@pytest.mark.parametrize(("line", "expected"), [
    ('    jitter: "\u00b2"\n', "schedules.yaml:5: job 'x': jitter '\u00b2' must be a whole number of seconds, 0 to 604800"),
    ("    jitter: 99999999999999999999999\n", "jitter '99999999999999999999999' must be a whole number"),
    ("    jitter: 604801\n", "jitter '604801' must be a whole number"),
    ('    cron: "0 5 * * \u0663"\n', "job 'x': cron '0 5 * * \u0663' is not valid"),
])
def test_digits_of_other_scripts_and_a_jitter_past_a_week_are_problems_not_tracebacks(line, expected):
    # "²".isdigit() is true and int("²") raises: status, schedule --list and run ended in a traceback; a jitter
    # past a C int passed the check and the scheduler died of an OverflowError (review of 2026-12-01).
    base = "jobs:\n  - id: x\n    action: site\n    cron: '0 5 * * *'\n"
    text = base.replace("    cron: '0 5 * * *'\n", line) if "cron" in line else base + line
    assert any(expected in problem for problem in problems(text)), problems(text)

"""``schedules.yaml``: the jobs the scheduler runs, parsed and validated (SPEC §3).

The file is checked as a whole before anything starts; every problem is
reported with the file, the line (from YAML's node marks) and what was wrong.

    timezone: UTC                 # default of the jobs below (optional)
    jobs:
      - id: daily
        action: run               # crawl, run, digest, alerts, site, or a registered action
        select: all               # or {platforms: [...], tags: [...], types: [...]}
        cron: "15 5 * * *"        # minute hour day-of-month month day-of-week
        timezone: Europe/Paris
        jitter: 900               # seconds, at most, added at random to each start

Cron expressions mean what they mean to cron: day-of-week 0 and 7 are Sunday,
1 is Monday (APScheduler 3 counts from Monday; numbers are translated to names),
and a day-of-month and a day-of-week both given mean either day.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from analysis.yaml_loading import BoundedLoader, shown_value
from clausewatch.app import Selection
from clausewatch.errors import not_utf8

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

JOB_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
JOB_KEYS = ("id", "action", "select", "cron", "timezone", "jitter")
SELECT_KEYS = ("platforms", "tags", "types")
# Actions whose work is over a selection of documents; the others cover the whole store.
SELECTING_ACTIONS = ("crawl", "run")
CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# A start spread over more than a week would skip a weekly job's week (and APScheduler overflows past C int).
MAX_JITTER = 7 * 24 * 3600


class SchedulesError(ValueError):
    """The schedules file is unusable; ``problems`` holds one ``file:line: what`` per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ScheduledJob:
    id: str
    action: str
    cron: str
    timezone: str
    jitter: int = 0
    selection: Selection = Selection()
    line: int = 0

    def trigger(self, *, jitter: bool = True) -> BaseTrigger:
        """The APScheduler trigger of this job (without jitter when computing exact times)."""
        return cron_trigger(self.cron, self.timezone, self.jitter if jitter else 0)

    def next_fire_times(self, now: datetime, count: int = 3) -> list[datetime]:
        """The next ``count`` scheduled times from ``now`` on, before jitter."""
        trigger = self.trigger(jitter=False)
        times: list[datetime] = []
        fire = trigger.get_next_fire_time(None, now)
        while fire is not None and len(times) < count:
            times.append(fire)
            fire = trigger.get_next_fire_time(fire, fire)
        return times


@dataclass(frozen=True)
class Schedules:
    path: Path
    jobs: tuple[ScheduledJob, ...]

    def job(self, job_id: str) -> ScheduledJob:
        for job in self.jobs:
            if job.id == job_id:
                return job
        known = ", ".join(j.id for j in self.jobs) or "none"
        raise KeyError(f"{self.path}: no job {job_id!r} (jobs: {known})")


def cron_trigger(expr: str, timezone: str, jitter: int = 0) -> BaseTrigger:
    """An APScheduler trigger for a standard five-field crontab expression; ValueError if it is not one.

    When both day fields are restricted (neither starts with ``*``), cron runs on a day that matches either:
    ``0 7 1 * mon`` is the 1st of each month and every Monday. APScheduler's CronTrigger wants every
    field to match (only Mondays that are a 1st), so such an expression is two triggers, one per day
    field, combined by an OrTrigger.
    """
    # Imported on use: APScheduler's cron module costs ~35 ms, and most commands never build a trigger.
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}")
    minute, hour, day, month, written_weekday = fields
    weekday = cron_weekdays(written_weekday)  # "*/2" becomes "sun,tue,thu,sat": the rule below reads what was written
    zone = ZoneInfo(timezone)
    if day.startswith("*") or written_weekday.startswith("*"):  # as cron reads a field: "*/2" is a "*"
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=zone,
                           jitter=jitter or None)
    either = [CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=zone),
              CronTrigger(minute=minute, hour=hour, month=month, day_of_week=weekday, timezone=zone)]
    return OrTrigger(either, jitter=jitter or None)


def cron_weekdays(field: str) -> str:
    """Translate cron's numbered weekdays (0 or 7 = Sunday) into names APScheduler 3 reads alike."""
    parts = []
    for part in field.lower().split(","):
        if not re.search(r"\d", part.split("/")[0]) and "/" not in part:
            parts.append(part)
            continue
        parts.extend(CRON_WEEKDAYS[day % 7] for day in _cron_range(part))
    return ",".join(dict.fromkeys(parts))


def _cron_range(part: str) -> list[int]:
    span, _, step = part.partition("/")
    if step and not (step.isascii() and step.isdigit() and int(step) > 0):
        raise ValueError(f"day-of-week step {step!r} in {part!r} is not a whole number from 1 on")
    if span == "*":
        low, high = 0, 6
    elif "-" in span:
        low, high = (_weekday_number(s) for s in span.split("-", 1))
    else:
        low = high = _weekday_number(span)
        if step:
            high = 7
    if not 0 <= low <= high <= 7:
        raise ValueError(f"day-of-week range {part!r} is out of 0-7")
    return list(range(low, high + 1, int(step) if step else 1))


def _weekday_number(text: str) -> int:
    if text in CRON_WEEKDAYS:
        return CRON_WEEKDAYS.index(text)
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"day-of-week {text!r} is neither 0-7 nor a day name")
    return int(text)


# --- Loading and validation ----------------------------------------------------


def load_schedules(path: Path, *, actions: Collection[str]) -> Schedules:
    """Parse and validate ``path``; raise :class:`SchedulesError` naming every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SchedulesError([f"{path}: cannot read the schedules file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise SchedulesError([not_utf8(path, exc)]) from None
    return parse_schedules(text, path=Path(path), actions=actions)


def parse_schedules(text: str, *, path: Path, actions: Collection[str]) -> Schedules:
    try:
        root = yaml.compose(text, Loader=BoundedLoader)  # nesting bounded: a RecursionError is no message
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SchedulesError([f"{path}:{line}: not valid YAML: {exc.problem or exc}"]) from None
    reader = _Reader(path, actions)
    jobs = reader.read_root(root)
    if reader.problems:
        raise SchedulesError(reader.problems)
    return Schedules(Path(path), tuple(jobs))


class _Reader:
    """Walks the YAML node tree, collecting jobs and ``file:line: problem`` messages."""

    def __init__(self, path: Path, actions: Collection[str]):
        self.path = path
        self.actions = tuple(actions)
        self._problems: list[tuple[int, str]] = []

    @property
    def problems(self) -> list[str]:
        """Every problem found, in the order of the file."""
        return [f"{self.path}:{line}: {message}" for line, message in sorted(self._problems, key=lambda p: p[0])]

    def problem(self, node: Node | None, message: str) -> None:
        self._problems.append((node.start_mark.line + 1 if node is not None else 1, message))

    def read_root(self, root: Node | None) -> list[ScheduledJob]:
        if root is None:
            self.problem(None, "the file is empty; expected a mapping with a `jobs` list")
            return []
        top = self.mapping(root, "the file", ("timezone", "jobs"))
        if top is None:
            return []
        default_zone = self.timezone(top["timezone"]) if "timezone" in top else "UTC"
        if "jobs" not in top:
            self.problem(root, "no `jobs` list")
            return []
        if not isinstance(top["jobs"], SequenceNode):
            self.problem(top["jobs"], "`jobs` must be a list of jobs")
            return []
        self.check_unique(top["jobs"].value)
        return [job for node in top["jobs"].value if (job := self.read_job(node, default_zone))]

    def read_job(self, node: Node, default_zone: str | None) -> ScheduledJob | None:
        fields = self.mapping(node, "a job", JOB_KEYS)
        if fields is None:
            return None
        missing = [key for key in ("id", "action", "cron") if key not in fields]
        if missing:
            self.problem(node, f"job is missing {', '.join(f'`{k}`' for k in missing)}")
            return None
        job_id = self.job_id(fields["id"])
        name = str(fields["id"].value)  # names the job in messages even when it is not a valid id
        action = self.action(fields["action"], name)
        zone = self.timezone(fields["timezone"]) if "timezone" in fields else default_zone
        cron = self.cron(fields["cron"], zone, name)
        jitter = self.jitter(fields["jitter"], name) if "jitter" in fields else 0
        selection = self.selection(fields["select"], action, name) if "select" in fields else Selection()
        if None in (job_id, action, zone, cron, jitter, selection):
            return None
        return ScheduledJob(job_id, action, cron, zone, jitter, selection, node.start_mark.line + 1)

    def mapping(self, node: Node, what: str, allowed: Iterable[str]) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values")
            return None
        fields: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key not in allowed:
                self.problem(key_node, f"unknown key `{key}` in {what} (expected one of: {', '.join(allowed)})")
            elif key in fields:
                self.problem(key_node, f"`{key}` is given twice in {what}")
            else:
                fields[key] = value_node
        return fields

    def scalar(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.value == "":
            self.problem(node, f"{what} must be a single value")
            return None
        return str(node.value)

    def job_id(self, node: Node) -> str | None:
        value = self.scalar(node, "`id`")
        if value is not None and not JOB_ID.match(value):
            self.problem(node, f"job id {value!r} must be lowercase letters, digits, '.', '_' or '-' (at most 100)")
            return None
        return value

    def action(self, node: Node, job_id: str) -> str | None:
        value = self.scalar(node, "`action`")
        if value is not None and value not in self.actions:
            self.problem(node, f"job {job_id!r}: unknown action {value!r} (expected one of: {', '.join(self.actions)})")
            return None
        return value

    def timezone(self, node: Node) -> str | None:
        value = self.scalar(node, "`timezone`")
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(node, f"unknown time zone {value!r} (an IANA name such as UTC or Europe/Paris)")
            return None
        return value

    def cron(self, node: Node, zone: str | None, job_id: str) -> str | None:
        value = self.scalar(node, "`cron`")
        if value is None:
            return None
        try:
            trigger = cron_trigger(value, zone or "UTC")
        except ValueError as exc:
            self.problem(node, f"job {job_id!r}: cron {value!r} is not valid: {exc}")
            return None
        if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:  # "30 2": a day no month has
            self.problem(node, f"job {job_id!r}: cron {value!r} never fires (no date matches it)")
            return None
        return value

    def jitter(self, node: Node, job_id: str) -> int | None:
        value = self.scalar(node, "`jitter`")
        if value is None:
            return None
        # Its length first: int() refuses thousands of digits with a ValueError of its own.
        if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_JITTER)) or int(value) > MAX_JITTER:
            self.problem(node, f"job {job_id!r}: jitter {shown_value(value)!r} must be a whole number of seconds, 0 to "
                               f"{MAX_JITTER} (a week)")
            return None
        return int(value)

    def selection(self, node: Node, action: str | None, job_id: str) -> Selection | None:
        if action is not None and action not in SELECTING_ACTIONS:
            self.problem(node, f"job {job_id!r}: `select` applies to {' and '.join(SELECTING_ACTIONS)} jobs only, "
                               f"{action!r} covers the whole store")
            return None
        if isinstance(node, ScalarNode) and node.value == "all":
            return Selection()
        fields = self.mapping(node, "`select` (or `select: all`)", SELECT_KEYS)
        if fields is None:
            return None
        values = {key: self.names(value, f"`select.{key}`") for key, value in fields.items()}
        if None in values.values():
            return None
        return Selection(**values)

    def names(self, node: Node, what: str) -> tuple[str, ...] | None:
        items = node.value if isinstance(node, SequenceNode) else [node]
        names = tuple(self.scalar(item, what) for item in items)
        return None if None in names else names

    def check_unique(self, job_nodes: list[Node]) -> None:
        seen: dict[str, int] = {}
        for node in job_nodes:
            ids = [value for key, value in node.value if key.value == "id"] if isinstance(node, MappingNode) else []
            if not ids or not isinstance(ids[0], ScalarNode):
                continue
            job_id, line = str(ids[0].value), ids[0].start_mark.line + 1
            if job_id in seen:
                self.problem(ids[0], f"job id {job_id!r} is already used on line {seen[job_id]}")
            seen.setdefault(job_id, line)

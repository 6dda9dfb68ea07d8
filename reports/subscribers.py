"""The subscribers file: who gets the digest and the same-day alerts, and for what.

The file is YAML, either a list or a mapping with a ``subscribers`` list::

    subscribers:
      - email: legal@example.com
        name: Legal team
        platforms: [kling-ai, spotify]   # empty or missing: every platform
        min_severity: medium            # low (default), medium or high
        alerts: true                    # same-day change alerts (default true)
        digest: true                    # weekly digest (default true)
        unsubscribe: mailto:unsubscribe@example.com?subject=legal  # optional

One bad entry is reported and skipped; the others still load.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.domain import SEVERITIES, severity_rank
from reports.mail import InvalidAddressError, check_address


class SubscribersError(ValueError):
    """The subscribers file as a whole cannot be read; the message names the file."""


@dataclass(frozen=True)
class Subscriber:
    email: str
    name: str = ""
    platforms: tuple[str, ...] = ()
    min_severity: str = "low"
    alerts: bool = True
    digest: bool = True
    unsubscribe: str | None = None

    def follows(self, platform: str) -> bool:
        """True when the subscriber wants news of ``platform`` (no list means all)."""
        return not self.platforms or platform in self.platforms

    def wants_severity(self, severity: str | None) -> bool:
        """True when ``severity`` reaches the subscriber's minimum.

        ``low``, the lowest minimum, means everything: also changes to clauses
        of no type, which have no severity at all.
        """
        return self.min_severity == "low" or severity_rank(severity) >= severity_rank(self.min_severity)


@dataclass(frozen=True)
class SubscriberList:
    subscribers: tuple[Subscriber, ...] = ()
    errors: tuple[str, ...] = field(default=())

    def for_alerts(self) -> tuple[Subscriber, ...]:
        return tuple(s for s in self.subscribers if s.alerts)

    def for_digest(self) -> tuple[Subscriber, ...]:
        return tuple(s for s in self.subscribers if s.digest)


def load_subscribers(path: Path) -> SubscriberList:
    """Read ``path``; a missing file means no subscribers. Bad entries land in ``errors``."""
    path = Path(path)
    if not path.is_file():
        return SubscriberList()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SubscribersError(f"{path}: not valid YAML: {exc}") from None
    entries = data.get("subscribers") if isinstance(data, dict) else data
    if entries is None:
        return SubscriberList()
    if not isinstance(entries, list):
        raise SubscribersError(f"{path}: expected a list of subscribers (or a mapping with a 'subscribers' list)")
    return _parse_entries(path, entries)


def _parse_entries(path: Path, entries: Iterable[Any]) -> SubscriberList:
    subscribers: list[Subscriber] = []
    errors: list[str] = []
    for index, entry in enumerate(entries):
        try:
            subscribers.append(parse_subscriber(entry))
        except ValueError as exc:
            errors.append(f"{path}: subscriber #{index + 1}: {exc}")
    return SubscriberList(tuple(subscribers), tuple(errors))


def parse_subscriber(entry: Any) -> Subscriber:
    """One subscriber from its YAML mapping; ``ValueError`` names the wrong key."""
    if not isinstance(entry, dict):
        raise ValueError(f"expected a mapping with at least 'email', got {type(entry).__name__}")
    unknown = set(entry) - {f for f in Subscriber.__dataclass_fields__}
    if unknown:
        raise ValueError(f"unknown key(s) {sorted(unknown)}")
    try:
        email = check_address(str(entry.get("email") or ""))
    except InvalidAddressError as exc:
        raise ValueError(f"'email': {exc}") from None
    severity = str(entry.get("min_severity") or "low").lower()
    if severity not in SEVERITIES:
        raise ValueError(f"'min_severity' must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    return Subscriber(
        email=email,
        name=str(entry.get("name") or ""),
        platforms=_platforms(entry.get("platforms")),
        min_severity=severity,
        alerts=_flag(entry, "alerts"),
        digest=_flag(entry, "digest"),
        unsubscribe=str(entry["unsubscribe"]) if entry.get("unsubscribe") else None,
    )


def _platforms(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"'platforms' must be a list of platform slugs, got {value!r}")


def _flag(entry: dict[str, Any], key: str) -> bool:
    value = entry.get(key, True)
    if not isinstance(value, bool):
        raise ValueError(f"{key!r} must be true or false, got {value!r}")
    return value

"""The subscribers file: who gets the weekly digest and the same-day alerts, and for what.

The format is documented for users in README.md and docs/operations.md; in short,
YAML, either a list or a mapping with a ``subscribers`` list::

    subscribers:
      - email: legal@example.com
        name: Legal team
        platforms: [kling-ai, spotify]   # empty or missing: every platform
        min_severity: medium            # low (default), medium or high
        alerts: true                    # same-day change alerts (default true)
        digest: true                    # weekly digest (default true)
        unsubscribe: mailto:unsubscribe@example.com?subject=legal  # optional: https:, http: or mailto:

It is validated like the catalog: every problem of every entry is reported as
``file:line: what`` and any problem makes the whole file bad input, because an
entry skipped in silence is a person who stops hearing about changes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from analysis.domain import SEVERITIES, severity_rank
from analysis.yaml_loading import load_with_tree
from reports.mail import InvalidAddressError, check_address

KEYS = ("email", "name", "platforms", "min_severity", "alerts", "digest", "unsubscribe")


class SubscribersError(ValueError):
    """The subscribers file cannot be used; ``problems`` holds one ``file:line: what`` per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(problems[0] if len(problems) == 1 else f"{problems[0]} (and {len(problems) - 1} more)")


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
    path: Path
    subscribers: tuple[Subscriber, ...] = ()

    def for_alerts(self) -> tuple[Subscriber, ...]:
        return tuple(s for s in self.subscribers if s.alerts)

    def for_digest(self) -> tuple[Subscriber, ...]:
        return tuple(s for s in self.subscribers if s.digest)


class NoSubscribersError(SubscribersError):
    """The subscribers file lists nobody who receives the email asked for: nothing was sent or marked."""


# Each email: its subscribers as an error names them, and what a run without any leaves undone.
EMAILS = {"alerts": ("alert", "nothing was marked alerted"), "digest": ("digest", "nothing was sent")}


def require_subscribers(path: Path, *, receiving: str, platforms: Collection[str] | None = None) -> SubscriberList:
    """Like :func:`load_subscribers`, but a missing file, or one that lists no subscriber ``receiving``
    (``alerts`` or ``digest``), is bad input: sending to nobody is never meant.

    Alerts mark each change they handle as alerted: run with no alert subscriber,
    every pending change would be marked and never reach the people added later.
    A subscriber whose filters want nothing is different: that is their choice.
    """
    path = Path(path)
    if not path.is_file():
        raise SubscribersError([f"SUBSCRIBERS (CLAUSEWATCH_SUBSCRIBERS): {path} does not exist; "
                                "write it as README.md § Subscribers shows"])
    loaded = load_subscribers(path, platforms=platforms)
    if not (loaded.for_alerts() if receiving == "alerts" else loaded.for_digest()):
        listed = len(loaded.subscribers)
        opted_out = f" (its {listed} subscriber(s) all have {receiving}: false)" if listed else ""
        kind, undone = EMAILS[receiving]
        raise NoSubscribersError([f"SUBSCRIBERS (CLAUSEWATCH_SUBSCRIBERS): {path} lists no {kind} subscribers"
                                  f"{opted_out}; {undone}"])
    return loaded


def load_subscribers(path: Path, *, platforms: Collection[str] | None = None) -> SubscriberList:
    """Read ``path`` (missing: nobody); any bad entry raises :class:`SubscribersError`.

    ``platforms``, when given, are the slugs the catalog knows: a subscriber
    following any other slug would never hear a thing, so it is refused.
    """
    path = Path(path)
    if not path.is_file():
        return SubscriberList(path)
    entries = _entries(path)
    subscribers, problems = [], []
    for line, entry in entries:
        try:
            subscribers.append(parse_subscriber(entry, platforms=platforms))
        except ValueError as exc:
            problems.append(f"{path}:{line}: {exc}")
    if problems:
        raise SubscribersError(problems)
    return SubscriberList(path, tuple(subscribers))


def _entries(path: Path) -> list[tuple[int, Any]]:
    """Each entry of the file with the line it starts on."""
    try:
        data, node = load_with_tree(path.read_text(encoding="utf-8"))  # refuses an alias bomb, at its line
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f"{path}:{line + 1}" if line is not None else str(path)
        raise SubscribersError([f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}"]) from None
    if isinstance(data, dict):
        _refuse_unknown_top_keys(path, node)
        data = data.get("subscribers")
        node = next((v for k, v in node.value if k.value == "subscribers"), None)
    if data is None:
        return []
    if not isinstance(data, list):
        raise SubscribersError([f"{path}:1: expected a list of subscribers (or a mapping with a 'subscribers' list)"])
    return [(item.start_mark.line + 1, entry) for item, entry in zip(node.value, data, strict=True)]


def _refuse_unknown_top_keys(path: Path, node: yaml.MappingNode) -> None:
    """A mistyped top-level key ("subscriber:") held people who would never hear a thing: refused, at its line."""
    unknown = [key for key, _value in node.value if key.value != "subscribers"]
    if unknown:
        raise SubscribersError([f"{path}:{key.start_mark.line + 1}: unknown key {key.value!r} (known: 'subscribers')"
                                for key in unknown])


def parse_subscriber(entry: Any, *, platforms: Collection[str] | None = None) -> Subscriber:
    """One subscriber from its YAML mapping; ``ValueError`` names the wrong key."""
    if not isinstance(entry, dict):
        raise ValueError(f"expected a mapping with at least 'email', got {type(entry).__name__}")
    unknown = set(entry) - set(KEYS)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(map(repr, sorted(map(str, unknown))))} (known: {', '.join(KEYS)})")
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
        platforms=_platforms(entry.get("platforms"), platforms),
        min_severity=severity,
        alerts=_flag(entry, "alerts"),
        digest=_flag(entry, "digest"),
        unsubscribe=_unsubscribe(entry.get("unsubscribe")),
    )


def _unsubscribe(value: Any) -> str | None:
    """The ``List-Unsubscribe`` URL: an https:, http: or mailto: URL on one line, or None when not given.

    It goes into a header of every email as it is written, so anything else (a
    ``javascript:`` URL, words, a line break) is refused, not sent.
    """
    if value is None or value == "":
        return None
    if not (isinstance(value, str) and _is_unsubscribe_url(value)):
        raise ValueError(f"'unsubscribe' must be an https:, http: or mailto: URL, got {value!r}")
    return value


def _is_unsubscribe_url(text: str) -> bool:
    if any(c.isspace() or not c.isprintable() or c in "<>" for c in text):  # it sits in <…> on one header line
        return False
    try:
        url = urlsplit(text)
    except ValueError:  # e.g. an unclosed [ in the host
        return False
    if url.scheme.lower() in ("https", "http"):
        return bool(url.hostname)
    if url.scheme.lower() == "mailto":
        try:
            check_address(unquote(url.path))
        except InvalidAddressError:
            return False
        return True
    return False


def _platforms(value: Any, known: Collection[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    slugs = [value] if isinstance(value, str) else value
    if not (isinstance(slugs, list) and all(isinstance(v, str) for v in slugs)):
        raise ValueError(f"'platforms' must be a list of platform slugs, got {value!r}")
    unknown = [slug for slug in slugs if known is not None and slug not in known]
    if unknown:
        raise ValueError(f"'platforms': unknown platform {', '.join(map(repr, unknown))} "
                         f"(the catalog knows: {', '.join(sorted(known)) or 'none'})")
    return tuple(slugs)


def _flag(entry: dict[str, Any], key: str) -> bool:
    value = entry.get(key, True)
    if not isinstance(value, bool):
        raise ValueError(f"{key!r} must be true or false, got {value!r}")
    return value

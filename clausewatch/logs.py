"""One structured line per event, which an operator can read and grep.

    job job=daily action=run outcome=ok seconds=84.2 crawl.new_version=2 crawl.failed=1

The first word names the event; ``key=value`` pairs follow in the order
given, values quoted only when they hold spaces, quotes or ``=`` (logfmt). The
crawler logs its per-document lines (``crawl run=… document=CW-D-00001
outcome=new_version``) in the same form.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/+@,")


def format_value(value: Any) -> str:
    """A value as logfmt writes it: bare when safe, else a JSON string."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        value = value.isoformat(timespec="seconds")
    elif isinstance(value, float):
        value = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    text = str(value)
    return text if text and set(text) <= _PLAIN else json.dumps(text, ensure_ascii=False)


def flatten(fields: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested counts as dotted keys: ``{"crawl": {"failed": 1}}`` → ``{"crawl.failed": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in fields.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def event_line(event: str, **fields: Any) -> str:
    """``event key=value …`` with nested mappings flattened."""
    pairs = " ".join(f"{key}={format_value(value)}" for key, value in flatten(fields).items())
    return f"{event} {pairs}" if pairs else event


def log_event(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured line at ``level`` (INFO unless said)."""
    if logger.isEnabledFor(level):
        logger.log(level, "%s", event_line(event, **fields))

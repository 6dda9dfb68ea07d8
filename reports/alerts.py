"""Same-day alerts: one email per subscriber about the changes just detected and the documents failing.

Collecting, filtering per subscriber and rendering are the shared notification
model's (:mod:`reports.notification`); this module names the alert, picks its
templates (``alert.txt.j2``, ``alert.html.j2``). A subscriber with nothing at
their threshold gets no alert at all (:func:`reports.notification.build_messages`).
"""

from __future__ import annotations

from reports.notification import Notification, NotificationRenderer


def alert_subject(content: Notification) -> str:
    parts = []
    if len(content.changes) == 1:
        only = content.changes[0]
        parts.append(f"{only.platform_name} {only.document} changed")
    elif content.changes:
        parts.append(f"{len(content.changes)} documents changed")
    if content.raised:
        parts.append("severity raised" if len(content.changes) == 1 else f"{content.raised} with severity raised")
    if content.failures:
        parts.append(f"{len(content.failures)} document{'s' if len(content.failures) != 1 else ''} failing")
    return "clausewatch alert: " + ", ".join(parts)


def alert_renderer(base_url: str) -> NotificationRenderer:
    return NotificationRenderer(base_url, "alert", alert_subject)

"""Atom feeds (RFC 4287) of document changes: all, per platform, per document.

Feeds are built with ElementTree, which escapes every text and attribute; the
characters XML 1.0 cannot carry at all (control characters that crawled text
may contain) are shown as ``�`` or removed first so a feed is always well-formed,
and a bidirectional override never reorders a reader's view of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from reports.terminal import without_controls

ATOM_NS = "http://www.w3.org/2005/Atom"
# What XML 1.0 cannot carry once :func:`reports.terminal.without_controls` has shown the controls as "�".
_XML_INVALID = re.compile("[\ufffe\uffff]")
# A feed with no entries still needs an <updated>; a fixed date keeps rebuilds byte-identical.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    link: str
    updated: datetime
    summary: str


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    self_link: str
    site_link: str
    entries: Sequence[FeedEntry]


def _clean(text: str) -> str:
    # Controls, bidirectional overrides and lone surrogates are shown as "�", as on the site's pages.
    return _XML_INVALID.sub("", without_controls(text))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def render_atom(feed: Feed) -> bytes:
    """The feed as UTF-8 Atom XML, newest entry first."""
    ET.register_namespace("", ATOM_NS)
    root = ET.Element(f"{{{ATOM_NS}}}feed")
    entries = sorted(feed.entries, key=lambda e: (e.updated, e.id), reverse=True)
    _sub(root, "id", feed.id)
    _sub(root, "title", feed.title)
    _sub(root, "updated", _stamp(entries[0].updated if entries else _EPOCH))
    _sub(root, "link", rel="self", type="application/atom+xml", href=feed.self_link)
    _sub(root, "link", rel="alternate", type="text/html", href=feed.site_link)
    _sub(_sub(root, "author"), "name", "clausewatch")
    _sub(root, "generator", "clausewatch")
    for entry in entries:
        node = _sub(root, "entry")
        _sub(node, "id", entry.id)
        _sub(node, "title", entry.title)
        _sub(node, "updated", _stamp(entry.updated))
        _sub(node, "link", rel="alternate", type="text/html", href=entry.link)
        _sub(node, "summary", entry.summary, type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"

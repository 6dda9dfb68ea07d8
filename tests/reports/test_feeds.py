"""Atom feeds of the built site, parsed with feedparser, and the feed writer on hostile text."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import pytest

from reports.feeds import Feed, FeedEntry, render_atom
from reports.site import build
from store.repository import Store

BASE = "https://watch.example.org/"


@pytest.fixture
def site(sqlite_url, tmp_path, site_kit):
    store = Store.open(sqlite_url, tmp_path / "objects")
    try:
        ids = site_kit.fill(store)
        build(store, tmp_path / "site", base_url=BASE)
    finally:
        store.close()
    return tmp_path / "site", ids


def parse(path):
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_every_feed_is_valid_atom_with_absolute_links(site):
    folder, ids = site
    feeds = sorted((folder / "feeds").glob("*.atom"))
    assert {f.name for f in feeds} == {"all.atom", "platform-acme.atom", "platform-hostile.atom",
                                       f"{ids.acme}.atom", f"{ids.hostile}.atom"}
    for path in feeds:
        feed = parse(path)
        assert feed.feed.links[0].href.startswith(BASE)
        for entry in feed.entries:
            assert entry.link.startswith(BASE) and "#change-" in entry.link
            assert entry.id.startswith("urn:clausewatch:")


def test_feeds_hold_the_right_changes_newest_first(site):
    folder, ids = site
    everything = parse(folder / "feeds/all.atom")
    assert len(everything.entries) == 2  # one change per document; first versions are not changes
    acme = parse(folder / f"feeds/{ids.acme}.atom")
    (entry,) = acme.entries
    assert entry.title.startswith("Acme Cloud · Terms of Service:")
    assert "added: 5" in entry.summary and "[– → medium]" in entry.summary
    hostile = parse(folder / "feeds/platform-hostile.atom")
    assert hostile.entries[0].title.startswith("Hostile <b>Corp</b>")  # text, not markup


def test_feed_writer_escapes_markup_and_shows_controls_and_overrides_as_replacement_characters():
    # Controls were dropped, but a right-to-left override (U+202E) and a lone surrogate went into the feed as they
    # were: "5. Refunds \u202etxt.exe" read reversed in a feed reader, while the site's pages showed "�".
    when = datetime(2026, 3, 3, tzinfo=UTC)
    feed = Feed("urn:x", "T <b>&", "https://e.org/f.atom", "https://e.org/", [
        FeedEntry("urn:x:1", "a </title><script>x</script>\x00\x0b\ufffe", "https://e.org/p?a=1&b=2", when,
                  "s\x1f & <i> \u202etxt.exe\u202c \ud800"),
    ])
    parsed = feedparser.parse(render_atom(feed))
    assert not parsed.bozo
    assert parsed.feed.title == "T <b>&"
    assert parsed.entries[0].title == "a </title><script>x</script>\ufffd\ufffd"
    assert parsed.entries[0].summary == "s\ufffd & <i> \ufffdtxt.exe\ufffd \ufffd"
    assert parsed.entries[0].link == "https://e.org/p?a=1&b=2"
    assert parsed.entries[0].updated == "2026-03-03T00:00:00Z"


def test_an_empty_feed_is_still_valid():
    parsed = feedparser.parse(render_atom(Feed("urn:x", "empty", "https://e.org/f.atom", "https://e.org/", [])))
    assert not parsed.bozo and parsed.entries == []

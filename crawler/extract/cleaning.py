"""Noise dropped from the selected content: code, widgets, furniture, consent banners, hidden text."""

from __future__ import annotations

import re

from bs4 import Tag

from analysis.volatile import VolatileRules
from crawler.extract.links import clean_url, cloudflare_email

# Never document text: code, media, widgets and the site's own navigation.
_DROP_TAGS = frozenset({
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed", "link", "meta",
    "button", "input", "select", "textarea", "option", "nav", "dialog", "video", "audio", "picture", "source",
    "map", "head", "img",
})
# Page furniture, dropped only when no ``select`` names the content.
_FURNITURE_TAGS = frozenset({"header", "footer", "aside"})
_FURNITURE_ROLES = frozenset({"banner", "contentinfo", "navigation", "complementary", "search"})
# Cookie banners and consent managers by id or class; bare "cookie(s)" is left
# alone because privacy policies have sections with those ids.
_CONSENT = re.compile(
    r"cookie[-_]?(?:banner|consent|notice|bar|popup|modal|law|wall|message|alert|dialog|overlay|prompt)"
    r"|consent[-_]?(?:banner|manager|modal|dialog|popup|bar|overlay)|onetrust|ot-sdk|cookiebot|didomi"
    r"|usercentrics|truste-|trustarc|qc-cmp|osano|iubenda|cc-window|cc-banner|cmp-container|gdpr-(?:banner|consent)"
    r"|cookiescript|termly-|klaro|tarteaucitron|axeptio|sp_message",
    re.I,
)
# Text for screen readers only ("opens in a new tab", "copy link").
_SCREEN_READER = re.compile(r"\b(?:sr-only|visually-hidden|screen-reader-text|skip-link|skip-to-content)\b", re.I)
# The declarations that hide; the last of a property wins ("display:none;display:block" shows the text).
_HIDING = re.compile(r"(?:^|;)\s*(display|visibility)\s*:\s*([^;]*)", re.I)
_CONTENT_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "table")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# What a consent banner gives to click: form controls, or a link styled as a button ("Accept").
_CONTROLS = ("button", "input", "select", "form")
_BUTTONISH = re.compile(r"btn|button|accept|agree|dismiss|reject", re.I)
_BANNER_TEXT = 1000


def _policy_text(tag: Tag) -> bool:
    """Whether an element marked as a consent banner is the policy's own text: a heading (ids are made from their
    words: "Cookie consent"), or a section with a heading or a long text and nothing to click. A banner has buttons;
    "Cookie consent" in a privacy policy, or a cookie notice's whole text in a "cookie-notice-content", does not, and
    went missing from the version without a word."""
    if tag.name in HEADINGS:
        return True
    if tag.find(_CONTROLS) is not None or tag.find(_button_link) is not None:
        return False
    return tag.find(HEADINGS) is not None or len(tag.get_text(" ", strip=True)) > _BANNER_TEXT


def _unwrap_layout(table: Tag) -> None:
    """A table holding headings lays a page out, it tabulates nothing: its cells become blocks, in reading order.
    Converted as a table, a whole policy was one row of glued words ("Privacy Policy1. Information we collect"),
    one clause."""
    own = [part for part in table.find_all(("thead", "tbody", "tfoot", "tr", "td", "th"))
           if part.find_parent("table") is table]  # a table inside a cell is laid out as its own
    for part in own:
        if part.name in ("td", "th"):
            part.name = "div"
        else:
            part.unwrap()
    table.name = "div"


def _button_link(tag: Tag) -> bool:
    return tag.name == "a" and (tag.get("role") == "button" or bool(_BUTTONISH.search(" ".join(tag.get("class", ())))))


def _hidden_by(style: str) -> bool:
    """Whether an inline style hides its element, as a browser reads it: the last declaration of a property wins."""
    last = {prop.lower(): value.replace("!important", "").strip().lower() for prop, value in _HIDING.findall(style)}
    return last.get("display") == "none" or last.get("visibility") == "hidden"


class Cleaner:
    """One pass over a subtree: drops noise, decodes obfuscated emails, rewrites links."""

    def __init__(self, base: str, page: str, *, furniture: bool, volatile: VolatileRules) -> None:
        self.base = base
        self.page = page.partition("#")[0]
        self.furniture = furniture
        self.volatile = volatile

    def clean(self, root: Tag) -> None:
        doomed: list[Tag] = []
        tables: list[Tag] = []
        for tag in root.find_all(True):
            if self._is_noise(tag):
                doomed.append(tag)
            elif tag.name == "a":
                self._rewrite_link(tag)
            elif tag.name == "table":
                tables.append(tag)
            elif tag.has_attr("data-cfemail"):
                tag.string = cloudflare_email(tag["data-cfemail"]) or ""
        for tag in doomed:
            if not tag.decomposed:
                tag.decompose()
        for table in tables:
            if not table.decomposed and table.find(HEADINGS) is not None:
                _unwrap_layout(table)

    def _is_noise(self, tag: Tag) -> bool:
        name = tag.name
        if name in _DROP_TAGS:
            # A declarative shadow root is rendered: its text is the page's (a clause in one went missing).
            return not (name == "template" and ("shadowrootmode" in tag.attrs or "shadowroot" in tag.attrs))
        attrs = tag.attrs
        if self.furniture and (name in _FURNITURE_TAGS or attrs.get("role") in _FURNITURE_ROLES):
            return tag.find_parent(("main", "article")) is None
        if name == "form":
            return tag.find(_CONTENT_TAGS) is None
        if not attrs:
            return False
        if "hidden" in attrs:
            return True
        if attrs.get("aria-hidden") == "true":
            # Icons and decorations, but an open modal (a consent dialog in a
            # rendered page) aria-hides the whole page: never drop real text.
            return tag.find(_CONTENT_TAGS) is None
        if (style := attrs.get("style")) and _hidden_by(style):
            return True
        marks = f"{attrs.get('id', '')} {' '.join(attrs.get('class', ()))}"
        if not marks.strip():
            return False
        if _SCREEN_READER.search(marks):
            return True
        return bool(_CONSENT.search(marks)) and not _policy_text(tag)

    def _rewrite_link(self, tag: Tag) -> None:
        href = tag.get("href")
        if href is None:
            return
        if "/cdn-cgi/l/email-protection" in href:
            email = cloudflare_email(tag.get("data-cfemail") or href.partition("#")[2])
            if email and ("[email" in tag.get_text() or not tag.get_text(strip=True)):
                tag.string = email
            tag.attrs = {}
            return
        url = clean_url(href, self.base, self.volatile)
        # Links within the page (tables of contents, heading anchors) are
        # navigation, and sites add or drop them without changing a word.
        within_page = url is not None and (href.startswith("#") or url.partition("#")[0] == self.page)
        tag.attrs = {"href": url} if url and not within_page else {}

"""A page's refresh (``<meta http-equiv=refresh>`` or the ``Refresh`` header) read as browsers read it.

w3lib reads only ``N; url=…``: ``0;/policy``, ``0,url=/policy``, ``0 ; URL = /policy`` and the ``Refresh``
header went unseen, so the redirect stub ("Redirecting you now") became the policy's version. This follows the
HTML standard's *shared declarative refresh steps*
(https://html.spec.whatwg.org/multipage/browsing-the-web.html#shared-declarative-refresh-steps).
"""

from __future__ import annotations

from dataclasses import dataclass

from parsel import Selector

_WHITESPACE = " \t\n\f\r"
# A refresh may be anywhere in the page, but a page only mentions one in its first bytes when it has one
# (``<meta http-equiv=refresh>`` belongs in the head): the rest is not parsed for it.
_SCAN_BYTES = 16_384


@dataclass(frozen=True)
class Refresh:
    """A declared refresh: after ``delay`` seconds, load ``url`` (None: the page itself, a reload)."""

    delay: float
    url: str | None


def parse_refresh(content: str) -> Refresh | None:
    """The refresh a ``content`` attribute (or a ``Refresh`` header) declares; None when it declares none."""
    position, end = _skip(content, 0), len(content)
    start = position
    while position < end and content[position].isascii() and content[position].isdigit():
        position += 1
    digits = content[start:position]
    if not digits and (position >= end or content[position] != "."):
        return None
    while position < end and (content[position] == "." or (content[position].isascii() and content[position].isdigit())):
        position += 1
    delay = float(digits or 0)
    if position >= end:
        return Refresh(delay, None)
    if content[position] not in ";," + _WHITESPACE:
        return None
    position = _skip(content, position)
    if position < end and content[position] in ";,":
        position = _skip(content, position + 1)
    if position >= end:
        return Refresh(delay, None)
    url = content[position:]
    if content[position:position + 3].lower() == "url":
        after = _skip(content, position + 3)
        if after < end and content[after] == "=":
            position = _skip(content, after + 1)
            url = _unquoted(content[position:])
    else:
        url = _unquoted(url)
    url = url.strip(_WHITESPACE)
    return Refresh(delay, url or None)


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position


def _unquoted(text: str) -> str:
    if text[:1] in ("'", '"'):
        quote, text = text[0], text[1:]
        return text.split(quote, 1)[0]
    return text


def declared_refresh(response) -> Refresh | None:
    """The refresh a Scrapy response declares: its ``Refresh`` header, else its first ``<meta http-equiv=refresh>``
    outside ``<script>``, ``<noscript>`` and ``<template>`` (parsed only when the page's first bytes name one)."""
    header = response.headers.get(b"Refresh")
    if header and (found := parse_refresh(header.decode("latin-1"))) is not None:
        return found
    if b"refresh" not in response.body[:_SCAN_BYTES].lower():
        return None
    # A selector of its own: Scrapy's resolves the page's <base href> first, and a malformed one raised.
    page = Selector(text=response.text, type="html", base_url=response.url)
    for meta in page.xpath("//meta[@http-equiv][@content][not(ancestor::script)][not(ancestor::noscript)]"
                           "[not(ancestor::template)]"):  # an inert template refreshes nothing
        if meta.attrib["http-equiv"].strip(_WHITESPACE).lower() == "refresh":
            return parse_refresh(meta.attrib["content"])
    return None

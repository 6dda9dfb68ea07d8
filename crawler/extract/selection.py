"""A declaration's ``select`` and ``remove`` rules (CSS selectors and ranges) applied to a parsed page."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bs4 import BeautifulSoup, PageElement, Tag

from analysis.domain import RangeSelector, Selector
from crawler.extract.bot_walls import check_markers
from crawler.extract.errors import ExtractionError


def _describe(rule: Selector) -> str:
    if isinstance(rule, RangeSelector):
        bounds = {k: v for k, v in vars(rule).items() if v}
        return "range " + ", ".join(f"{k}={v!r}" for k, v in bounds.items())
    return repr(rule)


def css_select(soup: BeautifulSoup, selector: str) -> list[Tag]:
    """The elements matching a CSS selector, in document order."""
    simple = _SIMPLE_SELECTOR.fullmatch(selector.strip())
    if simple and simple.group(0):
        return _simple_select(soup, simple)
    try:
        return soup.select(selector)
    except Exception as error:  # soupsieve raises its own SelectorSyntaxError and ValueError
        raise ExtractionError("selector_missing",
                              f"invalid CSS selector {selector!r}: {selector_problem(error)}") from error


def selector_problem(error: Exception) -> str:
    """Soupsieve's complaint on one line: its message says the position, then draws a caret under it
    on three more lines, which broke the one-line error."""
    first = (str(error).splitlines() or [type(error).__name__])[0]
    column = getattr(error, "col", None)
    if column is None:
        return first
    return f"{re.sub(r' at position [0-9]+$', '', first)} at character {column}"


# ``tag``, ``#id``, ``.class`` or ``[attr]``/``[attr=value]`` (not ``class``),
# alone or after a tag name: most declarations are one of these, and a plain
# scan matches them ten to thirty times faster than soupsieve's general matcher.
_SIMPLE_SELECTOR = re.compile(
    r"(?P<tag>[a-zA-Z][\w-]*)?(?:#(?P<id>[a-zA-Z_][\w-]*)|\.(?P<cls>[a-zA-Z_-][\w-]*)"
    r"|\[(?P<attr>(?!class\b)[a-zA-Z_][\w-]*)"
    r"(?:=(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[a-zA-Z_-][\w-]*)))?\])?"
)


def _simple_select(soup: BeautifulSoup, simple: re.Match[str]) -> list[Tag]:
    tag_name, wanted_id, wanted_class, attr = simple.group("tag", "id", "cls", "attr")
    value = next((v for v in simple.group("dq", "sq", "bare") if v is not None), None)
    found = []
    for tag in soup.find_all(tag_name.lower() if tag_name else True):
        attrs = tag.attrs
        if wanted_id is not None and attrs.get("id") != wanted_id:
            continue
        if wanted_class is not None and wanted_class not in attrs.get("class", ()):
            continue
        if attr is not None and (attr not in attrs or (value is not None and _attribute(attrs[attr]) != value)):
            continue
        found.append(tag)
    return found


def _attribute(value: str | list[str]) -> str:
    # BeautifulSoup splits multi-valued attributes (rel, headers…) into lists.
    return " ".join(value) if isinstance(value, list) else value


def remove_matches(soup: BeautifulSoup, rule: Selector) -> None:
    nodes = _range_nodes(soup, rule) if isinstance(rule, RangeSelector) else css_select(soup, rule)
    for node in nodes or ():
        node.extract()


def select_roots(soup: BeautifulSoup, rules: Iterable[Selector], url: str, html: str) -> list[Tag]:
    """The selected elements in rule order, skipping any inside one already taken.

    A range's nodes are gathered into one detached ``<div>``.
    """
    chosen: list[Tag | list[PageElement]] = []
    taken: set[int] = set()
    for rule in rules:
        if isinstance(rule, RangeSelector):
            if nodes := _range_nodes(soup, rule):
                chosen.append(nodes)
            continue
        for tag in css_select(soup, rule):
            if id(tag) not in taken and not any(id(parent) in taken for parent in tag.parents):
                taken.add(id(tag))
                chosen.append(tag)
    if not chosen:
        check_markers(html, url, len(soup.get_text(" ", strip=True)))
        rules_text = ", ".join(_describe(rule) for rule in rules)
        raise ExtractionError("selector_missing", f"select {rules_text} matched nothing in {url}")
    return [_wrap_range(soup, item) if isinstance(item, list) else item for item in chosen]


def _wrap_range(soup: BeautifulSoup, nodes: list[PageElement]) -> Tag:
    """Move a range's nodes into one detached ``<div>`` so it converts as a whole."""
    wrapper = soup.new_tag("div")
    for node in nodes:
        wrapper.append(node.extract())
    return wrapper


def _range_nodes(soup: BeautifulSoup, rule: RangeSelector) -> list[PageElement] | None:
    """The outermost nodes between a range's start and end, as Open Terms Archive reads ranges.

    None when a boundary element is missing.
    """
    start_selector = rule.start_before or rule.start_after
    end_selector = rule.end_before or rule.end_after
    start = soup.select_one(start_selector) if start_selector else (soup.body or soup)
    end = soup.select_one(end_selector) if end_selector else None
    if start is None or (end_selector and end is None):
        return None
    first = _following(start) if rule.start_after else start
    stop = _following(end) if rule.end_after and end is not None else end
    if first is None:
        return []
    if not start_selector:
        first = start.contents[0] if start.contents else None
    return _nodes_between(first, stop)


def _following(node: PageElement) -> PageElement | None:
    """The first node after ``node`` and its whole subtree, in document order."""
    while node is not None and node.next_sibling is None:
        node = node.parent
    return node.next_sibling if node is not None else None


def _nodes_between(first: PageElement, stop: PageElement | None) -> list[PageElement]:
    """Maximal nodes from ``first`` (included) up to ``stop`` (excluded; None = end)."""
    stop_line = {id(node) for node in ([stop, *stop.parents] if stop is not None else [])}
    nodes = []
    node = first
    while node is not None and node is not stop:
        if id(node) in stop_line:
            node = node.contents[0]
            continue
        nodes.append(node)
        node = _following(node)
    return nodes

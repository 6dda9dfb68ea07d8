"""HTML bodies: parsed within bounds, cut to the declared content, cleaned and turned into Markdown."""

from __future__ import annotations

import re
import warnings
from urllib.parse import urljoin

from bs4 import BeautifulSoup, NavigableString, Tag, XMLParsedAsHTMLWarning
from markdownify import MarkdownConverter

from analysis.domain import SourceSpec
from analysis.volatile import VolatileRules
from crawler.extract.body import charset, check_decoded, decode
from crawler.extract.bot_walls import (
    check_error_page,
    check_framed,
    check_markers,
    check_script_redirect,
    check_title,
    frame_in,
)
from crawler.extract.cleaning import HEADINGS, Cleaner
from crawler.extract.errors import ExtractionError
from crawler.extract.selection import remove_matches, select_roots


class _Tag(Tag):
    """A Tag whose ``find_parent(name)`` walks up directly.

    markdownify asks every tag for its ``pre`` ancestor; BeautifulSoup's
    general matcher made that a fifth of the conversion time.
    """

    def find_parent(self, name=None, attrs=None, **kwargs):
        if not isinstance(name, str) or attrs is not None or kwargs:
            return super().find_parent(name, attrs, **kwargs)
        parent = self.parent
        while parent is not None and parent.name != name:
            parent = parent.parent
        return parent


# Bounds on hostile HTML. The largest real policy pages hold tens of thousands
# of elements; BeautifulSoup costs about 1 KB and 15 µs per element, so 200,000
# is ~250 MB and ~4 s. markdownify recurses about three frames per level of
# nesting and Python stops at 1,000 frames: deeper elements are unwrapped
# (their text stays, in order) — real pages nest under 60 levels.
HTML_MAX_ELEMENTS = 200_000
HTML_MAX_DEPTH = 150


# A DOCTYPE with an internal subset (``<!DOCTYPE x [<!ENTITY …>]>``): the HTML parser ends it at the first ">"
# and the rest ("]>") became the text's first line. Its entities are never expanded (no XXE, no billion laughs).
_DOCTYPE_SUBSET = re.compile(r"\A\s*(?:<\?xml[^>]*>\s*)?<!DOCTYPE[^\[>]*\[.*?\]\s*>", re.I | re.S)
_SUBSET_SCAN = 65_536
# Policies served as XML are read as HTML on purpose (their text is what is wanted); BeautifulSoup's advice to use
# an XML parser was printed, many lines, into a crawl's output.
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)


def _parse(html: str, url: str = "") -> BeautifulSoup:
    if "[" in html[:_SUBSET_SCAN] and (subset := _DOCTYPE_SUBSET.match(html[:_SUBSET_SCAN])):
        html = html[subset.end():]
    tags = html.count("<") - html.count("</")  # opening tags, comments and stray "<"
    if tags > HTML_MAX_ELEMENTS:
        raise ExtractionError("too_large", f"page from {url} has about {tags} elements "
                                           f"(at most {HTML_MAX_ELEMENTS} are parsed)")
    html = _unprefixed_xhtml(html)
    vocabulary = _xml_vocabulary(html)
    if vocabulary:  # its declaration means nothing to the HTML parser, and made BeautifulSoup warn
        html = html[vocabulary.end(1):]
    soup = BeautifulSoup(html, "lxml", element_classes={Tag: _Tag})
    _body_from_head(soup)
    _flatten_deep(soup)
    if vocabulary:
        _blocks_of_xml(soup)
    return soup


# XHTML under a prefix (``<h:html xmlns:h="http://www.w3.org/1999/xhtml">``, valid XML a browser shows as a page):
# the HTML parser knows no namespaces, so ``h:p`` and ``h:h1`` were elements it did not know, the head's title was
# read into the text and every heading, paragraph and item ran on into one line.
_XHTML_PREFIX = re.compile(r"""\bxmlns:([A-Za-z_][\w.-]*)\s*=\s*["']http://www\.w3\.org/1999/xhtml["']""")


def _unprefixed_xhtml(html: str) -> str:
    if "xmlns:" not in html[:_SUBSET_SCAN]:
        return html
    prefixes = {match.group(1) for match in _XHTML_PREFIX.finditer(html[:_SUBSET_SCAN])}
    if not prefixes:
        return html
    tags = "|".join(re.escape(prefix) for prefix in prefixes)  # one pass over the page, however many prefixes
    return re.sub(rf"<(/?)(?:{tags}):(?=[A-Za-z])", r"<\1", html)


# A document of another XML vocabulary (``<?xml …?><policy><section><para>…``): its elements are none the HTML parser
# knows, so they ran on as inline text, every paragraph glued to the next. The document's first element names it.
_XML_ROOT = re.compile(r"\A\s*(<\?xml\s[^>]*>)\s*(?:<!--.*?-->\s*|<\?.*?\?>\s*|<!DOCTYPE[^>]*>\s*)*"
                       r"<([A-Za-z_][\w.:-]*)", re.S | re.I)
# The HTML elements that run on inside a block of text; the blocks are ``_BLOCKS``.
_INLINE = frozenset({"a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "del", "dfn", "em", "font", "i",
                     "img", "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time",
                     "u", "var", "wbr"})
_HTML_PARTS = frozenset({"html", "head", "body", "title", "meta", "link", "style", "script", "noscript", "template",
                         "thead", "tbody", "tfoot", "caption", "col", "colgroup", "hr", "input", "button", "label"})


def _xml_vocabulary(html: str) -> re.Match[str] | None:
    """The match of an XML document's declaration and first element, when that element is none of HTML's."""
    root = _XML_ROOT.match(html[:_SUBSET_SCAN])
    return root if root is not None and root.group(2).lower() not in _HTML_NAMES else None


def _blocks_of_xml(soup: BeautifulSoup) -> None:
    """Make blocks of the elements of an XML vocabulary, as a reader of the document sees them.

    An element inside a run of text with no elements of its own (``<para>We <em>may</em> end…``) stays inline;
    any other element the HTML parser does not know is a paragraph when it holds text of its own, a division when
    it only holds elements. Elements named as HTML's keep their meaning.
    """
    holds_text = {}  # by id: whether an element has text of its own, asked once per parent, however many children
    for tag in soup.find_all(True):
        if tag.name in _HTML_NAMES:
            continue
        parent = tag.parent
        if parent is not None and _holds_text(parent, holds_text) and not any(
                isinstance(child, Tag) for child in tag.contents):
            continue
        tag.name = "p" if _holds_text(tag, holds_text) else "div"


def _holds_text(tag: Tag, known: dict[int, bool]) -> bool:
    if (holds := known.get(id(tag))) is None:
        holds = known[id(tag)] = any(type(child) is NavigableString and child.strip() for child in tag.contents)
    return holds


# What a document's head may hold; anything else starts its body (the HTML standard's "in head" insertion mode).
_HEAD_ELEMENTS = frozenset(("title", "meta", "link", "style", "script", "base", "noscript", "template"))


def _body_from_head(soup: BeautifulSoup) -> None:
    """Move into the body what lxml kept in the head: libxml2 parses HTML 4, and a page without a ``<body>`` tag
    (optional in HTML) whose content begins with an element HTML 4 did not know (``<main>``, ``<section>``) had all
    of it in its head, where a browser shows it in the body; its text was lost."""
    head = soup.head
    if head is None:
        return
    first = next((node for node in head.contents if (node.name not in _HEAD_ELEMENTS if isinstance(node, Tag)
                                                     else type(node) is NavigableString and node.strip())), None)
    if first is None:
        return
    moved = [first, *first.next_siblings]
    body = soup.body
    if body is None:
        body = soup.new_tag("body")
        head.insert_after(body)
    for node in reversed(moved):
        body.insert(0, node.extract())


def _flatten_deep(soup: BeautifulSoup) -> None:
    """Replace what lies below HTML_MAX_DEPTH by its text: a paragraph per block of it (a heading stays a heading).

    Unclosed ``<div>``s of a broken template nest every later section in the one before; the texts below the depth
    were joined into one string, which the converter folded into one line of thousands of characters, headings and
    clause boundaries gone (probe of 2026-12-03).
    """
    stack = [(soup, 0)]
    while stack:
        tag, depth = stack.pop()
        children = [child for child in tag.contents if isinstance(child, Tag)]
        if depth + 1 < HTML_MAX_DEPTH:
            stack.extend((child, depth + 1) for child in children)
            continue
        for child in children:
            blocks = _text_blocks(child)
            child.clear()
            child.name = "div"
            child.attrs = {}
            for name, words in blocks:
                block = soup.new_tag(name)
                block.string = words
                child.append(block)


# The elements that start a block of text; the others (links, emphasis, spans) run on inside one.
_BLOCKS = frozenset({"p", "div", "li", "dd", "dt", "td", "th", "tr", "section", "article", "blockquote", "pre",
                     "header", "footer", "main", "aside", "nav", "ul", "ol", "dl", "table", "form", "fieldset",
                     "figure", "figcaption", "address", "details", "summary", *HEADINGS})
# Every element named as HTML's, which an XML vocabulary's document keeps as HTML reads it.
_HTML_NAMES = _BLOCKS | _INLINE | _HTML_PARTS


def _text_blocks(top: Tag) -> list[tuple[str, str]]:
    """The texts under ``top``, joined within their nearest block element, as (``p`` or the heading's tag, text)."""
    blocks: list[tuple[Tag, list[str]]] = []
    for text in top.find_all(string=True):
        if type(text) is not NavigableString or not text.strip():  # exactly text: not comments, scripts or styles
            continue
        block = next((parent for parent in text.parents if parent.name in _BLOCKS or parent is top), top)
        if blocks and blocks[-1][0] is block:
            blocks[-1][1].append(text.strip())
        else:
            blocks.append((block, [text.strip()]))
    return [(block.name if block.name in HEADINGS else "p", " ".join(words)) for block, words in blocks]


def html_markdown(body: bytes, content_type: str | None, url: str, source: SourceSpec,
                   volatile: VolatileRules) -> str:
    html = decode(body, charset(content_type), is_html=True)
    check_decoded(html, body, url)
    soup = _parse(html, url)
    check_title(soup, url)
    base = _base_url(soup, url)
    for rule in source.remove:
        remove_matches(soup, rule)
    roots = select_roots(soup, source.select, url, html) if source.select else [soup.body or soup]
    frame = frame_in(roots if source.select else [soup], html)
    cleaner = Cleaner(base, url, furniture=not source.select, volatile=volatile)
    for root in roots:
        cleaner.clean(root)
    markdown = _tidy("\n\n".join(_CONVERTER.convert_soup(root) for root in roots))
    check_markers(html, url, len(markdown), text=None if source.select else markdown)
    check_error_page(soup, html, markdown, url, whole_page=not source.select)
    check_framed(frame, markdown, url)
    if not source.select:  # judged on the whole page: a selected section is short by choice
        check_script_redirect(html, markdown, url)
    return markdown


def _base_url(soup: BeautifulSoup, url: str) -> str:
    """The page's ``<base href>``, or its own URL when it has none or a malformed one (``http://[::1``), which a
    browser ignores too."""
    base = soup.find("base", href=True)
    if not base:
        return url
    try:
        return urljoin(url, base["href"])
    except ValueError:
        return url




class _Converter(MarkdownConverter):
    """markdownify tuned for versioning: ATX headings, ``-`` bullets, no escaping, no emphasis.

    Emphasis is dropped because sites restyle it without changing a word, and
    a version must only change when the words do.
    """

    class Options(MarkdownConverter.DefaultOptions):
        heading_style = "atx"
        bullets = "-"
        escape_asterisks = False
        escape_underscores = False
        escape_misc = False
        autolinks = True
        # Collapse every run of whitespace, line breaks included, as browsers
        # do: re-indenting the HTML source must not change the text. No
        # width, so paragraphs are never re-wrapped.
        wrap = True
        wrap_width = None

    def convert_a(self, el, text, parent_tags):
        if not el.get("href"):
            return text
        return super().convert_a(el, text, parent_tags)

    def _plain(self, el, text, parent_tags):
        return text

    convert_b = convert_strong = convert_em = convert_i = convert_u = convert_mark = _plain

    def convert_pre(self, el, text, parent_tags):
        """A fence longer than any run of backticks in the text (CommonMark): a ``<pre>`` quoting a ```` ``` ````
        line was cut into nested fences, the rest of the page read as code."""
        converted = super().convert_pre(el, text, parent_tags)
        longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
        if longest < 3:
            return converted
        fence = "`" * (longest + 1)
        head, _, body = converted.partition("```")
        body, _, tail = body.rpartition("```")
        return f"{head}{fence}{body}{fence}{tail}"


_BACKTICK_RUN = re.compile(r"`{3,}")
_CONVERTER = _Converter()
_SPACE_RUN = re.compile(r"  +")


def _tidy(markdown: str) -> str:
    """Non-breaking spaces as spaces and inner space runs collapsed (HTML renders them alike)."""
    return _SPACE_RUN.sub(_collapse_inner_run, markdown.replace("\u00a0", " "))


def _collapse_inner_run(match: re.Match[str]) -> str:
    # A run at the start of a line is list indentation: Markdown needs it.
    start = match.start()
    return match.group(0) if start == 0 or match.string[start - 1] == "\n" else " "

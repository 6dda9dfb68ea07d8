"""Turn fetched bytes into the normalised Markdown text a Version is keyed on (SPEC §4).

``extract_document`` takes the fetched parts of a document (body, content type,
URL and the source's declaration), extracts each one and normalises the joined
text once with :func:`analysis.text.normalize_text`. HTML is decoded robustly,
parsed with BeautifulSoup (lxml), cut down with the declaration's ``remove``
and ``select`` rules, stripped of page furniture and volatile noise, and turned
into Markdown with markdownify. PDFs go through pypdf; plain text and Markdown
pass through. Anything that cannot give a trustworthy text raises
:class:`ExtractionError` with a kind from ``analysis.domain.ERROR_KINDS``.
See docs/decisions/0004-extraction.md.
"""

from __future__ import annotations

import codecs
import io
import re
import time
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag
from bs4.dammit import UnicodeDammit
from markdownify import MarkdownConverter

from analysis.domain import ERROR_KINDS, RangeSelector, Selector, SourceSpec
from analysis.text import join_parts, normalize_text
from analysis.volatile import VolatileRules, mask_volatile_text

__all__ = ["ExtractionError", "extract_document", "extract_parts", "extract_source", "clean_url"]

Part = tuple[bytes, "str | None", str, SourceSpec]
_NO_RULES = VolatileRules()


class ExtractionError(Exception):
    """A fetched body gave no trustworthy text; ``kind`` is one of ``ERROR_KINDS``."""

    def __init__(self, kind: str, detail: str) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown extraction error kind {kind!r}")
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


# --- Entry points --------------------------------------------------------------


def extract_source(body: bytes, content_type: str | None, url: str, source: SourceSpec,
                   volatile: VolatileRules = _NO_RULES) -> str:
    """The normalised Markdown text of one fetched source."""
    return extract_document([(body, content_type, url, source)], volatile)


def extract_document(parts: Sequence[Part], volatile: VolatileRules = _NO_RULES) -> str:
    """The normalised text of a document made of several sources, joined in order.

    ``volatile`` holds the document's learned and declared volatile values
    (analysis/volatile.py); per-visit tokens are dropped whatever it holds.
    """
    return extract_parts(parts, volatile)[0]


def extract_parts(parts: Sequence[Part], volatile: VolatileRules = _NO_RULES) -> tuple[str, tuple[int, ...]]:
    """The normalised text of a document made of several sources, and where each source begins in it."""
    if not parts:
        raise ExtractionError("empty", "the document has no fetched sources")
    sources = [_source_markdown(*part, volatile) for part in parts]
    # Masking works on normalised lines (the templates were learned from them).
    text = normalize_text(mask_volatile_text(normalize_text("\n\n".join(sources)), volatile))
    if len(sources) == 1:
        return text, (0,)
    # Templates are line by line, so masking each page alone gives the same lines.
    joined, starts = join_parts([mask_volatile_text(normalize_text(source), volatile) for source in sources])
    return text, starts if joined == text else tuple(min(start, len(text)) for start in starts)


def _source_markdown(body: bytes, content_type: str | None, url: str, source: SourceSpec,
                     volatile: VolatileRules = _NO_RULES) -> str:
    kind = _sniff_kind(body, content_type, url)
    if kind == "pdf":
        text = _pdf_text(body, url)
    elif kind == "text":
        text = _decode(body, _charset(content_type), is_html=False)
    else:
        text = _html_markdown(body, content_type, url, source, volatile)
    if not text.strip():
        raise ExtractionError("empty", f"no text left after extraction of {url}")
    return text


# --- What the body is ----------------------------------------------------------

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml")
_TEXT_TYPES = ("text/plain", "text/markdown", "text/x-markdown")
# Magic numbers of the binary formats most often served where a page was
# expected (images, archives, office files, fonts).
_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"BZh",
                 b"\xd0\xcf\x11\xe0", b"RIFF", b"wOFF", b"wOF2", b"\x00\x00\x01\x00", b"7z\xbc\xaf")
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_LOOKS_HTML = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|div|p|h[1-6])\b", re.I | re.S)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _sniff_kind(body: bytes, content_type: str | None, url: str) -> str:
    """``pdf``, ``text`` or ``html``; raises for empty or binary bodies."""
    if not body.strip():
        raise ExtractionError("empty", f"0-byte or blank body from {url}")
    head = body[:1024]
    media = _media_type(content_type)
    if head.lstrip().startswith(b"%PDF") or media == "application/pdf":
        return "pdf"
    if head.startswith(_WIDE_BOMS):
        return "html" if media not in _TEXT_TYPES else "text"
    if head.startswith(_BINARY_MAGIC) or b"\x00" in head:
        raise ExtractionError("not_text", f"binary body ({media or 'no content type'}) from {url}")
    if media in _TEXT_TYPES and not _LOOKS_HTML.match(head):
        return "text"
    if media and media not in _HTML_TYPES and media not in _TEXT_TYPES and not _LOOKS_HTML.match(head):
        raise ExtractionError("not_text", f"unsupported content type {media} from {url}")
    return "html"


# --- Decoding ------------------------------------------------------------------

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)


def _charset(content_type: str | None) -> str | None:
    """The charset named by a Content-Type header, if Python knows it."""
    match = _CHARSET.search(content_type or "")
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def _decode(body: bytes, declared: str | None, *, is_html: bool) -> str:
    """Decode with the BOM, then UTF-8 when valid, then the declarations, then detection.

    Valid UTF-8 with non-ASCII bytes is almost never valid text in another
    encoding, so it wins over a declared single-byte charset: a UTF-8 page
    served as ISO-8859-1 still decodes right. A declared UTF-8 that fails to
    decode falls through to the ``<meta>`` charset and to detection.
    """
    for bom, encoding in _BOM_NAMES.items():
        if body.startswith(bom):
            return body[len(bom):].decode(encoding, errors="replace")
    if body.isascii() and not (declared or "").startswith(("utf-16", "utf-32")):
        return body.decode("ascii")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    known = [declared] if declared and declared != "utf-8" else []
    dammit = UnicodeDammit(body, known_definite_encodings=known, is_html=is_html)
    guessed = codecs.lookup(dammit.original_encoding).name if dammit.original_encoding else None
    if dammit.unicode_markup is None or (guessed in _LATIN_SINGLE_BYTE and guessed not in (*known, dammit.declared_html_encoding)):
        # Detection cannot tell the Latin code pages apart on a few accented
        # letters; windows-1252 is what undeclared Western pages really use.
        return body.decode("windows-1252", errors="replace")
    return dammit.unicode_markup


_LATIN_SINGLE_BYTE = frozenset(codecs.lookup(name).name for name in (
    "cp1250", "cp1252", "cp1254", "cp1257", "latin-1", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-9",
    "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "mac-roman", "mac-latin2", "cp850",
))
_BOM_NAMES = {
    codecs.BOM_UTF8: "utf-8",
    codecs.BOM_UTF32_LE: "utf-32-le",  # before UTF-16 LE, whose BOM it starts with
    codecs.BOM_UTF16_LE: "utf-16-le",
    codecs.BOM_UTF16_BE: "utf-16-be",
    codecs.BOM_UTF32_BE: "utf-32-be",
}


# --- PDF -----------------------------------------------------------------------

# A line that starts a new block: a numbered clause, a bullet or a lettered item.
_BLOCK_START = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?\s|[•\-–*▪●]\s|\(?[a-z]\)\s|[A-Z][A-Z &,'-]{3,}$)")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d+(?:\s*(?:of|/)\s*\d+)?$", re.I)


# Bounds on hostile PDFs. Real policies run to a few dozen pages; pypdf itself
# caps every decompressed stream (75 MB, pypdf.Configuration). The time budget
# is thread CPU time, checked between pages (one page cannot be interrupted).
PDF_MAX_PAGES = 1_000
PDF_MAX_CHARACTERS = 5_000_000
PDF_MAX_SECONDS = 30.0


def _pdf_text(body: bytes, url: str) -> str:
    """Text of a PDF, page lines reflowed into paragraphs; hostile or malformed PDFs raise ExtractionError."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

    try:
        reader = PdfReader(io.BytesIO(body))
        if reader.is_encrypted:
            reader.decrypt("")
        pages = _pdf_pages(reader, url)
    except ExtractionError:
        raise
    except LimitReachedError as error:
        raise ExtractionError("too_large", f"PDF from {url} exceeds a parser limit: {error}") from error
    except (Exception, RecursionError) as error:  # noqa: BLE001 - a hostile PDF can break pypdf in any way
        raise ExtractionError("decode", f"unreadable PDF from {url}: {type(error).__name__}: {error}") from error
    return "\n\n".join(_reflow(page) for page in pages)


def _pdf_pages(reader, url: str) -> list[str]:
    count = len(reader.pages)
    if count > PDF_MAX_PAGES:
        raise ExtractionError("too_large", f"PDF from {url} has {count} pages (at most {PDF_MAX_PAGES} are read)")
    deadline = time.thread_time() + PDF_MAX_SECONDS
    pages: list[str] = []
    characters = 0
    for number, page in enumerate(reader.pages, 1):
        pages.append(page.extract_text() or "")
        characters += len(pages[-1])
        if characters > PDF_MAX_CHARACTERS:
            raise ExtractionError("too_large", f"PDF from {url} holds over {PDF_MAX_CHARACTERS} characters "
                                               f"by page {number}")
        if time.thread_time() > deadline:
            raise ExtractionError("too_large", f"PDF from {url} took over {PDF_MAX_SECONDS:.0f} s of CPU "
                                               f"by page {number} of {count}")
    return pages


def _reflow(page: str) -> str:
    """Join the wrapped lines of a PDF page back into paragraphs.

    A wrapped line runs nearly to the right margin; a line that stops short
    ends its paragraph (or is a heading), and numbered or bulleted lines start
    a new block.
    """
    lines = [line.strip() for line in page.splitlines()]
    lines = [line for line in lines if not _PAGE_NUMBER.match(line)]
    full = 0.8 * max((len(line) for line in lines), default=0)
    paragraphs: list[list[str]] = []
    previous = ""
    for line in lines:
        if line and previous and len(previous) >= full and not _BLOCK_START.match(line):
            paragraphs[-1].append(line)
        elif line:
            paragraphs.append([line])
        previous = line
    return "\n\n".join(_join_lines(paragraph) for paragraph in paragraphs)


def _join_lines(lines: list[str]) -> str:
    """One paragraph from its wrapped lines, mending words hyphenated at a line end."""
    text = lines[0]
    for line in lines[1:]:
        text = text[:-1] + line if text.endswith("-") and line[:1].islower() else f"{text} {line}"
    return text


# --- Bot walls -----------------------------------------------------------------

# Titles of the interstitial pages that anti-bot services serve with a 200.
_BOT_WALL_TITLE = re.compile(
    r"^\s*(?:just a moment|attention required|please wait|checking your browser|verifying you are human"
    r"|access denied|access to this page has been denied|are you a robot|robot check|human verification"
    r"|security check|pardon our interruption|request blocked|ddos-guard|one more step|captcha)",
    re.I,
)
# Markers of challenge pages; only trusted when the page has little text, since
# Cloudflare also injects its challenge-platform script into ordinary pages.
_BOT_WALL_MARKER = re.compile(
    r"cf-browser-verification|cf_chl_opt|challenge-form|cf-challenge|captcha-delivery\.com|px-captcha"
    r"|_Incapsula_Resource|Incapsula incident ID|Enable JavaScript and cookies to continue"
    r"|Please enable JS and disable any ad blocker|Reference&#32;&#35;|errors\.edgesuite\.net",
    re.I,
)
_SHORT_PAGE = 2000


def _check_title(soup: BeautifulSoup, url: str) -> None:
    """Raise ``bot_wall`` when the page title is that of a challenge or block page."""
    # The document's own title: an inline SVG's <title> names an icon, not the page.
    title_tag = (soup.head or soup).find("title", recursive=soup.head is not None)
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    if _BOT_WALL_TITLE.match(title):
        raise ExtractionError("bot_wall", f"{url} served a bot wall titled {title[:80]!r}")


def _check_markers(html: str, url: str, text_length: int) -> None:
    """Raise ``bot_wall`` when a page with little text carries a challenge marker."""
    if text_length < _SHORT_PAGE and (match := _BOT_WALL_MARKER.search(html)):
        raise ExtractionError("bot_wall", f"{url} served a challenge page ({match.group(0)!r})")


# --- Links ---------------------------------------------------------------------

# Query parameters that identify the visitor, the campaign or the session and
# never the document: they differ between loads and would create versions.
_TRACKING_PARAMS = frozenset({
    "gclid", "gclsrc", "dclid", "fbclid", "msclkid", "yclid", "gbraid", "wbraid", "igshid", "twclid",
    "ttclid", "li_fat_id", "_ga", "_gl", "_hsenc", "_hsmi", "hsctatracking", "mkt_tok", "ref_src",
    "ref_url", "s_kwcid", "trk", "trkcampaign", "spm", "scid", "vero_id", "vero_conv", "oly_anon_id",
    "oly_enc_id", "rb_clickid", "wickedid", "_branch_match_id", "ncid", "sr_share", "_kx", "ck_subscriber_id",
    "sid", "sessionid", "session_id", "phpsessid", "jsessionid", "aspsessionid", "cfid", "cftoken",
    "csrf", "csrf_token", "csrftoken", "_csrf", "xsrf", "_xsrf", "authenticity_token", "_token", "token",
    "nonce", "_",
})
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "mtm_", "hsa_", "_hs", "matomo_", "piwik_")
# Cache-busters: harmless on a page link, but only ever noise on a static asset.
_CACHE_BUSTERS = frozenset({"v", "ver", "version", "cb", "cache", "cachebuster", "cachebust", "t", "ts",
                            "timestamp", "rev", "hash", "h", "build", "bust"})
_STATIC_ASSET = re.compile(r"\.(?:css|js|mjs|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|otf|eot|pdf|mp4|webm)$", re.I)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#]*", re.I)
_SAFE_SCHEMES = ("http", "https")


def clean_url(href: str, base: str, volatile: VolatileRules = _NO_RULES) -> str | None:
    """``href`` made absolute against ``base`` and stripped of tracking and per-visit values; None unless http(s)."""
    href = href.strip()
    try:
        parts = urlsplit(urljoin(base, href))
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.netloc:
        return None
    path = _PATH_SESSION.sub("", parts.path)
    query = _clean_query(parts.query, static=bool(_STATIC_ASSET.search(path)), volatile=volatile)
    fragment = "" if parts.fragment.startswith(":~:") or volatile.drops_fragment(parts.fragment) else parts.fragment
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, fragment))


def _clean_query(query: str, *, static: bool, volatile: VolatileRules) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(key, value) for key, value in pairs
            if not _is_noise_param(key.lower(), static) and not volatile.drops_param(key, value)]
    return query if len(kept) == len(pairs) else urlencode(kept)


def _is_noise_param(key: str, static: bool) -> bool:
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES) or (static and key in _CACHE_BUSTERS)


def _cloudflare_email(encoded: str) -> str | None:
    """Decode Cloudflare's email obfuscation: hex bytes XOR-ed with the first byte."""
    try:
        data = bytes.fromhex(encoded.strip())
    except ValueError:
        return None
    if len(data) < 2:
        return None
    return bytes(byte ^ data[0] for byte in data[1:]).decode("utf-8", errors="replace")


# --- HTML ----------------------------------------------------------------------


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


def _parse(html: str, url: str = "") -> BeautifulSoup:
    tags = html.count("<") - html.count("</")  # opening tags, comments and stray "<"
    if tags > HTML_MAX_ELEMENTS:
        raise ExtractionError("too_large", f"page from {url} has about {tags} elements "
                                           f"(at most {HTML_MAX_ELEMENTS} are parsed)")
    soup = BeautifulSoup(html, "lxml", element_classes={Tag: _Tag})
    _flatten_deep(soup)
    return soup


def _flatten_deep(root: Tag) -> None:
    """Replace what lies below HTML_MAX_DEPTH by its text, one paragraph per text node."""
    stack = [(root, 0)]
    while stack:
        tag, depth = stack.pop()
        children = [child for child in tag.contents if isinstance(child, Tag)]
        if depth + 1 < HTML_MAX_DEPTH:
            stack.extend((child, depth + 1) for child in children)
            continue
        for child in children:
            # Exactly NavigableString: not comments, scripts or styles.
            texts = [text.strip() for text in child.find_all(string=True)
                     if type(text) is NavigableString and text.strip()]
            child.clear()
            child.name = "div"
            child.attrs = {}
            child.append("\n\n".join(texts))


def _html_markdown(body: bytes, content_type: str | None, url: str, source: SourceSpec,
                   volatile: VolatileRules) -> str:
    html = _decode(body, _charset(content_type), is_html=True)
    soup = _parse(html, url)
    _check_title(soup, url)
    base = _base_url(soup, url)
    for rule in source.remove:
        _remove(soup, rule)
    roots = _select(soup, source.select, url, html) if source.select else [soup.body or soup]
    cleaner = _Cleaner(base, url, furniture=not source.select, volatile=volatile)
    for root in roots:
        cleaner.clean(root)
    markdown = _tidy("\n\n".join(_CONVERTER.convert_soup(root) for root in roots))
    _check_markers(html, url, len(markdown))
    return markdown


def _base_url(soup: BeautifulSoup, url: str) -> str:
    base = soup.find("base", href=True)
    return urljoin(url, base["href"]) if base else url


# --- select / remove -------------------------------------------------------------


def _describe(rule: Selector) -> str:
    if isinstance(rule, RangeSelector):
        bounds = {k: v for k, v in vars(rule).items() if v}
        return "range " + ", ".join(f"{k}={v!r}" for k, v in bounds.items())
    return repr(rule)


def _css(soup: BeautifulSoup, selector: str) -> list[Tag]:
    """The elements matching a CSS selector, in document order."""
    simple = _SIMPLE_SELECTOR.fullmatch(selector.strip())
    if simple and simple.group(0):
        return _simple_select(soup, simple)
    try:
        return soup.select(selector)
    except Exception as error:  # soupsieve raises its own SelectorSyntaxError and ValueError
        raise ExtractionError("selector_missing", f"invalid CSS selector {selector!r}: {error}") from error


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


def _remove(soup: BeautifulSoup, rule: Selector) -> None:
    nodes = _range_nodes(soup, rule) if isinstance(rule, RangeSelector) else _css(soup, rule)
    for node in nodes or ():
        node.extract()


def _select(soup: BeautifulSoup, rules: Iterable[Selector], url: str, html: str) -> list[Tag]:
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
        for tag in _css(soup, rule):
            if id(tag) not in taken and not any(id(parent) in taken for parent in tag.parents):
                taken.add(id(tag))
                chosen.append(tag)
    if not chosen:
        _check_markers(html, url, len(soup.get_text(" ", strip=True)))
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


# --- Cleaning ------------------------------------------------------------------

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
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_CONTENT_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "table")


class _Cleaner:
    """One pass over a subtree: drops noise, decodes obfuscated emails, rewrites links."""

    def __init__(self, base: str, page: str, *, furniture: bool, volatile: VolatileRules) -> None:
        self.base = base
        self.page = page.partition("#")[0]
        self.furniture = furniture
        self.volatile = volatile

    def clean(self, root: Tag) -> None:
        doomed: list[Tag] = []
        for tag in root.find_all(True):
            if self._is_noise(tag):
                doomed.append(tag)
            elif tag.name == "a":
                self._rewrite_link(tag)
            elif tag.has_attr("data-cfemail"):
                tag.string = _cloudflare_email(tag["data-cfemail"]) or ""
        for tag in doomed:
            if not tag.decomposed:
                tag.decompose()

    def _is_noise(self, tag: Tag) -> bool:
        name = tag.name
        if name in _DROP_TAGS:
            return True
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
        if (style := attrs.get("style")) and _HIDDEN_STYLE.search(style):
            return True
        marks = f"{attrs.get('id', '')} {' '.join(attrs.get('class', ()))}"
        return bool(marks.strip()) and bool(_CONSENT.search(marks) or _SCREEN_READER.search(marks))

    def _rewrite_link(self, tag: Tag) -> None:
        href = tag.get("href")
        if href is None:
            return
        if "/cdn-cgi/l/email-protection" in href:
            email = _cloudflare_email(tag.get("data-cfemail") or href.partition("#")[2])
            if email and ("[email" in tag.get_text() or not tag.get_text(strip=True)):
                tag.string = email
            tag.attrs = {}
            return
        url = clean_url(href, self.base, self.volatile)
        # Links within the page (tables of contents, heading anchors) are
        # navigation, and sites add or drop them without changing a word.
        within_page = url is not None and (href.startswith("#") or url.partition("#")[0] == self.page)
        tag.attrs = {"href": url} if url and not within_page else {}


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


_CONVERTER = _Converter()
_SPACE_RUN = re.compile(r"  +")


def _tidy(markdown: str) -> str:
    """Non-breaking spaces as spaces and inner space runs collapsed (HTML renders them alike)."""
    return _SPACE_RUN.sub(_collapse_inner_run, markdown.replace("\u00a0", " "))


def _collapse_inner_run(match: re.Match[str]) -> str:
    # A run at the start of a line is list indentation: Markdown needs it.
    start = match.start()
    return match.group(0) if start == 0 or match.string[start - 1] == "\n" else " "

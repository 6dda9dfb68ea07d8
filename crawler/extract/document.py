"""The entry points: fetched parts of a document to its normalised text, and where each part begins."""

from __future__ import annotations

import re
from collections.abc import Sequence

from analysis.domain import SourceSpec
from analysis.text import join_parts, normalize_text
from analysis.volatile import VolatileRules, mask_volatile_text
from crawler.extract.body import charset, decode, sniff_kind
from crawler.extract.errors import NO_RULES, ExtractionError
from crawler.extract.page import html_markdown
from crawler.extract.pdf import pdf_text

Part = tuple[bytes, "str | None", str, SourceSpec]


def extract_source(body: bytes, content_type: str | None, url: str, source: SourceSpec,
                   volatile: VolatileRules = NO_RULES) -> str:
    """The normalised Markdown text of one fetched source."""
    return extract_document([(body, content_type, url, source)], volatile)


def extract_document(parts: Sequence[Part], volatile: VolatileRules = NO_RULES) -> str:
    """The normalised text of a document made of several sources, joined in order.

    ``volatile`` holds the document's learned and declared volatile values
    (analysis/volatile.py); per-visit tokens are dropped whatever it holds.
    """
    return extract_parts(parts, volatile)[0]


def extract_parts(parts: Sequence[Part], volatile: VolatileRules = NO_RULES) -> tuple[str, tuple[int, ...]]:
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


# All that is left of an application's shell before its script runs, or of a page not yet written.
_PLACEHOLDER = re.compile(r"\W*(?:loading|please\s+wait|one\s+moment(?:\s+please)?|coming\s+soon"
                          r"|(?:you\s+need\s+to\s+)?enable\s+javascript(?:\s+to\s+run\s+this\s+app)?"
                          r"|javascript\s+(?:is\s+)?required)\W*\Z", re.I)


def _source_markdown(body: bytes, content_type: str | None, url: str, source: SourceSpec,
                     volatile: VolatileRules = NO_RULES) -> str:
    kind = sniff_kind(body, content_type, url)
    if kind == "pdf":
        text = pdf_text(body, url)
    elif kind == "text":
        text = decode(body, charset(content_type), is_html=False)
    else:
        text = html_markdown(body, content_type, url, source, volatile)
    if not text.strip():
        raise ExtractionError("empty", f"no text left after extraction of {url}")
    if _PLACEHOLDER.match(text):
        raise ExtractionError("empty", f"only {text.strip()[:40]!r} left after extraction of {url}: an application's "
                                       "shell or a placeholder, not the document")
    return text

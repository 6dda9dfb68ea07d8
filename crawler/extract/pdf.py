"""PDF bodies: pypdf's text, bounded against hostile files, with wrapped lines reflowed into paragraphs."""

from __future__ import annotations

import io
import re
import time

from crawler.extract.errors import ExtractionError

# A line that starts a new block: a numbered clause, a bullet or a lettered item.
_BLOCK_START = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?\s|[•\-–*▪●]\s|\(?[a-z]\)\s|[A-Z][A-Z &,'-]{3,}$)")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d+(?:\s*(?:of|/)\s*\d+)?$", re.I)


# Bounds on hostile PDFs. Real policies run to a few dozen pages; pypdf itself
# caps every decompressed stream (75 MB, pypdf.Configuration). The time budget
# is thread CPU time, checked between pages (one page cannot be interrupted).
PDF_MAX_PAGES = 1_000
PDF_MAX_CHARACTERS = 5_000_000
PDF_MAX_SECONDS = 30.0


def pdf_text(body: bytes, url: str) -> str:
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

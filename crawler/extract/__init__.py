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

One module a role, as Scrapy splits its packages:

- ``document``: the entry points, one source or several joined and masked;
- ``body``: what a body is (PDF, text, HTML or refused) and how it decodes;
- ``pdf``: PDF text within page, character and CPU bounds, reflowed;
- ``page``: HTML parsed within element and depth bounds, turned into Markdown;
- ``selection``: the declaration's ``select`` and ``remove`` rules;
- ``cleaning``: noise dropped from the selected content;
- ``links``: links made absolute and stripped of per-visit values;
- ``bot_walls``: challenge pages served in place of the document;
- ``errors``: :class:`ExtractionError`.
"""

from __future__ import annotations

from crawler.extract.document import Part, extract_document, extract_parts, extract_source
from crawler.extract.errors import ExtractionError
from crawler.extract.links import clean_url
from crawler.extract.page import HTML_MAX_DEPTH, HTML_MAX_ELEMENTS
from crawler.extract.pdf import PDF_MAX_CHARACTERS, PDF_MAX_PAGES, PDF_MAX_SECONDS

__all__ = [
    "HTML_MAX_DEPTH", "HTML_MAX_ELEMENTS", "PDF_MAX_CHARACTERS", "PDF_MAX_PAGES", "PDF_MAX_SECONDS", "ExtractionError",
    "Part", "clean_url", "extract_document", "extract_parts", "extract_source",
]

"""What a document's text is extracted from, as one hash: the key of the identical-bytes shortcut.

A fetch's text is a function of its parts' raw bytes (with each part's
content type and URLs), the document's declaration (sources, selectors,
volatile values declared and kept), the volatile values learned for it, and
the extractor itself: this project's extraction code, the libraries it parses
with, and Python (its Unicode tables drive the regexes). :func:`extraction_key`
hashes all of it. When a fetch has the key the document's last recorded text
was extracted under, that text is the fetch's text, and the recorder records
the fetch as unchanged without parsing it (decision 0014, eighth pass). Any
change to any of those inputs gives another key, and the fetch is extracted.

This module imports nothing of the extractor: an unchanged re-run never
imports BeautifulSoup, lxml or markdownify.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from analysis.volatile import VolatileRules
from store.mapping import source_to_json

ROOT = Path(__file__).resolve().parent.parent

# The project's modules an extraction runs (crawler.extract and what it imports from the project).
# tests/test_extraction_key.py checks this list against what importing crawler.extract loads.
EXTRACTION_MODULES = (
    "analysis/__init__.py",
    "analysis/domain.py",
    "analysis/text.py",
    "analysis/volatile.py",
    "crawler/__init__.py",
    "crawler/extract/__init__.py",
    "crawler/extract/body.py",
    "crawler/extract/bot_walls.py",
    "crawler/extract/cleaning.py",
    "crawler/extract/document.py",
    "crawler/extract/errors.py",
    "crawler/extract/links.py",
    "crawler/extract/page.py",
    "crawler/extract/pdf.py",
    "crawler/extract/selection.py",
)
# The libraries an extraction parses and decodes with: top-level module → distribution name. bs4's
# UnicodeDammit, which decoding falls back to, prefers cchardet or chardet when either is installed.
EXTRACTION_LIBRARIES = {
    "bs4": "beautifulsoup4",
    "cchardet": "cchardet",
    "chardet": "chardet",
    "charset_normalizer": "charset-normalizer",
    "lxml": "lxml",
    "markdownify": "markdownify",
    "pypdf": "pypdf",
    "soupsieve": "soupsieve",
}


@cache
def extractor_fingerprint() -> str:
    """The extractor's identity: its source files, its libraries' installed versions, Python's version."""
    digest = hashlib.sha256(f"python {sys.version}\n".encode())
    for relative in EXTRACTION_MODULES:
        digest.update(f"{relative}\n".encode())
        digest.update((ROOT / relative).read_bytes())
    for module, distribution in sorted(EXTRACTION_LIBRARIES.items()):
        digest.update(f"{distribution} {installed_version(module, distribution)}\n".encode())
    return digest.hexdigest()


def installed_version(module: str, distribution: str) -> str | None:
    """The installed version of ``distribution`` (which provides ``module``), without importing either.

    Read off the name of its ``*.dist-info`` folder beside the module, as pip
    installs it; ``importlib.metadata`` gives the same answer at ~10 ms a look-up,
    and is asked when there is no such folder (a distribution's or an egg's
    install). None when the module is not installed.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return None
    origin = Path(spec.origin)
    folder = origin.parent.parent if spec.submodule_search_locations else origin.parent
    found = _dist_info_versions(str(folder)).get(_normalise(distribution))
    if found is None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version(distribution)
        except PackageNotFoundError:
            found = "unknown"
    return found


@cache
def _dist_info_versions(folder: str) -> dict[str, str]:
    versions = {}
    for entry in os.scandir(folder):
        if entry.name.endswith(".dist-info") and "-" in entry.name:
            name, version = entry.name[: -len(".dist-info")].rsplit("-", 1)
            versions[_normalise(name)] = version
    return versions


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def rules_json(rules: VolatileRules) -> dict[str, Any]:
    """The volatile rules an extraction applies, in a stable form (sets sorted)."""
    return {"params": sorted(rules.params), "texts": list(rules.texts), "learned_texts": list(rules.learned_texts),
            "shapes": rules.shapes}


def extraction_key(spec: Mapping[str, Any], rules: VolatileRules, parts: Iterable[Mapping[str, Any]]) -> str:
    """The key of one fetch's extraction.

    ``spec`` is the document's stored declaration (JSON), ``rules`` the
    volatile rules it is extracted with, ``parts`` each page as
    :func:`parts_of` describes it, in order.
    """
    inputs = {"extractor": extractor_fingerprint(), "spec": spec, "rules": rules_json(rules), "parts": list(parts)}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def parts_of(parts: Sequence[Any]) -> list[dict[str, Any]]:
    """What the extractor reads of each fetched page (``crawler.items.FetchedPart``) besides the rules:
    the raw bytes' SHA-256, the content type, the URLs, the source declaration it was fetched for."""
    return [{"sha256": p.snapshot.sha256, "content_type": p.snapshot.content_type,
             "requested_url": p.snapshot.requested_url, "final_url": p.snapshot.final_url,
             "source": source_to_json(p.source)} for p in parts]

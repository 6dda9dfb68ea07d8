"""Catalog loading: platform declarations into :class:`PlatformSpec` records (SPEC §3).

A catalog is a folder holding one file per platform, in either of two forms:

- our YAML form (``*.yaml`` / ``*.yml``), documented in ``catalog/README.md``;
- Open Terms Archive's JSON declarations (``*.json``), read as they are, with
  the past declarations of ``Name.history.json`` merged into each document's
  ``history``.

Every problem becomes a :class:`CatalogProblem` naming the file, the key path
(``terms.Terms of Service.select[1].startBefore``), the line where known and
what was expected; every problem of every file is reported in one run. A file
with any error is left out whole (a half-loaded platform would look like
documents dropped from the catalog); the other files load regardless.

One module a role, as Scrapy splits its packages:

- ``catalog``: which files are declarations; one file, a whole folder loaded;
- ``yaml_form`` and ``ota``: the two forms (ours and Open Terms Archive's);
- ``selection``: what a declaration selects (selectors, ranges, sources, history), in either dialect;
- ``values``: the readers of single values (types, strings, URLs, dates, CSS);
- ``reading``: JSON and YAML files that reject duplicate keys;
- ``problems``: problems gathered entry by entry, located at their line;
- ``writing``: a platform back to our YAML form.

Importing this package loads PyYAML and the domain records only (no
soupsieve, Scrapy or SQLAlchemy): every command's start-up reads the catalog.
"""

from __future__ import annotations

from crawler.declarations.catalog import is_declaration_file, load_catalog, load_declaration_file, why_not_loaded
from crawler.declarations.ota import HISTORY_SUFFIX, OTA_SUFFIX, history_file_of
from crawler.declarations.problems import CatalogLoad, CatalogProblem, FileLoad, format_key
from crawler.declarations.reading import slugify
from crawler.declarations.values import filter_declaration, terms_types
from crawler.declarations.writing import platform_to_yaml

__all__ = [
    "HISTORY_SUFFIX", "OTA_SUFFIX", "CatalogLoad", "CatalogProblem", "FileLoad", "filter_declaration", "format_key",
    "history_file_of", "is_declaration_file", "load_catalog", "load_declaration_file", "platform_to_yaml", "slugify",
    "terms_types", "why_not_loaded",
]

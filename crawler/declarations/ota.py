"""Open Terms Archive's JSON declarations, read as they are, with ``Name.history.json`` merged in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis.domain import DocumentSpec, HistoricalDeclaration, PlatformSpec
from crawler.declarations.problems import CatalogProblem, InvalidDeclarationError, KeyPath, Problems, read_fields
from crawler.declarations.reading import read_json, slug_from_stem
from crawler.declarations.selection import OTA, fetcher_for, read_history, read_sources
from crawler.declarations.values import check_keys, read_document_type, read_mapping, read_string

OTA_SUFFIX = ".json"
HISTORY_SUFFIX = ".history.json"


OTA_TOP_KEYS = ("name", "terms", "documents", "importedFrom")


def load_ota(path: Path, problems: Problems, warnings: list[CatalogProblem]) -> PlatformSpec | None:
    data = read_json(path, problems)
    slug = slug_from_stem(path, problems)
    if data is None or slug is None:
        return None
    with problems.entry():
        return _ota_platform(path, data, slug, problems, warnings)
    return None


def _ota_platform(
    path: Path, data: Any, slug: str, problems: Problems, warnings: list[CatalogProblem]
) -> PlatformSpec | None:
    data = read_mapping(data, (), "a declaration object ({\"name\": ..., \"terms\": {...}})")
    check_keys(data, (), OTA_TOP_KEYS)
    name = read_string(data.get("name"), ("name",))
    terms_key = "documents" if "documents" in data and "terms" not in data else "terms"
    if "documents" in data and "terms" in data:
        raise InvalidDeclarationError(("documents",), "expected 'terms' or its older name 'documents', not both")
    terms = read_mapping(data.get(terms_key), (terms_key,), "a mapping of document type to declaration")
    if not terms:
        # Open Terms Archive keeps services it stopped tracking, with no terms, for their history.
        warnings.append(CatalogProblem(str(path), terms_key, "declares no documents; nothing to track"))
        return None
    history = _ota_history(path, set(terms), problems, warnings)
    documents = []
    for doc_type, declaration in terms.items():
        with problems.entry():
            documents.append(_ota_document(slug, doc_type, declaration, (terms_key, doc_type), history))
    if problems.found:
        return None
    return PlatformSpec(slug=slug, name=name, documents=tuple(documents), source_file=str(path))


def _ota_document(
    slug: str, doc_type: str, declaration: Any, path: KeyPath, history: dict[str, tuple[HistoricalDeclaration, ...]]
) -> DocumentSpec:
    declaration = read_mapping(declaration, path, "a document declaration ({\"fetch\": URL, \"select\": ...})")
    sources = read_fields(
        type=lambda: read_document_type(doc_type, path, custom_allowed=False),
        keys=lambda: check_keys(declaration, path, (OTA.fetch, OTA.combine, *OTA.options)),
        sources=lambda: read_sources(declaration, path, OTA),
    )["sources"]
    return DocumentSpec(
        platform=slug, type=doc_type, sources=sources, fetcher=fetcher_for(sources),
        history=history.get(doc_type, ()),
    )


def history_file_of(path: Path) -> Path:
    """``Name.json`` → ``Name.history.json`` beside it."""
    return path.with_name(path.name[: -len(OTA_SUFFIX)] + HISTORY_SUFFIX)


def _ota_history(
    path: Path, current_types: set[str], problems: Problems, warnings: list[CatalogProblem]
) -> dict[str, tuple[HistoricalDeclaration, ...]]:
    history_path = history_file_of(path)
    if not history_path.is_file():
        return {}
    data = read_json(history_path, problems)
    if data is None:
        return {}
    merged: dict[str, tuple[HistoricalDeclaration, ...]] = {}
    with problems.entry(history_path):
        data = read_mapping(data, (), "a mapping of document type to past declarations")
        for doc_type, entries in data.items():
            with problems.entry(history_path):
                read_document_type(doc_type, (doc_type,), custom_allowed=False)
                merged[doc_type] = read_history(entries, (doc_type,), OTA)
    for doc_type in sorted(set(merged) - current_types):
        # Open Terms Archive keeps the history of documents no longer tracked; nothing to attach it to.
        warnings.append(CatalogProblem(
            str(history_path), doc_type, "history of a document the declaration no longer lists; ignored"
        ))
    return merged

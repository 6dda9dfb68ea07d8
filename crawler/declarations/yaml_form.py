"""Our YAML form of a platform declaration (documented in ``catalog/README.md``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from analysis.domain import FETCHERS, DocumentSpec, PlatformSpec, SourceSpec
from analysis.volatile import WILDCARD, VolatileRules
from crawler.declarations.problems import InvalidDeclarationError, KeyPath, Problems, read_fields
from crawler.declarations.reading import SLUG_MAX_LENGTH, SLUG_PATTERN, read_yaml, slug_from_stem
from crawler.declarations.selection import OURS, fetcher_for, read_history, read_sources
from crawler.declarations.values import (
    check_keys,
    kind_of,
    read_boolean,
    read_document_type,
    read_mapping,
    read_string,
    read_strings,
    read_url,
)

YAML_TOP_KEYS = ("name", "slug", "homepage", "jurisdictions", "tags", "documents")
YAML_DOCUMENT_KEYS = (
    "type", "title", "custom_type", "url", "sources", "select", "remove", "filters",
    "execute_client_scripts", "fetcher", "tags", "obey_robots", "schedule_group", "history", "volatile",
)
VOLATILE_KEYS = ("params", "text", "keep")
# A query parameter name as it appears before "=", or "#" for the fragment.
_PARAM_NAME = re.compile(r"#|[^\s=&#?]+")


def load_yaml(path: Path, problems: Problems) -> PlatformSpec | None:
    data = read_yaml(path, problems)
    if problems.found:
        return None
    with problems.entry():
        return _yaml_platform(path, data, problems)
    return None


def _yaml_platform(path: Path, data: Any, problems: Problems) -> PlatformSpec | None:
    data = read_mapping(data, (), "a platform declaration (name, documents, ...)")
    slug = None
    with problems.entry():
        slug = _yaml_slug(path, data, problems)
    entries = data.get("documents")
    with problems.entry():  # each document's own problems are gathered below, entry by entry
        if not isinstance(entries, list) or not entries:
            raise InvalidDeclarationError(("documents",), f"expected a non-empty list of documents, found {kind_of(entries)}")
    documents = _yaml_documents(slug or "", entries, problems) if isinstance(entries, list) else ()
    with problems.entry():
        fields = read_fields(
            keys=lambda: check_keys(data, (), YAML_TOP_KEYS),
            name=lambda: read_string(data.get("name"), ("name",)),
            homepage=lambda: read_url(data["homepage"], ("homepage",)) if "homepage" in data else None,
            jurisdictions=lambda: read_strings(data.get("jurisdictions", []), ("jurisdictions",)),
            tags=lambda: read_strings(data.get("tags", []), ("tags",)),
        )
        if not problems.found and slug is not None:
            return PlatformSpec(
                slug=slug, name=fields["name"], documents=documents, homepage=fields["homepage"],
                jurisdictions=fields["jurisdictions"], tags=fields["tags"], source_file=str(path),
            )
    return None


def _yaml_slug(path: Path, data: dict[str, Any], problems: Problems) -> str | None:
    if "slug" not in data:
        return slug_from_stem(path, problems)
    slug = read_string(data["slug"], ("slug",))
    if not SLUG_PATTERN.match(slug):
        raise InvalidDeclarationError(("slug",), f"expected lowercase letters, digits and single hyphens, found {slug!r}")
    if len(slug) > SLUG_MAX_LENGTH:
        raise InvalidDeclarationError(("slug",), f"expected at most {SLUG_MAX_LENGTH} characters, found {len(slug)}")
    return slug


def _yaml_documents(slug: str, entries: list[Any], problems: Problems) -> tuple[DocumentSpec, ...]:
    documents: list[DocumentSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        with problems.entry():
            document = _yaml_document(slug, entry, ("documents", index))
            if document.type in seen:
                raise InvalidDeclarationError(
                    ("documents", index, "type"), f"document type '{document.type}' already declared at documents[{seen[document.type]}]"
                )
            seen[document.type] = index
            documents.append(document)
    return tuple(documents)


def _yaml_document(slug: str, entry: Any, path: KeyPath) -> DocumentSpec:
    entry = read_mapping(entry, path, "a document (type, url, select, ...)")
    fields = read_fields(
        keys=lambda: check_keys(entry, path, YAML_DOCUMENT_KEYS),
        type=lambda: _yaml_type(entry, path),
        sources=lambda: read_sources(entry, path, OURS),
        schedule_group=lambda: read_string(entry.get("schedule_group", "default"), path + ("schedule_group",)),
        tags=lambda: read_strings(entry.get("tags", []), path + ("tags",)),
        obey_robots=lambda: read_boolean(entry.get("obey_robots", True), path + ("obey_robots",)),
        history=lambda: read_history(entry.get("history", []), path + ("history",), OURS),
        title=lambda: read_string(entry["title"], path + ("title",)) if "title" in entry else None,
        volatile=lambda: _volatile(entry.get("volatile", {}), path + ("volatile",)),
    )
    return DocumentSpec(
        platform=slug,
        type=fields["type"],
        sources=fields["sources"],
        fetcher=_yaml_fetcher(entry, path, fields["sources"]),
        schedule_group=fields["schedule_group"],
        tags=fields["tags"],
        obey_robots=fields["obey_robots"],
        history=fields["history"],
        title=fields["title"],
        **fields["volatile"],
    )


def _yaml_type(entry: dict[str, Any], path: KeyPath) -> str:
    """The document's type: one of Open Terms Archive's, or any with ``custom_type: true``."""
    custom = read_boolean(entry.get("custom_type", False), path + ("custom_type",))
    if "type" not in entry:
        raise InvalidDeclarationError(path, "missing 'type': an Open Terms Archive document type, e.g. 'Terms of Service'")
    return read_document_type(
        entry["type"], path + ("type",), custom_allowed=custom,
        hint="; or set 'custom_type: true' to declare a type of your own",
    )


def _volatile(value: Any, path: KeyPath) -> dict[str, Any]:
    """``volatile: {params, text, keep}``: values that change on every load, and learned ones to keep."""
    value = read_mapping(value, path, "a mapping with params, text or keep")
    check_keys(value, path, VOLATILE_KEYS)
    params = read_strings(value.get("params", []), path + ("params",))
    for index, name in enumerate(params):
        if not _PARAM_NAME.fullmatch(name):
            raise InvalidDeclarationError(path + ("params", index), f"expected a query parameter name (or '#' for the fragment), found {name!r}")
    texts = read_strings(value.get("text", []), path + ("text",), shown=False)  # matched against page text
    for index, template in enumerate(texts):
        if WILDCARD not in template or not template.replace(WILDCARD, "").strip():
            raise InvalidDeclarationError(
                path + ("text", index), f"expected a line with {WILDCARD} where it varies, e.g. 'Visits today: {WILDCARD}', found {template!r}"
            )
    return {
        "volatile": VolatileRules(params=frozenset(p.lower() for p in params), texts=texts),
        "volatile_keep": frozenset(read_strings(value.get("keep", []), path + ("keep",), shown=False)),
    }


def _yaml_fetcher(entry: dict[str, Any], path: KeyPath, sources: tuple[SourceSpec, ...]) -> str:
    derived = fetcher_for(sources)
    if "fetcher" not in entry:
        return derived
    fetcher = entry["fetcher"]
    if fetcher not in FETCHERS:
        raise InvalidDeclarationError(path + ("fetcher",), f"expected one of {', '.join(FETCHERS)}, found {fetcher!r}")
    if fetcher == "http" and derived == "browser":
        raise InvalidDeclarationError(
            path + ("fetcher",), "'http' cannot run the page scripts 'execute_client_scripts: true' asks for; use 'browser'"
        )
    return fetcher

"""Writing a platform in our YAML form; loading the text gives the same platform back."""

from __future__ import annotations

from typing import Any

import yaml

from analysis.domain import DocumentSpec, PlatformSpec, Selector, SourceSpec
from crawler.declarations.selection import fetcher_for
from crawler.declarations.values import filter_declaration, terms_types


def platform_to_yaml(platform: PlatformSpec, *, header: str = "") -> str:
    """``platform`` in our YAML form; loading the text gives the same platform back."""
    data: dict[str, Any] = {"name": platform.name, "slug": platform.slug}
    if platform.homepage:
        data["homepage"] = platform.homepage
    if platform.jurisdictions:
        data["jurisdictions"] = list(platform.jurisdictions)
    if platform.tags:
        data["tags"] = list(platform.tags)
    data["documents"] = [_document_data(document) for document in platform.documents]
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _document_data(document: DocumentSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"type": document.type}
    if document.title:
        data["title"] = document.title
    if document.type not in terms_types():
        data["custom_type"] = True
    data.update(_sources_data(document.sources))
    if document.fetcher != fetcher_for(document.sources):
        data["fetcher"] = document.fetcher
    if document.tags:
        data["tags"] = list(document.tags)
    if not document.obey_robots:
        data["obey_robots"] = False
    if document.schedule_group != "default":
        data["schedule_group"] = document.schedule_group
    if document.volatile or document.volatile_keep:
        data["volatile"] = _volatile_data(document)
    if document.history:
        data["history"] = [
            {"valid_until": past.valid_until.isoformat().replace("+00:00", "Z"), **_sources_data(past.sources)}
            for past in document.history
        ]
    return data


def _volatile_data(document: DocumentSpec) -> dict[str, Any]:
    found = {"params": sorted(document.volatile.params), "text": list(document.volatile.texts),
             "keep": sorted(document.volatile_keep)}
    return {key: value for key, value in found.items() if value}


def _sources_data(sources: tuple[SourceSpec, ...]) -> dict[str, Any]:
    if len(sources) == 1:
        return {"url": sources[0].url, **_source_options_data(sources[0])}
    return {"sources": [{"url": source.url, **_source_options_data(source)} for source in sources]}


def _source_options_data(source: SourceSpec) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if source.select:
        data["select"] = _selectors_data(source.select)
    if source.remove:
        data["remove"] = _selectors_data(source.remove)
    if source.filters:
        data["filters"] = [filter_declaration(name) for name in source.filters]
    if source.execute_client_scripts:
        data["execute_client_scripts"] = True
    return data


def _selectors_data(selectors: tuple[Selector, ...]) -> Any:
    items = [
        selector if isinstance(selector, str)
        else {name: value for name, value in vars(selector).items() if value is not None}
        for selector in selectors
    ]
    return items[0] if len(items) == 1 and isinstance(items[0], str) else items

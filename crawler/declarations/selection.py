"""What a declaration selects: selectors, ranges, sources (one page or pages combined) and past
declarations, in either dialect (Open Terms Archive's JSON keys or our YAML keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.domain import HistoricalDeclaration, RangeSelector, Selector, SourceSpec
from crawler.declarations.problems import InvalidDeclarationError, KeyPath
from crawler.declarations.values import (
    check_keys,
    kind_of,
    read_boolean,
    read_css,
    read_filters,
    read_mapping,
    read_timestamp,
    read_url,
)


@dataclass(frozen=True)
class _Dialect:
    """Key names of one declaration form; both forms share one parser."""

    fetch: str
    combine: str
    select: str
    remove: str
    filters: str
    execute: str
    valid_until: str
    start_before: str
    start_after: str
    end_before: str
    end_after: str

    @property
    def options(self) -> tuple[str, ...]:
        return (self.select, self.remove, self.filters, self.execute)

    @property
    def range_keys(self) -> tuple[str, ...]:
        return (self.start_before, self.start_after, self.end_before, self.end_after)


OTA = _Dialect(
    fetch="fetch", combine="combine", select="select", remove="remove", filters="filter",
    execute="executeClientScripts", valid_until="validUntil", start_before="startBefore",
    start_after="startAfter", end_before="endBefore", end_after="endAfter",
)
OURS = _Dialect(
    fetch="url", combine="sources", select="select", remove="remove", filters="filters",
    execute="execute_client_scripts", valid_until="valid_until", start_before="start_before",
    start_after="start_after", end_before="end_before", end_after="end_after",
)


def _selectors(value: Any, path: KeyPath, dialect: _Dialect) -> tuple[Selector, ...]:
    """A CSS selector, a range object, or a list of them."""
    if isinstance(value, list):
        return tuple(_selector(item, path + (index,), dialect) for index, item in enumerate(value))
    return (_selector(value, path, dialect),)


def _selector(value: Any, path: KeyPath, dialect: _Dialect) -> Selector:
    if isinstance(value, dict):
        return _range(value, path, dialect)
    if isinstance(value, str):
        return read_css(value, path)
    raise InvalidDeclarationError(path, f"expected a CSS selector or a range object, found {kind_of(value)}")


def _range(value: dict[str, Any], path: KeyPath, dialect: _Dialect) -> RangeSelector:
    check_keys(value, path, dialect.range_keys)
    d = dialect
    for first, second in ((d.start_before, d.start_after), (d.end_before, d.end_after)):
        if (first in value) == (second in value):
            raise InvalidDeclarationError(path, f"a range needs exactly one of '{first}' or '{second}'")
    return RangeSelector(**{
        name: read_css(value[key], path + (key,)) if key in value else None
        for name, key in zip(("start_before", "start_after", "end_before", "end_after"), d.range_keys)
    })


def _source_options(declaration: dict[str, Any], path: KeyPath, dialect: _Dialect) -> dict[str, Any]:
    """The extraction options a declaration states (only those present, so they can override)."""
    readers = {
        dialect.select: ("select", lambda v, p: _selectors(v, p, dialect)),
        dialect.remove: ("remove", lambda v, p: _selectors(v, p, dialect)),
        dialect.filters: ("filters", read_filters),
        dialect.execute: ("execute_client_scripts", read_boolean),
    }
    return {
        name: read(declaration[key], path + (key,))
        for key, (name, read) in readers.items()
        if key in declaration
    }


def read_sources(declaration: dict[str, Any], path: KeyPath, dialect: _Dialect) -> tuple[SourceSpec, ...]:
    """One page (``fetch``/``url``) or pages combined in order (``combine``/``sources``).

    Options stated beside ``combine`` apply to every combined page unless the
    page states its own, as in Open Terms Archive.
    """
    shared = _source_options(declaration, path, dialect)
    if (dialect.fetch in declaration) == (dialect.combine in declaration):
        raise InvalidDeclarationError(
            path, f"expected exactly one of '{dialect.fetch}' (the page URL) or '{dialect.combine}' (pages combined in order)"
        )
    if dialect.fetch in declaration:
        return (SourceSpec(url=read_url(declaration[dialect.fetch], path + (dialect.fetch,)), **shared),)
    pages = declaration[dialect.combine]
    pages_path = path + (dialect.combine,)
    if not isinstance(pages, list) or not pages:
        raise InvalidDeclarationError(pages_path, f"expected a non-empty list of pages, found {kind_of(pages)}")
    return tuple(_combined_source(page, pages_path + (index,), dialect, shared) for index, page in enumerate(pages))


def _combined_source(page: Any, path: KeyPath, dialect: _Dialect, shared: dict[str, Any]) -> SourceSpec:
    page = read_mapping(page, path, f"a page ({{{dialect.fetch}: URL, ...}})")
    check_keys(page, path, (dialect.fetch, *dialect.options))
    if dialect.fetch not in page:
        raise InvalidDeclarationError(path, f"missing '{dialect.fetch}': the URL of this page")
    url = read_url(page[dialect.fetch], path + (dialect.fetch,))
    return SourceSpec(url=url, **(shared | _source_options(page, path, dialect)))


def _history_entry(entry: Any, path: KeyPath, dialect: _Dialect) -> HistoricalDeclaration:
    entry = read_mapping(entry, path, "a past declaration")
    check_keys(entry, path, (dialect.valid_until, dialect.fetch, dialect.combine, *dialect.options))
    if dialect.valid_until not in entry:
        raise InvalidDeclarationError(path, f"missing '{dialect.valid_until}': until when this declaration was valid")
    valid_until = read_timestamp(entry[dialect.valid_until], path + (dialect.valid_until,))
    return HistoricalDeclaration(valid_until=valid_until, sources=read_sources(entry, path, dialect))


def read_history(entries: Any, path: KeyPath, dialect: _Dialect) -> tuple[HistoricalDeclaration, ...]:
    if not isinstance(entries, list):
        raise InvalidDeclarationError(path, f"expected a list of past declarations, found {kind_of(entries)}")
    history = (_history_entry(entry, path + (index,), dialect) for index, entry in enumerate(entries))
    return tuple(sorted(history, key=lambda past: past.valid_until))


def fetcher_for(sources: tuple[SourceSpec, ...]) -> str:
    """Pages that need their scripts run are fetched with the browser."""
    return "browser" if any(source.execute_client_scripts for source in sources) else "http"


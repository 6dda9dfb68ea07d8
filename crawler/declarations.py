"""Catalog loading: platform declarations into :class:`PlatformSpec` records (SPEC §3).

A catalog is a folder holding one file per platform, in either of two forms:

- our YAML form (``*.yaml`` / ``*.yml``), documented in ``catalog/README.md``;
- Open Terms Archive's JSON declarations (``*.json``), read as they are, with
  the past declarations of ``Name.history.json`` merged into each document's
  ``history``.

Every problem becomes a :class:`DeclarationError` naming the file, the key path
(``terms.Terms of Service.select[1].startBefore``), the line where known and
what was expected. A file with any error is left out whole (a half-loaded
platform would look like documents dropped from the catalog); the other files
load regardless.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from analysis.domain import (
    FETCHERS,
    DocumentSpec,
    HistoricalDeclaration,
    PlatformSpec,
    RangeSelector,
    Selector,
    SourceSpec,
)
from analysis.volatile import WILDCARD, VolatileRules

YAML_SUFFIXES = (".yaml", ".yml")
OTA_SUFFIX = ".json"
HISTORY_SUFFIX = ".history.json"
TERMS_TYPES_FILE = Path(__file__).with_name("ota_terms_types.json")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

KeyPath = tuple[str | int, ...]


# --- Results -----------------------------------------------------------------


@dataclass(frozen=True)
class DeclarationError:
    """One problem of one catalog file: where it is and what was expected."""

    file: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key or '(file)'}: {self.message}"


@dataclass
class CatalogLoad:
    """The platforms of a catalog folder, the files rejected and why, and harmless oddities."""

    platforms: list[PlatformSpec] = field(default_factory=list)
    errors: list[DeclarationError] = field(default_factory=list)
    warnings: list[DeclarationError] = field(default_factory=list)


@dataclass
class FileLoad:
    """One declaration file read: its platform, or ``None`` when it has errors."""

    platform: PlatformSpec | None
    errors: list[DeclarationError] = field(default_factory=list)
    warnings: list[DeclarationError] = field(default_factory=list)


class InvalidDeclarationError(Exception):
    """A value of a declaration is not what was expected (raised while parsing one entry)."""

    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(f"{format_key(path)}: {message}")
        self.path = path
        self.message = message


def format_key(path: KeyPath) -> str:
    """``("terms", "Terms of Service", "select", 1)`` → ``terms.Terms of Service.select[1]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --- Document types ----------------------------------------------------------


@cache
def terms_types() -> dict[str, dict[str, Any]]:
    """Open Terms Archive's official document types, vendored in ``ota_terms_types.json``."""
    return json.loads(TERMS_TYPES_FILE.read_text(encoding="utf-8"))["types"]


def _type_aliases() -> dict[str, str]:
    return {alias: name for name, info in terms_types().items() for alias in info.get("aliases", ())}


def _document_type(name: Any, path: KeyPath, *, custom_allowed: bool, hint: str = "") -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidDeclarationError(path, "expected a document type name (a non-empty string)")
    if name in terms_types() or custom_allowed:
        return name
    canonical = _type_aliases().get(name)
    if canonical:
        raise InvalidDeclarationError(path, f"'{name}' is an alias of the document type '{canonical}'; use '{canonical}'")
    close = difflib.get_close_matches(name, list(terms_types()), n=2)
    suggestion = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise InvalidDeclarationError(
        path, f"unknown document type '{name}': expected one of Open Terms Archive's types{suggestion}{hint}"
    )


# --- Values ------------------------------------------------------------------


def _mapping(value: Any, path: KeyPath, what: str = "a mapping") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidDeclarationError(path, f"expected {what}, found {_kind(value)}")
    return value


def _check_keys(mapping: dict[str, Any], path: KeyPath, allowed: tuple[str, ...]) -> None:
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise InvalidDeclarationError(
                path + (str(key),), f"unknown key{hint}; expected one of: {', '.join(allowed)}"
            )


def _string(value: Any, path: KeyPath) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidDeclarationError(path, f"expected a non-empty string, found {_kind(value)}")
    return value


def _strings(value: Any, path: KeyPath) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise InvalidDeclarationError(path, f"expected a list of strings, found {_kind(value)}")
    return tuple(_string(item, path + (index,)) for index, item in enumerate(value))


def _boolean(value: Any, path: KeyPath) -> bool:
    if not isinstance(value, bool):
        raise InvalidDeclarationError(path, f"expected true or false, found {_kind(value)}")
    return value


def _url(value: Any, path: KeyPath) -> str:
    text = _string(value, path)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidDeclarationError(path, f"expected an http(s) URL, found {text!r}")
    return text


def _timestamp(value: Any, path: KeyPath) -> datetime:
    """An ISO 8601 date-time with its time zone, as an aware UTC datetime."""
    expected = "expected an ISO 8601 date-time with time zone, e.g. 2024-03-18T18:30:09Z"
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidDeclarationError(path, f"{expected}, found {value!r}") from None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidDeclarationError(path, f"{expected}, found {value!r}")
    return moment.astimezone(UTC)


def _filters(value: Any, path: KeyPath) -> tuple[str, ...]:
    """Open Terms Archive filter names, kept though we cannot run its JavaScript.

    A filter given with parameters (``{"removeQueryParams": ["utm_source"]}``)
    is kept as ``removeQueryParams=["utm_source"]`` so nothing is lost.
    """
    if not isinstance(value, list):
        value = [value]
    return tuple(_filter(item, path + (index,)) for index, item in enumerate(value))


def _filter(value: Any, path: KeyPath) -> str:
    if isinstance(value, dict) and len(value) == 1:
        (name, parameters), = value.items()
        return f"{_string(name, path)}={json.dumps(parameters, separators=(',', ':'), ensure_ascii=False)}"
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidDeclarationError(path, f"expected a filter name or {{name: parameters}}, found {_kind(value)}")


def filter_declaration(text: str) -> str | dict[str, Any]:
    """The declared form of a kept filter: its name, or ``{name: parameters}``."""
    name, equals, parameters = text.partition("=")
    return {name: json.loads(parameters)} if equals else text


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", type(None): "nothing"}
    return names.get(type(value), f"a {type(value).__name__}")


def _css(value: Any, path: KeyPath) -> str:
    selector = _string(value, path)
    # Imported here: soupsieve compiles its grammar on import (~0.1 s), and
    # commands that only read the catalog must start fast (decision 0014).
    import soupsieve

    try:
        # soupsieve is the engine behind BeautifulSoup's select(): what it accepts, extraction can run.
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        raise InvalidDeclarationError(path, f"invalid CSS selector {selector!r}: {exc.args[0]}") from None
    return selector


# --- Dialects: the two spellings of the same declaration ----------------------


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
        return _css(value, path)
    raise InvalidDeclarationError(path, f"expected a CSS selector or a range object, found {_kind(value)}")


def _range(value: dict[str, Any], path: KeyPath, dialect: _Dialect) -> RangeSelector:
    _check_keys(value, path, dialect.range_keys)
    d = dialect
    for first, second in ((d.start_before, d.start_after), (d.end_before, d.end_after)):
        if (first in value) == (second in value):
            raise InvalidDeclarationError(path, f"a range needs exactly one of '{first}' or '{second}'")
    return RangeSelector(**{
        name: _css(value[key], path + (key,)) if key in value else None
        for name, key in zip(("start_before", "start_after", "end_before", "end_after"), d.range_keys)
    })


def _source_options(declaration: dict[str, Any], path: KeyPath, dialect: _Dialect) -> dict[str, Any]:
    """The extraction options a declaration states (only those present, so they can override)."""
    readers = {
        dialect.select: ("select", lambda v, p: _selectors(v, p, dialect)),
        dialect.remove: ("remove", lambda v, p: _selectors(v, p, dialect)),
        dialect.filters: ("filters", _filters),
        dialect.execute: ("execute_client_scripts", _boolean),
    }
    return {
        name: read(declaration[key], path + (key,))
        for key, (name, read) in readers.items()
        if key in declaration
    }


def _sources(declaration: dict[str, Any], path: KeyPath, dialect: _Dialect) -> tuple[SourceSpec, ...]:
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
        return (SourceSpec(url=_url(declaration[dialect.fetch], path + (dialect.fetch,)), **shared),)
    pages = declaration[dialect.combine]
    pages_path = path + (dialect.combine,)
    if not isinstance(pages, list) or not pages:
        raise InvalidDeclarationError(pages_path, f"expected a non-empty list of pages, found {_kind(pages)}")
    return tuple(_combined_source(page, pages_path + (index,), dialect, shared) for index, page in enumerate(pages))


def _combined_source(page: Any, path: KeyPath, dialect: _Dialect, shared: dict[str, Any]) -> SourceSpec:
    page = _mapping(page, path, f"a page ({{{dialect.fetch}: URL, ...}})")
    _check_keys(page, path, (dialect.fetch, *dialect.options))
    if dialect.fetch not in page:
        raise InvalidDeclarationError(path, f"missing '{dialect.fetch}': the URL of this page")
    url = _url(page[dialect.fetch], path + (dialect.fetch,))
    return SourceSpec(url=url, **(shared | _source_options(page, path, dialect)))


def _history_entry(entry: Any, path: KeyPath, dialect: _Dialect) -> HistoricalDeclaration:
    entry = _mapping(entry, path, "a past declaration")
    _check_keys(entry, path, (dialect.valid_until, dialect.fetch, dialect.combine, *dialect.options))
    if dialect.valid_until not in entry:
        raise InvalidDeclarationError(path, f"missing '{dialect.valid_until}': until when this declaration was valid")
    valid_until = _timestamp(entry[dialect.valid_until], path + (dialect.valid_until,))
    return HistoricalDeclaration(valid_until=valid_until, sources=_sources(entry, path, dialect))


def _history(entries: Any, path: KeyPath, dialect: _Dialect) -> tuple[HistoricalDeclaration, ...]:
    if not isinstance(entries, list):
        raise InvalidDeclarationError(path, f"expected a list of past declarations, found {_kind(entries)}")
    history = (_history_entry(entry, path + (index,), dialect) for index, entry in enumerate(entries))
    return tuple(sorted(history, key=lambda past: past.valid_until))


def _fetcher_for(sources: tuple[SourceSpec, ...]) -> str:
    """Pages that need their scripts run are fetched with the browser."""
    return "browser" if any(source.execute_client_scripts for source in sources) else "http"


def slugify(name: str) -> str:
    """``"Open Collective"`` → ``"open-collective"``; accents dropped, ASCII only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


# --- Collecting errors --------------------------------------------------------


class _Problems:
    """The errors of one file, gathered entry by entry so one bad document hides no other."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.found: list[tuple[Path, KeyPath, str, int | None]] = []

    @contextmanager
    def entry(self, file: Path | None = None) -> Iterator[None]:
        try:
            yield
        except InvalidDeclarationError as exc:
            self.found.append((file or self.file, exc.path, exc.message, None))

    def add(self, path: KeyPath, message: str, *, file: Path | None = None, line: int | None = None) -> None:
        self.found.append((file or self.file, path, message, line))

    def errors(self) -> list[DeclarationError]:
        located = []
        for file, path, message, line in self.found:
            line = line or _line_of(file, path)
            located.append(DeclarationError(str(file), format_key(path), message, line))
        return located


def _line_of(file: Path, path: KeyPath) -> int | None:
    """The 1-based line of ``path`` in ``file`` (JSON is YAML enough for this), or ``None``."""
    try:
        node = yaml.compose(file.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeError, yaml.YAMLError):
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        node = _child(node, part)
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]
    return None


# --- Reading files -------------------------------------------------------------


def _read_json(path: Path, problems: _Problems) -> Any:
    def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(f"duplicate key {key!r}")
        return dict(pairs)

    try:
        return json.loads(path.read_text(encoding="utf-8-sig"), object_pairs_hook=reject_duplicates)
    except json.JSONDecodeError as exc:
        problems.add((), f"invalid JSON: {exc.msg} (column {exc.colno})", file=path, line=exc.lineno)
    except (UnicodeError, ValueError) as exc:
        problems.add((), f"invalid JSON: {exc}", file=path)
    except OSError as exc:
        problems.add((), f"cannot read the file: {exc.strerror}", file=path)
    return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.safe_load`` that refuses a key given twice (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            # Merge keys ("<<: *anchor") may be overridden by design; only literal repeats are refused.
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, problems: _Problems) -> Any:
    try:
        # _UniqueKeyLoader is a SafeLoader: plain data only, as yaml.safe_load.
        return yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problems.add((), f"invalid YAML: {exc.problem or exc.context}", line=line)
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        problems.add((), f"cannot read YAML: {exc}")
    return None


def _slug_from_stem(path: Path, problems: _Problems) -> str | None:
    slug = slugify(path.name[: -len(path.suffix)] if path.suffix else path.name)
    if not slug:
        problems.add((), "cannot derive a platform slug from the file name; name the file with letters or digits")
        return None
    return slug


# --- Open Terms Archive JSON ----------------------------------------------------


OTA_TOP_KEYS = ("name", "terms", "documents", "importedFrom")


def _load_ota(path: Path, problems: _Problems, warnings: list[DeclarationError]) -> PlatformSpec | None:
    data = _read_json(path, problems)
    slug = _slug_from_stem(path, problems)
    if data is None or slug is None:
        return None
    with problems.entry():
        return _ota_platform(path, data, slug, problems, warnings)
    return None


def _ota_platform(
    path: Path, data: Any, slug: str, problems: _Problems, warnings: list[DeclarationError]
) -> PlatformSpec | None:
    data = _mapping(data, (), "a declaration object ({\"name\": ..., \"terms\": {...}})")
    _check_keys(data, (), OTA_TOP_KEYS)
    name = _string(data.get("name"), ("name",))
    terms_key = "documents" if "documents" in data and "terms" not in data else "terms"
    if "documents" in data and "terms" in data:
        raise InvalidDeclarationError(("documents",), "expected 'terms' or its older name 'documents', not both")
    terms = _mapping(data.get(terms_key), (terms_key,), "a mapping of document type to declaration")
    if not terms:
        # Open Terms Archive keeps services it stopped tracking, with no terms, for their history.
        warnings.append(DeclarationError(str(path), terms_key, "declares no documents; nothing to track"))
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
    _document_type(doc_type, path, custom_allowed=False)
    declaration = _mapping(declaration, path, "a document declaration ({\"fetch\": URL, \"select\": ...})")
    _check_keys(declaration, path, (OTA.fetch, OTA.combine, *OTA.options))
    sources = _sources(declaration, path, OTA)
    return DocumentSpec(
        platform=slug, type=doc_type, sources=sources, fetcher=_fetcher_for(sources),
        history=history.get(doc_type, ()),
    )


def history_file_of(path: Path) -> Path:
    """``Name.json`` → ``Name.history.json`` beside it."""
    return path.with_name(path.name[: -len(OTA_SUFFIX)] + HISTORY_SUFFIX)


def _ota_history(
    path: Path, current_types: set[str], problems: _Problems, warnings: list[DeclarationError]
) -> dict[str, tuple[HistoricalDeclaration, ...]]:
    history_path = history_file_of(path)
    if not history_path.is_file():
        return {}
    data = _read_json(history_path, problems)
    if data is None:
        return {}
    merged: dict[str, tuple[HistoricalDeclaration, ...]] = {}
    with problems.entry(history_path):
        data = _mapping(data, (), "a mapping of document type to past declarations")
        for doc_type, entries in data.items():
            with problems.entry(history_path):
                _document_type(doc_type, (doc_type,), custom_allowed=False)
                merged[doc_type] = _history(entries, (doc_type,), OTA)
    for doc_type in sorted(set(merged) - current_types):
        # Open Terms Archive keeps the history of documents no longer tracked; nothing to attach it to.
        warnings.append(DeclarationError(
            str(history_path), doc_type, "history of a document the declaration no longer lists; ignored"
        ))
    return merged


# --- Our YAML form ----------------------------------------------------------------


YAML_TOP_KEYS = ("name", "slug", "homepage", "jurisdictions", "tags", "documents")
YAML_DOCUMENT_KEYS = (
    "type", "title", "custom_type", "url", "sources", "select", "remove", "filters",
    "execute_client_scripts", "fetcher", "tags", "obey_robots", "schedule_group", "history", "volatile",
)
VOLATILE_KEYS = ("params", "text", "keep")
# A query parameter name as it appears before "=", or "#" for the fragment.
_PARAM_NAME = re.compile(r"#|[^\s=&#?]+")


def _load_yaml(path: Path, problems: _Problems) -> PlatformSpec | None:
    data = _read_yaml(path, problems)
    if problems.found:
        return None
    with problems.entry():
        return _yaml_platform(path, data, problems)
    return None


def _yaml_platform(path: Path, data: Any, problems: _Problems) -> PlatformSpec | None:
    data = _mapping(data, (), "a platform declaration (name, documents, ...)")
    _check_keys(data, (), YAML_TOP_KEYS)
    name = _string(data.get("name"), ("name",))
    slug = _yaml_slug(path, data, problems)
    homepage = _url(data["homepage"], ("homepage",)) if "homepage" in data else None
    jurisdictions = _strings(data.get("jurisdictions", []), ("jurisdictions",))
    tags = _strings(data.get("tags", []), ("tags",))
    entries = data.get("documents")
    if not isinstance(entries, list) or not entries:
        raise InvalidDeclarationError(("documents",), f"expected a non-empty list of documents, found {_kind(entries)}")
    documents = _yaml_documents(slug or "", entries, problems)
    if problems.found or slug is None:
        return None
    return PlatformSpec(
        slug=slug, name=name, documents=documents, homepage=homepage,
        jurisdictions=jurisdictions, tags=tags, source_file=str(path),
    )


def _yaml_slug(path: Path, data: dict[str, Any], problems: _Problems) -> str | None:
    if "slug" not in data:
        return _slug_from_stem(path, problems)
    slug = _string(data["slug"], ("slug",))
    if not SLUG_PATTERN.match(slug):
        raise InvalidDeclarationError(("slug",), f"expected lowercase letters, digits and single hyphens, found {slug!r}")
    return slug


def _yaml_documents(slug: str, entries: list[Any], problems: _Problems) -> tuple[DocumentSpec, ...]:
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
    entry = _mapping(entry, path, "a document (type, url, select, ...)")
    _check_keys(entry, path, YAML_DOCUMENT_KEYS)
    custom = _boolean(entry.get("custom_type", False), path + ("custom_type",))
    if "type" not in entry:
        raise InvalidDeclarationError(path, "missing 'type': an Open Terms Archive document type, e.g. 'Terms of Service'")
    doc_type = _document_type(
        entry["type"], path + ("type",), custom_allowed=custom,
        hint="; or set 'custom_type: true' to declare a type of your own",
    )
    sources = _sources(entry, path, OURS)
    return DocumentSpec(
        platform=slug,
        type=doc_type,
        sources=sources,
        fetcher=_yaml_fetcher(entry, path, sources),
        schedule_group=_string(entry.get("schedule_group", "default"), path + ("schedule_group",)),
        tags=_strings(entry.get("tags", []), path + ("tags",)),
        obey_robots=_boolean(entry.get("obey_robots", True), path + ("obey_robots",)),
        history=_history(entry.get("history", []), path + ("history",), OURS),
        title=_string(entry["title"], path + ("title",)) if "title" in entry else None,
        **_volatile(entry.get("volatile", {}), path + ("volatile",)),
    )


def _volatile(value: Any, path: KeyPath) -> dict[str, Any]:
    """``volatile: {params, text, keep}``: values that change on every load, and learned ones to keep."""
    value = _mapping(value, path, "a mapping with params, text or keep")
    _check_keys(value, path, VOLATILE_KEYS)
    params = _strings(value.get("params", []), path + ("params",))
    for index, name in enumerate(params):
        if not _PARAM_NAME.fullmatch(name):
            raise InvalidDeclarationError(path + ("params", index), f"expected a query parameter name (or '#' for the fragment), found {name!r}")
    texts = _strings(value.get("text", []), path + ("text",))
    for index, template in enumerate(texts):
        if WILDCARD not in template or not template.replace(WILDCARD, "").strip():
            raise InvalidDeclarationError(
                path + ("text", index), f"expected a line with {WILDCARD} where it varies, e.g. 'Visits today: {WILDCARD}', found {template!r}"
            )
    return {
        "volatile": VolatileRules(params=frozenset(p.lower() for p in params), texts=texts),
        "volatile_keep": frozenset(_strings(value.get("keep", []), path + ("keep",))),
    }


def _yaml_fetcher(entry: dict[str, Any], path: KeyPath, sources: tuple[SourceSpec, ...]) -> str:
    derived = _fetcher_for(sources)
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


# --- Files and folders ----------------------------------------------------------------


def is_declaration_file(path: Path) -> bool:
    """Our YAML or an Open Terms Archive declaration (not its ``.history.json``)."""
    name = path.name
    if name.startswith(".") or not path.is_file():
        return False
    if name.endswith(HISTORY_SUFFIX):
        return False
    return name.endswith(YAML_SUFFIXES) or name.endswith(OTA_SUFFIX)


def load_declaration_file(path: Path) -> FileLoad:
    """Read one declaration file (and its history file), collecting every problem."""
    problems = _Problems(path)
    warnings: list[DeclarationError] = []
    if path.name.endswith(OTA_SUFFIX):
        platform = _load_ota(path, problems, warnings)
    else:
        platform = _load_yaml(path, problems)
    errors = problems.errors()
    return FileLoad(platform=None if errors else platform, errors=errors, warnings=warnings)


def load_catalog(folder: Path) -> CatalogLoad:
    """Load every declaration of ``folder``; a bad file is reported and left out, never fatal."""
    loaded = CatalogLoad()
    declared: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.name.endswith(HISTORY_SUFFIX):
            _warn_orphan_history(path, loaded)
        if not is_declaration_file(path):
            continue
        result = load_declaration_file(path)
        loaded.errors.extend(result.errors)
        loaded.warnings.extend(result.warnings)
        platform = result.platform
        if platform is None:
            continue
        if platform.slug in declared:
            loaded.errors.append(DeclarationError(
                str(path), "slug", f"platform slug '{platform.slug}' is already declared by {declared[platform.slug]}"
            ))
            continue
        declared[platform.slug] = str(path)
        loaded.platforms.append(platform)
    return loaded


def _warn_orphan_history(path: Path, loaded: CatalogLoad) -> None:
    base = path.with_name(path.name[: -len(HISTORY_SUFFIX)] + OTA_SUFFIX)
    if not base.is_file():
        loaded.warnings.append(DeclarationError(
            str(path), "", f"history file without its declaration {base.name}; ignored"
        ))


# --- Writing our YAML form ----------------------------------------------------------------


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
    if document.fetcher != _fetcher_for(document.sources):
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

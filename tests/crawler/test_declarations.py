"""Catalog loading: Open Terms Archive JSON and our YAML into PlatformSpecs, errors that say where."""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analysis.domain import RangeSelector
from crawler.declarations import (
    CatalogProblem,
    format_key,
    load_catalog,
    load_declaration_file,
    platform_to_yaml,
    slugify,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "declarations"
CATALOG = Path(__file__).resolve().parents[2] / "catalog"


def write(folder: Path, name: str, content: str | dict) -> Path:
    path = folder / name
    text = json.dumps(content, indent=2) if isinstance(content, dict) else textwrap.dedent(content)
    path.write_text(text, encoding="utf-8")
    return path


def only_error(path: Path) -> CatalogProblem:
    loaded = load_declaration_file(path)
    assert loaded.platform is None
    assert len(loaded.errors) == 1, loaded.errors
    return loaded.errors[0]


def ota(documents: dict, name: str = "Example") -> dict:
    return {"name": name, "terms": documents}


def by_slug(folder: Path) -> dict:
    loaded = load_catalog(folder)
    assert loaded.errors == []
    return {platform.slug: platform for platform in loaded.platforms}


# --- Open Terms Archive declarations, read as they are ---------------------------


def test_ota_declarations_load_with_slug_from_file_name() -> None:
    platforms = by_slug(FIXTURES / "ota")

    assert sorted(platforms) == ["facebook", "ikea", "npm-public-registry", "open-collective"]
    open_collective = platforms["open-collective"]
    assert open_collective.name == "Open Collective"
    assert [doc.type for doc in open_collective.documents] == ["Terms of Service", "Privacy Policy"]
    terms = open_collective.documents[0]
    assert terms.key == "open-collective/Terms of Service"
    assert terms.url == "https://opencollective.com/tos"
    assert terms.sources[0].select == (".markdown",)
    assert terms.fetcher == "http"
    assert open_collective.source_file.endswith("Open Collective.json")


def test_combine_gives_pages_in_order_sharing_the_document_options() -> None:
    terms = next(doc for doc in by_slug(FIXTURES / "ota")["ikea"].documents if doc.type == "Terms of Service")

    assert [source.url.rsplit("/", 2)[-2] for source in terms.sources] == [
        "terms-conditions",
        "terms-of-use-pub8262e11a",
        "general-terms-and-conditions-pubf0169731",
    ]
    assert all(source.select == ("main#content",) for source in terms.sources)
    assert all(len(source.remove) == 3 for source in terms.sources)


def test_combined_page_options_override_the_shared_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "Example.json", ota({"Terms of Service": {
        "select": "main",
        "combine": [{"fetch": "https://a.example/1"}, {"fetch": "https://a.example/2", "select": ".b"}],
    }}))

    sources = load_declaration_file(path).platform.documents[0].sources

    assert [source.select for source in sources] == [("main",), (".b",)]


def test_ranges_filters_and_client_scripts() -> None:
    documents = {doc.type: doc for doc in by_slug(FIXTURES / "ota")["facebook"].documents}

    commercial = documents["Commercial Terms"]
    assert commercial.sources[0].select == (
        RangeSelector(start_before="div[role=main]", end_before='[role="separator"]:first-child'),
    )
    assert commercial.fetcher == "browser"
    assert commercial.sources[0].execute_client_scripts is True
    terms = documents["Terms of Service"]
    assert terms.sources[0].remove == (RangeSelector(start_before='[role="separator"]', end_after="body"),)
    # Filters are OTA JavaScript we cannot run: names (and parameters) are kept, nothing fails.
    assert terms.sources[0].filters == ("removeEmptyAnchorsLinks", 'removeQueryParams=["h","locale2"]')
    assert documents["Developer Terms"].fetcher == "http"


def test_history_is_merged_sorted_and_in_utc() -> None:
    documents = {doc.type: doc for doc in by_slug(FIXTURES / "ota")["facebook"].documents}

    live = documents["Live Policy"].history
    # The file lists 2022-08-22T04:33:26+04:00 before 2022-06-21T10:27:21+01:00.
    assert [past.valid_until for past in live] == [
        datetime(2022, 6, 21, 9, 27, 21, tzinfo=UTC),
        datetime(2022, 8, 22, 0, 33, 26, tzinfo=UTC),
    ]
    assert live[1].sources[0].execute_client_scripts is True
    assert documents["Developer Terms"].history == ()


def test_history_of_npm_names_its_past_urls() -> None:
    npm = {doc.type: doc for doc in by_slug(FIXTURES / "ota")["npm-public-registry"].documents}

    history = npm["Terms of Service"].history
    assert [past.sources[0].url for past in history] == [
        "https://docs.npmjs.com/policies/privacy",
        "https://docs.npmjs.com/policies/open-source-terms",
    ]
    assert history[1].sources[0].remove == ("nav", "details")


def test_older_documents_key_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "Old.json", {"name": "Old", "documents": {"Privacy Policy": {"fetch": "https://old.example/p"}}})

    assert load_declaration_file(path).platform.documents[0].type == "Privacy Policy"


# --- Our YAML form ---------------------------------------------------------------


def test_yaml_declaration_uses_every_key() -> None:
    platform = by_slug(FIXTURES / "yaml")["example-cloud"]

    assert (platform.name, platform.homepage) == ("Example Cloud", "https://cloud.example.com")
    assert platform.jurisdictions == ("US", "EU") and platform.tags == ("hosting",)
    terms, aup, custom = platform.documents
    assert terms.sources[0].remove == ("nav", ".cookie-banner")
    assert (terms.schedule_group, terms.tags, terms.fetcher) == ("daily", ("core",), "http")
    assert terms.history[0].valid_until == datetime(2024, 3, 18, 18, 30, 9, tzinfo=UTC)
    assert terms.history[0].sources[0].select == ("#content",)
    assert aup.title == "Fair Use Rules"
    assert [source.select for source in aup.sources] == [
        (RangeSelector(start_after="h1", end_before="footer"),),
        (".annex",),
    ]
    assert aup.fetcher == "browser" and aup.sources[1].filters == ("removeSignupLinks",)
    assert custom.type == "Service Status Commitments" and custom.obey_robots is False


def test_yaml_slug_defaults_to_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "Acme Corp.yml", """\
        name: Acme
        documents:
          - {type: Privacy Policy, url: "https://acme.example/privacy"}
    """)

    assert load_declaration_file(path).platform.slug == "acme-corp"


def test_a_filter_parameter_yaml_reads_as_a_date_is_kept_as_json_would_hold_it(tmp_path: Path) -> None:
    # It ended every command reading the catalog in json.dumps's TypeError (probe of 2026-12-03).
    path = write(tmp_path, "acme.yaml", """\
        name: Acme
        documents:
          - type: Privacy Policy
            url: "https://acme.example/privacy"
            filters:
              - removeBefore: 2024-01-01
    """)

    assert load_declaration_file(path).platform.documents[0].sources[0].filters == ('removeBefore="2024-01-01"',)


def test_kling_ai_is_in_the_catalog() -> None:
    kling = by_slug(CATALOG)["kling-ai"]

    assert kling.name == "Kling AI"
    assert "ai" in kling.tags and kling.jurisdictions
    documents = {doc.type: doc for doc in kling.documents}
    assert sorted(documents) == ["Developer Terms", "Privacy Policy", "Terms of Service"]
    assert documents["Developer Terms"].title == "Terms of API Paid Service"
    assert all(doc.fetcher == "browser" for doc in kling.documents)
    assert all(doc.url.startswith("https://kling.ai/") for doc in kling.documents)


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Open Collective", "open-collective"), ("Academia.edu", "academia-edu"), ("Société Générale", "societe-generale"),
     ("123Greetings", "123greetings"), ("  --X--  ", "x")],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_format_key() -> None:
    assert format_key(("terms", "Terms of Service", "select", 1, "startBefore")) == (
        "terms.Terms of Service.select[1].startBefore"
    )
    assert format_key(()) == ""


# --- Errors: file, key, what was expected ---------------------------------------------

OTA_ERRORS = [
    (
        ota({"Terms of Usage": {"fetch": "https://x.example/t"}}),
        "terms.Terms of Usage", "unknown document type 'Terms of Usage'",
    ),
    (
        ota({"Terms of Use": {"fetch": "https://x.example/t"}}),
        "terms.Terms of Use", "alias of the document type 'Terms of Service'",
    ),
    (
        ota({"Terms of Service": {"fetch": "https://x.example/t", "select": ["main", {"startBefore": "h1"}]}}),
        "terms.Terms of Service.select[1]", "exactly one of 'endBefore' or 'endAfter'",
    ),
    (
        ota({"Terms of Service": {"fetch": "https://x.example/t", "select": ["main", {"startBefor": "h1", "endAfter": "p"}]}}),
        "terms.Terms of Service.select[1].startBefor", "did you mean 'startBefore'",
    ),
    (
        ota({"Terms of Service": {"fetch": "https://x.example/t", "remove": {"startBefore": "div[", "endAfter": "p"}}}),
        "terms.Terms of Service.remove.startBefore", "invalid CSS selector 'div[': Malformed attribute selector at "
        "character 4",
    ),
    (
        ota({"Privacy Policy": {"fetch": "ftp://x.example/p"}}),
        "terms.Privacy Policy.fetch", "expected an http(s) URL",
    ),
    (
        ota({"Privacy Policy": {"fetch": "javascript:alert(1)"}}),
        "terms.Privacy Policy.fetch", "expected an http(s) URL",
    ),
    (
        ota({"Privacy Policy": {"fetch": "http://[::1"}}),
        "terms.Privacy Policy.fetch", "Invalid IPv6 URL",
    ),
    (
        ota({"Privacy Policy": {"select": "main"}}),
        "terms.Privacy Policy", "exactly one of 'fetch' (the page URL) or 'combine'",
    ),
    (
        ota({"Privacy Policy": {"combine": []}}),
        "terms.Privacy Policy.combine", "non-empty list of pages",
    ),
    (
        ota({"Privacy Policy": {"combine": [{"fetch": "https://x.example/1"}, {"select": "main"}]}}),
        "terms.Privacy Policy.combine[1]", "missing 'fetch'",
    ),
    (
        ota({"Privacy Policy": {"fetch": "https://x.example/p", "executeClientScripts": "yes"}}),
        "terms.Privacy Policy.executeClientScripts", "expected true or false",
    ),
    (
        ota({"Privacy Policy": {"fetch": "https://x.example/p", "filter": [42]}}),
        "terms.Privacy Policy.filter[0]", "expected a filter name",
    ),
    ({"terms": {"Privacy Policy": {"fetch": "https://x.example/p"}}}, "name", "expected a non-empty string"),
    ({"name": "X", "terms": {}, "owner": "me"}, "owner", "unknown key"),
    (["not", "an", "object"], "", "expected a declaration object"),
]


@pytest.mark.parametrize(("content", "key", "message"), OTA_ERRORS)
def test_ota_errors_name_file_key_and_expectation(tmp_path: Path, content: dict, key: str, message: str) -> None:
    path = tmp_path / "Example.json"
    path.write_text(json.dumps(content, indent=2), encoding="utf-8")

    error = only_error(path)

    assert (error.file, error.key) == (str(path), key)
    assert message in error.message
    assert error.line is not None
    assert "\n" not in error.message  # one line: soupsieve's caret drawing was three more


def test_error_line_points_at_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "Example.json", ota({
        "Privacy Policy": {"fetch": "https://x.example/p"},
        "Terms of Service": {"fetch": "https://x.example/t", "select": ["main", {"startBefore": "h1"}]},
    }))

    error = only_error(path)

    assert path.read_text().splitlines()[error.line - 1].strip() == "{"
    assert path.read_text().splitlines()[error.line].strip() == '"startBefore": "h1"'
    assert str(error) == f"{path}:{error.line}: {error.key}: {error.message}"


HOSTILE_TEXT = [("\x1b[2J\x1b]0;pwned\x07", "U+001B", "\\x1b[2J\\x1b]0;pwned\\x07"), ("\x00", "U+0000", "\\x00"),
                ("\u202e", "U+202E", "\\u202e"), ("\ud800", "U+D800", "\\ud800"), ("\x85", "U+0085", "\\x85")]


@pytest.mark.parametrize(("hostile", "code_point", "escaped"), HOSTILE_TEXT)
@pytest.mark.parametrize("where", ["name", "type", "url"])
def test_a_declaration_holding_a_control_character_is_refused_alone_and_named_escaped(
        tmp_path: Path, hostile: str, code_point: str, escaped: str, where: str) -> None:
    # Names, types and URLs reach terminals, mail subjects and pages; a NUL stopped every platform's sync on
    # PostgreSQL, a lone surrogate was a UnicodeEncodeError traceback from init and crawl, an escape sequence
    # repainted the operator's terminal. The file is refused at its line; the other platforms load.
    write(tmp_path, "Good.json", ota({"Terms of Service": {"fetch": "https://good.example/terms"}}, name="Good"))
    document = {"fetch": "https://x.example/t" + (hostile if where == "url" else "")}
    terms = {("Terms of Service" + hostile) if where == "type" else "Terms of Service": document}
    path = write(tmp_path, "Evil.json", ota(terms, name="Evil" + (hostile if where == "name" else "")))

    loaded = load_catalog(tmp_path)

    assert [platform.name for platform in loaded.platforms] == ["Good"]
    [error] = loaded.errors
    assert (error.file, error.key.split(".")[0]) == (str(path), "terms" if where != "name" else "name")
    assert f"holds {code_point} at character " in error.message
    shown = str(error)
    assert shown.isprintable() and (escaped in shown or where != "type"), shown


def test_a_volatile_template_may_hold_what_a_page_holds_but_not_what_no_store_keeps(tmp_path: Path) -> None:
    # A template is matched against page text, which keeps right-to-left embeddings (a text exported from a word
    # processor): the check for names and URLs refused such a template and with it the whole platform.
    rtl = "\u202b\u05e2\u05d5\u05d3\u05db\u05df \u05d1: {*}\u202c"
    path = write(tmp_path, "Rtl.yaml", f"name: Rtl\ndocuments:\n  - type: Terms of Service\n    url: https://x.example/t\n"
                                        f"    volatile:\n      text: [\"{rtl}\"]\n      keep: [\"\u202bv\"]\n")

    loaded = load_declaration_file(path)

    assert loaded.errors == [] and loaded.platform.documents[0].volatile.texts == (rtl,)
    write(tmp_path, "Nul.yaml", "name: Nul\ndocuments:\n  - type: Terms of Service\n    url: https://x.example/t\n"
                                "    volatile:\n      text: [\"a\\0 {*}\"]\n")
    assert "holds U+0000" in only_error(tmp_path / "Nul.yaml").message


def test_invalid_json_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "Broken.json", '{\n  "name": "Broken",\n  "terms": {,}\n}\n')

    error = only_error(path)

    assert (error.key, error.line) == ("", 3)
    assert error.message.startswith("invalid JSON")


def test_duplicate_json_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "Twice.json", '{"name": "A", "name": "B", "terms": {}}')

    assert "duplicate key 'name'" in only_error(path).message


def test_every_bad_document_of_a_file_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "Example.json", ota({
        "Privacy Policy": {"fetch": "ftp://x.example/p"},
        "Terms of Service": {"fetch": "https://x.example/t"},
        "Imprint": {"fetch": "https://x.example/i", "select": ""},
    }))

    loaded = load_declaration_file(path)

    assert loaded.platform is None
    assert [error.key for error in loaded.errors] == ["terms.Privacy Policy.fetch", "terms.Imprint.select"]


@pytest.mark.parametrize(
    ("history", "key", "message"),
    [
        ({"Privacy Policy": [{"fetch": "https://x.example/old"}]}, "Privacy Policy[0]", "missing 'validUntil'"),
        ({"Privacy Policy": [{"fetch": "https://x.example/old", "validUntil": "last year"}]},
         "Privacy Policy[0].validUntil", "ISO 8601 date-time with time zone"),
        ({"Privacy Policy": [{"fetch": "https://x.example/old", "validUntil": "2024-01-01T00:00:00"}]},
         "Privacy Policy[0].validUntil", "with time zone"),
        ({"Privacy Policy": {"fetch": "https://x.example/old"}}, "Privacy Policy", "list of past declarations"),
        # Year 0 in UTC: a traceback (OverflowError) in every command that loads the catalog.
        ({"Privacy Policy": [{"fetch": "https://x.example/old", "validUntil": "0001-01-01T00:00:00+01:00"}]},
         "Privacy Policy[0].validUntil", "out of range in UTC"),
        ({"Privacy Notice": []}, "Privacy Notice", "unknown document type"),
    ],
)
def test_history_errors_name_the_history_file(tmp_path: Path, history: dict, key: str, message: str) -> None:
    write(tmp_path, "Example.json", ota({"Privacy Policy": {"fetch": "https://x.example/p"}}))
    history_path = write(tmp_path, "Example.history.json", history)

    error = only_error(tmp_path / "Example.json")

    assert (error.file, error.key) == (str(history_path), key)
    assert message in error.message


YAML_ERRORS = [
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: [https://x.example\n", "", "invalid YAML", 5),
    ("name: X\ndocuments:\n  - type: Safety Notes\n    url: https://x.example/s\n",
     "documents[0].type", "custom_type: true", 3),
    ("name: X\nslug: Not A Slug\ndocuments:\n  - {type: Privacy Policy, url: 'https://x.example/p'}\n",
     "slug", "lowercase letters", 2),
    ("name: X\nslug: " + "a" * 101 + "\ndocuments:\n  - {type: Privacy Policy, url: 'https://x.example/p'}\n",
     "slug", "at most 100 characters", 2),
    ("name: X\nhomepage: file:///etc/passwd\ndocuments:\n  - {type: Privacy Policy, url: 'https://x.example/p'}\n",
     "homepage", "http(s) URL", 2),
    # Hosts no request can be sent to, and credentials every citation would show (probe of 2026-12-03).
    ("name: X\ndocuments:\n  - {type: Privacy Policy, url: 'https://" + "a" * 64 + ".example/p'}\n",
     "documents[0].url", "over 63 characters", 3),
    ("name: X\ndocuments:\n  - {type: Privacy Policy, url: 'https://exa mple.com/p'}\n",
     "documents[0].url", "not a name a request can be sent to", 3),
    ("name: X\ndocuments:\n  - {type: Privacy Policy, url: 'https://ex%41mple.com/p'}\n",
     "documents[0].url", "not a name a request can be sent to", 3),
    ("name: X\ndocuments:\n  - {type: Privacy Policy, url: 'https://user:pa@ss@x.example/p'}\n",
     "documents[0].url", "a user name or password", 3),
    ("name: X\ndocuments:\n  - url: https://x.example/p\n", "documents[0]", "missing 'type'", 3),
    ("name: X\ndocuments: []\n", "documents", "non-empty list of documents", 2),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n    fetcher: curl\n",
     "documents[0].fetcher", "expected one of http, browser", 5),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n    fetcher: http\n"
     "    execute_client_scripts: true\n", "documents[0].fetcher", "use 'browser'", 5),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n"
     "    select: {startBefore: h1, end_after: p}\n", "documents[0].select.startBefore", "did you mean 'start_before'", 5),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n"
     "  - type: Privacy Policy\n    url: https://x.example/q\n", "documents[1].type", "already declared at documents[0]", 5),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n    history:\n"
     "      - {valid_until: 2024-03-18, url: 'https://x.example/old'}\n",
     "documents[0].history[0].valid_until", "with time zone", 6),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n    history:\n"
     "      - {valid_until: '9999-12-31T23:59:59-05:00', url: 'https://x.example/old'}\n",
     "documents[0].history[0].valid_until", "out of range in UTC", 6),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n    fetch: https://x.example/p\n",
     "documents[0].fetch", "unknown key", 5),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n    volatile:\n"
     "      text: ['Visits today: 12']\n", "documents[0].volatile.text[0]", "with {*} where it varies", 6),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n    volatile:\n"
     "      params: ['sid=1']\n", "documents[0].volatile.params[0]", "query parameter name", 6),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n    volatile:\n"
     "      param: [r]\n", "documents[0].volatile.param", "did you mean 'params'", 6),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: https://x.example/p\n    volatile: [r]\n",
     "documents[0].volatile", "expected a mapping with params, text or keep", 5),
    # Scrapy cannot request these; they stopped the crawl (ports) or were tracebacks (the bracket).
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: 'http://127.0.0.1:99999/x'\n",
     "documents[0].url", "Port out of range", 4),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: 'http://127.0.0.1:abc/x'\n",
     "documents[0].url", "http(s) URL", 4),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: 'http://[::1'\n",
     "documents[0].url", "Invalid IPv6 URL", 4),
    ("name: X\ndocuments:\n  - type: Privacy Policy\n    url: 'http://:80/x'\n",
     "documents[0].url", "http(s) URL", 4),
]


@pytest.mark.parametrize(("text", "key", "message", "line"), YAML_ERRORS)
def test_yaml_errors_name_file_key_line_and_expectation(
    tmp_path: Path, text: str, key: str, message: str, line: int
) -> None:
    path = write(tmp_path, "x.yaml", text)

    error = only_error(path)

    assert (error.file, error.key, error.line) == (str(path), key, line)
    assert message in error.message


def test_a_file_with_thousands_of_errors_is_parsed_once_to_locate_them(tmp_path: Path, monkeypatch) -> None:
    import yaml

    # Locating each problem parsed the whole file again: 400 duplicate documents took a minute.
    parses = []
    compose = yaml.compose
    monkeypatch.setattr(yaml, "compose", lambda *args, **kwargs: parses.append(1) or compose(*args, **kwargs))
    documents = "".join(f"  - {{type: Privacy Policy, url: 'https://x.example/{n}'}}\n" for n in range(2000))
    path = write(tmp_path, "x.yaml", "name: X\ndocuments:\n" + documents)

    errors = load_declaration_file(path).errors

    assert len(errors) == 1999
    assert (errors[-1].key, errors[-1].line) == ("documents[1999].type", 2002)
    assert len(parses) <= 2


def test_yaml_volatile_key_declares_params_texts_and_kept_values(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", """\
        name: X
        documents:
          - type: Privacy Policy
            url: https://x.example/p
            volatile:
              params: [R, "#"]
              text: ["Visits today: {*}"]
              keep: [page]
    """)

    document = load_declaration_file(path).platform.documents[0]

    assert document.volatile.params == {"r", "#"}
    assert document.volatile.texts == ("Visits today: {*}",)
    assert document.volatile_keep == {"page"}
    again = write(tmp_path, "y.yaml", platform_to_yaml(load_declaration_file(path).platform))
    assert load_declaration_file(again).platform.documents[0] == document


def test_yaml_custom_type_needs_the_flag(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", """\
        name: X
        documents:
          - {type: Safety Notes, custom_type: true, url: "https://x.example/s"}
    """)

    assert load_declaration_file(path).platform.documents[0].type == "Safety Notes"


# --- A catalog folder --------------------------------------------------------------------


def test_one_bad_file_never_stops_the_others(tmp_path: Path) -> None:
    write(tmp_path, "Good.json", ota({"Privacy Policy": {"fetch": "https://good.example/p"}}, "Good"))
    write(tmp_path, "Bad.json", ota({"Privacy Policy": {"fetch": "gopher://bad.example/p"}}, "Bad"))
    write(tmp_path, "worse.yaml", "name: [unclosed\n")
    write(tmp_path, "README.md", "# not a declaration")
    write(tmp_path, ".hidden.yaml", "name: [unclosed\n")

    loaded = load_catalog(tmp_path)

    assert [platform.slug for platform in loaded.platforms] == ["good"]
    assert sorted(Path(error.file).name for error in loaded.errors) == ["Bad.json", "worse.yaml"]


def test_duplicate_slug_is_an_error_on_the_second_file(tmp_path: Path) -> None:
    write(tmp_path, "Open Collective.json", ota({"Privacy Policy": {"fetch": "https://oc.example/p"}}, "Open Collective"))
    second = write(tmp_path, "open-collective.yaml", """\
        name: Open Collective again
        documents:
          - {type: Privacy Policy, url: "https://oc.example/p"}
    """)

    loaded = load_catalog(tmp_path)

    assert [platform.name for platform in loaded.platforms] == ["Open Collective"]
    assert [(error.file, error.key) for error in loaded.errors] == [(str(second), "slug")]
    assert "already declared by" in loaded.errors[0].message


def test_untracked_services_and_orphan_history_are_warnings(tmp_path: Path) -> None:
    write(tmp_path, "Gone.json", {"name": "Gone", "terms": {}})
    write(tmp_path, "Lost.history.json", {"Privacy Policy": []})
    write(tmp_path, "Kept.json", ota({"Privacy Policy": {"fetch": "https://kept.example/p"}}, "Kept"))
    write(tmp_path, "Kept.history.json", {"Imprint": [{"fetch": "https://kept.example/i", "validUntil": "2024-01-01T00:00:00Z"}]})

    loaded = load_catalog(tmp_path)

    assert [platform.slug for platform in loaded.platforms] == ["kept"]
    assert loaded.errors == []
    assert sorted((Path(w.file).name, w.key) for w in loaded.warnings) == [
        ("Gone.json", "terms"), ("Kept.history.json", "Imprint"), ("Lost.history.json", ""),
    ]


def test_a_declaration_name_that_does_not_load_is_an_error_not_skipped(tmp_path: Path) -> None:
    # A platform file skipped without a word is a platform nobody tracks (issue 13: nothing silent).
    write(tmp_path, "kept.yaml", """\
        name: Kept
        documents:
          - {type: Privacy Policy, url: "https://kept.example/p"}
    """)
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "broken.yml").symlink_to(tmp_path / "nowhere.yml")
    write(tmp_path, "Shouty.YAML", "name: Shouty\ndocuments: []\n")
    write(tmp_path, "README.md", "Not a declaration: no word about it.")
    (tmp_path / ".hidden.yaml").mkdir()

    loaded = load_catalog(tmp_path)

    assert [platform.slug for platform in loaded.platforms] == ["kept"]
    assert sorted((Path(e.file).name, e.message) for e in loaded.errors) == [
        ("Shouty.YAML", "the suffix '.YAML' must be lower case (.yaml, .yml, .json); not loaded"),
        ("broken.yml", "a link to nothing; not loaded"),
        ("folder.yaml", "not a file; not loaded"),
    ]


# --- Open Terms Archive's own collections -------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize(
    ("collection", "services", "platforms", "untracked"),
    [("contrib", 379, 372, 7), ("demo", 7, 7, 0), ("pga", 25, 24, 1)],
)
def test_open_terms_archive_collections_load(
    shared: Path, collection: str, services: int, platforms: int, untracked: int
) -> None:
    folder = shared / "datasets" / "ota" / f"{collection}-declarations"
    files = [path for path in folder.glob("*.json") if not path.name.endswith(".history.json")]

    loaded = load_catalog(folder)

    assert len(files) == services
    assert len(loaded.platforms) == platforms
    assert loaded.errors == []
    no_documents = [w for w in loaded.warnings if w.message == "declares no documents; nothing to track"]
    assert len(no_documents) == untracked
    assert all(w.file.startswith(str(folder)) and (w.key or w.message.startswith("history file")) for w in loaded.warnings)
    assert len({platform.slug for platform in loaded.platforms}) == platforms


def test_yaml_key_given_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", """\
        name: X
        documents:
          - type: Privacy Policy
            url: https://x.example/p
            url: https://x.example/q
    """)

    error = only_error(path)

    assert (error.key, error.line) == ("", 5)
    assert "duplicate key 'url'" in error.message


def test_yaml_merge_keys_still_work(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", """\
        name: X
        documents:
          - &common {type: Privacy Policy, url: "https://x.example/p", select: main}
          - <<: *common
            type: Imprint
    """)

    documents = load_declaration_file(path).platform.documents

    assert [(doc.type, doc.sources[0].select) for doc in documents] == [
        ("Privacy Policy", ("main",)), ("Imprint", ("main",)),
    ]


def test_a_slug_from_a_long_file_name_is_refused(tmp_path: Path) -> None:
    # The slug names the site's files: "File name too long" there, after the catalog had accepted it.
    path = write(tmp_path, "a" * 101 + ".json", ota({"Privacy Policy": {"fetch": "https://x.example/p"}}))

    assert "at most 100 are allowed" in only_error(path).message
    assert load_declaration_file(write(tmp_path, "a" * 100 + ".json", ota({"Privacy Policy": {
        "fetch": "https://x.example/p"}}))).platform.slug == "a" * 100


def test_a_yaml_alias_bomb_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "x.yaml", """\
        name: X
        documents:
          - {type: Privacy Policy, url: "https://x.example/p"}
        a: &a [lol, lol, lol]
        b: &b [*a, *a, *a]
        c: &c [*b, *b, *b]
    """)

    error = only_error(path)

    assert (error.key, error.line) == ("", 6)
    assert "the alias *b refers to a part that holds aliases itself" in error.message


def test_converted_yaml_loads_back_to_the_same_platforms(tmp_path: Path) -> None:
    for source in (FIXTURES / "ota", FIXTURES / "yaml", CATALOG):
        for platform in load_catalog(source).platforms:
            path = tmp_path / f"{platform.slug}.yaml"
            path.write_text(platform_to_yaml(platform, header="converted\n\nfor a test"), encoding="utf-8")

            back = load_declaration_file(path)

            assert back.errors == []
            assert replace(back.platform, source_file=None) == replace(platform, source_file=None)
            assert path.read_text().startswith("# converted\n#\n# for a test\n")


def test_every_problem_of_every_file_is_reported_in_one_run(tmp_path):
    write(tmp_path, "a.yaml", """\
        name: ""
        slug: a
        homepage: not a url
        documents:
          - type: Terms of Usage
            fetch: https://a.example/t
            tags: {core: yes}
          - type: Privacy Policy
            url: https://a.example/p
            obey_robots: maybe
        """)
    write(tmp_path, "b.json", ota({"Terms of Usage": {"fetch": "https://b.example/t", "selekt": "main"},
                                   "Privacy Policy": {"select": "main"}}))
    loaded = load_catalog(tmp_path)
    assert loaded.platforms == []
    found = sorted((Path(e.file).name, e.key) for e in loaded.errors)
    assert found == [
        ("a.yaml", "documents[0]"),  # neither url nor sources
        ("a.yaml", "documents[0].fetch"),  # unknown key
        ("a.yaml", "documents[0].tags"),
        ("a.yaml", "documents[0].type"),
        ("a.yaml", "documents[1].obey_robots"),
        ("a.yaml", "homepage"),
        ("a.yaml", "name"),
        ("b.json", "terms.Privacy Policy"),  # no fetch
        ("b.json", "terms.Terms of Usage"),  # not an Open Terms Archive type
        ("b.json", "terms.Terms of Usage.selekt"),
    ]

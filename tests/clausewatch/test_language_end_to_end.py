"""Policies in German and French crawled on loopback: archived, split and diffed, never typed in English.

The texts are real (tests/fixtures/languages/README.md): Telegram's terms in
German and Open Terms Archive's privacy policy in French. They are served as
HTML beside an English policy of the same platform, crawled with the real CLI,
and the store, `status --json`, `changes --json` and the built site are checked.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from markdown_it import MarkdownIt

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page
from store.analysis_queries import tracked_platform_count
from store.repository import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "languages"
ENGLISH = """<main><h1>Terms of Service</h1>
<h2>1. Disputes</h2><p>Any dispute arising out of these Terms will be resolved by binding arbitration, and you waive
your right to participate in a class action.</p>
<h2>2. Liability</h2><p>In no event will our aggregate liability exceed $100 USD.</p></main>"""


def _html(name: str, replace: tuple[str, str] = ("", "")) -> Page:
    text = (FIXTURES / name).read_text(encoding="utf-8").replace(*replace)
    return Page(f"<html><body><main>{MarkdownIt('commonmark').render(text)}</main></body></html>".encode())


def test_german_and_french_policies_are_archived_and_diffed_but_not_typed(tmp_path):
    home, catalog = tmp_path / "home", tmp_path / "catalog"
    base = ["--home", str(home), "--catalog", str(catalog)]
    runner = CliRunner()
    pages = {"/tos": Page(ENGLISH.encode()), "/agb": _html("telegram-terms.de.md"),
             "/confidentialite": _html("exemple-confidentialite.fr.md")}
    with LocalSite(pages) as site:
        catalog.mkdir()
        (catalog / "acme.yaml").write_text(
            "name: Acme\nslug: acme\ndocuments:\n"
            f"  - type: Terms of Service\n    url: {site.url('/tos')}\n    select: main\n"
            f"  - type: Privacy Policy\n    url: {site.url('/confidentialite')}\n    select: main\n")
        (catalog / "telegram.yaml").write_text(
            "name: Telegram\nslug: telegram\ndocuments:\n"
            f"  - type: Terms of Service\n    url: {site.url('/agb')}\n    select: main\n")
        assert runner.invoke(main, [*base, "init"], catch_exceptions=False).exit_code == 0
        assert runner.invoke(main, [*base, "crawl", "--delay", "0"], catch_exceptions=False).exit_code == 0
        # Telegram shortens its EU minimum age: still diffed clause by clause, like any version.
        site.set("/agb", _html("telegram-terms.de.md", ("mindestens 18 Jahre", "mindestens 16 Jahre")))
        assert runner.invoke(main, [*base, "crawl", "--delay", "0"], catch_exceptions=False).exit_code == 0

    status = json.loads(runner.invoke(main, [*base, "status", "--json"], catch_exceptions=False).stdout)
    assert [(d["platform"], d["type"], d["language"]) for d in status["documents"]] == [
        ("acme", "Terms of Service", "en"), ("acme", "Privacy Policy", "fr"), ("telegram", "Terms of Service", "de")]

    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects")
    try:
        rows = [(stored.version.language, clause.classification)
                for document in store.catalog.documents() for stored in store.history.versions(document.id)
                for clause in stored.clauses]
        # Telegram's only document is German: it says nothing of which types the platform has.
        assert tracked_platform_count(store) == 1
    finally:
        store.close()
    foreign = [(language, classified) for language, classified in rows if language != "en"]
    assert len(foreign) > 10  # split into clauses as usual
    assert all(classified.types == () and classified.reason == f"not analysed: language {language}"
               for language, classified in foreign)
    assert any(classified.types for language, classified in rows if language == "en")

    [change] = json.loads(runner.invoke(main, [*base, "changes", "--json"], catch_exceptions=False).stdout)["changes"]
    [clause] = change["clause_changes"]
    assert clause["kind"] == "modified" and "16 Jahre" in clause["after"]
    assert clause["severity_before"] is None and clause["severity_after"] is None and not change["severity_raised"]

    out = tmp_path / "site"
    assert runner.invoke(main, [*base, "site", "--out", str(out)], catch_exceptions=False).exit_code == 0
    telegram_doc = (out / "documents" / "CW-D-00003.html").read_text()
    assert "Not analysed: language de" in telegram_doc
    french_doc = (out / "documents" / "CW-D-00002.html").read_text()
    assert "Not analysed: language fr" in french_doc
    telegram = (out / "platforms" / "telegram.html").read_text()
    assert "Not graded: Terms of Service (not analysed: language de)." in telegram
    acme = (out / "platforms" / "acme.html").read_text()
    assert "Not graded: Privacy Policy (not analysed: language fr)." in acme
    assert 'class="grade grade-–"' not in acme  # graded on its English terms

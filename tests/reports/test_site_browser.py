"""The built site opened from file:// in real headless Chromium: sections, search, and no hostile code runs."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.browser


class Watched:
    """A page with every console message, dialog and uncaught error recorded."""

    def __init__(self, browser):
        self.page = browser.new_page()
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.console.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: Path) -> Watched:
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")
        return self


def _record_page(site: Path, title: str) -> Path:
    records = json.loads((site / "export/records.json").read_text())["records"]
    entry = next(r for r in records if r["title"] == title and r["platform"] == "acme")
    return site / "records" / f"{entry['id']}.html"


def test_record_page_shows_its_sections(built, browser):
    site, _ = built
    watched = Watched(browser).open(_record_page(site, "Arbitration"))
    page = watched.page
    assert page.locator("h1").inner_text() == "Arbitration"
    for heading in ("What it is", "Why it matters", "Consumer impact", "Original clause language",
                    "Regulatory landscape", "How other platforms handle this", "Monitoring history",
                    "Provision details", "Evidence provenance", "Citation record", "Other provisions of this policy",
                    "Frequently asked questions"):
        assert page.get_by_role("heading", name=heading, exact=True).is_visible(), heading
    assert page.get_by_text("Hash verified ✓").is_visible()
    faq = page.evaluate("JSON.parse(document.querySelector('script[type=\"application/ld+json\"]').textContent)")
    assert faq["@type"] == "FAQPage" and faq["mainEntity"][0]["name"].startswith("What does Acme Cloud")
    # The stylesheet loaded under the CSP (style-src 'self' from file://): the badge is styled.
    color = page.locator(".badge.sev-high").first.evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(180, 35, 24)"
    assert watched.errors == [] and watched.dialogs == []
    watched.page.close()


def test_search_finds_a_clause_from_the_header_box(built, browser):
    site, _ = built
    watched = Watched(browser).open(site / "index.html")
    page = watched.page
    page.fill("#q", "binding arbitration")
    page.click("form.search button")
    page.wait_for_selector("#search-results li")
    first = page.locator("#search-results li a").first
    assert "Arbitration" in first.inner_text()
    first.click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() in ("Arbitration", "Class Action Waiver")
    assert "binding arbitration" in page.locator("#original-language").inner_text()
    assert watched.errors == []
    watched.page.close()


def test_hostile_policy_runs_nothing(built, browser):
    site, ids = built
    hostile_pages = [site / f"documents/{ids.hostile}.html", site / "platforms/hostile.html", site / "index.html"]
    hostile_pages += sorted((site / "records").glob("*.html"))
    for path in hostile_pages:
        watched = Watched(browser).open(path)
        page = watched.page
        assert page.evaluate("() => window.__pwned === undefined"), path
        for link in page.locator("a").all():
            href = link.get_attribute("href") or ""
            assert not href.strip().lower().startswith(("javascript:", "data:", "vbscript:")), (path, href)
        assert page.locator("img, svg, iframe, textarea").count() == 0, path
        assert not any("PWNED" in m for m in watched.console), path
        assert not any("Content Security Policy" in m for m in watched.console), (path, watched.console)
        assert watched.dialogs == [] and watched.errors == [], path
        watched.page.close()
    watched = Watched(browser).open(site / f"documents/{ids.hostile}.html")
    assert watched.page.get_by_text('window.__pwned = "script"', exact=False).count() >= 1  # shown as text
    watched.page.close()


def test_links_resolved_by_the_browser_point_at_files_of_the_site(built, browser):
    site, ids = built
    watched = Watched(browser)
    pages = [site / "index.html", site / f"documents/{ids.acme}.html", _record_page(site, "Arbitration"),
             site / "types/index.html", site / "platforms/acme.html", site / "search.html"]
    seen = 0
    for path in pages:
        watched.open(path)
        targets = watched.page.evaluate(
            "[...document.querySelectorAll('a[href], link[href], script[src]')].map(e => e.href || e.src)")
        for target in targets:
            if target.startswith("file://"):
                local = Path(unquote(urlsplit(target).path))
                assert local.is_file(), f"{path.name} links to missing {target}"
                assert site.resolve() in local.resolve().parents
                seen += 1
            else:
                assert target.startswith(("https://", "http://")), target
    assert seen > 50
    watched.page.close()

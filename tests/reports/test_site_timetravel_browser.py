"""Time-travel pages opened from file:// in real headless Chromium: links and anchors, "view as of", escaping."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from analysis.text import normalize_text, sha256_text

pytestmark = pytest.mark.browser


def _time_travel_pages(site: Path) -> list[Path]:
    return sorted(site.glob("documents/*/versions/*.html")) + sorted(site.glob("records/*/history.html"))


def _open(browser, path: Path, url_suffix: str = ""):
    page = browser.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("dialog", lambda d: (page.problems.append("dialog " + d.message), d.dismiss()))
    page.on("console", lambda m: page.problems.append(m.text) if m.type in ("error", "warning") else None)
    page.goto(path.resolve().as_uri() + url_suffix)
    page.wait_for_load_state("load")
    return page


def test_every_link_and_anchor_of_the_time_travel_pages_resolves(built, browser):
    site, ids = built
    pages = [*_time_travel_pages(site), site / f"documents/{ids.acme}.html"]
    assert len(pages) > 6
    checked_anchors = 0
    for path in pages:
        page = _open(browser, path)
        targets = page.evaluate("[...document.querySelectorAll('a[href], link[href], script[src]')]"
                                ".map(e => e.href || e.src)")
        for target in targets:
            if not target.startswith("file://"):
                assert target.startswith(("https://", "http://")), (path, target)
                continue
            parts = urlsplit(target)
            local = Path(unquote(parts.path))
            assert local.is_file(), f"{path} links to missing {target}"
            assert site.resolve() in local.resolve().parents
            if parts.fragment and local.suffix == ".html":
                other = _open(browser, local)
                assert other.locator(f"[id='{unquote(parts.fragment)}']").count() == 1, (path, target)
                other.close()
                checked_anchors += 1
        assert page.problems == [], (path, page.problems)
        page.close()
    assert checked_anchors > 5


def test_view_as_of_a_date_opens_the_version_in_force_then(built, browser, site_kit):
    site, ids = built
    page = _open(browser, site / f"documents/{ids.acme}.html")
    page.fill("#as-of-date", "2026-03-02")  # v1 was captured that morning, v2 the next day
    page.click("#as-of-form button")
    page.wait_for_url("**/versions/*.html")
    v1 = sha256_text(normalize_text(site_kit.ACME_V1))
    assert page.url.endswith(f"/versions/{v1[:16]}.html")
    assert v1 in page.locator("#version-facts").inner_text()
    page.go_back()
    page.wait_for_load_state("load")
    page.fill("#as-of-date", "2026-03-01")
    page.click("#as-of-form button")
    assert "the first capture is of 2026-03-02" in page.locator("#as-of-result").inner_text()
    assert page.url.endswith(f"{ids.acme}.html")
    assert page.problems == []
    page.close()


def test_hostile_text_runs_nothing_on_time_travel_pages(built, browser):
    site, ids = built
    hostile = [p for p in _time_travel_pages(site) if ids.hostile in str(p) or "Hostile" in p.read_text()]
    assert len(hostile) >= 3
    for path in hostile:
        page = _open(browser, path)
        assert page.evaluate("() => window.__pwned === undefined"), path
        assert page.locator("img, svg, iframe, textarea").count() == 0, path
        assert page.problems == [], (path, page.problems)
        page.close()
    page = _open(browser, site / f"documents/{ids.hostile}/versions" / sorted(
        p.name for p in (site / f"documents/{ids.hostile}/versions").iterdir())[0])
    assert page.get_by_text('window.__pwned = "script"', exact=False).count() >= 1  # shown as text
    page.close()

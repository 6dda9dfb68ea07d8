"""Shared by the CLI tests that crawl: a HOME whose catalog declares one platform's terms on a loopback site."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite


def acme_home(root: Path, site: LocalSite, path: str = "/terms", *, fetcher: str = "http") -> list[str]:
    """A HOME under ``root`` after init, its catalog declaring Acme's terms at ``site``'s ``path``, fetched by
    ``fetcher``; the options that reach it."""
    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text(
        "name: Acme\nslug: acme\ndocuments:\n  - type: Terms of Service\n"
        + (f"    fetcher: {fetcher}\n" if fetcher != "http" else "") + f"    url: {site.url(path)}\n")
    base = ["--home", str(root / "home"), "--catalog", str(catalog)]
    assert CliRunner().invoke(main, [*base, "init"], catch_exceptions=False).exit_code == 0
    return base


def two_page_home(root: Path, site: LocalSite, *, more: str = "", fetcher: str = "http") -> list[str]:
    """A HOME under ``root`` after init, its catalog declaring Beta's privacy policy as two pages at ``site``'s
    /part1 and /part2, fetched by ``fetcher`` (and the documents ``more`` adds, as YAML list items); the options
    that reach it."""
    catalog = root / "catalog"
    catalog.mkdir()
    (catalog / "beta.yaml").write_text(
        f"name: Beta\nslug: beta\ndocuments:\n  - type: Privacy Policy\n    fetcher: {fetcher}\n    sources:\n"
        f"      - url: {site.url('/part1')}\n      - url: {site.url('/part2')}\n{more}")
    base = ["--home", str(root / "home"), "--catalog", str(catalog)]
    assert CliRunner().invoke(main, [*base, "init"], catch_exceptions=False).exit_code == 0
    return base

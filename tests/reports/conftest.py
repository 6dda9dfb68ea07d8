"""Fixtures of the reports tests: the small real store the site and digest tests share."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from reports.site import build
from store.repository import Store

CHROMIUM = "/usr/bin/chromium"


def load_site_kit() -> ModuleType:
    """``site_store.py`` as a module (the suite runs in importlib mode, so siblings are not importable)."""
    spec = importlib.util.spec_from_file_location("clausewatch_site_store", Path(__file__).with_name("site_store.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def site_kit() -> ModuleType:
    return load_site_kit()


@pytest.fixture
def filled(sqlite_url, tmp_path, site_kit):
    """The kit's store, filled, open for one test."""
    store = Store.open(sqlite_url, tmp_path / "objects")
    try:
        yield site_kit.fill(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory, site_kit):
    """The kit's site, built once per test module: its folder and the kit's ids."""
    folder = tmp_path_factory.mktemp("site")
    store = Store.open(f"sqlite:///{folder / 'db.sqlite'}", folder / "objects")
    try:
        ids = site_kit.fill(store)
        build(store, folder / "site", base_url="https://watch.example.org/")
    finally:
        store.close()
    return folder / "site", ids


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright, for one test module."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()

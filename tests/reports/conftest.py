"""Fixtures of the reports tests: the small real store the site and digest tests share."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


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

"""Catalog selectors of plain tag names, ids and classes are accepted without soupsieve: only because
soupsieve accepts every one of them. Everything else is still checked by soupsieve."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
import soupsieve

from crawler.declarations.problems import InvalidDeclarationError
from crawler.declarations.values import PLAIN_SELECTOR, read_css

ALPHABET = "abzAZ019-_#.*>+~, \t\n[]=:()\"'\\@\x0b\xa0é"


def soupsieve_accepts(selector: str) -> bool:
    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError:
        return False
    return True


def test_every_plain_selector_is_one_soupsieve_compiles():
    rng = random.Random(14)
    plain = 0
    for _ in range(40_000):
        selector = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 14)))
        if PLAIN_SELECTOR.fullmatch(selector):
            plain += 1
            assert soupsieve_accepts(selector), selector
    assert plain > 500  # the random strings did exercise the plain form


@pytest.mark.parametrize("selector", ["main", "#terms", "div.content > article", "h1 + p ~ p", "main, .policy",
                                      "*.x#y", " article  section ", ".-_a"])
def test_usual_selectors_are_plain(selector):
    assert PLAIN_SELECTOR.fullmatch(selector) and soupsieve_accepts(selector)


@pytest.mark.parametrize("selector", ["div[role=main]", "p:not(.x)", "-a", "main:has(> h1)"])
def test_other_valid_selectors_still_go_to_soupsieve_and_are_accepted(selector):
    assert not PLAIN_SELECTOR.fullmatch(selector)
    assert read_css(selector, ("select",)) == selector


@pytest.mark.parametrize("selector", ["a,", "", ".1x", "a >> b", "div[", "p::", "#"])
def test_invalid_selectors_are_still_refused(selector):
    with pytest.raises(InvalidDeclarationError):
        read_css(selector, ("select",))


def test_a_catalog_of_plain_selectors_loads_without_soupsieve(tmp_path):
    (tmp_path / "acme.json").write_text('{"name": "Acme", "terms": {"Terms of Service": '
                                        '{"fetch": "https://acme.test/terms", "select": "main, #terms > .body"}}}')
    probe = ("import sys; from pathlib import Path; from crawler.declarations import load_catalog; "
             f"load = load_catalog(Path({str(tmp_path)!r})); assert load.platforms and not load.errors, load.errors; "
             "print(sorted(m for m in ('soupsieve', 'bs4') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

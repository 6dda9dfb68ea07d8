"""The one normalisation and the one hash: the same text gives the same version id anywhere."""

from __future__ import annotations

import unicodedata

from analysis.text import normalize_text, sha256_bytes, sha256_text


def test_normalisation_removes_only_what_never_means_anything():
    raw = "Terms\u200b of\u00ad Service  \r\n\r\n\r\n\r\n1. Use\u00a0 \rYou agree.\t\n\n"
    assert normalize_text(raw) == "Terms of Service\n\n1. Use\nYou agree.\n"


def test_composed_and_decomposed_accents_give_one_version():
    composed, decomposed = "Résiliation", unicodedata.normalize("NFD", "Résiliation")
    assert composed != decomposed
    assert sha256_text(normalize_text(composed)) == sha256_text(normalize_text(decomposed))


def test_normalisation_is_idempotent_and_empty_text_stays_empty():
    text = normalize_text("\n\nA\n\n\n\nB  \n")
    assert text == "A\n\nB\n"
    assert normalize_text(text) == text
    assert normalize_text(" \n\t\n") == ""


def test_hashes_are_hex_sha256():
    assert sha256_bytes(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert sha256_text("é") == sha256_bytes("é".encode("utf-8"))

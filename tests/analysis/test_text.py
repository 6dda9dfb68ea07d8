"""The one normalisation and the one hash: the same text gives the same version id anywhere."""

from __future__ import annotations

import random
import re
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


def reference_normalize(text: str) -> str:
    """normalize_text as first written, every pattern applied unconditionally (the baseline of its fast path)."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub("[\u200b\u200c\u200d\u2060\ufeff\u00ad]", "", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = re.sub(r"[ \t\u00a0]+$", "", text, flags=re.MULTILINE)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n" if text.strip() else ""


def test_fast_path_gives_the_same_text_as_applying_every_pattern():
    pieces = ["A", "b c", " ", "\t", "\u00a0", "\n", "\n\n", "\n\n\n", "\r", "\r\n", "\u200b", "\u00ad", "e\u0301", "."]
    generator = random.Random(13)
    samples = ["".join(generator.choice(pieces) for _ in range(generator.randint(0, 30))) for _ in range(3000)]
    samples += ["A \u200b\nB", "A\u00a0", "A\t\r\n\r\n\r\nB", "A\n\u00ad\n\nB"]
    for sample in samples:
        assert normalize_text(sample) == reference_normalize(sample), repr(sample)


def test_what_no_store_can_keep_becomes_the_replacement_character():
    # NUL (PostgreSQL's text refuses it) and a lone surrogate (no UTF-8 at all: a PDF's broken ToUnicode map).
    text = normalize_text("Fees\x00 apply.\nCaf\ud800e and \udfff.\n")

    assert text == "Fees\ufffd apply.\nCaf\ufffde and \ufffd.\n"
    assert sha256_text(text)  # encodes
    assert normalize_text("A pair 😀 stays.\n") == "A pair 😀 stays.\n"

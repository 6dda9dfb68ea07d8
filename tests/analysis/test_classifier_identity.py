"""The classifier's speed work changes no label: seed policies as recorded, helpers as their plain definitions."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from analysis import classifier
from analysis.classifier import load_default, ngrams
from analysis.splitter import split_clauses
from analysis.text import normalize_text

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "classifier" / "seed_labels.json"


@pytest.fixture
def seed_clauses(shared) -> list[tuple[str, str]]:
    """Every clause of the seed policies, named as ``benchmarks/classifier_identity.py`` names them."""
    return [(f"seed:{path.name}#{number}", clause.text)
            for path in sorted((shared / "reference" / "seeds").glob("*.txt"))
            for number, clause in enumerate(split_clauses(normalize_text(path.read_text(encoding="utf-8"))))]


def test_seed_policies_are_labelled_as_recorded(seed_clauses):
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    model = load_default()
    if model.analyzer_id != recorded["analyzer"]:
        pytest.fail(f"{RECORDED.name} was recorded with {recorded['analyzer']}, the model is {model.analyzer_id}: "
                    "re-record it (tests/fixtures/classifier/README.md)")
    labels = model.classify([text for _, text in seed_clauses])
    found = {key: {"text": text[:80], **json.loads(json.dumps(asdict(label)))}
             for (key, text), label in zip(seed_clauses, labels, strict=True)}
    assert len(found) == len(recorded["clauses"]) > 200
    assert [key for key in found if found[key] != recorded["clauses"].get(key)] == []


def _plain_ngrams(text: str, sizes) -> list[str]:
    tokens = classifier.words(text)
    return [" ".join(tokens[i : i + n]) for n in sizes for i in range(len(tokens) - n + 1)]


def _plain_find_span(text: str, term: str) -> tuple[int, int] | None:
    tokens = list(re.finditer(r"\w+", text.lower()))
    wanted = term.split()
    for i in range(len(tokens) - len(wanted) + 1):
        if [t.group() for t in tokens[i : i + len(wanted)]] == wanted:
            return tokens[i].start(), tokens[i + len(wanted) - 1].end()
    return None


def test_ngrams_are_the_word_windows_of_each_size(seed_clauses):
    for _, text in seed_clauses:
        for sizes in ((1, 2), (1, 2, 3), (2,)):
            assert ngrams(text, sizes) == _plain_ngrams(text, sizes)


def test_evidence_spans_are_found_where_a_plain_search_finds_them(seed_clauses):
    checked = 0
    for _, text in seed_clauses[:60]:
        tokens = classifier.Tokens.of(text)
        for term in [*ngrams(text, (1, 2, 3))[::7], "not in this clause at all"]:
            assert classifier._find_span(tokens, term) == _plain_find_span(text, term)
            checked += 1
    assert checked > 500


@pytest.mark.parametrize("sizes", [(1, 2), (1, 2, 3), (2,)])
def test_the_term_index_counts_what_term_counts_counts(seed_clauses, sizes):
    """What lets inference count n-grams in numpy: the counts training gets from joined strings, to the last one."""
    texts = [text for _, text in seed_clauses]
    texts += ["One two.\n\nThree;  four five six.\nSeven", "\nA b c. D", "x. y. z.", ""]
    vocabulary = {term: i for i, term in enumerate(dict.fromkeys(ngrams(" ".join(texts[::3]), sizes)))}
    index = classifier.TermIndex(vocabulary, sizes)
    tokens = [classifier.words(text) for text in texts]
    starts = np.cumsum([0] + [len(t) for t in tokens])
    counted = index.counts(index.windows([w for t in tokens for w in t]), np.stack([starts[:-1], starts[1:]], axis=1))
    expected = classifier.term_counts(texts, vocabulary, sizes)
    assert counted.texts == expected.texts
    for name in ("rows", "terms", "counts"):
        assert np.array_equal(getattr(counted, name), getattr(expected, name))


def test_clause_features_equal_the_features_of_the_whole_text(seed_clauses):
    model = load_default()
    texts = [text for _, text in seed_clauses]
    shared, sentences = model.clause_features(texts)
    alone = model.features(texts)
    for a, b in zip(shared.spaces, alone.spaces, strict=True):
        assert (a.indptr == b.indptr).all() and (a.indices == b.indices).all() and np.allclose(a.data, b.data)
    assert sentences.texts == [s for text in texts if len(classifier.sentences_of(text)) > 1
                               for s in classifier.sentences_of(text)]

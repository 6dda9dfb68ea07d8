"""Why the privacy types lose to their ten-line baseline on APPSI-139, variant by variant (decision 0027).

Every variant is measured two ways in the same run:

- **grouped CV on APPSI-139 train + dev** (5 folds by run of ``training.APPSI_BLOCK`` sentences, a stand-in
  for a policy): the variant is fitted on four folds plus the other data as shipped and scores the fifth; this
  is what choices are made on;
- **the test split** (trained on train + dev): reported only, never chosen on.

Each is scored on single sentences and on *segments*: runs of ``SEGMENT`` consecutive sentences of one
block joined into a paragraph, whose truth is every type any of its sentences carries (the multi-sentence case).
The ten-line baseline (TF-IDF word 1–2, sublinear, min_df 2, LinearSVC C=1 balanced on the APPSI sentences
alone) is scored on the same folds and texts. Needs scikit-learn; a few minutes of CPU per variant, run with nice.

A ``recipe`` variant is the training recipe of the tree the script runs in, with the settings it names changed:
copied into an older tree (c783a97), ``recipe``, ``recipe_raw``, ``no_budget``, ``appsi_only`` and the
``claudette_negatives`` and ``no_tosdr_privacy`` variants give the rows of decision 0027 measured there.

    nice -n 10 .venv/bin/python benchmarks/privacy_recall.py [--variants recipe,no_budget,...] [--no-test] [--carry]
    nice -n 10 .venv/bin/python benchmarks/privacy_recall.py --margins 0.5:none:whole --margins 1:1:whole
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GroupKFold
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis import training  # noqa: E402
from analysis import classifier  # noqa: E402
from analysis.classifier import Classifier  # noqa: E402
from analysis.training import Example, TrainingData, selection  # noqa: E402

APPSI_IDS = sorted(training.APPSI_TYPES)
FOLDS = 5
# Sentences per segment: OPP-115's segments are paragraphs of a few sentences.
SEGMENT = 4


def label_matrix(type_sets, ids: Sequence[str] = APPSI_IDS) -> np.ndarray:
    return np.array([[t in types for t in ids] for types in type_sets], dtype=np.int64).reshape(-1, len(ids))


def scores(truth: np.ndarray, predicted: np.ndarray) -> dict:
    rows = {}
    for j, type_id in enumerate(APPSI_IDS):
        hits = int((truth[:, j] & predicted[:, j]).sum())
        p, r = hits / max(int(predicted[:, j].sum()), 1), hits / max(int(truth[:, j].sum()), 1)
        rows[type_id] = {"p": round(p, 3), "r": round(r, 3), "f1": round(2 * p * r / (p + r) if hits else 0.0, 3)}
    return {"macro_f1": round(float(np.mean([v["f1"] for v in rows.values()])), 4), **rows}


def segments(examples: Sequence[Example], size: int = SEGMENT) -> list[Example]:
    """Consecutive sentences of one block joined into paragraphs; the truth is the union of theirs."""
    out, run = [], []
    for example in [*examples, None]:
        if run and (example is None or example.group != run[0].group or len(run) == size):
            out.append(Example(" ".join(e.text for e in run), frozenset().union(*(e.types for e in run)),
                               run[0].group, "appsi"))
            run = []
        if example is not None:
            run.append(example)
    return out


# --- the variants: each takes (appsi training sentences, other data) and returns a predictor of type sets ------

Predictor = Callable[[list[str]], np.ndarray]


def baseline(train: list[Example], others: list[Example], workdir: Path) -> Predictor:
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    x = vectorizer.fit_transform([e.text for e in train])
    truth = label_matrix(e.types for e in train)
    models = [LinearSVC(C=1.0, class_weight="balanced").fit(x, truth[:, j]) for j in range(len(APPSI_IDS))]
    return lambda texts: np.array([m.predict(vectorizer.transform(texts)) for m in models], dtype=np.int64).T


def baseline_by_sentence(train: list[Example], others: list[Example], workdir: Path) -> Predictor:
    """The ten-line baseline given a segment's sentences one by one too (a type when the segment or any sentence
    of it clears margin 0): the multi-sentence case read as our classifier reads it."""
    predict = baseline(train, others, workdir)

    def by_sentence(texts: list[str]) -> np.ndarray:
        found = predict(texts)
        parts = [(i, p) for i, text in enumerate(texts) for p in classifier.sentences_of(text)]
        if parts:
            np.maximum.at(found, np.array([i for i, _ in parts]), predict([p for _, p in parts]))
        return found
    return by_sentence


@contextmanager
def patched(module, **values):
    old = {k: getattr(module, k) for k in values}
    for k, v in values.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(module, k, v)


def recipe(settings: dict | None = None, use_others: bool = True, raw: bool = False,
           keep: Callable[[Example], bool] | None = None, zero: bool = False, policy: bool = False,
           parts: bool = False):
    """The shipped recipe with some of ``selection``'s settings changed; ``raw``: margins against the thresholds
    alone (no phrase thresholds, no vetoes), to see what the classification rules remove."""
    def make(train: list[Example], others: list[Example], workdir: Path) -> Predictor:
        out = Path(tempfile.mkdtemp(dir=workdir))
        with patched(selection, **(settings or {})):
            chosen = [e for e in others if keep is None or keep(e)] if use_others else []
            training.fit(TrainingData(train + chosen, []), out, only=APPSI_IDS)
        model = Classifier(out)
        if parts:  # the privacy types read the parts a ";" splits a sentence into, as the other types do
            model._whole_sentence_columns[:] = False
        columns = [model.labels.index(t) for t in APPSI_IDS]
        if zero:
            model.thresholds[columns] = 0.0
            model.phrase_thresholds[columns] = 0.0

        def predict(texts: list[str]) -> np.ndarray:
            if raw:
                return (model.clause_scores(texts)[:, columns] >= model.thresholds[columns]).astype(np.int64)
            results = model.classify(texts, privacy_policy=True) if policy else model.classify(texts)
            return label_matrix(set(r.types) for r in results)
        return predict
    return make


NO_BUDGET = {"TOS_FALSE_POSITIVE_RATE": 1.0, "TOS_FALSE_POSITIVE_RATES": {}}
VARIANTS: dict[str, Callable] = {
    "baseline": baseline,
    "baseline_by_sentence": baseline_by_sentence,
    "recipe": recipe(),
    "recipe_raw": recipe(raw=True),
    "recipe_in_policy": recipe(policy=True),
    "terms_w03": recipe({"PRIVACY_TERMS_WEIGHT": 0.3}),
    "terms_w03_in_policy": recipe({"PRIVACY_TERMS_WEIGHT": 0.3}, policy=True),
    "recipe_c1": recipe({"PRIVACY_C": 1.0}),
    "recipe_c1_in_policy": recipe({"PRIVACY_C": 1.0}, policy=True),
    "parts_for_privacy": recipe(parts=True),
    "parts_for_privacy_in_policy": recipe(parts=True, policy=True),
    "recipe_c05": recipe({"PRIVACY_C": 0.5}),
    "recipe_c05_in_policy": recipe({"PRIVACY_C": 0.5}, policy=True),
    "scored_terms_c05": recipe({"PRIVACY_C": 0.5, "PRIVACY_LEARNS_FROM_TERMS": False}),
    "scored_terms_c05_in_policy": recipe({"PRIVACY_C": 0.5, "PRIVACY_LEARNS_FROM_TERMS": False}, policy=True),
    "scored_terms": recipe({"PRIVACY_LEARNS_FROM_TERMS": False}),
    "scored_terms_in_policy": recipe({"PRIVACY_LEARNS_FROM_TERMS": False}, policy=True),
    "no_budget": recipe(NO_BUDGET),
    "recipe_no_budget": recipe(NO_BUDGET),
    "no_budget_no_floor": recipe({**NO_BUDGET, "PRIVACY_MARGIN_FLOOR": float("-inf")}),
    "appsi_only": recipe(use_others=False),
    "appsi_only_zero": recipe(use_others=False, zero=True),
    "claudette_negatives": recipe(keep=lambda e: e.source == "claudette"),
    "claudette_negatives_no_budget": recipe(NO_BUDGET, keep=lambda e: e.source == "claudette"),
    "claudette_negatives_c05": recipe({"SVM_C": 0.5}, keep=lambda e: e.source == "claudette"),
    "claudette_negatives_c2": recipe({"SVM_C": 2.0}, keep=lambda e: e.source == "claudette"),
    "no_tosdr_privacy": recipe(keep=lambda e: not (e.types & training.APPSI_TYPES)),
    "no_tosdr_privacy_no_budget": recipe(NO_BUDGET, keep=lambda e: not (e.types & training.APPSI_TYPES)),
    "appsi_only_no_floor": recipe({"PRIVACY_MARGIN_FLOOR": float("-inf")}, use_others=False),
}


def evaluate(make, train: list[Example], test: list[Example], others: list[Example], workdir: Path) -> dict:
    predict = make(train, others, workdir)
    joined = segments(test)
    return {"sentences": scores(label_matrix(e.types for e in test), predict([e.text for e in test])),
            "segments": scores(label_matrix(e.types for e in joined), predict([e.text for e in joined]))}


def carry(make, appsi: list[Example], others: list[Example], workdir: Path) -> dict:
    """Other sites' privacy wording: trained on APPSI-139 train + dev and the other data *without* the ToS;DR
    privacy quotes, the recall on those quotes (each a positive of the type its case maps to, from policies of
    hundreds of services), and the share of the ToS;DR quotes of other cases (terms of service) given a privacy type."""
    privacy = [e for e in others if e.source == "tosdr" and e.types & training.APPSI_TYPES]
    rest = [e for e in others if e.source == "tosdr" and not e.types & training.APPSI_TYPES]
    predict = make(appsi, [e for e in others if not (e.source == "tosdr" and e.types & training.APPSI_TYPES)],
                   workdir)
    found = predict([e.text for e in privacy])
    truth = label_matrix(e.types for e in privacy)
    recall = {t: round(float(found[truth[:, j] == 1, j].mean()), 3) for j, t in enumerate(APPSI_IDS)}
    return {"tosdr_privacy_recall": {"mean": round(float(np.mean(list(recall.values()))), 4), **recall},
            "tosdr_other_quotes_flagged": round(float(predict([e.text for e in rest]).any(axis=1).mean()), 4)}


def grouped_cv(make, appsi: list[Example], others: list[Example], workdir: Path) -> dict:
    """Out-of-fold predictions over APPSI-139 train + dev, folds by block; scored on the pooled predictions."""
    groups = np.array([e.group for e in appsi])
    truth_s, pred_s, truth_g, pred_g = [], [], [], []
    for train, test in GroupKFold(n_splits=FOLDS).split(appsi, groups=groups):
        predict = make([appsi[i] for i in train], others, workdir)
        held = [appsi[i] for i in test]
        joined = segments(held)
        truth_s.append(label_matrix(e.types for e in held))
        pred_s.append(predict([e.text for e in held]))
        truth_g.append(label_matrix(e.types for e in joined))
        pred_g.append(predict([e.text for e in joined]))
    return {"sentences": scores(np.vstack(truth_s), np.vstack(pred_s)),
            "segments": scores(np.vstack(truth_g), np.vstack(pred_g))}


def margins_cv(appsi: list[Example], terms: list[Example], c: float, terms_weight: float | None,
               read: str) -> dict:
    """Pure linear margins at 0, without the recipe's thresholds or rules: the recipe's word 1–2-gram TF-IDF (idf of
    the training folds' APPSI sentences and the CLAUDETTE sentences), LinearSVC(C=c, balanced) on the APPSI
    sentences, plus the CLAUDETTE sentences without the type's phrase as negatives weighing ``terms_weight`` (None:
    none); ``read``: "whole" sentence, "parts" (best of the sentence and its parts split at . ! ? ;) or "stops"
    (best of the sentence and its parts split at . ! ? only). Grouped CV on APPSI-139 train + dev, sentences."""
    from scipy.sparse import vstack

    from analysis.taxonomy import BY_ID
    from analysis.training.features import Vocabulary

    stops = re.compile(r"(?<=[.!?])\s+|\n+")
    split = {"parts": classifier.sentences_of,
             "stops": lambda t: [p for p in stops.split(t) if len(p.split()) >= classifier.MIN_SENTENCE_WORDS]}
    truth, groups = label_matrix(e.types for e in appsi), np.array([e.group for e in appsi])
    found = np.zeros(truth.shape)
    for train, test in GroupKFold(n_splits=FOLDS).split(appsi, groups=groups):
        fitted = [appsi[i].text for i in train]
        vocabulary = Vocabulary.fit([fitted + [e.text for e in terms]], [2])
        x, held = vocabulary.rows(fitted), [appsi[i].text for i in test]
        parts = [(k, p) for k, text in enumerate(held) for p in (split[read](text) if read in split else [])]
        parts = [(k, p) for k, p in parts if len([q for j, q in parts if j == k]) > 1]
        for j, type_id in enumerate(APPSI_IDS):
            y, w, xs = truth[train, j], None, x
            if terms_weight is not None:
                negatives = [e.text for e in terms if not BY_ID[type_id].evidence(e.text)]
                xs = vstack([x, vocabulary.rows(negatives)])
                w = np.concatenate([np.ones(len(y)), np.full(len(negatives), terms_weight)])
                y = np.concatenate([y, np.zeros(len(negatives), dtype=np.int64)])
            model = LinearSVC(C=c, class_weight="balanced", max_iter=5000).fit(xs, y, sample_weight=w)
            margins = model.decision_function(vocabulary.rows(held))
            if parts:
                np.maximum.at(margins, np.array([k for k, _ in parts]),
                              model.decision_function(vocabulary.rows([p for _, p in parts])))
            found[test, j] = margins
    return scores(truth, (found >= 0).astype(np.int64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--no-cv", action="store_true")
    parser.add_argument("--no-test", action="store_true")
    parser.add_argument("--carry", action="store_true", help="also the recall on the ToS;DR privacy quotes")
    parser.add_argument("--margins", metavar="C:WEIGHT:READ", action="append", default=[],
                        help="pure margins at 0 instead of the variants (margins_cv), e.g. 0.5:none:whole, 1:0.3:parts")
    args = parser.parse_args()
    topic = args.data / "appsi139" / "topic"
    appsi = [e for split in ("train", "dev") for e in training.appsi_topics(topic / f"{split}.jsonl", split)]
    test = training.appsi_topics(topic / "test.jsonl", "test")
    others = training.training_examples(args.data, use_appsi=False)
    if args.margins:
        terms = [e for e in others if e.source == "claudette"]
        for spec in args.margins:
            c, weight, read = spec.split(":")
            row = margins_cv(appsi, terms, float(c), None if weight == "none" else float(weight), read)
            print(json.dumps({"margins": spec, "grouped_cv": {"sentences": row}}), flush=True)
        return
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.variants.split(","):
            start = time.process_time()
            row = {"variant": name}
            if not args.no_cv:
                row["grouped_cv"] = grouped_cv(VARIANTS[name], appsi, others, Path(workdir))
            if not args.no_test:
                row["test"] = evaluate(VARIANTS[name], appsi, test, others, Path(workdir))
            if args.carry:
                row["carry"] = carry(VARIANTS[name], appsi, others, Path(workdir))
            row["cpu_s"] = round(time.process_time() - start)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

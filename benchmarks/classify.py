"""Per-type evaluation of the clause classifier, with the data set named on every figure (SPEC §11).

Prints one JSON object; with ``--doc`` also writes the table of docs/classifier-evaluation.md.

- **CLAUDETTE, LexGLUE protocol, grouped 5-fold CV by document** over the 40 terms of service
  (train + validation): macro-F1 over the 8 categories + "none" for the ten-line baseline (TF-IDF
  word 1–2-grams, sublinear tf, min_df 2 + LinearSVC C=1 balanced) and for our training recipe
  (``analysis.training.fit`` on the training folds, the ToS;DR, APPSI-139 and CUAD data included
  as shipped), per-category precision, recall, F1; severity accuracy against the experts' grades (3 →
  high, 2 → medium) of the held-out documents; calibration (reliability table, expected
  calibration error) of the held-out probabilities.
- **APPSI-139 topics on its own test split**, mapped to our types: the recipe trained on its train
  + dev (with ToS;DR and CLAUDETTE as shipped) against the ten-line baseline trained on the same
  APPSI sentences, on sentences and on segments of ``SEGMENT`` consecutive sentences (the
  multi-sentence case), as clauses of unknown kind and as clauses of a privacy policy
  (``classify(..., privacy_policy=True)``); severity against APPSI's risk flag (risky ↔ not "low")
  on its risk test split. Model choices for these types are made by grouped CV in
  ``benchmarks/privacy_recall.py`` (decision 0027), never on this split.
- **ToS;DR types**: precision, recall, F1 of the shipped model's grouped (by service) out-of-fold
  predictions, as recorded at training.
- **Pattern-only types**: precision and recall on the hand-checked clauses of
  ``tests/fixtures/classifier/pattern_types.jsonl`` (Open Terms Archive texts).
- **Newer terms of service**: the CLAUDETTE types of the shipped model on the hand-checked clauses of ten
  2025–2026 terms of service (``tests/fixtures/classifier/newer_terms.jsonl``), per type and macro-F1, for its
  ``dev`` half (with every miss and false alarm listed) and its ``held_out`` half.
- **Speed**: clauses per second and the time of an 80-clause policy (wall and CPU), shipped model.
- **How far the fixed folds hold** (decision 0033): design choices (phrases, C, thresholds) were made on the one
  fixed set of CLAUDETTE folds that is reported, and on the APPSI test split before decision 0027. So the
  CLAUDETTE CV is run again on ``--fresh-splits`` random document splits (the 40 documents shuffled with seeds
  1…N, 8 a fold), model and baseline alike, and the APPSI test split is scored again on its sentences that are
  not word for word in train+dev.

Needs ../shared/datasets (or --data) and scikit-learn (the ``test`` extra). The CV trains 6 models:
a few minutes of CPU; run it with ``nice``.

    nice .venv/bin/python benchmarks/classify.py [--data ../shared/datasets] [--doc docs/classifier-evaluation.md]
    .venv/bin/python benchmarks/classify.py --seeds   # every clause of the seed policies with its types
    .venv/bin/python benchmarks/classify.py --newer   # only the newer terms of service (seconds)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from privacy_recall import segments as appsi_segments  # noqa: E402  (paragraphs of APPSI sentences, 0027)

from analysis import training  # noqa: E402
from analysis.classifier import MODEL_DIR, Classifier  # noqa: E402
from analysis.domain import Classification  # noqa: E402
from analysis.splitter import split_clauses  # noqa: E402
from analysis.taxonomy import BY_ID, CLAUDETTE_TYPES  # noqa: E402
from analysis.training import Example, TrainingData  # noqa: E402

CATEGORIES = sorted(CLAUDETTE_TYPES)  # A, CH, CR, J, LAW, LTD, TER, USE
CLAUDETTE_IDS = [CLAUDETTE_TYPES[c] for c in CATEGORIES]
APPSI_IDS = sorted(training.APPSI_TYPES)
FOLDS = 5
PATTERN_FIXTURES = ROOT / "tests" / "fixtures" / "classifier" / "pattern_types.jsonl"
NEWER_TERMS = ROOT / "tests" / "fixtures" / "classifier" / "newer_terms.jsonl"
NEWER_SPLITS = ("dev", "held_out")
SEEDS = ("002", "004")
# The seed policies that are privacy policies: their clauses are classified as the pipeline classifies a document
# of type "Privacy Policy" (``classify(..., privacy_policy=True)``, decision 0027).
PRIVACY_POLICY_SEEDS = ("004",)
RELIABILITY_BINS = 10
# Sentences per APPSI-139 segment: paragraphs of a privacy policy hold a few sentences (OPP-115's segments).
SEGMENT = 4
DOC_COMMAND = "nice .venv/bin/python benchmarks/classify.py --doc "


# --- scoring ------------------------------------------------------------------


def label_matrix(type_sets, ids: Sequence[str]) -> np.ndarray:
    return np.array([[t in types for t in ids] for types in type_sets], dtype=np.int64).reshape(-1, len(ids))


def per_type(truth: np.ndarray, predicted: np.ndarray, ids: Sequence[str]) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and the number of positives, per type."""
    figures = {}
    for j, type_id in enumerate(ids):
        hits = int((truth[:, j] & predicted[:, j]).sum())
        precision = hits / max(int(predicted[:, j].sum()), 1)
        recall = hits / max(int(truth[:, j].sum()), 1)
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        figures[type_id] = {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
                            "positives": int(truth[:, j].sum())}
    return figures


def lexglue_macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """LexGLUE UNFAIR-ToS: macro-F1 over the 8 categories plus "none" (a sentence with no label)."""
    with_none = [np.hstack([m, (m.sum(axis=1) == 0)[:, None].astype(np.int64)]) for m in (truth, predicted)]
    return round(float(f1_score(*with_none, average="macro", zero_division=0)), 4)


def ten_line_baseline(train_texts: list[str], train_truth: np.ndarray, test_texts: list[str]) -> np.ndarray:
    """The ten-line reference: word 1–2-gram TF-IDF (sublinear, min_df 2) + LinearSVC(C=1, balanced) per type."""
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    x_train, x_test = vectorizer.fit_transform(train_texts), vectorizer.transform(test_texts)
    columns = [LinearSVC(C=1.0, class_weight="balanced").fit(x_train, train_truth[:, j]).predict(x_test)
               if train_truth[:, j].any() else np.zeros(len(test_texts), dtype=np.int64)
               for j in range(train_truth.shape[1])]
    return np.array(columns, dtype=np.int64).T


def reliability(probability: np.ndarray, truth: np.ndarray) -> dict:
    """Reliability table (10 equal bins) and expected calibration error over every text × type."""
    bins = np.minimum((probability * RELIABILITY_BINS).astype(int), RELIABILITY_BINS - 1)
    table, error = [], 0.0
    for b in range(RELIABILITY_BINS):
        inside = bins == b
        if inside.any():
            mean_p, rate = float(probability[inside].mean()), float(truth[inside].mean())
            error += abs(mean_p - rate) * inside.sum() / len(probability)
            table.append({"bin": f"{b / 10:.1f}–{(b + 1) / 10:.1f}", "count": int(inside.sum()),
                          "mean_confidence": round(mean_p, 3), "observed_rate": round(rate, 3)})
    return {"expected_calibration_error": round(float(error), 4), "table": table}


def train_model(data: TrainingData, only: Sequence[str], workdir: Path) -> Classifier:
    out = Path(tempfile.mkdtemp(dir=workdir))
    training.fit(data, out, only=only)
    return Classifier(out)


# --- CLAUDETTE ----------------------------------------------------------------


@dataclass
class CrossValidation:
    """Held-out predictions of every fold, gathered in the order of the sentences."""

    predicted: np.ndarray
    baseline: np.ndarray
    probability: np.ndarray
    severity_expected: list[str]
    severity_end_to_end: list[str]
    severity_given_type: list[str]


def claudette_cv(data_dir: Path, others: list[Example], workdir: Path) -> dict:
    """Grouped 5-fold CV by document over the 40 CLAUDETTE terms of service."""
    sentences, truth, _fold, cv = claudette_folds(data_dir, others, workdir)
    return _claudette_figures(cv, truth, len({e.group for e in sentences}))


def claudette_folds(data_dir: Path, others: list[Example], workdir: Path, seed: int | None = None):
    """The CLAUDETTE sentences, their labels, the fold each is held out in, and every fold's held-out output
    (``benchmarks/encoder_experiment.py`` compares an encoder on exactly these folds); with ``seed``, the folds
    of :func:`shuffled_folds` instead of the fixed ones."""
    sentences = training.training_examples(data_dir, use_tosdr=False, use_appsi=False, use_cuad=False,
                                             use_guidelines=False)
    spans = training.training_spans(data_dir)
    truth = label_matrix((e.types for e in sentences), CLAUDETTE_IDS)
    groups = np.array([e.group for e in sentences])
    cv = CrossValidation(np.zeros_like(truth), np.zeros_like(truth), np.zeros(truth.shape), [], [], [])
    fold = np.zeros(len(sentences), dtype=int)
    splits = (GroupKFold(n_splits=FOLDS).split(sentences, truth, groups) if seed is None
              else shuffled_folds(groups, seed))
    for k, (train, test) in enumerate(splits):
        fold[test] = k
        _claudette_fold(cv, sentences, spans, others, truth, train, test, workdir)
    return sentences, truth, fold, cv


def shuffled_folds(groups: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``FOLDS`` folds by document, the documents shuffled with ``seed`` and dealt out in turn (8 a fold of 40)."""
    import random

    documents = sorted(set(groups))
    random.Random(seed).shuffle(documents)
    fold_of = {document: index % FOLDS for index, document in enumerate(documents)}
    fold = np.array([fold_of[group] for group in groups])
    return [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(FOLDS)]


def claudette_fresh_splits(data_dir: Path, others: list[Example], workdir: Path, seeds: int) -> dict:
    """Macro-F1 of the model and of the ten-line baseline on ``seeds`` random document splits (seeds 1…N).

    The fixed folds chose the design, so their figure leans optimistic; these splits chose nothing.
    """
    model, baseline = [], []
    for seed in range(1, seeds + 1):
        _sentences, truth, _fold, cv = claudette_folds(data_dir, others, workdir, seed=seed)
        model.append(lexglue_macro_f1(truth, cv.predicted))
        baseline.append(lexglue_macro_f1(truth, cv.baseline))
    difference = np.array(model) - np.array(baseline)
    return {"seeds": list(range(1, seeds + 1)), "model": model, "baseline_ten_line_tfidf_linearsvc": baseline,
            "model_mean": round(float(np.mean(model)), 4), "model_sd": round(float(np.std(model)), 4),
            "baseline_mean": round(float(np.mean(baseline)), 4), "baseline_sd": round(float(np.std(baseline)), 4),
            "difference_mean": round(float(difference.mean()), 4), "difference_min": round(float(difference.min()), 4),
            "difference_max": round(float(difference.max()), 4)}


def claudette_others(data_dir: Path) -> list[Example]:
    """What the recipe learns from besides CLAUDETTE, as the CLAUDETTE folds use it (no community guidelines: no
    CLAUDETTE type learns from them, each fold would only vectorise them)."""
    examples = training.training_examples(data_dir, use_tosdr=True, use_appsi=True, use_guidelines=False)
    return [e for e in examples if e.source != "claudette"]


def _claudette_fold(cv: CrossValidation, sentences, spans, others, truth, train, test, workdir: Path) -> None:
    held_out = {sentences[i].group.removeprefix("claudette:") for i in test}
    data = TrainingData([sentences[i] for i in train] + others, [s for s in spans if s.document not in held_out])
    model = train_model(data, CLAUDETTE_IDS, workdir)
    texts = [sentences[i].text for i in test]
    results = model.classify(texts)
    cv.predicted[test] = label_matrix(({t for t in r.types if t in CLAUDETTE_IDS} for r in results), CLAUDETTE_IDS)
    margins = model.clause_scores(texts)
    cv.probability[test] = model.probabilities(margins)[:, [model.labels.index(t) for t in CLAUDETTE_IDS]]
    cv.baseline[test] = ten_line_baseline([sentences[i].text for i in train], truth[train], texts)
    graded = [s for s in spans if s.document in held_out and s.grade in (2, 3)]
    cv.severity_expected += ["high" if s.grade == 3 else "medium" for s in graded]
    cv.severity_end_to_end += [r.severity for r in model.classify([s.text for s in graded])]
    cv.severity_given_type += [model.severity_of(s.type, s.text) for s in graded]


def _claudette_figures(cv: CrossValidation, truth: np.ndarray, documents: int) -> dict:
    expected = cv.severity_expected
    return {
        "data": f"CLAUDETTE train+validation, {documents} terms of service, {len(truth)} sentences; "
                f"grouped {FOLDS}-fold CV by document",
        "macro_f1_with_none": {"model": lexglue_macro_f1(truth, cv.predicted),
                               "baseline_ten_line_tfidf_linearsvc": lexglue_macro_f1(truth, cv.baseline)},
        "model": per_type(truth, cv.predicted, CLAUDETTE_IDS),
        "baseline_ten_line_tfidf_linearsvc": per_type(truth, cv.baseline, CLAUDETTE_IDS),
        "calibration": reliability(cv.probability.ravel(), truth.ravel()),
        "severity": {
            "graded_spans": len(expected),
            "accuracy_end_to_end": _accuracy(cv.severity_end_to_end, expected),
            "accuracy_given_type": _accuracy(cv.severity_given_type, expected),
            "majority_class": round(max(expected.count("high"), expected.count("medium")) / len(expected), 3),
        },
    }


def _accuracy(found: list[str], expected: list[str]) -> float:
    return round(float(np.mean([a == b for a, b in zip(found, expected, strict=True)])), 3)


# --- APPSI-139 ------------------------------------------------------------------


def appsi_test(data_dir: Path, others: list[Example], workdir: Path) -> dict:
    """Train on APPSI-139 train + dev (plus the other data as shipped), score its test split."""
    topic = data_dir / "appsi139" / "topic"
    train = [e for split in ("train", "dev") for e in training.appsi_topics(topic / f"{split}.jsonl", split)]
    test = training.appsi_topics(topic / "test.jsonl", "test")
    model = train_model(TrainingData(train + others, []), APPSI_IDS, workdir)
    train_truth = label_matrix((e.types for e in train), APPSI_IDS)
    seen = {e.text for e in train}
    unseen = [e for e in test if e.text not in seen]  # a fifth of the test sentences are in train+dev word for word
    figures, macro = {}, {}
    for unit, items in (("sentences", test), ("segments", appsi_segments(test, SEGMENT)), ("unseen_sentences", unseen)):
        truth = label_matrix((e.types for e in items), APPSI_IDS)
        texts = [e.text for e in items]
        found = {
            "model": model.classify(texts),
            "model_in_privacy_policy": model.classify(texts, privacy_policy=True),
        }
        rows = {name: per_type(truth, label_matrix((set(r.types) for r in results), APPSI_IDS), APPSI_IDS)
                for name, results in found.items()}
        rows["baseline_ten_line_tfidf_linearsvc"] = per_type(truth, ten_line_baseline([e.text for e in train],
                                                                                      train_truth, texts), APPSI_IDS)
        macro[unit] = {name: round(float(np.mean([f["f1"] for f in r.values()])), 4) for name, r in rows.items()}
        if unit == "sentences":
            figures = rows
        elif unit == "segments":
            figures["segments"] = rows
    return {
        "data": f"APPSI-139 topic test split ({len(test)} sentences; segments: runs of {SEGMENT} consecutive "
                "sentences of one block joined, a segment carrying every type of its sentences), trained on "
                "train+dev; topics mapped by training.APPSI_TOPICS",
        "macro_f1": macro["sentences"],
        "macro_f1_segments": macro["segments"],
        "macro_f1_unseen_sentences": {**macro["unseen_sentences"], "sentences": len(unseen)},
        **figures,
    }


def appsi_risk(data_dir: Path, model: Classifier) -> dict:
    """The shipped model's severity against APPSI-139's risk flag: risky ↔ a severity above "low"."""
    rows = training.read_jsonl(data_dir / "appsi139" / "risk" / "test.jsonl")
    truth = np.array([int(r["risk"]) for r in rows])
    predicted = np.array([r.severity != "low" for r in model.classify([r["text"] for r in rows])], dtype=np.int64)
    return {"data": f"APPSI-139 risk test split ({len(rows)} sentences), shipped model",
            **per_type(truth[:, None], predicted[:, None], ["risk"])["risk"],
            "accuracy": round(float((truth == predicted).mean()), 3),
            "majority_class": round(float(max(truth.mean(), 1 - truth.mean())), 3)}


# --- shipped model: recorded out-of-fold figures, pattern fixtures, speed ------------------


def recorded_out_of_fold(model: Classifier) -> dict:
    """Grouped out-of-fold figures the shipped model recorded at training (threshold chosen on the same folds)."""
    return model.meta["training"].get("out_of_fold", {})


def pattern_fixtures(model: Classifier, path: Path = PATTERN_FIXTURES) -> dict:
    """Precision and recall of each pattern-only type on its hand-checked positive and negative clauses."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    results = model.classify([r["text"] for r in rows])
    figures = {}
    for type_id in sorted({r["type"] for r in rows}):
        mine = [(r["label"], type_id in c.types) for r, c in zip(rows, results, strict=True) if r["type"] == type_id]
        truth = np.array([[label] for label, _ in mine], dtype=np.int64)
        found = np.array([[hit] for _, hit in mine], dtype=np.int64)
        figures[type_id] = {**per_type(truth, found, [type_id])[type_id], "negatives": int((truth == 0).sum())}
    return figures


def newer_terms(model: Classifier, data_dir: Path, path: Path = NEWER_TERMS) -> dict:
    """The CLAUDETTE types on hand-checked clauses of newer terms of service, per half; the dev half's errors.

    Only the dev half may be read to find what goes wrong: its misses and false alarms are listed, the
    held-out half is reported as figures alone. The ten-line baseline, trained on the sentences of all 40
    CLAUDETTE documents as the shipped model is, is measured on the same clauses.
    """
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [row["text"] for row in rows]
    found = [[t for t in r.types if t in CLAUDETTE_IDS] for r in model.classify(texts)]
    claudette = training.training_examples(data_dir, use_tosdr=False, use_appsi=False, use_cuad=False,
                                             use_guidelines=False)
    baseline = ten_line_baseline([e.text for e in claudette], label_matrix((e.types for e in claudette), CLAUDETTE_IDS),
                                 texts)
    figures = {}
    for split in NEWER_SPLITS:
        mine = [i for i, row in enumerate(rows) if row["split"] == split]
        truth = label_matrix((rows[i]["types"] for i in mine), CLAUDETTE_IDS)
        predicted = label_matrix((found[i] for i in mine), CLAUDETTE_IDS)
        scores = per_type(truth, predicted, CLAUDETTE_IDS)
        figures[split] = {"platforms": sorted({rows[i]["platform"] for i in mine}), "clauses": len(mine),
                          "macro_f1_with_none": lexglue_macro_f1(truth, predicted),
                          "macro_f1": round(float(np.mean([f["f1"] for f in scores.values()])), 4), "model": scores,
                          "baseline_ten_line_macro_f1_with_none": lexglue_macro_f1(truth, baseline[mine]),
                          "baseline_ten_line_tfidf_linearsvc": per_type(truth, baseline[mine], CLAUDETTE_IDS)}
    figures["dev"]["errors"] = newer_errors([(row, types) for row, types in zip(rows, found, strict=True)
                                             if row["split"] == "dev"])
    return figures


def newer_errors(labelled: list[tuple[dict, list[str]]]) -> list[str]:
    """One line per miss ("−type") and false alarm ("+type"): where the clause stands and how it begins."""
    lines = []
    for row, types in labelled:
        wrong = [f"−{t}" for t in row["types"] if t not in types] + [f"+{t}" for t in types if t not in row["types"]]
        if wrong:
            where = " › ".join([row["platform"], *row["heading_path"]])
            lines.append(f"{' '.join(wrong)} | {where} | {' '.join(row['text'].split())[:140]}")
    return lines


def speed(model: Classifier, clauses: list[str], repeat: int = 5) -> dict:
    """Clauses per second over ``clauses`` and the time of one 80-clause policy (best of ``repeat``)."""
    def best(texts: list[str]) -> tuple[float, float]:
        wall, cpu = float("inf"), float("inf")
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            model.classify(texts)
            wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
        return wall, cpu
    wall, cpu = best(clauses)
    policy_wall, policy_cpu = best(clauses[:80])
    return {"clauses": len(clauses), "clauses_per_second_wall": round(len(clauses) / wall),
            "clauses_per_second_cpu": round(len(clauses) / cpu),
            "policy_80_clauses_ms_wall": round(policy_wall * 1000, 1),
            "policy_80_clauses_ms_cpu": round(policy_cpu * 1000, 1)}


def seed_clauses(shared: Path, prefixes: Sequence[str] = SEEDS) -> list[tuple[str, str]]:
    """(seed, clause text) of the seed policies, split as the pipeline splits them."""
    found = []
    for prefix in prefixes:
        for path in sorted((shared / "reference" / "seeds").glob(f"{prefix}_*")):
            found += [(f"{prefix} {' › '.join(c.heading_path)}", c.text)
                      for c in split_clauses(path.read_text(encoding="utf-8"))]
    return found


def seed_listing(model: Classifier, shared: Path) -> list[str]:
    """One line per clause of the seed policies: heading path, first words, types and severity; a privacy
    policy's clauses classified as the pipeline classifies them."""
    lines = []
    for prefix in SEEDS:
        clauses = seed_clauses(shared, (prefix,))
        results = model.classify([t for _, t in clauses], privacy_policy=prefix in PRIVACY_POLICY_SEEDS)
        lines += _seed_lines(clauses, results)
    return lines


def _seed_lines(clauses: list[tuple[str, str]], results: list[Classification]) -> list[str]:
    lines = []
    for (where, text), result in zip(clauses, results, strict=True):
        first = " ".join(text.split()[:12])
        types = ", ".join(result.types) or "—"
        lines.append(f"| {where} | {first}… | {types} | {result.severity if result.types else ''} |")
    return lines


# --- the table of docs/classifier-evaluation.md ---------------------------------------------

# Why a type with data stays below F1 0.60, shown on its row (the issue asks for a written reason).
WEAK_REASONS: dict[str, str] = {
    "arbitration": "CLAUDETTE marks the one operative sentence of an arbitration section; the shipped model also "
                   "types the sentences that name the forum, administrator, rules or seat, which 2020s terms use "
                   "instead of \"binding\" and which the hand-checked newer terms label (0019, 0025): precision "
                   "against CLAUDETTE's labels is the price of that recall (the newer terms' figures are below).",
    "user_content_license": "ToS;DR quotes of licence cases often state ownership or scope without the grant "
                            "itself (the case, not the sentence, is annotated), and the threshold asks for "
                            "probability ≥ 0.5: low recall. CUAD's irrevocable or perpetual licences raise it; the "
                            "CLAUDETTE sentences count as negatives, and of the 11 more they flag 8 are licences to "
                            "user content the phrases miss (0023). Curated phrases give its evidence.",
    "prohibited_content": "ToS;DR's prohibited-content cases are ten narrow topics (spam, scraping, porn…); "
                          "out-of-fold, a service's own list of prohibitions reads unlike the others'.",
    "output_ownership": "The Open Terms Archive texts of 25 platforms hold one clause on who owns generated "
                        "output (X: \"you retain your rights to any Content … you create, generate\"), which the "
                        "phrases miss; the others matched say outputs are used \"at your own risk\" (fixed).",
    "auto_renewal": "Two real renewal clauses among the candidates; \"recurring payment/subscription\" also "
                    "appears in community rules and payment-data clauses, which the phrases match.",
    "regional_rights": "\"GDPR\" in data-processing addenda between businesses matches although no user right "
                       "is stated; a region-specific clause that names no law or region word is missed.",
}


def evaluation_rows(figures: dict) -> list[str]:
    """One Markdown row per clause type of SPEC §5: data set, protocol, precision, recall, F1."""
    rows = []
    for type_id, clause_type in BY_ID.items():
        source, scores = _row_source(type_id, figures)
        if scores is None:
            rows.append(f"| `{type_id}` | {source} | — | — | — | — | no labelled data |")
            continue
        note = WEAK_REASONS.get(type_id, "") if scores["f1"] < 0.6 else ""
        fixture = figures.get("pattern_fixtures", {}).get(type_id)
        if fixture and "patterns" not in source:
            note += (f" Shipped with its phrases deciding too: on hand-checked OTA clauses precision "
                     f"{fixture['precision']:.2f}, recall {fixture['recall']:.2f} ({fixture['positives']} positives).")
        rows.append(f"| `{type_id}` | {source} | {scores['positives']} | {scores['precision']:.3f} | "
                    f"{scores['recall']:.3f} | {scores['f1']:.3f} | {note} |")
    return rows


def _row_source(type_id: str, figures: dict) -> tuple[str, dict | None]:
    if type_id in CLAUDETTE_IDS and "claudette" in figures:
        return "CLAUDETTE, grouped 5-fold CV by document", figures["claudette"]["model"][type_id]
    if type_id in APPSI_IDS and "appsi" in figures:
        return "APPSI-139 test split (trained on train+dev)", figures["appsi"]["model"][type_id]
    if type_id in figures.get("recorded_out_of_fold", {}):
        return "ToS;DR, grouped 5-fold out-of-fold by service", figures["recorded_out_of_fold"][type_id]
    if type_id in figures.get("pattern_fixtures", {}):
        return "curated patterns on hand-checked OTA clauses", figures["pattern_fixtures"][type_id]
    return "none", None


def write_doc(path: Path, figures: dict, command: str) -> None:
    claudette, appsi = figures.get("claudette", {}), figures.get("appsi", {})
    lines = [
        "# Clause classifier: evaluation per type",
        "",
        f"Generated by `{command}`; do not edit by hand. Analyzer `{figures['analyzer']}`.",
        "",
        "Each learned type is measured where labelled data exists: the CLAUDETTE types by grouped 5-fold "
        "cross-validation over the 40 documents (training recipe re-run per fold), the APPSI-139 types on its own "
        "test split, the ToS;DR types by the grouped (by service) out-of-fold predictions recorded when the shipped "
        "model was trained — their threshold was chosen on those same folds, so those rows lean optimistic. "
        "Pattern-decided types are measured on the hand-checked Open Terms Archive clauses of "
        "`tests/fixtures/classifier/pattern_types.jsonl`; the candidates were drawn mostly from the clauses the "
        "phrases match, so precision is measured better than recall, and the sets are small.",
        "",
        "How far these figures hold on documents nobody here has seen (decision 0033): the CLAUDETTE design (curated "
        "phrases, C, thresholds) was chosen on the very folds reported, and six arbitration phrases were written from "
        "operative sentences those folds had missed (decision 0026), so the CLAUDETTE rows lean optimistic; the random "
        "document splits below chose nothing. The APPSI-139 test split steered choices before decision 0027 and a "
        "fifth of it repeats training sentences: its figure on unseen sentences is given. The ToS;DR and pattern-only "
        "rows are optimistic proxies (thresholds set on their own folds; clauses drawn from the phrases' matches). "
        "The held-out half of the newer terms of service is the one figure nothing was tuned on.",
        "",
        "| type | data set and protocol | positives | precision | recall | F1 | note |",
        "|---|---|---|---|---|---|---|",
        *evaluation_rows(figures),
        "",
    ]
    if claudette:
        lines += _claudette_section(claudette)
    if appsi:
        macro, segments = appsi["macro_f1"], appsi.get("macro_f1_segments", {})
        lines += ["## APPSI-139 (privacy topics mapped to our types)", "", f"{appsi['data']}.", "",
                  f"Macro-F1 on sentences: model **{macro['model']}** (clauses of unknown kind: the thresholds that "
                  f"keep privacy types off terms of service), {macro.get('model_in_privacy_policy', '—')} as clauses "
                  f"of a privacy policy (`classify(..., privacy_policy=True)`), ten-line baseline "
                  f"{macro['baseline_ten_line_tfidf_linearsvc']} (trained on the APPSI sentences alone). On segments "
                  f"of {SEGMENT} sentences: model {segments.get('model', '—')}, in a privacy policy "
                  f"{segments.get('model_in_privacy_policy', '—')}, baseline "
                  f"{segments.get('baseline_ten_line_tfidf_linearsvc', '—')}."
                  + _appsi_unseen(appsi.get("macro_f1_unseen_sentences")),
                  "", "| type | model P | model R | model F1 | in a privacy policy F1 | baseline F1 |",
                  "|---|---|---|---|---|---|",
                  *(f"| `{t}` | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                    f"{appsi.get('model_in_privacy_policy', appsi['model'])[t]['f1']:.3f} | "
                    f"{appsi['baseline_ten_line_tfidf_linearsvc'][t]['f1']:.3f} |" for t, m in appsi["model"].items()),
                  ""]
    lines += _newer_terms_section(figures.get("newer_terms"))
    lines += _terms_of_service_section(figures.get("recorded_out_of_fold", {}))
    if "appsi_risk" in figures:
        risk = figures["appsi_risk"]
        lines += ["## Severity against APPSI-139's risk flag", "", f"{risk['data']}: a sentence flagged risky "
                  f"should get a severity above low. Precision {risk['precision']}, recall {risk['recall']}, "
                  f"F1 {risk['f1']}, accuracy {risk['accuracy']} (majority class {risk['majority_class']}).", ""]
    if "speed" in figures:
        s = figures["speed"]
        lines += ["## Speed (shipped model, one process)", "", f"{s['clauses']} clauses: {s['clauses_per_second_cpu']}"
                  f" clauses per CPU second ({s['clauses_per_second_wall']} per wall second); an 80-clause policy "
                  f"{s['policy_80_clauses_ms_cpu']} ms of CPU ({s['policy_80_clauses_ms_wall']} ms wall).", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _appsi_unseen(unseen: dict | None) -> str:
    if not unseen:
        return ""
    return (f" On the {unseen['sentences']} test sentences that are not word for word in train+dev (the others repeat "
            f"a training sentence): model {unseen['model']}, in a privacy policy "
            f"{unseen.get('model_in_privacy_policy', '—')}, baseline {unseen['baseline_ten_line_tfidf_linearsvc']}.")


def _terms_of_service_section(recorded: dict) -> list[str]:
    """How often the privacy types fire on terms-of-service sentences (CLAUDETTE, grouped out-of-fold)."""
    rows = [(t, f) for t, f in recorded.items() if "claudette_sentences_flagged" in f]
    if not rows:
        return []
    return ["## Privacy types on terms of service", "",
            "Share of the CLAUDETTE sentences (40 terms of service, none labelled with a privacy type) that get the "
            "type, from the grouped out-of-fold margins recorded at training; without the type's own curated "
            "phrase the shipped threshold allows 1 % (`training.TOS_FALSE_POSITIVE_RATE`; 0.5 % for user_rights, "
            "`training.TOS_FALSE_POSITIVE_RATES`) and margin 0 at least. Some flagged sentences "
            "are real privacy statements inside terms of service, so these are upper bounds on false positives.", "",
            "| type | at the best-F1 threshold | shipped threshold |", "|---|---|---|",
            *(f"| `{t}` | {f['claudette_sentences_flagged_at_best_f1']:.2%} | {f['claudette_sentences_flagged']:.2%} |"
              for t, f in rows), ""]


def _newer_terms_section(newer: dict | None) -> list[str]:
    """The held-out half of the hand-checked newer terms (the dev half served to find errors, so it is not shown)."""
    if not newer:
        return []
    held_out = newer["held_out"]
    return ["## Newer terms of service (hand-checked, 2025–2026)", "",
            f"Shipped model on the held-out half of `tests/fixtures/classifier/newer_terms.jsonl`: {held_out['clauses']} "
            f"clauses of the terms of service of {', '.join(held_out['platforms'])} (Open Terms Archive), labelled by "
            "hand with the CLAUDETTE categories; the other half (dev) served to find errors and is not shown.", "",
            f"Macro-F1 (8 categories + none): **{held_out['macro_f1_with_none']}**, ten-line TF-IDF + LinearSVC "
            f"baseline trained on the 40 CLAUDETTE documents {held_out['baseline_ten_line_macro_f1_with_none']} (same "
            f"clauses, same run); over the 8 categories {held_out['macro_f1']}.", "",
            "| type | positives | precision | recall | F1 | baseline F1 |", "|---|---|---|---|---|---|",
            *(f"| `{t}` | {m['positives']} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
              f"{held_out['baseline_ten_line_tfidf_linearsvc'][t]['f1']:.3f} |" for t, m in held_out["model"].items()),
            ""]


def _claudette_section(claudette: dict) -> list[str]:
    macro = claudette["macro_f1_with_none"]
    severity = claudette["severity"]
    lines = ["## CLAUDETTE (LexGLUE UNFAIR-ToS protocol)", "", f"{claudette['data']}.", "",
             f"Macro-F1 (8 categories + none): model **{macro['model']}**, ten-line TF-IDF + LinearSVC baseline "
             f"{macro['baseline_ten_line_tfidf_linearsvc']} (same folds, same run).", "", *_fresh_splits_line(claudette),
             "| type | model P | model R | model F1 | baseline F1 |", "|---|---|---|---|---|"]
    for type_id in CLAUDETTE_IDS:
        m, b = claudette["model"][type_id], claudette["baseline_ten_line_tfidf_linearsvc"][type_id]
        lines.append(f"| `{type_id}` | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {b['f1']:.3f} |")
    lines += ["", f"Severity (high vs medium against grades 3 vs 2, {severity['graded_spans']} graded spans of the "
              f"held-out documents): {severity['accuracy_end_to_end']} end to end, {severity['accuracy_given_type']}"
              f" given the true type, majority class {severity['majority_class']}.", "",
              f"Calibration of the held-out probabilities (every sentence × category): expected calibration error "
              f"{claudette['calibration']['expected_calibration_error']}.", "",
              "| confidence bin | count | mean confidence | observed rate |", "|---|---|---|---|"]
    lines += [f"| {r['bin']} | {r['count']} | {r['mean_confidence']} | {r['observed_rate']} |"
              for r in claudette["calibration"]["table"]]
    return [*lines, ""]


def _fresh_splits_line(claudette: dict) -> list[str]:
    fresh = claudette.get("fresh_splits")
    if not fresh:
        return []
    return [f"These folds chose the design (phrases, C, thresholds; decision 0033), so that figure leans optimistic. "
            f"On {len(fresh['seeds'])} random document splits that chose nothing (the 40 documents shuffled with seeds "
            f"{fresh['seeds'][0]}–{fresh['seeds'][-1]}, 8 a fold; same recipe, same baseline): model "
            f"**{fresh['model_mean']}** ± {fresh['model_sd']}, baseline {fresh['baseline_mean']} ± "
            f"{fresh['baseline_sd']}; model − baseline {fresh['difference_mean']:+.4f} on average "
            f"(from {fresh['difference_min']:+.4f} to {fresh['difference_max']:+.4f}).", ""]


def speed_clauses(data_dir: Path) -> list[str]:
    """Every line of the CLAUDETTE validation documents of three words or more, as clauses."""
    tag = re.compile(r"<[^>]+>")
    clauses = []
    for path in sorted((data_dir / "claudette" / "validation" / "documents").glob("*.xml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = " ".join(tag.sub(" ", line).split())
            if len(text.split()) >= 3:
                clauses.append(text)
    return clauses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    parser.add_argument("--doc", type=Path, help="write the evaluation table (Markdown) to this file")
    parser.add_argument("--no-cv", action="store_true", help="only the shipped model's figures (no training)")
    parser.add_argument("--seeds", action="store_true", help="list every clause of the seed policies and exit")
    parser.add_argument("--newer", action="store_true", help="only the hand-checked newer terms of service")
    parser.add_argument("--figures", type=Path, help="with --doc: render the table from the JSON a run printed")
    parser.add_argument("--fresh-splits", type=int, default=8, metavar="N",
                        help="also run the CLAUDETTE CV on N random document splits (0: none; ~1 CPU-minute each)")
    args = parser.parse_args()
    if args.figures and args.doc:
        write_doc(args.doc, json.loads(args.figures.read_text(encoding="utf-8")), DOC_COMMAND + str(args.doc))
        return
    if not (args.data / "claudette" / "validation" / "sentences.jsonl").is_file():
        sys.exit(f"needs the data sets at {args.data} (claudette/, tosdr/, appsi139/; see ../shared/README.md)")
    model = Classifier(args.model)
    if args.seeds:
        print("\n".join(["| clause | first words | types | severity |", "|---|---|---|---|",
                         *seed_listing(model, args.data.parent)]))
        return
    if args.newer:
        print(json.dumps({"analyzer": model.analyzer_id, "newer_terms": newer_terms(model, args.data)}, indent=2,
                         ensure_ascii=False))
        return
    figures = {"analyzer": model.analyzer_id}
    if not args.no_cv:
        with tempfile.TemporaryDirectory() as workdir:
            others = claudette_others(args.data)
            figures["claudette"] = claudette_cv(args.data, others, Path(workdir))
            if args.fresh_splits > 0:
                figures["claudette"]["fresh_splits"] = claudette_fresh_splits(args.data, others, Path(workdir),
                                                                              args.fresh_splits)
            shipped_without_appsi = training.training_examples(args.data, use_appsi=False)
            figures["appsi"] = appsi_test(args.data, shipped_without_appsi, Path(workdir))
    figures["appsi_risk"] = appsi_risk(args.data, model)
    figures["recorded_out_of_fold"] = recorded_out_of_fold(model)
    figures["pattern_fixtures"] = pattern_fixtures(model)
    figures["newer_terms"] = newer_terms(model, args.data)
    figures["speed"] = speed(model, speed_clauses(args.data))
    if args.doc:
        write_doc(args.doc, figures, DOC_COMMAND + str(args.doc))
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

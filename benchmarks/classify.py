"""Clause classifier benchmark on the CLAUDETTE validation split (SPEC §11).

Prints one JSON object: micro- and macro-F1 over the 8 CLAUDETTE categories plus
"none" (the LexGLUE protocol: a sentence with no label counts as the extra
label "none", for truth and prediction alike) and over the 8 alone, for the
shipped model and for two ten-line baselines trained on the train split (word
TF-IDF with balanced logistic regression, and with a balanced linear SVM);
severity accuracy against the experts' grades (3 → high, 2 → medium) on the
validation documents' tagged spans, end to end and given the true type; clauses
per second; how well the confidence is calibrated; the out-of-fold F1 recorded
at training for the types learned from ToS;DR alone; and the same F1 figures at
clause level, each line of the validation documents being one clause labelled
with the unfair tags it holds.

Needs ../shared/datasets/claudette (or --data) and scikit-learn (the ``test``
extra) for the baseline and the F1 scores.

    .venv/bin/python benchmarks/classify.py [--data ../shared/datasets] [--model analysis/model]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.classifier import MODEL_DIR, Classifier  # noqa: E402
from analysis.taxonomy import BY_ID, CLAUDETTE_TYPES  # noqa: E402
from clausewatch.training import Example, claudette_sentences, graded_spans  # noqa: E402

CATEGORIES = sorted(CLAUDETTE_TYPES)  # A, CH, CR, J, LAW, LTD, TER, USE
TYPES = [CLAUDETTE_TYPES[c] for c in CATEGORIES]


def label_matrix(type_sets) -> np.ndarray:
    return np.array([[t in types for t in TYPES] for types in type_sets], dtype=np.int64)


def scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """LexGLUE's UNFAIR-ToS scores (with "none") and the same over the 8 categories alone."""
    with_none = [np.hstack([m, (m.sum(axis=1) == 0)[:, None].astype(np.int64)]) for m in (truth, predicted)]
    figures = {
        "micro_f1": f1_score(*with_none, average="micro", zero_division=0),
        "macro_f1": f1_score(*with_none, average="macro", zero_division=0),
        "micro_f1_8": f1_score(truth, predicted, average="micro", zero_division=0),
        "macro_f1_8": f1_score(truth, predicted, average="macro", zero_division=0),
    }
    per_label = f1_score(truth, predicted, average=None, zero_division=0)
    figures["per_category_f1"] = {c: round(100 * f, 1) for c, f in zip(CATEGORIES, per_label, strict=True)}
    return {k: (round(100 * v, 1) if isinstance(v, float) else v) for k, v in figures.items()}


def baseline(train, validation, make_model) -> np.ndarray:
    """The ten-line baseline: word TF-IDF, one balanced linear model per category."""
    vectorizer = TfidfVectorizer()
    x_train = vectorizer.fit_transform([e.text for e in train])
    x_valid = vectorizer.transform([e.text for e in validation])
    y_train = label_matrix(e.types for e in train)
    return np.array([make_model().fit(x_train, y_train[:, j]).predict(x_valid) for j in range(len(TYPES))]).T


BASELINES = {
    "baseline_tfidf_logreg": lambda: LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000),
    "baseline_tfidf_linearsvc": lambda: LinearSVC(class_weight="balanced"),
}


_TAG = re.compile(r"<(/?)([a-z]+)(\d)>")


def document_paragraphs(documents_dir: Path) -> list[tuple[str, set[str]]]:
    """Every line of the validation documents as a clause, labelled with its unfair tags (grade 2 or 3)."""
    paragraphs = []
    for path in sorted(documents_dir.glob("*.xml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = " ".join(_TAG.sub(" ", line).split())
            if len(text.split()) >= 3:
                tags = {name.upper() for closing, name, grade in _TAG.findall(line) if not closing and int(grade) >= 2}
                paragraphs.append((text, {CLAUDETTE_TYPES[t] for t in tags if t in CLAUDETTE_TYPES}))
    return paragraphs


def paragraph_scores(model: Classifier, train, paragraphs) -> dict:
    """Clause-level figures: whole paragraphs of the validation documents, as the pipeline sees them."""
    truth = label_matrix(types for _, types in paragraphs)
    texts = [text for text, _ in paragraphs]
    predicted = label_matrix({t for t in c.types if t in TYPES} for c in model.classify(texts))
    pseudo = [Example(text, frozenset(), "", "") for text in texts]
    return {
        "paragraphs": len(paragraphs),
        "with_labels": int(truth.any(axis=1).sum()),
        "model": scores(truth, predicted),
        "baseline_tfidf_linearsvc": scores(truth, baseline(train, pseudo, BASELINES["baseline_tfidf_linearsvc"])),
    }


def severity_accuracy(model: Classifier, spans) -> dict[str, float | int]:
    """High vs medium against grades 3 vs 2: end to end, and given the true type."""
    graded = [s for s in spans if s.grade in (2, 3)]
    expected = ["high" if s.grade == 3 else "medium" for s in graded]
    end_to_end = [c.severity for c in model.classify([s.text for s in graded])]
    given_type = [model.severity_of(s.type, s.text) for s in graded]
    majority = max(expected.count("high"), expected.count("medium")) / len(expected)
    return {
        "spans": len(graded),
        "accuracy_end_to_end": round(100 * np.mean([a == b for a, b in zip(end_to_end, expected)]), 1),
        "accuracy_given_type": round(100 * np.mean([a == b for a, b in zip(given_type, expected)]), 1),
        "majority_class": round(100 * majority, 1),
    }


def calibration(model: Classifier, texts: list[str], truth: np.ndarray) -> dict[str, float]:
    """How well ``confidence`` means what it says on the 8 categories: expected calibration error
    (10 bins over every sentence × category) and, over predicted labels, mean probability vs precision."""
    margins = model.clause_scores(texts, model.features(texts))
    columns = [model.labels.index(t) for t in TYPES]
    probability = model.probabilities(margins)[:, columns].ravel()
    truth = truth.ravel()
    bins = np.minimum((probability * 10).astype(int), 9)
    error = sum(abs(probability[bins == b].mean() - truth[bins == b].mean()) * (bins == b).sum()
                for b in range(10) if (bins == b).any()) / len(probability)
    predicted = (margins[:, columns] >= model.thresholds[columns]).ravel()
    return {
        "expected_calibration_error": round(float(error), 4),
        "predicted_mean_probability": round(float(probability[predicted].mean()), 3),
        "predicted_precision": round(float(truth[predicted].mean()), 3),
    }


def tosdr_figures(model: Classifier) -> dict[str, float]:
    """Out-of-fold F1 (grouped by service) of the types learned from ToS;DR alone, as recorded at training."""
    recorded = model.meta["training"]["out_of_fold_f1"]
    learned = {label: round(100 * f1, 1) for label, f1 in recorded.items() if label not in TYPES}
    return {"macro_f1": round(float(np.mean(list(learned.values()))), 1), **learned} if learned else {}


def throughput(model: Classifier, texts: list[str], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        model.classify(texts)
        best = min(best, time.perf_counter() - start)
    return round(len(texts) / best, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "datasets")
    parser.add_argument("--model", type=Path, default=MODEL_DIR)
    args = parser.parse_args()
    claudette = args.data / "claudette"
    if not (claudette / "validation" / "sentences.jsonl").is_file():
        sys.exit(f"needs the CLAUDETTE corpus at {claudette} (train/ and validation/ with sentences.jsonl)")
    train = claudette_sentences(claudette / "train")
    validation = claudette_sentences(claudette / "validation")
    model = Classifier(args.model)
    texts = [e.text for e in validation]
    truth = label_matrix(e.types for e in validation)
    predicted = label_matrix({t for t in c.types if t in TYPES} for c in model.classify(texts))
    figures = {
        "data": "CLAUDETTE validation split (LexGLUE UNFAIR-ToS), sentence level",
        "sentences": len(texts),
        "analyzer": model.analyzer_id,
        "model": scores(truth, predicted),
        **{name: scores(truth, baseline(train, validation, make)) for name, make in BASELINES.items()},
        "validation_documents_paragraph_level": paragraph_scores(
            model, train, document_paragraphs(claudette / "validation" / "documents")
        ),
        "severity": severity_accuracy(model, graded_spans(claudette / "validation" / "documents")),
        "calibration": calibration(model, texts, truth),
        "clauses_per_second": throughput(model, texts),
        "tosdr_types_out_of_fold_f1": tosdr_figures(model),
        "types_known": len(BY_ID),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

"""Model selection for one label: which examples it learns from, the linear fit, and its thresholds and
calibration from grouped out-of-fold margins; the severity model.

scikit-learn is imported inside the functions that fit, never when this module is imported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from analysis.taxonomy import BY_ID, CLAUDETTE_TYPES
from analysis.training.data import APPSI_TYPES, GUIDELINES_SOURCE, PRIVACY_SOURCES, Example, GradedSpan
from analysis.training.features import GATES, Vocabulary

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

SEED = 0
SVM_C = 1.0
FOLDS = 5
# A learned label needs at least this many positive examples; rarer types are left to curated phrases.
MIN_POSITIVES = 15
# Whether ToS;DR quotes add positives to the CLAUDETTE types (chosen on validation, see 0003-classifier.md).
AUGMENT_CLAUDETTE = False
# Whether the CLAUDETTE types get out-of-fold tuned thresholds or the SVM's own (margin 0); chosen on validation.
TUNE_CLAUDETTE_THRESHOLDS = False
# Whether a CLAUDETTE type (not gated) gets a lower threshold where its curated phrase occurs: the best-F1
# out-of-fold threshold among those sentences. Grouped CV by document, thresholds chosen inside each training
# fold: macro-F1 0.7507 → 0.7584 (contract by using 0.734 → 0.782); for gated arbitration, whose phrases are
# its gate, it fell 0.712 → 0.645, so a gated label keeps one threshold (0009).
CLAUDETTE_PHRASE_THRESHOLDS = True
# A gated label sees few, similar sentences: logistic regression with a moderate C generalised best there
# (grouped CV by document, arbitration F1 with C = 1 / 3 / 10: 0.712 / 0.732 / 0.725, recall 0.703 / 0.703 / 0.676).
GATED_C = 3.0
# The APPSI-139 types learn from privacy policies, where a third of the sentences state a practice; on a terms of
# service their best-F1 threshold fired on fee and purchase clauses. Their threshold is raised so that at most
# this share of the CLAUDETTE sentences (terms of service, none labelled with the type) would get the type
# out-of-fold: a false-positive budget on real terms of service (0009).
TOS_FALSE_POSITIVE_RATE = 0.01
# A tighter budget where the share of real user rights among the flagged CLAUDETTE sentences is low: "confirm that
# the information you submit is accurate and complete" reads like "you can correct inaccurate information" (Kling
# terms 3.4 and 10.2 got user_rights at the 1 % budget). APPSI-139 test F1 of user_rights 0.811 → 0.800 (0019).
TOS_FALSE_POSITIVE_RATES: dict[str, float] = {"user_rights": 0.005}
# Without its own phrase, a privacy type must also clear the linear model's own boundary: a best-F1 threshold below
# margin 0 reflects APPSI-139's positive rate (a third of a privacy policy's sentences), not that of other texts.
PRIVACY_MARGIN_FLOOR = 0.0
# Whether the APPSI-139 types also fit on the CLAUDETTE sentences (as negatives). When not, those sentences are only
# scored, out-of-fold, to set the terms-of-service budget: the model itself learns privacy policies alone (0027).
PRIVACY_LEARNS_FROM_TERMS = True
# The SVM's C for the APPSI-139 types (grouped CV on APPSI-139 train + dev by block, 0027).
PRIVACY_C = 0.5
# The weight of a CLAUDETTE sentence among the examples of an APPSI-139 type (an APPSI sentence weighs 1).
PRIVACY_TERMS_WEIGHT = 1.0

# --- one label ----------------------------------------------------------------


@dataclass(frozen=True)
class LabelModel:
    """A one-vs-rest linear model for one clause type, with its threshold and calibration."""

    label: str
    weights: np.ndarray
    bias: float
    threshold: float
    calibration: tuple[float, float]
    out_of_fold_f1: float
    out_of_fold: dict[str, float] = field(default_factory=dict)
    # The threshold where the type's own curated phrase occurs in the clause (the clause speaks of the practice).
    phrase_threshold: float | None = None
    # The threshold inside a privacy policy (a privacy type's best-F1 threshold on policies, no terms-of-service
    # budget); ``None``: the same as ``threshold``.
    policy_threshold: float | None = None


def label_samples(label: str, examples: Sequence[Example], claudette_label: bool) -> np.ndarray:
    """Indices of the examples a label learns from.

    CLAUDETTE sentences are labelled for all eight CLAUDETTE types, so each is a
    sure positive or negative for them. A ToS;DR quote is labelled only with the
    case it illustrates, so it is a positive for that type and a negative only
    when the type's curated phrases do not occur in it (a quote about
    indemnification often disclaims warranties too); the same holds for CLAUDETTE
    sentences as negatives of the ToS;DR-only types.

    An APPSI-139 sentence is labelled for every APPSI topic, so it is a sure
    example for the types those topics map to, and no example of the others
    (its policies transfer data abroad and set cookies without a label saying
    so). A CUAD span is an example only for the types CUAD categories map to:
    contract clauses say nothing of the others. A gated label learns only from the
    examples its gate matches.
    """
    clause_type = BY_ID[label]
    gate = re.compile(GATES[label], re.IGNORECASE) if label in GATES else None
    # The types the contract spans given here were mapped to (``data.cuad_clauses``), whatever the mapping.
    cuad_types = {t for e in examples if e.source == "cuad" for t in e.types}
    keep = []
    for i, example in enumerate(examples):
        if gate and not gate.search(example.text):
            continue
        if claudette_label:
            augmented = label in example.augments or (AUGMENT_CLAUDETTE and label in example.types)
            if example.source == "claudette" or augmented:
                keep.append(i)
        elif example.source == "appsi":
            if label in APPSI_TYPES:
                keep.append(i)
        elif example.source == GUIDELINES_SOURCE:
            if label in APPSI_TYPES:
                keep.append(i)
        elif label in APPSI_TYPES and example.source not in PRIVACY_SOURCES:
            continue
        elif example.source == "cuad" and label not in cuad_types:
            continue
        elif label in example.types:
            keep.append(i)
        elif not clause_type.evidence(example.text):
            keep.append(i)
    return np.asarray(keep, dtype=np.int64)


def best_threshold(margins: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The margin threshold with the best F1, and that F1 (ties go to the higher threshold)."""
    order = np.argsort(-margins, kind="stable")
    sorted_truth = truth[order]
    true_positives = np.cumsum(sorted_truth)
    predicted = np.arange(1, len(margins) + 1)
    f1 = 2 * true_positives / (predicted + max(int(truth.sum()), 1))
    best = int(np.argmax(f1))
    upper = margins[order[best]]
    lower = margins[order[best + 1]] if best + 1 < len(order) else upper - 1.0
    return float((upper + lower) / 2), float(f1[best])


@dataclass(frozen=True)
class LinearFit:
    """A fitted linear scorer: ``features @ coef + intercept``."""

    coef: np.ndarray
    intercept: float

    def decision_function(self, features: csr_matrix) -> np.ndarray:
        return features @ self.coef + self.intercept


def fit_linear(features: csr_matrix, truth: np.ndarray, gated: bool = False, c: float | None = None,
               weights: np.ndarray | None = None) -> LinearFit:
    """A linear SVM with classes weighted by their rarity (positives are 1–4% of sentences);
    for a gated label, a logistic regression over the few sentences its gate lets through."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if gated:
        model = LogisticRegression(C=GATED_C, class_weight="balanced", max_iter=5000)
    else:
        model = LinearSVC(C=SVM_C if c is None else c, class_weight="balanced", random_state=SEED, max_iter=5000)
    model.fit(features, truth, sample_weight=weights)
    return LinearFit(model.coef_[0], float(model.intercept_[0]))


def train_label(label: str, features: csr_matrix, examples: Sequence[Example], claudette_label: bool) -> LabelModel:
    """Fit one label; threshold and Platt calibration come from grouped out-of-fold margins."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    samples = label_samples(label, examples, claudette_label)
    x = features[samples]
    truth = np.array([label in examples[i].types for i in samples], dtype=np.int64)
    groups = np.array([examples[i].group for i in samples])
    margins = np.zeros(len(samples))
    gated = label in GATES
    sources = np.array([examples[i].source for i in samples])
    # The examples the label fits on; the others (CLAUDETTE sentences of a privacy type that does not learn from
    # terms of service) are only scored out-of-fold.
    fits = (sources != "claudette") if label in APPSI_TYPES and not PRIVACY_LEARNS_FROM_TERMS else np.ones(len(samples),
                                                                                                          bool)
    c = PRIVACY_C if label in APPSI_TYPES else None
    weight = np.where(sources == "claudette", PRIVACY_TERMS_WEIGHT, 1.0) if label in APPSI_TYPES else None
    folds = GroupKFold(n_splits=min(FOLDS, len(set(groups))))
    for train, test in folds.split(x, truth, groups):
        train = train[fits[train]]
        if truth[train].any() and not truth[train].all():
            margins[test] = fit_linear(x[train], truth[train], gated, c,
                                       None if weight is None else weight[train]).decision_function(x[test])
    threshold, f1 = best_threshold(margins[fits], truth[fits])
    platt = LogisticRegression(C=1e4).fit(margins[fits].reshape(-1, 1), truth[fits])
    if claudette_label and not TUNE_CLAUDETTE_THRESHOLDS:
        threshold = 0.0
    elif not claudette_label and label not in APPSI_TYPES:
        # ToS;DR quotes hold far more positives than a real policy does: F1 on them favours a low
        # threshold, so a ToS;DR-learned type must also be more likely than not. The APPSI-139 types learn
        # from whole policies, sentence by sentence, so their out-of-fold best-F1 threshold stands.
        threshold = max(threshold, float(-platt.intercept_[0] / platt.coef_[0, 0]))
    phrase_threshold, scores, policy_threshold = threshold, {}, None
    if label in APPSI_TYPES and not claudette_label:
        policy_threshold = max(threshold, PRIVACY_MARGIN_FLOOR)
        # Where the clause names the practice in the type's own phrases, the best-F1 threshold stands; elsewhere
        # the terms-of-service false-positive budget decides.
        threshold, scores = terms_of_service_budget(margins, truth, [examples[i].source for i in samples], threshold,
                                                    TOS_FALSE_POSITIVE_RATES.get(label, TOS_FALSE_POSITIVE_RATE))
        threshold = max(threshold, PRIVACY_MARGIN_FLOOR)
    elif claudette_label and CLAUDETTE_PHRASE_THRESHOLDS and not gated:
        phrase_threshold = threshold_where_phrased(label, margins, truth, [examples[i].text for i in samples],
                                                   threshold)
    final = fit_linear(x[fits], truth[fits], gated, c, None if weight is None else weight[fits])
    contracts = np.array([examples[i].source == "cuad" for i in samples], dtype=bool)
    return LabelModel(label, final.coef.astype(np.float32), final.intercept, threshold,
                      (float(platt.coef_[0, 0]), float(platt.intercept_[0])), f1,
                      out_of_fold_by_source(margins >= threshold, truth, contracts) | scores, phrase_threshold,
                      policy_threshold)


def threshold_where_phrased(label: str, margins: np.ndarray, truth: np.ndarray, texts: Sequence[str],
                            threshold: float) -> float:
    """The best-F1 out-of-fold threshold among the sentences holding the type's curated phrase, if lower."""
    phrased = np.array([bool(BY_ID[label].evidence(text)) for text in texts], dtype=bool)
    if not truth[phrased].any():
        return threshold
    return min(threshold, best_threshold(margins[phrased], truth[phrased])[0])


def terms_of_service_budget(margins: np.ndarray, truth: np.ndarray, sources: Sequence[str], threshold: float,
                            rate: float = TOS_FALSE_POSITIVE_RATE) -> tuple[float, dict[str, float]]:
    """The threshold raised to the terms-of-service budget, and the share of CLAUDETTE sentences flagged before
    and after (from the same out-of-fold margins)."""
    terms_of_service = margins[(np.asarray(sources) == "claudette") & (truth == 0)]
    if not len(terms_of_service):
        return threshold, {}
    raised = max(threshold, terms_of_service_threshold(margins, truth, sources, rate))
    flagged = {"claudette_sentences_flagged_at_best_f1": float((terms_of_service >= threshold).mean()),
               "claudette_sentences_flagged": float((terms_of_service >= raised).mean())}
    return raised, {name: round(share, 4) for name, share in flagged.items()}


def terms_of_service_threshold(margins: np.ndarray, truth: np.ndarray, sources: Sequence[str],
                               rate: float = TOS_FALSE_POSITIVE_RATE) -> float:
    """The margin above which only ``rate`` of the CLAUDETTE sentences not of the type lie."""
    negatives = margins[(np.asarray(sources) == "claudette") & (truth == 0)]
    if not len(negatives):
        return float("-inf")
    return float(np.quantile(negatives, 1.0 - rate, method="higher"))


def out_of_fold_by_source(predicted: np.ndarray, truth: np.ndarray, contracts: np.ndarray) -> dict[str, float]:
    """The out-of-fold scores on the policies' texts, and the recall on the CUAD contract spans when there are any:
    a type's figures stay comparable with and without contracts, whose positives are easy and plentiful."""
    scores = out_of_fold_scores(predicted[~contracts], truth[~contracts])
    if (contracts & (truth == 1)).any():
        scores["contract_recall"] = round(float(predicted[contracts & (truth == 1)].mean()), 4)
    return scores


def out_of_fold_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of grouped out-of-fold predictions, with the counts they come from."""
    hits = int((predicted & (truth == 1)).sum())
    precision = hits / max(int(predicted.sum()), 1)
    recall = hits / max(int(truth.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "positives": int(truth.sum()), "examples": len(truth)}


# --- severity -----------------------------------------------------------------


@dataclass(frozen=True)
class SeverityModel:
    """P(grade 3 | grade 2 or 3) per CLAUDETTE type: weights (features × types) and biases."""

    labels: tuple[str, ...]
    weights: np.ndarray
    bias: np.ndarray


def train_severity(spans: Sequence[GradedSpan], vocabulary: Vocabulary, space: int) -> SeverityModel:
    """A logistic model per type with enough of both grades; a smoothed base rate for the others."""
    from sklearn.linear_model import LogisticRegression

    labels = tuple(sorted(set(CLAUDETTE_TYPES.values())))
    weights = np.zeros((len(vocabulary.terms), len(labels)), dtype=np.float32)
    bias = np.zeros(len(labels))
    for j, label in enumerate(labels):
        graded = [s for s in spans if s.type == label and s.grade in (2, 3)]
        truth = np.array([s.grade == 3 for s in graded], dtype=np.int64)
        if min(truth.sum(), len(truth) - truth.sum()) >= 5:
            model = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
            model.fit(vocabulary.rows((s.text for s in graded), space), truth)
            weights[:, j], bias[j] = model.coef_[0], model.intercept_[0]
        else:
            rate = (truth.sum() + 0.5) / (len(truth) + 1.0)
            bias[j] = float(np.log(rate / (1 - rate)))
    return SeverityModel(labels, weights, bias)



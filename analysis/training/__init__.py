"""Training of the clause classifier shipped in ``analysis/model/`` (needs scikit-learn: the ``train`` extra).

A package by role: ``data`` reads the labelled data sets into examples, ``features`` builds the
n-gram vocabulary and its feature spaces, ``selection`` fits one label (examples, linear model,
thresholds and calibration from grouped out-of-fold margins) and the severity model, ``recipe``
puts them together and writes the model files. scikit-learn and scipy are imported only by the
functions that fit, so ``import analysis`` (and this package) never loads them.

The shipped model learns from everything labelled: CLAUDETTE train *and* validation (the
protocol's split is for comparing with papers), every APPSI-139 split, the ToS;DR points and the
CUAD contract spans of the categories ``CUAD_CATEGORIES`` maps.
Model selection happens in ``benchmarks/classify.py`` by grouped cross-validation.
"""

from analysis.training.data import (APPSI_BLOCK, APPSI_SPLITS, APPSI_TOPICS, APPSI_TYPES, CLAUDETTE_SPLITS,
                                    CUAD_CATEGORIES, CUAD_TYPES, DATA_NOTE, GUIDELINES_BUNDLE, GUIDELINES_SOURCE,
                                    PRIVACY_SOURCES, TOSDR_AUGMENTS, TOSDR_CASES, Example,
                                    GradedSpan, TrainingData, TrainingDataError, appsi_topics, claudette_sentences,
                                    cuad_clauses, graded_spans, guideline_sentences, read_jsonl, read_training_data,
                                    tosdr_points,
                                    training_examples, training_spans)
from analysis.training.features import (ARBITRATION_SPACE, CLAUDETTE_SPACE, FEATURE_SPACES, GATES, MIN_DF,
                                        NGRAM_SIZES, PRIVACY_SPACE, Vocabulary, space_of, space_texts)
from analysis.training.recipe import TrainReport, fit, npz_bytes, train, write_model
from analysis.training.selection import (FOLDS, GATED_C, MIN_POSITIVES, PRIVACY_C, PRIVACY_LEARNS_FROM_TERMS,
                                         PRIVACY_MARGIN_FLOOR, SEED, SVM_C,
                                         TOS_FALSE_POSITIVE_RATE, TOS_FALSE_POSITIVE_RATES, LabelModel, best_threshold,
                                         fit_linear, label_samples, out_of_fold_by_source, out_of_fold_scores,
                                         terms_of_service_budget, terms_of_service_threshold, threshold_where_phrased,
                                         train_label, train_severity)

__all__ = [
    "APPSI_BLOCK", "APPSI_SPLITS", "APPSI_TOPICS", "APPSI_TYPES", "ARBITRATION_SPACE", "CLAUDETTE_SPACE",
    "CLAUDETTE_SPLITS", "CUAD_CATEGORIES", "CUAD_TYPES", "DATA_NOTE", "FEATURE_SPACES", "FOLDS", "GATED_C", "GATES",
    "GUIDELINES_BUNDLE", "GUIDELINES_SOURCE",
    "MIN_DF", "MIN_POSITIVES", "NGRAM_SIZES", "PRIVACY_C", "PRIVACY_LEARNS_FROM_TERMS", "PRIVACY_MARGIN_FLOOR",
    "PRIVACY_SOURCES", "PRIVACY_SPACE", "SEED", "SVM_C", "TOSDR_AUGMENTS", "TOSDR_CASES",
    "TOS_FALSE_POSITIVE_RATE", "TOS_FALSE_POSITIVE_RATES", "Example", "GradedSpan", "LabelModel",
    "TrainReport", "TrainingData", "TrainingDataError", "Vocabulary", "appsi_topics", "best_threshold",
    "claudette_sentences", "cuad_clauses", "fit", "fit_linear", "graded_spans", "guideline_sentences",
    "label_samples", "npz_bytes",
    "out_of_fold_by_source", "out_of_fold_scores",
    "read_jsonl", "read_training_data", "space_of", "space_texts", "terms_of_service_budget",
    "terms_of_service_threshold", "threshold_where_phrased", "tosdr_points", "train", "train_label", "train_severity",
    "training_examples", "training_spans", "write_model",
]

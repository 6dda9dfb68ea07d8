"""The whole training recipe: every learned label, the severity model, and the model files.

``train`` reads a data folder and writes ``analysis/model/``; ``fit`` takes any examples (the
benchmark calls it on the training side of each cross-validation fold). Everything is
deterministic: inputs sorted, fixed seeds, a fixed zip timestamp, so the same data gives
byte-identical model files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from analysis import classifier
from analysis.taxonomy import BY_ID, CLAUDETTE_TYPES
from analysis.training.data import DATA_NOTE, TrainingData, TrainingDataError, read_training_data
from analysis.training.features import (CLAUDETTE_SPACE, FEATURE_SPACES, GATES, MIN_DF, MIN_DFS, NGRAM_SIZES,
                                        Vocabulary, space_of, space_texts)
from analysis.training.selection import (FOLDS, GATED_C, MIN_POSITIVES, SEED, SVM_C, LabelModel, SeverityModel,
                                         train_label, train_severity)

# A fixed date for every member of weights.npz: zip stores one, and "now" would change the bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

@dataclass
class TrainReport:
    """What training saw and wrote."""

    out: Path
    examples: dict[str, int] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    out_of_fold_f1: dict[str, float] = field(default_factory=dict)
    features: int = 0
    out_of_fold: dict[str, dict[str, float]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)



def train(data_dir: Path, out: Path, *, use_tosdr: bool = True, use_appsi: bool = True, use_cuad: bool = True,
          use_guidelines: bool = True) -> TrainReport:
    """Train on ``data_dir`` (laid out as ``../shared/datasets``) and write the model files into ``out``."""
    data = read_training_data(data_dir, use_tosdr, use_appsi, use_cuad, use_guidelines)
    if len({e.group for e in data.examples}) < 2:
        raise TrainingDataError(f"{data_dir}: no clause type has {MIN_POSITIVES} examples from two sources or more")
    return fit(data, out)


def fit(data: TrainingData, out: Path, only: Sequence[str] | None = None) -> TrainReport:
    """Learn every type with enough examples (or those of ``only``) and write the model files into ``out``.

    The benchmark calls this on the training side of each cross-validation fold.
    """
    examples = data.examples
    texts = [e.text for e in examples]
    vocabulary = Vocabulary.fit(space_texts(examples), MIN_DFS)
    features = [vocabulary.rows(texts, space) for space in range(len(FEATURE_SPACES))]
    counts = Counter(t for e in examples for t in e.types)
    claudette_labels = set(CLAUDETTE_TYPES.values())
    labels = [t for t in BY_ID if counts[t] >= MIN_POSITIVES and (only is None or t in only)]
    if not labels:
        raise TrainingDataError(f"no clause type has {MIN_POSITIVES} examples")
    models = [train_label(label, features[space_of(label)], examples, label in claudette_labels) for label in labels]
    severity = train_severity(data.spans, vocabulary, CLAUDETTE_SPACE)
    report = TrainReport(out, dict(sorted(Counter(e.source for e in examples).items())), labels,
                         {m.label: round(m.out_of_fold_f1, 4) for m in models}, len(vocabulary.terms),
                         out_of_fold={m.label: m.out_of_fold for m in models})
    report.files = write_model(out, vocabulary, models, severity, report)
    return report



def write_model(out: Path, vocabulary: Vocabulary, models: Sequence[LabelModel], severity: SeverityModel,
                report: TrainReport) -> dict[str, str]:
    """Write vocabulary.json, weights.npz and model.json; returns each file's SHA-256."""
    out.mkdir(parents=True, exist_ok=True)
    arrays = {
        "idf": vocabulary.idf,
        "label_space": np.array([space_of(m.label) for m in models], dtype=np.int64),
        "weights": np.stack([m.weights for m in models], axis=1).astype(np.float32),
        "bias": np.array([m.bias for m in models]),
        "thresholds": np.array([m.threshold for m in models]),
        "phrase_thresholds": np.array([m.threshold if m.phrase_threshold is None else m.phrase_threshold
                                       for m in models]),
        "policy_thresholds": np.array([m.threshold if m.policy_threshold is None else m.policy_threshold
                                       for m in models]),
        "calibration": np.array([m.calibration for m in models]),
        "severity_weights": severity.weights.astype(np.float32),
        "severity_bias": severity.bias,
    }
    with _staged(out) as staging:
        _write(staging, out, "vocabulary.json", _json_lines(vocabulary.terms).encode("utf-8"))
        _write(staging, out, "weights.npz", npz_bytes(arrays))
        meta = _meta(staging, vocabulary, models, severity, report)
        _write(staging, out, "model.json", (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode("utf-8"))
        for name in classifier.MODEL_FILES:  # all three whole before any replaces the model in use
            os.replace(staging / name, out / name)
    return {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in classifier.MODEL_FILES}


@contextmanager
def _staged(out: Path) -> Iterator[Path]:
    """A folder of our own inside ``out`` for the new files, removed with whatever is left in it.

    The model's three files were written in place: a disk that filled halfway left a vocabulary cut short beside
    the old weights, and every later analysis failed to load the model (the default ``--out`` is the shipped one).
    """
    try:
        staging = Path(tempfile.mkdtemp(prefix=".clausewatch-tmp-", dir=out))
    except OSError as exc:  # named by the folder asked for, not by the random name tried in it
        raise OSError(exc.errno, exc.strerror, str(out)) from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(staging: Path, out: Path, name: str, data: bytes) -> None:
    """``data`` as ``staging/name``, synced; a failure names the model file it was for, not our staging file."""
    try:
        with open(staging / name, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(out / name)) from None


def _meta(model_dir: Path, vocabulary: Vocabulary, models: Sequence[LabelModel], severity: SeverityModel,
          report: TrainReport) -> dict:
    meta = {
        "format": classifier.FORMAT,
        "fingerprint": classifier.fingerprint(model_dir),
        "labels": [m.label for m in models],
        "severity_labels": list(severity.labels),
        "ngram_sizes": list(NGRAM_SIZES),
        "feature_spaces": list(FEATURE_SPACES),
        "severity_space": CLAUDETTE_SPACE,
        "gates": {label: pattern for label, pattern in GATES.items() if label in [m.label for m in models]},
        "features": len(vocabulary.terms),
        "training": {
            "examples": report.examples,
            "min_df": MIN_DF, "svm_c": SVM_C, "folds": FOLDS, "seed": SEED,
            "out_of_fold_f1": report.out_of_fold_f1,
            "out_of_fold": report.out_of_fold,
            "gated_c": GATED_C,
            "data": "; ".join(DATA_NOTE[source] for source in report.examples),
        },
    }
    return meta


def _json_lines(items: Sequence[str]) -> str:
    """A JSON array with one item a line: diffable and readable."""
    return "[\n" + ",\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n]\n"


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` archive (readable by ``numpy.load``) whose bytes depend only on the arrays."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()

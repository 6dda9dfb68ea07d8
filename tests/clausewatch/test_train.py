"""`clausewatch train`: rebuilds the classifier from data laid out as ../shared/datasets, reproducibly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from analysis import training
from analysis.classifier import MODEL_FILES, Classifier
from analysis.taxonomy import CLAUDETTE_TYPES
from analysis.training import TrainingDataError, appsi_topics, graded_spans, read_jsonl, tosdr_points
from clausewatch.cli import main

pytestmark = pytest.mark.shared

SHARED = Path(os.environ.get("CLAUSEWATCH_SHARED", Path(__file__).resolve().parents[2].parent / "shared"))

COMPANIES = ("9gag", "Booking", "Microsoft", "Skype", "Tinder", "Zynga")


@pytest.fixture(scope="module")
def data_slice(tmp_path_factory) -> Path:
    """Six companies of the CLAUDETTE train split (sentences and documents), two of the validation split,
    400 ToS;DR points and 600 APPSI-139 topic sentences."""
    shared = _shared()
    source = shared / "datasets"
    out = tmp_path_factory.mktemp("data")
    train = out / "claudette" / "train"
    (train / "documents").mkdir(parents=True)
    lines = (source / "claudette" / "train" / "sentences.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if json.loads(line)["company"] in COMPANIES]
    (train / "sentences.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    for company in COMPANIES:
        document = source / "claudette" / "train" / "documents" / f"{company}.xml"
        if document.is_file():
            shutil.copy(document, train / "documents" / document.name)
    _copy_validation_slice(source, out, ("Airbnb", "Vimeo"))
    (out / "appsi139" / "topic").mkdir(parents=True)
    appsi = (source / "appsi139" / "topic" / "train.jsonl").read_text(encoding="utf-8").splitlines()[:600]
    (out / "appsi139" / "topic" / "train.jsonl").write_text("\n".join(appsi) + "\n", encoding="utf-8")
    (out / "tosdr").mkdir()
    points = (source / "tosdr" / "points.jsonl").read_text(encoding="utf-8").splitlines()[:400]
    (out / "tosdr" / "points.jsonl").write_text("\n".join(points) + "\n", encoding="utf-8")
    return out


def _copy_validation_slice(source: Path, out: Path, companies: tuple[str, ...]) -> None:
    validation = out / "claudette" / "validation"
    (validation / "documents").mkdir(parents=True)
    lines = (source / "claudette" / "validation" / "sentences.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if json.loads(line)["company"] in companies]
    (validation / "sentences.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    for company in companies:
        document = source / "claudette" / "validation" / "documents" / f"{company}.xml"
        if document.is_file():
            shutil.copy(document, validation / "documents" / document.name)


def _shared() -> Path:
    """../shared, as the suite's ``shared`` fixture finds it (that one is per test, this slice per module)."""
    if not SHARED.is_dir():
        pytest.fail(f"shared data folder {SHARED} is missing (set CLAUSEWATCH_SHARED)")
    return SHARED


def train(data: Path, out: Path):
    return CliRunner().invoke(main, ["train", "--data", str(data), "--out", str(out)], catch_exceptions=False)


def test_the_same_data_gives_byte_identical_model_files(data_slice, tmp_path):
    first, second = train(data_slice, tmp_path / "a"), train(data_slice, tmp_path / "b")
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    for name in MODEL_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.output.replace(str(tmp_path / "a"), "OUT") == second.output.replace(str(tmp_path / "b"), "OUT")


def test_a_trained_model_loads_and_classifies(data_slice, tmp_path):
    assert train(data_slice, tmp_path / "m").exit_code == 0
    model = Classifier(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert "limitation_of_liability" in meta["labels"]
    assert meta["training"]["examples"]["claudette"] > 500
    assert meta["training"]["examples"]["appsi"] == 600
    assert "APPSI-139" in meta["training"]["data"] and "validation" in meta["training"]["data"]
    assert meta["gates"].items() <= training.GATES.items()
    assert "data_collection" in meta["labels"]
    for figures in meta["training"]["out_of_fold"].values():
        assert 0.0 <= figures["precision"] <= 1.0 and 0.0 <= figures["recall"] <= 1.0
    result = model.classify(["In no event shall we be liable for any indirect or consequential damages."])[0]
    assert "limitation_of_liability" in result.types


def test_a_folder_without_claudette_data_is_bad_input(tmp_path):
    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "claudette/train/sentences.jsonl" in result.output
    assert not (tmp_path / "m").exists()


def test_a_malformed_line_is_named_by_file_and_number(tmp_path):
    path = tmp_path / "sentences.jsonl"
    path.write_text('{"text": "fine", "labels": []}\n{not json\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"sentences.jsonl:2: not JSON"):
        read_jsonl(path)


@pytest.mark.parametrize(("where", "line", "problem"), [
    # Each ended `clausewatch train` in a traceback (AttributeError, TypeError, KeyError, UnicodeDecodeError).
    ("tosdr/points.jsonl", "[1, 2]", "expected a JSON object, got list"),
    ("tosdr/points.jsonl", "5", "expected a JSON object, got int"),
    ("tosdr/points.jsonl", '{"case": ["a"], "quote": "x"}', "missing or malformed (expected a string, got list)"),
    ("tosdr/points.jsonl", b'{"case": "caf\xe9"}', "not UTF-8 text (byte 0xe9 at column 14)"),
    ("appsi139/topic/train.jsonl", '{"text": "We keep it.", "labels": "Data Retention"}',
     "missing or malformed (expected a list of strings, got str)"),
    ("cuad/clauses.jsonl", '{"text": 3, "contract": "c", "category": "Governing Law"}',
     "missing or malformed (expected a string, got int)"),
    ("claudette/train/sentences.jsonl", '{"text": "We may stop.", "labels": ["NOPE"], "company": "x"}',
     "missing or malformed (unknown CLAUDETTE label 'NOPE')"),
    ("claudette/train/sentences.jsonl", '{"labels": [], "company": "x"}', "missing or malformed field 'text'"),
    ("claudette/train/sentences.jsonl", "[" * 100_000 + "]" * 100_000, "not JSON this reads (nested too deeply)"),
])
def test_a_malformed_row_of_any_source_is_named_by_file_and_line_as_an_editor_counts_it(
        tmp_path, where: str, line: str | bytes, problem: str):
    good = {"claudette/train/sentences.jsonl": '{"text": "We may stop.", "labels": [], "company": "x"}',
            "tosdr/points.jsonl": '{"case": "Some unmapped case", "quote": "x"}',
            "appsi139/topic/train.jsonl": '{"text": "We keep it.", "labels": []}',
            "cuad/clauses.jsonl": '{"text": "x", "contract": "c", "category": "Governing Law"}'}
    for name, row in good.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(row + "\n", encoding="utf-8")
    # A blank line before the bad one: line numbers are the file's, not the count of rows read.
    bad = line if isinstance(line, bytes) else line.encode()
    (tmp_path / where).write_bytes(good[where].encode() + b"\n\n" + bad + b"\n")

    result = CliRunner().invoke(main, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m")])

    assert result.exit_code == 2, result.output
    [error] = result.stderr.splitlines()
    assert error.startswith(f"Error: {tmp_path / where}:3: {problem} ("), error  # then the command's --help
    assert not (tmp_path / "m").exists()


def test_graded_spans_survive_overlapping_tags(tmp_path):
    (tmp_path / "x.xml").write_text("a <ter3><ltd2>We may stop.</ter3> And owe nothing.</ltd2> b", encoding="utf-8")
    spans = {(s.type, s.grade, s.text) for s in graded_spans(tmp_path)}
    assert spans == {("unilateral_termination", 3, "We may stop."),
                     ("limitation_of_liability", 2, "We may stop. And owe nothing.")}


def test_tosdr_points_skip_unmoderated_and_irrelevant_quotes(tmp_path):
    case = "You waive your right to a class action."
    rows = [
        {"case": case, "quote": "You <b>waive</b> class actions.", "services": ["x"], "needs_moderation": False,
         "irrelevant": False},
        {"case": case, "quote": "Pending.", "services": ["y"], "needs_moderation": True, "irrelevant": False},
        {"case": case, "quote": "Off topic.", "services": ["z"], "needs_moderation": False, "irrelevant": True},
        {"case": "Some unmapped case", "quote": "Other.", "services": ["x"], "needs_moderation": False,
         "irrelevant": False},
    ]
    path = tmp_path / "points.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    examples = tosdr_points(path)
    assert [(e.text, set(e.types), e.group) for e in examples] == [
        ("You waive class actions.", {"class_action_waiver"}, "tosdr:x")
    ]


def test_validation_sentences_are_learned_from_too(data_slice):
    examples = training.training_examples(data_slice, use_tosdr=False, use_appsi=False)
    assert {"claudette:Airbnb", "claudette:Vimeo"} <= {e.group for e in examples}
    assert {s.document for s in training.training_spans(data_slice)} >= {"Airbnb", "Vimeo"}


def test_appsi_topics_map_to_our_types_and_group_by_runs_of_sentences(tmp_path):
    rows = [{"text": "We collect your email.", "labels": ["First Party Collection"]},
            {"text": "Contact us.", "labels": ["Contact Information"]},
            {"text": "We keep logs for 30 days.", "labels": ["Data Retention", "Data Security"]}]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    examples = appsi_topics(path, "train")
    assert [set(e.types) for e in examples] == [{"data_collection"}, set(), {"data_retention", "data_security"}]
    assert {e.group for e in examples} == {"appsi:train:0"}
    path.write_text('{"text": "x"}\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"train.jsonl:1"):
        appsi_topics(path, "train")


def test_a_gated_label_learns_only_from_the_sentences_its_gate_matches():
    examples = [training.Example("Disputes go to binding arbitration.", frozenset({"arbitration"}), "a", "claudette"),
                training.Example("The arbitrator is chosen by AAA.", frozenset(), "b", "claudette"),
                training.Example("We may terminate your account.", frozenset(), "c", "claudette")]
    assert training.label_samples("arbitration", examples, claudette_label=True).tolist() == [0, 1]


def test_the_terms_of_service_threshold_leaves_one_percent_of_claudette_negatives_above_it():
    margins = np.concatenate([np.linspace(-2.0, 1.0, 200), [5.0, 6.0]])
    truth = np.array([0] * 200 + [1, 1])
    sources = ["claudette"] * 100 + ["appsi"] * 100 + ["appsi", "appsi"]
    threshold = training.terms_of_service_threshold(margins, truth, sources)
    negatives = margins[:100]
    assert (negatives > threshold).mean() <= training.TOS_FALSE_POSITIVE_RATE
    assert threshold in negatives
    assert training.terms_of_service_threshold(margins, truth, ["appsi"] * 202) == float("-inf")


def test_only_privacy_and_ungated_claudette_types_get_a_lower_threshold_where_their_phrase_occurs(data_slice,
                                                                                                   tmp_path):
    assert train(data_slice, tmp_path / "m").exit_code == 0
    model = Classifier(tmp_path / "m")
    assert (model.phrase_thresholds <= model.thresholds).all()
    claudette = set(CLAUDETTE_TYPES.values()) - set(training.GATES)
    others = [j for j, label in enumerate(model.labels) if label not in training.APPSI_TYPES | claudette]
    assert (model.phrase_thresholds[others] == model.thresholds[others]).all()
    # Inside a privacy policy only the privacy types lose the terms-of-service budget.
    privacy = [j for j, label in enumerate(model.labels) if label in training.APPSI_TYPES]
    rest = [j for j in range(len(model.labels)) if j not in privacy]
    assert privacy and (model.policy_thresholds[privacy] <= model.thresholds[privacy]).all()
    assert (model.policy_thresholds[rest] == model.thresholds[rest]).all()


def test_the_threshold_where_phrased_is_the_best_f1_among_the_phrased_sentences_if_lower():
    texts = ["You agree to indemnify us.", "You shall indemnify and hold us harmless.", "We may change these terms.",
             "The reseller will indemnify the buyer."]
    margins, truth = np.array([-0.5, -0.2, 0.4, -0.9]), np.array([1, 1, 0, 0])
    # Among the three sentences naming indemnity, the cut between -0.5 (a positive) and -0.9 (a negative).
    assert training.threshold_where_phrased("indemnification", margins, truth, texts, 0.0) == pytest.approx(-0.7)
    assert training.threshold_where_phrased("indemnification", margins, truth, texts, -1.0) == -1.0
    assert training.threshold_where_phrased("arbitration", margins, truth, texts, 0.0) == 0.0


def test_without_tosdr_only_the_claudette_types_are_learned_and_the_rest_fall_back_to_phrases(data_slice, tmp_path):
    result = CliRunner().invoke(main, ["train", "--data", str(data_slice), "--out", str(tmp_path), "--no-tosdr",
                                        "--no-appsi"])
    assert result.exit_code == 0, result.output
    model = Classifier(tmp_path)
    assert set(model.labels) <= {"arbitration", "unilateral_change", "content_removal", "jurisdiction",
                                 "governing_law", "limitation_of_liability", "unilateral_termination",
                                 "contract_by_using"}
    assert "indemnification" in model.classify(["You agree to indemnify and hold us harmless."])[0].types


def test_a_write_that_fails_halfway_leaves_the_model_in_use_whole(data_slice, tmp_path):
    # The three files were written in place: a disk filling during the vocabulary left it cut short beside the old
    # weights, and every later analysis failed to load the model. A file-size limit makes the write fail for real.
    out = tmp_path / "model"
    assert train(data_slice, out).exit_code == 0
    before = {name: (out / name).read_bytes() for name in MODEL_FILES}
    limit = len(before["vocabulary.json"]) // 2
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"  # the write then fails with EFBIG, as a full disk's would
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.RLIM_INFINITY))\n"
        "from clausewatch.cli import main\n"
        "sys.argv = ['clausewatch', 'train', '--data', sys.argv[1], '--out', sys.argv[2]]\n"
        "main()\n")

    done = subprocess.run([sys.executable, "-c", script, str(data_slice), str(out)], capture_output=True, text=True)

    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"Error: cannot use {out / 'vocabulary.json'}: File too large"], done.stderr
    assert {name: (out / name).read_bytes() for name in MODEL_FILES} == before
    assert sorted(path.name for path in out.iterdir()) == sorted(MODEL_FILES)  # no staging folder left

"""The training package: what each label learns from, its thresholds, and that importing it loads no scikit-learn."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from analysis import training
from analysis.training import Example

ROOT = Path(__file__).resolve().parents[2]
FORCES = "This service forces users into binding arbitration in the case of disputes"
DOES_NOT_FORCE = "This service does not force users into binding arbitration"


def test_importing_the_training_package_loads_neither_scikit_learn_nor_scipy():
    code = ("import sys, analysis, analysis.training; "
            "print(sorted({'sklearn', 'scipy'} & {m.split('.')[0] for m in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_tosdr_quotes_of_forced_arbitration_teach_the_claudette_arbitration_label(tmp_path):
    rows = [{"case": FORCES, "quote": "Any dispute will be resolved by binding individual arbitration administered by "
                                      "JAMS.", "services": ["a"]},
            {"case": DOES_NOT_FORCE, "quote": "You may bring claims in court; no arbitration is required.",
             "services": ["b"]}]
    path = tmp_path / "points.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    forced, optional = sorted(training.tosdr_points(path), key=lambda e: e.group)
    assert forced.augments == {"arbitration"} and not optional.augments
    claudette = [Example("These terms are governed by arbitration rules.", frozenset(), "claudette:c", "claudette"),
                 Example("We may change these terms.", frozenset(), "claudette:c", "claudette")]
    samples = training.label_samples("arbitration", [forced, optional, *claudette], claudette_label=True)
    # The forced-arbitration quote is a positive; the other quote is no CLAUDETTE example; the second CLAUDETTE
    # sentence is outside the gate.
    assert samples.tolist() == [0, 2]


def test_the_arbitration_gate_lets_through_the_forums_newer_terms_name():
    gate = training.GATES["arbitration"]
    for text in ("Claims will be administered by the ICC under its rules.",
                 "You may bring a claim in small claims court.", "JAMS will administer the proceeding."):
        assert re.search(gate, text, re.IGNORECASE), text


def test_a_tighter_budget_gives_a_higher_terms_of_service_threshold():
    margins = np.concatenate([np.linspace(-2.0, 1.0, 400), [5.0]])
    truth = np.array([0] * 400 + [1])
    sources = ["claudette"] * 400 + ["appsi"]
    loose = training.terms_of_service_threshold(margins, truth, sources, 0.01)
    tight = training.terms_of_service_threshold(margins, truth, sources, 0.005)
    assert tight > loose
    assert (margins[:400] > tight).mean() <= 0.005


def _write_cuad(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("".join(json.dumps({"contract": c, "category": k, "text": t}) + "\n" for c, k, t in rows),
                    encoding="utf-8")
    return path


def test_cuad_spans_of_mapped_categories_become_examples_grouped_by_contract(tmp_path):
    grant = "Licensor grants   Licensee a perpetual, irrevocable licence to use the Materials."
    path = _write_cuad(tmp_path / "clauses.jsonl", [
        ("A.pdf", "Irrevocable or Perpetual License", grant),
        ("A.pdf", "License Grant", grant),
        ("A.pdf", "Governing Law", "This Agreement is governed by the laws of Delaware."),
        ("B.pdf", "Irrevocable or Perpetual License", "B grants A a perpetual licence to the Software."),
    ])
    first, second = training.cuad_clauses(path, {"Irrevocable or Perpetual License": ("user_content_license",)})
    # The span annotated twice is one example; the unmapped category gives none.
    assert (first.text, first.types, first.group, first.source) == (
        " ".join(grant.split()), {"user_content_license"}, "cuad:A.pdf", "cuad")
    assert second.group == "cuad:B.pdf" and not first.augments


def test_a_cuad_span_mapped_to_a_claudette_type_is_an_augment_not_a_claudette_sentence(tmp_path):
    path = _write_cuad(tmp_path / "clauses.jsonl", [("A.pdf", "Governing Law", "Governed by the laws of Delaware.")])
    (span,) = training.cuad_clauses(path, {"Governing Law": ("governing_law",)})
    assert span.augments == {"governing_law"}
    assert training.label_samples("governing_law", [span], claudette_label=True).tolist() == [0]


def test_a_cuad_span_is_an_example_only_for_the_types_cuad_maps_to():
    (cuad_type,) = training.CUAD_TYPES
    licence = Example("Licensor grants a perpetual licence to the Software.", frozenset({cuad_type}), "cuad:A",
                      "cuad")
    quote = Example("We keep a copy of your data.", frozenset({"data_retention"}), "tosdr:x", "tosdr")
    assert training.label_samples(cuad_type, [licence, quote], claudette_label=False).tolist() == [0, 1]
    for other in ("warranty_disclaimer", "data_retention", "tracking"):
        assert 0 not in training.label_samples(other, [licence, quote], claudette_label=False).tolist(), other


def test_cuad_spans_count_in_no_feature_space_statistics():
    examples = [Example("You grant us a licence.", frozenset(), "claudette:c", "claudette"),
                Example("Licensor grants a licence.", frozenset({"user_content_license"}), "cuad:A", "cuad")]
    assert all("Licensor grants a licence." not in texts for texts in training.space_texts(examples))


def test_out_of_fold_figures_are_those_of_the_policies_with_the_contract_recall_beside():
    predicted = np.array([True, False, True, True, False])
    truth = np.array([1, 1, 0, 1, 1])
    contracts = np.array([False, False, False, True, True])
    scores = training.out_of_fold_by_source(predicted, truth, contracts)
    assert (scores["precision"], scores["recall"], scores["positives"], scores["examples"]) == (0.5, 0.5, 2, 3)
    assert scores["contract_recall"] == 0.5
    assert "contract_recall" not in training.out_of_fold_by_source(predicted, truth, np.zeros(5, dtype=bool))


def test_appsi_retention_sentences_about_other_countries_alone_are_not_retention(tmp_path):
    path = tmp_path / "train.jsonl"
    rows = [
        "Your information may be transferred to, and processed in, countries other than your own.",
        "We transfer data abroad and keep it for 30 days after you close your account.",
        "We delete your messages within one month.",
    ]
    path.write_text("".join(json.dumps({"text": t, "labels": ["Data Retention"]}) + "\n" for t in rows),
                    encoding="utf-8")
    abroad, kept_for, deleted = training.appsi_topics(path, "train")
    # Where data is kept is APPSI-139's "Data Retention" too; our data_retention says how long.
    assert abroad.types == frozenset()
    assert kept_for.types == deleted.types == {"data_retention"}


def test_a_privacy_type_learns_from_privacy_policies_and_terms_of_service_alone():
    examples = [Example("We collect your email address.", frozenset({"data_collection"}), "appsi:train:0", "appsi"),
                Example("You may cancel at any time.", frozenset(), "claudette:c", "claudette"),
                Example("This service collects your IP address.", frozenset({"data_collection"}), "tosdr:a", "tosdr"),
                Example("You waive your right to a class action.", frozenset({"class_action_waiver"}), "tosdr:b",
                        "tosdr"),
                Example("Licensor grants a licence.", frozenset({"user_content_license"}), "cuad:A", "cuad")]
    # ToS;DR quotes are labelled by case, not by sentence: neither positives nor negatives of a privacy type.
    assert training.label_samples("data_collection", examples, claudette_label=False).tolist() == [0, 1]
    # A type ToS;DR teaches still learns from every quote, the privacy ones as negatives.
    assert training.label_samples("class_action_waiver", examples, claudette_label=False).tolist() == [1, 2, 3]


def test_the_privacy_space_counts_privacy_policies_and_terms_of_service_alone():
    examples = [Example("We collect your email address.", frozenset({"data_collection"}), "appsi:train:0", "appsi"),
                Example("You may cancel at any time.", frozenset(), "claudette:c", "claudette"),
                Example("This service collects your IP address.", frozenset({"data_collection"}), "tosdr:a", "tosdr")]
    spaces = training.space_texts(examples)
    assert spaces[training.PRIVACY_SPACE] == ["We collect your email address.", "You may cancel at any time."]
    assert "This service collects your IP address." in spaces[0]
    assert all(training.space_of(t) == training.PRIVACY_SPACE for t in training.APPSI_TYPES)
    assert training.space_of("tracking") == 0


def test_community_guidelines_are_negatives_of_the_privacy_types_alone():
    guideline = Example("Do not share private information of others.", frozenset(), "guidelines:X",
                        training.GUIDELINES_SOURCE)
    policy = Example("We share your data with advertisers.", frozenset({"data_sharing"}), "appsi:train:0", "appsi")
    examples = [guideline, policy]
    for privacy_type in training.APPSI_TYPES:
        assert training.label_samples(privacy_type, examples, claudette_label=False).tolist() == [0, 1]
    # Unlabelled for every other type (a guideline is often prohibited content): no example of them.
    for other in ("prohibited_content", "content_removal", "tracking"):
        assert 0 not in training.label_samples(other, examples, claudette_label=False).tolist(), other
    assert 0 not in training.label_samples("unilateral_termination", examples, claudette_label=True).tolist()
    # Nor do they count in any feature space's statistics: the other types' features stay as they were.
    assert all(guideline.text not in texts for texts in training.space_texts(examples))


def test_the_guidelines_are_read_from_an_open_terms_archive_bundle(tmp_path):
    repo = tmp_path / "versions"
    (repo / "Example").mkdir(parents=True)
    (repo / "Example" / "Community Guidelines.md").write_text(
        "# Rules\n\nDo not post spam. Do not share the private information of others.\n", encoding="utf-8")
    (repo / "Example" / "Privacy Policy.md").write_text("We collect your email address.\n", encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "versions"], check=True)
    data = tmp_path / "datasets"
    (data / "ota").mkdir(parents=True)
    subprocess.run([*git, "bundle", "create", "-q", str(data / "ota" / training.GUIDELINES_BUNDLE), "--all"],
                   check=True)
    found = training.guideline_sentences(data / "ota" / training.GUIDELINES_BUNDLE)
    assert [e.text for e in found] == ["Do not post spam.", "Do not share the private information of others."]
    assert {(e.group, e.source, e.types) for e in found} == {("guidelines:Example", "guidelines", frozenset())}
    (data / "claudette" / "train").mkdir(parents=True)
    sentence = {"company": "Tinder", "index": 0, "text": "You may cancel at any time.", "labels": []}
    (data / "claudette" / "train" / "sentences.jsonl").write_text(json.dumps(sentence) + "\n", encoding="utf-8")
    sources = [e.source for e in training.training_examples(data)]
    assert sources.count("guidelines") == 2
    assert "guidelines" not in [e.source for e in training.training_examples(data, use_guidelines=False)]


def test_a_file_that_is_no_bundle_is_a_one_line_training_error(tmp_path):
    bundle = tmp_path / training.GUIDELINES_BUNDLE
    bundle.write_text("not a bundle", encoding="utf-8")
    try:
        training.guideline_sentences(bundle)
    except training.TrainingDataError as exc:
        assert str(bundle) in str(exc) and "\n" not in str(exc)
    else:
        raise AssertionError("a file that is no bundle was read")


def test_a_bundle_that_checks_out_nothing_is_a_training_error_not_an_empty_set(tmp_path):
    repo = tmp_path / "versions"
    (repo / "Example").mkdir(parents=True)
    (repo / "Example" / "Community Guidelines.md").write_text("Do not post spam here.\n", encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "versions"], check=True)
    bundle = tmp_path / training.GUIDELINES_BUNDLE
    subprocess.run([*git, "bundle", "create", "-q", str(bundle), "main"], check=True)  # no HEAD in it
    try:
        training.guideline_sentences(bundle)
    except training.TrainingDataError as exc:
        assert str(bundle) in str(exc)
    else:
        raise AssertionError("a bundle that checks out nothing gave guidelines")

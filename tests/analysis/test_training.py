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

"""`clausewatch classify`: JSON lines or plain text in, one stable JSON line per clause out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from clausewatch.cli import main

ARBITRATION = "Any dispute will be settled by binding arbitration and you waive any class action."
COOKIES = "We use cookies to remember your preferences."


def classify(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["classify", *args], input=input)


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.output.splitlines()]


def test_plain_text_lines_from_stdin_get_one_json_line_each_and_blank_lines_are_skipped():
    result = classify(input=f"{ARBITRATION}\n\n{COOKIES}\n")
    assert result.exit_code == 0, result.output
    first, second = lines(result)
    assert list(first) == ["line", "types", "severity", "confidence", "evidence", "basis", "reason"]
    assert first["line"] == 1 and second["line"] == 3
    assert {"arbitration", "class_action_waiver"} <= set(first["types"]) and first["severity"] == "high"
    # Cookies are also data collection for APPSI-139's lawyers (an inferred type), so only the phrase is checked.
    assert "tracking" in second["types"] and "cookies" in second["evidence"]


def test_json_lines_from_a_file_pass_the_id_through(tmp_path: Path):
    source = tmp_path / "clauses.jsonl"
    source.write_text(json.dumps({"id": "c-1", "text": COOKIES}) + "\n" + json.dumps({"text": ""}) + "\n")
    result = classify(str(source))
    assert result.exit_code == 0, result.output
    first, second = lines(result)
    assert first["id"] == "c-1" and "tracking" in first["types"]
    assert "id" not in second and second["types"] == [] and second["severity"] == "low"


def test_output_is_stable_from_run_to_run():
    text = f"{ARBITRATION}\n{COOKIES}\n"
    assert classify(input=text).output == classify(input=text).output


def test_a_bad_json_line_is_named_and_nothing_is_printed():
    result = classify(input=json.dumps({"text": COOKIES}) + "\n{broken\n")
    assert result.exit_code == 2
    assert "line 2: not JSON" in result.output
    assert '"types"' not in result.output


def test_a_json_line_without_text_is_named():
    result = classify(input=json.dumps({"text": COOKIES}) + "\n" + json.dumps({"body": "x"}) + "\n")
    assert result.exit_code == 2
    assert 'line 2: expected a JSON object with a string field "text"' in result.output


def test_a_missing_file_is_bad_input(tmp_path: Path):
    result = classify(str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "nope.jsonl" in result.output


def test_empty_input_prints_nothing():
    result = classify(input="")
    assert result.exit_code == 0 and result.output == ""


def test_clauses_of_a_privacy_policy_get_the_privacy_types_thresholds():
    # Scored between the two thresholds of user_rights (tests/analysis/test_classifier.py checks it is).
    rights = "To review or change the personal information you gave us, write to our support team."
    default, policy = classify(input=rights + "\n"), classify("--privacy-policy", input=rights + "\n")
    assert default.exit_code == policy.exit_code == 0, default.output + policy.output
    assert "user_rights" not in lines(default)[0]["types"]
    assert "user_rights" in lines(policy)[0]["types"]


def test_a_byte_order_mark_before_the_first_json_line_is_not_read_as_plain_text():
    # Windows editors save UTF-8 with a BOM; the first line was then read as text, the whole file as clauses.
    result = classify(input="\ufeff" + json.dumps({"id": "c-1", "text": COOKIES}) + "\n")
    assert result.exit_code == 0, result.output
    (only,) = lines(result)
    assert only["id"] == "c-1" and "tracking" in only["types"]


def test_text_that_is_not_utf8_is_named_by_file_and_line(tmp_path: Path):
    source = tmp_path / "clauses.jsonl"
    source.write_bytes(json.dumps({"text": COOKIES}).encode() + b'\n{"text": "caf\xe9"}\n')
    result = classify(str(source))
    assert result.exit_code == 2
    assert f"{source}, line 2: not UTF-8 text (byte 0xe9 at column 14" in " ".join(result.output.split())
    assert '"types"' not in result.output


def test_values_no_json_reader_takes_back_are_refused_not_echoed():
    # A lone surrogate ended in a UnicodeEncodeError traceback; NaN was echoed as an id no JSON reader reads.
    surrogate = classify(input='{"id": "\\ud800", "text": "x"}\n')
    not_a_number = classify(input='{"id": NaN, "text": "x"}\n')
    assert (surrogate.exit_code, not_a_number.exit_code) == (2, 2)
    assert "line 1: holds a lone surrogate" in surrogate.output and surrogate.exception.__class__ is SystemExit
    assert "line 1: not JSON (NaN is not JSON)" in not_a_number.output


@pytest.mark.parametrize("number", ["1e400", "-1e400"])
def test_a_number_read_as_infinity_is_refused_not_echoed_as_infinity(number):
    # It came back as "id": Infinity, which no JSON reader takes, exit 0 (probe of 2026-12-03).
    result = classify(input=f'{{"id": {number}, "text": "We may end your account."}}\n')
    assert result.exit_code == 2, result.output
    assert "line 1: holds a number too large for a JSON reader" in result.output
    assert "Infinity" not in result.output


def test_json_nested_past_what_python_reads_is_a_message_not_a_traceback():
    deep = '{"text": "x", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    result = classify(input=deep)
    assert result.exit_code == 2, result.output
    assert "line 1: not JSON this reads (nested too deeply)" in result.output


def test_a_file_with_carriage_return_line_ends_is_one_clause_a_line(tmp_path: Path):
    # Read as bytes, lines split on LF alone: a file saved with CR line ends became one clause (review of 2026-12-02).
    source = tmp_path / "clauses.txt"
    source.write_bytes(f"{ARBITRATION}\r{COOKIES}\r".encode())
    result = classify(str(source))
    assert result.exit_code == 0, result.output
    first, second = lines(result)
    assert (first["line"], second["line"]) == (1, 2)
    assert "arbitration" in first["types"] and "tracking" in second["types"]

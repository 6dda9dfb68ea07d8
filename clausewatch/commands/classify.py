"""``clausewatch classify``: classify clauses read from a file or standard input, one JSON line each."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

import click

from analysis.classifier import load_default
from analysis.domain import Classification
from clausewatch.commands._global_options import global_options

# Clauses classified per call: large enough for numpy to pay off, small enough to stream.
BATCH = 512


class ClassifyInputError(Exception):
    """An input line is not what ``classify`` reads; the message names the line."""


def read_clauses(lines: Iterable[bytes | str]) -> list[tuple[int, dict]]:
    """``(line number, record)`` for every clause of the input.

    The input is JSON lines with a ``text`` field when its first non-blank line
    starts with ``{``, plain text (one clause a line) otherwise; blank lines are
    skipped either way. Lines are read as bytes and decoded one by one, so that
    text that is not UTF-8 is named by its line; a byte-order mark is dropped.
    """
    records: list[tuple[int, dict]] = []
    json_lines: bool | None = None
    for number, line in _numbered(lines):
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        if json_lines is None:
            json_lines = line.lstrip().startswith("{")
        records.append((number, _json_record(number, line) if json_lines else {"text": line.rstrip("\r\n")}))
    return records


def _numbered(lines: Iterable[bytes | str]) -> Iterator[tuple[int, str]]:
    """Each line decoded, numbered as an editor numbers it: a lone CR ends a line too (as in text mode; bytes are
    split on LF alone, and a file with CR line ends was one clause)."""
    number = 0
    for raw in lines:
        number += 1
        first, *rest = _LONE_CR.split(_decoded(number, raw))
        yield number, first
        for part in rest:
            number += 1
            yield number, part


_LONE_CR = re.compile(r"\r(?!\n|$)")


def _decoded(number: int, raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ClassifyInputError(f"line {number}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                                 f"{exc.start + 1}: {exc.reason})") from None


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _json_record(number: int, line: str) -> dict:
    try:
        # Python reads NaN and Infinity, and would echo them back as an "id" no JSON reader takes.
        record = json.loads(line, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise ClassifyInputError(f"line {number}: not JSON ({exc.msg} at column {exc.colno})") from None
    except ValueError as exc:
        raise ClassifyInputError(f"line {number}: not JSON ({exc})") from None
    except RecursionError:
        raise ClassifyInputError(f"line {number}: not JSON this reads (nested too deeply)") from None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ClassifyInputError(f"line {number}: expected a JSON object with a string field \"text\"")
    try:
        json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError as exc:  # "\ud800": a lone surrogate escaped in JSON is no character
        raise ClassifyInputError(f"line {number}: holds a lone surrogate ({exc.object[exc.start]!a}), which is not "
                                 "a character") from None
    except ValueError:  # 1e400: Python reads it as infinity, which it would echo back as Infinity
        raise ClassifyInputError(f"line {number}: holds a number too large for a JSON reader (read as "
                                 "infinity)") from None
    return record


def output_record(number: int, record: dict, result: Classification) -> dict:
    """The stable output of one clause: its line (and id when given), then the classification."""
    out: dict = {"line": number}
    if "id" in record:
        out["id"] = record["id"]
    out.update(
        types=list(result.types),
        severity=result.severity,
        confidence=result.confidence,
        evidence=list(result.evidence),
        basis=result.basis,
        reason=result.reason,
    )
    return out


def classify_records(records: list[tuple[int, dict]], privacy_policy: bool = False) -> Iterator[dict]:
    classifier = load_default()
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        results = classifier.classify([record["text"] for _, record in batch], privacy_policy=privacy_policy)
        for (number, record), result in zip(batch, results, strict=True):
            yield output_record(number, record, result)


@click.command("classify")
@global_options
@click.option("--privacy-policy", is_flag=True,
              help="The clauses come from a privacy policy: the privacy types use their own thresholds rather than "
                   "the stricter ones that keep them off terms of service.")
@click.argument("source", type=click.File("rb"), default="-")
def command(source, privacy_policy: bool) -> None:
    """Classify clauses from SOURCE (a file, or - for standard input).

    SOURCE holds JSON lines with a "text" field (an "id" is passed through) or
    plain text, one clause a line. Prints one JSON line per clause: line, types,
    severity, confidence, evidence, basis and reason.
    """
    try:
        records = read_clauses(source)
    except ClassifyInputError as exc:
        name = getattr(source, "name", "-")
        name = "standard input" if name in ("-", "<stdin>") or not isinstance(name, str) else name
        raise click.BadParameter(f"{name}, {exc}", param_hint="SOURCE") from None
    for out in classify_records(records, privacy_policy):
        click.echo(json.dumps(out, ensure_ascii=False))

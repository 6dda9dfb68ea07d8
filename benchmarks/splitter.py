"""How well the clause splitter keeps labelled provisions whole, and how long its clauses are.

Reads the CLAUDETTE documents (``../shared/datasets/claudette/*/documents/*.xml``,
or ``CLAUSEWATCH_SHARED``): each is plain text with inline tags such as
``<ltd2>…</ltd2>`` around the sentences experts labelled. The tags are stripped,
the text is normalised and split, and every labelled span is checked: is it
inside one clause, or cut across two? Also splits the Kling seed documents and,
when ``datasets/ota/pga-versions.bundle`` is there, the latest Markdown version
of each of its documents (clause counts, lengths, how much text lands in clauses).

Prints one JSON object:

    .venv/bin/python benchmarks/splitter.py
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.splitter import ClauseSpan, split_clauses, split_spans  # noqa: E402
from analysis.text import normalize_text  # noqa: E402

SHARED = Path(os.environ.get("CLAUSEWATCH_SHARED", Path(__file__).resolve().parent.parent.parent / "shared"))
_TAG = re.compile(r"<(/?)([a-z]+[123])>")


def strip_tags(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """The text without its tags, and the (start, end) of every tagged span in it.

    CLAUDETTE tags may close out of order (``<a><b>…</a></b>``), so each tag
    name keeps its own stack.
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    open_at: dict[str, list[int]] = {}
    length = last = 0
    for match in _TAG.finditer(marked):
        parts.append(marked[last:match.start()])
        length += match.start() - last
        last = match.end()
        closing, name = match.groups()
        if not closing:
            open_at.setdefault(name, []).append(length)
        elif open_at.get(name):
            spans.append((open_at[name].pop(), length))
    parts.append(marked[last:])
    return "".join(parts), sorted(set(spans))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def span_fate(text: str, span: tuple[int, int], clauses: list[ClauseSpan]) -> str:
    """``whole`` inside one clause, ``cut`` across clauses, ``outside`` in no clause (a heading)."""
    start, end = _trim(text, *span)
    touched = [c for c in clauses if c.start < end and start < c.end]
    if not touched:
        return "outside"
    if any(c.start <= start and end <= c.end for c in touched):
        return "whole"
    return "cut"


def measure_claudette(folder: Path) -> dict:
    fates = {"whole": 0, "cut": 0, "outside": 0}
    multi_paragraph = 0
    lengths: list[int] = []
    documents = sorted(folder.glob("*/documents/*.xml"))
    started = time.process_time()
    for path in documents:
        text, spans = strip_tags(normalize_text(path.read_text(encoding="utf-8")))
        clauses = split_spans(text)
        lengths.extend(c.end - c.start for c in clauses)
        for span in spans:
            fate = span_fate(text, span, clauses)
            fates[fate] += 1
            multi_paragraph += fate == "cut" and "\n" in text[span[0]:span[1]].strip()
    cpu = time.process_time() - started
    total = sum(fates.values())
    return {
        "documents": len(documents),
        "tagged_spans": total,
        "spans_whole": fates["whole"],
        "spans_cut": fates["cut"],
        "spans_cut_share": round(fates["cut"] / total, 4) if total else None,
        "spans_cut_that_cross_a_line_break": multi_paragraph,
        "spans_outside_clauses": fates["outside"],
        "clauses": len(lengths),
        "clause_chars": _distribution(lengths),
        "cpu_seconds": round(cpu, 3),
    }


def _distribution(lengths: list[int]) -> dict:
    if not lengths:
        return {}
    ordered = sorted(lengths)
    deciles = statistics.quantiles(ordered, n=10)
    return {
        "min": ordered[0],
        "p10": round(deciles[0]),
        "median": round(statistics.median(ordered)),
        "p90": round(deciles[-1]),
        "max": ordered[-1],
        "mean": round(statistics.fmean(ordered)),
        "share_under_80": round(sum(n < 80 for n in ordered) / len(ordered), 4),
        "share_over_2000": round(sum(n > 2000 for n in ordered) / len(ordered), 4),
    }


def measure_seeds(folder: Path) -> dict:
    figures = {}
    for prefix in ("002", "004"):
        for path in sorted(folder.glob(f"{prefix}_*.txt")):
            clauses = split_clauses(normalize_text(path.read_text(encoding="utf-8")))
            figures[path.name] = {
                "clauses": len(clauses),
                "with_heading_path": sum(1 for c in clauses if c.heading_path),
                "clause_chars": _distribution([len(c.text) for c in clauses]),
            }
    return figures


def measure_markdown_corpus(bundle: Path) -> dict:
    """The latest Markdown version of every Open Terms Archive document in ``bundle`` (git clone of it)."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["git", "clone", "--quiet", str(bundle), folder], check=True)
        paths = sorted(Path(folder).glob("*/*.md"))
        texts = [normalize_text(p.read_text(encoding="utf-8")) for p in paths]
    started = time.process_time()
    spans = [split_spans(text) for text in texts]
    cpu = time.process_time() - started
    lengths = [s.end - s.start for doc in spans for s in doc]
    covered = sum(_visible(text[s.start:s.end]) for text, doc in zip(texts, spans) for s in doc)
    return {
        "documents": len(texts),
        "clauses": len(lengths),
        "with_heading_path": sum(1 for doc in spans for s in doc if s.heading_path),
        "share_of_visible_text_in_clauses": round(covered / sum(_visible(t) for t in texts), 4),
        "clause_chars": _distribution(lengths),
        "cpu_seconds": round(cpu, 3),
    }


def _visible(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def main() -> None:
    claudette = SHARED / "datasets" / "claudette"
    if not claudette.is_dir():
        sys.exit(f"needs the CLAUDETTE documents at {claudette} (set CLAUSEWATCH_SHARED)")
    figures = {"claudette": measure_claudette(claudette), "seeds": measure_seeds(SHARED / "reference" / "seeds")}
    bundle = SHARED / "datasets" / "ota" / "pga-versions.bundle"
    if bundle.is_file():
        figures["ota_pga_latest_versions"] = measure_markdown_corpus(bundle)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

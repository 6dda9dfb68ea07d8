"""Change benchmark: every consecutive pair of real policy versions through ``build_change``.

Reads Open Terms Archive's ``pga-versions.bundle`` (4,857 Markdown versions of
133 documents of 25 platforms, 2022–2026), cloned into a temporary folder.
Each document's versions are replayed in commit order: the new text is split
and classified with the real pipeline (``analysis.pipeline.Analyzer``), then
``analysis.alignment.build_change`` aligns it with the previous version.

Prints one JSON object:

- ``build_change_seconds``: median, p99 and worst time per pair of the change
  step alone (alignment, diff, cosmetic judgement); ``classify_seconds`` the
  same for splitting + classifying the new text, for scale;
- ``cosmetic_share`` overall, and split by what Open Terms Archive called the
  commit: ``record`` ("Record new changes" / legacy "Update") versus
  ``technical`` ("Apply technical or declaration upgrade" / "Refilter"),
  which are extractor changes and should mostly come out cosmetic;
- ``clause_change_kinds``: how many added/removed/modified/moved in total;
- ``samples``: ``--samples`` substantive changes drawn with a fixed seed, each
  with its clause change list (texts shortened), to be read by a person.

    .venv/bin/python benchmarks/change_detection.py [--bundle PATH] [--jobs 2] [--documents N] [--pairs-per-document N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.alignment import build_change  # noqa: E402
from analysis.domain import StoredVersion, Version  # noqa: E402
from analysis.pipeline import Analyzer  # noqa: E402
from analysis.text import normalize_text, sha256_text  # noqa: E402

DEFAULT_BUNDLE = ROOT.parent / "shared/datasets/ota/pga-versions.bundle"
SEED = 20260301
_TECHNICAL = ("Apply technical", "Refilter")


def clone(bundle: Path) -> Path:
    if not bundle.is_file():
        sys.exit(f"benchmarks/change_detection.py needs {bundle} (../shared/datasets/ota/pga-versions.bundle)")
    target = Path(tempfile.mkdtemp(prefix="cw-pga-")) / "pga"
    subprocess.run(["git", "clone", "-q", str(bundle), str(target)], check=True)
    return target


def histories(repo: Path) -> dict[str, list[tuple[str, str]]]:
    """``path → [(commit, subject)]`` oldest first, for every Markdown document of the repository."""
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--reverse", "--format=%x00%H%x09%s", "--name-only", "--no-renames"],
        check=True, capture_output=True, text=True,
    ).stdout
    result: dict[str, list[tuple[str, str]]] = {}
    for entry in log.split("\x00")[1:]:
        header, *paths = entry.strip("\n").split("\n")
        commit, subject = header.split("\t", 1)
        for path in filter(None, paths):
            if path.endswith(".md") and "/" in path:
                result.setdefault(path, []).append((commit, subject))
    return result


def read_blobs(repo: Path, specs: list[str]) -> list[str | None]:
    """Contents of ``commit:path`` specs in one ``git cat-file --batch`` (None for a deleted file)."""
    process = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch"], input="\n".join(specs).encode() + b"\n",
                             capture_output=True, check=True)
    out, position, texts = process.stdout, 0, []
    for _ in specs:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        if header[-1] == b"missing":
            texts.append(None)
            position = end + 1
            continue
        size = int(header[2])
        texts.append(out[end + 1:end + 1 + size].decode("utf-8", "replace"))
        position = end + 1 + size + 1
    return texts


def replay(job: tuple[str, str, list[tuple[str, str]]]) -> list[dict]:
    """Every consecutive pair of one document; one dict of figures per pair."""
    repo, path, commits = job
    analyzer = Analyzer()
    texts = read_blobs(Path(repo), [f"{commit}:{path}" for commit, _ in commits])
    pairs, previous = [], None
    for (commit, subject), raw in zip(commits, texts, strict=True):
        if raw is None:
            continue
        text = normalize_text(raw)
        if previous is not None and previous.version.sha256 == sha256_text(text):
            continue
        started = time.perf_counter()
        clauses = analyzer.classify_text(text)
        classified = time.perf_counter()
        aligned, change = build_change(previous, text, sha256_text(text), clauses)
        finished = time.perf_counter()
        if change is not None:
            pairs.append(_figures(path, commit, subject, change, classified - started, finished - classified,
                                  len(text.split())))
        previous = StoredVersion(Version(sha256_text(text), path, None, None), text, aligned)  # type: ignore[arg-type]
    return pairs


def _figures(path, commit, subject, change, classify_seconds, change_seconds, words) -> dict:
    return {
        "document": path.removesuffix(".md"), "commit": commit[:12], "subject": subject, "words": words,
        "classify_seconds": classify_seconds, "change_seconds": change_seconds,
        "technical": subject.startswith(_TECHNICAL), "substantive": change.substantive,
        "cosmetic_reason": change.cosmetic_reason, "severity_raised": change.severity_raised,
        "clause_changes": [
            {"kind": c.kind, "heading": " › ".join(c.heading_path), "similarity": c.similarity,
             "severity": [c.severity_before, c.severity_after],
             "before": _short(c.before), "after": _short(c.after)}
            for c in change.clause_changes
        ],
    }


def _short(text: str | None, limit: int = 160) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _timing(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 4),
        "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 4),
        "worst": round(ordered[-1], 4),
        "total": round(sum(ordered), 1),
    }


def _share(pairs: list[dict]) -> float | None:
    return round(sum(not p["substantive"] for p in pairs) / len(pairs), 3) if pairs else None


def summary(pairs: list[dict], documents: int, samples: int, seconds: float, pairs_per_document: int) -> dict:
    substantive = [p for p in pairs if p["substantive"]]
    worst = max(pairs, key=lambda p: p["change_seconds"])
    chosen = random.Random(SEED).sample(substantive, min(samples, len(substantive)))
    return {
        "documents": documents,
        "pairs_per_document": pairs_per_document or "all",
        "pairs": len(pairs),
        "wall_seconds": round(seconds, 1),
        "build_change_seconds": _timing([p["change_seconds"] for p in pairs]),
        "worst_pair": {k: worst[k] for k in ("document", "commit", "words")},
        "classify_seconds": _timing([p["classify_seconds"] for p in pairs]),
        "cosmetic_share": _share(pairs),
        "cosmetic_share_record": _share([p for p in pairs if not p["technical"]]),
        "cosmetic_share_technical": _share([p for p in pairs if p["technical"]]),
        "cosmetic_reasons": Counter(p["cosmetic_reason"] for p in pairs if not p["substantive"]).most_common(8),
        "severity_raised_share": round(sum(p["severity_raised"] for p in pairs) / len(pairs), 3) if pairs else None,
        "clause_change_kinds": Counter(c["kind"] for p in pairs for c in p["clause_changes"]),
        "samples": [
            {k: p[k] for k in ("document", "commit", "subject", "severity_raised", "clause_changes")} for p in chosen
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    parser.add_argument("--repo", type=Path, help="An existing clone of the bundle (skips cloning).")
    parser.add_argument("--jobs", type=int, default=2, help="Worker processes (documents run in parallel).")
    parser.add_argument("--documents", type=int, default=0, help="Only the first N documents by path (0: all).")
    parser.add_argument("--pairs-per-document", type=int, default=0,
                        help="Only each document's latest N+1 versions (0: its whole history).")
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    repo = args.repo or clone(args.bundle)
    documents = sorted(histories(repo).items())
    if args.documents:
        documents = documents[: args.documents]
    started = time.perf_counter()
    keep = args.pairs_per_document + 1 if args.pairs_per_document else 0
    jobs = [(str(repo), path, commits[-keep:]) for path, commits in documents]
    # Longest histories first, so the slowest document does not start last.
    jobs.sort(key=lambda job: -len(job[2]))
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        pairs = [pair for result in pool.map(replay, jobs) for pair in result]
    print(json.dumps(summary(pairs, len(documents), args.samples, time.perf_counter() - started, args.pairs_per_document), indent=1,
                     ensure_ascii=False))


if __name__ == "__main__":
    main()

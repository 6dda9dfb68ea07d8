"""Facts that moved in real rewordings: how often, which kinds, and a sample to read by hand.

Replays consecutive versions of the documents of ``../shared/datasets/ota/pga-versions.bundle``
(the same Markdown Open Terms Archive recorded) through the real analyser (splitter, classifier,
language, alignment, facts) and counts the facts named in ``modified`` clause changes. ``--pairs``
bounds how many consecutive pairs are replayed (spread over all documents, newest first).

    nice .venv/bin/python benchmarks/fact_changes.py --pairs 300

Prints one JSON object: pairs replayed, modified clauses, facts by kind and direction, CPU seconds,
and ``sample``: every named fact but the 21st and later of "data named", with its clause heading, to
check by reading.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.domain import StoredVersion, Version  # noqa: E402
from analysis.pipeline import Analyzer  # noqa: E402
from analysis.text import normalize_text, sha256_text  # noqa: E402

SHARED = Path(os.environ.get("CLAUSEWATCH_SHARED", Path(__file__).resolve().parent.parent.parent / "shared"))


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True).stdout


def version_pairs(limit: int) -> list[tuple[str, str, str]]:
    """``(path, older text, newer text)`` for up to ``limit`` consecutive versions, round-robin over documents."""
    bundle = SHARED / "datasets" / "ota" / "pga-versions.bundle"
    if not bundle.exists():
        raise SystemExit(f"missing {bundle}: this benchmark needs ../shared/datasets")
    folder = Path(tempfile.mkdtemp(prefix="pga-"))
    subprocess.run(["git", "clone", "-q", str(bundle), str(folder)], check=True)
    history = {}
    for path in sorted(str(p.relative_to(folder)) for p in folder.glob("*/*.md")):
        commits = _git(folder, "log", "--format=%H", "--", path).split()
        history[path] = list(zip(commits[1:], commits))  # (older, newer), newest first
    pairs: list[tuple[str, str, str]] = []
    depth = 0
    while len(pairs) < limit and any(depth < len(h) for h in history.values()):
        for path, commits in history.items():
            if depth < len(commits) and len(pairs) < limit:
                older, newer = commits[depth]
                pairs.append((path, _git(folder, "show", f"{older}:{path}"), _git(folder, "show", f"{newer}:{path}")))
        depth += 1
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=300)
    args = parser.parse_args()
    pairs = version_pairs(args.pairs)
    analyzer = Analyzer()
    kinds: Counter[str] = Counter()
    directions: Counter[str] = Counter()
    modified = raised_by_facts = 0
    sample = []
    started = time.process_time()
    for path, older, newer in pairs:
        old_text, new_text = normalize_text(older), normalize_text(newer)
        first = analyzer(None, old_text)
        previous = StoredVersion(Version(sha256_text(old_text), path, None, None), old_text, first.clauses)  # type: ignore[arg-type]
        change = analyzer(previous, new_text).change
        for clause in change.clause_changes if change else ():
            if clause.kind != "modified":
                continue
            modified += 1
            raised_by_facts += any(f.against_user for f in clause.facts)
            for fact in clause.facts:
                kinds[fact.fact] += 1
                directions[{True: "against_user", False: "for_user", None: "no_direction"}[fact.against_user]] += 1
                # Every fact of the rarer kinds, and the first 20 of "data named", which dominates.
                if fact.fact != "data_categories" or kinds["data_categories"] <= 20:
                    sample.append({"document": path, "heading": " › ".join(clause.heading_path)[:80],
                                   "fact": fact.summary[:200], "against_user": fact.against_user})
    print(json.dumps({
        "pairs": len(pairs), "modified_clauses": modified, "facts": sum(kinds.values()),
        "modified_clauses_raised_by_a_fact": raised_by_facts, "by_kind": dict(kinds.most_common()),
        "by_direction": dict(directions), "cpu_seconds": round(time.process_time() - started, 1), "sample": sample,
    }, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

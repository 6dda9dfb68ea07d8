"""Do two source trees label clauses identically? Records or compares every classification field.

Clauses: every clause of the seed policies (``../shared/reference/seeds``) and of the latest
version of every English document of ``../shared/datasets/ota/pga-versions.bundle`` (real texts), split
as the pipeline splits them; the bundle's privacy policies (by their file name, the document type) are
classified as the pipeline classifies a privacy policy's clauses. For each: types, severity, confidence,
evidence, basis and reason.

    .venv/bin/python benchmarks/classifier_identity.py --source /tmp/base --out /tmp/before.json
    .venv/bin/python benchmarks/classifier_identity.py --out /tmp/after.json --compare /tmp/before.json
    .venv/bin/python benchmarks/classifier_identity.py --seeds-only --out tests/fixtures/classifier/seed_labels.json

``--source`` is a checkout to import ``analysis`` from (default: this one); ``--compare`` prints how
many clauses differ and the first differences, and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CLAUSEWATCH_SHARED", ROOT.parent / "shared"))
GERMAN = {"Telegram/Terms of Service.md", "Telegram/Privacy Policy.md"}


def policy_texts(seeds_only: bool = False) -> list[tuple[str, str]]:
    if not (SHARED / "reference" / "seeds").is_dir():
        sys.exit(f"needs the shared data at {SHARED} (set CLAUSEWATCH_SHARED)")
    texts = [(f"seed:{p.name}", p.read_text(encoding="utf-8"))
             for p in sorted((SHARED / "reference" / "seeds").glob("*.txt"))]
    if seeds_only:
        return texts
    with tempfile.TemporaryDirectory(prefix="identity-") as clone:
        folder = Path(clone)
        subprocess.run(["git", "clone", "-q", str(SHARED / "datasets" / "ota" / "pga-versions.bundle"), str(folder)],
                       check=True)
        texts += [(f"pga:{p.relative_to(folder)}", p.read_text(encoding="utf-8"))
                  for p in sorted(folder.glob("*/*.md")) if str(p.relative_to(folder)) not in GERMAN]
    return texts


def record(source: Path, seeds_only: bool = False) -> dict:
    sys.path.insert(0, str(source))
    from analysis.classifier import load_default
    from analysis.pipeline import PRIVACY_POLICY_TYPES
    from analysis.splitter import split_clauses
    from analysis.text import normalize_text

    model = load_default()
    out = {"analyzer": model.analyzer_id, "clauses": {}}
    for name, text in policy_texts(seeds_only):
        clauses = [c.text for c in split_clauses(normalize_text(text))]
        privacy_policy = name.startswith("pga:") and Path(name).stem in PRIVACY_POLICY_TYPES
        labels = model.classify(clauses, privacy_policy=privacy_policy)
        for number, (clause, label) in enumerate(zip(clauses, labels, strict=True)):
            out["clauses"][f"{name}#{number}"] = {"text": clause[:80], **asdict(label)}
    return out


def compare(before: dict, after: dict) -> list[str]:
    keys = sorted(set(before["clauses"]) | set(after["clauses"]))
    return [f"{key}: {before['clauses'].get(key)} → {after['clauses'].get(key)}" for key in keys
            if before["clauses"].get(key) != after["clauses"].get(key)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compare", type=Path, help="a file an earlier run wrote")
    parser.add_argument("--seeds-only", action="store_true",
                        help="only the seed policies (what tests/fixtures/classifier/seed_labels.json holds)")
    args = parser.parse_args()
    result = record(args.source.resolve(), args.seeds_only)
    lines = ",\n".join(f" {json.dumps(key)}: {json.dumps(label, ensure_ascii=False)}"
                        for key, label in result["clauses"].items())
    args.out.write_text(f'{{"analyzer": "{result["analyzer"]}", "clauses": {{\n{lines}\n}}}}\n', encoding="utf-8")
    print(f"{len(result['clauses'])} clauses, analyzer {result['analyzer']} → {args.out}")
    if args.compare:
        before = json.loads(args.compare.read_text(encoding="utf-8"))
        differ = compare(before, json.loads(json.dumps(result)))  # tuples as the file has them: lists
        print(f"identical: {len(result['clauses']) - len(differ)} of {len(result['clauses'])}; differ: {len(differ)}")
        print("\n".join(differ[:20]))
        sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

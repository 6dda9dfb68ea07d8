"""Does language detection on a bounded sample name the same language as on the whole text? And what does each cost?

Texts (real policies only): versions of every document of Open Terms Archive's bundles
(``../shared/datasets/ota/{pga,demo}-versions.bundle``: up to ``--versions`` per document, spread over
its history; ``--versions 0`` takes every distinct version), the seed policies
(``../shared/reference/seeds``) and the French and German fixtures (``tests/fixtures/languages``), each
through ``normalize_text`` as the pipeline sees it.

For each sample size (slices × characters per slice) it prints the agreement with the whole-text
answer, every disagreement (text, whole-text and sampled language), and CPU ms per text.

    nice .venv/bin/python benchmarks/language_sample.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import language  # noqa: E402
from analysis.text import normalize_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CLAUSEWATCH_SHARED", ROOT.parent / "shared"))
SIZES = ((1, 1_000), (1, 3_000), (1, 6_000), (2, 3_000), (3, 500), (3, 1_000), (3, 2_000), (3, 4_000))


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True).stdout


def bundle_texts(bundle: Path, per_document: int) -> list[tuple[str, str]]:
    """``(name, text)`` for up to ``per_document`` distinct versions of each document of a bundle (0: all)."""
    with tempfile.TemporaryDirectory(prefix="lang-sample-") as clone:
        folder = Path(clone)
        subprocess.run(["git", "clone", "-q", str(bundle), str(folder)], check=True)
        texts = []
        for path in sorted(_git(folder, "ls-tree", "-r", "--name-only", "HEAD").splitlines()):
            raw = _git(folder, "log", "--format=", "--raw", "--no-abbrev", "--", path).splitlines()
            blobs = list(dict.fromkeys(line.split("\t")[0].split()[3] for line in raw if line.startswith(":")))
            blobs = [b for b in blobs if set(b) != {"0"}]
            if per_document and len(blobs) > per_document:
                blobs = [blobs[round(k * (len(blobs) - 1) / (per_document - 1))] for k in range(per_document)] \
                    if per_document > 1 else blobs[:1]
            texts.extend((f"{bundle.stem}:{path}@{b[:8]}", _git(folder, "cat-file", "blob", b)) for b in blobs)
    return texts


def all_texts(per_document: int) -> list[tuple[str, str]]:
    ota = SHARED / "datasets" / "ota"
    if not (ota / "pga-versions.bundle").is_file():
        sys.exit(f"needs the Open Terms Archive bundles in {ota} (set CLAUSEWATCH_SHARED)")
    texts = [t for name in ("pga", "demo") for t in bundle_texts(ota / f"{name}-versions.bundle", per_document)]
    texts += [(f"seed:{p.name}", p.read_text(encoding="utf-8")) for p in sorted((SHARED / "reference" / "seeds").glob("*.txt"))]
    texts += [(f"fixture:{p.name}", p.read_text(encoding="utf-8"))
              for p in sorted((ROOT / "tests" / "fixtures" / "languages").glob("*.md"))]
    return [(name, normalize_text(text)) for name, text in texts]


def detect_with(text: str, slices: int, chars: int) -> str:
    return language.language_of_all(language.bounded_sample(text, slices, chars))


def timed(detect, texts: list[tuple[str, str]]) -> tuple[list[str], float]:
    started = time.process_time()
    found = [detect(text) for _, text in texts]
    return found, (time.process_time() - started) / len(texts) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--versions", type=int, default=4, help="versions per OTA document (0: every version)")
    args = parser.parse_args()
    texts = all_texts(args.versions)
    language.detect_language("Warm-up text for the detector, loaded once.")
    whole, whole_ms = timed(language.language_of_all, texts)
    result = {"texts": len(texts), "mean_kb": round(sum(len(t) for _, t in texts) / len(texts) / 1024, 1),
              "languages_whole_text": {code: whole.count(code) for code in sorted(set(whole))},
              "whole_text_cpu_ms": round(whole_ms, 2), "samples": {}}
    for slices, chars in SIZES:
        found, ms = timed(lambda t, s=slices, c=chars: detect_with(t, s, c), texts)
        differ = [f"{name}: {w} → {f}" for (name, _), w, f in zip(texts, whole, found, strict=True) if w != f]
        result["samples"][f"{slices}x{chars}"] = {"agreement": round(1 - len(differ) / len(texts), 4),
                                                  "cpu_ms": round(ms, 2), "disagreements": differ}
    result["shipped"] = f"{language.SLICES}x{language.SLICE_CHARS}"
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

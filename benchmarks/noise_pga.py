"""Noise replay over real version histories: how many of Open Terms Archive's versions are noise.

``datasets/ota/pga-versions.bundle`` holds the Markdown **versions** Open Terms
Archive recorded for 133 documents of 25 platforms (2022–2026), not the
snapshots they came from, so the extractor cannot be replayed. What can be
replayed is the normalisation of link targets and text that decides when a
version is made: each consecutive pair of recorded versions of a document is
normalised the way clausewatch normalises an extracted text, and classified:

- ``word``: the words differ (a version for clausewatch too);
- ``links``, ``markup``, ``whitespace_punctuation``: only link targets, markup
  or punctuation differ (a cosmetic version for clausewatch, never alerted);
- ``folded``: equal once per-visit tokens are dropped from link targets and
  masked in the text (decision 0016): clausewatch records no version;
- ``images``: only images differ (our extractor never keeps them);
- ``tracking``: equal once tracking parameters are dropped, which the extractor
  already did before 0016 (the baseline, measured in the same run);
- ``volatile_only``: differ only in numbers, dates or link parameter values
  (``analysis.volatile.volatile_difference``): the watch holds such a fetch and
  records it when the next fetch serves it again, so with versions (not
  fetches) it is counted as recorded, and listed so a reader can judge.

Images are left out before comparing (``![alt](src)``): our extractor drops
``img`` elements, while Open Terms Archive keeps them, with signed CDN URLs
that change on every load. Commits Open Terms Archive marks as technical (``Apply technical or
declaration upgrade``, ``Refilter``) are not counted as versions. Prints one
JSON object::

    .venv/bin/python benchmarks/noise_pga.py --workdir /tmp/noise
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.text import normalize_text  # noqa: E402
from analysis.volatile import VolatileRules, mask_volatile_text, volatile_difference  # noqa: E402
from crawler.extract import clean_url  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from noise import BlobReader, clone, cosmetic_kind, skeleton  # noqa: E402

BUNDLE = ROOT.parent / "shared" / "datasets" / "ota" / "pga-versions.bundle"
_TECHNICAL = re.compile(r"^(?:Apply technical or declaration upgrade on|Refilter) ")
_VERSION = re.compile(r"^(?:First record of|Start tracking|Record new changes of|Update) (?!README|readme)")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)\s]*\)")
_TARGET = re.compile(r"(\]\()(https?://[^)\s]+)(\))|(<)(https?://[^>\s]+)(>)")
_OURS, _BASELINE = VolatileRules(), VolatileRules(shapes=False)


def normalise(text: str, rules: VolatileRules) -> str:
    """An Open Terms Archive version as clausewatch would key it: link targets cleaned, tokens masked."""
    def target(match: re.Match[str]) -> str:
        opening, url, closing = (match.group(1, 2, 3) if match.group(2) else match.group(4, 5, 6))
        return f"{opening}{clean_url(url, url, rules) or url}{closing}"
    return normalize_text(mask_volatile_text(normalize_text(_TARGET.sub(target, _IMAGE.sub("", text))), rules))


def histories(repo: Path) -> dict[str, list[tuple[str, str, bool]]]:
    """Per document path: (commit, subject, technical) of every commit touching it, oldest first."""
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--all", "--reverse", "--date-order", "--format=%x00%H%n%s", "--name-only"],
        check=True, capture_output=True, text=True,
    ).stdout
    found: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for entry in log.split("\0")[1:]:
        commit, subject, *paths = [line for line in entry.split("\n") if line]
        technical = bool(_TECHNICAL.match(subject))
        if not (technical or _VERSION.match(subject)):
            continue
        for path in paths:
            if path.endswith(".md") and "/" in path:
                found[path].append((commit, subject, technical))
    return found


def classify(previous: str, text: str) -> str:
    """How clausewatch would see the change from ``previous`` to ``text`` (both OTA versions)."""
    if _IMAGE.sub("", previous) == _IMAGE.sub("", text):
        return "images"
    if normalise(previous, _BASELINE) == normalise(text, _BASELINE):
        return "tracking"
    ours_before, ours_after = normalise(previous, _OURS), normalise(text, _OURS)
    if ours_before == ours_after:
        return "folded"
    if volatile_difference(ours_before, ours_after):
        return "volatile_only"
    if skeleton(ours_before) == skeleton(ours_after):
        return cosmetic_kind(ours_before, ours_after)
    return "word"


def replay(repo: Path) -> dict:
    reader = BlobReader(repo)
    rows, examples = [], defaultdict(list)
    for path, commits in sorted(histories(repo).items()):
        kinds: Counter = Counter()
        previous = None
        for commit, _subject, technical in commits:
            text = reader.read(f"{commit}:{path}").decode("utf-8", errors="replace")
            if not technical and previous is not None:
                kind = classify(previous, text)
                kinds[kind] += 1
                if len(examples[kind]) < 5 and kind in ("folded", "volatile_only", "tracking", "images"):
                    examples[kind].append(f"{path}@{commit[:12]}")
            previous = text
        ota = sum(not technical for _c, _s, technical in commits)
        rows.append({"document": path.removesuffix(".md"), "ota": ota, **kinds,
                     "ours": ota - kinds["folded"] - kinds["tracking"] - kinds["images"]})
    reader.close()
    keys = ("ota", "ours", "word", "links", "markup", "whitespace_punctuation", "volatile_only", "folded", "tracking",
            "images")
    totals = {key: sum(row.get(key, 0) for row in rows) for key in keys}
    totals["documents_with_folded_versions"] = {r["document"]: r["folded"] for r in rows if r.get("folded")}
    return {"benchmark": "noise_pga", "documents": rows, "totals": totals, "examples": dict(examples)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="where to clone the bundle (default: a temporary folder)")
    options = parser.parse_args(argv)
    if not BUNDLE.exists():
        print(json.dumps({"benchmark": "noise_pga", "error": f"missing {BUNDLE}"}))
        return 1
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="clausewatch-pga-") as scratch:
        figures = replay(clone(BUNDLE, (options.workdir or Path(scratch)) / "pga"))
    figures["seconds"] = round(time.perf_counter() - started, 1)
    figures["cpu_seconds"] = round(time.process_time() - cpu, 1)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

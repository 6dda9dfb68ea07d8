"""Language detectors on ToS;DR's quotes: thousands of short real policy excerpts, most English, some not.

``../shared/datasets/tosdr/points.jsonl`` has no language field, so each distinct quote of 40 characters or more is
labelled by the detectors themselves: the answer at least two of the four voters (py3langid, cld3-py, pycld2,
langdetect-rs, each given what clausewatch gives its detector) agree on, ahead of any other; quotes without one
(language menus, addresses) are left out, as are the few read by hand below. Where one detector
disagrees with the others the quote is printed, to be read. Figures per detector: English quotes not called English
(they lose their analysis) and non-English quotes called English (the harmful error: they would get English types).

    PYTHONPATH=<folder with py3langid, pycld2 and langdetect-rs> nice .venv/bin/python benchmarks/language_quotes.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import language as bench  # noqa: E402  (benchmarks/language.py)

VOTERS = ("py3langid", "cld3-py (CLD3)", "pycld2 (CLD2)", "langdetect-rs (seed 0)")
# Quotes the voters split on or got wrong together, read by hand (None: no one language).
READ_BY_HAND = {
    "incites violence.": "en",
    "e die u ons hebt": "nl",
    "telefoons of door": "nl",
    "Controller<br>": None,  # an Austrian company's name and address
    "Eugen Rochko": None,  # a postal address
}


def quotes() -> list[str]:
    path = bench.SHARED / "datasets" / "tosdr" / "points.jsonl"
    found = (json.loads(line).get("quote") or "" for line in path.read_text(encoding="utf-8").splitlines())
    return list(dict.fromkeys(q.strip() for q in found if len(q.strip()) >= 40))


def label(quote: str, answers: dict[str, str]) -> str | None:
    for start, language in READ_BY_HAND.items():
        if quote.startswith(start):
            return language
    ranked = Counter(answers[v] for v in VOTERS).most_common()
    unique_best = len(ranked) == 1 or ranked[1][1] < ranked[0][1]
    return ranked[0][0] if ranked[0][1] >= 2 and unique_best and ranked[0][0] != "und" else None


def main() -> None:
    candidates = bench._candidates()
    detectors = {bench.CLAUSEWATCH: bench.language.detect_language}
    detectors |= {name: bench.as_clausewatch_reads(candidates[name][0]()) for name in VOTERS}
    texts = quotes()
    answers = [{name: detect(q) for name, detect in detectors.items()} for q in texts]
    labels = [label(q, a) for q, a in zip(texts, answers, strict=True)]
    english = [a for a, lab in zip(answers, labels, strict=True) if lab == "en"]
    foreign = [(q, a) for q, a, lab in zip(texts, answers, labels, strict=True) if lab not in (None, "en")]
    result: dict = {"quotes": len(texts), "english": len(english), "non_english": len(foreign),
                    "left_out": labels.count(None), "detectors": {}, "disagreements": []}
    for name in detectors:
        result["detectors"][name] = {
            "english_not_called_english": sum(a[name] != "en" for a in english),
            "english_called": dict(Counter(a[name] for a in english if a[name] != "en").most_common(8)),
            "non_english_called_english": [q[:80] for q, a in foreign if a[name] == "en"],
        }
    result["disagreements"] = [{"quote": q[:120], "label": lab, **a}
                               for q, a, lab in zip(texts, answers, labels, strict=True) if len(set(a.values())) > 1]
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

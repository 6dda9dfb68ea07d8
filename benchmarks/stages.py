"""Where a document's CPU goes, stage by stage, without the crawler. Prints one JSON object.

The pages of benchmarks/pipeline.py (CLAUDETTE policies in page furniture) go
through the crawl's recorder in one thread, as the crawl's pipeline records them (a batch at a time
through ``Recorder.record_identical_batch``, then each page it left through ``Recorder.record``:
extraction, then ``store.recording``) on SQLite with the in-process ``Analyzer``, whose
classifier is timed on its own (it belongs to the classifier's benchmark,
benchmarks/classify.py). A first pass records every page; a second pass
records the same bytes again (unchanged: since the eighth pass of decision 0014
they are recognised by their extraction key and not extracted; since the ninth, recorded in
batches), a third records them edited
(``edited_text``: a paragraph dropped, a word and a duration changed, one
added), so the analysis aligns every clause with the previous version's and
lists the changes. Figures are CPU milliseconds per
document (``time.process_time``); building the analyser (its classifier and language detector, once per
process) is timed apart, and the first run's total is also given with it spread over the documents; what the
crawl adds on top (Scrapy, threads,
start-up) is the difference with benchmarks/pipeline.py.

    nice -n 10 .venv/bin/python benchmarks/stages.py --n 100
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The pipeline benchmark's pages, and how its crawl records them.
from pipeline import claudette_pages, edited_text, page_html, record_in_batches  # noqa: E402


class TimedModel:
    """The analyser's classifier, with the CPU seconds its ``classify`` takes added to ``spent``."""

    def __init__(self, model, spent: Counter):
        self._model = model
        self._spent = spent

    def classify(self, texts, privacy_policy=False):
        start = time.process_time()
        try:
            return self._model.classify(texts, privacy_policy)
        finally:
            self._spent["classify"] += time.process_time() - start

    def __getattr__(self, name):
        return getattr(self._model, name)


def run(n: int) -> dict:
    import crawler.pipelines  # noqa: F401 -- the crawl imports it (and Scrapy) before its first page; not timed
    import crawler.recorder
    from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
    from analysis.pipeline import Analyzer
    from analysis.text import sha256_bytes
    from crawler.items import FetchedDocument, FetchedPart
    from store.repository import Store

    sources = claudette_pages()
    chosen = [sources[i % len(sources)] for i in range(n)]
    pages = [page_html(name, text, i) for i, (name, text) in enumerate(chosen)]
    edited = [page_html(name, edited_text(text, i), i) for i, (name, text) in enumerate(chosen)]
    spent: Counter = Counter()
    started = time.process_time()
    analyzer = Analyzer()  # loads the classifier and the language detector, once per process
    built = time.process_time() - started
    analyzer.model = TimedModel(analyzer.model, spent)

    def analyze(previous, text, document_type=None):
        start = time.process_time()
        try:
            return analyzer(previous, text, document_type)
        finally:
            spent["analysis"] += time.process_time() - start

    extract = crawler.recorder._extract

    def timed_extract(item, rules):
        start = time.process_time()
        try:
            return extract(item, rules)
        finally:
            spent["extract"] += time.process_time() - start

    crawler.recorder._extract = timed_extract
    with tempfile.TemporaryDirectory() as home:
        store = Store.open(f"sqlite:///{home}/clausewatch.db", Path(home) / "objects")
        platforms = [PlatformSpec(f"p{i}", f"Platform {i}", (DocumentSpec(
            f"p{i}", "Terms of Service", (SourceSpec(f"http://127.0.0.1/p/{i}", select=("main",)),)),))
            for i in range(n)]
        store.catalog.sync_catalog(platforms, now=datetime.now(UTC))
        documents = store.catalog.documents()
        recorder = crawler.recorder.Recorder(store, analyze=analyze, run_id="stages", shrink_ratio=0.5)
        passes = {}
        for label, bodies in (("first_run", pages), ("unchanged_run", pages), ("changed_run", edited)):
            spent.clear()
            outcomes: Counter = Counter()
            items = []
            for document, body in zip(documents, bodies, strict=True):
                source = document.spec.sources[0]
                now = datetime.now(UTC)
                snapshot = Snapshot(sha256_bytes(body), document.id, source.url, source.url, 200,
                                    "text/html; charset=utf-8", now, size=len(body))
                items.append(FetchedDocument(document.id, now, now, [FetchedPart(snapshot, body, source)]))
            start = time.process_time()
            outcomes.update(result.outcome for result in record_in_batches(recorder, items))
            spent["record"] += time.process_time() - start
            passes[label] = {**per_document(spent, n), "outcomes": dict(outcomes)}
        store.close()
    # A fresh process pays for the analyser once, before its first text: spread over the first run's documents.
    first = passes["first_run"]
    first["total_with_analyser_built"] = round(first["total"] + built / n * 1000, 2)
    return {"n": n, "mean_page_kb": round(sum(map(len, pages)) / n / 1024, 1),
            "analyser_built_cpu_ms": round(built * 1000, 1), **passes}


def per_document(spent: Counter, n: int) -> dict:
    """CPU ms per document: extraction, the store's own work, analysis without and with the classifier."""
    figures = {
        "extract": spent["extract"],
        "store": spent["record"] - spent["extract"] - spent["analysis"],
        "analysis_without_classifier": spent["analysis"] - spent["classify"],
        "classifier": spent["classify"],
    }
    figures["total"] = sum(figures.values())
    figures["total_without_classifier"] = figures["total"] - figures["classifier"]
    return {name: round(seconds / n * 1000, 2) for name, seconds in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    result = {"benchmark": "stages", "unit": "CPU ms per document", **run(args.n),
              "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()]}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

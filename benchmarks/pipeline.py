"""Pipeline benchmark: N policy pages on loopback, a first run and an unchanged second run (SPEC §11).

The pages are the CLAUDETTE terms of service of ../shared (tags stripped, one
paragraph per line, wrapped in page furniture), cycled and numbered so every
page is a distinct document. The server runs in a child process so the
figures are the crawler's alone. Each N runs in a fresh process, so peak RSS
is per N. The catalog is synced from a generator and crawled from the store a
batch at a time (``store.catalog.each_document()``), so peak RSS is what the
pipeline itself holds; the CLI holds its loaded catalog files besides. Prints
one JSON object.

    python benchmarks/pipeline.py --n 100 --n 1000 [--concurrency 16] [--no-conditional]

With ``--peer FOLDER`` (Open Terms Archive's engine installed there with npm)
it also runs both programs side by side on the same pages (benchmarks/peer.py),
at each ``--peer-n`` (default 100); the engine only up to ``--peer-max``.

    nice -n 10 python benchmarks/pipeline.py --n 1000 --peer /tmp/ota --peer-n 100 --peer-n 1000
"""

from __future__ import annotations

import argparse
import html
import json
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CLAUDETTE = REPO.parent / "shared" / "datasets" / "claudette"
TAG = re.compile(r"</?[a-z]+\d?>", re.IGNORECASE)


def claudette_pages() -> list[tuple[str, str]]:
    files = sorted(CLAUDETTE.glob("*/documents/*.xml"))
    if not files:
        sys.exit(f"benchmark needs the CLAUDETTE documents in {CLAUDETTE}/*/documents (../shared)")
    return [(f.stem, TAG.sub("", f.read_text(encoding="utf-8"))) for f in files]


def page_html(name: str, text: str, number: int) -> bytes:
    paragraphs = []
    for line in (raw.strip() for raw in text.splitlines()):
        if line:
            tag = "h2" if line.startswith("*") or (len(line) < 80 and line.istitle()) else "p"
            paragraphs.append(f"<{tag}>{html.escape(line.lstrip('* '))}</{tag}>")
    body = "\n".join(paragraphs)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(name)}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><main><h1>{html.escape(name)} terms (copy {number})</h1>{body}</main>"
            f"<footer>© {html.escape(name)}</footer></body></html>").encode("utf-8")


_DAYS = re.compile(r"\b(\d{1,3}) days\b")


def edited_text(text: str, number: int) -> str:
    """``text`` with a paragraph dropped, a word and a duration changed, a paragraph added, chosen by ``number``.

    The changed duration ("30 days" → "60 days") gives the clause changes facts that moved.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    del lines[number % len(lines)]
    changed = (number * 7) % len(lines)
    lines[changed] = lines[changed].replace(" the ", " any ", 1)
    lines = _DAYS.sub(lambda match: f"{2 * int(match[1])} days", "\n".join(lines), count=1).split("\n")
    lines.insert((number * 13) % len(lines), "We may terminate your account at any time without notice.")
    return "\n".join(lines)


def record_in_batches(recorder, items: list) -> list:
    """Record fetched pages as the crawl's pipeline does (``crawler.pipelines``): a batch at a time through
    ``record_identical_batch``, then alone each page the batch left (extracted). A checkout from before decision
    0014's ninth pass has no such batch and records each page alone, as its pipeline did."""
    if not hasattr(recorder, "record_identical_batch"):
        return [recorder.record(item) for item in items]
    from crawler.pipelines import BATCH_SIZE

    results = []
    for start in range(0, len(items), BATCH_SIZE):
        batch = items[start:start + BATCH_SIZE]
        recorded = recorder.record_identical_batch(batch)
        results += [result or recorder.record(item) for item, result in zip(batch, recorded, strict=True)]
    return results


def serve(n: int, conditional: bool, ready) -> None:
    from clausewatch.loopback_site import LocalSite, Page

    sources = claudette_pages()
    pages = {f"/p/{i}": Page(page_html(*sources[i % len(sources)], i)) for i in range(n)}
    site = LocalSite(pages, conditional=conditional).start()
    ready.send(site.base_url)
    ready.recv()  # until the parent is done
    site.stop()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_run(store, n, options, analyzer) -> dict:
    from crawler.crawl import crawl

    wall, cpu = time.perf_counter(), cpu_seconds()
    report = crawl(store, store.catalog.each_document(), options, analyze=analyzer)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return {"wall_s": round(wall, 2), "docs_per_s": round(n / wall, 1), "cpu_s_per_doc": round(cpu / n, 4),
            "outcomes": report.counts}


def child(n: int, concurrency: int, conditional: bool, analysis: bool = True, workers: int = 0) -> dict:
    from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
    from analysis.pipeline import Analyzer
    from crawler.crawl import CrawlOptions
    from store.repository import Store

    parent_end, child_end = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(n, conditional, child_end), daemon=True)
    server.start()
    base_url = parent_end.recv()
    with tempfile.TemporaryDirectory() as home:
        store = Store.open(f"sqlite:///{home}/clausewatch.db", Path(home) / "objects")
        platforms = (PlatformSpec(f"p{i}", f"Platform {i}", (DocumentSpec(
            f"p{i}", "Terms of Service", (SourceSpec(f"{base_url}/p/{i}", select=("main",)),)),)) for i in range(n))
        store.catalog.sync_catalog(platforms, now=datetime.now(UTC))
        setup_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        options = CrawlOptions(user_agent="clausewatch-benchmark/1", delay=0, concurrency=concurrency, retries=0)
        if not analysis:
            analyzer = None
        elif workers:
            from clausewatch.parallel import ParallelAnalyzer

            analyzer = ParallelAnalyzer(workers)
            analyzer(None, "Warm-up: start the analysis workers before the clock starts.\n")
        else:
            analyzer = Analyzer()
        first = timed_run(store, n, options, analyzer)
        second = timed_run(store, n, options, analyzer)
        store.close()
        if workers and analyzer is not None:
            analyzer.close()
    parent_end.send("done")
    server.join(timeout=30)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "first_run": first, "unchanged_run": second, "peak_rss_mb": round(peak_rss_mb, 1),
            "peak_rss_after_setup_mb": round(setup_rss_mb, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, action="append", help="pages (repeatable; default 100 and 1000)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-conditional", action="store_true",
                        help="serve without ETag checks, so the unchanged run re-extracts every page")
    parser.add_argument("--no-analysis", action="store_true",
                        help="archive only (fetch, extract, store), as Open Terms Archive does; no clause analysis")
    parser.add_argument("--workers", type=int, default=0,
                        help="analysis worker processes (0: analyse in the crawling process)")
    parser.add_argument("--peer", type=Path, help="folder with Open Terms Archive's engine (npm), to run side by side")
    parser.add_argument("--peer-n", type=int, action="append", help="pages side by side (repeatable; default 100)")
    parser.add_argument("--peer-max", type=int, default=1000, help="run the engine only up to this many pages")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.concurrency, not args.no_conditional, not args.no_analysis,
                               args.workers)))
        return
    peers = []
    if args.peer:
        from peer import side_by_side

        peers = [side_by_side(n, args.peer, args.concurrency, with_ota=n <= args.peer_max)
                 for n in args.peer_n or [100]]
    results = []
    for n in args.n or ([] if args.peer else [100, 1000]):
        command = [sys.executable, __file__, "--child", str(n), "--concurrency", str(args.concurrency), "--workers", str(args.workers)]
        command += ["--no-conditional"] * args.no_conditional + ["--no-analysis"] * args.no_analysis
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print(json.dumps({"benchmark": "pipeline", "concurrency": args.concurrency,
                      "conditional_requests": not args.no_conditional, "analysis": not args.no_analysis, "analysis_workers": args.workers,
                      "runs": results, "side_by_side": peers,
                      "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()], "cpus": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()

"""Crawl timeline: when a fresh ``clausewatch crawl`` of N new pages reaches each stage. Prints one JSON object.

Where the wall time of a first crawl goes, which CPU figures do not show: the
pages and catalog of ``../shared/peer/make_corpus.py`` are served on loopback
(as ``benchmarks/peer.py`` does), and each round runs the CLI in a fresh
process whose stages are marked with their time since the process began: the
command's module imported, the analysis prepared, Scrapy's run begun, the first
page recorded, the first analysis back from a worker, every tenth page
recorded, the run's end. Each process (the crawl and any analysis worker) also
reports its own CPU seconds and how long it lived, so a worker busy all its life
shows as the critical path. ``--workers`` values (``ANALYSIS_WORKERS``) take
turns, round by round, so they see the same machine load.

    nice -n 5 .venv/bin/python benchmarks/crawl_timeline.py --n 100 --workers 1 --workers 2 --repeat 3
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STARTED = time.perf_counter()
MARKS: list[tuple[float, str]] = []


def mark(what: str) -> None:
    MARKS.append((round(time.perf_counter() - STARTED, 3), what))


def report() -> None:
    """Every process (the crawl, each spawned worker) prints its marks and CPU on stderr when it ends."""
    user, system = os.times()[:2]
    print("TIMELINE " + json.dumps({"pid": os.getpid(), "lived_s": round(time.perf_counter() - STARTED, 3),
                                    "cpu_s": round(user + system, 3), "marks": MARKS}), file=sys.stderr)


if __name__ == "__mp_main__":  # an analysis worker the crawl spawned (it imports this file as its main module)
    atexit.register(report)


def instrumented_cli(args: list[str]) -> None:
    """The CLI with its stages marked (the crawl's own functions wrapped, nothing else changed)."""
    atexit.register(report)
    sys.path.insert(0, str(REPO))
    import clausewatch.commands.crawl  # noqa: F401 - what the command imports, timed
    import clausewatch.parallel as parallel
    import crawler.crawl as crawl
    import crawler.recorder as recorder
    import crawler.runner as runner
    from clausewatch.cli import main

    mark("crawl command imported")
    counts = {"recorded": 0, "analysed": 0}
    prepare, record, analyse, run = (crawl._prepare_analysis, recorder.Recorder.record,
                                     parallel.ParallelAnalyzer.__call__, runner.CrawlRunner.run)

    def prepared(*a, **kw):
        mark("analysis prepared")
        return prepare(*a, **kw)

    def recorded(self, item):
        result = record(self, item)
        counts["recorded"] += 1
        if counts["recorded"] == 1 or counts["recorded"] % 10 == 0:
            mark(f"page {counts['recorded']} recorded")
        return result

    def analysed(self, *a, **kw):
        result = analyse(self, *a, **kw)
        counts["analysed"] += 1
        if counts["analysed"] == 1:
            mark("first analysis back from a worker")
        return result

    def ran(self, *a, **kw):
        mark("Scrapy's run begun")
        try:
            return run(self, *a, **kw)
        finally:
            mark("Scrapy's run ended")

    crawl._prepare_analysis, recorder.Recorder.record = prepared, recorded
    parallel.ParallelAnalyzer.__call__, runner.CrawlRunner.run = analysed, ran
    main(args)


def timed_crawl(corpus: Path, home: Path, workers: str) -> dict:
    from peer import Clausewatch

    ours = Clausewatch(corpus, home, concurrency=16)
    env = {**ours.env, "PYTHONPATH": str(REPO), "CLAUSEWATCH_ANALYSIS_WORKERS": workers}
    subprocess.run([sys.executable, __file__, "--child", *ours.command[1:5], "init"], env=env, cwd=REPO,
                   check=True, capture_output=True)
    wall = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", *ours.command[1:]], env=env, cwd=REPO,
                          capture_output=True, text=True)
    wall = time.perf_counter() - wall
    processes = [json.loads(line[len("TIMELINE "):]) for line in done.stderr.splitlines()
                 if line.startswith("TIMELINE ")]
    if done.returncode not in (0, 1) or not processes:
        sys.exit(f"crawl failed ({done.returncode}): {done.stderr[-2000:]}")
    crawling = next(p for p in processes if p["marks"])
    workers_seen = [p for p in processes if p is not crawling]
    return {"wall_s": round(wall, 2), "outcome": done.stdout.strip().splitlines()[-1],
            "crawl": crawling, "workers": [{k: p[k] for k in ("lived_s", "cpu_s")} |
                                           {"busy_share": round(p["cpu_s"] / p["lived_s"], 2)}
                                           for p in workers_seen]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="new pages to crawl")
    parser.add_argument("--workers", action="append", help="ANALYSIS_WORKERS values (repeatable; default auto)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        instrumented_cli(args.child)
        return
    sys.path.insert(0, str(REPO / "benchmarks"))
    from peer import served_corpus

    values = args.workers or ["auto"]
    rounds: dict[str, list[dict]] = {value: [] for value in values}
    with tempfile.TemporaryDirectory(prefix="clausewatch-timeline-") as scratch:
        root = Path(scratch)
        with served_corpus(root, args.n):
            for round_number in range(args.repeat):
                for value in values:
                    home = root / f"home-{value}-{round_number}"
                    rounds[value].append(timed_crawl(root / "corpus", home, value))
    print(json.dumps({"benchmark": "crawl_timeline", "n": args.n, "runs": rounds,
                      "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()]}, indent=2))


if __name__ == "__main__":
    main()

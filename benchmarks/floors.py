"""The floors of the required stack: what any crawl built on it pays, before any work of clausewatch's own.

Issue 13 sets its speed targets as ratios to Open Terms Archive's engine; this script measures, on the
same machine, what no code of ours can go below:

- ``start_up``: a fresh Python process importing what any command reading the store must (click and
  SQLAlchemy's ORM: the floor of ``status``' start-up), and what a crawl must (also Scrapy's crawler,
  Twisted's asyncio reactor, BeautifulSoup and lxml), against a bare interpreter; wall and CPU seconds,
  medians of ``--repeat`` runs.
- ``per_page``: for each page, CPU milliseconds to parse it with lxml alone (the physical limit the issue
  names), to build BeautifulSoup's tree with lxml (SPEC's required parser, which clausewatch's extraction
  walks), and to turn the tree's ``<main>`` into Markdown with the extractor's markdownify converter; means
  over the pages.

``benchmarks/peer.py`` runs it beside both programs (``pipeline.py --peer``) and turns the engine's figures into
budgets: what a target ratio leaves per page once the floors are paid. Alone, on the pipeline benchmark's
pages (CLAUDETTE policies in page furniture, ~35 KB):

    nice -n 5 .venv/bin/python benchmarks/floors.py --n 100
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BARE = "pass"
# What any command that reads the store imports (the CLI and the required ORM), and what a crawl adds to it; with
# the cycle collector paused, as the CLI imports a command's modules (decision 0014, decision 29).
STORE_IMPORTS = "import gc; gc.disable(); import click, sqlalchemy.orm"
REQUIRED_IMPORTS = ("import gc; gc.disable(); "
                    "import click, scrapy.crawler, twisted.internet.asyncioreactor, sqlalchemy.orm, bs4, lxml.html")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _fresh_process(code: str) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - wall, _children_cpu() - cpu


def start_up(repeat: int = 5) -> dict:
    """Wall and CPU seconds of a bare interpreter and of one importing the required stack (medians)."""
    figures = {}
    for name, code in (("bare_python", BARE), ("store_imports", STORE_IMPORTS), ("required_imports", REQUIRED_IMPORTS)):
        _fresh_process(code)  # bytecode cached, as an installed program has it
        runs = [_fresh_process(code) for _ in range(repeat)]
        figures[name] = {"wall_s": round(statistics.median(r[0] for r in runs), 3),
                         "cpu_s": round(statistics.median(r[1] for r in runs), 3)}
    return figures


def per_page(pages: Sequence[bytes]) -> dict:
    """CPU ms per page: lxml's parse, BeautifulSoup's tree over lxml, and markdownify of its ``<main>``."""
    import lxml.html
    from bs4 import BeautifulSoup

    from crawler.extract.page import _CONVERTER  # the extractor's own markdownify converter

    def mean_ms(work) -> float:
        work(pages[0])  # imports and caches warmed
        start = time.process_time()
        for page in pages:
            work(page)
        return round((time.process_time() - start) / len(pages) * 1000, 2)

    mains = [soup.main or soup for soup in (BeautifulSoup(page, "lxml") for page in pages)]
    markdown = iter(mains * 2)
    return {
        "pages": len(pages),
        "mean_page_kb": round(sum(map(len, pages)) / len(pages) / 1024, 1),
        "lxml_parse_ms": mean_ms(lxml.html.fromstring),
        "beautifulsoup_lxml_ms": mean_ms(lambda page: BeautifulSoup(page, "lxml")),
        "markdownify_ms": mean_ms(lambda _page: _CONVERTER.convert_soup(next(markdown))),
    }


def budgets(engine_wall_s: float, n: int, ratio: float, floors: dict, cpus: int) -> dict:
    """What ``ratio`` times the engine's throughput leaves: the whole run's wall time, then per page.

    ``per_page_cpu_ms`` assumes every core busy for the whole run after the start-up floor, the most any
    crawl could get from the machine; a negative figure means the target is below the floor itself.
    """
    wall = engine_wall_s / ratio
    after_start = wall - floors["start_up"]["required_imports"]["wall_s"]
    return {"ratio": ratio, "run_wall_s": round(wall, 3), "after_start_up_s": round(after_start, 3),
            "per_page_cpu_ms_all_cores": round(after_start * cpus / n * 1000, 2)}


def measure(pages: Sequence[bytes], repeat: int = 5) -> dict:
    return {"start_up": start_up(repeat), "per_page": per_page(pages)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="pages of benchmarks/pipeline.py")
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per start-up figure")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "benchmarks"))
    from pipeline import claudette_pages, page_html

    sources = claudette_pages()
    pages = [page_html(*sources[i % len(sources)], i) for i in range(args.n)]
    print(json.dumps({"benchmark": "floors", **measure(pages, args.repeat),
                      "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()], "cpus": os.cpu_count()},
                     indent=2))


if __name__ == "__main__":
    main()

"""First-crawl benchmark: ``clausewatch crawl`` of N new loopback pages in a fresh process, per ``ANALYSIS_WORKERS``.

Where a worker process pays for its start: each round makes a new home (``init``, not timed)
for every value of ``--workers`` and crawls the same N never-seen pages with it, the values
taking turns so they see the same machine load. The pages and catalog are
``../shared/peer/make_corpus.py``'s, served by ``corpus_server.py`` (as ``benchmarks/peer.py``).
Figures per N and value: median wall and CPU seconds of the child (user + system, its
workers included). Prints one JSON object.

    nice -n 5 .venv/bin/python benchmarks/first_crawl.py --n 5 --n 20 --n 100 --workers 0 --workers 1 --workers auto
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from peer import children_cpu, served_corpus  # noqa: E402
from startup import PROBE  # noqa: E402


def crawl_once(home: Path, catalog: Path, workers: str, concurrency: int) -> tuple[float, float, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("CLAUSEWATCH_") and key != "PYTHONDONTWRITEBYTECODE"}
    env.update({"PYTHONPATH": str(REPO), "CLAUSEWATCH_ANALYSIS_WORKERS": workers})
    base = [sys.executable, "-c", PROBE, "--home", str(home), "--catalog", str(catalog)]
    home.mkdir(parents=True)
    subprocess.run([*base, "init"], env=env, cwd=home.parent, capture_output=True, check=True)
    wall, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run([*base, "crawl", "--delay", "0", "--concurrency", str(concurrency)], env=env,
                          cwd=home.parent, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"crawl with ANALYSIS_WORKERS={workers} failed ({done.returncode}): {done.stderr[-1500:]}")
    return wall, cpu, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, action="append", help="pages (repeatable; default 5, 20 and 100)")
    parser.add_argument("--workers", action="append", help="ANALYSIS_WORKERS values (default 0 and auto)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    sizes, values = args.n or [5, 20, 100], args.workers or ["0", "auto"]
    result: dict = {"benchmark": "first_crawl", "repeat": args.repeat, "cpus": os.cpu_count(), "sizes": {}}
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="clausewatch-first-") as scratch:
            root = Path(scratch)
            with served_corpus(root, n):
                catalog = root / "corpus" / "declarations"
                runs: dict[str, list[tuple[float, float]]] = {value: [] for value in values}
                outcome = {}
                for round_ in range(args.repeat):
                    for value in values:
                        wall, cpu, outcome[value] = crawl_once(root / f"{value}-{round_}" / "home", catalog, value,
                                                               args.concurrency)
                        runs[value].append((wall, cpu))
        result["sizes"][n] = {value: {"wall_s": round(statistics.median(r[0] for r in timed), 3),
                                      "cpu_s": round(statistics.median(r[1] for r in timed), 3),
                                      "wall_s_all": [round(r[0], 3) for r in timed], "last_outcome": outcome[value]}
                              for value, timed in runs.items()}
    result["load_average_1_5_15"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

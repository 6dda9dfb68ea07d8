"""CLI re-run benchmark: ``clausewatch crawl`` of N unchanged loopback pages, a fresh process each time.

The pages and catalog are ``../shared/peer/make_corpus.py``'s (as ``benchmarks/peer.py``
uses them), served by one ``http.server`` (``corpus_server.py``). Each checkout gets its own home:
``init`` and a first crawl (not timed), then ``--repeat`` rounds of

- ``unchanged``: the server answers If-Modified-Since with 304;
- ``resent``: every page touched first, so the same bytes come back with a new date (200).

``--source DIR`` runs another checkout's code with this interpreter as the baseline
(``git archive BASE | tar -x -C DIR``); the rounds alternate between the checkouts so both see
the same machine load. Figures: median wall and CPU seconds of the child (user + system) and
the modules it imported. Prints one JSON object.

    nice -n 10 .venv/bin/python benchmarks/cli_rerun.py --n 100 --repeat 5 [--source /tmp/base-tree]
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

# The CLI run as benchmarks/startup.py runs it (the editable install's finder dropped, so --source runs the
# other checkout); the served corpus and the children's CPU as benchmarks/peer.py has them.
from peer import children_cpu, served_corpus  # noqa: E402
from startup import PROBE  # noqa: E402


class Checkout:
    def __init__(self, name: str, source: Path, home: Path, catalog: Path, concurrency: int):
        self.name = name
        self.home = home
        self.args = ["--home", str(home), "--catalog", str(catalog)]
        self.crawl_args = ["crawl", "--delay", "0", "--concurrency", str(concurrency)]
        # Bytecode cached, as an installed program has it.
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith("CLAUSEWATCH_") and key != "PYTHONDONTWRITEBYTECODE"}
        self.env["PYTHONPATH"] = str(source)
        self.runs: dict[str, list[tuple[float, float, int]]] = {"unchanged": [], "resent": []}

    def run(self, args: list[str]) -> tuple[float, float, int, str]:
        wall, cpu = time.perf_counter(), children_cpu()
        done = subprocess.run([sys.executable, "-c", PROBE, *self.args, *args], env=self.env, cwd=self.home.parent,
                              capture_output=True, text=True)
        wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
        if done.returncode != 0:
            sys.exit(f"{self.name}: clausewatch {' '.join(args)} failed ({done.returncode}): {done.stderr[-1500:]}")
        modules = int(done.stderr.strip().splitlines()[-1].split()[-1])
        return wall, cpu, modules, done.stdout

    def prepare(self) -> str:
        self.home.mkdir(parents=True)
        self.run(["init"])
        return self.run(self.crawl_args)[3].strip().splitlines()[-1]

    def timed(self, kind: str) -> str:
        wall, cpu, modules, out = self.run(self.crawl_args)
        self.runs[kind].append((wall, cpu, modules))
        return out.strip().splitlines()[-1]

    def figures(self) -> dict:
        return {kind: {"wall_s": round(statistics.median(r[0] for r in runs), 3),
                       "cpu_s": round(statistics.median(r[1] for r in runs), 3),
                       "wall_s_all": [round(r[0], 3) for r in runs], "cpu_s_all": [round(r[1], 3) for r in runs],
                       "modules": runs[-1][2]}
                for kind, runs in self.runs.items() if runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--source", type=Path, help="another checkout to measure as the baseline")
    parser.add_argument("--no-resent", action="store_true", help="only the 304 re-runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clausewatch-rerun-") as scratch:
        root = Path(scratch)
        with served_corpus(root, args.n) as pages:
            catalog = root / "corpus" / "declarations"
            checkouts = [Checkout("this_checkout", REPO, root / "this" / "home", catalog, args.concurrency)]
            if args.source:
                checkouts.append(Checkout("baseline", args.source.resolve(), root / "base" / "home", catalog,
                                          args.concurrency))
            outcomes = {c.name: {"first": c.prepare()} for c in checkouts}
            for _ in range(args.repeat):
                for checkout in checkouts:
                    outcomes[checkout.name]["unchanged"] = checkout.timed("unchanged")
                if args.no_resent:
                    continue
                for page in pages:  # same bytes, a new Last-Modified: no 304
                    page.touch()
                for checkout in checkouts:
                    outcomes[checkout.name]["resent"] = checkout.timed("resent")
    print(json.dumps({"benchmark": "cli_rerun", "n": args.n, "repeat": args.repeat,
                      **{c.name: c.figures() for c in checkouts}, "last_outcomes": outcomes,
                      "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()], "cpus": os.cpu_count()},
                     indent=2))


if __name__ == "__main__":
    main()

"""Start-up benchmark: how long ``clausewatch`` takes for commands that do not crawl. Prints one JSON object.

Each command runs ``--repeat`` times in a fresh interpreter, against a store
made once by ``init`` in a temporary home (``status`` and ``changes`` open it).
Figures: median wall seconds, median CPU seconds (user + system of the child)
and how many modules the command imported. ``--source DIR`` runs another
checkout's code (``git archive main | tar -x -C DIR``) with this interpreter,
for a baseline in the same run.

    nice -n 10 .venv/bin/python benchmarks/startup.py --repeat 7 [--source /tmp/main-tree]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMANDS = (["--version"], ["--help"], ["status"], ["changes"])
# Runs the CLI, then reports how many modules it imported (on stderr, after click's exit).
# The editable install's finder would win over PYTHONPATH: it is dropped so that
# --source really runs the other checkout.
PROBE = """
import atexit, sys
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
atexit.register(lambda: print("modules", len(sys.modules), file=sys.stderr))
from clausewatch.cli import main
main(sys.argv[1:])
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, cwd=cwd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"clausewatch {' '.join(args)} failed: {done.stderr[-1000:]}")
    modules = int(done.stderr.strip().splitlines()[-1].split()[-1])
    return wall, cpu, modules


def measure(source: Path, home: Path, repeat: int) -> dict:
    # An installed program has its bytecode cached: without it every run compiles
    # the project's modules again (~0.1 s), which no user pays.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("CLAUSEWATCH_") and key != "PYTHONDONTWRITEBYTECODE"}
    env.update({"PYTHONPATH": str(source), "CLAUSEWATCH_HOME": str(home),
                "CLAUSEWATCH_CATALOG": str(REPO / "catalog")})
    # From the home's parent: ``-c`` puts the working folder first on sys.path.
    home.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", PROBE, "init"], env=env, cwd=home.parent, capture_output=True, check=True)
    figures = {}
    for args in COMMANDS:
        runs = [run_once(args, env, home.parent) for _ in range(repeat)]
        figures[" ".join(args)] = {"wall_s": round(statistics.median(r[0] for r in runs), 3),
                                   "cpu_s": round(statistics.median(r[1] for r in runs), 3),
                                   "modules": runs[-1][2]}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--source", type=Path, help="another checkout to measure as the baseline")
    args = parser.parse_args()
    result = {"benchmark": "startup", "repeat": args.repeat}
    with tempfile.TemporaryDirectory() as scratch:
        result["this_checkout"] = measure(REPO, Path(scratch) / "home", args.repeat)
        if args.source:
            result["baseline"] = measure(args.source.resolve(), Path(scratch) / "baseline-home", args.repeat)
    result["load_average_1_5_15"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

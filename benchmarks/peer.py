"""Side by side with Open Terms Archive's engine: the same real policy pages, the same loopback server, one run.

Used by ``benchmarks/pipeline.py --peer FOLDER`` (FOLDER holds the engine installed
with npm, see ../shared/peer/README.md; it is never part of this repository).

For each N: ``../shared/peer/make_corpus.py`` writes N CLAUDETTE policy pages
and their Open Terms Archive declarations; one ``http.server`` with a real
listen backlog (``corpus_server.py``) serves them to both programs. Each side runs as a child process, timed as a
user would time it (start-up, store set-up and catalog included), CPU from
``getrusage(RUSAGE_CHILDREN)`` (the engine's Chromium included):

1. ``ota track`` (engine 9, Debian's Chromium, git storage as in run_ota.sh),
2. ``clausewatch crawl --delay 0 --concurrency C`` with the declarations as
   its catalog (fetch, extract, split, classify, align, store),
3. both again, unchanged: the engine re-fetches every page; clausewatch sends
   If-Modified-Since, which ``http.server`` answers with 304,
4. clausewatch once more after touching every page, so the server sends the
   same bytes with a new date: every page is fetched, extracted and hashed.

Then the floors of the required stack on the same pages (``floors.py``: a fresh process's imports, lxml,
BeautifulSoup, markdownify) and what issue 13's targets (20× the engine on a first run, 50× unchanged) leave
once they are paid.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import floors

REPO = Path(__file__).resolve().parent.parent
PEER_TOOLS = REPO.parent / "shared" / "peer"
CHROMIUM_FLAGS = ("--no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
                  "--disable-component-update --disable-sync")


@dataclass(frozen=True)
class Timed:
    wall_s: float
    cpu_s: float
    output: str

    def figures(self, n: int) -> dict:
        return {"wall_s": round(self.wall_s, 2), "cpu_s": round(self.cpu_s, 2), "pages_per_s": round(n / self.wall_s, 1),
                "cpu_ms_per_page": round(self.cpu_s / n * 1000, 1)}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], *, cwd: Path, env: dict[str, str]) -> Timed:
    wall, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    if done.returncode not in (0, 1):  # clausewatch exits 1 when a fetch failed: counted, not fatal
        sys.exit(f"{command[0]} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}")
    return Timed(wall, cpu, done.stdout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(port: int, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the corpus server exited at start-up")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"the corpus server did not listen on port {port} within {timeout} s")


class OtaEngine:
    """One collection of Open Terms Archive's engine, kept across runs so the second run is unchanged."""

    def __init__(self, peer: Path, corpus: Path, work: Path):
        self.binary = peer / "node_modules" / ".bin" / "ota"
        if not self.binary.exists():
            sys.exit(f"no Open Terms Archive engine in {peer} (see {PEER_TOOLS / 'README.md'})")
        self.work = work
        shutil.copytree(corpus / "declarations", work / "declarations")
        (work / "config").mkdir()
        (work / "config" / "default.json").write_text(json.dumps(self._config()))
        wrapper = work / "chromium"
        wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/chromium {CHROMIUM_FLAGS} "$@"\n')
        wrapper.chmod(0o755)
        self.env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": str(wrapper), "NODE_CONFIG_DIR": str(work / "config"),
                    "NODE_ENV": "default"}

    def _config(self) -> dict:
        def git(folder: str) -> dict:
            options = {"path": str(self.work / "data" / folder), "publish": False,
                       "author": {"name": "bot", "email": "bot@example.org"}}
            if folder == "versions":
                options["snapshotIdentiferTemplate"] = "./%SNAPSHOT_ID"
            return {"storage": {"type": "git", "git": options}}

        return {"@opentermsarchive/engine": {
            "collectionPath": str(self.work), "logger": {"sendMailOnError": False},
            "recorder": {"versions": git("versions"), "snapshots": git("snapshots")}}}

    def track(self) -> Timed:
        return timed([str(self.binary), "track"], cwd=self.work, env=self.env)

    def versions(self) -> int:
        log = subprocess.run(["git", "-C", str(self.work / "data" / "versions"), "log", "--oneline"],
                             capture_output=True, text=True)
        return len(log.stdout.splitlines()) if log.returncode == 0 else 0


class Clausewatch:
    """The ``clausewatch`` command of this checkout, on its own home, with the declarations as catalog."""

    def __init__(self, corpus: Path, home: Path, concurrency: int):
        self.command = [str(Path(sys.executable).parent / "clausewatch"), "--home", str(home), "--catalog",
                        str(corpus / "declarations"), "crawl", "--delay", "0", "--concurrency", str(concurrency)]
        # Bytecode caching on, as an installed program has it (the test harness may switch it off).
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith("CLAUSEWATCH_") and key != "PYTHONDONTWRITEBYTECODE"}

    def init(self) -> None:
        """Create the store (``crawl`` refuses a home without one); set-up, not timed, like the engine's folder."""
        subprocess.run([*self.command[:5], "init"], cwd=REPO, env=self.env, check=True, capture_output=True)

    def crawl(self) -> tuple[Timed, dict[str, int]]:
        run = timed(self.command, cwd=REPO, env=self.env)
        return run, outcomes(run.output)


def outcomes(output: str) -> dict[str, int]:
    """The counts of ``run ID: 3 new_version, 1 failed``, the last line of ``clausewatch crawl``."""
    last = output.strip().splitlines()[-1] if output.strip() else ""
    counts = last.split(": ", 1)[1] if ": " in last else ""
    return {outcome: int(n) for n, outcome in (part.split(" ", 1) for part in counts.split(", ") if " " in part)}


@contextmanager
def served_corpus(root: Path, n: int) -> Iterator[list[Path]]:
    """``n`` real policy pages (``make_corpus.py``) under ``root``/corpus, with their declarations, served on a
    free loopback port for as long as the context lasts; yields the pages' files."""
    port = free_port()
    subprocess.run([sys.executable, str(PEER_TOOLS / "make_corpus.py"), str(root / "corpus"), str(n), str(port)],
                   check=True, capture_output=True)
    pages = list((root / "corpus" / "site").iterdir())
    server = subprocess.Popen([sys.executable, str(REPO / "benchmarks" / "corpus_server.py"), str(port),
                               str(root / "corpus" / "site")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_server(port, server)
        yield pages
    finally:
        server.terminate()
        server.wait()


def side_by_side(n: int, peer: Path, concurrency: int, with_ota: bool = True) -> dict:
    with tempfile.TemporaryDirectory(prefix="clausewatch-peer-") as scratch:
        root = Path(scratch)
        with served_corpus(root, n) as pages:
            return _runs(n, peer, concurrency, root, pages, with_ota)


def _runs(n: int, peer: Path, concurrency: int, root: Path, pages: list[Path], with_ota: bool) -> dict:
    mean_kb = sum(page.stat().st_size for page in pages) / len(pages) / 1024
    ours = Clausewatch(root / "corpus", root / "clausewatch", concurrency)
    engine = OtaEngine(peer, root / "corpus", root / "ota") if with_ota else None
    ours.init()
    ota_first = engine.track() if engine else None
    first, first_outcomes = ours.crawl()
    ota_again = engine.track() if engine else None
    again, again_outcomes = ours.crawl()
    for page in pages:  # same bytes, new Last-Modified: no 304, every page fetched and extracted again
        page.touch()
    refetched, refetched_outcomes = ours.crawl()
    result = {"n": n, "mean_page_kb": round(mean_kb, 1), "clausewatch": {
        "first_run": {**first.figures(n), "outcomes": first_outcomes},
        "unchanged_run": {**again.figures(n), "outcomes": again_outcomes},
        "unchanged_refetched_run": {**refetched.figures(n), "outcomes": refetched_outcomes}}}
    if engine is not None:
        result["open_terms_archive"] = {"first_run": ota_first.figures(n), "unchanged_run": ota_again.figures(n),
                                        "versions_recorded": engine.versions()}
        result["floors"] = floors.measure([page.read_bytes() for page in pages])
        cpus = os.cpu_count() or 1
        result["budgets"] = {  # issue 13's targets, what they leave once the floors are paid
            "first_run": floors.budgets(ota_first.wall_s, n, 20, result["floors"], cpus),
            "unchanged_run": floors.budgets(ota_again.wall_s, n, 50, result["floors"], cpus)}
        result["throughput_ratio"] = {
            "first_run": round(ota_first.wall_s / first.wall_s, 1),
            "unchanged_run": round(ota_again.wall_s / again.wall_s, 1),
            "unchanged_refetched_run": round(ota_again.wall_s / refetched.wall_s, 1)}
        result["cpu_ratio"] = {"first_run": round(ota_first.cpu_s / first.cpu_s, 1),
                               "unchanged_run": round(ota_again.cpu_s / again.cpu_s, 1)}
    return result

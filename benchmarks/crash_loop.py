"""Crash-safety loop (SPEC §10, issue 13): real `clausewatch` processes killed with SIGKILL at random
moments, then checked. Prints one JSON object of figures.

Phases, each ``--iterations`` times:
- ``crawl_first``: a crawl recording every document's first version is killed; `verify` must be
  clean, and a clean crawl must then leave each document with exactly its one version;
- ``crawl_new``: the same while every page serves a new version: exactly two versions and two
  changes per document afterwards, none duplicated;
- ``site``: `site` killed mid-build; the rebuild must equal a fresh full build byte for byte;
- ``digest``: `digest --send` to a loopback aiosmtpd server killed mid-send; the store is unchanged
  and a rerun delivers every digest;
- ``analyze``: `analyze --all` killed; every version keeps exactly its clauses (no duplicates,
  none lost) and a clean rerun succeeds.

Each iteration starts from a copy of the phase's starting store, so every kill lands in the work
the phase is about. "Random moments": the kill waits for a randomly chosen point of progress (the
k-th request served, the k-th page written, the first email received, analysis started), then a
random extra delay of up to ``--jitter`` seconds.

    nice .venv/bin/python benchmarks/crash_loop.py [--iterations 20] [--documents 12] [--seed 13] [--phases site,…]
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clausewatch.loopback_site import LocalSite, Page  # noqa: E402
from store.repository import Store  # noqa: E402

CLAUSEWATCH = str(Path(sys.executable).parent / "clausewatch")
SECTIONS = ("Acceptance", "Accounts", "Fees and refunds", "Your content", "Termination", "Disclaimers",
            "Limitation of liability", "Arbitration", "Governing law", "Changes to these terms")


def policy(number: int, version: int) -> bytes:
    """A policy page of ten numbered sections; version 2 rewords two of them."""
    paragraphs = []
    for index, title in enumerate(SECTIONS, start=1):
        text = (f"Section {index} of policy {number}: {title.lower()} apply to every user of service {number}. "
                "We may change, suspend or terminate the service at any time and without notice. " * 3)
        if version == 2 and index in (5, 8):
            text = f"Version two of section {index} of policy {number}: we may terminate accounts for any reason. "
        paragraphs.append(f"<h2>{index}. {title}</h2><p>{text}</p>")
    return f"<html><head><title>Terms {number}</title></head><body><main><h1>Terms of Service {number}</h1>" \
           f"{''.join(paragraphs)}</main></body></html>".encode()


@dataclass
class PhaseFigures:
    kills: int = 0
    killed_while_running: int = 0  # the process had not finished when the kill arrived
    verify_failures: int = 0
    rerun_failures: int = 0
    wrong_results: int = 0  # wrong version counts, duplicated changes or clauses, a site differing from a fresh build
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


class Bench:
    """One working folder: a loopback site, an SMTP server, a catalog and the clausewatch home."""

    def __init__(self, work: Path, documents: int, rng: random.Random, jitter: float, smtp_port: int):
        self.work, self.documents, self.rng, self.jitter = work, documents, rng, jitter
        self.home = work / "home"
        self.smtp_port = smtp_port

    def env(self, home: Path | None = None) -> dict[str, str]:
        home = home or self.home
        return {**os.environ, "CLAUSEWATCH_HOME": str(home), "CLAUSEWATCH_CATALOG": str(self.work / "catalog"),
                "CLAUSEWATCH_DATABASE_URL": "", "CLAUSEWATCH_SMTP_HOST": "127.0.0.1",
                "CLAUSEWATCH_SMTP_PORT": str(self.smtp_port), "CLAUSEWATCH_SMTP_STARTTLS": "false",
                "CLAUSEWATCH_SCHEDULES": str(self.work / "schedules.yaml"), "CLAUSEWATCH_LOG_LEVEL": "WARNING"}

    def run(self, *args: str, home: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([CLAUSEWATCH, *args], env=self.env(home), capture_output=True, text=True)

    def start(self, *args: str, home: Path) -> subprocess.Popen:
        return subprocess.Popen([CLAUSEWATCH, *args], env=self.env(home), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)

    def kill_after(self, child: subprocess.Popen, reached: Callable[[], bool]) -> bool:
        """SIGKILL ``child`` once ``reached()`` (or it ended), plus a random jitter; True if it was still running."""
        while child.poll() is None and not reached():
            time.sleep(0.005)
        if self.jitter:
            time.sleep(self.rng.uniform(0, self.jitter))
        running = child.poll() is None
        child.send_signal(signal.SIGKILL)
        child.communicate()
        return running


def copy_home(source: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def crawl_phase(bench: Bench, site: LocalSite, base: Path, version: int, iterations: int) -> PhaseFigures:
    """Kill crawls of ``version`` of every page, then check verify and a clean crawl each time."""
    figures = PhaseFigures()
    started = time.perf_counter()
    for iteration in range(iterations):
        home = copy_home(base, bench.work / f"crawl-v{version}-{iteration}")
        site.requests.clear()
        wanted = bench.rng.randint(1, bench.documents)
        child = bench.start("crawl", "--delay", "0", "--concurrency", "2", home=home)
        figures.killed_while_running += bench.kill_after(
            child, lambda: sum(1 for p, _ in list(site.requests) if p.startswith("/p/")) >= wanted)
        figures.kills += 1
        _check_crawl(bench, home, version, figures, iteration)
        shutil.rmtree(home)
    figures.seconds = round(time.perf_counter() - started, 1)
    return figures


def _check_crawl(bench: Bench, home: Path, version: int, figures: PhaseFigures, iteration: int) -> None:
    if bench.run("verify", home=home).returncode != 0:
        figures.verify_failures += 1
        figures.problems.append(f"iteration {iteration}: verify failed after the kill")
    clean = bench.run("crawl", "--delay", "0", "--concurrency", "2", home=home)
    if clean.returncode != 0:
        figures.rerun_failures += 1
        figures.problems.append(f"iteration {iteration}: clean crawl exited {clean.returncode}: "
                                f"{clean.stderr.strip()[-300:]}")
    wrong = versions_problems(home, version)
    figures.wrong_results += bool(wrong)
    figures.problems += [f"iteration {iteration}: {w}" for w in wrong]


def versions_problems(home: Path, version: int) -> list[str]:
    """Every document has exactly ``version`` versions, the last one serving the newest text, and one change
    between each two (``changes`` lists changes between versions, not the first recording)."""
    from store.change_records import list_changes

    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects", mode="read")
    try:
        problems = []
        changes: dict[str, int] = {}
        for change in list_changes(store):
            changes[change.document_id] = changes.get(change.document_id, 0) + 1
        for document in store.catalog.documents():
            versions = store.history.versions(document.id)
            marker = "Version two of section 5" if version == 2 else "Section 5 of policy"
            if len(versions) != version or len({v.version.sha256 for v in versions}) != version:
                problems.append(f"{document.id} has {len(versions)} version(s), expected {version}")
            elif marker not in versions[-1].text:
                problems.append(f"{document.id}: the current version is not version {version}")
            if changes.get(document.id, 0) != version - 1:
                problems.append(f"{document.id} has {changes.get(document.id, 0)} change(s), expected {version - 1}")
        return problems
    finally:
        store.close()


def site_phase(bench: Bench, base: Path, iterations: int) -> PhaseFigures:
    figures = PhaseFigures()
    started = time.perf_counter()
    fresh = bench.work / "fresh-site"
    bench.run("site", "--full", "--out", str(fresh), home=base)
    pages = sum(1 for p in fresh.rglob("*") if p.is_file())
    for iteration in range(iterations):
        home = copy_home(base, bench.work / f"site-{iteration}")
        out = home / "site"
        wanted = bench.rng.randint(1, max(1, pages - 1))
        child = bench.start("site", home=home)
        figures.killed_while_running += bench.kill_after(
            child, lambda: out.is_dir() and sum(1 for p in out.rglob("*") if p.is_file()) >= wanted)
        figures.kills += 1
        if bench.run("verify", home=home).returncode != 0:
            figures.verify_failures += 1
        if bench.run("site", home=home).returncode != 0:
            figures.rerun_failures += 1
        differences = tree_differences(out, fresh)
        figures.wrong_results += bool(differences)
        figures.problems += [f"iteration {iteration}: {d}" for d in differences[:3]]
        shutil.rmtree(home)
    figures.seconds = round(time.perf_counter() - started, 1)
    return figures


def tree_differences(built: Path, fresh: Path) -> list[str]:
    """Files that differ between two site folders, or exist in one only (the build manifest aside)."""
    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != ".clausewatch-manifest.json"}

    mine, theirs = files(built), files(fresh)
    problems = [f"only in the rebuilt site: {name}" for name in sorted(mine - theirs)]
    problems += [f"missing from the rebuilt site: {name}" for name in sorted(theirs - mine)]
    problems += [f"differs from a fresh build: {name}" for name in sorted(mine & theirs)
                 if not filecmp.cmp(built / name, fresh / name, shallow=False)]
    return problems


def digest_phase(bench: Bench, base: Path, iterations: int, inbox: list) -> PhaseFigures:
    figures = PhaseFigures()
    started = time.perf_counter()
    for iteration in range(iterations):
        home = copy_home(base, bench.work / f"digest-{iteration}")
        before = fingerprint(home)
        received = len(inbox)
        child = bench.start("digest", "--send", "--since", "2000-01-01", home=home)
        figures.killed_while_running += bench.kill_after(child, lambda: len(inbox) > received)
        figures.kills += 1
        if bench.run("verify", home=home).returncode != 0:
            figures.verify_failures += 1
        if fingerprint(home) != before:
            figures.wrong_results += 1
            figures.problems.append(f"iteration {iteration}: the killed digest changed the store")
        received = len(inbox)
        rerun = bench.run("digest", "--send", "--since", "2000-01-01", home=home)
        if rerun.returncode != 0 or len(inbox) - received != 2:
            figures.rerun_failures += 1
            figures.problems.append(f"iteration {iteration}: the rerun sent {len(inbox) - received} digest(s)")
        shutil.rmtree(home)
    figures.seconds = round(time.perf_counter() - started, 1)
    return figures


def fingerprint(home: Path) -> tuple:
    """What the store holds, as counts and hashes (the database file itself may be checkpointed)."""
    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects", mode="read")
    try:
        return tuple((d.id, tuple(v.version.sha256 for v in store.history.versions(d.id)), len(store.history.snapshots(d.id)))
                     for d in store.catalog.documents())
    finally:
        store.close()


def analyze_phase(bench: Bench, base: Path, iterations: int) -> PhaseFigures:
    figures = PhaseFigures()
    started = time.perf_counter()
    reference = clause_counts(base)
    for iteration in range(iterations):
        home = copy_home(base, bench.work / f"analyze-{iteration}")
        child = bench.start("analyze", "--all", home=home)
        figures.killed_while_running += bench.kill_after(child, lambda: bool(child.stderr and child.stderr.read(1)))
        figures.kills += 1
        if bench.run("verify", home=home).returncode != 0:
            figures.verify_failures += 1
        if clause_counts(home) != reference:
            figures.wrong_results += 1
            figures.problems.append(f"iteration {iteration}: clauses lost or duplicated by the killed analyze")
        if bench.run("analyze", "--all", home=home).returncode != 0 or clause_counts(home) != reference:
            figures.rerun_failures += 1
        shutil.rmtree(home)
    figures.seconds = round(time.perf_counter() - started, 1)
    return figures


def clause_counts(home: Path) -> dict[str, tuple[tuple[int, int], ...]]:
    """Per document and version: how many clauses, and how many distinct ordinals (equal unless duplicated)."""
    store = Store.open(f"sqlite:///{home / 'clausewatch.db'}", home / "objects", mode="read")
    try:
        return {document.id: tuple((len(v.clauses), len({c.clause.ordinal for c in v.clauses}))
                                   for v in store.history.versions(document.id))
                for document in store.catalog.documents()}
    finally:
        store.close()


PHASES = ("crawl_first", "crawl_new", "site", "digest", "analyze")


def run_loop(work: Path, *, iterations: int, documents: int, seed: int, jitter: float,
             phases: tuple[str, ...] = PHASES) -> dict:
    """The ``phases`` in ``work`` (the crawls always run, to build the stores the others start from);
    returns the figures (and the problems found, if any)."""
    from aiosmtpd.controller import Controller

    rng = random.Random(seed)
    inbox: list = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - the aiosmtpd API
            inbox.append(envelope.rcpt_tos)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    bench = Bench(work, documents, rng, jitter, port)
    try:
        with LocalSite({f"/p/{n}": Page(policy(n, 1)) for n in range(documents)}) as site:
            return _phases(bench, site, iterations, inbox, phases)
    finally:
        controller.stop()


def _phases(bench: Bench, site: LocalSite, iterations: int, inbox: list, phases: tuple[str, ...]) -> dict:
    work = bench.work
    (work / "catalog").mkdir()
    for n in range(bench.documents):
        (work / "catalog" / f"p{n}.yaml").write_text(
            f"name: Platform {n}\nslug: p{n}\ndocuments:\n  - type: Terms of Service\n    url: {site.url(f'/p/{n}')}\n")
    init = bench.run("init")
    assert init.returncode == 0, init.stderr
    (bench.home / "subscribers.yaml").write_text(
        "subscribers:\n  - email: legal@example.org\n  - email: research@example.org\n")
    figures = {"iterations": iterations, "documents": bench.documents}
    if "crawl_first" in phases:
        figures["crawl_first"] = crawl_phase(bench, site, bench.home, 1, iterations)
    assert bench.run("crawl", "--delay", "0").returncode == 0
    site.set_many({f"/p/{n}": Page(policy(n, 2)) for n in range(bench.documents)})
    if "crawl_new" in phases:
        figures["crawl_new"] = crawl_phase(bench, site, bench.home, 2, iterations)
    assert bench.run("crawl", "--delay", "0").returncode == 0
    if "site" in phases:
        figures["site"] = site_phase(bench, bench.home, iterations)
    if "digest" in phases:
        figures["digest"] = digest_phase(bench, bench.home, iterations, inbox)
    if "analyze" in phases:
        figures["analyze"] = analyze_phase(bench, bench.home, iterations)
    return {key: (value.__dict__ if isinstance(value, PhaseFigures) else value) for key, value in figures.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--documents", type=int, default=12)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--jitter", type=float, default=0.3, help="random extra seconds before each kill")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, among {', '.join(PHASES)}")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="clausewatch-crash-"))
    work.mkdir(parents=True, exist_ok=True)
    cpu = os.times()
    try:
        figures = run_loop(work, iterations=args.iterations, documents=args.documents, seed=args.seed,
                           jitter=args.jitter, phases=tuple(args.phases.split(",")))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    after = os.times()
    figures["cpu_seconds_children"] = round(after.children_user + after.children_system
                                            - cpu.children_user - cpu.children_system, 1)
    figures["ok"] = all(not phase["problems"] and not phase["verify_failures"] and not phase["rerun_failures"]
                        for phase in figures.values() if isinstance(phase, dict))
    print(json.dumps(figures, indent=1))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

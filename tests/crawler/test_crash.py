"""kill -9 in the middle of a crawl leaves the store consistent, and a re-run records nothing twice (SPEC §10)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page
from store.repository import Store

REPO = Path(__file__).resolve().parents[2]

CRAWL = textwrap.dedent("""
    import sys
    from pathlib import Path
    from analysis.pipeline import Analyzer
    from crawler.crawl import CrawlOptions, crawl
    from store.repository import Store

    store = Store.open(sys.argv[1], Path(sys.argv[2]))
    options = CrawlOptions(user_agent="clausewatch-tests/1", delay=0, concurrency=4, timeout=600, retries=0)
    crawl(store, store.catalog.documents(), options, analyze=Analyzer())
""")


def policy(number: int) -> bytes:
    clauses = "".join(f"<h2>{n}. Section {n}</h2><p>Clause {n} of policy {number}: we may change these terms.</p>"
                      for n in range(1, 30))
    return f"<main><h1>Policy {number}</h1>{clauses}</main>".encode()


def test_kill_9_mid_crawl_then_rerun_records_each_version_once(sqlite_url, tmp_path, site, run_crawl):
    paths = [f"/p/{n}" for n in range(24)] + ["/hang"]
    for number, path in enumerate(paths):
        site.set(path, Page(policy(number)))
    site.set("/hang", Page(hang=True))
    platforms = [PlatformSpec(f"p{n}", f"P{n}", (DocumentSpec(f"p{n}", "Terms of Service",
                                                            (SourceSpec(site.url(path)),)),))
                 for n, path in enumerate(paths)]
    store = Store.open(sqlite_url, tmp_path / "objects")
    store.catalog.sync_catalog(platforms, now=datetime.now(UTC))

    child = subprocess.Popen([sys.executable, "-c", CRAWL, sqlite_url, str(tmp_path / "objects")], cwd=REPO)
    try:
        assert site.wait_for_request("/hang"), "the crawl never reached the hanging page"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL

    assert store.verify() == []  # no row points at a missing or corrupt blob
    site.set("/hang", Page(policy(99)))
    report = run_crawl(store, platforms)
    assert report.failed == 0
    for document in store.catalog.documents():
        assert len(store.history.versions(document.id)) == 1, document.id
    assert store.verify() == []
    store.close()


def _crash_loop():
    """The benchmark's loop itself, so the test checks what the benchmark reports."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("crash_loop", REPO / "benchmarks" / "crash_loop.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_sigkill_during_crawls_site_digest_and_analyze_leaves_everything_consistent(tmp_path):
    """A small run of benchmarks/crash_loop.py (the benchmark runs 20 kills per phase)."""
    figures = _crash_loop().run_loop(tmp_path, iterations=1, documents=3, seed=13, jitter=0)
    phases = ("crawl_first", "crawl_new", "site", "digest", "analyze")
    assert {phase: figures[phase]["problems"] for phase in phases} == {phase: [] for phase in phases}
    for phase in phases:
        assert figures[phase]["kills"] == 1
        assert (figures[phase]["verify_failures"], figures[phase]["rerun_failures"],
                figures[phase]["wrong_results"]) == (0, 0, 0), phase

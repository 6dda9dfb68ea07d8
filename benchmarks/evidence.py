"""Evidence benchmark: what WARC captures and the signed capture log cost. Prints one JSON object.

- capture: benchmarks/pipeline.py's loopback crawl (N CLAUDETTE pages, a first run and an
  unchanged re-run) in this tree and in a baseline tree without captures (``--baseline REF``,
  default the merge-base with main, extracted with git archive): CPU seconds per document and
  bytes stored per document (blob folder, database), plus what one WARC of every capture weighs.
- log: appending 10,000 captures (a failed fetch with its exchange, each its own transaction),
  against the same 10,000 fetches recorded by the baseline tree.
- verify: a store of 10,000 documents with one version each, one signed tree head; time of
  ``clausewatch verify``'s log check and blob re-hash; an evidence bundle of one document:
  its proof size and the time ``verify-evidence`` and VERIFY.md's script take to check it.

    nice python benchmarks/evidence.py [--n 100] [--entries 10000] [--baseline REF]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _pipeline():
    # pipeline.py puts this tree first on sys.path; the baseline's child must keep its own tree first.
    saved = list(sys.path)
    spec = importlib.util.spec_from_file_location("pipeline_bench", REPO / "benchmarks" / "pipeline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.path[:] = saved
    return module


# --- capture overhead (runs inside the tree under test) -----------------------------------


def child_capture(n: int, conditional: bool) -> dict:
    import multiprocessing
    from datetime import UTC, datetime

    from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
    from analysis.pipeline import Analyzer
    from crawler.crawl import CrawlOptions, crawl
    from store.repository import Store

    pipeline = _pipeline()
    parent_end, child_end = multiprocessing.Pipe()
    server = multiprocessing.Process(target=pipeline.serve, args=(n, conditional, child_end), daemon=True)
    server.start()
    base_url = parent_end.recv()
    result: dict = {"tree": str(Path(sys.modules["store.repository"].__file__).parents[1]), "n": n}
    with tempfile.TemporaryDirectory() as home:
        store = Store.open(f"sqlite:///{home}/clausewatch.db", Path(home) / "objects")
        platforms = [PlatformSpec(f"p{i}", f"Platform {i}", (DocumentSpec(
            f"p{i}", "Terms of Service", (SourceSpec(f"{base_url}/p/{i}", select=("main",)),)),)) for i in range(n)]
        store.catalog.sync_catalog(platforms, now=datetime.now(UTC))
        documents = store.catalog.documents()
        options = CrawlOptions(user_agent="clausewatch-benchmark/1", delay=0, concurrency=16, retries=0)
        analyzer = Analyzer()
        for run in ("first_run", "unchanged_run"):
            cpu = cpu_seconds()
            report = crawl(store, documents, options, analyze=analyzer)
            with store.engine.connect() as connection:  # the WAL's pages into the database file
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            blobs = folder_bytes(Path(home) / "objects")
            result[run] = {"cpu_s_per_doc": round((cpu_seconds() - cpu) / n, 4), "outcomes": report.counts,
                           "blob_bytes_per_doc": round(blobs / n),
                           "db_bytes_per_doc": round((folder_bytes(Path(home)) - blobs) / n)}
        result["warc_bytes_per_doc"] = round(_warc_bytes(store) / n) if _has_captures() else None
        store.close()
    parent_end.send("done")
    server.join(timeout=30)
    return result


def _has_captures() -> bool:
    """Whether the tree under test records captures (the baseline has no store/warc.py)."""
    from store import repository

    return (Path(repository.__file__).parent / "warc.py").exists()


def _warc_bytes(store) -> float:
    import io

    from store.capture_log import CaptureLog
    from store.warc import CaptureWriter

    out = io.BytesIO()
    CaptureWriter(out, store.blobs).write_all(c for _, c in CaptureLog(store).captures())
    return len(out.getvalue())


# --- log append (runs inside the tree under test) -----------------------------------------


def child_append(entries: int) -> dict:
    from datetime import UTC, datetime, timedelta

    from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
    from store.repository import Store

    with_exchange = _has_captures()
    with tempfile.TemporaryDirectory() as home:
        store = Store.open(f"sqlite:///{home}/clausewatch.db", Path(home) / "objects")
        store.catalog.sync_catalog([PlatformSpec("p", "P", (DocumentSpec(
            "p", "Terms of Service", (SourceSpec("http://127.0.0.1:9/terms"),)),))], now=datetime.now(UTC))
        [doc] = store.catalog.documents()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        cpu, wall = cpu_seconds(), time.perf_counter()
        for i in range(entries):
            when = start + timedelta(seconds=i)
            kwargs = {"exchanges": [_exchange(when)]} if with_exchange else {}
            store.recording.record_failure(doc.id, started_at=when, finished_at=when, kind="connection", detail="refused",
                                           **kwargs)
        cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
        store.close()
    return {"tree": "capture log" if with_exchange else "baseline", "entries": entries,
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "ms_per_append": round(1000 * wall / entries, 3)}


def _exchange(when, payload_sha256: str | None = None):
    """A refused request, or with a payload a 200 response carrying it."""
    from analysis.evidence import HttpExchange

    response = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" if payload_sha256 else None
    return HttpExchange(url="http://127.0.0.1:9/terms", captured_at=when,
                        request_head=b"GET /terms HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUser-Agent: bench\r\n\r\n",
                        response_head=response, status=200 if payload_sha256 else None, payload_sha256=payload_sha256)


# --- verify and bundles on a large store (this tree only) ----------------------------------


def verify_figures(documents: int) -> dict:
    from datetime import UTC, datetime, timedelta

    from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
    from analysis.text import sha256_bytes
    from reports.evidence import write_bundle
    from reports.evidence_check import check_bundle, read_bundle
    from store.capture_log import CaptureLog
    from store.evidence_data import evidence_subject
    from store.log_check import check_log
    from store.repository import Store
    from store.signing import create_key, load_signer

    pipeline = _pipeline()
    pages = pipeline.claudette_pages()
    with tempfile.TemporaryDirectory() as home:
        store = Store.open(f"sqlite:///{home}/clausewatch.db", Path(home) / "objects")
        platforms = [PlatformSpec(f"p{i}", f"P{i}", (DocumentSpec(f"p{i}", "Terms of Service", (
            SourceSpec(f"http://127.0.0.1:9/p/{i}"),)),)) for i in range(documents)]
        store.catalog.sync_catalog(platforms, now=datetime.now(UTC))
        docs = store.catalog.documents()
        start = datetime(2026, 1, 1, tzinfo=UTC)
        fill = time.perf_counter()
        for i, doc in enumerate(docs):
            body = pipeline.page_html(*pages[i % len(pages)], i)
            text = f"Terms of copy {i}\n\n" + pages[i % len(pages)][1][:3000]
            when = start + timedelta(seconds=i)
            snapshot = Snapshot(sha256_bytes(body), doc.id, doc.url, doc.url, 200, "text/html", when, size=len(body))
            store.recording.record_text(doc.id, snapshot=snapshot, body=body, text=text, started_at=when, finished_at=when,
                                        exchanges=[_exchange(when, snapshot.sha256)])
        fill = time.perf_counter() - fill
        create_key(Path(home) / "log.key")
        signer = load_signer(Path(home) / "log.key")
        CaptureLog(store).sign_tree_head(signer, datetime.now(UTC))

        cpu, wall = cpu_seconds(), time.perf_counter()
        report = check_log(store, signer.public_pem)
        log_wall, log_cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        wall = time.perf_counter()
        blob_problems = store.verify()
        blob_wall = time.perf_counter() - wall
        assert not report.problems and not blob_problems, (report.problems[:3], blob_problems[:3])

        subject = evidence_subject(store, docs[documents // 2].id)
        bundle = Path(home) / "bundle.zip"
        bundle.write_bytes(write_bundle(subject, store.blobs, signer.public_pem, base_url="http://localhost/"))
        wall = time.perf_counter()
        failures = check_bundle(read_bundle(bundle))
        assert failures == [], failures
        check_ms = 1000 * (time.perf_counter() - wall)
        script_ms = _script_time(bundle, Path(home) / "unzipped")
        bundle_bytes = bundle.stat().st_size
        store.close()
    return {"documents": documents, "fill_s": round(fill, 1),
            "verify_log_s": round(log_wall, 2), "verify_log_cpu_s": round(log_cpu, 2),
            "verify_blobs_s": round(blob_wall, 2), "verify_total_s": round(log_wall + blob_wall, 2),
            "proof_hashes": len(subject.inclusion_proof), "proof_bytes": 32 * len(subject.inclusion_proof),
            "bundle_bytes": bundle_bytes,
            "verify_evidence_ms": round(check_ms, 1), "verify_md_script_ms": round(script_ms, 1)}


def _script_time(bundle: Path, into: Path) -> float:
    import re
    import zipfile

    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(into)
    folder = next(into.iterdir())
    code = re.search(r"```python\n(.*?)```", (folder / "VERIFY.md").read_text(), re.S).group(1)
    import cryptography

    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(Path(cryptography.__file__).parents[1])}
    wall = time.perf_counter()
    subprocess.run([sys.executable, "-S", "-c", code, "."], cwd=folder, env=env, check=True, capture_output=True)
    return 1000 * (time.perf_counter() - wall)


# --- driver --------------------------------------------------------------------------------


def baseline_tree(ref: str | None, into: Path) -> tuple[str, Path]:
    ref = ref or subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=REPO, check=True, capture_output=True,
                                text=True).stdout.strip()
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return ref, into


def run_child(root: Path, *args: str) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--root", str(root), *args]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=root).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="pages of the capture runs")
    parser.add_argument("--entries", type=int, default=10_000, help="captures appended; documents verified")
    parser.add_argument("--baseline", help="git ref of the tree without captures (default: merge-base with main)")
    parser.add_argument("--no-conditional", action="store_true", help="unchanged run re-fetches every page")
    parser.add_argument("--skip", action="append", default=[], choices=["capture", "log", "verify"])
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, args.root)
        figures = (child_capture(args.n, not args.no_conditional) if args.child == "capture"
                   else child_append(args.entries))
        print(json.dumps(figures))
        return
    conditional = ["--no-conditional"] * args.no_conditional
    result: dict = {"benchmark": "evidence", "machine_note": "2 shared cores, loaded by other work: noisy"}
    with tempfile.TemporaryDirectory() as scratch:
        ref, base = baseline_tree(args.baseline, Path(scratch))
        result["baseline_ref"] = ref
        if "capture" not in args.skip:
            result["capture"] = {
                "with_capture": run_child(REPO, "--child", "capture", "--n", str(args.n), *conditional),
                "baseline": run_child(base, "--child", "capture", "--n", str(args.n), *conditional)}
        if "log" not in args.skip:
            result["log_append"] = {
                "with_capture": run_child(REPO, "--child", "append", "--entries", str(args.entries)),
                "baseline": run_child(base, "--child", "append", "--entries", str(args.entries))}
    if "verify" not in args.skip:
        sys.path.insert(0, str(REPO))
        result["verify"] = verify_figures(args.entries)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

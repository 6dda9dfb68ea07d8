"""Benchmark of the static site (SPEC §11 `site`): a full build of 10,000 provision pages, the
rebuild with nothing changed, and the rebuild after one document changes.

A synthetic SQLite store is filled through ``Recording.record_text`` (``store.recording``) with the real
splitter and change builder; the classifier is a stand-in that recognises the
clause type titles written into the synthetic texts, so the number of
provisions is exact. Each fetch is logged with its capture (a request and a 200 response carrying the page) and
the log is signed, as a crawl does, so the site publishes the log and an evidence bundle per record and per version,
as it does for a real store (``--no-evidence``: without them, the figures before decision 0014's twenty-sixth pass).
Prints one JSON object of figures.

    .venv/bin/python benchmarks/site.py [--provisions 10000] [--types-per-document 10] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.domain import Classification, DocumentSpec, PlatformSpec, Snapshot, SourceSpec  # noqa: E402
from analysis.evidence import HttpExchange  # noqa: E402
from analysis.pipeline import Analyzer  # noqa: E402
from analysis.taxonomy import BY_ID  # noqa: E402
from analysis.text import normalize_text, sha256_bytes  # noqa: E402
from reports.site import build  # noqa: E402
from reports.site.builder import SiteBuilder  # noqa: E402
from store.capture_log import CaptureLog  # noqa: E402
from store.repository import Store  # noqa: E402
from store.signing import LogSigner, create_key, load_signer  # noqa: E402

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
DOCUMENT_TYPES = ("Terms of Service", "Privacy Policy", "Developer Terms", "Acceptable Use Policy")
CLAUSE_TYPE_TITLES = {t.id: t.title for t in BY_ID.values()}
TYPES = tuple(CLAUSE_TYPE_TITLES)
FILLER = ("Users should read this section carefully because it describes obligations that apply to every account "
          "and every use of the service, including use through third-party integrations and mobile applications.")


class TitleClassifier:
    """Clause types from the titles the synthetic texts contain; severity from a stable hash."""

    analyzer_id = "benchmark-titles-1"

    def classify(self, texts: Sequence[str], privacy_policy: bool = False) -> list[Classification]:
        return [self._one(text) for text in texts]

    @staticmethod
    def _one(text: str) -> Classification:
        types = tuple(t for t, title in CLAUSE_TYPE_TITLES.items() if f"[{title}]" in text)
        if not types:
            return Classification(types=())
        severity = ("low", "medium", "high")[int(hashlib.sha256(text.encode()).hexdigest(), 16) % 3]
        return Classification(types=types, severity=severity, confidence=0.8, evidence=(types[0],),
                              basis="explicit", reason=f"states {types[0]}")


def document_text(platform: str, doc_type: str, types: Sequence[str], revision: int) -> str:
    sections = [f"# {platform} {doc_type}", ""]
    for number, clause_type in enumerate(types, 1):
        title = CLAUSE_TYPE_TITLES[clause_type]
        sections += [f"## {number}. {title}", "",
                     f"{platform} [{title}] applies to you. {FILLER} Revision {revision if number == 1 else 0}.", ""]
    sections += [f"## {len(types) + 1}. Contact", "", f"Write to {platform} at the address on our website.", ""]
    return normalize_text("\n".join(sections))


def record(store: Store, document_id: str, url: str, text: str, when: datetime, analyzer: Analyzer) -> None:
    body = f"<html><body><pre>{text}</pre></body></html>".encode()
    snapshot = Snapshot(sha256_bytes(body), document_id, url, url, 200, "text/html", when, size=len(body))
    store.recording.record_text(document_id, snapshot=snapshot, body=body, text=text, started_at=when, finished_at=when,
                                analyze=analyzer, exchanges=[_exchange(url, when, snapshot.sha256)])


def _exchange(url: str, when: datetime, payload_sha256: str) -> HttpExchange:
    """The capture of a page: the request and the 200 response that carried it."""
    parts = urlsplit(url)
    return HttpExchange(url=url, captured_at=when, status=200, payload_sha256=payload_sha256,
                        request_head=f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode(),
                        response_head=b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n")


def log_signer(work: Path) -> LogSigner:
    """A capture-log key made in ``work``, as ``init`` makes one."""
    create_key(work / "log.key")
    return load_signer(work / "log.key")


def sign(store: Store, signer: LogSigner | None) -> None:
    """Sign the capture log as a crawl's end does (nothing without a signer)."""
    if signer is not None:
        CaptureLog(store).sign_tree_head(signer, datetime.now(UTC))


def fill(store: Store, documents: int, types_per_document: int) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """``documents`` documents, 4 per platform, each with ``types_per_document`` typed clauses."""
    platforms, plan = [], []
    for index in range(0, documents, len(DOCUMENT_TYPES)):
        slug = f"platform-{index // len(DOCUMENT_TYPES):04d}"
        docs = tuple(DocumentSpec(slug, t, (SourceSpec(f"https://{slug}.example/{i}"),))
                     for i, t in enumerate(DOCUMENT_TYPES[: documents - index]))
        platforms.append(PlatformSpec(slug, f"Platform {index // len(DOCUMENT_TYPES)}", docs))
    analyzer = Analyzer(model=TitleClassifier())
    store.catalog.sync_catalog(platforms, now=T0)
    for n, doc in enumerate(store.catalog.documents()):
        types = tuple(TYPES[(n + k) % len(TYPES)] for k in range(types_per_document))
        plan.append((doc.id, doc.url, doc.platform_name, types))
        record(store, doc.id, doc.url, document_text(doc.platform_name, doc.type, types, 1), T0, analyzer)
    return plan


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def timed(action):
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, round(time.perf_counter() - start_wall, 3), round(time.process_time() - start_cpu, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provisions", type=int, default=10_000)
    parser.add_argument("--types-per-document", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it (default: a temporary folder).")
    parser.add_argument("--no-evidence", action="store_true",
                        help="Build without the signed log and the evidence bundles.")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cw-site-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(json.dumps(run(work, args.provisions, args.types_per_document, evidence=not args.no_evidence)))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, provisions: int, types_per_document: int, *, evidence: bool = True) -> dict:
    store = Store.open(f"sqlite:///{work / 'bench.db'}", work / "objects")
    documents = -(-provisions // types_per_document)
    plan, fill_wall, _ = timed(lambda: fill(store, documents, types_per_document))
    signer = log_signer(work) if evidence else None
    sign(store, signer)
    key = signer.public_pem if signer else None
    out = work / "site"
    full, full_wall, full_cpu = timed(lambda: build(store, out, base_url="https://bench.example/", public_key=key))
    files, size = folder_size(out)
    # Baseline in the same run and on the same store: the site without version and provision-history
    # pages (built second, so warm caches favour the baseline, not the time-travel build).
    base, base_wall, base_cpu = timed(lambda: SiteBuilder(store, work / "site-baseline", "https://bench.example/",
                                                          key, time_travel=False).build())
    same, same_wall, _ = timed(lambda: build(store, out, base_url="https://bench.example/", public_key=key))
    doc_id, url, name, types = plan[len(plan) // 2]
    analyzer = Analyzer(model=TitleClassifier())
    record(store, doc_id, url, document_text(name, "changed", types, 2), T0 + timedelta(days=1), analyzer)
    sign(store, signer)
    one, one_wall, one_cpu = timed(lambda: build(store, out, base_url="https://bench.example/", public_key=key))
    store.close()
    record_pages = sum(1 for _ in (out / "records").glob("*.html"))
    travel_pages = full.pages - base.pages
    return {
        "benchmark": "site", "documents": documents, "provision_pages": record_pages, "pages": full.pages,
        "evidence_bundles": sum(1 for _ in out.rglob("*.zip")),
        "fill_store_seconds": fill_wall,
        "full_build_seconds": full_wall, "full_build_cpu_seconds": full_cpu,
        "pages_per_second": round(full.pages / full_wall, 1),
        "unchanged_rebuild_seconds": same_wall, "unchanged_rebuild_written": len(same.written),
        "one_document_rebuild_seconds": one_wall, "one_document_rebuild_cpu_seconds": one_cpu,
        "one_document_rebuild_rendered": one.rendered, "one_document_rebuild_written": len(one.written),
        "one_document_rebuild_unchanged": one.unchanged,
        "time_travel_pages": travel_pages,
        "baseline_without_time_travel_pages": base.pages, "baseline_full_build_seconds": base_wall,
        "baseline_full_build_cpu_seconds": base_cpu,
        "output_files": files, "output_bytes": size, "output_mib": round(size / 2**20, 1),
        "search_index_bytes": (out / "search-index.js").stat().st_size,
        "export_bytes": (out / "export/records.json").stat().st_size,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


if __name__ == "__main__":
    main()

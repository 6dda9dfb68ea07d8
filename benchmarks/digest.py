"""Benchmark of the notifications (issue 12): the weekly digest's time and peak memory on a large
archive, and the sizes of the digest and the alert.

The digest must read only the period's changes, never the archive: the store
holds ``--documents`` documents with an archived first version each, and a
synthetic week in which ``--changed`` of them change. Sizes are measured for a
1,000-document week (same store) and for the demo store (``clausewatch demo``,
whose run writes both emails as ``.eml`` files with --dry-run). Prints one JSON
object of figures; sizes are bytes of the whole ``.eml`` and of its HTML part
as sent (CSS inlined).

    .venv/bin/python benchmarks/digest.py [--documents 10000] [--changed 1000] [--keep DIR [--reuse]] [--no-demo]
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.domain import Classification, DocumentSpec, PlatformSpec, Snapshot, SourceSpec  # noqa: E402
from analysis.pipeline import Analyzer  # noqa: E402
from analysis.text import normalize_text, sha256_bytes  # noqa: E402
from reports import mail  # noqa: E402
from reports.alerts import alert_renderer  # noqa: E402
from reports.digest import collect_digest, send_weekly_digest  # noqa: E402
from reports.notification import build_messages, collect  # noqa: E402
from reports.subscribers import Subscriber, SubscriberList  # noqa: E402
from store.change_records import failing_documents, list_changes  # noqa: E402
from store.repository import Store  # noqa: E402

ARCHIVED = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
WEEK = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BASE_URL = "https://bench.example/"
SENDER = "clausewatch <digest@bench.example>"
READER = Subscriber("legal@bench.example", name="Legal")
SEVERE = {"terminate": "high", "arbitration": "high", "licence": "medium", "notice": "medium", "law": "low"}
CLAUSES = (
    "We may terminate your account at any time {x}.",
    "Any dispute is resolved by arbitration in Delaware {x}.",
    "You grant us a licence to your content {x}.",
    "We give you notice of changes by email {x}.",
    "These terms are governed by the law of Ireland {x}.",
    "Contact us at the address on our website {x}.",
)


class KeywordClassifier:
    """A stand-in for the model: a type and a severity from a keyword, so the analysis stays cheap."""

    analyzer_id = "benchmark-keywords-1"

    def classify(self, texts: Sequence[str], privacy_policy: bool = False) -> list[Classification]:
        return [self._one(text) for text in texts]

    @staticmethod
    def _one(text: str) -> Classification:
        for word, severity in SEVERE.items():
            if word in text:
                return Classification(types=("unilateral_termination",), severity=severity)
        return Classification(types=())


def document_text(name: str, revision: int) -> str:
    """Six numbered clauses; a later revision rewrites every clause, as a real overhaul does."""
    extra = "" if revision == 1 else f"and, since revision {revision}, for any reason and without further notice"
    body = [f"## {n}. Section {n}\n\n{n}.1 {clause.format(x=extra)} {name} applies this everywhere."
            for n, clause in enumerate(CLAUSES, 1)]
    return normalize_text(f"# {name} Terms\n\n" + "\n\n".join(body))


def record(store: Store, doc, text: str, when: datetime, analyzer: Analyzer) -> None:
    body = text.encode()
    snapshot = Snapshot(sha256_bytes(body), doc.id, doc.url, doc.url, 200, "text/plain", when, size=len(body))
    store.recording.record_text(doc.id, snapshot=snapshot, body=body, text=text, started_at=when, finished_at=when,
                      analyze=analyzer)


def fill(store: Store, documents: int, changed: int) -> None:
    """``documents`` archived documents (10 per platform); ``changed`` of them change during the week."""
    platforms = [PlatformSpec(f"p{p:04d}", f"Platform {p}", tuple(
        DocumentSpec(f"p{p:04d}", f"Document {d}", (SourceSpec(f"https://p{p}.example/{d}"),))
        for d in range(min(10, documents - p * 10)))) for p in range(-(-documents // 10))]
    analyzer = Analyzer(model=KeywordClassifier())
    store.catalog.sync_catalog(platforms, now=ARCHIVED)
    docs = store.catalog.documents()
    for doc in docs:
        record(store, doc, document_text(doc.platform_name, 1), ARCHIVED, analyzer)
    step = max(1, len(docs) // max(changed, 1))
    for n, doc in enumerate(docs[::step][:changed]):
        record(store, doc, document_text(doc.platform_name, 2), WEEK + timedelta(minutes=n), analyzer)


def timed(action):
    """``action()`` and its wall time."""
    start = time.perf_counter()
    result = action()
    return result, round(time.perf_counter() - start, 2)


def peak_mib(action) -> float:
    """The peak of Python allocations while ``action()`` runs (a second run: tracemalloc slows it down)."""
    tracemalloc.start()
    action()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(peak / 2**20, 1)


def eml_sizes(path: Path) -> dict[str, int]:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return {"eml_bytes": path.stat().st_size, "html_bytes": len(message.get_body(("html",)).get_content().encode())}


def week_figures(store: Store, work: Path) -> dict:
    until = WEEK + timedelta(days=7)
    collect_week = lambda: collect_digest(store, since=WEEK, until=until, base_url=BASE_URL)  # noqa: E731
    content, seconds = timed(collect_week)
    # Its two queries apart: the week's changes (grows with the week) and the failing documents
    # (store.change_records.failing_documents, which today asks once per catalog document).
    _, changes_seconds = timed(lambda: list_changes(store, since=WEEK))
    _, failing_seconds = timed(lambda: failing_documents(store, at_least=1))
    report, send_seconds = timed(lambda: send_weekly_digest(
        store, SubscriberList(work, (READER,)), since=WEEK, now=until, base_url=BASE_URL, sender=SENDER,
        mailer=mail.DirectoryMailer(work / "digest")))
    pending = collect(list_changes(store, pending_alert=True), [], base_url=BASE_URL)
    messages, _ = build_messages(pending, [READER], renderer=alert_renderer(BASE_URL), sender=SENDER, now=until,
                                 when_empty=False)
    (alert,) = mail.deliver([m.message for m in messages], mail.DirectoryMailer(work / "alert"))
    return {
        "week_changed_documents": len(content.changes),
        "collect_digest_seconds": seconds, "collect_digest_peak_python_mib": peak_mib(collect_week),
        "week_changes_query_seconds": changes_seconds, "failing_documents_query_seconds": failing_seconds,
        "digest_end_to_end_seconds": send_seconds,
        "digest": eml_sizes(report.deliveries[0].path), "alert": eml_sizes(alert.path),
    }


def demo_figures(work: Path) -> dict:
    """Sizes of the emails `clausewatch demo` writes (its digest and alert runs are --dry-run)."""
    demo = work / "demo"
    subprocess.run([str(Path(sys.executable).with_name("clausewatch")), "--home", str(work / "home"), "demo", "--out", str(demo)],
                   check=True, capture_output=True, cwd=ROOT)
    largest = {kind: max((demo / "mail" / kind).glob("*.eml"), key=lambda p: p.stat().st_size)
               for kind in ("digest", "alerts")}
    return {kind: eml_sizes(path) for kind, path in largest.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--keep", type=Path, help="Work in this folder and keep it (default: a temporary folder).")
    parser.add_argument("--no-demo", action="store_true", help="Skip the demo store's sizes.")
    parser.add_argument("--reuse", action="store_true", help="Measure the store --keep holds from an earlier run.")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cw-digest-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        store = Store.open(f"sqlite:///{work / 'bench.db'}", work / "objects")
        figures = {"benchmark": "digest", "documents": args.documents}
        if not args.reuse:
            figures["fill_store_seconds"] = timed(lambda: fill(store, args.documents, args.changed))[1]
        figures.update(week_figures(store, work))
        store.close()
        if not args.no_demo:
            figures["demo"] = demo_figures(work)
        figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(figures))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

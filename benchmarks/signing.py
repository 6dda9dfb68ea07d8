"""Signing the capture log as it grows: what a crawl's tree head costs over a long history. Prints one JSON object.

A crawl logs one leaf per fetch and signs a tree head at its end, so the log
grows for ever (a year of daily crawls of 1,000 documents is 365,000 leaves).
For each ``--leaves`` N, a fresh SQLite store is given N leaves (rows written
directly, as crawls would have logged them), then:

- ``from_every_leaf``: the first head is signed, with no earlier head to start
  from: every leaf is read and hashed, as every signing did before revision 0011
  (the baseline, in the same run);
- ``from_the_frontier``: 100 more leaves (a crawl of 100 documents), then the
  next head, folded from the first head's frontier and those 100 leaves.

Figures: CPU seconds and the growth of peak RSS (MB) of each signing.

    nice -n 10 .venv/bin/python benchmarks/signing.py --leaves 10000 --leaves 100000 --leaves 400000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CRAWL = 100  # leaves a crawl of 100 documents adds


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def add_leaves(store, count: int, first: int) -> None:
    """``count`` failed fetches of one document and their log leaves, numbered from ``first``."""
    from sqlalchemy import insert

    from analysis import merkle
    from analysis.evidence import LogLeaf
    from store.tables import DocumentRow, FetchRow, LogEntryRow

    now = datetime.now(UTC)
    with store.session() as session:
        document = session.query(DocumentRow).first()
        for start in range(first, first + count, 10_000):
            ids = range(start, min(start + 10_000, first + count))
            session.execute(insert(FetchRow), [{"id": i + 1, "document_id": document.id, "started_at": now,
                                                "finished_at": now, "outcome": "failed", "error_kind": "timeout"}
                                               for i in ids])
            leaves = [(i, LogLeaf("CW-D-00001", "https://acme.example/terms", now, "failed", failure="timeout",
                                  records=(f"<urn:uuid:{os.urandom(16).hex()}>",)).encode()) for i in ids]
            session.execute(insert(LogEntryRow), [{"id": i, "fetch_id": i + 1, "leaf": leaf,
                                                   "leaf_hash": merkle.leaf_hash(leaf).hex()} for i, leaf in leaves])


def timed_signing(log, signer) -> dict:
    rss, cpu = peak_rss_mb(), time.process_time()
    head = log.sign_tree_head(signer, datetime.now(UTC))
    return {"size": head.size, "cpu_s": round(time.process_time() - cpu, 3),
            "peak_rss_growth_mb": round(peak_rss_mb() - rss, 1)}


def child(leaves: int) -> dict:
    from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
    from store.capture_log import CaptureLog
    from store.repository import Store
    from store.signing import create_key, load_signer

    with tempfile.TemporaryDirectory(prefix="clausewatch-signing-") as home:
        store = Store.open(f"sqlite:///{home}/clausewatch.db", Path(home) / "objects", mode="create")
        store.catalog.sync_catalog([PlatformSpec("acme", "Acme", (DocumentSpec(
            "acme", "Terms of Service", (SourceSpec("https://acme.example/terms"),)),))], now=datetime.now(UTC))
        create_key(Path(home) / "log.key")
        signer = load_signer(Path(home) / "log.key")
        log = CaptureLog(store)
        add_leaves(store, leaves, 0)
        every = timed_signing(log, signer)
        add_leaves(store, CRAWL, leaves)
        frontier = timed_signing(log, signer)
        store.close()
    return {"leaves": leaves, "from_every_leaf": every, "from_the_frontier": frontier}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, action="append", help="leaves in the log before signing (repeatable)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return
    import subprocess

    runs = []
    for leaves in args.leaves or [10_000, 100_000]:  # each in a fresh process: peak RSS is per run
        out = subprocess.run([sys.executable, __file__, "--child", str(leaves)], check=True, capture_output=True,
                             text=True).stdout
        runs.append(json.loads(out))
    print(json.dumps({"benchmark": "signing", "crawl_leaves": CRAWL, "runs": runs,
                      "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()]}, indent=2))


if __name__ == "__main__":
    main()

"""Distributed crawl benchmark: N policy pages on loopback drained by 1, 2… `crawl-worker` processes (SPEC §9).

Each worker count gets a fresh PostgreSQL schema and its own Redis queue; the
catalog is enqueued with `clausewatch enqueue`, then that many
`clausewatch crawl-worker --drain --delay 0` processes are started at once.
``wall_s`` runs from starting the workers to the last one exiting (process
start-up included); ``worker_crawl_s`` is each worker's own crawl, start-up
excluded; ``fetch_span_s`` runs from the first to the last page request the
server saw. On a loaded machine read ``load_average`` beside the figures. Prints one JSON object.

    python benchmarks/distributed.py --n 300 --workers 1 --workers 2
    python benchmarks/distributed.py --n 100 --concurrency 1 --latency-ms 100   # latency-bound
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from clausewatch.loopback_site import LocalSite, Page  # noqa: E402

CLAUSE = ("<h2>{n}. Section {n}</h2><p>Platform {p} may change section {n} of these terms at any time. "
          "You agree that disputes about section {n} are settled by arbitration in Ireland.</p>")
RESULT_LINE = re.compile(r"^(CW-D-\d+)  (\S+)", re.MULTILINE)
WORKER_SECONDS = re.compile(r"^worker .* in ([\d.]+)s$", re.MULTILINE)


class TimedSite(LocalSite):
    """A loopback site that notes when each policy page was asked for."""

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__()
        self.latency = latency
        self.times: list[float] = []
        self._times_lock = threading.Lock()

    def page(self, path: str) -> Page | None:
        if path != "/robots.txt":
            with self._times_lock:
                self.times.append(time.perf_counter())
            # A remote server's response time; each request has its own server thread.
            time.sleep(self.latency)
        return super().page(path)


def write_catalog(folder: Path, site: LocalSite, count: int) -> None:
    folder.mkdir(parents=True)
    for p in range(count):
        body = "".join(CLAUSE.format(n=n, p=p) for n in range(1, 31))
        site.set(f"/p{p}/terms", Page(f"<html><body><main><h1>Terms {p}</h1>{body}</main></body></html>".encode()))
        (folder / f"platform-{p}.yaml").write_text(
            f"name: Platform {p}\ndocuments:\n  - type: Terms of Service\n    url: {site.url(f'/p{p}/terms')}\n",
            encoding="utf-8")


def clausewatch(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", "from clausewatch.cli import main; main()", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(n: int, workers: int, args: argparse.Namespace, workdir: Path) -> dict:
    import redis
    import sqlalchemy as sa

    pg_url, redis_url = args.pg, args.redis
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    queue = "bench-" + uuid.uuid4().hex[:10]
    env = {**os.environ, "CLAUSEWATCH_HOME": str(workdir / "home"), "CLAUSEWATCH_BLOBS": str(workdir / "objects"),
           "CLAUSEWATCH_DATABASE_URL": f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{schema}",
           "CLAUSEWATCH_CATALOG": str(workdir / "catalog"), "CLAUSEWATCH_CRAWL_REDIS_URL": redis_url,
           "CLAUSEWATCH_CRAWL_QUEUE": queue}
    try:
        with TimedSite(args.latency_ms / 1000) as site:
            write_catalog(workdir / "catalog", site, n)
            out, err = clausewatch(env, "enqueue").communicate()
            if "queued" not in out:
                raise SystemExit(f"enqueue failed: {out}{err}")
            started = time.perf_counter()
            procs = [clausewatch(env, "crawl-worker", "--drain", "--delay", "0", "--concurrency", str(args.concurrency))
                     for _ in range(workers)]
            outputs = [p.communicate()[0] for p in procs]
            wall = time.perf_counter() - started
            span = max(site.times) - min(site.times) if site.times else 0.0
        shares = [len(RESULT_LINE.findall(o)) for o in outputs]
        crawl_seconds = [float(m) for o in outputs for m in WORKER_SECONDS.findall(o)]
        return {"workers": workers, "documents": n, "checked": sum(shares), "per_worker": shares,
                "wall_s": round(wall, 2), "docs_per_s_wall": round(n / wall, 1),
                "worker_crawl_s": crawl_seconds,
                "docs_per_s_crawl": round(n / max(crawl_seconds), 1) if crawl_seconds else None,
                "fetch_span_s": round(span, 2), "docs_per_s_crawling": round(n / span, 1) if span else None}
    finally:
        redis.Redis.from_url(redis_url).delete(*(f"clausewatch:{queue}:{k}" for k in
                                                 ("documents", "leases", "queued", "dead")))
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="documents (default 200)")
    parser.add_argument("--workers", type=int, action="append", help="worker processes; repeatable (default 1, 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight per worker (one host)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="server response time per page")
    parser.add_argument("--pg", default=os.environ.get("CLAUSEWATCH_TEST_PG",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--redis", default=os.environ.get("CLAUSEWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    runs = []
    for workers in args.workers or [1, 2]:
        with tempfile.TemporaryDirectory(prefix="cw-distributed-") as workdir:
            runs.append(run(args.n, workers, args, Path(workdir)))
    print(json.dumps({"benchmark": "distributed", "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
                      "concurrency": args.concurrency, "latency_ms": args.latency_ms, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()

"""Serve a folder on loopback as ``python -m http.server`` does, with a listen backlog a crawl's concurrency fits.

``http.server`` listens with a backlog of 5 (``socketserver``'s default): when a crawl opens 16 connections at
once, the kernel drops the connections over it and each client retries a second later (Linux's first SYN
retransmission), so a handful of pages arrive a second late and an unchanged re-run of 100 pages took 1.9 s
instead of 1.0. A production server listens with a backlog of hundreds; this one with the loopback site's.

    python benchmarks/corpus_server.py PORT FOLDER
"""

from __future__ import annotations

import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler

from clausewatch.loopback_site import QuietServer  # the tests' loopback server: the same backlog, quiet on hang-ups


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        pass


def main(port: int, folder: str) -> None:
    with QuietServer(("127.0.0.1", port), partial(QuietHandler, directory=folder)) as server:
        server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])

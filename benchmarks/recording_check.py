"""Recording check: everything the pipeline stores for the stages benchmark's pages, against another checkout's.

The pages of ``benchmarks/stages.py`` go through ``extract_document`` and
``Recording.record_text`` with the default ``Analyzer``, at fixed times, three
times: as served, edited (``edited_text``: a paragraph dropped, a word and a duration changed, one added: the
alignment and the change engine get work), and edited again unchanged; then the edited
pages are fetched twice more and go through the crawl's recorder as its pipeline records them
(``pipeline.record_in_batches``): extracted and keyed, then recognised by their key and
recorded without extracting (decision 0014: one by one since the eighth pass, in batches
since the ninth). A last pass through the crawl's recorder edits the pages once more (new versions
analysed against the previous ones) and fetches a quarter as many further documents for the first
time (first versions): the recorder's own path to ``record_text`` (decision 0014, twelfth pass).
Then every row of every table (in sorted order) and every blob's name are hashed. Run it in the
other checkout with ``--save``, then here with
``--compare``: it prints the tables whose rows differ, and exits 1 if any does.
A speed change to the store or the analysis must leave this list empty: the
versions, clauses, provision ids, alignments and facts are then byte-identical.

    git archive BASE | tar -x -C /tmp/base && cp benchmarks/recording_check.py benchmarks/pipeline.py /tmp/base/benchmarks/
    .venv/bin/python /tmp/base/benchmarks/recording_check.py --save /tmp/base.json
    .venv/bin/python benchmarks/recording_check.py --compare /tmp/base.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The editable install's finder would import this project from its own
# checkout whatever folder the script runs from: drop it, so that the code
# beside the script is the code checked.
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The stages benchmark's pages, and how the crawl's pipeline records them.
from pipeline import claudette_pages, edited_text, page_html, record_in_batches  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)


def record_passes(home: Path, n: int) -> None:
    """Record the pages, then their edits four times, then a second edit and further documents' first fetches,
    into a store in ``home``."""
    from analysis.domain import DocumentSpec, PlatformSpec, Snapshot, SourceSpec
    from analysis.pipeline import Analyzer
    from analysis.text import sha256_bytes
    from crawler.extract import extract_document
    from crawler.items import FetchedDocument, FetchedPart
    from crawler.recorder import Recorder
    from store.repository import Store

    pages = claudette_pages()
    sources = [pages[i % len(pages)] for i in range(n)]
    served = [page_html(name, text, i) for i, (name, text) in enumerate(sources)]
    changed = [page_html(name, edited_text(text, i), i) for i, (name, text) in enumerate(sources)]
    store = Store.open(f"sqlite:///{home}/clausewatch.db", home / "objects")
    platforms = [PlatformSpec(f"{prefix}{i}", f"Platform {prefix}{i}", (DocumentSpec(
        f"{prefix}{i}", "Terms of Service", (SourceSpec(f"http://127.0.0.1/{prefix}/{i}", select=("main",)),)),))
        for prefix, count in (("p", n), ("q", n // 4)) for i in range(count)]
    store.catalog.sync_catalog(platforms, now=START)
    documents = [document for document in store.catalog.documents() if document.spec.platform.startswith("p")]
    later = [document for document in store.catalog.documents() if document.spec.platform.startswith("q")]
    analyzer = Analyzer()
    for run, pages in enumerate((served, changed, changed), start=1):
        now = START + timedelta(days=run)
        for document, body in zip(documents, pages, strict=True):
            source = document.spec.sources[0]
            text = extract_document([(body, "text/html; charset=utf-8", source.url, source)])
            snapshot = Snapshot(sha256_bytes(body), document.id, source.url, source.url, 200, "text/html", now,
                                size=len(body))
            store.recording.record_text(document.id, snapshot=snapshot, body=body, text=text, started_at=now,
                                        finished_at=now, analyze=analyzer, shrink_ratio=0.5)
    recorder = Recorder(store, analyze=analyzer, run_id="recording-check", shrink_ratio=0.5)
    for run in (4, 5):
        now = START + timedelta(days=run)
        items = []
        for document, body in zip(documents, changed, strict=True):
            source = document.spec.sources[0]
            snapshot = Snapshot(sha256_bytes(body), document.id, source.url, source.url, 200, "text/html", now,
                                size=len(body))
            items.append(FetchedDocument(document.id, now, now, [FetchedPart(snapshot, body, source)]))
        record_in_batches(recorder, items)
    again = [page_html(name, edited_text(text, i + 1), i) for i, (name, text) in enumerate(sources)]
    now = START + timedelta(days=6)
    items = []
    for document, body in zip([*documents, *later], [*again, *served[:len(later)]], strict=True):
        source = document.spec.sources[0]
        snapshot = Snapshot(sha256_bytes(body), document.id, source.url, source.url, 200, "text/html", now,
                            size=len(body))
        items.append(FetchedDocument(document.id, now, now, [FetchedPart(snapshot, body, source)]))
    record_in_batches(recorder, items)
    store.close()


def digests(home: Path) -> dict[str, str]:
    """``{table: sha256 of its rows}`` for every table of the store in ``home``, and ``{"blobs": …}``."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(f"sqlite:///{home}/clausewatch.db")
    found: dict[str, str] = {}
    with engine.connect() as connection:
        for table in sorted(inspect(engine).get_table_names()):
            rows = sorted(json.dumps(list(row), default=str) for row in connection.execute(text(f"SELECT * FROM {table}")))
            found[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    engine.dispose()
    names = sorted(str(path.relative_to(home)) for path in (home / "objects").rglob("*") if path.is_file())
    found["blobs"] = hashlib.sha256("\n".join(names).encode()).hexdigest()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--save", type=Path, help="write the digests to this file")
    action.add_argument("--compare", type=Path, help="compare with digests saved by another checkout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        record_passes(Path(home), args.n)
        found = digests(Path(home))
    if args.save:
        args.save.write_text(json.dumps({"n": args.n, "tables": found}, indent=1))
        print(json.dumps({"tables": len(found), "saved": str(args.save)}))
        return
    saved = json.loads(args.compare.read_text())
    differ = sorted(table for table in found.keys() | saved["tables"].keys()
                    if found.get(table) != saved["tables"].get(table))
    print(json.dumps({"n": args.n, "tables": len(found), "differ": differ}, indent=1))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

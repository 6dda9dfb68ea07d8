"""Extraction check: the text of every real snapshot, byte for byte, against another checkout's extractor.

Extracts every snapshot of Open Terms Archive's demo collection
(``../shared/datasets/ota/demo-snapshots.bundle``, with the declaration in
force at each snapshot's date, as ``benchmarks/noise.py`` replays them) and
records the SHA-256 of each text, or its extraction error kind. Run it in the
other checkout with ``--save``, then here with ``--compare``: it prints the
snapshots whose text differs, and exits 1 if any does. A speed change to the
extractor must leave this list empty (decision 0014).

    git archive BASE | tar -x -C /tmp/base && cp benchmarks/extraction_check.py /tmp/base/benchmarks/
    .venv/bin/python /tmp/base/benchmarks/extraction_check.py --save /tmp/base.json
    .venv/bin/python benchmarks/extraction_check.py --compare /tmp/base.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# The editable install's finder would import this project from its own
# checkout whatever folder the script runs from: drop it, so that the code
# beside the script is the code checked.
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("__editable__")]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import noise  # noqa: E402  (the snapshot replay's git plumbing and declarations)


def digests(workdir: Path, limit: int | None) -> dict[str, str]:
    """``{"path@commit": sha256 of the text or "error:KIND"}`` for every snapshot."""
    from analysis.text import sha256_text
    from crawler.extract import ExtractionError, extract_document

    repo = noise.clone(noise.SNAPSHOTS_BUNDLE, workdir / "snapshots")
    documents = noise.load_documents(noise.DECLARATIONS)
    reader = noise.BlobReader(repo)
    found: dict[str, str] = {}
    try:
        for path, refs in sorted(noise.snapshot_refs(repo).items()):
            name, suffix = path.rsplit(".", 1) if "." in path else (path, "")
            document = documents.get(name)
            if document is None:
                continue
            for ref in refs:
                if limit is not None and len(found) >= limit:
                    return found
                parts = [(reader.read(ref.blob), noise.EXTENSIONS.get(f".{suffix}"), source.url, source)
                         for source in noise.sources_at(document, ref.date)[:1]]
                try:
                    found[f"{path}@{ref.commit}"] = sha256_text(extract_document(parts))
                except ExtractionError as error:
                    found[f"{path}@{ref.commit}"] = f"error:{error.kind}"
    finally:
        reader.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--save", type=Path, help="write this checkout's digests here")
    parser.add_argument("--compare", type=Path, help="digests of the other checkout to compare with")
    parser.add_argument("--limit", type=int, help="only the first N snapshots")
    parser.add_argument("--workdir", type=Path, help="where the bundle is cloned (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        start = time.process_time()
        found = digests(args.workdir or Path(scratch), args.limit)
        seconds = time.process_time() - start
    if args.save:
        args.save.write_text(json.dumps(found, indent=0, sort_keys=True))
    result = {"benchmark": "extraction_check", "snapshots": len(found),
              "cpu_ms_per_snapshot": round(seconds / max(len(found), 1) * 1000, 2)}
    if args.compare:
        other = json.loads(args.compare.read_text())
        result["differing"] = sorted(key for key in found.keys() & other.keys() if found[key] != other[key])
        result["compared"] = len(found.keys() & other.keys())
    print(json.dumps(result, indent=2))
    sys.exit(1 if result.get("differing") else 0)


if __name__ == "__main__":
    main()

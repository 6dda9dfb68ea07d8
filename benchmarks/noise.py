"""Noise benchmark (SPEC §11): how many versions our extractor records from real snapshots.

Replays Open Terms Archive's demo snapshots (``datasets/ota/demo-snapshots.bundle``)
commit by commit, in commit-date order, through ``crawler.extract.extract_document``
with the demo declarations (read by ``crawler.declarations.load_catalog``; the
declaration in force at each snapshot's date, history files included), and
compares per document:

- ``ours``: versions we would record (distinct consecutive normalised texts);
- ``ota``: versions Open Terms Archive recorded from the replayed snapshots in
  ``demo-versions.bundle`` (its first record, every ``Record new changes of …``
  commit and the legacy ``Update …`` commits of its older engine), and
  ``ota_substantive``, those whose text differs from its previous version in
  more than whitespace, punctuation, link targets, markup or Cloudflare's
  email placeholder;
- ``cosmetic``: our changes that differ only in whitespace, punctuation, link
  targets or markup, by kind (``links``, ``markup``, ``whitespace_punctuation``);
- ``ota_changes_missed``: OTA's substantive changes at a snapshot where our
  text did not change since OTA's previous record;
- ``failed``: snapshots that gave no version, by error kind;
- ``baseline``: versions the extractor records without volatile values (no
  token shapes, nothing learned: the extractor before decision 0016), measured
  in the same run unless ``--no-baseline``; ``folded`` = ``baseline - ours``;
- ``held``: snapshots held because they changed only volatile-looking values,
  and ``learned``: the values learned per document (decision 0016); when
  something is learned, the snapshots so far are extracted again under the
  new rules and counted again, as ``reprocess`` folds the stored history.

``--via-http`` serves every snapshot from a loopback HTTP server
(``clausewatch.loopback_site``) and crawls it with ``clausewatch.crawling.crawl_catalog``
instead: the whole product path (Scrapy, store, shrink guard, analysis), about
ten times slower, so meant for subsets. Links then resolve against the
loopback address, which can change link-only versions.

Prints one JSON object. Examples::

    .venv/bin/python benchmarks/noise.py --workdir /tmp/noise
    .venv/bin/python benchmarks/noise.py --documents "GitHub/Terms of Service" --limit 300
    .venv/bin/python benchmarks/noise.py --via-http --documents "UptimeRobot/Terms of Service"
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.domain import DocumentSpec, SourceSpec  # noqa: E402
from analysis.text import sha256_text  # noqa: E402
from analysis.volatile import HELD, LEARNED, VolatileRules, Watch, volatile_difference, watch_step  # noqa: E402
from crawler.declarations import load_catalog  # noqa: E402
from crawler.extract import ExtractionError, extract_document  # noqa: E402

OTA = ROOT.parent / "shared" / "datasets" / "ota"
SNAPSHOTS_BUNDLE = OTA / "demo-snapshots.bundle"
VERSIONS_BUNDLE = OTA / "demo-versions.bundle"
DECLARATIONS = OTA / "demo-declarations"
EXTENSIONS = {".html": "text/html", ".pdf": "application/pdf", ".md": "text/markdown", ".txt": "text/plain"}


# --- Git plumbing --------------------------------------------------------------


def clone(bundle: Path, into: Path) -> Path:
    """A working clone of a git bundle (reused when already there)."""
    if not (into / ".git").exists():
        subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(bundle), str(into)], check=True)
    return into


@dataclass(frozen=True)
class SnapshotRef:
    commit: str
    date: datetime
    blob: str


def snapshot_refs(repo: Path) -> dict[str, list[SnapshotRef]]:
    """Every added or modified file of every commit, per path, in commit-date order."""
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--all", "--no-renames", "--format=C %H %ct", "--raw", "--no-abbrev", "-z"],
        check=True, capture_output=True,
    ).stdout.decode("utf-8")
    refs: dict[str, list[SnapshotRef]] = {}
    commit, date = "", datetime.min.replace(tzinfo=UTC)
    fields = iter(log.split("\0"))
    for item in fields:
        item = item.strip("\n")
        if item.startswith("C "):
            _, commit, stamp = item.split()[:3]
            date = datetime.fromtimestamp(int(stamp), UTC)
            item = item.split("\n", 1)[1] if "\n" in item else ""
        if item.startswith(":"):
            meta = item.split()
            path = next(fields)
            if meta[4] in ("A", "M"):
                refs.setdefault(path, []).append(SnapshotRef(commit, date, meta[3]))
    for path in refs:
        refs[path].sort(key=lambda ref: ref.date)
    return refs


class BlobReader:
    """Reads blobs through one long-lived ``git cat-file --batch``."""

    def __init__(self, repo: Path) -> None:
        self.process = subprocess.Popen(
            ["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def read(self, blob: str) -> bytes:
        self.process.stdin.write(blob.encode() + b"\n")
        self.process.stdin.flush()
        header = self.process.stdout.readline().split()
        data = self.process.stdout.read(int(header[2]))
        self.process.stdout.read(1)
        return data

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


@dataclass(frozen=True)
class OtaRecord:
    """One version Open Terms Archive recorded, and the snapshot it was extracted from."""

    kind: str  # "first", "changes", "legacy_updates" or "technical"
    snapshot: str
    # False when the text differs from OTA's previous version only in
    # whitespace, punctuation, link targets or markup (see ``skeleton``).
    substantive: bool = True


_OTA_SUBJECTS = {
    "first": re.compile(r"^(?:First record of|Start tracking) (.+)$"),
    "changes": re.compile(r"^Record new changes of (.+)$"),
    "legacy_updates": re.compile(r"^Update (?!README|readme)(.+)$"),
    "technical": re.compile(r"^Apply technical or declaration upgrade on (.+)$"),
}
_SNAPSHOT_LINK = re.compile(r"snapshot https://\S+/commit/([0-9a-f]{40})")


def ota_records(repo: Path) -> dict[str, list[OtaRecord]]:
    """Per ``Service/Type``: the versions Open Terms Archive recorded, oldest first."""
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--all", "--reverse", "--format=%x00%H%n%s%n%b", "--name-only"],
        check=True, capture_output=True, text=True,
    ).stdout
    reader = BlobReader(repo)
    records: dict[str, list[OtaRecord]] = {}
    previous: dict[str, str] = {}
    for entry in log.split("\0")[1:]:
        commit, subject, rest = (entry.split("\n", 2) + ["", ""])[:3]
        link = _SNAPSHOT_LINK.search(rest)
        paths = [line for line in rest.splitlines() if line.endswith(".md") and "/" in line]
        kind = next((kind for kind, pattern in _OTA_SUBJECTS.items() if pattern.match(subject)), None)
        if not (kind and link and paths):
            continue
        document = paths[0].removesuffix(".md")
        text = ota_skeleton(reader.read(f"{commit}:{paths[0]}").decode("utf-8", errors="replace"))
        substantive = kind != "technical" and text != previous.get(document)
        previous[document] = text
        records.setdefault(document, []).append(OtaRecord(kind, link.group(1), substantive))
    reader.close()
    return records


# --- Declarations --------------------------------------------------------------


def load_documents(folder: Path) -> dict[str, DocumentSpec]:
    """The demo declarations as ``{"Service/Type": DocumentSpec}``, read by the catalog loader."""
    loaded = load_catalog(folder)
    if loaded.errors:
        raise SystemExit("bad demo declarations: " + "; ".join(map(str, loaded.errors)))
    return {f"{platform.name}/{document.type}": document for platform in loaded.platforms
            for document in platform.documents}


def sources_at(document: DocumentSpec, when: datetime) -> tuple[SourceSpec, ...]:
    """The declaration in force when a snapshot was taken."""
    for past in document.history:
        if when < past.valid_until:
            return past.sources
    return document.sources


# --- Comparing texts -----------------------------------------------------------

_LINK_TARGET = re.compile(r"\]\([^)\s]*\)")
_NOT_WORD = re.compile(r"[\W_]+")
_LINK = re.compile(r"\[([^\]]*)\]\([^)\s]*\)")
_MARKUP = re.compile(r"^\s*(?:#{1,6}|[-*+]|\|?\s*-{3,}.*)\s+|\|", re.MULTILINE)
_SPACES = re.compile(r"\s+")
# Open Terms Archive recorded Cloudflare's "[email protected]" placeholder and
# the decoded address in turn; we always decode, so those flips are its noise.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\\?\[email\s+protected\\?\]", re.I)


def skeleton(text: str) -> str:
    """A text without link targets and markup, whitespace and punctuation collapsed to one space."""
    return _NOT_WORD.sub(" ", _LINK_TARGET.sub("]", text)).strip()


def ota_skeleton(text: str) -> str:
    """``skeleton`` of an Open Terms Archive version, email obfuscation flips ignored."""
    return skeleton(_EMAIL.sub("EMAIL", text))


def cosmetic_kind(before: str, after: str) -> str:
    """Why two texts with the same skeleton differ: ``links``, ``markup`` or ``whitespace_punctuation``."""
    unlinked = [_SPACES.sub(" ", _LINK.sub(r"\1", text)).strip() for text in (before, after)]
    if unlinked[0] == unlinked[1]:
        return "links"
    plain = [_SPACES.sub(" ", _MARKUP.sub(" ", _LINK.sub(r"\1", text))).strip() for text in (before, after)]
    return "markup" if plain[0] == plain[1] else "whitespace_punctuation"


# --- Replay --------------------------------------------------------------------


@dataclass
class DocumentReplay:
    document: str
    snapshots: int = 0
    ours: int = 0
    cosmetic: Counter = field(default_factory=Counter)
    ota: int = 0
    ota_substantive: int = 0
    ota_missed: int = 0
    failed: Counter = field(default_factory=Counter)
    baseline: int = 0
    held: int = 0
    learned: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cosmetic_examples: list[str] = field(default_factory=list)
    missed_examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReplayJob:
    document: str
    repo: Path
    spec: DocumentSpec
    refs: list[SnapshotRef]
    content_type: str
    ota: list[OtaRecord]
    baseline: bool = True


def replay_document(job: ReplayJob) -> DocumentReplay:
    """Extract every snapshot of one document in order and count version changes."""
    result = DocumentReplay(job.document, snapshots=len(job.refs))
    reader = BlobReader(job.repo)
    started = time.perf_counter()
    replay = _Replay(job, reader, result)
    for ref in job.refs:
        replay.step(ref)
    result.seconds = time.perf_counter() - started
    reader.close()
    _compare_with_ota(result, job.ota, replay.version_after)
    del result.cosmetic_examples[3:]
    return result


_BASELINE = VolatileRules(shapes=False)


class _Replay:
    """One document's snapshots through the extractor and the volatile watch, as the recorder sees them."""

    def __init__(self, job: ReplayJob, reader: BlobReader, result: DocumentReplay) -> None:
        self.job, self.reader, self.result = job, reader, result
        self.learned = VolatileRules()
        self.watch = Watch()
        self.current: str | None = None
        self.baseline_previous: str | None = None
        self.seen: list[SnapshotRef] = []  # every snapshot so far, for a refold after learning
        self.version_after: dict[str, int] = {}  # snapshot commit -> our version number once it is read

    def extract(self, ref: SnapshotRef, rules: VolatileRules) -> str:
        source = sources_at(self.job.spec, ref.date)[0]
        return extract_document([(self.reader.read(ref.blob), self.job.content_type, source.url, source)],
                                self.job.spec.volatile_rules(rules))

    def step(self, ref: SnapshotRef) -> None:
        self.seen.append(ref)
        if self.job.baseline:
            self._baseline(ref)
        try:
            text = self.extract(ref, self.learned)
        except ExtractionError as error:
            self.result.failed[error.kind] += 1
            self.version_after[ref.commit] = self.result.ours
            return
        verdict = self._watch(text)
        if verdict == HELD:
            self.result.held += 1
        else:
            if verdict == LEARNED:
                self._refold()
                text = self.extract(ref, self.learned)
            self.current = _count_version(self.result, self.current, text, ref.commit)
        self.version_after[ref.commit] = self.result.ours

    def _watch(self, text: str) -> str | None:
        keys = volatile_difference(self.current, text) if self.current not in (None, text) else None
        if not keys:
            self.watch = Watch()
            return None
        verdict, self.watch = watch_step(self.watch, keys, sha256_text(text))
        if verdict == LEARNED:
            self.learned = self.learned.merged(VolatileRules.learned_from(keys))
            self.result.learned.extend(f"{key.kind}:{key.value[:80]}" for key in sorted(keys))
        return verdict

    def _refold(self) -> None:
        """Count the versions so far again under the rules just learned (what ``reprocess`` does to the store)."""
        result = self.result
        result.ours, result.cosmetic, result.cosmetic_examples, self.current = 0, Counter(), [], None
        for ref in self.seen[:-1]:
            try:
                self.current = _count_version(result, self.current, self.extract(ref, self.learned), ref.commit)
            except ExtractionError:
                pass
            self.version_after[ref.commit] = result.ours

    def _baseline(self, ref: SnapshotRef) -> None:
        try:
            text = self.extract(ref, _BASELINE)
        except ExtractionError:
            return
        if text != self.baseline_previous:
            self.result.baseline += 1
            self.baseline_previous = text


def _count_version(result: DocumentReplay, previous: str | None, text: str, commit: str) -> str | None:
    """Count ``text`` as a version when it differs from ``previous`` (and say if only cosmetically)."""
    if text == previous:
        return previous
    if previous is not None and skeleton(text) == skeleton(previous):
        kind = cosmetic_kind(previous, text)
        result.cosmetic[kind] += 1
        result.cosmetic_examples.append(f"{kind}:{commit}")
    result.ours += 1
    return text


def _compare_with_ota(result: DocumentReplay, records: list[OtaRecord], version_after: dict[str, int]) -> None:
    """Count OTA's versions within the replayed snapshots, and its real changes we did not see."""
    order = {commit: position for position, commit in enumerate(version_after)}
    seen = sorted((record for record in records if record.snapshot in order), key=lambda record: order[record.snapshot])
    result.ota = sum(record.kind != "technical" for record in seen)
    result.ota_substantive = sum(record.substantive for record in seen)
    for before, after in zip(seen, seen[1:]):
        if after.substantive and version_after[after.snapshot] == version_after[before.snapshot]:
            result.ota_missed += 1
            if len(result.missed_examples) < 3:
                result.missed_examples.append(after.snapshot)


def run(options: argparse.Namespace, workdir: Path) -> dict:
    snapshots = clone(SNAPSHOTS_BUNDLE, workdir / "snapshots")
    versions = clone(VERSIONS_BUNDLE, workdir / "versions")
    documents = load_documents(DECLARATIONS)
    ota = ota_records(versions)
    jobs = []
    for path, refs in sorted(snapshot_refs(snapshots).items()):
        stem, _, suffix = path.rpartition(".")
        if stem not in documents or f".{suffix}" not in EXTENSIONS:
            continue
        if options.documents and stem not in options.documents:
            continue
        chosen = refs[: options.limit] if options.limit else refs
        jobs.append(ReplayJob(stem, snapshots, documents[stem], chosen, EXTENSIONS[f".{suffix}"],
                              ota.get(stem, []), baseline=not options.no_baseline))
    if options.via_http:
        return report([replay_via_http(job, workdir) for job in jobs], mode="http")
    with ProcessPoolExecutor(max_workers=options.jobs) as pool:
        results = list(pool.map(replay_document, jobs))
    return report(results, mode="extract")


def report(results: list[DocumentReplay], *, mode: str) -> dict:
    """The per-document table and the totals."""
    rows = [{
        "document": result.document,
        "snapshots": result.snapshots,
        "ours": result.ours,
        "ota": result.ota,
        "ota_substantive": result.ota_substantive,
        "cosmetic": sum(result.cosmetic.values()),
        "cosmetic_by_kind": dict(result.cosmetic),
        "substantive": result.ours - sum(result.cosmetic.values()),
        "ota_changes_missed": result.ota_missed,
        "baseline": result.baseline,
        "folded": result.baseline - result.ours if result.baseline else None,
        "held": result.held,
        "learned": result.learned,
        "failed": dict(result.failed),
        "ms_per_snapshot": round(1000 * result.seconds / max(result.snapshots, 1), 1),
        "cosmetic_examples": result.cosmetic_examples,
        "missed_examples": result.missed_examples,
    } for result in results]
    keys = ("snapshots", "ours", "ota", "ota_substantive", "cosmetic", "substantive", "ota_changes_missed",
            "baseline", "held")
    totals = {key: sum(row[key] for row in rows) for key in keys}
    totals["failed"] = dict(sum((Counter(row["failed"]) for row in rows), Counter()))
    totals["ms_per_snapshot"] = round(1000 * sum(r.seconds for r in results) / max(totals["snapshots"], 1), 1)
    totals["folded"] = totals["baseline"] - totals["ours"] if totals["baseline"] else None
    totals["documents_learning"] = {row["document"]: row["learned"] for row in rows if row["learned"]}
    totals["documents_missing_ota_changes"] = [row["document"] for row in rows if row["ota_changes_missed"]]
    totals["cosmetic_by_kind"] = dict(sum((Counter(row["cosmetic_by_kind"]) for row in rows), Counter()))
    totals["documents_with_whitespace_punctuation_versions"] = [
        row["document"] for row in rows if row["cosmetic_by_kind"].get("whitespace_punctuation")]
    return {"benchmark": "noise", "mode": mode, "documents": rows, "totals": totals}


def replay_via_http(job: ReplayJob, workdir: Path) -> DocumentReplay:
    """Serve each snapshot of one document on loopback and crawl it with the real crawler.

    The declaration in force at the snapshot's date is written as the
    document's only declaration before each crawl, pointed at the local
    server; versions are counted from the crawl outcomes.
    """
    from clausewatch.app import open_store
    from clausewatch.crawling import crawl_catalog
    from clausewatch.loopback_site import LocalSite, Page
    from clausewatch.settings import load_settings

    home = workdir / "http" / job.document.replace("/", "-").replace(" ", "_")
    catalog = home / "catalog"
    catalog.mkdir(parents=True, exist_ok=True)
    settings = load_settings({}, overrides={"HOME": str(home), "CATALOG": str(catalog), "CRAWL_DELAY": 0,
                                            "CRAWL_RETRIES": 0, "CRAWL_CONCURRENCY": 1})
    result = DocumentReplay(job.document, snapshots=len(job.refs))
    version_after: dict[str, int] = {}
    reader = BlobReader(job.repo)
    path = "/" + re.sub(r"[^\w-]+", "-", job.document)
    previous: str | None = None
    started = time.perf_counter()
    store = open_store(settings)
    with LocalSite() as site:
        written = None
        for ref in job.refs:
            declaration = _local_declaration(job.spec, sources_at(job.spec, ref.date)[0], site.url(path))
            if declaration != written:
                (catalog / "replay.json").write_text(json.dumps(declaration))
                written = declaration
            site.set(path, Page(reader.read(ref.blob), content_type=job.content_type))
            results = []
            crawl_catalog(settings, store=store, delay=0, on_result=results.append)
            outcome = results[0]
            if outcome.outcome == "failed":
                result.failed[outcome.error_kind] += 1
            elif outcome.outcome == "new_version":
                previous = _count_version(result, previous, store.history.current_version(outcome.document_id).text, ref.commit)
            version_after[ref.commit] = result.ours
    store.close()
    result.seconds = time.perf_counter() - started
    reader.close()
    _compare_with_ota(result, job.ota, version_after)
    del result.cosmetic_examples[3:]
    return result


def _local_declaration(document: DocumentSpec, source: SourceSpec, url: str) -> dict:
    """An Open Terms Archive declaration of one document, fetched from ``url``."""
    def selectors(rules: tuple) -> list:
        return [rule if isinstance(rule, str) else {
            key: value for key, value in (("startBefore", rule.start_before), ("startAfter", rule.start_after),
                                          ("endBefore", rule.end_before), ("endAfter", rule.end_after)) if value
        } for rule in rules]

    term = {"fetch": url, "select": selectors(source.select)}
    if source.remove:
        term["remove"] = selectors(source.remove)
    return {"name": document.platform, "terms": {document.type: term}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="where to clone the bundles (default: a temporary folder)")
    parser.add_argument("--documents", nargs="+", metavar="NAME", help='replay only these, e.g. "GitHub/Terms of Service"')
    parser.add_argument("--limit", type=int, help="replay only the first N snapshots of each document")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--via-http", action="store_true", help="serve snapshots on loopback and crawl them")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the second extraction without volatile values (halves the time)")
    options = parser.parse_args(argv)
    if not SNAPSHOTS_BUNDLE.exists():
        print(json.dumps({"benchmark": "noise", "error": f"missing {SNAPSHOTS_BUNDLE}"}))
        return 1
    started = time.perf_counter()
    if options.workdir:
        options.workdir.mkdir(parents=True, exist_ok=True)
        figures = run(options, options.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="clausewatch-noise-") as folder:
            figures = run(options, Path(folder))
    figures["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

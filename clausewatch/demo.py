"""`clausewatch demo`: serve bundled real policies on loopback, crawl version 1, switch, crawl version 2.

Everything happens in one folder (default ``HOME/demo``), on SQLite, offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
import shlex
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from clausewatch.app import ensure_folder, first_few, open_store
from clausewatch.crawling import crawl_catalog, store_failure_problem
from clausewatch.errors import BadInputError
from clausewatch.loopback_site import LocalSite, Page
from clausewatch.settings import Settings, sqlite_url
from clausewatch.signing import ensure_log_key
from crawler.crawl import CrawlReport
from reports.site.manifest import MANIFEST_NAME as SITE_MANIFEST
from reports.site.manifest import manifest_pages
from store.files import write_whole
from store.repository import Store


@dataclass(frozen=True)
class DemoDocument:
    platform: str
    platform_name: str
    type: str
    path: str
    source: str  # stem under clausewatch/demo_data/<platform>/, without ".v1.md"
    title: str | None = None


DOCUMENTS = (
    DemoDocument("bluesky", "Bluesky", "Terms of Service", "/bluesky/terms", "terms-of-service"),
    DemoDocument("spotify", "Spotify", "Terms of Service", "/spotify/legal/end-user-agreement", "terms-of-service"),
    DemoDocument("reddit", "Reddit", "Privacy Policy", "/reddit/policies/privacy-policy", "privacy-policy"),
    DemoDocument("kling-ai", "Kling AI", "Developer Terms", "/kling/document-api/paid-service", "api-terms",
                 "Terms of API Paid Service"),
)

# Page furniture around every policy: the extractor must drop it (SPEC §4).
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script src="/static/app.js?v={build}"></script></head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies. <button>Accept all</button></div>
<header><nav><a href="/">Home</a> <a href="/pricing?utm_source=nav">Pricing</a> <a href="/login">Log in</a></nav></header>
<main id="policy">
{body}
</main>
<footer><p>© {platform}. <a href="/legal">Legal</a> · <a href="/careers">Careers</a></p></footer>
</body></html>
"""


DEMO_SUBSCRIBERS = """\
subscribers:
  - email: compliance@example.org
    name: Compliance team
    min_severity: medium
  - email: ai-watch@example.org
    name: AI desk
    platforms: [kling-ai]
"""


def demo_text(document: DemoDocument, version: int) -> tuple[str, str]:
    """The bundled text of one version and its format ("md" or "txt")."""
    folder = resources.files("clausewatch") / "demo_data" / document.platform
    for suffix in ("md", "txt"):
        item = folder / f"{document.source}.v{version}.{suffix}"
        if item.is_file():
            return item.read_text(encoding="utf-8"), suffix
    raise FileNotFoundError(f"demo data missing: {document.platform}/{document.source}.v{version}")


def to_html(text: str, fmt: str) -> str:
    """Policy text as the HTML body a website would serve."""
    if fmt == "md":
        return MarkdownIt("commonmark").render(text)
    blocks = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        is_heading = line.isupper() or (line[:2].rstrip(".").isdigit() and line.split(" ", 1)[-1].isupper())
        tag = "h2" if is_heading else "p"
        blocks.append(f"<{tag}>{html.escape(line)}</{tag}>")
    return "\n".join(blocks)


def demo_page(document: DemoDocument, version: int) -> Page:
    text, fmt = demo_text(document, version)
    title = document.title or document.type
    body = PAGE.format(title=html.escape(f"{document.platform_name} {title}"), body=to_html(text, fmt),
                       platform=html.escape(document.platform_name), build=version * 7919)
    return Page(body.encode("utf-8"))


def write_catalog(folder: Path, site: LocalSite) -> None:
    """One YAML declaration per demo platform, pointing at the loopback server."""
    folder.mkdir(parents=True, exist_ok=True)
    for platform in {d.platform: d for d in DOCUMENTS}.values():
        documents = []
        for doc in (d for d in DOCUMENTS if d.platform == platform.platform):
            entry = {"type": doc.type, "url": site.url(doc.path), "select": "#policy"}
            if doc.title:
                entry["title"] = doc.title
            documents.append(entry)
        declaration = {"name": platform.platform_name, "slug": platform.platform, "documents": documents}
        write_whole(folder / f"{platform.platform}.yaml", yaml.safe_dump(declaration, sort_keys=False).encode())


@dataclass
class DemoResult:
    folder: Path
    settings: Settings
    reports: list[CrawlReport]
    kept: tuple[str, ...] = ()  # files of an earlier demo's folder the demo did not make, left where they were


# Written into every folder the demo creates: only a folder holding it is ever reused. While a run works it says
# so ("unfinished"); once the run has finished, it lists every file it made with its SHA-256, which the next run
# removes if unchanged (:func:`record_made`). Paths are written as JSON strings: a name may hold any character.
MARKER = ".clausewatch-demo"
_MARKER_HEAD = "made by `clausewatch demo`; its next run removes its store and the files listed as made, unchanged\n"
# Heads of earlier releases: the first promised to replace the whole folder; the second listed made files as the
# current one does, its paths unquoted.
_WHOLE_FOLDER_HEAD = "made by `clausewatch demo`: it replaces this folder on its next run\n"
_UNQUOTED_HEADS = (
    "made by `clausewatch demo`; its next run removes the files listed below, unchanged, and nothing else\n",
    "made by `clausewatch demo`; its next run removes the files it lists as made, unchanged, and nothing else\n",
)
_UNFINISHED = "unfinished: only its store and the files listed below, unchanged, are removed"
_UNFINISHED_BEFORE = "unfinished: what the run made is not listed; only its store is removed"  # listed none
# The demo's own store, always removed: a command run on it since (a crawl) changes the database, and the database
# without its blobs (or the blobs without it) is a broken store. Only the files the store itself names: the
# database, its journal files, the capture-log key, and blobs (objects/ab/<62 hex digits>).
_STORE_FILE = re.compile(r"clausewatch\.db(?:-wal|-shm|-journal)?|keys/capture-log\.key(?:\.pub)?"
                         r"|objects/[0-9a-f]{2}/[0-9a-f]{62}")


class DemoFolderError(BadInputError):
    """The demo folder exists and was not made by the demo: it is never deleted."""


def prepare_folder(folder: Path) -> tuple[str, ...]:
    """Make ``folder`` ready for the demo: create it, or remove what an earlier demo made in it.

    A folder without the demo's marker file is someone's data and is left alone;
    an empty folder is used as it is. In a folder an earlier demo made, its store
    is removed, and of the other files only those its marker lists as made,
    still as the demo wrote them: files added since (a note, the explore
    commands' emails, an edited page) stay, and are returned by their path in
    the folder. After a run that did not finish, only the store and the files it
    listed while it worked are removed. A file the run writes whole at a fixed
    place (:func:`fixed_files`: its catalog, its subscribers) that is not the
    earlier demo's as it wrote it stops the run before anything is removed.
    """
    if folder.exists() and not folder.is_dir():
        raise DemoFolderError(f"demo --out: {folder} is a file, not a folder")
    kept: tuple[str, ...] = ()
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            raise DemoFolderError(f"demo --out: {folder} already exists and was not made by `clausewatch demo` "
                                  "(no marker file); it was left untouched: choose another folder")
        marker = (folder / MARKER).read_text(encoding="utf-8", errors="replace")
        if marker != _WHOLE_FOLDER_HEAD:
            _refuse_overwrites(folder, _listed(folder, marker))
        kept = _remove_made(folder, marker)
    ensure_folder(folder, "demo --out")
    write_whole(folder / MARKER, f"{_MARKER_HEAD}{_UNFINISHED}\n".encode())
    return kept


def record_made(folder: Path, kept: tuple[str, ...]) -> None:
    """List in the marker every file of ``folder`` the demo made (all but ``kept``), with its SHA-256."""
    write_whole(folder / MARKER, (_MARKER_HEAD + _made(folder, kept)).encode())


def record_written(folder: Path, kept: tuple[str, ...]) -> None:
    """While the run works, list every file it has made so far (all but ``kept``), so that a run cut short leaves
    them for the next run to remove or replace, not to keep (its emails twice) or refuse as an operator's."""
    write_whole(folder / MARKER, f"{_MARKER_HEAD}{_UNFINISHED}\n{_made(folder, kept)}".encode())


class Listing:
    """What :func:`listing_made` yields: :meth:`record` after each stage, :meth:`site_built` after the site's."""

    def __init__(self, folder: Path, kept: tuple[str, ...]):
        self.folder = folder
        self.kept = kept

    def record(self) -> None:
        record_written(self.folder, self.kept)

    def site_built(self) -> None:
        """The files this run's site build has just written (or found as it writes them) are the run's, also those
        a run killed while it built the site left unlisted: every later run kept them as an operator's (and its
        build rewrote them all the same). The pages its manifest lists, and the manifest."""
        site = self.folder / "site"
        built = {f"site/{page}" for page in manifest_pages(site)} | {f"site/{SITE_MANIFEST}"}
        self.kept = tuple(relative for relative in self.kept if relative not in built)
        self.record()


@contextlib.contextmanager
def listing_made(folder: Path, kept: tuple[str, ...]) -> Iterator[Listing]:
    """The run's last stages, each of which writes files: call the listing's :meth:`~Listing.record` after each of
    them, so a run killed between two is listed up to there; a run stopped in one (Ctrl-C, a full disk) lists what
    it wrote as it stops, and a run that finishes lists all it made."""
    listing = Listing(folder, kept)
    try:
        yield listing
    except BaseException:
        with contextlib.suppress(OSError):  # the disk that stopped the run: its own error is the one to tell
            listing.record()
        raise
    record_made(folder, listing.kept)


def _made(folder: Path, kept: tuple[str, ...]) -> str:
    """The marker's lines of the files of ``folder`` but ``kept`` and the marker: SHA-256 and path, in order."""
    return "".join(sorted(f"{_sha256(path)}  {json.dumps(relative)}\n" for path, relative in _files(folder)
                          if relative not in kept and relative != MARKER))


def fixed_files() -> tuple[str, ...]:
    """The files a run writes whole at places of its own choosing: its settings, its subscribers and one
    declaration a platform."""
    return ("config.yaml", "subscribers.yaml",
            *sorted({f"catalog/{document.platform}.yaml" for document in DOCUMENTS}))


def _refuse_overwrites(folder: Path, listed: dict[str, str]) -> None:
    """Stop, before anything is removed, if a file the run writes whole is there and is not the earlier demo's as
    it wrote it: an operator's catalog edit or subscriber list would be overwritten. Its site's pages are written
    anew too, where they were: one edited since would be overwritten (and was, while the run said it kept it); the
    site's manifest is the build's own record, rewritten by any build."""
    def edited(relative: str) -> bool:
        path = folder / relative
        as_written = path.is_file() and not path.is_symlink() and listed.get(relative) == _sha256(path)
        return (path.exists() or path.is_symlink()) and not as_written

    pages = [relative for relative in listed if relative.startswith("site/") and relative != f"site/{SITE_MANIFEST}"]
    changed = [relative for relative in (*fixed_files(), *pages) if edited(relative)]
    if changed:
        raise DemoFolderError(f"demo --out: {first_few(changed)} in {folder} changed since the demo wrote it (or the "
                              "demo did not make it), and the demo writes it anew; the folder was left untouched: "
                              "move the file away or choose another folder")


def _listed(folder: Path, marker: str) -> dict[str, str]:
    """The files a run listed as made, by path, with their SHA-256: all it made once finished; while it worked (and
    after a run that did not finish), the files it had written at fixed places, or none in earlier releases."""
    head, _, body = marker.partition("\n")
    lines = [line for line in body.split("\n") if line]
    if head + "\n" in _UNQUOTED_HEADS:  # heads of builds that wrote paths unquoted: "unfinished" read as a path
        return {relative: digest for digest, _, relative in (line.partition("  ") for line in lines)
                if relative and digest not in ("kept",) and not digest.startswith("unfinished")}
    if head + "\n" != _MARKER_HEAD:
        raise DemoFolderError(f"demo --out: {folder / MARKER} is not a marker `clausewatch demo` wrote; the folder "
                              "was left untouched: choose another folder")
    if lines[:1] in ([_UNFINISHED], [_UNFINISHED_BEFORE]):
        lines = lines[1:]
    try:
        return {json.loads(relative): digest for digest, _, relative in (line.partition("  ") for line in lines)}
    except ValueError:
        raise DemoFolderError(f"demo --out: {folder / MARKER} is damaged; the folder was left untouched: choose "
                              "another folder") from None


def _remove_made(folder: Path, marker: str) -> tuple[str, ...]:
    """Remove what the earlier demo made; return the files kept."""
    if marker == _WHOLE_FOLDER_HEAD:  # as that release's marker promised
        shutil.rmtree(folder)
        return ()
    listed = _listed(folder, marker)
    removed, kept, emptied = [], [], set()
    for path, relative in _files(folder):
        if relative == MARKER:
            continue
        made = listed.get(relative) == _sha256(path)
        (removed if made or (_STORE_FILE.fullmatch(relative) and not path.is_symlink()) else kept).append(
            (path, relative))
    if any(relative.startswith("site/") for _path, relative in kept):
        # A file of the operator's in the site folder: the site's manifest stays, or the demo's site build would
        # refuse a folder holding files and no manifest, after the whole crawl. Pages it lists that are gone are
        # written again.
        manifest = [(path, relative) for path, relative in removed if relative == f"site/{SITE_MANIFEST}"]
        removed = [item for item in removed if item not in manifest]
        kept += manifest
    for path, _relative in removed:
        path.unlink()
        emptied.update(path.parents)
    kept = [relative for _path, relative in kept]
    for directory in sorted((d for d in emptied if d != folder and d.is_relative_to(folder)),
                            key=lambda d: len(d.parts), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return tuple(kept)


def _files(folder: Path):
    """Every file under ``folder`` (symbolic links as files, never followed), with its path in the folder."""
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or path.is_file():
            yield path, path.relative_to(folder).as_posix()


def _sha256(path: Path) -> str:
    if path.is_symlink():
        return "symlink"
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_demo(settings: Settings, folder: Path, echo: Callable[[str], None] = print) -> DemoResult:
    """Serve version 1, crawl, serve version 2, crawl again; everything lands in ``folder``."""
    kept = prepare_folder(folder)
    demo_settings = settings.replace(
        home=folder, database_url=sqlite_url(folder / "clausewatch.db"), blobs=folder / "objects",
        catalog=folder / "catalog", site_dir=folder / "site", subscribers=folder / "subscribers.yaml",
        log_key=folder / "keys" / "capture-log.key",
        base_url=(folder / "site").as_uri() + "/",  # links in the demo's emails open the local site
    )
    open_store(demo_settings, "create").close()
    # Two readers with different filters, so the dry-run emails show per-subscriber selection.
    write_whole(demo_settings.subscribers, DEMO_SUBSCRIBERS.encode())
    # The explore commands (HOME given) read the settings they do not pass from here: their `site` is the demo's,
    # byte for byte, and rewrites none of the pages the next run removes as made, unchanged.
    write_whole(folder / "config.yaml", yaml.safe_dump({"BASE_URL": demo_settings.base_url}).encode())
    ensure_log_key(demo_settings)
    reports = []
    with LocalSite() as site:
        write_catalog(demo_settings.catalog, site)
        record_written(folder, kept)
        for version in (1, 2):
            site.set_many({doc.path: demo_page(doc, version) for doc in DOCUMENTS})
            echo(f"serving version {version} of {len(DOCUMENTS)} policies at {site.base_url}; crawling…")
            report = crawl_catalog(demo_settings, delay=0, concurrency=4)
            echo("  " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(report.counts.items())))
            if report.store_failure is not None:  # a full disk: nothing more can be recorded
                raise BadInputError(f"demo --out: {store_failure_problem(demo_settings, report)}")
            reports.append(report)
    return DemoResult(folder, demo_settings, reports, kept)


def summarise(store: Store, echo: Callable[[str], None]) -> None:
    """What the demo archived: versions, clauses and their classification per document."""
    for document in store.catalog.documents():
        versions = store.history.versions(document.id)
        current = versions[-1] if versions else None
        echo(f"{document.id}  {document.platform_name} — {document.type}: {len(versions)} version(s)")
        if current is None:
            continue
        flagged = [c for c in current.clauses if c.classification.types]
        high = [c for c in flagged if c.classification.severity == "high"]
        echo(f"    {len(current.clauses)} clauses, {len(flagged)} classified, {len(high)} high severity")
        for item in sorted(flagged, key=lambda c: -_rank(c.classification.severity))[:3]:
            label = ", ".join(item.classification.types)
            excerpt = item.clause.text.replace("\n", " ")[:90]
            echo(f"      [{item.classification.severity}] {label}: {excerpt}…")


def _rank(severity: str) -> int:
    return {"high": 2, "medium": 1}.get(severity, 0)


def explore_commands(settings: Settings, program: str = "clausewatch", cwd: Path | None = None) -> list[str]:
    """The commands that explore the demo's store, exactly as a shell takes them from ``cwd``.

    Only HOME and CATALOG differ from the defaults a user has (the database,
    blobs, site and subscribers live in HOME), so those two options are enough.
    """
    cwd = (cwd or Path.cwd()).resolve()
    home, catalog = (shlex.quote(_shown_path(path, cwd)) for path in (settings.home, settings.catalog))
    where = f"--home {home} --catalog {catalog}"
    mail = shlex.quote(_shown_path(settings.home / "mail" / "explore", cwd))
    return [f"{program} status {where}",
            f"{program} changes {where}",
            f"{program} site {where}",
            f"{program} digest --dry-run {mail} {where}"]


def _shown_path(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when it is below it (shorter to read), else absolute."""
    path = path.resolve()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)

"""`export --wacz` for real: two crawls of a loopback site, the WACZ loaded into pywb on loopback,
and the replayed policy opened in headless Chromium."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page
from tests.clausewatch.home_support import acme_home, two_page_home
from tests.clausewatch.test_evidence_cli import run_outside, snippet_of, unzip

REPO = Path(__file__).resolve().parents[2]
PYWB_BIN = Path(os.environ.get("CLAUSEWATCH_PYWB_BIN", REPO / ".venv-pywb" / "bin"))
CHROMIUM = "/usr/bin/chromium"
POLICY = "<html><head><title>Acme terms</title></head><body><main><h1>Terms</h1>" \
         "<h2>1. Law</h2><p>These terms are governed by the laws of {}.</p></main></body></html>"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("wacz")
    with LocalSite({"/terms": Page(POLICY.format("Ireland").encode())}) as site:
        catalog = root / "catalog"
        catalog.mkdir()
        (catalog / "acme.yaml").write_text(
            "name: Acme\nslug: acme\ndocuments:\n"
            f"  - type: Terms of Service\n    url: {site.url('/terms')}\n"
            f"  - type: Privacy Policy\n    url: {site.url('/privacy')}\n")
        base = ["--home", str(root / "home"), "--catalog", str(catalog)]
        invoke(*base, "init")
        invoke(*base, "crawl", "--delay", "0")
        site.set("/terms", Page(POLICY.format("Delaware").encode()))
        invoke(*base, "crawl", "--delay", "0")
        url = site.url("/terms")
    return {"root": root, "base": base, "url": url}


def test_the_wacz_holds_warc_index_pages_and_a_datapackage_whose_hashes_hold(crawled, tmp_path):
    wacz = tmp_path / "all.wacz"
    result = invoke(*crawled["base"], "export", "--wacz", str(wacz))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(wacz) as archive:
        names = set(archive.namelist())
        assert names == {"archive/data.warc.gz", "indexes/index.cdx", "pages/pages.jsonl", "datapackage.json",
                         "datapackage-digest.json"}
        assert archive.getinfo("archive/data.warc.gz").compress_type == zipfile.ZIP_STORED
        package = json.loads(archive.read("datapackage.json"))
        import hashlib

        for resource in package["resources"]:
            data = archive.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
        index = archive.read("indexes/index.cdx").decode().splitlines()
        pages = [json.loads(line) for line in archive.read("pages/pages.jsonl").decode().splitlines()]
    # Two 200 responses of the terms (two payloads), the 404 of the privacy policy and its revisit.
    assert sum('"status": "200"' in line for line in index) == 2
    assert sum('"status": "404"' in line for line in index) == 2
    assert [p["title"] for p in pages[1:]] == ["Acme — Terms of Service"]


def test_after_a_revert_the_page_is_the_latest_capture_not_the_superseded_text(tmp_path):
    # Ireland, Delaware, Ireland again: the third capture is a revisit of the first response, and pages.jsonl
    # pointed the policy at the Delaware capture, a text no longer in force.
    with LocalSite() as site:
        catalog = tmp_path / "catalog"
        catalog.mkdir()
        (catalog / "acme.yaml").write_text(
            f"name: Acme\nslug: acme\ndocuments:\n  - type: Terms of Service\n    url: {site.url('/terms')}\n")
        base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
        invoke(*base, "init")
        for law in ("Ireland", "Delaware", "Ireland"):
            site.set("/terms", Page(POLICY.format(law).encode()))
            assert invoke(*base, "crawl", "--delay", "0").exit_code == 0
    wacz = tmp_path / "all.wacz"
    assert invoke(*base, "export", "--wacz", str(wacz)).exit_code == 0
    with zipfile.ZipFile(wacz) as archive:
        pages = [json.loads(line) for line in archive.read("pages/pages.jsonl").decode().splitlines()][1:]
        from warcio.archiveiterator import ArchiveIterator

        captures = [(record.rec_type, record.rec_headers.get_header("WARC-Date"))
                    for record in ArchiveIterator(archive.open("archive/data.warc.gz"))
                    if record.rec_type in ("response", "revisit")]
    assert [kind for kind, _date in captures] == ["response", "response", "revisit"]
    assert [page["ts"] for page in pages] == [captures[-1][1]]


def test_a_document_of_two_pages_opens_at_its_first(tmp_path):
    # pages.jsonl pointed a two-page privacy policy at its second page, the one fetched last (review of 2026-12-01).
    with LocalSite() as site:
        base = two_page_home(tmp_path, site)
        site.set("/part1", Page(POLICY.format("Ireland").encode()))
        site.set("/part2", Page(b"<main><h2>Sharing</h2><p>We do not sell your data.</p></main>"))
        assert invoke(*base, "crawl", "--delay", "0").exit_code == 0
        first = site.url("/part1")
    wacz = tmp_path / "beta.wacz"
    assert invoke(*base, "export", "--wacz", str(wacz)).exit_code == 0
    with zipfile.ZipFile(wacz) as archive:
        pages = [json.loads(line) for line in archive.read("pages/pages.jsonl").decode().splitlines()][1:]
    assert [page["url"] for page in pages] == [first]


def test_a_selection_exports_only_its_documents_and_an_unknown_one_is_a_usage_error(crawled, tmp_path):
    wacz = tmp_path / "terms.wacz"
    assert invoke(*crawled["base"], "export", "--wacz", str(wacz), "--document", "CW-D-00001").exit_code == 0
    with zipfile.ZipFile(wacz) as archive:
        assert "/privacy" not in archive.read("indexes/index.cdx").decode()
    unknown = CliRunner().invoke(main, [*crawled["base"], "export", "--wacz", str(tmp_path / "u.wacz"),
                                        "--platform", "nope"])
    assert unknown.exit_code == 2 and "no such document or platform in the store: nope" in unknown.output
    later = CliRunner().invoke(main, [*crawled["base"], "export", "--wacz", str(tmp_path / "l.wacz"),
                                      "--since", "2999-01-01"])
    assert later.exit_code == 2 and "nothing to export" in later.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["terms.wacz"]  # no half archive left behind


def test_an_existing_file_is_refused_and_left_as_it_was(crawled, tmp_path):
    theirs = tmp_path / "notes.wacz"
    theirs.write_text("not mine to overwrite")
    result = CliRunner().invoke(main, [*crawled["base"], "export", "--wacz", str(theirs)])
    assert result.exit_code == 2
    assert result.output == f"Error: --wacz: {theirs} exists; remove it or choose another --wacz\n"
    assert theirs.read_text() == "not mine to overwrite"


def test_a_dash_is_not_taken_for_a_file_name(crawled, tmp_path, monkeypatch):
    """`--wacz -` wrote a file named "-" in the working folder (third review)."""
    monkeypatch.chdir(tmp_path)
    for option in ("--wacz", "--out"):
        result = CliRunner().invoke(main, [*crawled["base"], "export", option, "-"])
        assert result.exit_code == 2 and result.output.startswith(f"Error: {option} -: give a file name")
    assert not (tmp_path / "-").exists()


def test_out_beside_wacz_is_refused_rather_than_ignored(crawled, tmp_path):
    # Before, --out was silently left unwritten: a script waiting for its JSON found no file and no error.
    result = CliRunner().invoke(main, [*crawled["base"], "export", "--wacz", str(tmp_path / "a.wacz"),
                                       "--out", str(tmp_path / "a.json")])
    assert result.exit_code == 2
    assert "Error: --out is for the JSON export; --wacz names the web archive's file itself" in result.output
    assert not (tmp_path / "a.wacz").exists() and not (tmp_path / "a.json").exists()


def test_an_archive_path_under_a_file_is_bad_input_that_says_so(crawled, tmp_path):
    (tmp_path / "exports").write_text("a file where a folder is wanted\n")
    for wacz in (tmp_path / "exports" / "x.wacz", tmp_path / "exports" / "2026" / "x.wacz"):
        result = CliRunner().invoke(main, [*crawled["base"], "export", "--wacz", str(wacz)])
        assert result.exit_code == 2
        assert f"{tmp_path / 'exports'} is a file, where a folder is needed" in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def pywb(crawled, tmp_path) -> Iterator[str]:
    """pywb's `wayback` on a free loopback port, serving the exported WACZ as collection `evidence`."""
    wacz = tmp_path / "all.wacz"
    invoke(*crawled["base"], "export", "--wacz", str(wacz))
    with wayback(wacz, tmp_path / "pywb") as collection:
        yield collection


@contextmanager
def wayback(wacz: Path, folder: Path) -> Iterator[str]:
    """pywb's `wayback` on a free loopback port, serving ``wacz`` as collection `evidence`, run in ``folder``."""
    if not (PYWB_BIN / "wayback").exists():
        pytest.fail(f"pywb is not installed at {PYWB_BIN}: run `make replay` (or set CLAUSEWATCH_PYWB_BIN)")
    folder.mkdir()
    for args in (["init", "evidence"], ["add", "--unpack-wacz", "evidence", str(wacz)]):
        subprocess.run([PYWB_BIN / "wb-manager", *args], cwd=folder, check=True, capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen([PYWB_BIN / "wayback", "-b", "127.0.0.1", "-p", str(port)], cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_listener(server, port)
        yield f"http://127.0.0.1:{port}/evidence"
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()


def _wait_for_listener(server: subprocess.Popen, port: int, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            try:
                server.wait(timeout=0.2)  # waiting on the process itself: it may have died
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"wayback exited: {server.stderr.read().decode(errors='replace')[-2000:]}")
    raise AssertionError(f"wayback did not listen on port {port} within {limit} s")


@pytest.mark.browser
def test_the_exported_wacz_replays_in_pywb_and_chromium_shows_the_policy(crawled, pywb):
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            # The latest capture before 2030. (Both crawls may fall in one second, the resolution
            # of a CDXJ timestamp, so the earlier version is not asked for by date here.)
            page.goto(f"{pywb}/2030/{crawled['url']}")
            replayed = page.frame_locator("#replay_iframe").locator("main")
            playwright.expect(replayed).to_contain_text("governed by the laws of Delaware", timeout=30_000)
        finally:
            browser.close()


@pytest.mark.parametrize(("moved", "fetcher"), [
    (b"<html><body><p>Moved to <a href='/terms'>/terms</a>.</p></body></html>", "http"),
    # A server that sends the page with its 301: the page was a revisit of the redirect, and a replay of it went
    # to the 301's record (review of 2026-12-03). Each is a response of its own now.
    (POLICY.format("Ireland").encode(), "http"),
    # Chromium followed the 301 itself, and only the page was archived (decision 0013, fifteenth pass, left): it
    # is archived from what Chromium reports, without the body Chromium does not keep.
    (b"<html><body><p>Moved to <a href='/terms'>/terms</a>.</p></body></html>", "browser"),
], ids=["stub", "the-page-itself", "browser"])
def test_a_moved_policy_is_exported_with_its_redirect_and_replays_as_one(tmp_path, moved, fetcher):
    # Only the page was archived (decision 0013, seventh pass, known and left until 2026-12-03): a third party
    # reading the export, or replaying it, could not see that the catalog URL answered 301, nor where it pointed.
    with LocalSite({"/old": Page(moved, status=301, headers={"Location": "/terms"}),
                    "/terms": Page(POLICY.format("Ireland").encode())}) as site:
        base = acme_home(tmp_path, site, "/old", fetcher=fetcher)
        assert invoke(*base, "crawl", "--delay", "0").exit_code == 0
        old, terms = site.url("/old"), site.url("/terms")
    wacz = tmp_path / "moved.wacz"
    assert invoke(*base, "export", "--wacz", str(wacz)).exit_code == 0
    with zipfile.ZipFile(wacz) as archive:
        from warcio.archiveiterator import ArchiveIterator

        responses = [(record.rec_headers.get_header("WARC-Target-URI"), record.http_headers.get_statuscode(),
                      record.http_headers.get_header("Location"), record.content_stream().read())
                     for record in ArchiveIterator(archive.open("archive/data.warc.gz"))
                     if record.rec_type == "response"]
        index = [json.loads(line.split(" ", 2)[2]) for line in archive.read("indexes/index.cdx").decode().splitlines()]
        pages = [json.loads(line) for line in archive.read("pages/pages.jsonl").decode().splitlines()][1:]
    assert [(url, status, location) for url, status, location, _body in responses] == [
        (old, "301", "/terms"), (terms, "200", None)]
    assert responses[0][3] == (moved if fetcher == "http" else b"")
    assert [(entry["url"], entry["status"]) for entry in index if entry.get("mime") != "warc/revisit"
            and "status" in entry] == [(old, "301"), (terms, "200")]
    assert [page["url"] for page in pages] == [terms]  # the policy opens at its page, not at the redirect
    assert invoke(*base, "verify").exit_code == 0
    citation = invoke(*base, "show", "CW-D-00001", "--cite").output
    assert f"Captured from: {terms}\n" in citation
    # The evidence bundle holds the redirect too, and both verify-evidence and VERIFY.md's own script accept it.
    bundle = tmp_path / "moved.zip"
    assert invoke(*base, "evidence", "CW-D-00001", "--out", str(bundle)).exit_code == 0
    assert invoke("verify-evidence", str(bundle)).exit_code == 0
    folder = unzip(bundle, tmp_path / "bundle")
    outside = run_outside(snippet_of(folder), folder)
    assert outside.returncode == 0 and f" from {terms}: log entry 0 " in outside.stdout, outside.stderr
    with (folder / "capture.warc.gz").open("rb") as warc:
        from warcio.archiveiterator import ArchiveIterator

        assert [record.rec_headers.get_header("WARC-Target-URI") for record in ArchiveIterator(warc)
                if record.rec_type == "response"] == [old, terms]

    with wayback(wacz, tmp_path / "pywb") as collection:
        # The catalog URL replays as it answered: a 301, its Location rewritten to the policy's page in the archive,
        # which replays as the page.
        status, location, _ = _get(f"{collection}/2030mp_/{old}")
        assert status == 301 and location is not None and location.endswith(f"mp_/{terms}"), (status, location)
        status, _, body = _get(urljoin(collection, location))
    assert status == 200 and b"governed by the laws of Ireland" in body


def _get(url: str) -> tuple[int, str | None, bytes]:
    """One GET, its redirect not followed: the status, Location and body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        answer = connection.getresponse()
        return answer.status, answer.getheader("Location"), answer.read()
    finally:
        connection.close()

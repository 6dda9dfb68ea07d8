"""The store failing in the middle of a crawl: a database that fills up, a blob folder that cannot take a blob.

Provoked for real, with no privilege: the crawl runs in a process whose files may not grow past a size
(``RLIMIT_FSIZE``; Python ignores SIGXFSZ, so a write past it fails with EFBIG, which SQLite reports as a
disk I/O error, as it reports ENOSPC as "database or disk is full"). Before, every document then ended "skipped: the crawl ended
early", with a 90 KB log line per document, and the crawl exited 0.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page
from store.repository import Store

CLAUSEWATCH = str(Path(sys.executable).parent / "clausewatch")
DOCUMENTS = 30


def _terms(number: int, sections: int = 40) -> bytes:
    """A page of its own text: forty clauses (or ``sections``) no other page shares."""
    clauses = "".join(
        f"<h2>{section}. Section {section} of platform {number}</h2><p>Platform {number} may review, keep and share "
        f"the content you post under clause {section} for {number + section} days, and you agree to arbitration "
        f"of any dispute about clause {section} of platform {number} in the courts of state {section}.</p>"
        for section in range(1, sections + 1))
    return f"<html><body><main><h1>Terms of platform {number}</h1>{clauses}</main></body></html>".encode()


def _home(root: Path, site: LocalSite, documents: int) -> list[str]:
    catalog = root / "catalog"
    catalog.mkdir()
    for number in range(documents):
        site.set(f"/terms/{number}", Page(_terms(number)))
        (catalog / f"p{number:02d}.yaml").write_text(
            f"name: P{number}\nslug: p{number:02d}\ndocuments:\n  - type: Terms of Service\n"
            f"    url: {site.url(f'/terms/{number}')}\n")
    base = ["--home", str(root / "home"), "--catalog", str(catalog)]
    assert CliRunner().invoke(main, [*base, "init"], catch_exceptions=False).exit_code == 0
    return base


def _crawl_with_files_capped_at(base: list[str], limit: int, delay: str = "0",
                                **settings: str) -> subprocess.CompletedProcess:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")} | settings
    return subprocess.run([CLAUSEWATCH, *base, "crawl", "--delay", delay, "--concurrency", "1"],
                          env=env,
                          preexec_fn=cap, capture_output=True, text=True, timeout=300)


def _invoke(base: list[str], *args: str):
    return CliRunner().invoke(main, [*base, *args], catch_exceptions=False)


def test_a_database_that_fills_up_stops_the_crawl_says_so_and_the_next_crawl_records_the_rest(tmp_path):
    with LocalSite() as site:
        base = _home(tmp_path, site, DOCUMENTS)
        database = tmp_path / "home" / "clausewatch.db"
        # Room for the first few versions in the write-ahead log, not for thirty.
        done = _crawl_with_files_capped_at(base, database.stat().st_size + 256 * 1024)

        assert done.returncode == 2, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        last = done.stderr.strip().splitlines()[-1]
        # SQLite says "disk I/O error" for a write past the cap, "database or disk is full" on a full disk.
        assert re.fullmatch(re.escape(f"Error: HOME (--home, CLAUSEWATCH_HOME): the database at sqlite:///{database} "
                                      "failed: ") + r"(disk I/O error|database or disk is full); the crawl stopped: "
                            r"\d+ document\(s\) checked, \d+ not checked", last), last
        lines = done.stdout.splitlines()
        recorded = [line for line in lines if line.endswith(tuple("0123456789abcdef")) and "  new_version  " in line]
        unchecked = [line for line in lines if line.endswith("  skipped  not checked: the store failed")]
        assert recorded and unchecked
        assert len(recorded) + len(unchecked) == DOCUMENTS
        assert f"{len(recorded)} document(s) checked, {len(unchecked)} not checked" in last
        # No page's text in the log: an item's repr leaves its bytes out.
        assert "Platform 3 may review" not in done.stderr

        # Nothing half-written, the crawl's lease released: a crawl with room records the rest, once each.
        assert _invoke(base, "verify").exit_code == 0
        again = _invoke(base, "crawl", "--delay", "0")
        assert again.exit_code == 0, again.output
        assert again.output.count("  new_version  ") == len(unchecked)
        assert again.output.count("  unchanged") + again.output.count("  not_modified") == len(recorded)
    store = Store.open(f"sqlite:///{database}", tmp_path / "home" / "objects", mode="read")
    try:
        assert [len(store.history.versions(d.id)) for d in store.catalog.documents()] == [1] * DOCUMENTS
    finally:
        store.close()


def test_a_blob_folder_that_cannot_take_a_page_stops_the_crawl_naming_it(tmp_path):
    with LocalSite() as site:
        base = _home(tmp_path, site, 6)
        # An archived page is kept whole, its bytes compressed: random bytes do not compress.
        site.set("/terms/0", Page(_terms(0).replace(b"</main>", b"</main><!-- " + os.urandom(600_000).hex().encode()
                                                      + b" -->")))
        # The others never answer, and one page is asked for at a time (Scrapy 2.19 honours a concurrency of one
        # only with some delay): a crawl that went on would ask for each in turn, each timing out.
        for number in range(1, 6):
            site.set(f"/terms/{number}", Page(_terms(number), hang=True))
        database = tmp_path / "home" / "clausewatch.db"
        done = _crawl_with_files_capped_at(base, database.stat().st_size + 256 * 1024, delay="0.05",
                                           CLAUSEWATCH_CRAWL_TIMEOUT="2", CLAUSEWATCH_CRAWL_RETRIES="0")
        asked = sorted({path for path, _ in site.requests if path.startswith("/terms/")})

    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"Error: HOME (--home, CLAUSEWATCH_HOME): the blob folder {tmp_path / 'home' / 'objects'} failed: File too "
        "large; the crawl stopped: 0 document(s) checked, 6 not checked")
    # The page that failed, and at most the one already on its way when it did: the four waiting are not fetched.
    assert asked[0] == "/terms/0" and set(asked) <= {"/terms/0", "/terms/1"}, (asked, done.stderr)
    for number in range(1, 7):
        assert f"CW-D-{number:05d}  skipped  not checked: the store failed" in done.stdout
    assert not list((tmp_path / "home" / "objects").glob("*/.tmp-*")), "a partial blob was left behind"


@pytest.mark.parametrize("blobs_setting", [False, True])
def test_a_blob_folder_failure_names_the_setting_that_put_the_folder_there(tmp_path, blobs_setting):
    from clausewatch.app import store_failure_line
    from clausewatch.settings import load_settings
    from store.errors import BlobFolderFailedError, StoreFailedError

    env = {"CLAUSEWATCH_HOME": str(tmp_path / "home")}
    if blobs_setting:
        env["CLAUSEWATCH_BLOBS"] = str(tmp_path / "elsewhere")
    settings = load_settings(env)
    blob_line = store_failure_line(settings, BlobFolderFailedError("the blob folder X failed: No space left"))
    database_line = store_failure_line(settings, StoreFailedError("the database at Y failed: disk I/O error"))
    assert blob_line.startswith("BLOBS (CLAUSEWATCH_BLOBS): " if blobs_setting else "HOME (--home, CLAUSEWATCH_HOME): ")
    assert database_line == "HOME (--home, CLAUSEWATCH_HOME): the database at Y failed: disk I/O error"


def test_a_run_whose_store_fills_up_fails_the_job_with_that_line_and_stops_before_the_site(tmp_path):
    with LocalSite() as site:
        base = _home(tmp_path, site, DOCUMENTS)
        database = tmp_path / "home" / "clausewatch.db"
        limit = database.stat().st_size + 256 * 1024
        env = {key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")}
        env["CLAUSEWATCH_CRAWL_DELAY"] = "0"
        done = subprocess.run([CLAUSEWATCH, *base, "run", "daily"], env=env, capture_output=True, text=True,
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)),
                              timeout=300)

    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert re.fullmatch(r"Error: job 'daily' failed: HOME \(--home, CLAUSEWATCH_HOME\): the database at \S+ failed: "
                        r"[^;]+; the crawl stopped: \d+ document\(s\) checked, \d+ not checked",
                        done.stderr.strip().splitlines()[-1]), done.stderr[-2000:]
    assert not (tmp_path / "home" / "site").exists(), "the site step ran on a store that had failed"


def test_a_site_the_disk_cannot_take_names_the_file_that_failed(tmp_path):
    with LocalSite() as site:
        base = _home(tmp_path, site, 1)
        site.set("/terms/0", Page(_terms(0, sections=400)))
        assert _invoke(base, "crawl", "--delay", "0").exit_code == 0
    limit = 40 * 1024  # room for SQLite's shared-memory file, not for the page of a document of 400 clauses
    done = subprocess.run([CLAUSEWATCH, *base, "site"], capture_output=True, text=True, timeout=300,
                          env={key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))

    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert re.fullmatch(re.escape(f"Error: cannot use {tmp_path / 'home' / 'site'}/") + r"\S+\.html: File too large",
                        done.stderr.strip()), done.stderr[-2000:]


def test_analyze_stops_at_a_store_that_fails_rather_than_failing_every_version_in_turn(tmp_path):
    with LocalSite() as site:
        base = _home(tmp_path, site, 8)
        assert _invoke(base, "crawl", "--delay", "0").exit_code == 0
    database = tmp_path / "home" / "clausewatch.db"
    # The write-ahead log starts empty at each command: room in it for a version or two, not for eight.
    limit = 96 * 1024
    done = subprocess.run([CLAUSEWATCH, *base, "analyze", "--all"], capture_output=True, text=True, timeout=300,
                          env={key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))

    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "failed: " in line]
    assert len(errors) == 1, done.stderr[-3000:]
    assert re.fullmatch(re.escape(f"Error: HOME (--home, CLAUSEWATCH_HOME): the database at sqlite:///{database} "
                                  "failed: ") + r"[^;]+; analyze stopped \(each version analysed before is kept: run "
                        r"it again to finish\)", errors[0]), errors[0]
    assert _invoke(base, "analyze", "--all").exit_code == 0


def test_an_init_the_disk_cuts_short_leaves_no_half_made_store_and_the_next_init_makes_it(tmp_path):
    """SQLite runs a migration's DDL outside a transaction: a first migration cut short left a database of some
    tables, which every later `init` refused as another program's ("holds other tables"), for good."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text("name: Acme\ndocuments:\n  - type: Terms of Service\n"
                                       "    url: http://127.0.0.1:9/terms\n")
    base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
    limit = 48 * 1024  # room for SQLite's shared-memory file, not for every table of the schema
    done = subprocess.run([CLAUSEWATCH, *base, "init"], capture_output=True, text=True, timeout=300,
                          env={key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))

    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: HOME (--home, CLAUSEWATCH_HOME): cannot use the database at ")
    assert not list((tmp_path / "home").glob("clausewatch.db*"))
    again = _invoke(base, "init")
    assert again.exit_code == 0, again.output


def test_an_export_the_disk_cannot_take_names_the_file_asked_for_and_leaves_no_part_of_it(tmp_path):
    with LocalSite() as site:
        base = _home(tmp_path, site, 1)
        site.set("/terms/0", Page(_terms(0, sections=400)))
        assert _invoke(base, "crawl", "--delay", "0").exit_code == 0
    out = tmp_path / "exports" / "archive.wacz"
    out.parent.mkdir()
    limit = 40 * 1024  # room for SQLite's shared-memory file, not for a web archive of a page of 400 clauses
    done = subprocess.run([CLAUSEWATCH, *base, "export", "--wacz", str(out)], capture_output=True, text=True,
                          timeout=300,
                          env={key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))

    assert done.returncode == 2, done.stderr[-3000:]
    assert done.stderr.strip() == f"Error: cannot use {out}: File too large"
    assert list(out.parent.iterdir()) == []


def test_a_demo_whose_store_fails_stops_there_with_one_line(tmp_path):
    """Before, the demo crawled version 2 anyway and failed later, building the site."""
    limit = 300 * 1024  # room for the schema and a version or so, not for the demo's four policies
    done = subprocess.run([CLAUSEWATCH, "demo", "--out", str(tmp_path / "demo")], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path,
                          env={key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))

    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "serving version 2" not in done.stdout
    assert re.fullmatch(r"Error: demo --out: HOME \(--home, CLAUSEWATCH_HOME\): the database at \S+ failed: [^;]+; "
                        r"the crawl stopped: \d+ document\(s\) checked, \d+ not checked",
                        done.stderr.strip().splitlines()[-1])


def test_two_inits_at_once_leave_one_store_whichever_loses(tmp_path):
    """Both saw no database file; the one whose migration then failed removed the store the other had just made
    (an init cut short removes only the file it made itself)."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "acme.yaml").write_text("name: Acme\ndocuments:\n  - type: Terms of Service\n"
                                       "    url: http://127.0.0.1:9/terms\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")}
    for attempt in range(6):
        base = ["--home", str(tmp_path / f"home{attempt}"), "--catalog", str(catalog)]
        racing = [subprocess.Popen([CLAUSEWATCH, *base, "init"], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = [(process.wait(timeout=300), process.communicate()) for process in racing]
        assert any(status == 0 for status, _ in outcomes), outcomes
        assert all("Traceback" not in err for _, (_, err) in outcomes)
        status = _invoke(base, "status")
        assert status.exit_code == 0 and "CW-D-00001" in status.output, (attempt, outcomes, status.output)


def test_a_store_that_fails_under_a_command_opening_it_itself_is_named_by_its_setting(tmp_path):
    """`init` opens its store without the helper that names the setting: the line said only "the database at …"."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for number in range(1500):  # a catalog whose sync outgrows the cap, after the schema fitted under it
        (catalog / f"p{number:04d}.yaml").write_text(
            f"name: Platform {number}\ndocuments:\n  - type: Terms of Service\n    url: http://127.0.0.1:9/t/{number}\n"
            f"  - type: Privacy Policy\n    url: http://127.0.0.1:9/p/{number}\n")
    base = ["--home", str(tmp_path / "home"), "--catalog", str(catalog)]
    limit = 300 * 1024
    done = subprocess.run([CLAUSEWATCH, *base, "init"], capture_output=True, text=True, timeout=300,
                          env={key: value for key, value in os.environ.items() if not key.startswith("CLAUSEWATCH_")},
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))

    assert done.returncode == 2, done.stderr[-3000:]
    assert re.fullmatch(r"Error: HOME \(--home, CLAUSEWATCH_HOME\): the database at \S+ failed: [^;]+",
                        done.stderr.strip()), done.stderr
    again = _invoke(base, "init")
    assert again.exit_code == 0 and "1500 platform(s), 3000 document(s)" in again.output, again.output


@pytest.mark.parametrize("how", ["removed", "replaced"])
def test_a_database_file_removed_or_replaced_under_a_crawl_stops_it_rather_than_recording_into_nothing(tmp_path, how):
    # SQLite writes on through its open descriptor into a deleted file, and into the old file after another is
    # renamed over it: before, every later document was "recorded", exit 0, and all of it was gone at exit.
    database = tmp_path / "home" / "clausewatch.db"

    def pull_the_file(requests: int) -> bytes:
        if requests == 1:
            if how == "removed":
                database.unlink()
            else:  # a backup restored
                other = database.with_name("restored.db")
                other.write_bytes(backup)
                other.replace(database)
        return _terms(3)

    with LocalSite() as site:
        base = _home(tmp_path, site, 6)
        backup = database.read_bytes()
        site.set("/terms/3", Page(render=pull_the_file))
        done = _invoke(base, "crawl", "--delay", "0.01", "--concurrency", "1")

    assert done.exit_code == 2, done.output
    assert "Traceback" not in done.output
    last = done.output.strip().splitlines()[-1]
    gone = ("was removed or moved while in use: what was recorded in it is not at that path any more"
            if how == "removed" else
            "was replaced by another file while in use: what was recorded since it was opened is not in the file "
            "now there")
    aside = f"clausewatch.db-wal.of-a-replaced-file-{os.getpid()}, clausewatch.db-shm.of-a-replaced-file-{os.getpid()}"
    assert re.fullmatch(re.escape(f"Error: HOME (--home, CLAUSEWATCH_HOME): the database file {database} {gone}; "
                                  f"this process's log files of it were set aside as {aside}; "
                                  "the crawl stopped: ") + r"\d+ document\(s\) checked, \d+ not checked"
                        r"(, and those it had not reached yet, which the failed store cannot list)?", last), last
    assert "  skipped  not checked: the store failed" in done.output
    if how == "replaced":
        # The crawl's write-ahead log belonged to the file it had open: left beside the backup, the next command to
        # open it, a read-only `verify` included, replayed it into the backup and corrupted it ("database disk image
        # is malformed"). Set aside, the backup opens as it was restored.
        checked = _invoke(base, "verify")
        assert checked.exit_code == 0, checked.output
        assert database.read_bytes() == backup

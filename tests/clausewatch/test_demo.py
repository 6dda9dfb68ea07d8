"""`clausewatch demo` end to end: two crawls of real policies on loopback, offline, on SQLite."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.demo import MARKER, DemoFolderError, fixed_files, prepare_folder, record_made, record_written

REPO = Path(__file__).resolve().parents[2]


def test_demo_archives_two_versions_of_every_sample_policy(tmp_path):
    runner = CliRunner()
    home = tmp_path / "home"
    result = runner.invoke(main, ["--home", str(home), "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.count("4 new_version") == 2

    demo = home / "demo"
    status = runner.invoke(main, ["--home", str(demo), "--catalog", str(demo / "catalog"), "status", "--json"])
    assert status.exit_code == 0, status.output
    documents = json.loads(status.output)["documents"]
    assert {d["platform"] for d in documents} == {"bluesky", "spotify", "reddit", "kling-ai"}
    assert all(d["versions"] == 2 and d["fetches"] == 2 and d["failures"] == 0 for d in documents)
    assert set(documents[0]) == {"id", "platform", "type", "url", "versions", "fetches", "failures",
                                 "last_outcome", "last_verified", "language"}
    assert {d["language"] for d in documents} == {"en"}

    assert (demo / "site" / "index.html").is_file()
    assert "open " + str(demo / "site" / "index.html") in result.output
    alerts = sorted(p.name for p in (demo / "mail" / "alerts").glob("*.eml"))
    assert alerts == ["001-compliance@example.org.eml", "002-ai-watch@example.org.eml"]
    assert len(list((demo / "mail" / "digest").glob("*.eml"))) == 2
    kling_alert = (demo / "mail" / "alerts" / "002-ai-watch@example.org.eml").read_text()
    assert "Kling AI" in kling_alert and "Spotify" not in kling_alert  # the AI desk follows Kling AI only

    # The demo ends with the commands that explore its store, and each works as printed.
    explore = result.output.split("explore the demo's store:\n", 1)[1].splitlines()
    assert [shlex.split(line)[:2] for line in explore] == [
        ["clausewatch", "status"], ["clausewatch", "changes"], ["clausewatch", "site"], ["clausewatch", "digest"]]
    for line in explore:
        explored = runner.invoke(main, shlex.split(line)[1:])
        assert explored.exit_code == 0, (line, explored.output)
    assert len(list((demo / "mail" / "explore").glob("*.eml"))) == 2

    verify = runner.invoke(main, ["--home", str(demo), "verify"])
    assert verify.exit_code == 0 and "0 problem(s)" in verify.output

    # Exploring the demo's store with the project's catalog adds nothing to it: status only reads.
    project = runner.invoke(main, ["--home", str(demo), "--catalog", str(REPO / "catalog"), "status", "--json"])
    assert project.exit_code == 2  # the demo's documents are not declared by that catalog, and it says so
    assert [d["id"] for d in json.loads(project.stdout)["documents"]] == [d["id"] for d in documents]
    again = runner.invoke(main, ["--home", str(demo), "--catalog", str(demo / "catalog"), "status", "--json"])
    assert json.loads(again.stdout)["documents"] == documents


def test_demo_never_deletes_a_folder_it_did_not_make(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.md").write_text("months of work")
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(precious)])
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: demo --out: {precious} already exists and was not made by "
                                     "`clausewatch demo` (no marker file); it was left untouched: choose another folder")
    assert [p.name for p in precious.iterdir()] == ["chapter1.md"]
    assert (precious / "chapter1.md").read_text() == "months of work"


def test_demo_replaces_only_a_folder_it_made(tmp_path):
    folder = tmp_path / "demo"
    prepare_folder(folder)  # made by the demo: marked
    (folder / "clausewatch.db").write_text("an earlier demo's store")
    record_made(folder, ())
    prepare_folder(folder)
    assert sorted(p.name for p in folder.iterdir()) == [MARKER]
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_folder(empty)  # an empty folder is used as it is
    assert (empty / MARKER).is_file()


def test_a_second_demo_removes_only_the_files_the_first_made_unchanged(tmp_path):
    # A second run removed the whole folder: notes added to it and the explore commands' output went with it.
    folder = tmp_path / "demo"
    prepare_folder(folder)
    for name in ("clausewatch.db", "site/index.html", "site/records/r.html", "mail/alerts/001-a@example.org.eml"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"the demo's {name}")
    record_made(folder, ())
    (folder / "my-notes.txt").write_text("precious")
    (folder / "mine").mkdir()
    (folder / "mine" / "q.txt").write_text("mine too")
    (folder / "site" / "extra.html").write_text("added to the site")
    (folder / "mail" / "alerts" / "001-a@example.org.eml").write_text("the demo's email, edited since")

    kept = prepare_folder(folder)

    # An edited email stays (the next run numbers its own on); an edited page stops the run (the test below).
    assert kept == ("mail/alerts/001-a@example.org.eml", "mine/q.txt", "my-notes.txt", "site/extra.html")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        MARKER, "mail/alerts/001-a@example.org.eml", "mine/q.txt", "my-notes.txt", "site/extra.html"]
    assert not (folder / "site" / "records").exists()  # emptied of the demo's files, so removed


def test_an_operators_file_in_the_demo_site_keeps_the_sites_manifest(tmp_path):
    # The demo removed its site's manifest as made and unchanged, and its own site build then refused the folder
    # (files, no manifest) after the whole crawl, every run after (review of 2026-12-02).
    folder = tmp_path / "demo"
    prepare_folder(folder)
    for name in ("site/index.html", "site/.clausewatch-manifest.json"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"the demo's {name}")
    record_made(folder, ())
    (folder / "site" / "mine.html").write_text("custom")

    kept = prepare_folder(folder)

    assert sorted(kept) == ["site/.clausewatch-manifest.json", "site/mine.html"]
    assert not (folder / "site" / "index.html").exists()  # its page goes: the manifest's build writes it again


def test_a_demo_store_changed_since_is_replaced_whole_and_nothing_an_operator_made_goes(tmp_path):
    # A crawl run on the demo's store changed the database, which was then "kept" while its blobs went: the folder
    # was broken for good (review of 2026-12-01). The store is the demo's, replaced whole; files an operator put
    # anywhere, in keys/ and objects/ too, or named with a line separator, stay, after a run that did not finish too.
    folder = tmp_path / "demo"
    prepare_folder(folder)
    blob = "objects/ab/" + "c" * 62
    for name in ("clausewatch.db", blob, "keys/capture-log.key", "keys/capture-log.key.pub", "site/index.html"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"the demo's {name}")
    record_made(folder, ())
    (folder / "clausewatch.db").write_text("changed by a crawl since")
    mine = ("notes.txt", "keys/my-prod.key", "objects/README", "report\u2028final.txt")
    for name in mine:
        (folder / name).write_text("mine")

    kept = prepare_folder(folder)  # a run that stops before its end: it never lists what it made
    assert sorted(kept) == sorted(mine)
    (folder / "site").mkdir()
    (folder / "site" / "half.html").write_text("written by the unfinished run")
    (folder / "clausewatch.db").write_text("the unfinished run's store")
    (folder / "later.txt").write_text("written by the operator after the failure")

    assert sorted(prepare_folder(folder)) == sorted([*mine, "later.txt", "site/half.html"])
    assert not (folder / "clausewatch.db").exists()  # the store goes, whatever the marker says
    assert all((folder / name).read_text() == "mine" for name in mine)


def test_a_marker_of_the_previous_release_listing_its_files_unquoted_is_read(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "site").mkdir()
    (folder / "site" / "index.html").write_text("page")
    digest = hashlib.sha256(b"page").hexdigest()
    (folder / MARKER).write_text("made by `clausewatch demo`; its next run removes the files listed below, unchanged, "
                                 f"and nothing else\n{digest}  site/index.html\n")
    (folder / "notes.txt").write_text("mine")
    assert prepare_folder(folder) == ("notes.txt",)
    assert sorted(p.name for p in folder.iterdir()) == [MARKER, "notes.txt"]


def test_a_folder_of_an_older_release_is_replaced_as_its_marker_promised(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / MARKER).write_text("made by `clausewatch demo`: it replaces this folder on its next run\n")
    (folder / "clausewatch.db").write_text("an earlier demo's store")
    prepare_folder(folder)
    assert sorted(p.name for p in folder.iterdir()) == [MARKER]


def test_a_marker_the_demo_did_not_write_leaves_the_folder_untouched(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / MARKER).write_text("my own notes, in a file of that name\n")
    (folder / "thesis.md").write_text("precious")
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)])
    assert result.exit_code == 2 and "is not a marker `clausewatch demo` wrote" in result.output
    assert (folder / "thesis.md").read_text() == "precious"


def test_an_operator_edit_of_the_demo_catalog_stops_the_next_run_before_anything_is_removed(tmp_path):
    # The demo wrote its catalog and subscribers anew over an operator's edits (kept, then overwritten).
    folder = tmp_path / "demo"
    prepare_folder(folder)
    for name in ("clausewatch.db", "site/index.html", *fixed_files()):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"the demo's {name}")
    record_made(folder, ())
    edited = folder / fixed_files()[-1]
    edited.write_text("the operator's selector, fixed")
    before = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))

    with pytest.raises(DemoFolderError, match=f"{fixed_files()[-1]} in .* changed since the demo wrote it"):
        prepare_folder(folder)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == before
    assert edited.read_text() == "the operator's selector, fixed"

    edited.unlink()
    (folder / "subscribers.yaml").unlink()
    (folder / "subscribers.yaml").symlink_to(tmp_path / "elsewhere.yaml")  # written through, it would land there
    with pytest.raises(DemoFolderError, match="subscribers.yaml in"):
        prepare_folder(folder)


def test_the_files_a_run_cut_short_had_written_are_replaced_by_the_next_run(tmp_path):
    folder = tmp_path / "demo"
    prepare_folder(folder)
    for name in fixed_files():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(f"the demo's {name}")
    record_written(folder, ())  # then the run stops (Ctrl-C during its crawl)
    (folder / "clausewatch.db").write_text("the cut run's store")

    assert prepare_folder(folder) == ()
    assert sorted(p.name for p in folder.iterdir()) == [MARKER]


def test_a_run_stopped_after_its_emails_and_site_leaves_them_to_the_next_run_not_as_an_operators(tmp_path):
    # The next run kept the stopped run's emails and pages as files the demo did not make ("kept 187 file(s)"), and
    # wrote its own emails beside them: 001-004 for two alerts.
    folder = tmp_path / "demo"
    folder.mkdir()
    runner = CliRunner()
    assert runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)]).exit_code == 0
    (folder / "notes.txt").write_text("mine")
    shutil.rmtree(folder / "mail" / "digest")
    (folder / "mail" / "digest").write_text("a file where the digest's folder goes: the run stops at its last stage")

    stopped = runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)])
    assert stopped.exit_code == 2 and "mail/digest" in stopped.output
    assert len(list((folder / "mail" / "alerts").glob("*.eml"))) == 2 and (folder / "site" / "index.html").is_file()

    (folder / "mail" / "digest").unlink()
    again = runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)])
    assert again.exit_code == 0, again.output
    assert "kept 1 file(s) the demo did not make (or that changed since): notes.txt" in again.output
    assert sorted(p.name for p in (folder / "mail" / "alerts").iterdir()) == [
        "001-compliance@example.org.eml", "002-ai-watch@example.org.eml"]
    assert (folder / "notes.txt").read_text() == "mine"


def test_the_site_a_run_killed_while_it_built_it_left_is_the_next_runs_not_kept_as_an_operators(tmp_path):
    # SIGKILL while the site was built: its pages were written after the marker last listed the run's files, so
    # every later run kept ("kept 98 file(s) the demo did not make") and rewrote them, and never listed them.
    folder = tmp_path / "demo"
    runner = CliRunner()
    assert runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)]).exit_code == 0
    site = sorted(path.relative_to(folder).as_posix() for path in (folder / "site").rglob("*") if path.is_file())
    # What the kill leaves: the marker as listed after the alerts, and the manifest the build writes first thing.
    record_written(folder, tuple(site))
    (folder / "site" / ".clausewatch-manifest.json").write_text('{"format": 1, "pages": {}}')
    (folder / "notes.txt").write_text("mine")

    again = runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)])

    assert again.exit_code == 0, again.output
    assert "kept 1 file(s) the demo did not make (or that changed since): notes.txt" in again.output
    listed = (folder / MARKER).read_text()
    assert all(json.dumps(relative) in listed for relative in site)
    assert json.dumps("notes.txt") not in listed


@pytest.mark.skipif(os.geteuid() != 0, reason="a small filesystem of its own is mounted (tmpfs): root only, as in CI")
def test_alerts_a_full_disk_kept_from_being_written_are_errors_and_the_demo_exits_1(tmp_path):
    # They were counted as written, the demo exited 0, and the alerts' folder was empty.
    folder = tmp_path / "demo"
    runner = CliRunner()
    assert runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)]).exit_code == 0
    alerts = folder / "mail" / "alerts"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(alerts)], check=True)  # emails of 35 KB
    try:
        result = runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)])
        written = sorted(path.name for path in alerts.iterdir())
    finally:
        subprocess.run(["umount", str(alerts)], check=True)

    assert result.exit_code == 1, result.output
    assert "alerts:   1 (and 1 not written) email(s) for 4 change(s)" in result.output
    assert result.stderr.count("was not written") == 1 and "<compliance@example.org> was not written: " in result.stderr
    assert written == ["002-ai-watch@example.org.eml"]
    assert "digest:   2 email(s)" in result.output and (folder / "site" / "index.html").is_file()


def test_a_demo_page_edited_since_stops_the_next_run_and_the_explore_site_changes_none(tmp_path):
    # The next run wrote its site over an edited page while saying it had kept it; the explore commands' `site`,
    # built with another base URL, rewrote every page, so the next run took them all for an operator's.
    folder = tmp_path / "demo"
    runner = CliRunner()
    first = runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)])
    assert first.exit_code == 0, first.output
    explore = first.output.split("explore the demo's store:\n", 1)[1].splitlines()
    [site] = [shlex.split(line)[1:] for line in explore if shlex.split(line)[1] == "site"]
    built = runner.invoke(main, site)
    assert built.exit_code == 0 and " 0 written," in built.output, built.output

    again = runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)])
    assert again.exit_code == 0 and "kept" not in again.output, again.output

    page = folder / "site" / "platforms" / "bluesky.html"
    page.write_text(page.read_text() + "<!-- my note -->")
    before = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    refused = runner.invoke(main, ["--home", str(tmp_path / "home"), "demo", "--out", str(folder)])
    assert refused.exit_code == 2
    assert "site/platforms/bluesky.html in " in refused.output and "changed since the demo wrote it" in refused.output
    assert page.read_text().endswith("<!-- my note -->")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == before


def test_a_marker_of_a_run_cut_short_in_the_previous_release_is_read(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / MARKER).write_text("made by `clausewatch demo`; its next run removes its store and the files listed as "
                                 "made, unchanged\nunfinished: what the run made is not listed; only its store is "
                                 "removed\n")
    (folder / "clausewatch.db").write_text("the cut run's store")
    (folder / "notes.txt").write_text("mine")
    assert prepare_folder(folder) == ("notes.txt",)

"""Tamper evidence: every way of rewriting the archive after the fact is caught and named by the log check.

Two real crawls of a loopback site (version 1, then version 2) fill the store
and the capture log, each followed by a signed tree head; each test then
tampers with one thing, directly in the database or the blob folder as an
operator with write access could, and checks ``verify`` names it.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from analysis import merkle
from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from analysis.evidence import LogLeaf
from clausewatch.loopback_site import LocalSite, Page
from store.capture_log import CaptureLog, ClockBehindError
from store.log_check import check_log
from store.signing import create_key, load_signer, public_key_path
from store.tables import FetchRow, LogEntryRow, TreeHeadRow, VersionRow, VersionSnapshotRow

POLICY = "<html><body><main><h1>Terms</h1><h2>1. Law</h2><p>These terms are governed by the laws of {}.</p>" \
         "<h2>2. Changes</h2><p>We may change these terms at any time without notice.</p></main></body></html>"


@pytest.fixture
def run_crawl():
    from analysis.pipeline import Analyzer
    from crawler.crawl import CrawlOptions, crawl

    options = CrawlOptions(user_agent="clausewatch-tests/1", delay=0, concurrency=4, timeout=5, retries=0)

    def run(store, platforms):
        store.catalog.sync_catalog(platforms, now=datetime.now(UTC))
        return crawl(store, store.catalog.documents(), options, analyze=Analyzer())

    return run


@pytest.fixture
def signer(tmp_path):
    key = tmp_path / "keys" / "log.key"
    create_key(key)
    return load_signer(key)


@pytest.fixture
def logged_store(store, signer, run_crawl):
    """Two crawls (v1, then v2 of the terms; the privacy page is a 404 both times), each signed."""
    with LocalSite({"/terms": Page(POLICY.format("Ireland").encode())}) as site:
        acme = PlatformSpec("acme", "Acme", (
            DocumentSpec("acme", "Terms of Service", (SourceSpec(site.url("/terms")),)),
            DocumentSpec("acme", "Privacy Policy", (SourceSpec(site.url("/privacy")),)),
        ))
        log = CaptureLog(store)
        run_crawl(store, [acme])
        log.sign_tree_head(signer, datetime.now(UTC))
        site.set("/terms", Page(POLICY.format("Delaware").encode()))
        run_crawl(store, [acme])
        log.sign_tree_head(signer, datetime.now(UTC))
    return store


def problems(store, signer) -> list[str]:
    found = [str(p) for p in check_log(store, signer.public_pem).problems]
    return found + [f"{m.sha256}: {m.problem}" for m in store.verify()]


def test_an_untouched_store_agrees_with_its_log(logged_store, signer):
    log = CaptureLog(logged_store)
    assert log.size() == 4 and [h.size for h in log.tree_heads()] == [2, 4]
    assert problems(logged_store, signer) == []
    leaves = [LogLeaf.decode(e.leaf) for e in log.entries()]
    assert sorted(leaf.outcome for leaf in leaves) == ["failed", "failed", "new_version", "new_version"]
    version = logged_store.history.versions("CW-D-00001")[-1].version
    index = log.log_index_of_version("CW-D-00001", version.sha256)
    assert leaves[index].version == version.sha256 and leaves[index].time == version.first_seen


def test_tree_heads_stay_in_time_order_whoever_signs_and_whatever_the_clock_says(logged_store, signer):
    # Two `sign-log` at once on PostgreSQL kept their heads in the other order of their times, and `verify` read the
    # later one as forged for good; a clock gone back did the same. Signing now holds the log's lock, and:
    log = CaptureLog(logged_store)
    [_, latest] = log.tree_heads()
    behind = datetime.fromtimestamp(latest.timestamp_ms / 1000, UTC) - timedelta(seconds=1)

    # over the same entries, a head signed after this signer read the clock is the answer (nothing added);
    assert log.sign_tree_head(signer, behind) == latest
    # over more entries, a clock behind signs nothing, and says so.
    now = datetime.now(UTC)
    logged_store.recording.record_failure("CW-D-00002", started_at=now, finished_at=now, kind="network")
    with pytest.raises(ClockBehindError, match=r"^the clock says .* before the latest time in the capture log "):
        log.sign_tree_head(signer, behind)
    assert log.tree_heads()[-1] == latest


def test_a_changed_blob_byte_is_named(logged_store, signer):
    version = logged_store.history.versions("CW-D-00001")[0].version
    path = logged_store.blobs.path(version.sha256)
    text = bytearray(zlib.decompress(path.read_bytes()))
    text[10] ^= 1
    path.write_bytes(zlib.compress(bytes(text)))
    assert any(version.sha256 in p and "hashes to" in p for p in problems(logged_store, signer))


def test_a_version_row_pointing_at_another_text_is_named(logged_store, signer):
    forged = logged_store.blobs.put(b"These terms are governed by the laws of Nowhere.\n")
    with logged_store.session() as session:
        session.execute(update(VersionRow).where(VersionRow.id == 1).values(sha256=forged))
    found = problems(logged_store, signer)
    assert any("version is" in p and forged in p and "(altered)" in p for p in found), found


def test_a_back_dated_version_is_named(logged_store, signer):
    with logged_store.session() as session:
        first_seen = session.scalar(select(VersionRow.first_seen).where(VersionRow.id == 2))
        session.execute(update(VersionRow).where(VersionRow.id == 2).values(first_seen=first_seen - timedelta(days=30)))
    found = problems(logged_store, signer)
    assert any(p.startswith("version ") and "(back-dated)" in p for p in found), found


def test_a_technical_version_is_checked_against_the_logged_pages_it_was_made_of(logged_store, signer):
    # A technical version (reprocess, or a history folded under a learned volatile value) has no fetch of its own:
    # it passes when made of logged pages and first seen no earlier than they were, and is named otherwise.
    with logged_store.session() as session:
        first_seen, page = session.execute(
            select(VersionRow.first_seen, VersionSnapshotRow.snapshot_id)
            .join(VersionSnapshotRow, VersionSnapshotRow.version_id == VersionRow.id).where(VersionRow.id == 2)).one()
        rebuilt = session.scalar(insert(VersionRow).values(
            document_id=1, sha256="ab" * 32, first_seen=first_seen, last_verified=first_seen, technical=True,
            text_length=10).returning(VersionRow.id))
        session.execute(insert(VersionSnapshotRow).values(version_id=rebuilt, snapshot_id=page))
    assert not [p for p in problems(logged_store, signer) if p.startswith("version ")]

    with logged_store.session() as session:
        # After the log began (earlier is read as a version recorded before the log existed), before its page.
        session.execute(update(VersionRow).where(VersionRow.id == rebuilt)
                        .values(first_seen=first_seen - timedelta(milliseconds=1)))
        session.execute(insert(VersionRow).values(
            document_id=1, sha256="cd" * 32, first_seen=first_seen, last_verified=first_seen, technical=True,
            text_length=10))
    found = [p for p in problems(logged_store, signer) if p.startswith("version ")]
    assert len(found) == 2, found
    assert found[0].startswith(f"version {'ab' * 6} of CW-D-00001: first seen ") and \
        "but its first page was logged" in found[0] and found[0].endswith("(back-dated)")
    assert found[1] == f"version {'cd' * 6} of CW-D-00001: a technical version, but none of its pages is in the log " \
                       "(inserted)"

    # Back-dated to before the log began, yet made of logged pages: not read as a version older than the log.
    with logged_store.session() as session:
        session.execute(update(VersionRow).where(VersionRow.id == rebuilt)
                        .values(first_seen=first_seen - timedelta(days=300)))
    found = [p for p in problems(logged_store, signer) if p.startswith(f"version {'ab' * 6}")]
    assert len(found) == 1 and found[0].endswith("(back-dated)"), found


def test_a_fetch_row_with_another_time_is_named(logged_store, signer):
    with logged_store.session() as session:
        fetch = session.scalar(select(FetchRow).where(FetchRow.outcome == "new_version").order_by(FetchRow.id))
        session.execute(update(FetchRow).where(FetchRow.id == fetch.id)
                        .values(finished_at=fetch.finished_at - timedelta(hours=5)))
    found = problems(logged_store, signer)
    assert any("time is" in p and "(back-dated)" in p for p in found), found


def test_a_dropped_log_entry_is_named(logged_store, signer):
    with logged_store.session() as session:
        session.execute(delete(LogEntryRow).where(LogEntryRow.id == 1))
    found = problems(logged_store, signer)
    assert "log entry 1: missing from the log (deleted)" in found
    assert any(p.startswith("fetch #") and "(inserted)" in p for p in found), found
    assert any("tree head 1" in p and "(altered)" in p for p in found), found


def test_a_dropped_last_entry_and_its_fetch_are_named(logged_store, signer):
    with logged_store.session() as session:
        last = session.scalar(select(LogEntryRow).order_by(LogEntryRow.id.desc()).limit(1))
        session.execute(delete(LogEntryRow).where(LogEntryRow.id == last.id))
        session.execute(update(FetchRow).where(FetchRow.id == last.fetch_id).values(outcome="gone"))
    found = problems(logged_store, signer)
    assert any("tree head 2" in p and "signs 4 entries but the log has 3 (deleted)" in p for p in found), found


def test_an_inserted_fetch_is_named(logged_store, signer):
    with logged_store.session() as session:
        session.execute(insert(FetchRow).values(
            document_id=1, started_at=datetime(2026, 1, 1, tzinfo=UTC), finished_at=datetime(2026, 1, 1, tzinfo=UTC),
            outcome="unchanged", version_id=1))
    found = problems(logged_store, signer)
    assert any(p.startswith("fetch #") and "is not in the capture log (inserted)" in p for p in found), found


def test_a_rewritten_log_entry_is_caught_by_the_signed_heads(logged_store, signer):
    """Rewriting a leaf and its hash together is consistent locally; only the signed roots catch it."""
    with logged_store.session() as session:
        row = session.get(LogEntryRow, 0)
        leaf = row.leaf.replace(b'"outcome":"failed"', b'"outcome":"unchanged"')
        session.execute(update(LogEntryRow).where(LogEntryRow.id == 0)
                        .values(leaf=leaf, leaf_hash=merkle.leaf_hash(leaf).hex()))
    found = problems(logged_store, signer)
    assert any("tree head 1" in p and "(altered)" in p for p in found), found
    assert any("tree head 2" in p and "(altered)" in p for p in found), found


def test_a_replaced_tree_head_is_named(logged_store, signer, tmp_path):
    other = tmp_path / "other.key"
    create_key(other)
    impostor = load_signer(other)
    with logged_store.session() as session:
        head = session.scalar(select(TreeHeadRow).order_by(TreeHeadRow.id).limit(1))
        forged_root = merkle.root([merkle.leaf_hash(b"rewritten history")])
        from analysis.evidence import TreeHead

        forged = impostor.sign(TreeHead(head.size, forged_root, head.timestamp_ms))
        session.execute(update(TreeHeadRow).where(TreeHeadRow.id == head.id)
                        .values(root=forged_root.hex(), signature=forged.signature.hex()))
    found = problems(logged_store, signer)
    assert any("tree head 1" in p and "does not verify" in p and "(forged)" in p for p in found), found
    assert public_key_path(tmp_path / "keys" / "log.key").is_file()


def test_an_altered_capture_header_block_is_named_by_verify_and_by_its_bundle(logged_store, signer):
    from reports.evidence import write_bundle
    from reports.evidence_check import check_bundle
    from store.evidence_data import evidence_subject
    from store.tables import CaptureRecordRow

    with logged_store.session() as session:
        row = session.scalar(select(CaptureRecordRow).where(CaptureRecordRow.status == 200)
                             .order_by(CaptureRecordRow.id.desc()).limit(1))
        forged = bytes(row.response_head).replace(b"200 OK", b"200 OK\r\nX-Served-To: someone else", 1)
        session.execute(update(CaptureRecordRow).where(CaptureRecordRow.id == row.id).values(response_head=forged))
    found = problems(logged_store, signer)
    assert any("heads is" in p and "(altered)" in p for p in found), found

    subject = evidence_subject(logged_store, "CW-D-00001")
    files = {}
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(write_bundle(subject, logged_store.blobs, signer.public_pem,
                                                 base_url="http://x/"))) as bundle:
        for name in bundle.namelist():
            files[name.split("/", 1)[1]] = bundle.read(name)
    failures = check_bundle(files)  # every file matches its freshly made manifest; only the log disagrees
    assert failures and all("HTTP headers" in f for f in failures), failures


def _leaf_hashes(store) -> list[bytes]:
    with store.session() as session:
        return [bytes.fromhex(h) for h in session.scalars(select(LogEntryRow.leaf_hash).order_by(LogEntryRow.id))]


def _log_a_fetch(store) -> None:
    now = datetime.now(UTC)
    store.recording.record_failure("CW-D-00002", started_at=now, finished_at=now, kind="network")


def test_a_tree_head_is_signed_from_the_last_heads_frontier_and_the_leaves_logged_since(logged_store, signer):
    # Signing read every leaf of the log at every crawl: a year of daily crawls of 1,000 documents is 365,000 leaves,
    # a second of CPU and their bytes in memory each time. Each head now keeps the log's frontier (one hash per bit
    # of its size), and the next starts from it.
    log = CaptureLog(logged_store)
    with logged_store.session() as session:
        heads = session.scalars(select(TreeHeadRow).order_by(TreeHeadRow.id))
        kept = [(row.size, row.root, row.frontier) for row in heads]
    for size, root, frontier in kept:
        subtrees = [bytes.fromhex(h) for h in frontier.split(",")]
        assert len(subtrees) == size.bit_count() and merkle.frontier_root(subtrees).hex() == root
    committed = _leaf_hashes(logged_store)

    # An old leaf rewritten with its hash after it was signed: the next head continues the history it signed (from
    # its frontier), and the check names the rewrite, as it did.
    with logged_store.session() as session:
        row = session.get(LogEntryRow, 0)
        leaf = row.leaf.replace(b'"outcome":"failed"', b'"outcome":"unchanged"')
        session.execute(update(LogEntryRow).where(LogEntryRow.id == 0)
                        .values(leaf=leaf, leaf_hash=merkle.leaf_hash(leaf).hex()))
    _log_a_fetch(logged_store)
    head = log.sign_tree_head(signer, datetime.now(UTC))
    assert (head.size, head.root) == (5, merkle.root([*committed, _leaf_hashes(logged_store)[-1]]))
    assert any("tree head 1" in p and "(altered)" in p for p in problems(logged_store, signer))


@pytest.mark.parametrize("kept", [None, "", "00" * 32, "not hex"])
def test_a_head_without_a_usable_frontier_is_followed_by_one_computed_from_every_leaf(logged_store, signer, kept,
                                                                                     caplog):
    # None: heads signed before revision 0011; the others: a frontier that does not fold to its head's root.
    with logged_store.session() as session:
        session.execute(update(TreeHeadRow).values(frontier=kept))
    _log_a_fetch(logged_store)
    head = CaptureLog(logged_store).sign_tree_head(signer, datetime.now(UTC))
    leaves = _leaf_hashes(logged_store)
    assert (head.size, head.root) == (5, merkle.root(leaves))
    assert problems(logged_store, signer) == []
    with logged_store.session() as session:
        frontier = session.scalar(select(TreeHeadRow.frontier).order_by(TreeHeadRow.id.desc()).limit(1))
    assert merkle.frontier_root([bytes.fromhex(h) for h in frontier.split(",")]) == head.root
    assert ("does not fold to its root" in caplog.text or "not hex" in caplog.text) == (kept is not None)


def test_a_log_cut_short_under_its_last_head_is_signed_from_the_leaves_it_holds(logged_store, signer, caplog):
    # The review of 2026-12-03: with the last leaves deleted (heads 2 and 4 kept), each later head continued the
    # frontier of size 4 and signed a root no leaves in the store hash to, for ever.
    with logged_store.session() as session:
        session.execute(delete(LogEntryRow).where(LogEntryRow.id >= 2))
    _log_a_fetch(logged_store)
    head = CaptureLog(logged_store).sign_tree_head(signer, datetime.now(UTC))
    assert (head.size, head.root) == (3, merkle.root(_leaf_hashes(logged_store)))
    assert "the log no longer holds the 4 leaves it covered" in caplog.text
    found = problems(logged_store, signer)
    assert found and not any("tree head 3" in p for p in found), found  # the cut is named; the new head is true


def test_a_head_signed_by_another_key_is_not_continued(logged_store, signer, tmp_path, caplog):
    other = tmp_path / "other.key"
    create_key(other)
    _log_a_fetch(logged_store)
    head = CaptureLog(logged_store).sign_tree_head(load_signer(other), datetime.now(UTC))
    assert head.root == merkle.root(_leaf_hashes(logged_store))
    assert "does not verify under this signer's key" in caplog.text

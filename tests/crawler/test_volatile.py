"""Per-visit values never make a version: a page served on loopback with a fresh id in a link and a
counter and a clock in its text, crawled 50 times, is one version; a real edit is exactly one more."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
from clausewatch.loopback_site import Page
from store.change_records import list_changes
from store.log_check import check_log
from store.volatile import volatile_values

DOC = "CW-D-00001"
PAGE = """<html><head><title>Terms</title></head><body><main>
<h1>Terms of Service</h1>
<p>Visits today: {visits:,}</p>
<p>Page generated at 2026-11-{day:02d} 23:{minute:02d}:{second:02d} UTC.</p>
<h2>1. Fees</h2><p>See our <a href="/pricing?plan=pro&xyz-did={visit_id}">pricing page</a> for current fees.
Refunds are possible within {days} days of purchase.</p>
<h2>2. Termination</h2><p>We may suspend your account at any time for any reason.</p>
<h2>3. Governing law</h2><p>These terms are governed by the laws of {law}.</p>
<p class="ref">Request {nonce}</p>
</main></body></html>"""


def render(law: str = "Ireland", days: int = 30, pricing: str = "/pricing"):
    def page(visit: int) -> bytes:
        return PAGE.format(visits=1000 + 37 * visit, day=1 + visit % 28, minute=visit // 60 % 60, second=visit % 60,
                           visit_id=uuid.uuid4(), nonce=uuid.uuid4().hex, days=days, law=law,
                           ).replace("/pricing?", pricing + "?").encode()
    return page


@pytest.fixture
def acme(store, site):
    site.conditional = False
    site.set("/terms", Page(render=render()))
    return PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(site.url("/terms")),)),))


def crawl_times(run_crawl, store, acme, times: int) -> list[str]:
    return [run_crawl(store, [acme]).results[0].outcome for _ in range(times)]


def test_fifty_fetches_of_a_page_with_per_visit_values_are_one_version_then_an_edit_is_one_more(
        store, site, acme, run_crawl):
    outcomes = crawl_times(run_crawl, store, acme, 50)

    assert outcomes[0] == "new_version" and set(outcomes[1:]) == {"unchanged"}
    [version] = store.history.versions(DOC)
    assert "xyz-did" not in version.text and "/pricing?plan=pro" in version.text
    assert "Visits today: …" in version.text and "generated at … UTC" in version.text and "Request …" in version.text
    learned = {(v.kind, v.value) for v in volatile_values(store)[DOC] if v.state == "learned"}
    assert learned == {("text", "Visits today: {*}"), ("text", "Page generated at {*} UTC.")}
    # The first version, recorded before the counter and clock were learned, folded into this one.
    [first, *_] = store.history.versions(DOC, include_folded=True)
    assert first.version.sha256 != version.version.sha256
    assert store.history.resolve_version(DOC, first.version.sha256).version.sha256 == version.version.sha256
    assert len(store.history.snapshots(DOC)) == 50  # every raw snapshot is kept as evidence
    # Every fetch is in the capture log, the held ones too (a value watched, not yet learned): before, those were
    # recorded without their captures, and `verify` called each "not in the capture log (inserted)".
    report = check_log(store, None)
    assert report.problems == [] and report.entries == 50

    site.set("/terms", Page(render=render(law="the State of Delaware")))
    outcomes = crawl_times(run_crawl, store, acme, 5)

    assert outcomes == ["new_version"] + ["unchanged"] * 4
    assert [v.text.count("Delaware") for v in store.history.versions(DOC)] == [0, 1]
    [change] = list_changes(store)
    assert change.substantive and not change.technical


def test_a_changed_period_is_a_version_at_once_and_a_link_path_change_is_a_cosmetic_version(
        store, site, acme, run_crawl):
    crawl_times(run_crawl, store, acme, 6)
    assert len(store.history.versions(DOC)) == 1

    site.set("/terms", Page(render=render(days=14)))
    # "30 days" -> "14 days" states a term, not a counter: recorded on the first fetch, never held.
    assert crawl_times(run_crawl, store, acme, 3) == ["new_version", "unchanged", "unchanged"]
    assert "within 14 days" in store.history.versions(DOC)[-1].text

    site.set("/terms", Page(render=render(days=14, pricing="/plans")))
    assert crawl_times(run_crawl, store, acme, 2) == ["new_version", "unchanged"]
    versions = store.history.versions(DOC)
    assert len(versions) == 3 and "/plans?plan=pro" in versions[-1].text
    link_change = list_changes(store, include_technical=True)[-1]
    assert not link_change.substantive and link_change.cosmetic_reason == "link targets"


def test_an_operator_keeps_a_learned_value_as_content(store, site, acme, run_crawl):
    crawl_times(run_crawl, store, acme, 5)
    assert len(store.history.versions(DOC)) == 1
    [doc] = acme.documents
    kept = PlatformSpec("acme", "Acme", (DocumentSpec(
        "acme", doc.type, doc.sources, volatile_keep=frozenset({"Visits today: {*}"})),))

    outcomes = crawl_times(run_crawl, store, kept, 3)

    # The counter is content again: every fetch shows a new count.
    assert outcomes == ["new_version"] * 3
    assert "Visits today: …" not in store.history.versions(DOC)[-1].text


def test_the_crawl_log_quotes_a_watched_value_with_its_escapes(store, site, run_crawl, caplog):
    # The value comes from the page: an escape sequence in it set the operator's terminal title from the log.
    site.conditional = False
    site.set("/terms", Page(render=lambda visit: render(law="Ireland")(visit).replace(
        b"Visits today:", "Visits\x1b]0;owned\x07 today \u202e:".encode())))
    acme = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(site.url("/terms")),)),))

    with caplog.at_level("INFO", logger="clausewatch.crawl"):
        crawl_times(run_crawl, store, acme, 3)

    watched = [record.getMessage() for record in caplog.records if record.getMessage().startswith("volatile ")]
    assert watched and all(line.isprintable() for line in watched), watched
    assert any("\\x1b]0;owned\\x07" in line for line in watched), watched


def served_eight_times(store, site, run_crawl, main: Callable[[int], str]) -> tuple[str, set[tuple[str, str]]]:
    """Eight crawls of a page whose ``<main>`` is ``main(visit)``: asserts one version, then returns its text and
    the values learned."""
    site.conditional = False
    site.set("/terms", Page(render=lambda visit: f"<html><body><main>{main(visit)}</main></body></html>".encode()))
    acme = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(site.url("/terms")),)),))

    outcomes = crawl_times(run_crawl, store, acme, 8)

    assert outcomes[0] == "new_version" and set(outcomes[1:]) == {"unchanged"}
    [version] = store.history.versions(DOC)
    return version.text, {(v.kind, v.value) for v in volatile_values(store)[DOC] if v.state == "learned"}


def test_short_random_ids_in_the_text_are_learned_as_volatile_not_a_version_a_crawl(store, site, run_crawl):
    # "Ref: 3f9a1c2e" and "Request ID: a8Kx9Qz2Lm-7fR2kP", shorter than any token, made a substantive version (an
    # alert) on every crawl (review of 2026-12-02).
    import random

    draw = random.Random(7)

    def main(visit: int) -> str:
        ref = f"{draw.getrandbits(32):08x}"
        while ref.isdigit() or ref.isalpha():
            ref = f"{draw.getrandbits(32):08x}"
        request = "".join(draw.choice("abcdefgh") + draw.choice("0123456789") for _ in range(5)) + "-" + \
            "".join(draw.choice("KLMNPQ") + draw.choice("23456789") for _ in range(3))
        return f"<h1>Terms</h1><p>We may end your account at any time.</p><p>Ref: {ref}</p><p>Request ID: {request}</p>"

    text, learned = served_eight_times(store, site, run_crawl, main)

    assert "Ref: …" in text and "Request ID: …" in text
    assert learned == {("text", "Ref: {*}"), ("text", "Request ID: {*}")}


def test_a_line_with_two_varying_values_is_learned_not_a_version_a_crawl(store, site, run_crawl):
    # "Generated at 23:14:05 in 123 ms": a version every crawl (review of 2026-12-02).
    def main(visit: int) -> str:
        return (f"<h1>Terms</h1><p>We may end your account at any time.</p><p>Generated at "
                f"23:{visit % 60:02d}:{(visit * 7) % 60:02d} in {100 + visit * 13} ms.</p>")

    text, learned = served_eight_times(store, site, run_crawl, main)

    assert "Generated at … in … ms." in text
    assert learned == {("text", "Generated at {*} in {*} ms.")}

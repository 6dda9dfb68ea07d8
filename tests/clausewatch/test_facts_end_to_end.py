"""The key end-to-end test for facts that change: a liability cap lowered on a real page.

Version 1 of a policy is served on loopback and crawled; version 2 lowers the
liability cap from $100 to $50 and is crawled again. `changes --json` names the
moved fact and flags the change as raising severity, and the alert delivered to
a real SMTP server on loopback (aiosmtpd) says "liability cap: $100 USD → $50 USD".
The cap wording is Spotify's (Open Terms Archive pga collection, ODC-BY 1.0).
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page

CAP = ("IN NO EVENT WILL OUR AGGREGATE LIABILITY FOR ALL CLAIMS RELATING TO THE SERVICES EXCEED THE GREATER OF "
       "$100 USD OR THE AMOUNT YOU PAID US IN THE 12 MONTHS PRECEDING THE DATE OF THE ACTIVITY GIVING RISE TO THE "
       "CLAIM.")
POLICY = """<main><h1>Terms of Use</h1>
<h2>1. Your account</h2><p>You are responsible for keeping your password secret and for all activity under your
account.</p>
<h2>12. Limitation of liability</h2><p>{cap}</p>
<h2>13. Governing law</h2><p>These Terms are governed by the laws of the State of New York.</p>
</main>"""


def _page(cap: str) -> Page:
    return Page(POLICY.format(cap=cap).encode())


def test_a_lowered_cap_is_named_in_changes_and_in_the_alert(tmp_path, smtp_inbox):
    home, catalog = tmp_path / "home", tmp_path / "catalog"
    home.mkdir()
    (home / "subscribers.yaml").write_text("subscribers:\n  - email: legal@example.org\n    name: Legal\n")
    env = {"CLAUSEWATCH_SMTP_HOST": smtp_inbox.host, "CLAUSEWATCH_SMTP_PORT": str(smtp_inbox.port),
           "CLAUSEWATCH_SMTP_STARTTLS": "false"}
    runner = CliRunner(env=env)
    base = ["--home", str(home), "--catalog", str(catalog)]
    with LocalSite({"/terms": _page(CAP)}) as site:
        catalog.mkdir()
        (catalog / "acme.yaml").write_text(
            f"name: Acme\nslug: acme\ndocuments:\n  - type: Terms of Service\n    url: {site.url('/terms')}\n")
        assert runner.invoke(main, [*base, "init"], catch_exceptions=False).exit_code == 0
        assert runner.invoke(main, [*base, "crawl", "--delay", "0"], catch_exceptions=False).exit_code == 0
        site.set("/terms", _page(CAP.replace("$100 USD", "$50 USD")))
        assert runner.invoke(main, [*base, "crawl", "--delay", "0"], catch_exceptions=False).exit_code == 0

    listed = runner.invoke(main, [*base, "changes", "--json"], catch_exceptions=False)
    [change] = json.loads(listed.stdout)["changes"]
    assert change["severity_raised"] is True
    [clause] = change["clause_changes"]
    assert clause["kind"] == "modified" and clause["severity_before"] == clause["severity_after"]
    assert clause["facts"] == [{
        "fact": "liability_cap", "label": "liability cap", "before": "$100 USD", "after": "$50 USD",
        "against_user": True, "summary": "liability cap: $100 USD → $50 USD",
    }]
    text = runner.invoke(main, [*base, "changes"], catch_exceptions=False).stdout
    assert "* liability cap: $100 USD → $50 USD (against you)" in text

    sent = runner.invoke(main, [*base, "alerts", "--send"], catch_exceptions=False)
    assert sent.exit_code == 0, sent.output
    [message] = smtp_inbox.messages
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Fact: liability cap: $100 USD → $50 USD (against you)" in plain
    assert "[SEVERITY RAISED]" in plain
    assert "liability cap: $100 USD → $50 USD" in html

    # The site's change view and the provision's monitoring history name it too.
    out = tmp_path / "site"
    assert runner.invoke(main, [*base, "site", "--out", str(out)], catch_exceptions=False).exit_code == 0
    document_page = (out / "documents" / f"{change['document']}.html").read_text()
    assert "liability cap: $100 USD → $50 USD <strong>(against you)</strong>" in document_page
    record_page = (out / "records" / f"{clause['record_id']}.html").read_text()
    assert "liability cap: $100 USD → $50 USD" in record_page

"""End to end, loopback only: a policy that redirects to a guarded address is a visible failure,
and nothing the guarded address holds reaches the store, the site, the export or the emails."""

from __future__ import annotations

from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page

SECRET = b"AKIA-SECRET-TOKEN-0000"


def test_a_redirect_into_the_private_network_is_a_failure_and_nothing_of_it_is_published(tmp_path):
    home, catalog, out = tmp_path / "home", tmp_path / "catalog", tmp_path / "out"
    catalog.mkdir()
    home.mkdir()
    (home / "subscribers.yaml").write_text("subscribers:\n  - email: legal@example.com\n")
    runner = CliRunner()
    # The catalog URL is on 127.0.0.1, so 127.0.0.0/8 is the operator's; ::1 is another network.
    with LocalSite({"/latest/meta-data": Page(b"<main><p>credentials " + SECRET + b"</p></main>")},
                   host="::1") as metadata, LocalSite() as site:
        site.set("/terms", Page(b"", status=302, headers={"Location": metadata.url("/latest/meta-data")}))
        (catalog / "acme.yaml").write_text(f"name: Acme\nslug: acme\ndocuments:\n"
                                           f"  - type: Terms of Service\n    url: {site.url('/terms')}\n")
        base = ["--home", str(home), "--catalog", str(catalog)]
        assert runner.invoke(main, [*base, "init"]).exit_code == 0
        crawl = runner.invoke(main, [*base, "crawl", "--delay", "0"])
        assert metadata.requests == []
    assert crawl.exit_code == 1 and "redirect_refused" in crawl.output
    status = runner.invoke(main, [*base, "status"])
    assert "redirect_refused" in status.output
    for command in (["site", "--out", str(out / "site")], ["export", "--out", str(out / "export")],
                    ["alerts", "--dry-run", str(out / "mail")], ["digest", "--dry-run", str(out / "mail")]):
        runner.invoke(main, [*base, *command])
    written = [p for p in (*out.rglob("*"), *home.rglob("*")) if p.is_file()]
    assert any(p.suffix == ".html" for p in written)
    assert not [p for p in written if SECRET in p.read_bytes()]

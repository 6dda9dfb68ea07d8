"""What we publish: secrets never leave, outbound links to crawled URLs carry rel, nothing crawled is embedded."""

from __future__ import annotations

import email
import email.policy
import logging
import os

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from clausewatch.cli import main
from clausewatch.loopback_site import LocalSite, Page
from clausewatch.settings import load_settings
from reports.mail import SmtpConfig

SECRET = "s3cret-SMTP-password-7f1e"
BASE_URL = "https://terms.example.org/"
# A policy that links, embeds and frames other people's resources.
POLICY = b"""<html><body><main><h1>Terms</h1>
<h2>1. Arbitration</h2><p>Any dispute will be resolved by binding arbitration; see
<a href="https://evil.example/track?u=1">our partner</a> and <a href="//cdn.example/x">this</a>.</p>
<img src="https://evil.example/pixel.gif"><iframe src="https://evil.example/frame"></iframe>
<video src="https://evil.example/v.mp4"></video><link rel=stylesheet href="https://evil.example/s.css">
<h2>2. Governing law</h2><p>These terms are governed by the laws of Ireland.</p></main></body></html>"""


def test_a_secret_never_reaches_logs_pages_exports_or_emails(tmp_path, monkeypatch):
    home, catalog, out = tmp_path / "home", tmp_path / "catalog", tmp_path / "out"
    catalog.mkdir()
    home.mkdir()
    (home / "subscribers.yaml").write_text("subscribers:\n  - email: legal@example.com\n")
    env = {"CLAUSEWATCH_SMTP_PASSWORD": SECRET, "CLAUSEWATCH_SMTP_USER": "mailer",
           "CLAUSEWATCH_BASE_URL": BASE_URL}
    runner = CliRunner(env=env)
    with LocalSite({"/terms": Page(POLICY)}) as site:
        (catalog / "acme.yaml").write_text(f"name: Acme\nslug: acme\ndocuments:\n"
                                           f"  - type: Terms of Service\n    url: {site.url('/terms')}\n")
        base = ["-vv", "--home", str(home), "--catalog", str(catalog)]
        outputs = [runner.invoke(main, [*base, "init"]), runner.invoke(main, [*base, "crawl", "--delay", "0"])]
    for command in (["site", "--out", str(out / "site")], ["digest", "--dry-run", str(out / "mail")],
                    ["alerts", "--dry-run", str(out / "alerts")], ["status", "--json"], ["changes", "--json"],
                    ["export", "--out", str(out / "export")]):
        outputs.append(runner.invoke(main, [*base, *command]))
    assert [o.exit_code for o in outputs] == [0] * len(outputs), [o.output[-300:] for o in outputs]
    for result in outputs:
        assert SECRET not in result.output and SECRET not in (result.stderr_bytes or b"").decode()
    outputs.append(runner.invoke(main, [*base, "evidence", "CW-D-00001", "--out", str(out / "bundle.zip")]))
    assert outputs[-1].exit_code == 0, outputs[-1].output
    key = home / "keys" / "capture-log.key"
    private = b"".join(key.read_bytes().splitlines()[1:-1])  # the PEM body: the signing key itself
    written = [p for p in (*out.rglob("*"), *home.rglob("*")) if p.is_file()]
    assert any(p.suffix == ".eml" for p in written) and any(p.suffix == ".html" for p in written)
    assert not [p for p in written if SECRET.encode() in p.read_bytes()]
    assert [p for p in written if private in p.read_bytes()] == [key]  # only the key file holds the key
    for result in outputs:
        assert private.decode() not in result.output
    for eml in (p for p in written if p.suffix == ".eml"):
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        soup = BeautifulSoup(message.get_body(("html",)).get_content(), "html.parser")
        for link in soup.find_all("a", href=True):
            if _external(link["href"]) and not link["href"].startswith("mailto:"):
                assert {"noopener", "noreferrer", "nofollow"} <= set(link.get("rel") or []), str(link)
        assert not soup.find_all(["img", "iframe", "script"], src=_external)


def test_settings_and_smtp_config_never_show_the_password():
    settings = load_settings({"CLAUSEWATCH_SMTP_PASSWORD": SECRET})
    assert settings.smtp_password == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert SECRET not in repr(SmtpConfig(host="127.0.0.1", user="u", password=SECRET))


@pytest.mark.parametrize("mode,warned", [(0o644, True), (0o640, True), (0o600, False)])
def test_a_config_file_holding_a_secret_readable_by_others_is_warned_about(tmp_path, caplog, mode, warned):
    config = tmp_path / "config.yaml"
    config.write_text(f"smtp_password: {SECRET}\ncrawl_delay: 3\n")
    os.chmod(config, mode)
    with caplog.at_level(logging.WARNING, logger="clausewatch.settings"):
        load_settings({}, config_file=config)
    messages = [r.getMessage() for r in caplog.records]
    assert bool(messages) is warned
    assert all("SMTP_PASSWORD" in m and "chmod 600" in m and SECRET not in m for m in messages)


def test_a_config_file_without_secrets_is_not_warned_about(tmp_path, caplog):
    config = tmp_path / "config.yaml"
    config.write_text("crawl_delay: 3\n")
    os.chmod(config, 0o644)
    with caplog.at_level(logging.WARNING, logger="clausewatch.settings"):
        load_settings({}, config_file=config)
    assert caplog.records == []


def _external(url: str) -> bool:
    return url.startswith(("http:", "https:", "//")) and not url.startswith(BASE_URL)


def test_the_site_links_out_with_rel_and_embeds_nothing_crawled(tmp_path):
    home, catalog, out = tmp_path / "home", tmp_path / "catalog", tmp_path / "site"
    catalog.mkdir()
    runner = CliRunner(env={"CLAUSEWATCH_BASE_URL": BASE_URL})
    with LocalSite({"/terms": Page(POLICY)}) as site:
        (catalog / "acme.yaml").write_text(f"name: Acme\nslug: acme\nhomepage: {site.url('/')}\ndocuments:\n"
                                           f"  - type: Terms of Service\n    url: {site.url('/terms')}\n")
        base = ["--home", str(home), "--catalog", str(catalog)]
        assert runner.invoke(main, [*base, "init"]).exit_code == 0
        assert runner.invoke(main, [*base, "crawl", "--delay", "0"]).exit_code == 0
    assert runner.invoke(main, [*base, "site", "--out", str(out)]).exit_code == 0
    pages = list(out.rglob("*.html"))
    outbound = 0
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for link in soup.find_all("a", href=True):
            if _external(link["href"]):
                outbound += 1
                assert {"noopener", "noreferrer", "nofollow"} <= set(link.get("rel") or []), (page.name, str(link))
        for tag in soup.find_all(["img", "iframe", "frame", "embed", "object", "video", "audio", "source",
                                  "script", "link"]):
            for attribute in ("src", "href", "data", "srcset", "poster"):
                value = tag.get(attribute)
                assert not (value and _external(value) and tag.name != "link"), (page.name, str(tag))
            if tag.name == "link" and tag.get("href") and _external(tag["href"]):
                assert set(tag.get("rel") or []) & {"canonical", "alternate"}, (page.name, str(tag))
    assert outbound > 0, "the pages link to the crawled document"
    assert not any("evil.example/pixel" in p.read_text(encoding="utf-8") for p in pages)

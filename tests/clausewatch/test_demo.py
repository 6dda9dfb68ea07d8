"""`clausewatch demo` end to end: two crawls of real policies on loopback, offline, on SQLite."""

from __future__ import annotations

import json

from click.testing import CliRunner

from clausewatch.cli import main


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

    verify = runner.invoke(main, ["--home", str(demo), "verify"])
    assert verify.exit_code == 0 and "0 problem(s)" in verify.output

"""A crawl does not import the Scrapy components its settings switch off.

Scrapy imports every configured extension and middleware before asking it
whether it is enabled; the remote control brought in aiohttp's web server and
the cookies middleware tldextract. Behaviour, not timing: a real crawl on a
loopback server in a fresh interpreter, then a look at ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SWITCHED_OFF = {"aiohttp", "tldextract", "scrapy.extensions.remote_control", "scrapy.extensions.telnet",
                "scrapy.downloadermiddlewares.cookies", "scrapy.downloadermiddlewares.httpcache"}

PROBE = textwrap.dedent("""
    import json, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
    from clausewatch.loopback_site import LocalSite, Page
    from crawler.crawl import CrawlOptions, crawl
    from store.repository import Store

    site = LocalSite({"/terms": Page(b"<html><body><main><p>Terms of the service.</p></main></body></html>")}).start()
    home = Path(sys.argv[1])
    store = Store.open(f"sqlite:///{home}/clausewatch.db", home / "objects")
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(site.base_url + "/terms"),)),))
    store.catalog.sync_catalog([spec], now=datetime.now(UTC))
    documents = store.catalog.documents()
    options = CrawlOptions(user_agent="test/1", delay=0, retries=0, obey_robots=False)
    report = crawl(store, documents, options, analyze=None)
    site.stop()
    print(json.dumps({"outcomes": report.counts, "modules": sorted(sys.modules)}))
""")


def test_a_crawl_records_without_importing_switched_off_components(tmp_path):
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcomes"] == {"new_version": 1}
    modules = set(result["modules"])
    assert "scrapy.core.engine" in modules  # Scrapy did crawl
    assert {m for m in modules if m.split(".")[0] in SWITCHED_OFF or m in SWITCHED_OFF} == set()


TLS_PROBE = textwrap.dedent("""
    import inspect, json, sys
    calls = []
    real_stack = inspect.stack
    def counted(*args, **kwargs):
        calls.append(1)
        return real_stack(*args, **kwargs)
    inspect.stack = counted
    import scrapy.utils.deprecate
    import crawler.download
    from scrapy.core.downloader import contextfactory, tls
    print(json.dumps({
        "stack_calls": len(calls),
        "aliases": [contextfactory.ScrapyClientContextFactory.__module__,
                    contextfactory.AcceptableProtocolsContextFactory.__module__, tls.ScrapyClientTLSOptions.__module__],
        "helper_restored": scrapy.utils.deprecate.inspect is inspect,
    }))
""")


def test_scrapys_tls_modules_are_imported_without_reading_the_stacks_sources():
    # Scrapy names the module of each deprecated alias it defines with inspect.stack(), which reads the source of
    # every frame on the stack: 66 ms of every crawl process. The download handler imports them with the caller
    # found from the frame's globals instead; the aliases are named as before, and the helper is left as it was.
    done = subprocess.run([sys.executable, "-c", TLS_PROBE], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"stack_calls": 0, "helper_restored": True,
                      "aliases": ["scrapy.core.downloader.contextfactory", "scrapy.core.downloader.contextfactory",
                                  "scrapy.core.downloader.tls"]}

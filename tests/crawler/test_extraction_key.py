"""The extraction key's inputs: the extractor's own modules are all in its fingerprint, and a re-run of
identical bytes, in a fresh interpreter, never imports the extractor."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from clausewatch.loopback_site import LocalSite, Page
from crawler.extraction_key import EXTRACTION_LIBRARIES, EXTRACTION_MODULES, ROOT, installed_version

PROJECT = ("analysis", "crawler", "store", "clausewatch")
LISTED = textwrap.dedent("""
    import json, sys
    import crawler.extract, crawler.extract.pdf
    files = {m.__file__ for name, m in list(sys.modules.items())
             if name.split(".")[0] in %r and getattr(m, "__file__", None)}
    print(json.dumps(sorted(files)))
""") % (PROJECT,)


def test_every_project_module_an_extraction_imports_is_in_the_fingerprint():
    done = subprocess.run([sys.executable, "-c", LISTED], capture_output=True, text=True, check=True, cwd=ROOT)
    imported = {str(Path(f).resolve().relative_to(ROOT)) for f in json.loads(done.stdout)}
    assert imported <= set(EXTRACTION_MODULES), imported - set(EXTRACTION_MODULES)
    assert all((ROOT / relative).is_file() for relative in EXTRACTION_MODULES)


def test_library_versions_are_read_without_importing_the_libraries():
    from importlib.metadata import version

    installed = {m: d for m, d in EXTRACTION_LIBRARIES.items() if importlib.util.find_spec(m) is not None}
    assert {"bs4", "lxml", "charset_normalizer"} <= set(installed)
    for module, distribution in installed.items():
        assert installed_version(module, distribution) == version(distribution)
    for module in EXTRACTION_LIBRARIES.keys() - installed.keys():  # chardet, cchardet: optional, not installed here
        assert installed_version(module, EXTRACTION_LIBRARIES[module]) is None
    assert installed_version("no_such_module_here", "nothing") is None


CRAWL = textwrap.dedent("""
    import json, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec
    from crawler.crawl import CrawlOptions, crawl
    from store.repository import Store

    home, url = Path(sys.argv[1]), sys.argv[2]
    store = Store.open(f"sqlite:///{home}/clausewatch.db", home / "objects")
    spec = PlatformSpec("acme", "Acme", (DocumentSpec("acme", "Terms of Service", (SourceSpec(url),)),))
    store.catalog.sync_catalog([spec], now=datetime.now(UTC))
    report = crawl(store, store.catalog.documents(), CrawlOptions(user_agent="test/1", delay=0, retries=0,
                   obey_robots=False), analyze=None)
    print(json.dumps({"outcomes": report.counts, "modules": sorted(sys.modules)}))
""")


def test_a_rerun_of_identical_bytes_never_imports_the_extractor(tmp_path):
    page = b"<html><body><main><h1>Terms</h1><p>Terms of the service.</p></main></body></html>"
    with LocalSite({"/terms": Page(page)}, conditional=False) as site:
        runs = [json.loads(subprocess.run([sys.executable, "-c", CRAWL, str(tmp_path), site.url("/terms")],
                                          capture_output=True, text=True, check=True, cwd=ROOT).stdout.splitlines()[-1])
                for _ in range(2)]
    assert [run["outcomes"] for run in runs] == [{"new_version": 1}, {"unchanged": 1}]
    assert "crawler.extract" in runs[0]["modules"]
    # (lxml is Scrapy's own, for every crawl.)
    assert {m for m in runs[1]["modules"] if m.split(".")[0] in ("bs4", "markdownify", "soupsieve")
            or m.startswith("crawler.extract.")} == set()

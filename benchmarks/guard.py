"""Guard and bounds benchmark (issue 14): the network guard's cost per fetch, the worst case of
every hostile input, and a redirect loop before and after loop detection. Prints one JSON object.

- guard: CPU of the guard's work for one fetch (middleware check of the URL, resolver check of
  the address connected to) against the CPU of one loopback fetch by the crawler (no analysis),
  measured in the same run; plus a crawl of the same pages with the guard switched off.
- hostile: each hostile input extracted in a fresh process: CPU seconds, peak RSS, outcome.
- redirect_loop: a two-URL redirect loop crawled with a polite delay, with and without
  RedirectLoopMiddleware: wall seconds and requests the server answered.
- browser_proxy: ``browser`` documents (a page with a stylesheet, a script and an image) crawled
  in headless Chromium with and without the guarded proxy (crawler/browserproxy.py), runs
  alternated: CPU of this process (Scrapy, Playwright's client, the proxy), CPU of the
  children (Playwright's driver, Chromium) and wall time, per fetch.

    nice python benchmarks/guard.py [--pages 200] [--delay 1.0] [--browser-pages 20]
                                    [--only guard,hostile,redirect_loop,browser_proxy]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

POLICY = ("<html><head><title>Terms</title></head><body><nav>Home</nav><main><h1>Terms of Service</h1>"
          + "".join(f"<h2>{i}. Section</h2><p>{'We may change these terms at any time. ' * 40}</p>" for i in range(30))
          + "</main></body></html>").encode()


def _documents(store, urls, fetcher="http"):
    from datetime import UTC, datetime

    from analysis.domain import DocumentSpec, PlatformSpec, SourceSpec

    platforms = [PlatformSpec(f"p{i}", f"P{i}", (DocumentSpec(f"p{i}", "Terms of Service", (SourceSpec(url),),
                                                              fetcher=fetcher),))
                 for i, url in enumerate(urls)]
    store.catalog.sync_catalog(platforms, now=datetime.now(UTC))
    return store.catalog.documents()


def _crawl_cpu(urls: list[str], guard: bool, settings_hook=None, delay: float = 0.0, fetcher: str = "http") -> dict:
    """CPU and wall seconds of one crawl of ``urls`` (no analysis), in this process and its children."""
    from crawler import crawl as crawl_module
    from crawler.crawl import CrawlOptions, crawl
    from store.repository import Store

    options = CrawlOptions(user_agent="clausewatch-benchmark/1", delay=delay, concurrency=8 if not delay else 1,
                           retries=0)
    original = crawl_module.scrapy_settings

    def settings(opts, **kwargs):
        values = original(opts, **kwargs)
        if not guard:
            values["DOWNLOADER_MIDDLEWARES"] = {**values["DOWNLOADER_MIDDLEWARES"],
                                                "crawler.netguard.NetworkGuardMiddleware": None}
        return settings_hook(values) if settings_hook else values

    crawl_module.scrapy_settings = settings
    try:
        with tempfile.TemporaryDirectory() as home:
            store = Store.open(f"sqlite:///{home}/db.sqlite", Path(home) / "objects")
            documents = _documents(store, urls, fetcher)
            cpu, children, wall = time.process_time(), _children_cpu(), time.perf_counter()
            report = crawl(store, documents, options, analyze=None)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            children = _children_cpu() - children
            store.close()
    finally:
        crawl_module.scrapy_settings = original
    return {"cpu_s": cpu, "children_cpu_s": children, "wall_s": wall,
            "outcomes": sorted(report.counts),
            "failures": [f"{r.error_kind}: {(r.detail or '')[:120]}" for r in report.failures if r.outcome == "failed"]}


def _children_cpu() -> float:
    """CPU seconds of the finished children (Playwright's driver, and Chromium under it, end with each crawl)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _guard_work_per_fetch(repeat: int = 200_000) -> float:
    """CPU seconds of the guard's work for one fetch of a named host resolving to one public address."""
    from urllib.parse import urlsplit

    from crawler.netguard import NetworkGuard, _ip, host_address

    guard = NetworkGuard()
    url = "https://www.example.com/legal/terms-of-service?lang=en"
    start = time.process_time()
    for _ in range(repeat):
        guard.add_catalog_url(url)                     # PolicySpider._request
        host_address(urlsplit(url).hostname or "")     # NetworkGuardMiddleware.process_request
        guard.first_catalog_lookup("www.example.com")  # _FilteringReceiver, per address:
        guard.refusal(_ip("93.184.216.34"))
    return (time.process_time() - start) / repeat


def guard_cost(pages: int) -> dict:
    from clausewatch.loopback_site import LocalSite, Page

    with LocalSite({f"/p/{i}": Page(POLICY) for i in range(pages)}) as site:
        urls = [site.url(f"/p/{i}") for i in range(pages)]
        _crawl_cpu(urls, guard=True)  # warm up imports, the reactor and the page cache
        runs = {True: [], False: []}
        for _ in range(3):  # alternated, so drift on a loaded machine hits both alike
            for guard in (False, True):
                runs[guard].append(_crawl_cpu(urls, guard=guard))
    with_guard = sorted(r["cpu_s"] for r in runs[True])
    without_guard = sorted(r["cpu_s"] for r in runs[False])
    per_fetch = without_guard[0] / pages  # the cheapest fetch: the guard's share at its largest
    work = _guard_work_per_fetch()
    return {
        "pages": pages, "page_bytes": len(POLICY),
        "fetch_cpu_ms_min": round(per_fetch * 1000, 3),
        "guard_cpu_us_per_fetch": round(work * 1e6, 2),
        "guard_share_of_fetch_cpu_percent": round(100 * work / per_fetch, 3),
        "crawl_cpu_s_with_guard": [round(c, 3) for c in with_guard],
        "crawl_cpu_s_without_middleware": [round(c, 3) for c in without_guard],
        "outcomes_with_guard": sorted({o for r in runs[True] for o in r["outcomes"]}),
        "outcomes_without_middleware": sorted({o for r in runs[False] for o in r["outcomes"]}),
    }


# --- hostile inputs, each in a fresh process --------------------------------------


def _nested(depth: int) -> bytes:
    return b"<html><body><main>" + b"<div>" * depth + b"<p>Deep clause.</p>" + b"</div>" * depth + b"</main></body></html>"


def _pdf_pages(pages: int, lines: int = 60) -> bytes:
    """A PDF of ``pages`` pages of ``lines`` lines of Helvetica text each."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({  # pypdf has no public add_object
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")}))
    text = b"".join(b"BT /F1 10 Tf 50 %d Td (%d. We may change these terms at any time without notice.) Tj ET\n"
                    % (750 - 12 * i, i) for i in range(lines))
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        stream = DecodedStreamObject()
        stream.set_data(text)
        page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf_flate_bomb() -> bytes:
    sys.path.insert(0, str(REPO))
    from tests.crawler.test_extract_bounds import flate_bomb_pdf

    return flate_bomb_pdf(1 << 30)


HOSTILE = {
    "html_nested_100000": lambda: (_nested(100_000), "text/html"),
    "html_199999_elements": lambda: (b"<main><p>" + b"<b>a</b>" * 199_990 + b"</p></main>", "text/html"),
    "html_one_19MB_line": lambda: (b"<main><p>" + b"word " * (19 * 1024 * 1024 // 5) + b"</p></main>", "text/html"),
    "pdf_1000_text_pages": lambda: (_pdf_pages(1_000), "application/pdf"),
    "pdf_1001_pages_refused": lambda: (_pdf_pages(1_001, lines=1), "application/pdf"),
    "pdf_stream_inflating_to_1GB": lambda: (_pdf_flate_bomb(), "application/pdf"),
    "pdf_50000_open_arrays": lambda: (b"%PDF-1.4\n" + b"[" * 50_000 + b"\n%%EOF", "application/pdf"),
}


def _extract_one(name: str, out) -> None:
    from analysis.domain import SourceSpec
    from crawler.extract import ExtractionError, extract_source

    body, content_type = HOSTILE[name]()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    try:
        text = extract_source(body, content_type, "https://example.com/t", SourceSpec("https://example.com/t"))
        result = f"ok ({len(text)} characters)"
    except ExtractionError as error:
        result = f"{error.kind}: {error.detail[:90]}"
    out.send({"input_bytes": len(body), "cpu_s": round(time.process_time() - start, 3),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "rss_before_mb": round(base_rss / 1024, 1), "result": result})


def _gzip_bomb(out) -> None:
    from clausewatch.loopback_site import LocalSite, Page

    inflated = 1024 ** 3
    compressor = gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)  # 64 MB, then repeated members
    bomb = compressor * (inflated // (64 * 1024 * 1024))
    with LocalSite({"/t": Page(bomb, headers={"Content-Encoding": "gzip"})}) as site:
        result = _crawl_cpu([site.url("/t")], guard=True)
    out.send({"compressed_bytes": len(bomb), "inflates_to_bytes": inflated, "cpu_s": round(result["cpu_s"], 3),
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
              "result": result["outcomes"]})


def _in_child(target, *args) -> dict:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=target, args=(*args, child))
    process.start()
    value = parent.recv()
    process.join()
    return value


def hostile() -> dict:
    figures = {name: _in_child(_extract_one, name) for name in HOSTILE}
    figures["gzip_bomb_1GB_crawled"] = _in_child(_gzip_bomb)
    return figures


def redirect_loop(delay: float) -> dict:
    from clausewatch.loopback_site import LocalSite, Page

    def without_detection(values):
        values["DOWNLOADER_MIDDLEWARES"] = {**values["DOWNLOADER_MIDDLEWARES"],
                                            "crawler.middlewares.RedirectLoopMiddleware": None}
        return values

    figures = {}
    for label, hook in (("before", without_detection), ("after", None)):
        pages = {"/a": Page(b"", status=302, headers={"Location": "/b"}),
                 "/b": Page(b"", status=302, headers={"Location": "/a"})}
        with LocalSite(pages) as site:
            result = _crawl_cpu([site.url("/a")], guard=True, settings_hook=hook, delay=delay)
            figures[label] = {"wall_s": round(result["wall_s"], 2), "outcomes": result["outcomes"],
                              "requests": len([p for p, _ in site.requests if p != "/robots.txt"])}
    return {"delay_s": delay, **figures}


# --- the browser's guarded proxy ---------------------------------------------------


def _browser_site(pages: int):
    from clausewatch.loopback_site import LocalSite, Page

    assets = {"/style.css": Page(b"main { font-family: serif; }", content_type="text/css"),
              "/app.js": Page(b"document.title = 'Terms';", content_type="application/javascript"),
              "/logo.gif": Page(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", content_type="image/gif")}
    head = b'<link rel="stylesheet" href="/style.css"><script src="/app.js"></script>'
    page = POLICY.replace(b"<head>", b"<head>" + head).replace(b"<main>", b'<main><img src="/logo.gif">')
    return LocalSite({**assets, **{f"/p/{i}": Page(page) for i in range(pages)}}), len(page)


def _without_proxy(values):
    launch = values["PLAYWRIGHT_LAUNCH_OPTIONS"]
    launch["args"] = [a for a in launch["args"] if not a.startswith("--proxy-")]
    return values


def _counting_proxy(seen: list):
    def hook(values):
        seen.append(values["BROWSER_PROXY"])
        return values
    return hook


def browser_proxy_cost(pages: int) -> dict:
    site, page_bytes = _browser_site(pages)
    with site:
        urls = [site.url(f"/p/{i}") for i in range(pages)]
        _crawl_cpu(urls[:2], guard=True, fetcher="browser")  # warm up Chromium's files and the imports
        runs: dict[bool, list[dict]] = {True: [], False: []}
        proxies: list = []
        for _ in range(3):  # alternated, so drift on a loaded machine hits both alike
            runs[False].append(_crawl_cpu(urls, guard=True, settings_hook=_without_proxy, fetcher="browser"))
            runs[True].append(_crawl_cpu(urls, guard=True, settings_hook=_counting_proxy(proxies), fetcher="browser"))

    def per_fetch_ms(key: str, proxied: bool) -> float:
        return round(1000 * min(r[key] for r in runs[proxied]) / pages, 2)

    figures = {
        "browser_pages": pages, "page_bytes": page_bytes, "requests_per_page": 4,
        "failures": {label: [f for r in runs[proxied] for f in r["failures"]]
                     for proxied, label in ((False, "without_proxy"), (True, "with_proxy"))},
        "proxy_connections_per_crawl": [p.connections for p in proxies],
        "proxy_peak_open_connections": max(p.peak for p in proxies),
        "proxy_refusals": sum(p.refused for p in proxies),
    }
    for proxied, label in ((False, "without_proxy"), (True, "with_proxy")):
        figures[label] = {
            "our_cpu_ms_per_fetch_min": per_fetch_ms("cpu_s", proxied),
            "children_cpu_ms_per_fetch_min": per_fetch_ms("children_cpu_s", proxied),
            "wall_ms_per_fetch_min": per_fetch_ms("wall_s", proxied),
            "our_cpu_s_runs": [round(r["cpu_s"], 3) for r in runs[proxied]],
            "children_cpu_s_runs": [round(r["children_cpu_s"], 3) for r in runs[proxied]],
        }
    ours = figures["with_proxy"]["our_cpu_ms_per_fetch_min"] - figures["without_proxy"]["our_cpu_ms_per_fetch_min"]
    total = figures["without_proxy"]["our_cpu_ms_per_fetch_min"] + figures["without_proxy"]["children_cpu_ms_per_fetch_min"]
    figures["proxy_cpu_ms_per_fetch_crawl_difference"] = round(ours, 2)
    figures["proxy_share_of_fetch_cpu_percent_crawl_difference"] = round(100 * ours / total, 2)
    # The crawl difference drowns in noise on a loaded machine: the proxy's own cost, request by request.
    figures["per_request"] = per_request = _proxy_cpu_per_request()
    per_fetch_ms = per_request["proxy_cpu_us_per_request"] / 1000 * max(p.connections for p in proxies) / pages
    figures["proxy_cpu_ms_per_fetch"] = round(per_fetch_ms, 2)
    figures["proxy_share_of_fetch_cpu_percent"] = round(100 * per_fetch_ms / total, 2)
    return figures


def _proxy_cpu_per_request(requests: int = 300) -> dict:
    """CPU of this process per plain-HTTP request of a policy page sent through the proxy, and sent direct."""
    import asyncio

    import crochet
    from twisted.internet.defer import Deferred

    from clausewatch.loopback_site import LocalSite, Page
    from crawler.browserproxy import GuardedProxy
    from crawler.netguard import NetworkGuard
    from crawler.runner import CrawlRunner

    CrawlRunner()  # the reactor thread and its asyncio loop, as in a crawl
    with LocalSite({"/terms": Page(POLICY)}) as site:
        proxy = GuardedProxy(NetworkGuard(), timeout=30)
        proxy.guard.add_catalog_url(site.url("/terms"))  # the catalog's network (loopback here) is allowed

        async def fetch(address: str, port: int, target: str) -> int:
            reader, writer = await asyncio.open_connection(address, port)
            writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            size = len(await reader.read())
            writer.close()
            return size

        async def timed(via_proxy: bool) -> float:
            site_port, proxy_port = int(site.base_url.rsplit(":", 1)[1]), int(proxy.url.rsplit(":", 1)[1])
            start = time.process_time()
            for _ in range(requests):
                if via_proxy:
                    await fetch("127.0.0.1", proxy_port, site.url("/terms"))
                else:
                    await fetch("127.0.0.1", site_port, "/terms")
            return (time.process_time() - start) / requests

        async def measure() -> dict:
            await proxy.start()
            try:
                runs = {True: [], False: []}
                for _ in range(3):
                    for via_proxy in (False, True):
                        runs[via_proxy].append(await timed(via_proxy))
            finally:
                await proxy.close()
            return {"direct_cpu_us_min": round(min(runs[False]) * 1e6), "via_proxy_cpu_us_min": round(min(runs[True]) * 1e6),
                    "proxy_cpu_us_per_request": round((min(runs[True]) - min(runs[False])) * 1e6),
                    "refused": proxy.refused}

        @crochet.wait_for(timeout=600)
        def in_reactor() -> Deferred:
            return Deferred.fromFuture(asyncio.ensure_future(measure()))

        return {"requests": requests, "page_bytes": len(POLICY), **in_reactor()}


SECTIONS = {"guard": lambda args: guard_cost(args.pages), "hostile": lambda args: hostile(),
            "redirect_loop": lambda args: redirect_loop(args.delay),
            "browser_proxy": lambda args: browser_proxy_cost(args.browser_pages)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--browser-pages", type=int, default=20)
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections to run")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"--only: unknown section {unknown[0]!r} (known: {', '.join(SECTIONS)})")
    print(json.dumps({name: SECTIONS[name](args) for name in chosen}, indent=1))


if __name__ == "__main__":
    main()

"""One crawl run: documents in, Fetch records (and versions) in the store, a report out."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from scrapy.settings import default_settings

from analysis.domain import Document
from crawler.browser import PAGE_HEAP_MB
from crawler.browserproxy import GuardedProxy
from crawler.netguard import NetworkGuard
from crawler.pipelines import record_threads
from crawler.recorder import DocumentResult, OnResult, OutcomeCounts, Recorder
from crawler.runner import CrawlRunner
from crawler.spiders.policy import CrawlTarget, PolicySpider
from store.recording import AnalyzeVersion
from store.repository import Store, StoreFailedError

# Chromium flags for a headless, sandboxed-by-container browser that makes no
# requests of its own (updates, metrics, safe browsing) beyond the page's.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-first-run",
    f"--js-flags=--max-old-space-size={PAGE_HEAP_MB}",
)


# Scrapy components a crawl never uses, with the settings below: no telnet
# console, remote control, memory watch, feeds, job folder, cookies or HTTP cache.
_UNUSED_EXTENSIONS = frozenset(f"scrapy.extensions.{name}" for name in (
    "telnet.TelnetConsole", "remote_control.RemoteControl", "memusage.MemoryUsage", "memdebug.MemoryDebugger",
    "feedexport.FeedExporter", "spiderstate.SpiderState"))
_UNUSED_MIDDLEWARES = frozenset(f"scrapy.downloadermiddlewares.{name}" for name in (
    "cookies.CookiesMiddleware", "httpcache.HttpCacheMiddleware"))


def _without(components: dict[str, int], unused: frozenset[str]) -> dict[str, int]:
    return {path: order for path, order in components.items() if path not in unused}


@dataclass(frozen=True)
class CrawlOptions:
    """Politeness and limits of one crawl (SPEC §4); the defaults are the polite ones."""

    user_agent: str
    delay: float = 2.0
    concurrency: int = 1
    timeout: float = 30.0
    retries: int = 2
    max_bytes: int = 20 * 1024 * 1024
    shrink_ratio: float = 0.5
    browser_path: str = "/usr/bin/chromium"
    backoff_base: float = 1.0
    obey_robots: bool = True
    # The private-network guard (crawler/netguard.py): networks a page may send
    # us to anyway; the guarded table (None: every special-purpose network;
    # tests pass their own to treat one loopback address as public); and a
    # Twisted name resolver to use instead of the system's (tests map names to
    # loopback addresses with it).
    allowed_networks: tuple[str, ...] = ()
    guarded_networks: tuple[tuple[str, str], ...] | None = None
    name_resolver: Any = None


# Documents whose validators are read in one query as the crawl goes (a crawl holds one such batch).
_TARGETS_PER_BATCH = 500


@dataclass
class CrawlReport(OutcomeCounts):
    """What one crawl came to: counts by outcome, and by name every document that failed or was not checked."""

    run_id: str
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[DocumentResult] = field(default_factory=list)
    # The store's own failure that stopped the crawl (a full disk, a database gone), if one did.
    store_failure: StoreFailedError | None = None
    # The failed store could not even list the documents the crawl had not reached: they are not counted above.
    unreached_unlisted: bool = False

    @property
    def unchecked(self) -> int:
        return self.counts.get("skipped", 0)

    @property
    def checked(self) -> int:
        return sum(self.counts.values()) - self.unchecked


_OUR_MIDDLEWARES = {
    "crawler.middlewares.SchemeGuardMiddleware": 50,
    "crawler.middlewares.RedirectLoopMiddleware": 60,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # After retry in process_exception order, so a refused address is not retried.
    "crawler.netguard.NetworkGuardMiddleware": 560,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.StrictRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.StrictHttpCompressionMiddleware": 590,
    "crawler.middlewares.StrictMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.Rfc9309RobotsTxtMiddleware": 100,
    # Last before the per-site queues (Scrapy's own end at 900): after a stop, nothing more is queued.
    "crawler.middlewares.StopGateMiddleware": 1000,
}


_HTTP_HANDLER = "crawler.download.LengthCheckedDownloadHandler"


def network_guard(options: CrawlOptions) -> NetworkGuard:
    """The private-network guard of a crawl with these options."""
    return NetworkGuard(options.allowed_networks, options.guarded_networks, options.name_resolver)


def scrapy_settings(options: CrawlOptions, *, browser: bool, guard: NetworkGuard | None = None) -> dict[str, Any]:
    """The Scrapy settings of a crawl with these options (and this network guard, or a new one)."""
    polite = options.delay > 0
    if guard is None:
        guard = network_guard(options)
    settings: dict[str, Any] = {
        "USER_AGENT": options.user_agent,
        "ROBOTSTXT_OBEY": options.obey_robots,
        "DOWNLOAD_DELAY": options.delay,
        # The delay is a minimum between two requests to a site (README), not a mean: Scrapy's ±50 % let gaps fall
        # to half of it.
        "DOWNLOAD_DELAY_JITTER": 0.0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": options.concurrency,
        "CONCURRENT_REQUESTS": max(16, options.concurrency),
        "AUTOTHROTTLE_ENABLED": polite,
        "AUTOTHROTTLE_START_DELAY": max(options.delay, 1.0),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(options.concurrency),
        "DOWNLOAD_TIMEOUT": options.timeout,
        "DOWNLOAD_MAXSIZE": options.max_bytes,
        # Scrapy's HTTP/1.1 handler, except that a body longer than its Content-Length fails (crawler.download).
        "DOWNLOAD_HANDLERS": {"http": _HTTP_HANDLER, "https": _HTTP_HANDLER},
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": options.retries,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "RETRY_BACKOFF_BASE": options.backoff_base if polite else 0.0,
        "RETRY_BACKOFF_MAX": 120.0,
        "REDIRECT_MAX_TIMES": 10,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19's remote control listens on a local port for commands: a crawl
        # needs no console, and the memory-usage timer only feeds stats we never read.
        "REMOTE_CONTROL_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        "LOG_ENABLED": False,
        "CONCURRENT_ITEMS": 16,
        # Responses waiting for a recording thread, in bytes (each counted as at least
        # 1 KB); past it Scrapy stops downloading. Its 5 MB let a whole unchanged run's
        # 304s wait at once, ~20 KB each with their item, exchanges and Deferreds (4,000
        # documents: +87 MB of Python heap); 256 KB still holds four batches of 304s or
        # seven 35 KB pages for the two recording threads (decision 0014).
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 256 * 1024,
        # Scrapy imports every listed component, even one mapped to None, before
        # it declines: the remote control pulled in aiohttp's server (~0.3 s), the
        # cookies middleware tldextract (~0.1 s). Those a crawl never uses are left
        # out of the base lists instead (decision 0014).
        "EXTENSIONS_BASE": _without(default_settings.EXTENSIONS_BASE, _UNUSED_EXTENSIONS),
        "DOWNLOADER_MIDDLEWARES_BASE": _without(default_settings.DOWNLOADER_MIDDLEWARES_BASE, _UNUSED_MIDDLEWARES),
        "DOWNLOADER_MIDDLEWARES": _OUR_MIDDLEWARES,
        "NETWORK_GUARD": guard,
        "ITEM_PIPELINES": {"crawler.pipelines.RecordPipeline": 300},
    }
    if browser:
        settings.update(_browser_settings(options, guard))
    return settings


def _browser_settings(options: CrawlOptions, guard: NetworkGuard) -> dict[str, Any]:
    """Pages fetched by headless Chromium, which connects only through the guarded proxy
    (decision 0017), served while the crawl runs; each page has three download
    timeouts in all (crawler/browserdeadline.py, decision 0013), and the crawl's other requests have their bodies'
    lengths checked (crawler/browserdownload.py)."""
    handler = "crawler.browserdownload.LengthCheckedPlaywrightHandler"
    proxy = GuardedProxy(guard, timeout=options.timeout)
    return {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "BROWSER_PROXY": proxy,
        "EXTENSIONS": {"crawler.browserproxy.GuardedProxyExtension": 0},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_BROWSER_PROVIDER": "crawler.browserdeadline.KillableChromiumProvider",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": options.browser_path, "headless": True,
            "args": [*CHROMIUM_ARGS, *proxy.chromium_args()],
            # Playwright turns off Chromium's cap on history and hash changes (for tests that navigate fast):
            # a page flooding them then hung the whole browser, every page in it and even its close.
            "ignore_default_args": ["--disable-ipc-flooding-protection"],
        },
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": options.timeout * 1000,
    }


class CrawlTargets:
    """The documents of a crawl as its targets, their validators read from the store a batch at a time.

    Iterated once, by the spider: from the moment a target is handed over its
    result is expected, and :meth:`never_handed` names the documents a crawl cut
    short did not reach. An error reading a batch ends the iteration and is kept
    in ``error``: Scrapy would only log it, and the crawl raises it once the
    fetches in flight are recorded.
    """

    def __init__(self, store: Store, documents: Iterable[Document], recorder: Recorder,
                 batch: int = _TARGETS_PER_BATCH):
        self.store = store
        self.documents = documents
        self.recorder = recorder
        self.batch = batch
        self.handed = 0
        self.error: Exception | None = None
        self.exhausted = False

    def __iter__(self) -> Iterator[CrawlTarget]:
        documents = iter(self.documents)
        while batch := self._next_batch(documents):
            for target in batch:
                self.recorder.expect(target.document_id)
                self.handed += 1
                yield target
        self.exhausted = self.error is None

    def _next_batch(self, documents: Iterator[Document]) -> list[CrawlTarget]:
        try:
            batch = list(islice(documents, self.batch))
            headers = self.store.history.conditional_headers_for([d.id for d in batch]) if batch else {}
        except Exception as exc:  # noqa: BLE001 - raised again by crawl()
            self.error = exc
            return []
        return [CrawlTarget(d.id, d.spec, headers[d.id]) for d in batch]

    def never_handed(self) -> Iterator[str]:
        """The documents the spider did not reach: none once it has read them all, which a crawl that ran to its
        end did (reading the catalog again to skip every document cost a third pass over it, ~0.07 ms CPU per
        document, decision 0014)."""
        if self.exhausted:
            return iter(())
        return (document.id for document in islice(self.documents, self.handed, None))


def crawl(
    store: Store,
    documents: Iterable[Document],
    options: CrawlOptions,
    *,
    analyze: AnalyzeVersion | None,
    runner: CrawlRunner | None = None,
    run_id: str | None = None,
    on_result: OnResult | None = None,
) -> CrawlReport:
    """Check every document once; blocks until the crawl has ended and everything is recorded.

    ``documents`` is read twice, in the same order: once to set the crawl up,
    once as it goes. A list will do; ``store.catalog.each_document()`` reads
    the store a batch at a time, so the crawl holds a batch and the fetches in
    flight whatever the catalog's size. Each result goes to ``on_result`` as it
    is recorded; the report counts them and names the documents that failed or
    were not checked.
    """
    run_id = run_id or uuid.uuid4().hex[:12]
    recorder = Recorder(store, analyze=analyze, run_id=run_id, shrink_ratio=options.shrink_ratio,
                        on_result=on_result)
    guard = network_guard(options)
    fetchers, first_batch = _set_up(documents, guard)
    listed = True
    if fetchers:
        _prepare_analysis(store, first_batch, analyze)
        targets = CrawlTargets(store, documents, recorder)
        settings = scrapy_settings(options, browser="browser" in fetchers, guard=guard)
        # Known once the analyser is prepared: whether it analyses in worker processes.
        settings["RECORD_THREADS"] = record_threads(getattr(analyze, "worker_processes", 0))
        crawl_runner = runner or CrawlRunner()
        try:
            crawl_runner.run(PolicySpider, settings, targets=targets, recorder=recorder)
        except BaseException:
            # Interrupted in this thread (a job's shutdown signal, a second Ctrl-C): the crawl would go on in the
            # reactor's thread, fetching and recording after its run was closed and its lease released. The
            # interruption is what the caller must see, not a reactor too busy to take the stop within a minute.
            with contextlib.suppress(Exception):
                crawl_runner.stop()
            raise
        failure = recorder.store_failure
        if targets.error is not None and failure is None:
            raise targets.error
        # A crawl cut short (shutdown, crash of a component, the store failing) leaves these unchecked.
        reason = "not checked: the store failed" if failure else "not checked: the crawl ended early"
        unchecked, listed = _unchecked(recorder, targets)
        for document_id in unchecked:
            recorder.skip(document_id, reason)
    return CrawlReport(run_id, dict(recorder.counts), recorder.failures, recorder.store_failure,
                       unreached_unlisted=not listed)


def _unchecked(recorder: Recorder, targets: CrawlTargets) -> tuple[list[str], bool]:
    """The documents a crawl began and did not record, then those it did not reach, and whether those could be
    listed: reaching them reads the store, and a store that failed may not be read either."""
    began = recorder.unrecorded()
    try:
        return [*began, *targets.never_handed()], True
    except StoreFailedError:
        if recorder.store_failure is None:
            raise
        return began, False


def _prepare_analysis(store: Store, first_batch: list[str], analyze: AnalyzeVersion | None) -> None:
    """Have the analyser get ready now, beside Scrapy's start, when first texts are all but certain.

    A document never fetched brings a text to analyse (unless its fetch fails);
    loading the models then overlaps the crawler's start rather than holding up
    the first page. The analyser is told how many such documents the first batch
    holds (one query), which is how ``ANALYSIS_WORKERS=auto`` decides whether a
    worker process pays. A crawl whose documents have all been fetched before
    (the daily run, failing pages included) loads nothing until a page turns out
    new. An analyser without ``prepare`` is left alone.
    """
    prepare = getattr(analyze, "prepare", None)
    if prepare is None:
        return
    coming = store.history.count_never_fetched(first_batch)
    if coming:
        prepare(coming)


def _set_up(documents: Iterable[Document], guard: NetworkGuard) -> tuple[set[str], list[str]]:
    """The fetchers the documents use (none: nothing to crawl), and the ids of the first batch of them.

    The guard learns every first URL before the first request, so a redirect to
    a later document's host is judged as it will be once that document is fetched.
    """
    fetchers: set[str] = set()
    first_batch: list[str] = []
    for document in documents:
        guard.add_catalog_url(document.spec.sources[0].url)
        fetchers.add(document.spec.fetcher)
        if len(first_batch) < _TARGETS_PER_BATCH:
            first_batch.append(document.id)
    return fetchers, first_batch

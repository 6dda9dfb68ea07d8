"""Crawl the catalog: the wiring between settings, catalog, store, crawler and analysis."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from analysis.domain import StoredVersion, VersionAnalysis
from clausewatch.app import open_store, read_catalog, select_platforms, utcnow
from clausewatch.settings import Settings
from crawler.crawl import CrawlOptions, CrawlReport, crawl
from store.repository import Store

if TYPE_CHECKING:
    from analysis.pipeline import Analyzer
    from clausewatch.parallel import ParallelAnalyzer

log = logging.getLogger(__name__)

_parallel: dict[int, ParallelAnalyzer] = {}


class DeferredAnalyzer:
    """The in-process :class:`Analyzer`, built when the first new text needs it.

    Loading the classifier is a fixed cost of every crawl; a crawl whose pages
    are all unchanged (the usual daily run) analyses nothing and never pays it.
    """

    def __init__(self) -> None:
        self._analyzer: Analyzer | None = None
        self._lock = threading.Lock()

    def __call__(self, previous: StoredVersion | None, text: str) -> VersionAnalysis:
        with self._lock:
            if self._analyzer is None:
                from analysis.pipeline import Analyzer

                self._analyzer = Analyzer()
        return self._analyzer(previous, text)

    @property
    def loaded(self) -> bool:
        return self._analyzer is not None


def default_analyzer(settings: Settings) -> DeferredAnalyzer | ParallelAnalyzer:
    """The analyser a crawl uses: in process, or a process pool kept for the life of the process."""
    if settings.analysis_workers <= 0:
        return DeferredAnalyzer()
    if settings.analysis_workers not in _parallel:
        from clausewatch.parallel import ParallelAnalyzer

        _parallel[settings.analysis_workers] = ParallelAnalyzer(settings.analysis_workers)
    return _parallel[settings.analysis_workers]


def crawl_options(settings: Settings, *, delay: float | None = None, concurrency: int | None = None) -> CrawlOptions:
    return CrawlOptions(
        user_agent=settings.user_agent,
        delay=settings.crawl_delay if delay is None else delay,
        concurrency=settings.crawl_concurrency if concurrency is None else concurrency,
        timeout=settings.crawl_timeout,
        retries=settings.crawl_retries,
        max_bytes=settings.crawl_max_bytes,
        shrink_ratio=settings.crawl_shrink_ratio,
        browser_path=settings.browser_path,
        allowed_networks=settings.crawl_allowed_networks,
    )


def crawl_catalog(
    settings: Settings,
    *,
    store: Store | None = None,
    platforms: Sequence[str] = (),
    tags: Sequence[str] = (),
    types: Sequence[str] = (),
    delay: float | None = None,
    concurrency: int | None = None,
    analyzer: Analyzer | DeferredAnalyzer | ParallelAnalyzer | None = None,
) -> CrawlReport:
    """Sync the catalog into the store, check every selected document once, then sign the capture log."""
    from clausewatch.signing import log_signer, sign_log

    catalog = read_catalog(settings)
    signer = log_signer(settings)  # before crawling: a run that could not be signed must not start
    owned = store is None
    store = store or open_store(settings)
    try:
        documents = store.sync_catalog(catalog.platforms, now=utcnow())
        chosen = {
            (p.slug, d.type) for p in select_platforms(catalog.platforms, slugs=platforms, tags=tags, types=types)
            for d in p.documents
        }
        selected = [d for d in documents if (d.platform, d.type) in chosen]
        log.info("crawl documents=%d selected=%d", len(documents), len(selected))
        report = crawl(store, selected, crawl_options(settings, delay=delay, concurrency=concurrency),
                       analyze=analyzer or default_analyzer(settings))
        head = sign_log(store, signer)
        log.info("capture log signed size=%d root=%s", head.size, head.root.hex()[:16])
        return report
    finally:
        if owned:
            store.close()

"""A deadline on the whole fetch of one browser page, and what is done with a page past it.

scrapy-playwright bounds a page's navigation and its waits, not ``page.content()``
nor ``page.close()``: a script that never gives the page back once it has loaded
(a busy loop, a flood of history entries) kept them waiting for ever, and the
crawl with them, past its timeout and a SIGTERM, the document never fetched
(decision 0013). Here a page has ``BROWSER_PAGE_DEADLINE`` seconds, from its
context's creation to its response. Past them the fetch is cancelled, the
document fails as a ``timeout`` (:class:`~crawler.errors.PageDeadlineError`,
not retried) and the page is got rid of: its context is closed; if that does
not finish either, the browser is closed, and killed if it does not answer.
scrapy-playwright launches another for the next page, and retries on it the
pages the old one had in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
import weakref
from collections.abc import Awaitable
from typing import Any

from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from scrapy_playwright.provider import PlaywrightBrowserProvider

from crawler.errors import PageDeadlineError

log = logging.getLogger(__name__)

# A page's deadline, in download timeouts: one for its navigation, one for the
# network to settle after it, one more for reading and closing the page (which
# take milliseconds when the page yields).
PAGE_DEADLINE_TIMEOUTS = 3


def page_deadline(timeout: float) -> float:
    """The seconds a browser page has in all, for a crawl whose requests have ``timeout`` seconds."""
    return PAGE_DEADLINE_TIMEOUTS * timeout


class DeadlineDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's download handler, each browser page under its deadline.

    Closing a context, or the browser, waits on Chromium too: each gets
    ``DOWNLOAD_TIMEOUT`` seconds before the next, harsher step is taken.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        self.deadline = crawler.settings.getfloat("BROWSER_PAGE_DEADLINE", page_deadline(timeout))
        self.close_timeout = timeout
        self._restarting = asyncio.Lock()
        self._browser_gone = asyncio.Event()

    async def _download_request(self, request: Any, spider: Any = None) -> Any:
        # Launched first, off the page's clock: the crawl's first pages all wait for the browser to start.
        await self._maybe_launch_browser()
        deadline = asyncio.timeout(self.deadline)
        try:
            async with deadline:
                return await super()._download_request(request, spider)
        except TimeoutError:
            if not deadline.expired():
                raise
        done = await self._get_rid_of_page(request)
        raise PageDeadlineError(f"the browser page did not finish within {self.deadline:g} s (a script that never "
                                f"yields?): {done}")

    async def _get_rid_of_page(self, request: Any) -> str:
        """Close the page's context, or restart the browser if even that hangs; say which was done."""
        wrapper = self.context_wrappers.get(request.meta.get("playwright_context"))
        if wrapper is None:
            return "its browser context was not open"
        if await _finished_within(wrapper.context.close(), self.close_timeout):
            return "its browser context was closed"
        async with self._restarting:  # pages of one hung browser pass their deadlines together: one restart
            return await self._restart_browser(wrapper.context.browser)

    async def _restart_browser(self, browser: Any) -> str:
        """Close the browser, or kill it if it does not answer; returns once scrapy-playwright has let it go (so
        the next page launches a new one rather than failing in the old one)."""
        if browser is None or not browser.is_connected():
            return "its browser context would not close: the browser was restarted"
        self._browser_gone.clear()
        if await _finished_within(browser.close(), self.close_timeout):
            done = "its browser context would not close: the browser was restarted"
        elif self.browser_provider.kill(browser):
            done = "neither its browser context nor the browser would close: the browser was killed and restarted"
        else:
            done = "neither its browser context nor the browser would close, and its process was not known to kill"
        await _finished_within(self._browser_gone.wait(), self.close_timeout)
        return done

    async def _close(self) -> None:
        try:
            await super()._close()
        finally:  # closing the browser failed, and its provider was not closed: its folders go all the same
            provider = getattr(self, "browser_provider", None)
            if isinstance(provider, KillableChromiumProvider):
                provider.remove_temp_folders()

    async def _browser_disconnected_callback(self) -> None:
        await super()._browser_disconnected_callback()
        self._browser_gone.set()


class KillableChromiumProvider(PlaywrightBrowserProvider):
    """scrapy-playwright's own browser launch, which also asks each browser its process id while it answers: a
    browser that no longer does, not even to close, can only be killed.

    Each browser it launches has a temporary folder of its own (``TMPDIR``),
    which the crawl makes and removes: Chromium keeps its singleton folder there
    (``org.chromium.Chromium.*``, its socket), which it removes at exit and a
    killed one cannot. Killing a browser removes its folder, so exactly what it
    left and never another program's folder in ``/tmp``; the crawl's end removes
    the others.
    """

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.process_ids: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self.temp_folders: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._made: list[str] = []

    async def launch_browser(self) -> Any:
        folder = self._folder_for_a_browser()
        if folder is None:
            browser = await super().launch_browser()
        else:
            browser = await self._launch_with_temp_folder(folder)
            self.temp_folders[browser] = folder
        try:
            process_id = await _browser_process_id(browser)
        except Exception as exc:  # noqa: BLE001 - the browser works without it; only a hung one cannot be killed
            log.warning("the browser's process id is unknown (%s): a browser that hangs will not be killed", exc)
            return browser
        if process_id is not None:
            self.process_ids[browser] = process_id
        return browser

    def _folder_for_a_browser(self) -> str | None:
        """A new temporary folder for a browser launched here (not one connected to), or None: none could be made
        short enough for Chromium's socket path (107 bytes), and the browser shares the system's."""
        if self.browser_type is None or self.config.cdp_url or self.config.connect_url:
            return None
        try:
            folder = tempfile.mkdtemp(prefix="cw-chromium-")
        except OSError as exc:
            log.warning("no temporary folder for the browser (%s): one it is killed in will leave its files", exc)
            return None
        if len(os.fsencode(os.path.join(folder, _CHROMIUM_SOCKET))) > _SOCKET_PATH_MAX:
            os.rmdir(folder)
            log.info("the temporary folder %s is too long a path for Chromium's socket: the browser uses the "
                     "system's", os.path.dirname(folder))
            return None
        self._made.append(folder)
        return folder

    async def _launch_with_temp_folder(self, folder: str) -> Any:
        """scrapy-playwright's local launch, with ``TMPDIR`` set to ``folder`` for the browser."""
        options = dict(self.config.launch_options)
        options["env"] = {**(options.get("env") or os.environ), "TMPDIR": folder}
        log.info("Launching browser %s", self.browser_type.name)
        browser = await self.browser_type.launch(**options)
        log.info("Browser %s launched", self.browser_type.name)
        return browser

    def kill(self, browser: Any) -> bool:
        """Kill the browser and its renderers (Playwright starts each browser as the leader of its own process
        group), or only the browser if it leads none, and remove its temporary folder; False if its process is not
        known."""
        process_id = self.process_ids.pop(browser, None)
        if process_id is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(process_id) == process_id:
                os.killpg(process_id, signal.SIGKILL)
            else:
                os.kill(process_id, signal.SIGKILL)
        folder = self.temp_folders.pop(browser, None)
        if folder is not None:  # killed: none of its processes writes there again
            self._remove(folder)
        return True

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self.remove_temp_folders()

    def remove_temp_folders(self) -> None:
        """Remove the temporary folders of the browsers launched here, once they are closed (those a browser
        that closed has emptied, and those of one that crashed)."""
        for folder in list(self._made):
            self._remove(folder)

    def _remove(self, folder: str) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(ValueError):
            self._made.remove(folder)


# Chromium's singleton socket, in its folder in TMPDIR; the longest path a Unix socket may have (Linux's sun_path,
# less its final NUL). Past it Chromium does not start at all ("Socket path too long").
_CHROMIUM_SOCKET = "org.chromium.Chromium.XXXXXX/SingletonSocket"
_SOCKET_PATH_MAX = 107


async def _browser_process_id(browser: Any) -> int | None:
    """The browser process's id, from Chromium's SystemInfo domain (Playwright does not say it)."""
    session = await browser.new_browser_cdp_session()
    try:
        info = await session.send("SystemInfo.getProcessInfo")
    finally:
        await session.detach()
    return next((process["id"] for process in info["processInfo"] if process["type"] == "browser"), None)


async def _finished_within(step: Awaitable[Any], seconds: float) -> bool:
    """Whether ``step`` finished (or failed) within ``seconds``; it is cancelled if not."""
    try:
        await asyncio.wait_for(step, seconds)
    except TimeoutError:
        return False
    except Exception:  # noqa: BLE001 - a context or browser already closed is as good as closed
        return True
    return True

"""Decode and extract each fetched page (crawler.ingest.page_record), in worker processes.

Extraction (decoding, lxml, trafilatura, dates, chrome filter) is pure CPU work on one page, so it
runs in a process pool while the crawl process goes on downloading and storing: the store pipeline
(one SQLite writer) stays in the crawl process, extraction uses the other cores. The pool is shared
by every source crawled in the process (one crawler per source) and shut down with the last one.
``NEWSMON_EXTRACT_WORKERS`` (set by ``crawler.crawl.scrapy_settings``) is its size; 0 extracts
in the crawl process itself, as does a pool that broke (a worker killed by the OOM killer, say).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from loguru import logger
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, reactor

from crawler.crawl import CrawlContext
from crawler.fetch import FetchedPage
from crawler.ingest import PageRecord, page_record


def _warm_up() -> None:
    """Runs once in each worker: load trafilatura, htmldate, lxml and the patterns before the first page."""
    os.environ.setdefault("NEWSMON_EXTRACT_WORKER", "1")
    page_record(
        FetchedPage(
            "http://warm.up/a.html",
            "<html><head><title>t</title></head><body><h1>预热</h1><p>2024年1月1日，项目签约。</p></body></html>".encode(),
            "text/html; charset=utf-8",
            "warm-up",
            None,
            __import__("datetime").datetime(2024, 1, 1),
        )
    )


class _SharedPool:
    """One process pool for all the crawlers of a process, counted in and out by open/close_spider."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None
        self.users = 0

    def acquire(self, workers: int) -> ProcessPoolExecutor | None:
        with self.lock:
            self.users += 1
            if self.pool is None and workers > 0:
                # forkserver: workers are not forked from the reactor process with its threads and sockets.
                context = multiprocessing.get_context("forkserver")
                self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_warm_up)
                logger.info("extraction: {} worker processes", workers)
            return self.pool

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            if self.users <= 0 and self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)
                self.pool = None

    def broken(self, pool: ProcessPoolExecutor) -> None:
        with self.lock:
            if self.pool is pool:
                logger.error("extraction worker pool broke: extracting in the crawl process from now on")
                pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None


_SHARED = _SharedPool()


def _deferred(future: Future[PageRecord]) -> defer.Deferred[PageRecord]:
    """A Deferred fired in the reactor thread when ``future`` (from the pool) is done."""
    d: defer.Deferred[PageRecord] = defer.Deferred()

    def done(f: Future[PageRecord]) -> None:
        error = f.exception()
        if error is None:
            reactor.callFromThread(d.callback, f.result())
        else:
            reactor.callFromThread(d.errback, error)

    future.add_done_callback(done)
    return d


class ExtractPipeline:
    def __init__(self, context: CrawlContext, workers: int = 0) -> None:
        self.context = context
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.acquired = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        context = crawler.settings.get("NEWSMON_CONTEXT")
        if not isinstance(context, CrawlContext):
            raise NotConfigured("no NEWSMON_CONTEXT")
        return cls(context, crawler.settings.getint("NEWSMON_EXTRACT_WORKERS", 0))

    def open_spider(self, spider: Any = None) -> None:
        if self.workers > 0 and not self.acquired:
            self.pool = _SHARED.acquire(self.workers)
            self.acquired = True

    def close_spider(self, spider: Any = None) -> None:
        if self.acquired:
            self.acquired = False
            self.pool = None
            _SHARED.release()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        record = await self._extract(item)
        for warning in record.article.warnings:
            logger.warning("[{}] {}: {}", item.source_name, item.url, warning)
        return record

    async def _extract(self, item: FetchedPage) -> PageRecord:
        pool = self.pool if self.pool is _SHARED.pool else None
        if pool is None:
            return page_record(item)
        try:
            return await maybe_deferred_to_future(_deferred(pool.submit(page_record, item)))
        except (BrokenProcessPool, RuntimeError) as error:  # RuntimeError: submit after a shutdown
            if isinstance(error, BrokenProcessPool):
                _SHARED.broken(pool)
            self.pool = None
            return page_record(item)

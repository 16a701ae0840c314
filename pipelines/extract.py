"""Decode and extract each fetched page (crawler.ingest.page_record) in the extraction workers.

The pool (``crawler.workers.ExtractionPool``) is created by ``run_crawl``, shared by every source
crawled in the process through their ``CrawlContext`` and shut down by ``run_crawl`` after the crawl.
This pipeline awaits each page's future (bridged to a Deferred). Without a pool, a page goes on raw
to the ingest process (crawler.ingestproc), which extracts it, unless that process is behind; then,
or without an ingest process, or once the pool broke, pages are extracted here.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from loguru import logger
from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, reactor

from crawler.crawljob import CrawlContext, CrawlJob, crawl_job
from crawler.ingest import PageRecord, page_record
from crawler.models import FetchedPage


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
    def __init__(self, job: CrawlJob) -> None:
        self.job = job

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawl_job(crawler))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        context = self.job.of(item.source_name)
        if _ingester_extracts(context):
            return item
        record = await _extract(context, item)
        for warning in record.article.warnings:
            logger.warning("[{}] {}: {}", item.source_name, item.url, warning)
        return record


def _ingester_extracts(context: CrawlContext) -> bool:
    pool, ingester = context.extraction, context.ingester
    if pool is not None and pool.running:
        return False
    return ingester is not None and ingester.extracts


async def _extract(context: CrawlContext, item: FetchedPage) -> PageRecord:
    pool = context.extraction
    if pool is None:
        return page_record(item, context.ingest.rules)
    future = pool.submit(item)
    if future is None:
        return pool.extract_here(item)
    try:
        return await maybe_deferred_to_future(_deferred(future))
    except BrokenProcessPool:
        pool.broken()
        return pool.extract_here(item)

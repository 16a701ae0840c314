"""Decode and extract each fetched page (crawler.ingest.page_record) in the extraction workers.

The pool (``crawler.workers.ExtractionPool``) is created by ``run_crawl``, shared by every source
crawled in the process through the ``CrawlContext`` and shut down by ``run_crawl`` after the crawl.
This pipeline awaits each page's future (bridged to a Deferred); the store pipeline (one SQLite
writer) stays in the crawl process. Without a pool, or once it broke, pages are extracted here.
"""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from typing import Any

from loguru import logger
from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.crawl import CrawlContext, crawl_context
from crawler.fetch import FetchedPage
from crawler.ingest import PageRecord, page_record
from pipelines.bridge import deferred_from


class ExtractPipeline:
    def __init__(self, context: CrawlContext) -> None:
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawl_context(crawler))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        record = await self._extract(item)
        for warning in record.article.warnings:
            logger.warning("[{}] {}: {}", item.source_name, item.url, warning)
        return record

    async def _extract(self, item: FetchedPage) -> PageRecord:
        pool = self.context.extraction
        if pool is None:
            return page_record(item, self.context.ingest.rules)
        future = pool.submit(item)
        if future is None:
            return pool.extract_here(item)
        try:
            return await maybe_deferred_to_future(deferred_from(future))
        except BrokenProcessPool:
            pool.broken()
            return pool.extract_here(item)

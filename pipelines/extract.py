"""Decode and extract each fetched page (crawler.ingest.page_record)."""

from __future__ import annotations

from typing import Any

from loguru import logger
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.crawl import CrawlContext
from crawler.fetch import FetchedPage
from crawler.ingest import PageRecord, page_record


class ExtractPipeline:
    def __init__(self, context: CrawlContext) -> None:
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        context = crawler.settings.get("NEWSMON_CONTEXT")
        if not isinstance(context, CrawlContext):
            raise NotConfigured("no NEWSMON_CONTEXT")
        return cls(context)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        record: PageRecord = page_record(item)
        for warning in record.article.warnings:
            logger.warning("[{}] {}: {}", item.source_name, item.url, warning)
        return record

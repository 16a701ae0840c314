"""Downloader middleware: route a source's requests (robots.txt included) through its configured proxy."""

from __future__ import annotations

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request

from crawler.crawl import CrawlContext


class SourceProxyMiddleware:
    """Runs before Scrapy's HttpProxyMiddleware (750), which then applies ``meta['proxy']``."""

    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceProxyMiddleware:
        context = crawler.settings.get("NEWSMON_CONTEXT")
        if not isinstance(context, CrawlContext) or not context.source.proxy:
            raise NotConfigured("no proxy for this source")
        return cls(context.source.proxy)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        request.meta.setdefault("proxy", self.proxy)

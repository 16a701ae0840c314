"""Downloader middlewares: a source's proxy, refusal of off-site redirects, retries with backoff.

Each is built from the CrawlContext (``from_crawler``) or the settings, raises NotConfigured when it
has nothing to do, and asks ``crawler.fetch`` for every decision.
"""

from __future__ import annotations

from typing import Any

from loguru import logger
from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

from crawler.crawl import crawl_context
from crawler.fetch import RETRY_BACKOFF_S, may_hold_meta_refresh, redirect_allowed, retry_delay


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's, without decoding every page to look for a refresh that its bytes show is not there
    (Scrapy decoded each whole article page for this: ~6% of the crawl process's Scrapy time)."""

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        if not may_hold_meta_refresh(response.body):
            return response
        return super().process_response(request, response)


class SourceProxyMiddleware:
    """Runs before Scrapy's HttpProxyMiddleware (750), which then applies ``meta['proxy']``."""

    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceProxyMiddleware:
        proxy = crawl_context(crawler).source.proxy
        if not proxy:
            raise NotConfigured("no proxy for this source")
        return cls(proxy)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        request.meta.setdefault("proxy", self.proxy)


class OffsiteRedirectMiddleware:
    """Refuses a redirect that leaves the site of the source's list pages (a hijacked or parked domain)."""

    def __init__(self, source_name: str, list_urls: tuple[str, ...]) -> None:
        self.source_name = source_name
        self.list_urls = list_urls

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectMiddleware:
        context = crawl_context(crawler)
        return cls(context.source.name, context.source.list_urls)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if not request.meta.get("redirect_times") or redirect_allowed(request.url, self.list_urls):
            return
        origin = (request.meta.get("redirect_urls") or ["?"])[0]
        logger.error("[{}] redirect off the source's site refused: {} -> {}", self.source_name, origin, request.url)
        raise IgnoreRequest(f"redirect off the source's site refused: {origin} -> {request.url}")


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries (timeouts, refused connections, 5xx, 429), each one waiting longer than the last."""

    backoff_s: float = RETRY_BACKOFF_S

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = super().from_crawler(crawler)
        middleware.backoff_s = crawler.settings.getfloat("NEWSMON_RETRY_BACKOFF_S", RETRY_BACKOFF_S)
        return middleware

    async def _wait(self, result: Any) -> Any:
        if isinstance(result, Request):
            delay = retry_delay(int(result.meta.get("retry_times", 1)), self.backoff_s)
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return result

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        result: Request | Response = await self._wait(super().process_response(request, response))
        return result

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        result: Request | Response | None = await self._wait(super().process_exception(request, exception))
        return result

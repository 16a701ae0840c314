"""Downloader middlewares: a source's proxy, refusal of off-site redirects, retries with backoff.

Each is built from the CrawlJob (``from_crawler``) or the settings, raises NotConfigured when it
has nothing to do, and asks ``crawler.fetch`` for every decision. A request's source is the one its
meta names (``crawler.crawljob.SOURCE_META``).
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

from crawler.crawljob import CrawlJob, crawl_job
from crawler.fetch import RETRY_BACKOFF_S, may_hold_meta_refresh, redirect_allowed, retry_delay


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's, without decoding every page to look for a refresh that its bytes show is not there
    (Scrapy decoded each whole article page for this: ~6% of the crawl process's Scrapy time)."""

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        if not may_hold_meta_refresh(response.body):
            return response
        return super().process_response(request, response)


class SourceMetaMiddleware:
    """Runs first: names the source of a request made without one (Scrapy's robots.txt request for a
    host) so that the proxy, the redirect check and the per-source counts apply to it too."""

    def __init__(self, job: CrawlJob) -> None:
        self.job = job

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceMetaMiddleware:
        return cls(crawl_job(crawler))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        self.job.claim(request.url, request.meta)


class SourceProxyMiddleware:
    """Runs before Scrapy's HttpProxyMiddleware (750), which then applies ``meta['proxy']``."""

    def __init__(self, job: CrawlJob, proxies: dict[str, str]) -> None:
        self.job = job
        self.proxies = proxies  # source name -> its proxy, for the sources that have one

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceProxyMiddleware:
        job = crawl_job(crawler)
        proxies = {c.source.name: c.source.proxy for c in job if c.source.proxy}
        if not proxies:
            raise NotConfigured("no source of this crawl has a proxy")
        return cls(job, proxies)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        context = self.job.of_meta(request.meta)
        proxy = self.proxies.get(context.source.name) if context is not None else None
        if proxy:
            request.meta.setdefault("proxy", proxy)


class OffsiteRedirectMiddleware:
    """Refuses a redirect that leaves the site of the source's list pages (a hijacked or parked domain)."""

    def __init__(self, job: CrawlJob) -> None:
        self.job = job

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OffsiteRedirectMiddleware:
        return cls(crawl_job(crawler))

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if not request.meta.get("redirect_times"):
            return
        context = self.job.of_meta(request.meta)
        if context is None or redirect_allowed(request.url, context.source.list_urls):
            return
        origin = (request.meta.get("redirect_urls") or ["?"])[0]
        name = context.source.name
        logger.error("[{}] redirect off the source's site refused: {} -> {}", name, origin, request.url)
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

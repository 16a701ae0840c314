"""PortalSpider: list pages -> new article links -> fetched article pages. Decides nothing itself.

``crawler.fetch`` decides (conditional headers, which links are new, whether to page on, how to
name a failure); ``crawler.listing`` reads the list pages. The spider records what happened to
each column's first page in the CrawlContext; ``crawler.crawl.finish_run`` stores it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import scrapy
from loguru import logger
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.config import Source
from crawler.crawl import CrawlContext, crawl_context
from crawler.extract import decode_html
from crawler.fetch import ListOutcome, conditional_headers, describe_failure, plan_list_page
from crawler.listing import parse_list_page
from crawler.models import FetchedPage


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(self, source: Source, context: CrawlContext, **kwargs: Any) -> None:
        super().__init__(name=f"portal:{source.name}", **kwargs)
        self.source = source
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, context=crawl_context(crawler), **kwargs)
        assert isinstance(spider, PortalSpider)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for url in self.source.list_urls:
            headers = conditional_headers(self.context.lists.validators(url), self.context.options)
            yield self.list_request(url, 1, url, headers)

    def list_request(
        self, url: str, page: int, column: str, headers: dict[str, str] | None = None, block: str | None = None
    ) -> Request:
        return Request(
            url,
            callback=self.parse_list,
            errback=self.failed,
            headers=headers or None,
            cb_kwargs={"page": page, "column": column, "block": block},
            meta={"handle_httpstatus_list": [304], "newsmon_list_page": page, "newsmon_column": column},
            dont_filter=True,
            priority=10,
        )

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"newsmon/{key}", count)

    def parse_list(self, response: Response, page: int, column: str, block: str | None = None) -> Iterator[Request]:
        self._inc("list_pages_ok")
        if response.status == 304:
            self._inc("list_not_modified")
            self.context.list_outcomes[column] = ListOutcome("not_modified")
            logger.info("[{}] list page {} not modified (304): nothing new", self.source.name, response.url)
            return
        html = decode_html(response.body, _header(response, "Content-Type")).text
        listing = parse_list_page(
            html, response.url, self.source.cms, self.source.link_selector, self.source.next_selector, block
        )
        context = self.context
        stored = context.seen.seen_among(listing.article_links)
        plan = plan_list_page(
            listing, page, self.source.max_pages, stored.__contains__, context.scheduled, context.options
        )
        self._inc("list_links", len(listing.article_links))
        logger.info(
            "[{}] list page {} ({}, {}): {} article links, {} to fetch; {}",
            self.source.name,
            page,
            listing.cms,
            response.url,
            len(listing.article_links),
            len(plan.article_urls),
            plan.reason,
        )
        if page == 1:
            status = "ok" if listing.article_links else "empty"
            error = None if listing.article_links else f"{response.url}: no article links (layout changed?)"
            context.list_outcomes[column] = ListOutcome(
                status, len(listing.article_links), _header(response, "ETag"), _header(response, "Last-Modified"), error
            )
        if not listing.article_links:
            message = f"list page {response.url} yielded no article links (layout changed?)"
            context.tally.errors.append(message)
            logger.error("[{}] {}", self.source.name, message)
        for link in plan.article_urls:
            context.scheduled.add(link)
            yield Request(link, callback=self.parse_article, errback=self.failed, meta={"newsmon_article": True})
        if plan.next_url:
            yield self.list_request(plan.next_url, page + 1, column, block=listing.block or block)

    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        self._inc("articles_fetched")
        yield FetchedPage(
            url=response.url,
            body=response.body,
            content_type=_header(response, "Content-Type"),
            source_name=self.source.name,
            region=self.source.region,
            fetched_at=datetime.now(),
        )

    def failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        reason = describe_failure(failure.value) if failure.value is not None else repr(failure)
        meta = request.meta if request is not None else {}
        if meta.get("newsmon_article"):
            self._inc("articles_failed")
            what = "article"
        else:
            what = f"list page {meta.get('newsmon_list_page', '?')}"
            if meta.get("newsmon_list_page") == 1:
                column = str(meta.get("newsmon_column", url))
                self.context.list_outcomes[column] = ListOutcome("error", error=f"{url}: {reason}")
        message = f"{what} {url}: {reason}"
        self.context.tally.errors.append(message)
        logger.error("[{}] fetch failed: {}", self.source.name, message)

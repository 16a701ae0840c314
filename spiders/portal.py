"""PortalSpider: list pages -> new article links -> fetched article pages. Decides nothing itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import scrapy
from loguru import logger
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.config import Source
from crawler.crawl import CrawlContext
from crawler.extract import decode_html
from crawler.fetch import FetchedPage
from crawler.listing import parse_list_page


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(self, source: Source, context: CrawlContext, **kwargs: Any) -> None:
        super().__init__(name=f"portal:{source.name}", **kwargs)
        self.source = source
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        context = crawler.settings.get("NEWSMON_CONTEXT")
        if not isinstance(context, CrawlContext):
            raise NotConfigured("PortalSpider runs through crawler.crawl.run_crawl (NEWSMON_CONTEXT unset)")
        spider = super().from_crawler(crawler, *args, context=context, **kwargs)
        assert isinstance(spider, PortalSpider)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for url in self.source.list_urls:
            yield self.list_request(url, 1)

    def list_request(self, url: str, page: int) -> Request:
        return Request(url, callback=self.parse_list, errback=self.failed, cb_kwargs={"page": page}, dont_filter=True)

    def parse_list(self, response: Response, page: int) -> Iterator[Request]:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("newsmon/list_pages_ok")
        content_type = response.headers.get("Content-Type")
        html = decode_html(response.body, content_type.decode("latin-1") if content_type else None).text
        listing = parse_list_page(
            html, response.url, self.source.cms, self.source.link_selector, self.source.next_selector
        )
        new_links = [link for link in listing.article_links if not self.context.seen.is_seen(link)]
        logger.info(
            "[{}] list page {} ({}): {} article links, {} new",
            self.source.name,
            page,
            listing.cms,
            len(listing.article_links),
            len(new_links),
        )
        if not listing.article_links:
            self.context.tally.errors.append(f"list page {response.url} yielded no article links")
        for link in new_links:
            yield Request(link, callback=self.parse_article, errback=self.failed)
        # A page whose links are all known means everything older is known too: stop paging there.
        if new_links and page < self.source.max_pages:
            for next_url in listing.next_pages[:1]:
                yield self.list_request(next_url, page + 1)

    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        content_type = response.headers.get("Content-Type")
        yield FetchedPage(
            url=response.url,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            source_name=self.source.name,
            region=self.source.region,
            fetched_at=datetime.now(),
        )

    def failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        message = f"{url}: {failure.getErrorMessage() or repr(failure.value)}"
        self.context.tally.errors.append(message)
        logger.error("[{}] fetch failed: {}", self.source.name, message)

"""PortalSpider: list pages -> new article links -> fetched article pages. Decides nothing itself.

One spider crawls every source of a crawl (``crawler.crawljob``): each request carries its source's
name in its meta, and the callbacks work on that source's context. ``crawler.fetch`` decides
(conditional headers, which links are new, whether to page on, how to name a failure);
``crawler.listing`` reads the list pages. The spider records what happened to each column's first
page and counts responses and callback errors per source; ``crawler.runrecords.finish_runs`` stores them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import scrapy
from loguru import logger
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler.crawljob import SOURCE_META, CrawlContext, CrawlJob, crawl_job
from crawler.extract import decode_html
from crawler.fetch import ListOutcome, conditional_headers, describe_failure, plan_list_page
from crawler.listing import parse_list_page
from crawler.models import FetchedPage


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class PortalSpider(scrapy.Spider):
    name = "portal"

    def __init__(self, job: CrawlJob, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, job=crawl_job(crawler), **kwargs)
        assert isinstance(spider, PortalSpider)
        crawler.signals.connect(spider.count_response, signal=signals.response_received)
        crawler.signals.connect(spider.count_error, signal=signals.spider_error)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for context in self.job:
            try:
                requests = [self.first_request(context, url) for url in context.source.list_urls]
            except Exception as exc:  # the database, reading validators: this source fails, the others go on
                message = f"could not start: {type(exc).__name__}: {exc}"
                context.tally.errors.append(message)
                logger.opt(exception=exc).error("[{}] {}", context.source.name, message)
                continue
            for request in requests:
                yield request

    def first_request(self, context: CrawlContext, url: str) -> Request:
        headers = conditional_headers(context.validators.get(url), context.options)
        return self.list_request(context, url, 1, url, headers)

    def list_request(
        self,
        context: CrawlContext,
        url: str,
        page: int,
        column: str,
        headers: dict[str, str] | None = None,
        block: str | None = None,
    ) -> Request:
        return Request(
            url,
            callback=self.parse_list,
            errback=self.failed,
            headers=headers or None,
            cb_kwargs={"page": page, "column": column, "block": block},
            meta={
                "handle_httpstatus_list": [304],
                "newsmon_list_page": page,
                "newsmon_column": column,
                SOURCE_META: context.source.name,
            },
            dont_filter=True,
            priority=10,
        )

    def count_response(self, response: Response, request: Request) -> None:
        context = self.job.of_meta(request.meta)
        if context is not None:
            context.counts["responses"] += 1

    def count_error(self, failure: Failure, response: Response | Failure | None) -> None:
        request = response.request if isinstance(response, Response) else getattr(response, "request", None)
        context = self.job.of_meta(request.meta) if request is not None else None
        if context is not None:
            context.counts["callback_errors"] += 1

    def parse_list(self, response: Response, page: int, column: str, block: str | None = None) -> Iterator[Request]:
        context = self.job.of(response.meta[SOURCE_META])
        source, counts = context.source, context.counts
        counts["list_pages_ok"] += 1
        if response.status == 304:
            counts["list_not_modified"] += 1
            context.list_outcomes[column] = ListOutcome("not_modified")
            logger.info("[{}] list page {} not modified (304): nothing new", source.name, response.url)
            return
        html = decode_html(response.body, _header(response, "Content-Type")).text
        listing = parse_list_page(html, response.url, source.cms, source.link_selector, source.next_selector, block)
        stored = context.seen.seen_among(listing.article_links)
        plan = plan_list_page(listing, page, source.max_pages, stored.__contains__, context.scheduled, context.options)
        counts["list_links"] += len(listing.article_links)
        logger.info(
            "[{}] list page {} ({}, {}): {} article links, {} to fetch; {}",
            source.name,
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
            logger.error("[{}] {}", source.name, message)
        meta = {"newsmon_article": True, SOURCE_META: source.name}
        for link in plan.article_urls:
            context.scheduled.add(link)
            yield Request(link, callback=self.parse_article, errback=self.failed, meta=dict(meta))
        if plan.next_url:
            yield self.list_request(context, plan.next_url, page + 1, column, block=listing.block or block)

    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        context = self.job.of(response.meta[SOURCE_META])
        context.counts["articles_fetched"] += 1
        yield FetchedPage(
            url=response.url,
            body=response.body,
            content_type=_header(response, "Content-Type"),
            source_name=context.source.name,
            region=context.source.region,
            fetched_at=datetime.now(),
        )

    def failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        reason = describe_failure(failure.value) if failure.value is not None else repr(failure)
        meta = request.meta if request is not None else {}
        context = self.job.of_meta(meta)
        if context is None:  # every request of ours names its source
            logger.error("fetch failed: {}: {}", url, reason)
            return
        if meta.get("newsmon_article"):
            context.counts["articles_failed"] += 1
            what = "article"
        else:
            what = f"list page {meta.get('newsmon_list_page', '?')}"
            if meta.get("newsmon_list_page") == 1:
                column = str(meta.get("newsmon_column", url))
                context.list_outcomes[column] = ListOutcome("error", error=f"{url}: {reason}")
        message = f"{what} {url}: {reason}"
        context.tally.errors.append(message)
        logger.error("[{}] fetch failed: {}", context.source.name, message)

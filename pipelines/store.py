"""Store each extracted page with its projects and alerts: in the ingest process when there is one
(crawler.ingestproc), else here (crawler.groupwrite: group commits)."""

from __future__ import annotations

from typing import Any, NoReturn

from loguru import logger
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.exc import SQLAlchemyError

from crawler.crawl import CrawlContext, crawl_context
from crawler.ingest import IngestOutcome, PageRecord, ingest_page, page_record
from crawler.ingestproc import IngestProcessGone
from crawler.models import FetchedPage


class StorePipeline:
    def __init__(self, context: CrawlContext) -> None:
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawl_context(crawler))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, (PageRecord, FetchedPage)):
            return item
        ingester = self.context.ingester
        if ingester is not None and ingester.takes_next():
            try:
                reply = await maybe_deferred_to_future(ingester.submit(item, self.context.ingest))
            except IngestProcessGone:
                pass  # stored here below, as without an ingest process
            else:
                for warning in reply.warnings:
                    logger.warning("[{}] {}: {}", item.source_name, item.url, warning)
                if reply.outcome is None:
                    self._not_stored(item, reply.error or "unknown error")
                self._stored(item, reply.outcome, reply.title)
                return item
        record = item if isinstance(item, PageRecord) else page_record(item, self.context.ingest.rules)
        self._stored(item, self._store_here(record), record.article.title)
        return item

    def _store_here(self, record: PageRecord) -> IngestOutcome:
        writer = self.context.writer
        try:
            if writer is not None:
                return writer.ingest(record, self.context.ingest)
            return ingest_page(self.context.db, record, self.context.ingest)
        except SQLAlchemyError as exc:
            self._not_stored(record, f"database error: {exc}")
        except Exception as exc:  # a bug on one article: reported, the crawl goes on (as in the ingest process)
            logger.opt(exception=exc).error("{}: not stored", record.url)
            self._not_stored(record, f"{type(exc).__name__}: {exc}")

    def _not_stored(self, item: PageRecord | FetchedPage, error: str) -> NoReturn:
        # Nothing of the article was stored, so the next crawl fetches it again.
        self.context.tally.not_stored += 1
        self.context.tally.errors.append(f"{item.url}: {error}")
        raise DropItem(f"not stored: {error}")

    def _stored(self, item: PageRecord | FetchedPage, outcome: IngestOutcome, title: str | None) -> None:
        tally = self.context.tally
        tally.add(outcome)
        done = tally.articles_new + tally.articles_duplicate + tally.articles_known
        large = [p.name for p in outcome.projects if p.new]
        logger.info(
            "[{}] article {} {}: {!r}, {} projects ({} new), {} alerts queued",
            item.source_name,
            done,
            outcome.status,
            title,
            len(outcome.projects),
            len(large),
            outcome.alerts_created,
        )

"""Store each extracted page with its projects and alerts (crawler.groupwrite: group commits, in the
store thread; awaited here, so the reactor goes on downloading and parsing meanwhile)."""

from __future__ import annotations

from typing import Any

from loguru import logger
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.exc import SQLAlchemyError

from crawler.crawl import CrawlContext, crawl_context
from crawler.ingest import IngestOutcome, PageRecord, ingest_page
from pipelines.bridge import deferred_from


class StorePipeline:
    def __init__(self, context: CrawlContext) -> None:
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawl_context(crawler))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageRecord):
            return item
        tally = self.context.tally
        try:
            outcome = await self._store(item)
        except SQLAlchemyError as exc:
            # Nothing of the article was stored, so the next crawl fetches it again.
            tally.not_stored += 1
            tally.errors.append(f"{item.url}: database error: {exc}")
            raise DropItem(f"not stored: {exc}") from exc
        tally.add(outcome)
        done = tally.articles_new + tally.articles_duplicate + tally.articles_known
        large = [p.name for p in outcome.projects if p.new]
        logger.info(
            "[{}] article {} {}: {!r}, {} projects ({} new), {} alerts queued",
            item.source_name,
            done,
            outcome.status,
            item.article.title,
            len(outcome.projects),
            len(large),
            outcome.alerts_created,
        )
        return item

    async def _store(self, item: PageRecord) -> IngestOutcome:
        writer = self.context.writer
        if writer is None:
            return ingest_page(self.context.db, item, self.context.ingest)
        return await maybe_deferred_to_future(deferred_from(writer.ingest(item, self.context.ingest)))

"""Store each extracted page with its projects and alerts (crawler.groupwrite: group commits)."""

from __future__ import annotations

from typing import Any

from loguru import logger
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError

from crawler.crawl import CrawlContext, crawl_context
from crawler.ingest import PageRecord, ingest_page


class StorePipeline:
    def __init__(self, context: CrawlContext) -> None:
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawl_context(crawler))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageRecord):
            return item
        tally, writer = self.context.tally, self.context.writer
        try:
            if writer is not None:
                outcome = writer.ingest(item, self.context.ingest)
            else:
                outcome = ingest_page(self.context.db, item, self.context.ingest)
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

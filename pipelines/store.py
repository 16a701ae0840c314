"""Store each extracted page with its projects and alerts: in the ingest process when there is one
(crawler.ingestproc), else here (crawler.groupwrite: group commits)."""

from __future__ import annotations

from typing import Any, NoReturn

from loguru import logger
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.exc import SQLAlchemyError

from crawler.crawljob import CrawlContext, CrawlJob, crawl_job
from crawler.ingest import IngestOutcome, PageRecord, ingest_page, page_record
from crawler.ingestproc import IngestProcessGone
from crawler.models import FetchedPage


class StorePipeline:
    def __init__(self, job: CrawlJob) -> None:
        self.job = job

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawl_job(crawler))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, (PageRecord, FetchedPage)):
            return item
        context = self.job.of(item.source_name)
        ingester = context.ingester
        if ingester is not None and ingester.takes_next():
            try:
                reply = await maybe_deferred_to_future(ingester.submit(item, context.ingest))
            except IngestProcessGone:
                pass  # stored here below, as without an ingest process
            else:
                for warning in reply.warnings:
                    logger.warning("[{}] {}: {}", item.source_name, item.url, warning)
                if reply.outcome is None:
                    _not_stored(context, item, reply.error or "unknown error")
                _stored(context, item, reply.outcome, reply.title)
                return item
        record = item if isinstance(item, PageRecord) else page_record(item, context.ingest.rules)
        _stored(context, item, _store_here(context, record), record.article.title)
        return item


def _store_here(context: CrawlContext, record: PageRecord) -> IngestOutcome:
    writer = context.writer
    try:
        if writer is not None:
            return writer.ingest(record, context.ingest)
        return ingest_page(context.db, record, context.ingest)
    except SQLAlchemyError as exc:
        _not_stored(context, record, f"database error: {exc}")
    except Exception as exc:  # a bug on one article: reported, the crawl goes on (as in the ingest process)
        logger.opt(exception=exc).error("{}: not stored", record.url)
        _not_stored(context, record, f"{type(exc).__name__}: {exc}")


def _not_stored(context: CrawlContext, item: PageRecord | FetchedPage, error: str) -> NoReturn:
    # Nothing of the article was stored, so the next crawl fetches it again.
    context.tally.not_stored += 1
    context.tally.errors.append(f"{item.url}: {error}")
    raise DropItem(f"not stored: {error}")


def _stored(context: CrawlContext, item: PageRecord | FetchedPage, outcome: IngestOutcome, title: str | None) -> None:
    tally = context.tally
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

"""The scheduler's reads and repairs of crawl_runs.

A crawl child writes its own crawl_runs row (``running`` at start, ``ok``/``failed`` at the end). A
child that is killed, or dies, may leave it ``running`` or never write one; the daemon settles
those here so that every scheduled run ends up recorded as finished.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from crawler.scheduler.health import RunSummary, SourceHealth, assess
from crawler.store.db import Database
from crawler.store.schema import CrawlRunRow

SCHEDULED_KIND = "crawl"  # the kind the crawl child records; manual `newsmon crawl` runs count too
HISTORY = 50  # runs read per source to find its error streak


def recent_runs(db: Database, source_name: str, limit: int = HISTORY) -> list[RunSummary]:
    with db.transaction() as session:
        rows = session.scalars(
            select(CrawlRunRow)
            .where(CrawlRunRow.source_name == source_name, CrawlRunRow.kind == SCHEDULED_KIND)
            .order_by(CrawlRunRow.id.desc())
            .limit(limit)
        ).all()
        return [summary(row) for row in rows]


def summary(row: CrawlRunRow) -> RunSummary:
    return RunSummary(
        id=row.id,
        status=row.status,
        started_at=row.started_at,
        finished_at=row.finished_at,
        pages_fetched=row.pages_fetched or 0,
        articles_new=row.articles_new or 0,
        articles_duplicate=row.articles_duplicate or 0,
        projects_new=row.projects_new or 0,
        alerts_created=row.alerts_created or 0,
        errors=row.errors or 0,
        error_text=row.error_text,
    )


def source_health(db: Database, source_name: str) -> SourceHealth:
    return assess(recent_runs(db, source_name))


def settle_child_runs(db: Database, source_name: str, since: datetime, reason: str, force: bool) -> int:
    """Mark the runs a child started after ``since`` failed with ``reason``; record one if it wrote none.

    ``force`` (the daemon killed the child) also fails, with the reason first, runs the child
    closed itself on SIGTERM: a timed-out crawl failed even if Scrapy managed to close the spider.
    Otherwise only rows still ``running`` are touched. Returns the
    number of rows settled.
    """
    now = datetime.now()
    with db.transaction() as session:
        rows = session.scalars(
            select(CrawlRunRow).where(
                CrawlRunRow.source_name == source_name,
                CrawlRunRow.kind == SCHEDULED_KIND,
                CrawlRunRow.started_at >= since,
            )
        ).all()
        if not rows:
            session.add(
                CrawlRunRow(
                    source_name=source_name,
                    kind=SCHEDULED_KIND,
                    status="failed",
                    started_at=since,
                    finished_at=now,
                    errors=1,
                    error_text=reason[:4000],
                )
            )
            return 1
        settled = 0
        for row in rows:
            if row.status == "running" or force:
                row.status = "failed"
                row.finished_at = row.finished_at or now
                row.errors = (row.errors or 0) + 1
                row.error_text = "\n".join(filter(None, [reason, row.error_text]))[:4000]
                settled += 1
        return settled


def abandon_stale_runs(db: Database, older_than: timedelta) -> int:
    """Fail ``running`` rows older than the crawl timeout: their process died with an earlier daemon."""
    cutoff = datetime.now() - older_than
    with db.transaction() as session:
        result = session.execute(
            update(CrawlRunRow)
            .where(CrawlRunRow.status == "running", CrawlRunRow.started_at < cutoff)
            .values(status="failed", finished_at=datetime.now(), error_text="abandoned: its crawl process is gone")
        )
        return int(getattr(result, "rowcount", 0) or 0)

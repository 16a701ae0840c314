"""`newsmon replay`: serve the seeds as a portal, crawl it with the real spider, send the alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loguru import logger
from sqlalchemy import select

from crawler.alerts.dispatch import DispatchStats, dispatch_pending
from crawler.config import Config, Source
from crawler.crawl import run_crawl
from crawler.crawljob import RunTally
from crawler.errors import NewsmonError
from crawler.replay.portal import COLUMN, build_portal
from crawler.replay.server import serve
from crawler.store.db import Database
from crawler.store.schema import AlertRow, ArticleRow, MentionRow, ProjectRow

# The portal is addressed under this stable name through the local server acting as a proxy, so
# article URLs are the same in every replay and a second replay finds them all known.
REPLAY_HOST = "http://seeds.newsmon-replay.test"
REPLAY_SOURCE = "seeds-replay"


@dataclass
class ReplayReport:
    pages_fetched: int
    articles: dict[str, int]
    projects: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    dispatch: DispatchStats = field(default_factory=DispatchStats)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "pages_fetched": self.pages_fetched,
            "articles": self.articles,
            "projects": self.projects,
            "alerts": self.alerts,
            "delivered": {
                "sent": self.dispatch.sent,
                "retrying": self.dispatch.retrying,
                "failed": self.dispatch.failed,
            },
            "errors": self.errors,
        }


def run_replay(config: Config, db: Database, seeds_dir: Path) -> ReplayReport:
    pages = build_portal(seeds_dir)
    articles = sum(1 for path in pages if path.startswith(f"{COLUMN}content_"))
    if not articles:
        raise NewsmonError(f"no seed articles (*.txt) in {seeds_dir}")
    logger.info("replay: {} seed articles from {} served as a local portal", articles, seeds_dir)
    with serve(pages) as base_url:
        source = Source(
            name=REPLAY_SOURCE,
            list_urls=(f"{REPLAY_HOST}{COLUMN}index.html",),
            region=None,
            max_pages=20,
            proxy=base_url,
        )
        [tally] = run_crawl(config, db, [source], kind="replay")
    stats = dispatch_pending(db, config.app.notifiers)
    return summarise(db, tally, config, stats)


def summarise(db: Database, tally: RunTally, config: Config, stats: DispatchStats) -> ReplayReport:
    threshold = min((r.min_investment_yi for r in config.app.alert_rules), default=None)
    report = ReplayReport(
        pages_fetched=tally.pages_fetched,
        articles={
            "fetched": tally.articles_new + tally.articles_duplicate + tally.articles_known,
            "new": tally.articles_new,
            "duplicate": tally.articles_duplicate,
        },
        dispatch=stats,
        errors=list(tally.errors),
    )
    with db.session() as session:
        mentions = session.execute(
            select(MentionRow, ProjectRow, ArticleRow)
            .join(ProjectRow, MentionRow.project_id == ProjectRow.id)
            .join(ArticleRow, MentionRow.article_id == ArticleRow.id)
            .where(ArticleRow.run_id == tally.run_id)
            .order_by(MentionRow.id)
        ).tuples()
        for mention, project, article in mentions:
            amount = mention.investment_yi
            report.projects.append(
                {
                    "name": mention.name,
                    "company": project.company,
                    "investment_yi": float(amount) if amount is not None else None,
                    "stage": mention.stage,
                    "large": amount is not None and threshold is not None and amount >= threshold,
                    "article_url": article.url,
                }
            )
        alerts = session.execute(
            select(ProjectRow, ArticleRow)
            .join(AlertRow, AlertRow.project_id == ProjectRow.id)
            .join(ArticleRow, AlertRow.article_id == ArticleRow.id)
            .where(ArticleRow.run_id == tally.run_id)
            .distinct()
            .order_by(ProjectRow.id)
        ).tuples()
        for project, article in alerts:
            report.alerts.append(
                {
                    "project": project.name,
                    "investment_yi": float(project.investment_yi) if project.investment_yi is not None else None,
                    "article_url": article.url,
                }
            )
    return report

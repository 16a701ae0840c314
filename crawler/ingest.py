"""Store one extracted article, its projects and their alerts in a single transaction.

This is the only place a crawl writes: if anything fails for an article, nothing of it is stored,
and the next crawl will fetch it again (its URL is not marked seen).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.config import AlertRule
from crawler.dedup import canonical_url, content_hash
from crawler.extract import decode_html, extract_article
from crawler.fetch import FetchedPage
from crawler.models import Article, Project
from crawler.projects import MentionContext, queue_alerts, record_mention
from crawler.rules import RuleSet, extract_projects
from crawler.store.db import Database
from crawler.store.schema import ArticleRow


@dataclass(frozen=True)
class IngestSettings:
    rules: RuleSet
    alert_rules: tuple[AlertRule, ...]
    channels: tuple[str, ...]
    match_threshold: float
    run_id: int | None = None


@dataclass(frozen=True)
class PageRecord:
    """An extracted page with where it came from."""

    url: str
    source_name: str
    region: str | None
    article: Article
    encoding: str | None
    fetched_at: datetime


@dataclass
class ProjectOutcome:
    project_id: int
    name: str
    company: str | None
    investment_yi: Decimal | None
    stage: str
    new: bool


@dataclass
class IngestOutcome:
    status: str  # new | duplicate | known
    article_id: int | None
    duplicate_of: int | None = None
    projects: list[ProjectOutcome] = field(default_factory=list)
    alerts_created: int = 0


def ingest_page(db: Database, page: PageRecord, settings: IngestSettings) -> IngestOutcome:
    with db.transaction() as session:
        return _ingest(session, page, settings)


def _ingest(session: Session, page: PageRecord, settings: IngestSettings) -> IngestOutcome:
    canonical = canonical_url(page.url)
    known = session.scalars(select(ArticleRow.id).where(ArticleRow.canonical_url == canonical)).first()
    if known is not None:
        return IngestOutcome("known", known)
    digest = content_hash(page.article.text)
    original = session.scalars(
        select(ArticleRow.id).where(ArticleRow.content_hash == digest, ArticleRow.duplicate_of.is_(None)).limit(1)
    ).first()
    row = _article_row(page, canonical, digest, original, settings.run_id)
    session.add(row)
    session.flush()
    if original is not None:
        # A reprint is kept and linked, never re-extracted: its projects are already known.
        return IngestOutcome("duplicate", row.id, duplicate_of=original)
    outcome = IngestOutcome("new", row.id)
    ctx = MentionContext(row.id, page.region, page.fetched_at)
    for mention in extract_projects(page.article.text, settings.rules):
        _record(session, mention, ctx, settings, outcome)
    return outcome


def _record(
    session: Session, mention: Project, ctx: MentionContext, settings: IngestSettings, outcome: IngestOutcome
) -> None:
    project, created = record_mention(session, mention, ctx, settings.match_threshold)
    outcome.projects.append(
        ProjectOutcome(project.id, mention.name, mention.company, mention.investment_yi, mention.stage.value, created)
    )
    outcome.alerts_created += queue_alerts(
        session, project, ctx.article_id, mention.evidence, settings.alert_rules, settings.channels, ctx.seen_at
    )


def _article_row(page: PageRecord, canonical: str, digest: str, original: int | None, run_id: int | None) -> ArticleRow:
    article = page.article
    return ArticleRow(
        url=page.url,
        canonical_url=canonical,
        source_name=page.source_name,
        region=page.region,
        title=article.title,
        published=article.published,
        published_or_seen=article.published or page.fetched_at.date(),
        outlet=article.source,
        text=article.text,
        content_hash=digest,
        encoding=page.encoding,
        duplicate_of=original,
        run_id=run_id,
        first_seen=page.fetched_at,
    )


def page_record(page: FetchedPage) -> PageRecord:
    """Decode and extract a fetched page (pure: no I/O)."""
    decoded = decode_html(page.body, page.content_type)
    article = extract_article(decoded.text, page.url)
    if decoded.warnings:
        article = replace(article, warnings=article.warnings + decoded.warnings)
    return PageRecord(page.url, page.source_name, page.region, article, decoded.encoding, page.fetched_at)

"""Store one extracted article, its projects and their alerts, all in one transaction.

This is the only place a crawl writes articles: if anything fails for an article, nothing of it is
stored, and the next crawl will fetch it again (its URL is not marked seen). ``ingest_page`` gives an
article its own transaction; a crawl stores several in one (``crawler.groupwrite``), with the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import cast

from loguru import logger
from sqlalchemy import Table, bindparam, insert, select, text
from sqlalchemy.orm import Session

from crawler.config import AlertRule, ProjectMatching
from crawler.dedup import canonical_url, content_hash
from crawler.dedup.minhash import Fingerprint, fingerprint
from crawler.dedup.neardup import NearDupSettings, find_near_duplicate, index_article
from crawler.extract import decode_html, extract_article
from crawler.models import Article, FetchedPage, Project
from crawler.projects import KnownProjects, MentionContext, PendingRows, queue_alerts, record_known
from crawler.rules import RuleSet, extract_projects
from crawler.store import driver
from crawler.store.db import Database
from crawler.store.schema import ArticleRow


@dataclass(frozen=True)
class IngestSettings:
    rules: RuleSet
    alert_rules: tuple[AlertRule, ...]
    channels: tuple[str, ...]
    matching: ProjectMatching  # config ``matching:``: project identity and near-duplicate thresholds
    run_id: int | None = None

    @property
    def near_dup(self) -> NearDupSettings:
        m = self.matching
        return NearDupSettings(m.near_duplicate, m.near_duplicate_min_chars, m.near_duplicate_candidates)


@dataclass(frozen=True)
class PageRecord:
    """An extracted page with where it came from, and what ingestion needs of its text that is pure
    CPU work (computed by ``page_record`` in the extraction worker; None: computed by ``ingest_page``)."""

    url: str
    source_name: str
    region: str | None
    article: Article
    encoding: str | None
    fetched_at: datetime
    digest: str | None = None  # content_hash(article.text)
    fingerprint: Fingerprint | None = None  # minhash fingerprint(article.text)
    mentions: tuple[Project, ...] | None = None  # extract_projects(article.text, rules)


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


# Ingestion decides identity (is this article, this project, known?) by reading then writing; two
# processes doing so at once could both decide "new" (two originals, two projects, two alerts). So each
# article's transaction first takes the database's write lock, making those decisions one at a time:
# a transaction-scoped advisory lock on PostgreSQL; on SQLite a write that changes nothing, which makes
# the driver BEGIN and SQLite grant the single writer's lock (BEGIN IMMEDIATE) before anything is read.
_INGEST_LOCK = 0x6E65_7773_6D6F_6E  # "newsmon"


def ingest_page(db: Database, page: PageRecord, settings: IngestSettings) -> IngestOutcome:
    """Store one article in its own transaction (a crawl stores them in groups: ``crawler.groupwrite``)."""
    with db.transaction() as session:
        lock_for_ingest(session)
        return ingest_in(session, page, settings)


def lock_for_ingest(session: Session) -> None:
    """Take the database's write lock for the rest of the session's transaction (see above)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INGEST_LOCK})
    elif dialect == "sqlite":
        session.execute(text("UPDATE neardup_bands SET band_key = band_key WHERE 1 = 0"))


# The article's own statements, on the table (Core): the ORM's unit of work cost more than they do. They
# run on the driver's cursor (``crawler.store.driver``): Connection.execute cost more than SQLite's work.
_ARTICLES = cast(Table, ArticleRow.__table__)
_BY_URL = select(_ARTICLES.c.id).where(_ARTICLES.c.canonical_url == bindparam("url"))
_BY_HASH = (
    select(_ARTICLES.c.id)
    .where(_ARTICLES.c.content_hash == bindparam("digest"), _ARTICLES.c.duplicate_of.is_(None))
    .limit(1)
)
_INSERT_ARTICLE = insert(_ARTICLES).returning(_ARTICLES.c.id)


def ingest_in(session: Session, page: PageRecord, settings: IngestSettings) -> IngestOutcome:
    """Store one article in the session's transaction, which holds the write lock (``lock_for_ingest``)."""
    connection = session.connection()
    canonical = canonical_url(page.url)
    known = driver.scalar(connection, _BY_URL, {"url": canonical})
    if known is not None:
        return IngestOutcome("known", known)
    digest = page.digest or content_hash(page.article.text)
    original = driver.scalar(connection, _BY_HASH, {"digest": digest})
    fp: Fingerprint | None = None
    if original is None:
        fp = page.fingerprint or fingerprint(page.article.text)
        near = find_near_duplicate(session, fp, page.article.text, settings.near_dup, page.url)
        original = near.original_id if near is not None else None
    else:
        logger.info("duplicate: {} has the same text as #{}", page.url, original)
    values = _article_values(page, canonical, digest, original, settings.run_id)
    article_id: int = driver.scalar(connection, _INSERT_ARTICLE, values)
    if fp is not None:
        index_article(session, article_id, fp, page.article.text)  # exact copies are not: their original is
    if original is not None:
        # A reprint is kept and linked, never re-extracted: its projects are already known.
        return IngestOutcome("duplicate", article_id, duplicate_of=original)
    outcome = IngestOutcome("new", article_id)
    ctx = MentionContext(article_id, page.region, page.fetched_at)
    mentions = page.mentions if page.mentions is not None else extract_projects(page.article.text, settings.rules)
    if mentions:
        # What ingestion read and wrote of projects, held from one mention (and article) to the next.
        known, pending = KnownProjects.of(session), PendingRows()
        for mention in mentions:
            _record(session, known, mention, ctx, settings, outcome, pending)
        pending.write(session, known)
    return outcome


def _record(
    session: Session,
    known: KnownProjects,
    mention: Project,
    ctx: MentionContext,
    settings: IngestSettings,
    outcome: IngestOutcome,
    pending: PendingRows,
) -> None:
    project, created = record_known(known, mention, ctx, settings.matching, pending)
    outcome.projects.append(
        ProjectOutcome(project.id, mention.name, mention.company, mention.investment_yi, mention.stage.value, created)
    )
    rules, channels = settings.alert_rules, settings.channels
    outcome.alerts_created += queue_alerts(
        session, project, ctx.article_id, mention.evidence, rules, channels, ctx.seen_at, pending, new=created
    )


def _article_values(
    page: PageRecord, canonical: str, digest: str, original: int | None, run_id: int | None
) -> dict[str, object]:
    article = page.article
    return {
        "url": page.url,
        "canonical_url": canonical,
        "source_name": page.source_name,
        "region": page.region,
        "title": article.title,
        "published": article.published,
        "published_or_seen": article.published or page.fetched_at.date(),
        "outlet": article.source,
        "text": article.text,
        "content_hash": digest,
        "encoding": page.encoding,
        "duplicate_of": original,
        "run_id": run_id,
        "first_seen": page.fetched_at,
    }


def page_record(page: FetchedPage, rules: RuleSet | None = None) -> PageRecord:
    """Decode and extract a fetched page (pure: no I/O), with its content hash, near-duplicate
    fingerprint and, given the rules, its project mentions, so ingestion is left with database work."""
    decoded = decode_html(page.body, page.content_type)
    article = extract_article(decoded.text, page.url)
    if decoded.warnings:
        article = replace(article, warnings=article.warnings + decoded.warnings)
    mentions = tuple(extract_projects(article.text, rules)) if rules is not None else None
    return PageRecord(
        page.url,
        page.source_name,
        page.region,
        article,
        decoded.encoding,
        page.fetched_at,
        digest=content_hash(article.text),
        fingerprint=fingerprint(article.text),
        mentions=mentions,
    )

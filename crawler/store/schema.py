"""Tables. Changing a table means adding an alembic migration under ``migrations/versions``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Explicit constraint names keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class SourceRow(Base):
    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    region: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class CrawlRunRow(Base):
    __tablename__ = "crawl_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # crawl | replay
    status: Mapped[str] = mapped_column(String(20))  # running | ok | failed
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    projects_new: Mapped[int] = mapped_column(Integer, default=0)
    alerts_created: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_text: Mapped[str | None] = mapped_column(Text)


class ArticleRow(Base):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(2000), unique=True)
    source_name: Mapped[str] = mapped_column(String(200), index=True)
    region: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    published: Mapped[date | None] = mapped_column(Date)  # what the page carries
    published_or_seen: Mapped[date] = mapped_column(Date)  # the page's date, else the crawl's
    outlet: Mapped[str | None] = mapped_column(String(200))  # the 来源 the article credits
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    encoding: Mapped[str | None] = mapped_column(String(40))
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    first_seen: Mapped[datetime] = mapped_column(DateTime)


class ProjectRow(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(String(400), index=True)  # normalised name for matching
    company: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(200))
    investment_yi: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    currency: Mapped[str] = mapped_column(String(8), default="CNY")
    amount_text: Mapped[str | None] = mapped_column(Text)
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    stage: Mapped[str] = mapped_column(String(20))
    industry: Mapped[str | None] = mapped_column(String(100))
    first_article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    first_seen: Mapped[datetime] = mapped_column(DateTime)
    last_seen: Mapped[datetime] = mapped_column(DateTime)


class MentionRow(Base):
    __tablename__ = "project_mentions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    investment_yi: Mapped[Decimal | None] = mapped_column(Numeric(16, 4))
    amount_text: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(20))
    phase: Mapped[str | None] = mapped_column(String(20))
    evidence: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AlertRow(Base):
    """The outbox: written in the same transaction as what it reports, sent later by the dispatcher.

    ``kind`` says what: "project" (a new large project: project_id, article_id; written with the
    project) or "source_health" (a source turned unhealthy or recovered: source_name, and the
    message frozen as JSON in ``payload``; written by ``crawler.alerts.health`` after a crawl).
    """

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("project_id", "rule", "channel", name="uq_alerts_project_rule_channel"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="project", server_default="project")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    source_name: Mapped[str | None] = mapped_column(String(200), index=True)
    payload: Mapped[str | None] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(100))  # the alert rule; for source health the event
    channel: Mapped[str] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class AlertAttemptRow(Base):
    """One try at delivering an alert: started before the send, finished after it (unfinished = interrupted)."""

    __tablename__ = "alert_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


class DigestRow(Base):
    """A daily digest sent (or being sent) to one channel: at most one per (channel, day)."""

    __tablename__ = "alert_digests"
    __table_args__ = (UniqueConstraint("channel", "day", name="uq_alert_digests_channel_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(100))
    day: Mapped[date] = mapped_column(Date)
    projects: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(DateTime)


class NearDupBandRow(Base):
    """The near-duplicate index: each article's MinHash LSH band keys (``crawler.dedup.neardup``).

    Articles sharing a key are candidates, verified on their texts; the primary key serves the lookup.
    """

    __tablename__ = "neardup_bands"
    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False, index=True
    )


class ProjectKeyRow(Base):
    """Project candidate lookup keys (``crawler.projects.identity``): "n" + each trigram of the name
    key, "c" + each bigram of the lowercased company; the primary key serves the lookup by key."""

    __tablename__ = "project_keys"
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True, autoincrement=False, index=True
    )


class ListPageRow(Base):
    """One column list URL: its HTTP validators for conditional GET, and its health streaks."""

    __tablename__ = "list_pages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    source_name: Mapped[str] = mapped_column(String(200), index=True)
    etag: Mapped[str | None] = mapped_column(String(400))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_status: Mapped[str | None] = mapped_column(String(20))  # ok | not_modified | empty | error
    links_last: Mapped[int] = mapped_column(Integer, default=0)  # article links found the last time it parsed
    empty_streak: Mapped[int] = mapped_column(Integer, default=0)  # runs in a row with no article link
    error_streak: Mapped[int] = mapped_column(Integer, default=0)  # runs in a row it could not be fetched
    last_error: Mapped[str | None] = mapped_column(Text)
    # The article links of the latest run that found any, kept by crawler.health: "it used to find K".
    links_seen: Mapped[int | None] = mapped_column(Integer)


class HealthStateRow(Base):
    """Each source's health as last alerted (``crawler.alerts.health``): an alert goes out only when it changes."""

    __tablename__ = "health_states"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_name: Mapped[str] = mapped_column(String(200), unique=True)
    healthy: Mapped[bool] = mapped_column(Boolean)
    problem: Mapped[str | None] = mapped_column(Text)  # what was wrong, while unhealthy
    since: Mapped[datetime] = mapped_column(DateTime)  # when it entered this state
    checked_at: Mapped[datetime] = mapped_column(DateTime)


# The ORM events that keep project_keys in step with projects, for ORM writers (ingestion, in Core,
# writes the keys itself).
from crawler.store import projectkeys as _projectkeys  # noqa: E402, F401

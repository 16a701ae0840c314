"""Group commits (crawler.groupwrite) on SQLite and PostgreSQL: an article counts as stored only once its
group is committed, a bad article costs only itself, a failed commit is counted so nothing is lost."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import crawler.groupwrite as groupwrite
from crawler.config import AlertRule, load_config
from crawler.groupwrite import GroupWriter
from crawler.ingest import IngestOutcome, IngestSettings, PageRecord
from crawler.models import Article
from crawler.store import open_database
from crawler.store.db import Database
from crawler.store.schema import AlertRow, ArticleRow
from tests.conftest import REPO

SIGNED = "2月27日，抚顺高新区管委会与江苏三木集团举行65万吨苯酚丙酮一体化产业链项目签约仪式，项目总投资86.8亿元。"


@pytest.fixture
def db(database_url: str) -> Database:
    return open_database(database_url)


@pytest.fixture
def settings() -> IngestSettings:
    config = load_config(REPO / "config")
    return IngestSettings(config.rules, (AlertRule(),), ("mail",), config.app.matching)


def page(n: int, text: str | None = None) -> PageRecord:
    body = text or f"第{n}篇：抚顺市第{n}次招商推介会在沈阳举行，共有{n + 10}家企业参加，会上交流了营商环境建设经验。"
    article = Article(f"http://fs.gov.cn/{n}.html", f"第{n}篇", date(2023, 4, 4), body)
    return PageRecord(article.url or "", "fushun", "辽宁省 抚顺市", article, "utf-8", datetime(2023, 4, 4, 12))


def stored(db: Database) -> int:
    """Articles another connection sees: the committed ones."""
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(ArticleRow)) or 0)


def test_articles_are_stored_when_their_group_commits(db: Database, settings: IngestSettings) -> None:
    writer = GroupWriter(db, size=3, max_age_s=3600)
    for n in range(5):
        assert writer.ingest(page(n), settings).status == "new"
    assert stored(db) == 3  # the first group of three; two wait in the open one
    writer.commit()
    assert stored(db) == 5 and not writer.lost


def test_an_old_group_is_committed_by_the_timer_only(db: Database, settings: IngestSettings) -> None:
    writer = GroupWriter(db, size=50, max_age_s=0.0)
    writer.max_age_s = 3600
    writer.ingest(page(1), settings)
    writer.commit_if_old()
    assert stored(db) == 0  # younger than max_age_s
    writer.max_age_s = 0.0
    writer.commit_if_old()
    assert stored(db) == 1


@pytest.mark.parametrize(
    "error", [OperationalError("INSERT", {}, Exception("disk I/O error")), ValueError("a bug, after some statements")]
)
def test_a_bad_article_costs_only_itself(
    db: Database, settings: IngestSettings, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    real = groupwrite.ingest_in

    def failing(session: Session, record: PageRecord, s: IngestSettings) -> IngestOutcome:
        if record.url.endswith("/2.html"):
            real(session, record, s)  # its rows are written, then the failure rolls them back
            raise error
        return real(session, record, s)

    monkeypatch.setattr(groupwrite, "ingest_in", failing)
    writer = GroupWriter(db, size=10, max_age_s=3600)
    writer.ingest(page(0, SIGNED), settings)
    writer.ingest(page(1), settings)
    with pytest.raises(type(error)):
        writer.ingest(page(2), settings)
    writer.ingest(page(3), settings)
    writer.commit()
    with db.session() as session:
        urls = set(session.scalars(select(ArticleRow.url)))
        alerts = session.scalar(select(func.count()).select_from(AlertRow))
    assert urls == {f"http://fs.gov.cn/{n}.html" for n in (0, 1, 3)}
    assert alerts == 1 and not writer.lost  # the project of article 0, stored again, alerted once


def test_a_failed_commit_is_counted_per_source(
    db: Database, settings: IngestSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = GroupWriter(db, size=10, max_age_s=3600)
    writer.ingest(page(1), settings)
    writer.ingest(page(2), settings)

    def refuse(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(Session, "commit", refuse)
    writer.commit()
    monkeypatch.undo()
    assert writer.lost == {"fushun": 2} and stored(db) == 0
    writer.ingest(page(3), settings)  # the writer goes on with a new group
    writer.commit()
    assert stored(db) == 1

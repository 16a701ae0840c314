"""Storage and ingestion without Scrapy: one transaction per article, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler.alerts.dispatch import RetryPolicy, dispatch_pending
from crawler.alerts.message import AlertMessage
from crawler.alerts.notifiers import Notifier
from crawler.config import AlertRule, load_config
from crawler.ingest import IngestSettings, PageRecord, ingest_page
from crawler.models import Article
from crawler.store import open_database
from crawler.store.db import MIGRATIONS, SCHEMA_HEAD, Database
from crawler.store.schema import AlertRow, ArticleRow, MentionRow, ProjectRow

SIGNED = (
    "2月27日，抚顺高新区管委会与江苏三木集团举行65万吨苯酚丙酮一体化产业链项目签约仪式。"
    "此次落地的65万吨苯酚丙酮一体化产业链项目总投资86.8亿元，总占地1607亩。\n"
    "今年以来，全市共有12个项目实现签约，总签约额138.8亿元。"
)
OPERATING = "江苏三木集团65万吨苯酚丙酮一体化产业链项目日前正式投产，该项目总投资86.8亿元。"


class Recorder(Notifier):
    """A channel that records what it was asked to send, failing the first ``failures`` times."""

    def __init__(self, name: str, failures: int = 0) -> None:
        super().__init__(name)
        self.failures = failures
        self.sent: list[AlertMessage] = []

    def send(self, message: AlertMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("channel down")
        self.sent.append(message)


@pytest.fixture
def db(database_url: str) -> Database:
    return open_database(database_url)


@pytest.fixture
def settings(config_dir: Path) -> IngestSettings:
    config = load_config(config_dir)
    return IngestSettings(config.rules, (AlertRule(),), ("mail", "hook"), config.app.matching)


def page(url: str, text: str, when: datetime = datetime(2023, 4, 4, 12)) -> PageRecord:
    article = Article(url, "抚顺市抓招商上项目", date(2023, 4, 4), text)
    return PageRecord(url, "fushun", "辽宁省 抚顺市", article, "utf-8", when)


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_migrations_apply_once_and_again(database_url: str) -> None:
    open_database(database_url).close()
    db = open_database(database_url)  # a second start finds the schema current
    assert count(db, ArticleRow) == 0


def test_the_schema_head_the_opener_trusts_is_alembics_head() -> None:
    """A new migration must move SCHEMA_HEAD too, or every start would import alembic for nothing."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == SCHEMA_HEAD


def test_a_current_database_opens_without_alembic(database_url: str) -> None:
    """Every crawl's ingest child and every re-crawl open a current database: alembic stays unloaded."""
    open_database(database_url).close()
    probe = "import sys; from crawler.store import open_database; open_database(sys.argv[1]); print(*sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe, database_url], capture_output=True, text=True, check=True)
    assert "alembic" not in loaded.stdout.split()
    assert "crawler.store.db" in loaded.stdout.split()


def test_new_large_project_queues_one_alert_per_channel(db: Database, settings: IngestSettings) -> None:
    outcome = ingest_page(db, page("http://fs.gov.cn/a.html", SIGNED), settings)
    assert outcome.status == "new"
    with db.session() as s:
        project = s.scalars(select(ProjectRow).where(ProjectRow.investment_yi == Decimal("86.8"))).one()
        assert "苯酚丙酮" in project.name and project.stage == "signed"
        alerts = s.scalars(select(AlertRow).where(AlertRow.project_id == project.id)).all()
    assert sorted(a.channel for a in alerts) == ["hook", "mail"]
    assert all(a.status == "pending" for a in alerts)
    assert all(float(p.investment_yi or 0) < 100 for p in [project])  # the 138.8 total is not a project


def test_known_url_and_reprint_add_nothing(db: Database, settings: IngestSettings) -> None:
    ingest_page(db, page("http://fs.gov.cn/a.html", SIGNED), settings)
    again = ingest_page(db, page("http://FS.gov.cn:80/a.html#top", SIGNED), settings)
    assert again.status == "known"
    reprint = ingest_page(db, page("http://other.cn/b.html", SIGNED.replace("，", ",")), settings)
    assert reprint.status == "duplicate" and reprint.duplicate_of == again.article_id
    assert (count(db, ArticleRow), count(db, AlertRow)) == (2, 2)


def test_later_report_advances_stage_without_new_alert(db: Database, settings: IngestSettings) -> None:
    ingest_page(db, page("http://fs.gov.cn/a.html", SIGNED), settings)
    later = ingest_page(db, page("http://fs.gov.cn/b.html", OPERATING, datetime(2024, 5, 1)), settings)
    assert later.status == "new" and later.alerts_created == 0
    with db.session() as s:
        [project] = s.scalars(select(ProjectRow).where(ProjectRow.investment_yi >= 10)).all()
        assert project.stage == "operating"
        assert s.scalar(select(func.count()).where(MentionRow.project_id == project.id)) == 2
    assert count(db, AlertRow) == 2


def test_failure_inside_an_article_stores_nothing_of_it(
    db: Database, settings: IngestSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str, rules: object) -> list[object]:
        raise RuntimeError("rules crashed")

    monkeypatch.setattr("crawler.ingest.extract_projects", broken)
    with pytest.raises(RuntimeError):
        ingest_page(db, page("http://fs.gov.cn/a.html", SIGNED), settings)
    assert count(db, ArticleRow) == 0  # not marked seen: the next crawl fetches it again


def test_dispatcher_retries_a_failing_channel_without_blocking_others(db: Database, settings: IngestSettings) -> None:
    ingest_page(db, page("http://fs.gov.cn/a.html", SIGNED), settings)
    mail, hook = Recorder("mail"), Recorder("hook", failures=1)
    start = datetime(2023, 4, 4, 13)
    first = dispatch_pending(db, [mail, hook], now=start, policy=RetryPolicy(base_delay_s=60))
    assert (first.sent, first.retrying) == (1, 1)
    assert len(mail.sent) == 1 and hook.sent == []
    too_soon = dispatch_pending(db, [mail, hook], now=start, policy=RetryPolicy(base_delay_s=60))
    assert too_soon.sent == 0  # backing off
    later = dispatch_pending(db, [mail, hook], now=datetime(2023, 4, 4, 14), policy=RetryPolicy(base_delay_s=60))
    assert later.sent == 1 and len(hook.sent) == 1 and len(mail.sent) == 1
    message = hook.sent[0]
    assert message.investment_yi == Decimal("86.8") and message.article_url == "http://fs.gov.cn/a.html"
    assert "86.8" in message.evidence
    with db.session() as s:
        attempts = {a.channel: (a.status, a.attempts) for a in s.scalars(select(AlertRow))}
    assert attempts == {"mail": ("sent", 1), "hook": ("sent", 2)}


def test_project_keys_stay_in_step_with_the_projects_ingestion_writes(db: Database, settings: IngestSettings) -> None:
    """Ingestion writes projects with Core statements (no ORM events): it keeps their lookup keys itself,
    including the company's when a later report names the company of a project first seen without one."""
    from crawler.store.projectkeys import project_keys
    from crawler.store.schema import ProjectKeyRow

    nameless = "抚顺高新区65万吨苯酚丙酮一体化产业链项目总投资86.8亿元，总占地1607亩。"
    ingest_page(db, page("http://fs.gov.cn/a.html", nameless), settings)
    ingest_page(db, page("http://fs.gov.cn/b.html", OPERATING, datetime(2024, 5, 1)), settings)
    with db.session() as s:
        projects = s.scalars(select(ProjectRow)).all()
        assert any(p.company and "三木" in p.company for p in projects)
        for project in projects:
            stored = set(s.scalars(select(ProjectKeyRow.key).where(ProjectKeyRow.project_id == project.id)))
            assert stored == project_keys(project.name_key, project.company), project.name


def test_a_project_named_twice_in_one_article_is_alerted_once_per_channel(
    db: Database, settings: IngestSettings
) -> None:
    twice = SIGNED + "\n三木集团苯酚丙酮一体化产业链项目计划明年投产，总投资86.8亿元。"
    outcome = ingest_page(db, page("http://fs.gov.cn/a.html", twice), settings)
    large = [p for p in outcome.projects if (p.investment_yi or 0) >= 10]
    assert len(large) >= 2 and len({p.project_id for p in large}) == 1  # two mentions, one project
    assert outcome.alerts_created == 2 and count(db, AlertRow) == 2


def test_a_list_pages_stored_links_are_found_in_one_query_whatever_their_spelling(
    db: Database, settings: IngestSettings
) -> None:
    from crawler.fetch import SeenUrls

    ingest_page(db, page("http://fs.gov.cn/a.html", SIGNED), settings)
    others = [f"http://fs.gov.cn/{i}.html" for i in range(700)]  # more than one query's worth of parameters
    links = [*others, "http://fs.gov.cn/b.html", "http://FS.gov.cn:80/a.html#top"]  # the known one in query 2
    assert SeenUrls(db).seen_among(links) == {"http://FS.gov.cn:80/a.html#top"}

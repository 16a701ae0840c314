"""The ingest path's statements on the driver's cursor (crawler.store.driver) write exactly what they write
through SQLAlchemy's Connection.execute, on SQLite and PostgreSQL.

The same records (a small bench mirror's article pages, with reprints, and hand-made reports of one
project's signing, start and operation, an exact copy and a known URL) are stored through
``GroupWriter`` into two fresh databases, one with the execution option ``SQLALCHEMY_ONLY`` (the plain
path), one without; every row of every table ingestion writes must then be equal value by value and
type by type, both as the driver reads it back (what is stored: SQLite's text and float) and as
SQLAlchemy's types read it back (datetime, Decimal, bool). The statements and parameters the driver
sends are also compared with those SQLAlchemy sends.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, event, insert, select, text
from sqlalchemy.exc import IntegrityError

from bench import mirror
from crawler.config import AlertRule, load_config
from crawler.groupwrite import GroupWriter
from crawler.ingest import _INSERT_ARTICLE, IngestOutcome, IngestSettings, PageRecord, page_record
from crawler.models import Article, FetchedPage
from crawler.store import driver, open_database
from crawler.store.db import Database
from crawler.store.schema import Base, CrawlRunRow
from tests.conftest import REPO
from tests.test_dedup_ingest import OPERATING, SIGNED, STARTED, seed_000_variants

TABLES = ("articles", "neardup_bands", "projects", "project_keys", "project_mentions", "alerts")
# What a later report adds to a project first reported without company, region or amount.
VAGUE = "本报讯 4月2日，鄂尔多斯市举行年产5万吨石墨负极材料项目推介会。"
PRECISE = (
    "本报讯 6月9日，鄂尔多斯市与宏远新材料有限公司签约年产5万吨石墨负极材料项目，项目总投资约12.3456亿元，"
    "将于年内开工建设。"
)


@pytest.fixture(scope="module")
def settings() -> IngestSettings:
    config = load_config(REPO / "config")
    return IngestSettings(
        config.rules, (AlertRule(), AlertRule("small", Decimal(1))), ("mail", "hook"), config.app.matching
    )


def hand_made(when: datetime) -> list[PageRecord]:
    """Reports that take every branch of ingestion: updates of a project, reprints, an exact copy, a known URL."""

    def record(url: str, text: str, day: int, published: date | None = date(2021, 3, 1)) -> PageRecord:
        article = Article(url, f"标题{day}", published, text, source=None if day % 2 else "本报")
        encoding = None if day % 3 == 0 else "utf-8"
        return PageRecord(url, url.split("/")[2], "内蒙古自治区 包头市", article, encoding, when.replace(day=day))

    reprints = [
        record(f"http://site{i}.test/a.html", "\n".join(body), 5 + i)
        for i, (_title, body) in enumerate(seed_000_variants().values())
    ]
    copy = replace(reprints[0], url="http://copy.test/a.html", source_name="copy.test")
    later = [
        record("http://a.test/1.html", SIGNED, 1),
        record("http://b.test/2.html", STARTED, 10, published=None),
        record("http://c.test/3.html", OPERATING, 20),
        record("http://d.test/4.html", SIGNED + "（回顾）", 25),
        record("http://e.test/5.html", VAGUE, 2, published=None),
        record("http://e.test/6.html", PRECISE, 12),
    ]
    return [*reprints, copy, *later, later[0]]  # the last: a known URL


def mirror_records(folder: Path, portals: int, articles: int, settings: IngestSettings) -> list[PageRecord]:
    """The hand-made records, then a bench mirror's pages extracted."""
    mirror.generate(folder, portals=portals, articles=articles)
    when = datetime(2024, 3, 1, 8, 30, 15, 123456)
    pages = [
        page_record(FetchedPage(url, body, content_type, url.split("/")[2], "包头市", when), settings.rules)
        for url, body, content_type in sorted(mirror.article_pages(folder))
    ]
    # With and without microseconds: SQLAlchemy's text for a datetime differs from the driver's own then.
    return [*hand_made(datetime(2021, 3, 1, 9, 15, 30)), *pages]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory, settings: IngestSettings) -> list[PageRecord]:
    return mirror_records(tmp_path_factory.mktemp("mirror"), 3, 40, settings)


def ingest_all(db: Database, records: list[PageRecord], settings: IngestSettings) -> list[IngestOutcome]:
    with db.transaction() as session:
        run = CrawlRunRow(source_name="all", kind="crawl", status="running", started_at=datetime(2024, 3, 1))
        session.add(run)
        session.flush()
        settings = replace(settings, run_id=run.id)
    writer = GroupWriter(db, size=7, max_age_s=3600)
    outcomes = [writer.ingest(record, settings) for record in records]
    writer.commit()
    return outcomes


def contents(db: Database) -> dict[str, tuple[list[Any], list[Any]]]:
    """Every table's rows in primary key order, as (type name, value) pairs: as the driver reads them, and
    as SQLAlchemy's types read them."""

    def typed(row: Any) -> list[tuple[str, Any]]:
        return [(type(value).__name__, value) for value in row]

    out = {}
    with db.engine.connect() as conn:
        for name in TABLES:
            table = Base.metadata.tables[name]
            keys = ", ".join(column.name for column in table.primary_key.columns)
            raw = conn.exec_driver_sql(f"SELECT * FROM {name} ORDER BY {keys}").all()
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[name] = ([typed(row) for row in raw], [typed(row) for row in rows])
    return out


def plain(db: Database) -> Database:
    db.engine.update_execution_options(**{driver.SQLALCHEMY_ONLY: True})
    return db


def test_the_driver_writes_what_sqlalchemy_writes(
    two_urls: tuple[str, str], records: list[PageRecord], settings: IngestSettings
) -> None:
    old_db, new_db = plain(open_database(two_urls[0])), open_database(two_urls[1])
    sent_through_sqlalchemy: list[str] = []
    event.listen(new_db.engine, "before_cursor_execute", lambda *args: sent_through_sqlalchemy.append(args[2]))
    old = ingest_all(old_db, records, settings)
    new = ingest_all(new_db, records, settings)
    assert [(o.status, o.article_id, o.duplicate_of, o.alerts_created) for o in old] == [
        (o.status, o.article_id, o.duplicate_of, o.alerts_created) for o in new
    ]
    statuses = {o.status for o in new}
    assert statuses == {"new", "duplicate", "known"}
    # The new path really ran on the driver: none of its statements went through SQLAlchemy.
    converted = (
        "INSERT INTO articles",
        "INSERT INTO projects",
        "INSERT INTO project",
        "INSERT INTO neardup",
        "INSERT INTO alerts",
    )
    converted += ("UPDATE projects", "FROM articles", "FROM alerts")
    assert not [sql for sql in sent_through_sqlalchemy if any(part in sql for part in converted)]
    before, after = contents(old_db), contents(new_db)
    for name in TABLES:
        assert before[name][0], f"nothing written to {name}: the comparison would prove nothing"
        assert before[name][0] == after[name][0], f"{name}: stored values differ"
        assert before[name][1] == after[name][1], f"{name}: values as SQLAlchemy reads them differ"
    old_db.close()
    new_db.close()


def test_what_ingestion_covers(two_urls: tuple[str, str], records: list[PageRecord], settings: IngestSettings) -> None:
    """The records exercise what the comparison must cover: project updates (a company, an amount, a
    stage), approximate amounts with decimals, alerts queued for a known project, empty dates."""
    db = open_database(two_urls[1])
    ingest_all(db, records, settings)
    with db.engine.connect() as conn:
        projects = conn.execute(
            text("SELECT first_seen, last_seen, stage, investment_yi, approximate FROM projects")
        ).all()
        graphite = conn.execute(text("SELECT company, investment_yi FROM projects WHERE name LIKE '%石墨负极%'")).all()
        undated = conn.execute(text("SELECT count(*) FROM articles WHERE published IS NULL")).scalar()
    assert any(first != last for first, last, *_ in projects)
    assert {stage for _, _, stage, *_ in projects} >= {"signed", "operating"}
    assert any(approx for *_, approx in projects) and undated
    assert [(c, Decimal(str(a))) for c, a in graphite] == [("宏远新材料有限公司", Decimal("12.3456"))]
    db.close()


def recorded(engine: Engine) -> list[tuple[str, Any]]:
    """The (SQL, parameters) SQLAlchemy sends to the engine's driver from now on."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, many: bool) -> None:
        sent.append((sql, [as_sent(p) for p in params] if many else as_sent(params)))

    event.listen(engine, "before_cursor_execute", record)
    return sent


def as_sent(params: Any) -> Any:
    """Each value with its type: True and 1, 1 and 1.0 are equal in Python, not to a driver."""
    if isinstance(params, dict):
        return {name: (type(value).__name__, value) for name, value in params.items()}
    return tuple((type(value).__name__, value) for value in params)


def test_the_driver_sends_what_sqlalchemy_sends(
    two_urls: tuple[str, str], records: list[PageRecord], settings: IngestSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Statement by statement: the same SQL and the same bound values, in the same order.

    On PostgreSQL, another process writing anywhere in the cluster meanwhile (a second test suite)
    makes ingestion read again what it held (crawler.projects.known): then the two runs differ."""
    old_db, new_db = plain(open_database(two_urls[0])), open_database(two_urls[1])
    old_sent, new_sent = recorded(old_db.engine), recorded(new_db.engine)
    on_driver: list[tuple[str, Any]] = []
    real_run = driver._run

    def run(connection: Any, plan: Any, values: Any, many: bool) -> Any:
        on_driver.append((plan.sql, [as_sent(v) for v in values] if many else as_sent(values)))
        return real_run(connection, plan, values, many)

    monkeypatch.setattr(driver, "_run", run)
    ingest_all(old_db, records[:40], settings)
    ingest_all(new_db, records[:40], settings)
    converted = {sql for sql, _ in on_driver}
    assert len(converted) >= 9  # the article's three, bands, project insert, update, keys, mentions, alerts
    assert [sent for sent in old_sent if sent[0] in converted] == on_driver
    assert len(old_sent) == len(on_driver) + len(new_sent)  # nothing else differs
    old_db.close()
    new_db.close()


def test_a_driver_error_is_raised_as_sqlalchemys(two_urls: tuple[str, str]) -> None:
    """As Connection.execute raises it: ``crawler.groupwrite`` catches SQLAlchemy's errors."""
    db = open_database(two_urls[1])
    row = {
        "url": "http://a.test/1.html",
        "canonical_url": "http://a.test/1.html",
        "source_name": "a",
        "published_or_seen": date(2024, 1, 1),
        "text": "t",
        "content_hash": "h",
        "first_seen": datetime(2024, 1, 1),
    }
    ids = Base.metadata.tables["articles"].c.id
    with db.session() as session:
        connection = session.connection()
        assert driver.on_driver(connection)
        assert driver.scalar(connection, _INSERT_ARTICLE, row) == 1
        seen = select(ids.table.c.first_seen).where(ids == bindparam("id"))
        assert driver.all_rows(connection, seen, {"id": 1}) == [(datetime(2024, 1, 1),)]  # SQLite: read from text
        with pytest.raises(IntegrityError):
            driver.scalar(connection, _INSERT_ARTICLE, row)  # the same canonical URL
    with db.session() as session:
        # Nothing was committed; a statement this module cannot run on the driver says so.
        assert driver.scalar(session.connection(), select(text("count(*)")).select_from(text("articles")), {}) == 0
        with pytest.raises(NotImplementedError):  # an expanding IN: rendered anew for each list
            driver.all_rows(
                session.connection(), select(ids).where(ids.in_(bindparam("ids", expanding=True))), {"ids": [1]}
            )
    db.close()


def test_column_defaults_are_filled_in_as_sqlalchemy_does(two_urls: tuple[str, str]) -> None:
    """Rows leaving out columns with a ``default=`` (alerts: kind, attempts) get it, one row or many."""
    alerts = Base.metadata.tables["alerts"]
    when = datetime(2024, 5, 1, 8)

    def row(n: int) -> dict[str, Any]:
        key = f"k{n}"
        return {"rule": "r", "channel": "c", "idempotency_key": key, "status": "pending", "created_at": when}

    stored = []
    for db in (plain(open_database(two_urls[0])), open_database(two_urls[1])):
        with db.transaction() as session:
            driver.executemany(session.connection(), insert(alerts), [row(1)])
            driver.executemany(session.connection(), insert(alerts), [row(2), row(3)])
            driver.execute(session.connection(), insert(alerts), row(4))
        stored.append(contents(db)["alerts"])
        db.close()
    assert stored[0] == stored[1]
    assert [(r[1], r[10]) for r in stored[1][1]] == [(("str", "project"), ("int", 0))] * 4

"""The candidate read (crawler.projects.candidates) on SQLite and PostgreSQL: the hand-written query the
driver runs finds exactly the projects the plain SQLAlchemy definition does, when common trigrams
and company pairs bring more projects than the candidate limit."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from crawler.projects.candidates import _LIKELY, _LIKELY_FIRM, CANDIDATE_LIMIT, _indexed
from crawler.projects.identity import company_key, name_key
from crawler.store import open_database
from crawler.store.db import Database
from crawler.store.schema import ArticleRow, ProjectRow

MATERIALS = ["稀土永磁材料", "光伏组件", "新能源电池", "绿色建材", "生物医药", "智能制造", "冷链物流"]
FIRMS = ["宏远新材料有限公司", "宏远科技集团", "恒通能源股份有限公司", "金泰化工有限公司", None]


@pytest.fixture
def db(database_url: str) -> Database:
    database = open_database(database_url)
    rng = random.Random(7)
    when = datetime(2024, 5, 1, 9)
    with database.transaction() as session:
        article = ArticleRow(
            url="http://a.test/1.html",
            canonical_url="http://a.test/1.html",
            source_name="a",
            published_or_seen=date(2024, 5, 1),
            text="t",
            content_hash="h",
            first_seen=when,
        )
        session.add(article)
        session.flush()
        for n in range(1300):  # "年产1…" alone is shared by ~700 of them: more than CANDIDATE_LIMIT
            name = f"年产{rng.randint(1, 300)}万吨{rng.choice(MATERIALS)}项目"
            company = rng.choice(FIRMS)
            session.add(
                ProjectRow(
                    name=name,
                    name_key=name_key(name, company),
                    company=company,
                    stage="signed",
                    first_article_id=article.id,
                    first_seen=when,
                    last_seen=when,
                )
            )
            if n % 200 == 0:
                session.flush()
    return database


def _grams(key: str) -> list[str]:
    picked = {key[i : i + 3] for i in (0, max(0, len(key) // 2 - 1), max(0, len(key) - 3))}
    return [f"n{g.lower()}" for g in sorted(picked)]


@pytest.mark.parametrize("with_firm", [False, True])
def test_the_driver_query_finds_what_the_definition_finds(db: Database, with_firm: bool) -> None:
    rng = random.Random(11)
    with db.session() as session:
        connection = session.connection()
        biggest = 0
        for _ in range(40):
            company = rng.choice(FIRMS[:-1]) if with_firm else None
            key = name_key(f"年产{rng.randint(1, 300)}万吨{rng.choice(MATERIALS)}项目", company)
            firm = company_key(company) if company else None
            got = _indexed(connection, key, _grams(key), firm)
            named: dict[str, object] = {"key": key, "grams": _grams(key)}
            if firm:
                named.update(pair=f"c{firm[:2].lower()}", firm=firm)
            expected = list(connection.execute(_LIKELY_FIRM if firm else _LIKELY, named))
            assert [tuple(row) for row in got] == [tuple(row) for row in expected]
            biggest = max(biggest, len(got))
        assert biggest == CANDIDATE_LIMIT  # the limit was reached, so which 500 mattered


def test_a_project_read_through_the_driver_has_sqlalchemys_types(db: Database) -> None:
    """What ``record_mention`` compares and writes back: a Decimal amount, a bool, a datetime."""
    from decimal import Decimal

    from sqlalchemy import select

    from crawler.projects.candidates import _STATE, ProjectState, project_state

    with db.transaction() as session:
        project = session.scalars(select(ProjectRow).limit(1)).one()
        project.investment_yi, project.approximate = Decimal("86.8"), True
        project.last_seen = datetime(2024, 5, 2, 10, 30, 15, 123456)
    with db.session() as session:
        got = project_state(session, project.id)
        expected = ProjectState(*session.connection().execute(_STATE, {"project_id": project.id}).one())
    assert got == expected
    assert (got.investment_yi, got.approximate, got.last_seen) == (
        Decimal("86.8"),
        True,
        datetime(2024, 5, 2, 10, 30, 15, 123456),
    )

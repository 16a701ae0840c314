"""The candidate read (crawler.projects.candidates) on SQLite and PostgreSQL: the hand-written query the
driver runs, with the name keys held per connection (``NameKeys``), finds exactly the projects the
plain SQLAlchemy definition does, when common trigrams, company pairs and one name key bring more
projects than the candidate limit, and after a transaction that inserted projects is rolled back."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crawler.projects.candidates import (
    _KEY_COLUMNS,
    _LIKELY,
    _LIKELY_FIRM,
    _PROJECTS,
    CANDIDATE_LIMIT,
    NameKeys,
    _candidate,
    _indexed,
    _scored_rows,
    likely_projects,
    name_numbers,
    numbers_differ,
    plausible,
)
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


def _expected(session: Session, key: str, grams: list[str], firm: str | None) -> list[tuple[object, ...]]:
    named: dict[str, object] = {"key": key, "grams": grams}
    if firm:
        named.update(pair=f"c{firm[:2].lower()}", firm=firm)
    return [tuple(row) for row in session.connection().execute(_LIKELY_FIRM if firm else _LIKELY, named)]


@pytest.mark.parametrize("with_firm", [False, True])
def test_the_driver_query_finds_what_the_definition_finds(db: Database, with_firm: bool) -> None:
    rng = random.Random(11)
    biggest = 0
    for transaction in range(3):  # the keys read in one are held for the next (committed)
        with db.transaction() as session:
            for _ in range(40):
                company = rng.choice(FIRMS[:-1]) if with_firm else None
                key = name_key(f"年产{rng.randint(1, 300)}万吨{rng.choice(MATERIALS)}项目", company)
                firm = company_key(company) if company else None
                got = [tuple(row) for row in _indexed(session, key, _grams(key), firm)]
                assert got == _expected(session, key, _grams(key), firm)
                biggest = max(biggest, len(got))
            held = NameKeys.of(session)
            assert len(held.known) + len(held.fresh) > CANDIDATE_LIMIT
        if transaction:
            assert held.known and not held.fresh  # the commit made them known
    assert biggest == CANDIDATE_LIMIT  # the limit was reached, so which 500 mattered


def _reference(session: Session, key: str, firm: str | None, floor: float) -> list[object]:
    """``likely_projects`` from the plain SQLAlchemy definitions, no driver SQL, no held keys."""
    picked = sorted({key[i : i + 3] for i in (0, max(0, len(key) // 2 - 1), max(0, len(key) - 3))})
    connection = session.connection()
    if any(len(g) < 3 for g in picked) or (firm is not None and len(firm) < 2):
        clauses = [_PROJECTS.c.name_key == key, *(_PROJECTS.c.name_key.contains(g) for g in picked if g)]
        if firm is not None:
            clauses.append(_PROJECTS.c.company.contains(firm))
        query = select(*_KEY_COLUMNS).where(or_(*clauses)).order_by(_PROJECTS.c.id.desc()).limit(CANDIDATE_LIMIT)
        rows = [tuple(row) for row in connection.execute(query)]
    else:
        rows = _expected(session, key, _grams(key), firm)
    names = dict(rows)
    numbers = name_numbers(key)
    ids = [i for i in plausible(key, rows, floor) if not numbers_differ(numbers, name_numbers(str(names[i])))]
    by_id = {row[0]: row for row in _scored_rows(connection, ids)} if ids else {}
    return [_candidate(by_id[i]) for i in ids]


def test_likely_projects_finds_what_the_definitions_find(db: Database) -> None:
    """End to end, short keys (``_scan``) and a name key shared by more than ``CANDIDATE_LIMIT`` included."""
    when = datetime(2024, 5, 1, 9)
    with db.transaction() as session:
        article_id = session.scalars(select(ArticleRow.id)).first()
        for _ in range(CANDIDATE_LIMIT + 20):  # ties: one name key, more projects than the limit
            session.add(_project("年产5万吨光伏组件项目", None, article_id, when))
    rng = random.Random(5)
    names = ["光伏", "年产5万吨光伏组件项目", "稀土", "绿色建材项目", "新能源电池基地", "冷链"]
    for _ in range(3):
        with db.transaction() as session:
            for _ in range(30):
                company = rng.choice(FIRMS)
                numbered = f"年产{rng.randint(1, 300)}万吨{rng.choice(MATERIALS)}项目"
                key = name_key(rng.choice([*names, numbered]), company)
                firm = company_key(company) if company else None
                for floor in (60.0, 85.0):
                    assert likely_projects(session, key, firm, floor) == _reference(session, key, firm, floor)


def test_the_keys_of_a_rolled_back_project_are_not_kept(db: Database) -> None:
    """SQLite gives a rolled-back project's id to the next project: its held key must not outlive it."""
    when = datetime(2024, 5, 2, 9)
    for name in ("年产1万吨稀土永磁材料项目", "年产1万吨稀土永磁材料研发中心"):  # the same trigrams, not the same key
        with db.session() as session:  # closed even when the assertion fails (PostgreSQL drops the schema)
            session.begin()
            article_id = session.scalars(select(ArticleRow.id)).first()
            session.add(_project(name, None, article_id, when))
            session.flush()
            key = name_key("年产1万吨稀土永磁材料项目", None)
            got = [tuple(row) for row in _indexed(session, key, _grams(key), None)]
            assert got == _expected(session, key, _grams(key), None)
            session.rollback()


def _project(name: str, company: str | None, article_id: int | None, when: datetime) -> ProjectRow:
    return ProjectRow(
        name=name,
        name_key=name_key(name, company),
        company=company,
        stage="signed",
        first_article_id=article_id,
        first_seen=when,
        last_seen=when,
    )


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

"""The known projects a mention is scored against, read from ``projects`` and ``project_keys``.

Candidates are the projects with the same name key, sharing one of three trigrams of it, or (given a
company) whose company contains the company key, newest first, at most ``CANDIDATE_LIMIT``; the keys
are looked up in ``project_keys`` (indexed), not by scanning projects. One query reads their ids
only; their name keys come from ``NameKeys`` (read once per project, not once per mention); only those
whose name can still reach the merge threshold (``plausible``) are read again for scoring, and only
the project a mention is merged into is read in full (``project_state``).

This runs for every mention a crawl finds (tens of thousands a crawl), so it uses SQLAlchemy Core on
the tables, not the mapped classes (no ORM overhead, no autoflush: ``record_mention`` writes every
project at once), and the first query goes to the driver directly where its parameter style is known:
SQLAlchemy's row processing cost more than SQLite's own work on the hundreds of rows a common trigram
("产业园", "新能源") brings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from rapidfuzz import fuzz, process
from sqlalchemy import Table, bindparam, event, or_, select, union
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from crawler.store.db import driver_rows, paramstyle_mark
from crawler.store.projectkeys import COMPANY_GRAM, NAME_GRAM
from crawler.store.schema import ProjectKeyRow, ProjectRow

CANDIDATE_LIMIT = 500
_NUMBER = re.compile(r"\d+")
CONTAINED = 95.0  # the name similarity of a key of 6+ characters inside the other

_PROJECTS = cast(Table, ProjectRow.__table__)
_KEYS = cast(Table, ProjectKeyRow.__table__)
_SAME_KEY = select(_PROJECTS.c.id).where(_PROJECTS.c.name_key == bindparam("key"))
_SAME_GRAM = select(_KEYS.c.project_id).where(_KEYS.c.key.in_(bindparam("grams", expanding=True)))
_SAME_FIRM = (
    select(_KEYS.c.project_id)
    .join(_PROJECTS, _PROJECTS.c.id == _KEYS.c.project_id)
    .where(_KEYS.c.key == bindparam("pair"), _PROJECTS.c.company.contains(bindparam("firm")))
)
# The first query reads only what ``plausible`` needs of every candidate (hundreds of rows for a common
# trigram: building the rows cost more than SQLite's search); the second, what scoring reads of the
# few left.
_KEY_COLUMNS = (_PROJECTS.c.id, _PROJECTS.c.name_key)
_SCORED_COLUMNS = (
    _PROJECTS.c.id,
    _PROJECTS.c.name_key,
    _PROJECTS.c.name,
    _PROJECTS.c.company,
    _PROJECTS.c.region,
    _PROJECTS.c.investment_yi,
)
_SCORED = select(*_SCORED_COLUMNS).where(_PROJECTS.c.id.in_(bindparam("ids", expanding=True)))
_LIKELY = (
    select(*_KEY_COLUMNS)
    .where(_PROJECTS.c.id.in_(union(_SAME_KEY, _SAME_GRAM)))
    .order_by(_PROJECTS.c.id.desc())
    .limit(CANDIDATE_LIMIT)
)
_LIKELY_FIRM = (
    select(*_KEY_COLUMNS)
    .where(_PROJECTS.c.id.in_(union(_SAME_KEY, _SAME_GRAM, _SAME_FIRM)))
    .order_by(_PROJECTS.c.id.desc())
    .limit(CANDIDATE_LIMIT)
)

# What a mention reads of its project and may change; scoring reads name_key, company, region, amount.
STATE_COLUMNS = (
    _PROJECTS.c.id,
    _PROJECTS.c.name,
    _PROJECTS.c.company,
    _PROJECTS.c.region,
    _PROJECTS.c.investment_yi,
    _PROJECTS.c.currency,
    _PROJECTS.c.amount_text,
    _PROJECTS.c.approximate,
    _PROJECTS.c.stage,
    _PROJECTS.c.industry,
    _PROJECTS.c.last_seen,
)
_STATE = select(*STATE_COLUMNS).where(_PROJECTS.c.id == bindparam("project_id"))


@dataclass
class ProjectState:
    """A project as a mention reads it and may change it (a snapshot of the row, not an ORM object)."""

    id: int
    name: str
    company: str | None
    region: str | None
    investment_yi: Decimal | None
    currency: str
    amount_text: str | None
    approximate: bool
    stage: str
    industry: str | None
    last_seen: datetime


@dataclass(frozen=True)
class Candidate:
    """What scoring reads of a known project."""

    id: int
    name: str
    name_key: str
    company: str | None
    region: str | None
    investment_yi: Decimal | None


def name_similarity(a: str, b: str) -> float:
    """0-100: how alike two name keys are; containment of a reasonably long key counts as alike."""
    if a == b:
        return 100.0
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 6 and shorter in longer:
        return CONTAINED
    return float(fuzz.ratio(a, b))


def name_numbers(key: str) -> list[str]:
    """The numbers in a name key, sorted: 年产5000吨 and 年产20000吨 of one material are two projects."""
    return sorted(_NUMBER.findall(key))


def numbers_differ(a: list[str], b: list[str]) -> bool:
    """Both names state numbers and not the same ones: never the same project (``match_score`` gives 0)."""
    return bool(a and b and a != b)


def plausible(key: str, keys: Sequence[Sequence[Any]], floor: float) -> list[int]:
    """The ids, in order, of the ``(id, name key, ...)`` rows whose ``name_similarity`` to ``key`` reaches ``floor``.

    Only those can still reach the threshold with every bonus, so scoring only them makes the decision
    scoring them all would. The ratio is computed in rapidfuzz's C loop; containment apart."""
    if not keys:
        return []
    names = [row[1] for row in keys]
    close = {index for _, _, index in process.extract(key, names, scorer=fuzz.ratio, score_cutoff=floor, limit=None)}
    if floor <= CONTAINED:
        contained = (i for i, k in enumerate(names) if i not in close and (k in key or key in k))
        close.update(i for i in contained if name_similarity(key, names[i]) >= floor)
    return [keys[i][0] for i in sorted(close)]


def likely_projects(session: Session, key: str, firm: str | None, floor: float) -> list[Candidate]:
    """The candidates for a mention with name key ``key`` and company key ``firm`` that can reach ``floor``."""
    grams = sorted({key[i : i + 3] for i in (0, max(0, len(key) // 2 - 1), max(0, len(key) - 3))})
    connection = session.connection()
    if any(len(g) < NAME_GRAM for g in grams) or (firm is not None and len(firm) < COMPANY_GRAM):
        rows = _scan(connection, key, grams, firm)
    else:
        rows = _indexed(session, key, [f"n{g.lower()}" for g in grams], firm)
    numbers = name_numbers(key)
    names = {row[0]: row[1] for row in rows}
    # A name with other numbers scores 0 (``match_score``): not worth reading for scoring.
    ids = [i for i in plausible(key, rows, floor) if not numbers_differ(numbers, name_numbers(names[i]))]
    if not ids:
        return []
    by_id = {row[0]: row for row in _scored_rows(connection, ids)}
    return [_candidate(by_id[project_id]) for project_id in ids]


def _scored_rows(connection: Connection, ids: list[int]) -> list[Sequence[Any]]:
    mark = paramstyle_mark(connection)
    if mark is None:
        return list(connection.execute(_SCORED, {"ids": ids}))
    columns = ", ".join(c.name for c in _SCORED_COLUMNS)
    sql = f"SELECT {columns} FROM {_PROJECTS.name} WHERE id IN ({', '.join([mark] * len(ids))})"
    return list(driver_rows(connection, sql, ids))


def _candidate(row: Sequence[Any]) -> Candidate:
    project_id, name_key, name, company, region, amount = row
    # The driver gives SQLite's NUMERIC as a float: its shortest repr is the decimal that was stored.
    investment = amount if amount is None or isinstance(amount, Decimal) else Decimal(str(amount))
    return Candidate(project_id, name, name_key, company, region, investment)


def project_state(session: Session, project_id: int) -> ProjectState:
    """The project a mention was matched to, as ``record_mention`` reads and updates it."""
    connection = session.connection()
    mark = paramstyle_mark(connection)
    if mark is None:
        return ProjectState(*connection.execute(_STATE, {"project_id": project_id}).one())
    columns = ", ".join(c.name for c in STATE_COLUMNS)
    [row] = driver_rows(connection, f"SELECT {columns} FROM {_PROJECTS.name} WHERE id = {mark}", [project_id])
    return _state(*row)


def _state(
    project_id: int, name: str, company: str | None, region: str | None, amount: Any, currency: str,
    amount_text: str | None, approximate: Any, stage: str, industry: str | None, last_seen: Any,
) -> ProjectState:  # fmt: skip
    """A driver's row as SQLAlchemy's types give it: SQLite's driver returns NUMERIC as a float (its
    shortest repr is the decimal stored), booleans as 0/1 and DateTime as SQLAlchemy's ISO text."""
    investment = amount if amount is None or isinstance(amount, Decimal) else Decimal(str(amount))
    seen = datetime.fromisoformat(last_seen) if isinstance(last_seen, str) else last_seen
    return ProjectState(
        project_id, name, company, region, investment, currency, amount_text, bool(approximate), stage, industry, seen
    )


def _indexed(session: Session, key: str, grams: list[str], firm: str | None) -> list[Sequence[Any]]:
    """The ``(id, name key)`` of the candidates, newest first: ``_LIKELY`` / ``_LIKELY_FIRM``'s rows."""
    connection = session.connection()
    mark = paramstyle_mark(connection)
    params: list[str] = [key, *grams]
    if firm:
        params += [f"c{firm[:COMPANY_GRAM].lower()}", firm]
    if mark is not None:
        cursor = connection.connection.cursor()
        try:
            cursor.execute(_likely_sql(mark, len(grams), firm is not None), tuple(params))
            found = {row[0] for row in cursor.fetchall()}
        finally:
            cursor.close()
        ids = sorted(found, reverse=True)[:CANDIDATE_LIMIT]
        return NameKeys.of(session).rows(connection, mark, ids)
    named: dict[str, object] = {"key": key, "grams": grams}
    if firm:
        named.update(pair=params[-2], firm=firm)
    return list(connection.execute(_LIKELY_FIRM if firm else _LIKELY, named))


@lru_cache(maxsize=16)
def _likely_sql(mark: str, grams: int, firm: bool) -> str:
    """The ids ``_LIKELY`` / ``_LIKELY_FIRM`` read, for the driver (``mark``: its parameter marker),
    each set's possibly more than once: the caller keeps the newest ``CANDIDATE_LIMIT`` distinct ones.

    Each set (same key, each trigram, the company pair) gives only its newest ``CANDIDATE_LIMIT``: the
    newest of their union are among those, so the result is the same, and SQLite reads a few hundred
    ids backwards from the key index instead of every project that shares a common trigram. UNION ALL
    and no join to ``projects``: SQLite's temporary B-trees (the union's, the ORDER BY's) and the row
    read per candidate cost more than a set and a sort of the ids in Python."""
    percent = "%%" if mark == "%s" else "%"  # a literal % next to format-style parameters is doubled
    projects, keys, limit = _PROJECTS.name, _KEYS.name, f"ORDER BY 1 DESC LIMIT {CANDIDATE_LIMIT}"
    ids = [
        f"SELECT id FROM {projects} WHERE name_key = {mark} {limit}",
        *(f"SELECT project_id FROM {keys} WHERE key = {mark} {limit}" for _ in range(grams)),
    ]
    if firm:
        ids.append(
            f"SELECT k.project_id FROM {keys} k JOIN {projects} p ON p.id = k.project_id "
            f"WHERE k.key = {mark} AND p.company LIKE '{percent}' || {mark} || '{percent}' {limit}"
        )
    return " UNION ALL ".join(f"SELECT * FROM ({query}) AS s{n}" for n, query in enumerate(ids))


class NameKeys:
    """The name keys of projects by id, kept with the driver's connection (``Connection.info``: it
    lives as long as the connection, across transactions).

    A project's name key is written once (``_insert_project``; ``_update_project`` never changes it)
    and no code deletes a project, so the key read of a committed project stays true. A project
    inserted by a transaction that is rolled back is gone, and SQLite gives its id to the next project:
    so the keys read in a transaction are ``fresh`` until the session reports that very transaction
    committed (then ``known``), and are dropped when it ends otherwise or another one reads keys."""

    _INFO = "newsmon.project_name_keys"
    BOUND = 500_000  # keys kept at most (tens of MB); past it, the cache starts again

    def __init__(self) -> None:
        self.known: dict[int, str] = {}
        self.fresh: dict[int, str] = {}
        self.owner: SessionTransaction | None = None  # the transaction ``fresh`` was read in

    @classmethod
    def of(cls, session: Session) -> NameKeys:
        """The connection's cache, set to collect the session's open transaction's reads."""
        info = session.connection().info
        cache = info.get(cls._INFO)
        if cache is None:
            cache = info[cls._INFO] = cls()
        owner = session.get_transaction()
        if cache.owner is not owner:
            cache.fresh, cache.owner = {}, owner
            if not event.contains(session, "after_commit", _committed):
                event.listen(session, "after_commit", _committed)
                event.listen(session, "after_transaction_end", _ended)
            session.info[cls._INFO] = (cache, owner)
        return cache

    def rows(self, connection: Connection, mark: str, ids: list[int]) -> list[Sequence[Any]]:
        """``(id, name key)`` of each of ``ids``, in order; the keys not held are read in one query."""
        known, fresh = self.known, self.fresh
        missing = [i for i in ids if i not in known and i not in fresh]
        if missing:
            sql = f"SELECT id, name_key FROM {_PROJECTS.name} WHERE id IN ({', '.join([mark] * len(missing))})"
            fresh.update(driver_rows(connection, sql, missing))
        return [(i, known[i] if i in known else fresh[i]) for i in ids]

    def settle(self, owner: SessionTransaction, committed: bool) -> None:
        if owner is not self.owner:
            return
        if committed:
            if len(self.known) + len(self.fresh) > self.BOUND:
                self.known = {}
            self.known.update(self.fresh)
        self.fresh, self.owner = {}, None


def _committed(session: Session) -> None:
    """After the session's commit went through: the keys its transaction read are committed rows."""
    if (held := session.info.pop(NameKeys._INFO, None)) is not None:
        cache, owner = held
        cache.settle(owner, committed=True)


def _ended(session: Session, transaction: SessionTransaction) -> None:
    """Any other end (a rollback, a savepoint's): what the transaction read may be gone."""
    if (held := session.info.pop(NameKeys._INFO, None)) is not None:
        cache, owner = held
        cache.settle(owner, committed=False)


def _scan(connection: Connection, key: str, grams: list[str], firm: str | None) -> list[Sequence[Any]]:
    """For keys too short for the indexed grams: ``LIKE`` over every project."""
    clauses = [_PROJECTS.c.name_key == key, *(_PROJECTS.c.name_key.contains(g) for g in grams if g)]
    if firm is not None:
        clauses.append(_PROJECTS.c.company.contains(firm))
    query = select(*_KEY_COLUMNS).where(or_(*clauses)).order_by(_PROJECTS.c.id.desc()).limit(CANDIDATE_LIMIT)
    return list(connection.execute(query))

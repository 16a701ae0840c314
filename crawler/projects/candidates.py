"""The known projects a mention is scored against, read from ``projects`` and ``project_keys``.

Candidates are the projects with the same name key, sharing one of three trigrams of it, or (given a
company) whose company contains the company key, newest first, at most ``CANDIDATE_LIMIT``; the keys
are looked up in ``project_keys`` (indexed), not by scanning projects. One query reads their ids
only; their name keys come from ``NameKeys`` (read once per project, not once per mention); only those
whose name can still reach the merge threshold (``plausible``) are read again for scoring, and only
the project a mention is merged into is read in full (``project_state``). Ingestion itself holds what
it read and wrote between mentions (``crawler.projects.known``), and reads with these functions only
what it does not hold.

This runs for every mention a crawl finds (tens of thousands a crawl), so it uses SQLAlchemy Core on
the tables, not the mapped classes (no ORM overhead, no autoflush: ``record_mention`` writes every
project at once), and the first query goes to the driver directly where its parameter style is known:
SQLAlchemy's row processing cost more than SQLite's own work on the hundreds of rows a common trigram
("产业园", "新能源") brings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from rapidfuzz import fuzz, process
from sqlalchemy import Column, Select, Table, bindparam, event, or_, select, union
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
# What ``crawler.projects.known`` holds of a project: scoring's columns and the state, read at once.
HELD_COLUMNS = (_PROJECTS.c.name_key, *STATE_COLUMNS)
_HELD = select(*HELD_COLUMNS).where(_PROJECTS.c.id.in_(bindparam("ids", expanding=True)))


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
    return [keys[i][0] for i in _plausible_at(key, [row[1] for row in keys], floor)]


def _plausible_at(key: str, names: list[str], floor: float) -> list[int]:
    """``plausible``'s verdicts: the indexes, in order, of the ``names`` that reach ``floor``."""
    if not names:
        return []
    close = {index for _, _, index in process.extract(key, names, scorer=fuzz.ratio, score_cutoff=floor, limit=None)}
    if floor <= CONTAINED:
        contained = (i for i, k in enumerate(names) if i not in close and (k in key or key in k))
        close.update(i for i in contained if name_similarity(key, names[i]) >= floor)
    return sorted(close)


def likely_projects(session: Session, key: str, firm: str | None, floor: float) -> list[Candidate]:
    """The candidates for a mention with name key ``key`` and company key ``firm`` that can reach ``floor``."""
    connection = session.connection()
    ids, names, _ = candidate_rows(connection, NameKeys.of(session), key, firm)
    close = close_among(key, ids, names, floor)
    if not close:
        return []
    by_id = {row[0]: row for row in _scored_rows(connection, close)}
    return [_candidate(by_id[project_id]) for project_id in close]


def candidate_rows(
    connection: Connection, held: NameKeys, key: str, firm: str | None
) -> tuple[list[int], list[str], bool]:
    """The ids of every candidate, newest first, their name keys, and whether they were read by
    ``_scan`` (else by the indexed keys; ``held``: the connection's held name keys)."""
    grams = sorted({key[i : i + 3] for i in (0, max(0, len(key) // 2 - 1), max(0, len(key) - 3))})
    if short_grams(grams, firm):
        rows = _scan(connection, key, grams, firm)
        return [row[0] for row in rows], [row[1] for row in rows], True
    return (*_by_keys(connection, held, key, [f"n{g.lower()}" for g in grams], firm), False)


def short_grams(grams: list[str], firm: str | None) -> bool:
    """Whether a lookup's grams or company key are too short for ``project_keys`` (``_scan`` then)."""
    return any(len(g) < NAME_GRAM for g in grams) or (firm is not None and len(firm) < COMPANY_GRAM)


def close_among(
    key: str, ids: Sequence[int], names: list[str], floor: float, numbers_of: Callable[[str], list[str]] = name_numbers
) -> list[int]:
    """The ``ids``, in order, whose name keys (``names``) are worth scoring: ``plausible``, and not stating
    other numbers (``match_score`` gives those 0, so they are not read for scoring). Each one's verdict
    is its own. ``numbers_of``: ``name_numbers``, or a memo of it."""
    numbers = name_numbers(key)
    close = _plausible_at(key, names, floor)
    if numbers:
        close = [i for i in close if not numbers_differ(numbers, numbers_of(names[i]))]
    return [ids[i] for i in close]


def _scored_rows(connection: Connection, ids: list[int]) -> list[Sequence[Any]]:
    return _rows_by_id(connection, _SCORED, _SCORED_COLUMNS, ids)


def _rows_by_id(
    connection: Connection, statement: Select[Any], columns: Sequence[Column[Any]], ids: list[int]
) -> list[Sequence[Any]]:
    """``statement`` (``columns`` of the projects ``ids``), on the driver's cursor where there is one."""
    mark = paramstyle_mark(connection)
    if mark is None:
        return list(connection.execute(statement, {"ids": ids}))
    names = ", ".join(c.name for c in columns)
    sql = f"SELECT {names} FROM {_PROJECTS.name} WHERE id IN ({', '.join([mark] * len(ids))})"
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


def project_rows(connection: Connection, ids: list[int]) -> list[Sequence[Any]]:
    """The ``HELD_COLUMNS`` of the projects ``ids``, as the driver gives them (``state_values`` converts)."""
    return _rows_by_id(connection, _HELD, HELD_COLUMNS, ids)


def state_values(row: Sequence[Any]) -> tuple[Any, ...]:
    """A ``STATE_COLUMNS`` row, from the driver or from SQLAlchemy, as ``ProjectState``'s fields: SQLite's
    driver returns NUMERIC as a float (its shortest repr is the decimal stored), booleans as 0/1 and
    DateTime as SQLAlchemy's ISO text."""
    project_id, name, company, region, amount, currency, amount_text, approximate, stage, industry, seen = row
    investment = amount if amount is None or isinstance(amount, Decimal) else Decimal(str(amount))
    last_seen = datetime.fromisoformat(seen) if isinstance(seen, str) else seen
    return (
        project_id, name, company, region, investment, currency, amount_text, bool(approximate), stage, industry,
        last_seen,
    )  # fmt: skip


def _state(*row: Any) -> ProjectState:
    return ProjectState(*state_values(row))


def _indexed(session: Session, key: str, grams: list[str], firm: str | None) -> list[Sequence[Any]]:
    """The ``(id, name key)`` of the candidates, newest first: ``_LIKELY`` / ``_LIKELY_FIRM``'s rows."""
    return list(zip(*_by_keys(session.connection(), NameKeys.of(session), key, grams, firm), strict=True))


def _by_keys(
    connection: Connection, held: NameKeys, key: str, grams: list[str], firm: str | None
) -> tuple[list[int], list[str]]:
    """``_indexed``'s ids and name keys."""
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
        return ids, held.names(connection, mark, ids)
    named: dict[str, object] = {"key": key, "grams": grams}
    if firm:
        named.update(pair=params[-2], firm=firm)
    rows = list(connection.execute(_LIKELY_FIRM if firm else _LIKELY, named))
    return [row[0] for row in rows], [row[1] for row in rows]


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

    def names(self, connection: Connection, mark: str, ids: list[int]) -> list[str]:
        """The name key of each of ``ids``, in order (``rows``' second column)."""
        known, fresh = self.known, self.fresh
        names: list[str | None] = list(map(known.get, ids))
        if None not in names:  # the common case: every one held since a committed transaction
            return cast(list[str], names)
        if missing := [i for i, name in zip(ids, names, strict=True) if name is None and i not in fresh]:
            self.rows(connection, mark, missing)  # now in ``fresh``
        return [fresh[i] if name is None else name for i, name in zip(ids, names, strict=True)]

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

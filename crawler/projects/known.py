"""What ingestion holds of projects between mentions and transactions: the rows it read or wrote, its
candidate lookups (``crawler.projects.lookups``) and the alerts stored per project, kept true as it
writes, so that what it meets again is not read again.

A crawl's articles name the same projects over and over: in the bench mirror 85% of mentions look up a
name key looked up before, and most merge into a project read or written shortly before. Ingestion
holds the database's write lock while it decides (``crawler.ingest.lock_for_ingest``), so only it
changes projects then, and every change goes through ``crawler.projects`` (``record_known``), which
reports it here: a row written is held as the database returned it (``RETURNING``: after SQLite's
affinity and PostgreSQL's numeric scale, exactly what a later read gives), an inserted project or a
company given to one is logged for the held lookups, alerts written are added to those held.

It is kept with the driver's connection (``Connection.info``) from one transaction to the next only
while nothing else can have changed what it holds: the transaction that used it last committed (a
rollback forgets everything: SQLite gives the ids again), and no other connection has written since,
which the database tells at the start of each transaction, under the write lock: SQLite's ``PRAGMA
data_version`` is unchanged, or PostgreSQL gave this transaction the id right after the last one's (no
transaction of any connection wrote in between). Elsewhere it lasts one transaction. ORM writes of
projects drop it (``crawler.store.projectkeys``); no other code writes projects.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from crawler.projects.candidates import Candidate, NameKeys, ProjectState, project_rows, state_values
from crawler.projects.lookups import HeldLookups
from crawler.store import driver
from crawler.store.projectkeys import KNOWN_PROJECTS
from crawler.store.schema import AlertRow

_ALERTS = cast(Table, AlertRow.__table__)
_QUEUED = select(_ALERTS.c.rule, _ALERTS.c.channel).where(_ALERTS.c.project_id == bindparam("project_id"))
# What tells, read under the write lock, whether another connection wrote since this one's last transaction:
# SQLite's counter of the other connections' commits, PostgreSQL's transaction id (one more than the last
# one's if no transaction anywhere has written since: every writer gets the next id).
_STAMPS = {"sqlite": text("PRAGMA data_version"), "postgresql": text("SELECT txid_current()")}


class KnownProjects:
    """The connection's projects and candidate lists (see the module's docstring)."""

    ROWS = 30_000  # rows held at most (the older half is dropped past it), and alerted projects

    def __init__(self, connection: Connection) -> None:
        self.connection = connection  # the open transaction's
        self.names: NameKeys | None = None
        # Pure functions' results (``identity``): company keys, and name keys by (name, company).
        self.firms: dict[str, str] = {}
        self.keys: dict[tuple[str, str | None], str] = {}
        self._owner: SessionTransaction | None = None  # the transaction using it
        self._committed = False  # the last one to use it committed
        self._stamp: Any = None  # the database's change counter as that transaction began
        self._rows: dict[int, list[Any]] = {}  # [name key, ProjectState's fields, its Candidate or None]
        self._lookups = HeldLookups()
        self._alerts: dict[int, set[tuple[str, str]]] = {}  # (rule, channel) of the alerts stored per project

    @classmethod
    def of(cls, session: Session) -> KnownProjects:
        """The connection's, made ready for the session's open transaction."""
        connection = session.connection()
        known = connection.info.get(KNOWN_PROJECTS)
        if known is None:
            known = connection.info[KNOWN_PROJECTS] = cls(connection)
        owner = session.get_transaction()
        if known._owner is not owner or known.connection is not connection or known.names is None:
            known._begin(session, connection, owner)
        return known

    def _begin(self, session: Session, connection: Connection, owner: SessionTransaction | None) -> None:
        """Start the transaction's use: what is held is kept only if still true (see the module's docstring)."""
        statement = _STAMPS.get(connection.dialect.name)
        stamp = connection.execute(statement).scalar() if statement is not None else None
        if connection.dialect.name == "postgresql":
            unchanged = self._stamp is not None and stamp == self._stamp + 1
        else:
            unchanged = stamp is not None and stamp == self._stamp
        if not (self._committed and unchanged):
            self.forget()
        self._owner, self._committed, self._stamp = owner, False, stamp
        self.connection, self.names = connection, NameKeys.of(session)
        session.info[KNOWN_PROJECTS] = self  # for the session's events below
        if not event.contains(session, "after_commit", _committed):
            event.listen(session, "after_commit", _committed)
            event.listen(session, "after_transaction_end", _ended)

    def forget(self) -> None:
        """Drop everything held but the pure functions' results."""
        self._rows, self._lookups, self._alerts = {}, HeldLookups(), {}

    def likely(self, key: str, firm: str | None, floor: float) -> list[Candidate]:
        """``candidates.likely_projects(session, key, firm, floor)``: the same candidates, in order."""
        assert self.names is not None  # set by ``of``
        close = self._lookups.close(self.connection, self.names, (key, firm, floor))
        found = list(map(self._rows.get, close))  # taken before reading: a read may drop old rows
        if None in found:
            read = self._read([i for i, row in zip(close, found, strict=True) if row is None])
            found = [read[i] if row is None else row for i, row in zip(close, found, strict=True)]
        return [self._candidate(row, i) for i, row in zip(close, cast(list[list[Any]], found), strict=True)]

    def state(self, project_id: int) -> ProjectState:
        """``candidates.project_state``: a new object, which the caller may change."""
        held = self._rows.get(project_id)
        if held is None:
            held = self._read([project_id])[project_id]
        return ProjectState(*held[1])

    def queued(self, project_id: int) -> set[tuple[str, str]]:
        """The (rule, channel) of the project's stored alerts (not to be changed by the caller)."""
        held = self._alerts.get(project_id)
        if held is None:
            if len(self._alerts) >= self.ROWS:
                self._alerts = {}
            rows = driver.all_rows(self.connection, _QUEUED, {"project_id": project_id})
            held = self._alerts[project_id] = {(rule, channel) for rule, channel in rows}
        return held

    def alerted(self, rows: Sequence[dict[str, Any]]) -> None:
        """The alert ``rows`` (of ``crawler.projects.PendingRows``) were inserted."""
        for row in rows:
            if (held := self._alerts.get(row["project_id"])) is not None:
                held.add((row["rule"], row["channel"]))

    def inserted(self, row: Sequence[Any], keys: set[str]) -> None:
        """The project ``row`` (``HELD_COLUMNS``, as returned) was inserted with the lookup ``keys``."""
        self._hold(row)
        self._lookups.inserted(row[1], row[0], row[3], keys)

    def updated(self, row: Sequence[Any], keys: set[str] | None) -> None:
        """The project ``row`` (``HELD_COLUMNS``, as returned) was updated; ``keys``: None, or it got a
        company, and with it these lookup keys (its pairs: none for a one-character company)."""
        self._hold(row)
        if keys is not None:
            self._lookups.company_given(row[1], row[3], keys)

    def _read(self, ids: list[int]) -> dict[int, list[Any]]:
        """Read and hold the rows of ``ids``."""
        return {project_id: held for project_id, held in map(self._hold, project_rows(self.connection, ids))}

    def _hold(self, row: Sequence[Any]) -> tuple[int, list[Any]]:
        """Hold a ``HELD_COLUMNS`` row (the older half of those held goes past ``ROWS``)."""
        if len(self._rows) >= self.ROWS:
            for project_id in list(islice(self._rows, self.ROWS // 2)):
                del self._rows[project_id]
        values = state_values(row[1:])
        held = self._rows[values[0]] = [row[0], values, None]
        return values[0], held

    @staticmethod
    def _candidate(held: list[Any], project_id: int) -> Candidate:
        if held[2] is None:
            name_key, (_, name, company, region, investment, *_) = held[0], held[1]
            held[2] = Candidate(project_id, name, name_key, company, region, investment)
        candidate: Candidate = held[2]
        return candidate


def _committed(session: Session) -> None:
    """After the session's commit went through: what its transaction wrote is the database's."""
    known = session.info.get(KNOWN_PROJECTS)
    if known is not None and known._owner is not None:
        known._committed, known._owner = True, None


def _ended(session: Session, transaction: SessionTransaction) -> None:
    """Any other end (a rollback, a savepoint's): what the transaction wrote may be gone."""
    known = session.info.get(KNOWN_PROJECTS)
    if known is not None and (known._owner is transaction or transaction.nested):
        known.forget()
        known._owner, known._committed = None, False

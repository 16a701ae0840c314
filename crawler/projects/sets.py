"""The newest members of each set a candidate lookup reads, held from one lookup to the next.

A lookup's candidates are the newest ``CANDIDATE_LIMIT`` of the union of a few sets (``candidates``:
the projects with the same name key, those with each of three name trigrams, those whose company has
the company key): ``candidates._likely_sql`` reads each set's newest ``CANDIDATE_LIMIT`` and keeps the
newest of their union. Name keys share their trigrams (产业园, 新能源 ...), so a name key met for the
first time mostly reads sets read before: ``HeldSets`` holds each set's newest ids (what its subquery
returns), reads only the sets it does not hold, and keeps them true with the projects written since,
which ``HeldLookups`` logs per set (``joined``): the newest ``CANDIDATE_LIMIT`` of a set with new
members are the newest of its old newest and them. A company set (``LIKE``) takes a new member whose
company ``like`` tells; one it cannot tell about is read again. It is valid as long as the
``KnownProjects`` holding it (which forgets it when that is no longer so).
"""

from __future__ import annotations

import re
from functools import lru_cache

from sqlalchemy.engine import Connection

from crawler.projects.candidates import CANDIDATE_LIMIT
from crawler.store.db import driver_rows
from crawler.store.schema import ProjectKeyRow, ProjectRow

SetKey = tuple[str, str | None]  # ("=" + a name key, or a key of ``project_keys``; the company key of a "c" pair)
Joined = dict[str, list[tuple[int, str | None, str | None]]]  # HeldLookups._joined
_UNSURE = re.compile(r"[%_\\A-Za-z]")


def like(value: str | None, part: str) -> bool | None:
    """Whether ``value LIKE '%' || part || '%'`` (``contains``, unescaped) holds, where SQLite and
    PostgreSQL agree; None where only the database could tell: ``part`` holds a wildcard, PostgreSQL's
    escape character, or an ASCII letter (SQLite's ``LIKE`` ignores their case)."""
    if value is None:
        return False  # NULL LIKE ... is not true
    if "\\" in part:  # PostgreSQL's escape: even a part found as it is may not match
        return None
    if part in value:  # each wildcard in it matches itself
        return True
    return None if _UNSURE.search(part) else False


class HeldSets:
    """Sets' newest ids, newest first, with how many of ``joined``'s entries each has taken in."""

    IDS = 300_000  # ids held at most, all sets together: past it, they start again

    def __init__(self) -> None:
        self._held: dict[SetKey, tuple[list[int], int]] = {}
        self._ids = 0

    def union(self, connection: Connection, mark: str, sets: list[SetKey], joined: Joined) -> list[int]:
        """``candidates._by_keys``'s ids: the newest ``CANDIDATE_LIMIT`` of the ``sets``' union."""
        lists, missing = [], []
        for name in sets:
            ids = self._current(name, joined)
            if ids is None:
                missing.append(name)
            else:
                lists.append(ids)
        if missing:
            lists += self._read(connection, mark, missing, joined)
        return sorted(set().union(*lists), reverse=True)[:CANDIDATE_LIMIT]

    def _current(self, name: SetKey, joined: Joined) -> list[int] | None:
        """The set's held ids with its new members taken in, or None if not held (or not known)."""
        held = self._held.get(name)
        if held is None:
            return None
        ids, seen = held
        entries = joined.get(name[0], ())
        if len(entries) == seen:
            return ids
        firm, members = name[1], []
        for project_id, _, company in entries[seen:]:
            if firm is None:
                members.append(project_id)  # a name set gets only inserted projects
            elif (verdict := like(company, firm)) is None:
                del self._held[name]
                return None
            elif verdict:
                members.append(project_id)
        if members:
            members = sorted(set(members), reverse=True)
            if not ids or members[-1] > ids[0]:  # the usual case: newer than every held one
                ids = (members + ids)[:CANDIDATE_LIMIT]
            else:
                ids = sorted({*ids, *members}, reverse=True)[:CANDIDATE_LIMIT]
            self._ids += len(members)
        self._held[name] = (ids, len(entries))
        return ids

    def _read(self, connection: Connection, mark: str, missing: list[SetKey], joined: Joined) -> list[list[int]]:
        kinds = tuple(name[0][0] for name in missing)
        params: list[str] = []
        for key, firm in missing:
            params += [key[1:]] if key[0] == "=" else [key] if firm is None else [key, firm]
        read: list[list[int]] = [[] for _ in missing]
        for part, project_id in driver_rows(connection, _sets_sql(mark, kinds), params):
            read[part].append(project_id)
        if self._ids >= self.IDS:
            self._held, self._ids = {}, 0
        for name, ids in zip(missing, read, strict=True):
            ids.sort(reverse=True)
            self._held[name] = (ids, len(joined.get(name[0], ())))
            self._ids += len(ids)
        return read


@lru_cache(maxsize=64)
def _sets_sql(mark: str, kinds: tuple[str, ...]) -> str:
    """``candidates._likely_sql``'s subqueries for the sets of ``kinds`` ("=": a name key, "n": a name
    trigram, "c": a company pair and key), each tagged with its place."""
    percent = "%%" if mark == "%s" else "%"  # a literal % next to format-style parameters is doubled
    projects, keys = ProjectRow.__tablename__, ProjectKeyRow.__tablename__
    limit = f"ORDER BY 1 DESC LIMIT {CANDIDATE_LIMIT}"
    queries = []
    for n, kind in enumerate(kinds):
        if kind == "=":
            query = f"SELECT id FROM {projects} WHERE name_key = {mark} {limit}"
        elif kind == "n":
            query = f"SELECT project_id FROM {keys} WHERE key = {mark} {limit}"
        else:
            query = (
                f"SELECT k.project_id FROM {keys} k JOIN {projects} p ON p.id = k.project_id "
                f"WHERE k.key = {mark} AND p.company LIKE '{percent}' || {mark} || '{percent}' {limit}"
            )
        queries.append(f"SELECT {n}, s{n}.* FROM ({query}) AS s{n}")
    return " UNION ALL ".join(queries)

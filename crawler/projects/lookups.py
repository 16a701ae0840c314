"""Candidate lookups held from one mention to the next (``KnownProjects``), kept true as projects are written.

A lookup (name key, company key, floor) is ``candidates.likely_projects``'s ids: the newest
``CANDIDATE_LIMIT`` of the union of a few sets, and of those the ones worth scoring (``close_among``).
Every project written since a lookup was read is logged per set it joined (``_Log``); when the lookup
is met again, its new members are taken in: while a list holds fewer than ``CANDIDATE_LIMIT``, it
holds every member of its sets, so new members simply join it, and whether one is worth scoring is
its own verdict. A lookup is dropped, and read again, when that cannot be told: new members would
overfill it (which old ones drop out is not held), an old project was given a company (a member by
name before or not), or ``LIKE`` (a company set, a short key's scan) may or may not match (``like``).
A lookup met for the first time reads only the sets not held already (``HeldSets``).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from crawler.projects.candidates import (
    CANDIDATE_LIMIT,
    NameKeys,
    candidate_rows,
    close_among,
    name_numbers,
    short_grams,
)
from crawler.projects.sets import HeldSets, Joined, SetKey, like
from crawler.store.db import paramstyle_mark
from crawler.store.projectkeys import COMPANY_GRAM

Held = tuple[str, str | None, float]  # a lookup: name key, company key, floor


class _Found:
    """A lookup's candidates."""

    __slots__ = ("close", "count", "scanned", "seen", "sets")

    def __init__(self, count: int, close: list[int], sets: list[SetKey], seen: list[int], scanned: bool) -> None:
        self.count = count  # how many its sets hold (at most CANDIDATE_LIMIT: the newest of them)
        self.close = close  # the ids of those worth scoring (``close_among``), newest first
        self.sets = sets  # the sets it read; scanned: (each gram ``_scan`` looks for, None)
        self.seen = seen  # how many of each set's log entries it has taken in (scanned: of ``written``)
        self.scanned = scanned  # read by ``_scan`` (``LIKE``)


class HeldLookups:
    """Lookups and the sets they read (see the module's docstring)."""

    LOOKUPS = 50_000  # lookups held at most, and ...
    LOGGED = 500_000  # ... log entries: past either, all lookups and sets are dropped

    def __init__(self) -> None:
        self._numbers: dict[str, list[str]] = {}  # name_numbers of the name keys met
        self._start_again()

    def _numbers_of(self, name_key: str) -> list[str]:
        """``name_numbers(name_key)``, computed once (not to be changed by the caller)."""
        numbers = self._numbers.get(name_key)
        if numbers is None:
            if len(self._numbers) >= self.LOOKUPS:
                self._numbers = {}
            numbers = self._numbers[name_key] = name_numbers(name_key)
        return numbers

    def _start_again(self) -> None:
        """Drop every lookup and set, with the log they hold offsets into."""
        self._found: dict[Held, _Found] = {}
        self._sets = HeldSets()
        # Per set key ("=" + a name key, or a key of ``project_keys``): (id, name key, company) of each
        # project that joined it since the log started: inserted, or (name key None) given a company.
        self._joined: Joined = {}
        self._written: list[tuple[int, str | None, str | None]] = []  # every entry, once: what a scan sees
        self._logged = 0

    def close(self, connection: Connection, names: NameKeys, held: Held) -> list[int]:
        """The ids worth scoring of ``likely_projects(session, *held)``, newest first (not to be changed)."""
        found = self._found.get(held)
        if found is not None:
            found = self._catch_up(held, found)
        if found is None:
            found = self._look_up(connection, names, held)
        return found.close

    def inserted(self, project_id: int, name_key: str, company: str | None, keys: set[str]) -> None:
        """A project was inserted with the lookup ``keys`` (``project_keys``)."""
        entry = (project_id, name_key, company)
        for key in ("=" + name_key, *keys):
            self._joined.setdefault(key, []).append(entry)
        self._written.append(entry)
        self._logged += len(keys) + 2

    def company_given(self, project_id: int, company: str, keys: set[str]) -> None:
        """An old project got a company, and with it the lookup ``keys`` (its pairs)."""
        entry = (project_id, None, company)
        for key in keys:
            self._joined.setdefault(key, []).append(entry)
        self._written.append(entry)
        self._logged += len(keys) + 1

    def _look_up(self, connection: Connection, names: NameKeys, held: Held) -> _Found:
        key, firm, floor = held
        if len(self._found) >= self.LOOKUPS or self._logged >= self.LOGGED:
            self._start_again()
        grams = sorted({key[i : i + 3] for i in (0, max(0, len(key) // 2 - 1), max(0, len(key) - 3))})
        mark = paramstyle_mark(connection)
        scanned = short_grams(grams, firm)
        if scanned:
            sets: list[SetKey] = [(gram, None) for gram in grams]  # what ``_scan`` looks for
            seen = [len(self._written)]
        else:
            sets = [("=" + key, None), *((f"n{g.lower()}", None) for g in grams)]
            if firm:
                sets.append((f"c{firm[:COMPANY_GRAM].lower()}", firm))
            seen = [len(self._joined.get(name, ())) for name, _ in sets]
        if scanned or mark is None:
            ids, found_names, _ = candidate_rows(connection, names, key, firm)
        else:
            ids = self._sets.union(connection, mark, sets, self._joined)
            found_names = names.names(connection, mark, ids)
        close = close_among(key, ids, found_names, floor, self._numbers_of)
        found = self._found[held] = _Found(len(ids), close, sets, seen, scanned)
        return found

    def _catch_up(self, held: Held, found: _Found) -> _Found | None:
        """The lookup with the projects written since taken in, or None (dropped) if not known."""
        members = self._scanned_since(held, found) if found.scanned else self._joined_since(found)
        if members is None or found.count + len(members) > CANDIDATE_LIMIT:
            del self._found[held]
            return None
        if members:
            found.count += len(members)
            if close := close_among(held[0], list(members), list(members.values()), held[2], self._numbers_of):
                found.close = sorted({*found.close, *close}, reverse=True)
        return found

    def _joined_since(self, found: _Found) -> dict[int, str] | None:
        """The (id: name key) of the new members of an indexed lookup's sets, or None if not known."""
        members: dict[int, str] = {}
        for n, (name, firm) in enumerate(found.sets):
            joined = self._joined.get(name)
            if joined is None or len(joined) == found.seen[n]:
                continue
            for project_id, name_key, company in joined[found.seen[n] :]:
                verdict = True if firm is None else like(company, firm)
                if verdict is None:
                    return None
                if verdict:
                    if name_key is None:  # an old project given a company: a member by name before?
                        return None
                    members[project_id] = name_key
            found.seen[n] = len(joined)
        return members

    def _scanned_since(self, held: Held, found: _Found) -> dict[int, str] | None:
        """The (id: name key) of the new members of a ``_scan``'s set, or None if not known."""
        key, firm, _ = held
        members: dict[int, str] = {}
        for project_id, name_key, company in self._written[found.seen[0] :]:
            by_firm = like(company, firm) if firm is not None else False
            if name_key is None:  # an old project given a company: a member before or not, not held
                if by_firm is not False:
                    return None
                continue
            by_name = [name_key == key, *(like(name_key, gram) for gram, _ in found.sets if gram)]
            if True in by_name or by_firm:
                members[project_id] = name_key
            elif None in by_name or by_firm is None:
                return None
        found.seen[0] = len(self._written)
        return members

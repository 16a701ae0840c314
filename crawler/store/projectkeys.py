"""Project candidate lookup keys, kept in ``project_keys`` beside each project row.

A mention's candidates were the projects whose name key contains one of three trigrams of its own
key, or whose company contains its company key (``LIKE '%…%'``: a scan of every project). The same
sets come from an indexed lookup of keys: "n" + every trigram of a project's name key, and "c" +
every bigram of its lowercased company (a company containing a key contains the key's first bigram;
the ``LIKE`` then runs on those rows only). The keys are written by ORM events for writers that use the ORM
(``crawler.store.schema`` imports this module); ingestion writes projects with Core statements, which
fire no ORM event, and writes their keys itself (``crawler.projects``), with ``project_keys`` here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, event, insert, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper

from crawler.store.schema import ProjectKeyRow, ProjectRow

NAME_GRAM = 3
COMPANY_GRAM = 2
# Connection.info's key for what ingestion holds of projects (crawler.projects.known), which an ORM write
# of a project makes untrue: dropped here (the name only: that package imports this module).
KNOWN_PROJECTS = "newsmon.known_projects"


def name_grams(key: str) -> set[str]:
    return {f"n{key[i : i + NAME_GRAM]}" for i in range(len(key) - NAME_GRAM + 1)}


def company_grams(company: str | None) -> set[str]:
    low = (company or "").lower()
    return {f"c{low[i : i + COMPANY_GRAM]}" for i in range(len(low) - COMPANY_GRAM + 1)}


def project_keys(name_key: str, company: str | None) -> set[str]:
    return name_grams(name_key.lower()) | company_grams(company)


def _rows(project_id: int, keys: set[str]) -> list[dict[str, Any]]:
    return [{"key": key, "project_id": project_id} for key in sorted(keys)]


def _forget_known(connection: Connection) -> None:
    connection.info.pop(KNOWN_PROJECTS, None)


@event.listens_for(ProjectRow, "after_insert")
def _keys_inserted(_mapper: Mapper[ProjectRow], connection: Connection, project: ProjectRow) -> None:
    _forget_known(connection)
    if rows := _rows(project.id, project_keys(project.name_key, project.company)):
        connection.execute(insert(ProjectKeyRow), rows)


@event.listens_for(ProjectRow, "after_update")
def _keys_updated(_mapper: Mapper[ProjectRow], connection: Connection, project: ProjectRow) -> None:
    _forget_known(connection)
    state = inspect(project)
    if not (state.attrs.name_key.history.has_changes() or state.attrs.company.history.has_changes()):
        return
    connection.execute(delete(ProjectKeyRow).where(ProjectKeyRow.project_id == project.id))
    if rows := _rows(project.id, project_keys(project.name_key, project.company)):
        connection.execute(insert(ProjectKeyRow), rows)


@event.listens_for(ProjectRow, "after_delete")
def _deleted(_mapper: Mapper[ProjectRow], connection: Connection, _project: ProjectRow) -> None:
    _forget_known(connection)

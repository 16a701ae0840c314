"""Project identity and the alert outbox.

A mention found in an article is matched to a known project or creates one; a project that meets an
alert rule gets one outbox row per (rule, channel) in the SAME transaction, guarded by a unique key,
so a retry, a crash or a replay can never alert twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, cast

from loguru import logger
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from crawler.config import AlertRule, ProjectMatching
from crawler.models import Project, Stage
from crawler.projects.candidates import HELD_COLUMNS, STATE_COLUMNS, ProjectState, name_similarity
from crawler.projects.identity import (
    company_key,
    find_known,
    find_project,
    held_name_key,
    match_score,
    name_key,
)
from crawler.projects.known import KnownProjects
from crawler.store import driver
from crawler.store.projectkeys import company_grams, project_keys
from crawler.store.schema import AlertRow, MentionRow, ProjectKeyRow, ProjectRow

__all__ = [
    "KnownProjects",
    "MentionContext",
    "PendingRows",
    "ProjectState",
    "company_key",
    "find_project",
    "match_score",
    "name_key",
    "name_similarity",
    "queue_alerts",
    "record_known",
    "record_mention",
    "rule_matches",
]

# Ingestion writes through SQLAlchemy Core, not the ORM: the unit of work, identity map and autoflush
# cost more than the statements themselves on the crawl's hot path (bench/README.md); the statements,
# built once, run on the driver's cursor (``crawler.store.driver``) for the same reason. The ORM events
# of crawler.store.projectkeys do not fire for Core statements, so the keys are written here.
_PROJECTS = cast(Table, ProjectRow.__table__)
_KEYS = cast(Table, ProjectKeyRow.__table__)
_MENTIONS = cast(Table, MentionRow.__table__)
# Both return the row as stored (after SQLite's affinity, PostgreSQL's numeric scale), for KnownProjects.
_INSERT_PROJECT = insert(_PROJECTS).returning(*HELD_COLUMNS)
_INSERT_KEYS = insert(_KEYS)
_INSERT_MENTIONS = insert(_MENTIONS)
_MUTABLE = ("last_seen", "company", "region", "investment_yi", "amount_text", "approximate", "currency", "stage")
_UPDATE = (
    update(_PROJECTS)
    .where(_PROJECTS.c.id == bindparam("project_id"))
    .values({name: bindparam(name) for name in _MUTABLE})
    .returning(*HELD_COLUMNS)
)
_INSERT_ALERTS = insert(cast(Table, AlertRow.__table__))


@dataclass(frozen=True)
class MentionContext:
    article_id: int
    region: str | None
    seen_at: datetime


class RuleTarget(Protocol):
    """What an alert rule looks at: a ``ProjectState`` or a ``ProjectRow``."""

    @property
    def name(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def industry(self) -> str | None: ...
    @property
    def investment_yi(self) -> Decimal | None: ...


@dataclass
class PendingRows:
    """An article's mention and outbox rows, inserted together (executemany) once all its mentions are
    recorded; ``queued`` keeps two mentions of one project in one article from queuing one alert twice."""

    mentions: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    queued: set[tuple[int, str, str]] = field(default_factory=set)

    def write(self, session: Session, known: KnownProjects | None = None) -> None:
        """Insert the rows; ``known``: the transaction's, told of the alerts."""
        connection = session.connection()
        driver.executemany(connection, _INSERT_MENTIONS, self.mentions)
        driver.executemany(connection, _INSERT_ALERTS, self.alerts)
        if known is not None:
            known.alerted(self.alerts)
        self.mentions, self.alerts = [], []


def record_mention(
    session: Session, mention: Project, ctx: MentionContext, matching: ProjectMatching, pending: PendingRows
) -> tuple[ProjectState, bool]:
    """Attach the mention to its project (created if new). Returns the project and whether it is new.

    The project row is written at once (the article's next mention may name it); the mention row is
    added to ``pending``."""
    return record_known(KnownProjects.of(session), mention, ctx, matching, pending)


def record_known(
    known: KnownProjects, mention: Project, ctx: MentionContext, matching: ProjectMatching, pending: PendingRows
) -> tuple[ProjectState, bool]:
    """``record_mention`` with the transaction's ``KnownProjects``, which it tells what it writes."""
    key = held_name_key(known, mention.name, mention.company)
    found = find_known(known, mention, key, ctx.region, matching)
    if found is None:
        project = _insert_project(known, mention, key, ctx)
    else:
        project = found
        _update_project(known, project, mention, ctx)
    pending.mentions.append(
        {
            "project_id": project.id,
            "article_id": ctx.article_id,
            "name": mention.name,
            "investment_yi": mention.investment_yi,
            "amount_text": mention.amount_text,
            "stage": mention.stage.value,
            "phase": mention.phase,
            "evidence": mention.evidence,
            "created_at": ctx.seen_at,
        }
    )
    return project, found is None


def _insert_project(known: KnownProjects, mention: Project, key: str, ctx: MentionContext) -> ProjectState:
    state = ProjectState(
        0,
        mention.name,
        mention.company,
        ctx.region,
        mention.investment_yi,
        mention.currency,
        mention.amount_text,
        mention.approximate,
        mention.stage.value,
        mention.industry,
        ctx.seen_at,
    )
    values = {column.name: getattr(state, column.name) for column in STATE_COLUMNS[1:]}
    values.update(name_key=key, first_article_id=ctx.article_id, first_seen=ctx.seen_at)
    [row] = driver.all_rows(known.connection, _INSERT_PROJECT, values, processed=False)
    state.id = row[1]
    keys = project_keys(key, mention.company)
    _add_keys(known.connection, state.id, keys)
    known.inserted(row, keys)
    return state  # the mention's values, not the stored ones: what its alerts are checked against


def _add_keys(connection: Connection, project_id: int, keys: set[str]) -> None:
    if keys:
        rows = [{"key": key, "project_id": project_id} for key in sorted(keys)]
        driver.executemany(connection, _INSERT_KEYS, rows)


def _update_project(known: KnownProjects, project: ProjectState, mention: Project, ctx: MentionContext) -> None:
    """What a later mention adds: a missing company, region or amount, and a later stage (never an earlier one).

    The stage history is the project's mentions, each with its stage and article, in time order."""
    changes: dict[str, Any] = {}
    added: set[str] | None = None  # a company given: the lookup keys it adds (maybe none: one character)
    if ctx.seen_at > project.last_seen:
        changes["last_seen"] = ctx.seen_at
    if project.company is None and mention.company:
        changes["company"] = mention.company
        added = company_grams(mention.company)
        _add_keys(known.connection, project.id, added)
    if project.region is None and ctx.region:
        changes["region"] = ctx.region
    if project.investment_yi is None and mention.investment_yi is not None:
        changes.update(
            investment_yi=mention.investment_yi,
            amount_text=mention.amount_text,
            approximate=mention.approximate,
            currency=mention.currency,
        )
    # A project only moves forward: a later article recalling its signing does not undo its start.
    if _rank(mention.stage) > _rank(project.stage):
        logger.info("project #{} {!r}: stage {} -> {}", project.id, project.name, project.stage, mention.stage)
        changes["stage"] = mention.stage.value
    if changes:
        for name, value in changes.items():
            setattr(project, name, value)
        # Every mutable column, from the updated state: one statement, compiled once.
        values = {name: getattr(project, name) for name in _MUTABLE}
        [row] = driver.all_rows(known.connection, _UPDATE, {"project_id": project.id, **values}, processed=False)
        known.updated(row, added)


_RANKS = {stage.value: stage.rank for stage in Stage}  # Stage.rank walks the members: a mention's cost


def _rank(stage: str) -> int:
    """``Stage(stage).rank`` (raising as it does for a value that is no stage)."""
    rank = _RANKS.get(stage)
    return Stage(stage).rank if rank is None else rank


def rule_matches(rule: AlertRule, project: RuleTarget, evidence: str) -> bool:
    if project.investment_yi is None or Decimal(project.investment_yi) < rule.min_investment_yi:
        return False
    if rule.regions and not any(r in (project.region or "") for r in rule.regions):
        return False
    if rule.industries and not any(i in f"{project.industry or ''}{project.name}" for i in rule.industries):
        return False
    return not rule.keywords or any(k in f"{project.name}{evidence}" for k in rule.keywords)


def idempotency_key(project_id: int, rule: str, channel: str) -> str:
    return hashlib.sha256(f"newsmon:{project_id}:{rule}:{channel}".encode()).hexdigest()[:32]


def queue_alerts(
    session: Session,
    project: ProjectState,
    article_id: int,
    evidence: str,
    rules: tuple[AlertRule, ...],
    channels: tuple[str, ...],
    now: datetime,
    pending: PendingRows,
    new: bool = False,
) -> int:
    """Add outbox rows to ``pending`` for every rule the project meets and every channel, unless already
    written or queued (``new``: the project was created in this transaction, so it has none stored)."""
    matched = [rule for rule in rules if rule_matches(rule, project, evidence)]
    if not matched or not channels:
        return 0
    # The alerts stored (a new project has none), as the transaction's KnownProjects holds them: written
    # by PendingRows.write, which tells it.
    existing = KnownProjects.of(session).queued(project.id) if not new else set()
    created = 0
    for rule in matched:
        for channel in channels:
            if (rule.name, channel) in existing or (project.id, rule.name, channel) in pending.queued:
                continue
            pending.queued.add((project.id, rule.name, channel))
            pending.alerts.append(
                {
                    "kind": "project",
                    "project_id": project.id,
                    "article_id": article_id,
                    "rule": rule.name,
                    "channel": channel,
                    "idempotency_key": idempotency_key(project.id, rule.name, channel),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                }
            )
            created += 1
    return created

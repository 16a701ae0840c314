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
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from crawler.config import AlertRule, ProjectMatching
from crawler.models import Project, Stage
from crawler.projects.candidates import STATE_COLUMNS, ProjectState, name_similarity
from crawler.projects.identity import (
    company_key,
    find_project,
    match_score,
    name_key,
)
from crawler.store import driver
from crawler.store.projectkeys import company_grams, project_keys
from crawler.store.schema import AlertRow, MentionRow, ProjectKeyRow, ProjectRow

__all__ = [
    "MentionContext",
    "PendingRows",
    "ProjectState",
    "company_key",
    "find_project",
    "match_score",
    "name_key",
    "name_similarity",
    "queue_alerts",
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
_INSERT_PROJECT = insert(_PROJECTS).returning(_PROJECTS.c.id)
_INSERT_KEYS = insert(_KEYS)
_INSERT_MENTIONS = insert(_MENTIONS)
_MUTABLE = ("last_seen", "company", "region", "investment_yi", "amount_text", "approximate", "currency", "stage")
_UPDATE = (
    update(_PROJECTS)
    .where(_PROJECTS.c.id == bindparam("project_id"))
    .values({name: bindparam(name) for name in _MUTABLE})
)
_ALERTS = cast(Table, AlertRow.__table__)
_QUEUED = select(_ALERTS.c.rule, _ALERTS.c.channel).where(_ALERTS.c.project_id == bindparam("project_id"))
_INSERT_ALERTS = insert(_ALERTS)


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

    def write(self, session: Session) -> None:
        connection = session.connection()
        driver.executemany(connection, _INSERT_MENTIONS, self.mentions)
        driver.executemany(connection, _INSERT_ALERTS, self.alerts)
        self.mentions, self.alerts = [], []


def record_mention(
    session: Session, mention: Project, ctx: MentionContext, matching: ProjectMatching, pending: PendingRows
) -> tuple[ProjectState, bool]:
    """Attach the mention to its project (created if new). Returns the project and whether it is new.

    The project row is written at once (the article's next mention may name it); the mention row is
    added to ``pending``."""
    key = name_key(mention.name, mention.company)
    found = find_project(session, mention, key, ctx.region, matching)
    if found is None:
        project = _insert_project(session, mention, key, ctx)
    else:
        project = found
        _update_project(session, project, mention, ctx)
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


def _insert_project(session: Session, mention: Project, key: str, ctx: MentionContext) -> ProjectState:
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
    connection = session.connection()
    state.id = driver.scalar(connection, _INSERT_PROJECT, values)
    _add_keys(session, state.id, project_keys(key, mention.company))
    return state


def _add_keys(session: Session, project_id: int, keys: set[str]) -> None:
    if keys:
        rows = [{"key": key, "project_id": project_id} for key in sorted(keys)]
        driver.executemany(session.connection(), _INSERT_KEYS, rows)


def _update_project(session: Session, project: ProjectState, mention: Project, ctx: MentionContext) -> None:
    """What a later mention adds: a missing company, region or amount, and a later stage (never an earlier one).

    The stage history is the project's mentions, each with its stage and article, in time order."""
    changes: dict[str, Any] = {}
    if ctx.seen_at > project.last_seen:
        changes["last_seen"] = ctx.seen_at
    if project.company is None and mention.company:
        changes["company"] = mention.company
        _add_keys(session, project.id, company_grams(mention.company))
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
    if mention.stage.rank > Stage(project.stage).rank:
        logger.info("project #{} {!r}: stage {} -> {}", project.id, project.name, project.stage, mention.stage)
        changes["stage"] = mention.stage.value
    if changes:
        for name, value in changes.items():
            setattr(project, name, value)
        # Every mutable column, from the updated state: one statement, compiled once.
        values = {name: getattr(project, name) for name in _MUTABLE}
        driver.execute(session.connection(), _UPDATE, {"project_id": project.id, **values})


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
    existing: set[tuple[str, str]] = set()
    if not new:
        rows = driver.all_rows(session.connection(), _QUEUED, {"project_id": project.id})
        existing = {(rule, channel) for rule, channel in rows}
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

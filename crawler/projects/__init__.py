"""Project identity and the alert outbox.

A mention found in an article is matched to a known project or creates one; a project that meets an
alert rule gets one outbox row per (rule, channel) in the SAME transaction, guarded by a unique key,
so a retry, a crash or a replay can never alert twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loguru import logger
from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.config import AlertRule, ProjectMatching
from crawler.models import Project, Stage
from crawler.projects.identity import company_key, find_project, match_score, name_key, name_similarity
from crawler.store.schema import AlertRow, MentionRow, ProjectRow

__all__ = [
    "MentionContext",
    "company_key",
    "find_project",
    "match_score",
    "name_key",
    "name_similarity",
    "queue_alerts",
    "record_mention",
    "rule_matches",
]


@dataclass(frozen=True)
class MentionContext:
    article_id: int
    region: str | None
    seen_at: datetime


def record_mention(
    session: Session, mention: Project, ctx: MentionContext, matching: ProjectMatching
) -> tuple[ProjectRow, bool]:
    """Attach the mention to its project (created if new). Returns the project and whether it is new."""
    key = name_key(mention.name, mention.company)
    project = find_project(session, mention, key, ctx.region, matching)
    created = project is None
    if project is None:
        project = ProjectRow(
            name=mention.name,
            name_key=key,
            company=mention.company,
            region=ctx.region,
            investment_yi=mention.investment_yi,
            currency=mention.currency,
            amount_text=mention.amount_text,
            approximate=mention.approximate,
            stage=mention.stage.value,
            industry=mention.industry,
            first_article_id=ctx.article_id,
            first_seen=ctx.seen_at,
            last_seen=ctx.seen_at,
        )
        session.add(project)
        session.flush()
    else:
        _update_project(project, mention, ctx)
    session.add(
        MentionRow(
            project_id=project.id,
            article_id=ctx.article_id,
            name=mention.name,
            investment_yi=mention.investment_yi,
            amount_text=mention.amount_text,
            stage=mention.stage.value,
            phase=mention.phase,
            evidence=mention.evidence,
            created_at=ctx.seen_at,
        )
    )
    return project, created


def _update_project(project: ProjectRow, mention: Project, ctx: MentionContext) -> None:
    """What a later mention adds: a missing company, region or amount, and a later stage (never an earlier one).

    The stage history is the project's mentions, each with its stage and article, in time order."""
    project.last_seen = max(project.last_seen, ctx.seen_at)
    if project.company is None and mention.company:
        project.company = mention.company
    if project.region is None and ctx.region:
        project.region = ctx.region
    if project.investment_yi is None and mention.investment_yi is not None:
        project.investment_yi = mention.investment_yi
        project.amount_text = mention.amount_text
        project.approximate = mention.approximate
        project.currency = mention.currency
    # A project only moves forward: a later article recalling its signing does not undo its start.
    if mention.stage.rank > Stage(project.stage).rank:
        logger.info("project #{} {!r}: stage {} -> {}", project.id, project.name, project.stage, mention.stage)
        project.stage = mention.stage.value


def rule_matches(rule: AlertRule, project: ProjectRow, evidence: str) -> bool:
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
    project: ProjectRow,
    article_id: int,
    evidence: str,
    rules: tuple[AlertRule, ...],
    channels: tuple[str, ...],
    now: datetime,
    new: bool = False,
) -> int:
    """Write outbox rows for every rule the project meets and every channel, unless already written
    (``new``: the project was created in this transaction, so it has none yet)."""
    matched = [rule for rule in rules if rule_matches(rule, project, evidence)]
    if not matched or not channels:
        return 0
    existing: set[tuple[str, str]] = set()
    if not new:
        query = select(AlertRow.rule, AlertRow.channel).where(AlertRow.project_id == project.id)
        existing = {(rule, channel) for rule, channel in session.execute(query)}
    created = 0
    for rule in matched:
        for channel in channels:
            if (rule.name, channel) in existing:
                continue
            session.add(
                AlertRow(
                    project_id=project.id,
                    article_id=article_id,
                    rule=rule.name,
                    channel=channel,
                    idempotency_key=idempotency_key(project.id, rule.name, channel),
                    status="pending",
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            created += 1
    return created

"""Project identity and the alert outbox.

A mention found in an article is matched to a known project or creates one; a project that meets an
alert rule gets one outbox row per (rule, channel) in the SAME transaction, guarded by a unique key,
so a retry, a crash or a replay can never alert twice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loguru import logger
from rapidfuzz import fuzz
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crawler.config import AlertRule
from crawler.models import Project, Stage
from crawler.store.schema import AlertRow, MentionRow, ProjectRow
from crawler.textnorm import fold

# Words that wrap a project's name without changing which project it is: "X项目" == "X建设项目" == "X".
_NAME_SUFFIXES = re.compile(r"(一期|二期|三期|四期)?(建设|新建|扩建|改扩建)?(项目|工程)?(一期|二期|三期)?$")
_CANDIDATE_LIMIT = 500


@dataclass(frozen=True)
class MentionContext:
    article_id: int
    region: str | None
    seen_at: datetime


def name_key(name: str, company: str | None) -> str:
    """The folded name with the company prefix and 项目/一期 suffixes removed."""
    key = fold(name)
    if company:
        folded_company = fold(company)
        if folded_company and key.startswith(folded_company) and len(key) > len(folded_company) + 2:
            key = key[len(folded_company) :]
    stripped = _NAME_SUFFIXES.sub("", key)
    return stripped if len(stripped) >= 2 else key


def name_similarity(a: str, b: str) -> float:
    """0-100: how alike two name keys are; containment of a reasonably long key counts as alike."""
    if a == b:
        return 100.0
    shorter, longer = sorted((a, b), key=len)
    if len(shorter) >= 6 and shorter in longer:
        return 95.0
    return float(fuzz.ratio(a, b))


def find_project(
    session: Session, mention: Project, key: str, region: str | None, threshold: float
) -> ProjectRow | None:
    """The known project this mention names, or None. Exact key first, then fuzzy among likely candidates."""
    exact = session.scalars(select(ProjectRow).where(ProjectRow.name_key == key).limit(1)).first()
    if exact is not None:
        return exact
    likely = [ProjectRow.name_key.contains(key[:4])]
    if mention.company:
        likely.append(ProjectRow.company == mention.company)
    candidates = session.scalars(
        select(ProjectRow).where(or_(*likely)).order_by(ProjectRow.id.desc()).limit(_CANDIDATE_LIMIT)
    ).all()
    best: tuple[float, ProjectRow] | None = None
    for row in candidates:
        score = name_similarity(key, row.name_key)
        if region and row.region and region != row.region:
            score -= 10  # the same wording in another city is usually another project
        if best is None or score > best[0]:
            best = (score, row)
    if best is not None and best[0] >= threshold:
        logger.info("project match: {!r} -> #{} {!r} (score {:.0f})", mention.name, best[1].id, best[1].name, best[0])
        return best[1]
    return None


def record_mention(
    session: Session, mention: Project, ctx: MentionContext, threshold: float
) -> tuple[ProjectRow, bool]:
    """Attach the mention to its project (created if new). Returns the project and whether it is new."""
    key = name_key(mention.name, mention.company)
    project = find_project(session, mention, key, ctx.region, threshold)
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
    project.last_seen = ctx.seen_at
    if project.company is None and mention.company:
        project.company = mention.company
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
) -> int:
    """Write outbox rows for every rule the project meets and every channel, unless already written."""
    existing = set(
        session.execute(select(AlertRow.rule, AlertRow.channel).where(AlertRow.project_id == project.id)).tuples()
    )
    created = 0
    for rule in rules:
        if not rule_matches(rule, project, evidence):
            continue
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

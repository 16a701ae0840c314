"""The messages of outbox rows, a batch at a time: the dispatcher renders what it has just claimed.

A source-health row carries its message as JSON; a project row is rendered from its project and
article as they are now, and the evidence of the mention with the largest amount. Core statements
over the needed columns only (an article's text is never read): four queries for any batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Row, select, tuple_

from crawler.alerts.health import KIND as HEALTH_KIND
from crawler.alerts.health import HealthMessage
from crawler.alerts.message import AlertMessage, Message
from crawler.store.schema import AlertRow, ArticleRow, MentionRow, ProjectRow

# id, kind, channel, payload, rule, idempotency_key, project_id, article_id
OutboxRow = Row[int, str, str, str | None, str, str, int | None, int | None]


def render_alerts(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, Message]]:
    """alert id -> (channel, message): a source-health row carries its own, a project row is read now."""
    rows = conn.execute(
        select(
            AlertRow.id,
            AlertRow.kind,
            AlertRow.channel,
            AlertRow.payload,
            AlertRow.rule,
            AlertRow.idempotency_key,
            AlertRow.project_id,
            AlertRow.article_id,
        ).where(AlertRow.id.in_(list(ids)))
    ).all()
    out: dict[int, tuple[str, Message]] = {
        r.id: (r.channel, HealthMessage.from_json(json.loads(r.payload or "{}"))) for r in rows if r.kind == HEALTH_KIND
    }
    projects = [r for r in rows if r.kind != HEALTH_KIND]
    if projects:
        messages = _project_messages(conn, projects)
        out.update((r.id, (r.channel, messages[r.id])) for r in projects)
    return out


def _project_messages(conn: Connection, alerts: Sequence[OutboxRow]) -> dict[int, AlertMessage]:
    """The messages of project alerts: their project and article now, and the mention that says most."""
    projects = {
        r.id: r
        for r in conn.execute(
            select(
                ProjectRow.id,
                ProjectRow.name,
                ProjectRow.company,
                ProjectRow.investment_yi,
                ProjectRow.amount_text,
                ProjectRow.stage,
                ProjectRow.region,
            ).where(ProjectRow.id.in_({a.project_id for a in alerts}))
        )
    }
    articles = {
        r.id: r
        for r in conn.execute(
            select(ArticleRow.id, ArticleRow.title, ArticleRow.url, ArticleRow.published).where(
                ArticleRow.id.in_({a.article_id for a in alerts})
            )
        )
    }
    evidence = _evidence(conn, {(a.project_id, a.article_id) for a in alerts})
    out = {}
    for alert in alerts:
        project, article = projects.get(alert.project_id), articles.get(alert.article_id)
        if project is None or article is None:
            raise LookupError(f"alert #{alert.id}: project {alert.project_id} or article {alert.article_id} is gone")
        out[alert.id] = AlertMessage(
            idempotency_key=alert.idempotency_key,
            rule=alert.rule,
            project=project.name,
            company=project.company,
            investment_yi=project.investment_yi,
            amount_text=project.amount_text,
            stage=project.stage,
            region=project.region,
            evidence=evidence.get((project.id, article.id), ""),
            article_title=article.title,
            article_url=article.url,
            published=article.published,
        )
    return out


def _evidence(conn: Connection, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """(project, article) -> the evidence of its mention with the largest amount (the first such)."""
    rows = conn.execute(
        select(MentionRow.project_id, MentionRow.article_id, MentionRow.evidence)
        .where(tuple_(MentionRow.project_id, MentionRow.article_id).in_(sorted(pairs)))
        .order_by(MentionRow.investment_yi.desc().nulls_last(), MentionRow.id)
    )
    best: dict[tuple[int, int], str] = {}
    for project_id, article_id, evidence in rows:
        best.setdefault((project_id, article_id), evidence or "")
    return best

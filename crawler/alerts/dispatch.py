"""The outbox dispatcher: send pending alert rows, record every attempt, back off on failure.

A crawl only writes alert rows (new projects, and source-health changes: ``crawler.alerts.health``);
this sends them, whatever their kind, the same way. A channel that is down leaves its rows pending
(with a growing delay) and never blocks the crawl or the other channels: after one failure in a
pass, the channel's other alerts wait for the next pass instead of each waiting out a timeout.

Each attempt is claimed before the send, in its own committed transaction: ``attempts`` goes up,
an ``alert_attempts`` row is started, and ``next_attempt_at`` moves one lease ahead, so a second
dispatcher leaves the alert alone. After the send a second transaction marks it sent (or records
the error and the backoff). A process killed in between leaves the alert pending: it is sent again
once the lease has passed, with the same idempotency key: at most one duplicate, nothing lost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from loguru import logger
from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from crawler.alerts.health import KIND as HEALTH_KIND
from crawler.alerts.health import HealthMessage
from crawler.alerts.message import AlertMessage, Message
from crawler.alerts.notifiers import Notifier
from crawler.store.db import Database
from crawler.store.schema import AlertAttemptRow, AlertRow, ArticleRow, MentionRow, ProjectRow


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 30.0
    max_delay_s: float = 6 * 3600.0
    lease_s: float = 600.0  # an attempt not finished by then (the process died) is tried again

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_delay_s, self.base_delay_s * 2 ** max(0, attempts - 1)))


@dataclass
class DispatchStats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0  # left for the next pass because their channel just failed


@dataclass(frozen=True)
class Claim:
    alert_id: int
    attempt_id: int
    attempts: int
    channel: str
    message: Message


def dispatch_pending(
    db: Database, notifiers: Sequence[Notifier], now: datetime | None = None, policy: RetryPolicy | None = None
) -> DispatchStats:
    policy = policy or RetryPolicy()
    now = now or datetime.now()
    by_channel = {n.name: n for n in notifiers}
    stats = DispatchStats()
    with db.transaction() as session:
        due = session.execute(
            select(AlertRow.id, AlertRow.channel)
            .where(AlertRow.status == "pending", AlertRow.channel.in_(list(by_channel)))
            .where((AlertRow.next_attempt_at.is_(None)) | (AlertRow.next_attempt_at <= now))
            .order_by(AlertRow.id)
        ).all()
    down: set[str] = set()
    for alert_id, channel in due:
        if channel in down:
            stats.deferred += 1
            continue
        if not _send_one(db, alert_id, by_channel[channel], now, policy, stats):
            down.add(channel)
    return stats


def _send_one(
    db: Database, alert_id: int, notifier: Notifier, now: datetime, policy: RetryPolicy, stats: DispatchStats
) -> bool:
    """Claim, send, record. False when the channel failed."""
    claim = claim_alert(db, alert_id, now, policy)
    if claim is None:
        return True
    try:
        notifier.send(claim.message)
    except Exception as exc:  # any channel failure is recorded, never raised into the crawl
        if record_failure(db, claim, f"{type(exc).__name__}: {exc}"[:2000], now, policy):
            stats.failed += 1
        else:
            stats.retrying += 1
        return False
    record_success(db, claim)
    stats.sent += 1
    logger.info("alert #{} sent to {}: {}", claim.alert_id, claim.channel, claim.message.headline())
    return True


def claim_alert(db: Database, alert_id: int, now: datetime, policy: RetryPolicy) -> Claim | None:
    """Take the alert for one attempt, committed before anything is sent; None if it is not ours to send."""
    try:
        with db.transaction() as session:
            alert = session.get(AlertRow, alert_id)
            if alert is None or alert.status != "pending":
                return None
            if alert.next_attempt_at is not None and alert.next_attempt_at > now:
                return None
            if alert.attempts >= policy.max_attempts:  # every try so far died mid-send: stop the crash loop
                alert.status = "failed"
                alert.last_error = alert.last_error or f"gave up: {alert.attempts} attempts interrupted"
                return None
            message = render_alert(session, alert)
            taken = _execute(
                session,
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.status == "pending", AlertRow.attempts == alert.attempts)
                .values(attempts=alert.attempts + 1, next_attempt_at=now + timedelta(seconds=policy.lease_s))
                .execution_options(synchronize_session=False),
            )
            if taken.rowcount != 1:
                return None  # another dispatcher took it first
            attempt = AlertAttemptRow(alert_id=alert_id, started_at=datetime.now())
            session.add(attempt)
            session.flush()
            return Claim(alert_id, attempt.id, alert.attempts + 1, alert.channel, message)
    except OperationalError as exc:  # e.g. SQLite busy: leave it for the next pass
        logger.warning("alert #{} not claimed this pass: {}", alert_id, exc.orig)
        return None


def record_success(db: Database, claim: Claim) -> None:
    finished = datetime.now()
    with db.transaction() as session:
        session.execute(
            update(AlertRow)
            .where(AlertRow.id == claim.alert_id)
            .values(status="sent", sent_at=finished, last_error=None, next_attempt_at=None)
        )
        _finish_attempt(session, claim, finished, None)


def record_failure(db: Database, claim: Claim, error: str, now: datetime, policy: RetryPolicy) -> bool:
    """Record the error; back off, or give up after ``max_attempts`` (then True)."""
    with db.transaction() as session:
        values: dict[str, object] = {"last_error": error}
        gave_up = claim.attempts >= policy.max_attempts
        if gave_up:
            values.update(status="failed", next_attempt_at=None)
            logger.error(
                "alert #{} to {} failed for good after {} attempts: {}",
                claim.alert_id,
                claim.channel,
                claim.attempts,
                error,
            )
        else:
            retry_at = now + policy.delay(claim.attempts)
            values["next_attempt_at"] = retry_at
            logger.warning(
                "alert #{} to {} failed (attempt {}), retry at {}: {}",
                claim.alert_id,
                claim.channel,
                claim.attempts,
                retry_at,
                error,
            )
        session.execute(update(AlertRow).where(AlertRow.id == claim.alert_id).values(**values))
        _finish_attempt(session, claim, datetime.now(), error)
    return gave_up


def _finish_attempt(session: Session, claim: Claim, finished: datetime, error: str | None) -> None:
    session.execute(
        update(AlertAttemptRow)
        .where(AlertAttemptRow.id == claim.attempt_id)
        .values(finished_at=finished, ok=error is None, error=error)
    )


def retry_failed(db: Database, now: datetime | None = None, channel: str | None = None) -> int:
    """Give failed alerts a fresh round of attempts, due now. Returns how many."""
    now = now or datetime.now()
    with db.transaction() as session:
        query = update(AlertRow).where(AlertRow.status == "failed")
        if channel:
            query = query.where(AlertRow.channel == channel)
        result = _execute(session, query.values(status="pending", attempts=0, next_attempt_at=now))
        return int(result.rowcount or 0)


def _execute(session: Session, statement: Update) -> CursorResult[Any]:
    """An UPDATE, with its row count."""
    return cast(CursorResult[Any], session.execute(statement))


def render_alert(session: Session, alert: AlertRow) -> Message:
    """The message of an outbox row: a source-health row carries its own, a project row is read now."""
    if alert.kind == HEALTH_KIND:
        return HealthMessage.from_json(json.loads(alert.payload or "{}"))
    return render_project_alert(session, alert)


def render_project_alert(session: Session, alert: AlertRow) -> AlertMessage:
    project = session.get_one(ProjectRow, alert.project_id)
    article = session.get_one(ArticleRow, alert.article_id)
    mention = session.scalars(
        select(MentionRow)
        .where(MentionRow.project_id == project.id, MentionRow.article_id == article.id)
        .order_by(MentionRow.investment_yi.desc().nulls_last(), MentionRow.id)
        .limit(1)
    ).first()
    return AlertMessage(
        idempotency_key=alert.idempotency_key,
        rule=alert.rule,
        project=project.name,
        company=project.company,
        investment_yi=project.investment_yi,
        amount_text=project.amount_text,
        stage=project.stage,
        region=project.region,
        evidence=mention.evidence if mention else "",
        article_title=article.title,
        article_url=article.url,
        published=article.published,
    )

"""The outbox dispatcher: send pending alert rows, record every attempt, back off on failure.

A crawl only writes alert rows (new projects, and source-health changes: ``crawler.alerts.health``);
this sends them, whatever their kind, the same way. A channel that is down leaves its rows pending
(with a growing delay) and never blocks the crawl or the other channels: after one failure in a
pass, the channel's other alerts wait for the next pass instead of each waiting out a timeout.

Each attempt is claimed before the send, in a committed transaction: ``attempts`` goes up, an
``alert_attempts`` row is started, and ``next_attempt_at`` moves one lease ahead, so a second
dispatcher leaves the alert alone. A channel's due alerts are claimed up to ``RetryPolicy.batch`` at
a time, in one transaction (rows locked ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's write
lock taken first; the UPDATE is guarded on status and due time and says with RETURNING which rows it
took), their messages rendered with a few set-based queries (``crawler.alerts.outbox``). Then each
is sent, and its own transaction marks it sent (or records the error and the backoff) right after
its send, so a process killed between a send and its record leaves exactly one sent-but-unrecorded
alert: it is sent again once the lease has passed, with the same idempotency key: at most one
duplicate, nothing lost. (Recording a batch's successes together would be faster still, ~1.7x on
SQLite and ~3x on PostgreSQL to a jsonl sink, but a crash would then re-send every sent alert of
the batch not yet recorded, each once: more duplicates for a few tenths of a millisecond an alert.)

Claimed alerts not sent yet are handed back (attempts and due time as they were, their attempt row
deleted: each row is one real try) when the channel fails, when the dispatcher is interrupted
(KeyboardInterrupt, SystemExit) and when half the lease has gone by, so the rest is claimed afresh.
Only a process killed outright (SIGKILL, power) leaves the rest of its batch claimed: those alerts
were never sent, and go out once the lease has passed (a delay, no duplicate; their attempt rows
stay unfinished and count towards ``max_attempts``, like any interrupted try).

The lease runs from the claim: the pass's ``now`` advanced by the seconds the pass has taken.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from loguru import logger
from sqlalchemy import ColumnElement, Connection, Row, Table, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import OperationalError

from crawler.alerts.message import Message
from crawler.alerts.notifiers import Notifier
from crawler.alerts.outbox import render_alerts
from crawler.store.db import Database
from crawler.store.schema import AlertAttemptRow, AlertRow

ClaimRow = Row[int, int, datetime | None, str | None]  # id, attempts, next_attempt_at, last_error


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 30.0
    max_delay_s: float = 6 * 3600.0
    lease_s: float = 600.0  # an attempt not finished by then (the process died) is tried again
    batch: int = 50  # alerts of one channel claimed per transaction

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
    attempts: int  # counting this one
    channel: str
    message: Message
    lease_until: datetime
    previous_due: datetime | None  # next_attempt_at before the claim: restored if handed back unsent


@dataclass(frozen=True)
class PassClock:
    """The pass's ``now``, advancing with the wall clock: leases start when they are taken."""

    start: datetime
    started: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started)


def dispatch_pending(
    db: Database, notifiers: Sequence[Notifier], now: datetime | None = None, policy: RetryPolicy | None = None
) -> DispatchStats:
    policy = policy or RetryPolicy()
    clock = PassClock(now or datetime.now())
    by_channel = {n.name: n for n in notifiers}
    stats = DispatchStats()
    with db.engine.connect() as conn:
        with conn.begin():
            due = conn.execute(
                select(AlertRow.id, AlertRow.channel)
                .where(AlertRow.status == "pending", AlertRow.channel.in_(list(by_channel)), _due(clock.start))
                .order_by(AlertRow.id)
            ).all()
        ids_by_channel: dict[str, list[int]] = {}
        for alert_id, channel in due:
            ids_by_channel.setdefault(channel, []).append(alert_id)
        for channel, ids in ids_by_channel.items():
            _dispatch_channel(conn, by_channel[channel], ids, clock, policy, stats)
    return stats


def _due(now: datetime) -> ColumnElement[bool]:
    return (AlertRow.next_attempt_at.is_(None)) | (AlertRow.next_attempt_at <= now)


def _dispatch_channel(
    conn: Connection, notifier: Notifier, ids: list[int], clock: PassClock, policy: RetryPolicy, stats: DispatchStats
) -> None:
    """Claim and send one channel's due alerts, a batch at a time, until done or the channel fails."""
    queue = deque(ids)
    while queue:
        batch = [queue.popleft() for _ in range(min(policy.batch, len(queue)))]
        claims = claim_batch(conn, batch, clock, policy)
        up, unsent = _send_batch(conn, notifier, claims, clock, policy, stats)
        handed_back = _hand_back_quietly(conn, unsent)
        if not up:
            stats.deferred += len(unsent) + len(queue)
            return
        queue.extendleft(reversed(handed_back))  # the lease ran half out: claimed again, afresh


def claim_batch(conn: Connection, ids: Sequence[int], clock: PassClock, policy: RetryPolicy) -> list[Claim]:
    """Take these alerts (those still due) for one attempt each, committed before anything is sent."""
    try:
        with conn.begin():
            _lock_for_claim(conn)
            rows = conn.execute(
                select(AlertRow.id, AlertRow.attempts, AlertRow.next_attempt_at, AlertRow.last_error)
                .where(AlertRow.id.in_(ids), AlertRow.status == "pending", _due(clock.start))
                .order_by(AlertRow.id)
                .with_for_update(skip_locked=True)
            ).all()
            _give_up_interrupted(conn, [r for r in rows if r.attempts >= policy.max_attempts])
            rows = [r for r in rows if r.attempts < policy.max_attempts]
            if not rows:
                return []
            lease_until = clock.now() + timedelta(seconds=policy.lease_s)
            taken = set(
                conn.scalars(
                    update(AlertRow)
                    .where(AlertRow.id.in_([r.id for r in rows]), AlertRow.status == "pending", _due(clock.start))
                    .values(attempts=AlertRow.attempts + 1, next_attempt_at=lease_until)
                    .returning(AlertRow.id)
                ).all()
            )
            rows = [r for r in rows if r.id in taken]  # another dispatcher may have taken some first
            return _start_attempts(conn, rows, lease_until)
    except OperationalError as exc:  # e.g. SQLite busy: leave them for the next pass
        logger.warning("{} alerts not claimed this pass: {}", len(ids), exc.orig)
        return []


def _lock_for_claim(conn: Connection) -> None:
    """On SQLite, a write that changes nothing: the driver BEGINs and SQLite grants the writer's lock
    before anything is read (PostgreSQL locks the rows themselves, ``FOR UPDATE SKIP LOCKED``)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("UPDATE alerts SET id = id WHERE 1 = 0"))


def _give_up_interrupted(conn: Connection, rows: Sequence[ClaimRow]) -> None:
    """Every try so far died mid-send: stop the crash loop."""
    for row in rows:
        conn.execute(
            update(AlertRow)
            .where(AlertRow.id == row.id)
            .values(status="failed", last_error=row.last_error or f"gave up: {row.attempts} attempts interrupted")
        )


def _start_attempts(conn: Connection, rows: Sequence[ClaimRow], lease_until: datetime) -> list[Claim]:
    if not rows:
        return []
    started = datetime.now()
    started_rows = conn.execute(
        insert(AlertAttemptRow).returning(AlertAttemptRow.alert_id, AlertAttemptRow.id),
        [{"alert_id": r.id, "started_at": started} for r in rows],
    )
    attempt_ids = {alert_id: attempt_id for alert_id, attempt_id in started_rows}
    messages = render_alerts(conn, [r.id for r in rows])
    return [
        Claim(
            r.id,
            attempt_ids[r.id],
            r.attempts + 1,
            messages[r.id][0],
            messages[r.id][1],
            lease_until,
            r.next_attempt_at,
        )
        for r in rows
    ]


def _send_batch(
    conn: Connection,
    notifier: Notifier,
    claims: list[Claim],
    clock: PassClock,
    policy: RetryPolicy,
    stats: DispatchStats,
) -> tuple[bool, list[Claim]]:
    """Send the claimed alerts in turn: (the channel is still up, the claims left unsent).

    The first goes out right after its claim; a later one only while half its lease is left.
    """
    half_lease = timedelta(seconds=policy.lease_s / 2)
    for i, claim in enumerate(claims):
        if i and clock.now() > claim.lease_until - half_lease:
            return True, claims[i:]
        try:
            up = _send_one(conn, notifier, claim, clock.start, policy, stats)
        except BaseException:  # interrupted: the one in flight keeps its claim, the rest go back
            _hand_back_quietly(conn, claims[i + 1 :])
            raise
        if not up:
            return False, claims[i + 1 :]
    return True, []


def _send_one(
    conn: Connection, notifier: Notifier, claim: Claim, now: datetime, policy: RetryPolicy, stats: DispatchStats
) -> bool:
    """Send, record. False when the channel failed."""
    try:
        notifier.send(claim.message)
    except Exception as exc:  # any channel failure is recorded, never raised into the crawl
        if record_failure(conn, claim, f"{type(exc).__name__}: {exc}"[:2000], now, policy):
            stats.failed += 1
        else:
            stats.retrying += 1
        return False
    record_success(conn, claim)
    stats.sent += 1
    logger.info("alert #{} sent to {}: {}", claim.alert_id, claim.channel, claim.message.headline())
    return True


def hand_back(conn: Connection, claims: Sequence[Claim]) -> list[int]:
    """Undo the claims of alerts not sent: attempts and due time as before, no attempt row. Their ids."""
    if not claims:
        return []
    returned: list[Claim] = []
    with conn.begin():
        for claim in claims:
            result = conn.execute(
                update(AlertRow)
                .where(AlertRow.id == claim.alert_id, AlertRow.status == "pending")
                .where(AlertRow.attempts == claim.attempts)
                .values(attempts=claim.attempts - 1, next_attempt_at=claim.previous_due)
            )
            if result.rowcount == 1:  # else another dispatcher took it over after the lease: its row stays
                returned.append(claim)
        if returned:
            conn.execute(delete(AlertAttemptRow).where(AlertAttemptRow.id.in_([c.attempt_id for c in returned])))
    return [c.alert_id for c in returned]


def _hand_back_quietly(conn: Connection, claims: Sequence[Claim]) -> list[int]:
    """``hand_back``, and on a database error a warning: those alerts wait for their lease instead."""
    try:
        return hand_back(conn, claims)
    except Exception as exc:
        logger.warning("{} claimed alerts not handed back, sent after their lease: {}", len(claims), exc)
        return []


# The statements of the per-alert path, built once: the ORM's statement building cost more than the database.
_ALERTS = cast(Table, AlertRow.__table__)
_ATTEMPTS = cast(Table, AlertAttemptRow.__table__)
_MARK_SENT = (
    update(_ALERTS)
    .where(_ALERTS.c.id == bindparam("b_alert"))
    .values(status="sent", sent_at=bindparam("b_finished"), last_error=None, next_attempt_at=None)
)
_FINISH_ATTEMPT = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("b_attempt"))
    .values(finished_at=bindparam("b_finished"), ok=bindparam("b_ok"), error=bindparam("b_error"))
)


def record_success(conn: Connection, claim: Claim) -> None:
    """Mark it sent, in its own transaction right after its send (at most one unrecorded send at a time)."""
    finished = datetime.now()
    with conn.begin():
        conn.execute(_MARK_SENT, {"b_alert": claim.alert_id, "b_finished": finished})
        _finish_attempt(conn, claim, finished, None)


def record_failure(conn: Connection, claim: Claim, error: str, now: datetime, policy: RetryPolicy) -> bool:
    """Record the error; back off, or give up after ``max_attempts`` (then True)."""
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
    with conn.begin():
        conn.execute(update(AlertRow).where(AlertRow.id == claim.alert_id).values(**values))
        _finish_attempt(conn, claim, datetime.now(), error)
    return gave_up


def _finish_attempt(conn: Connection, claim: Claim, finished: datetime, error: str | None) -> None:
    conn.execute(
        _FINISH_ATTEMPT,
        {"b_attempt": claim.attempt_id, "b_finished": finished, "b_ok": error is None, "b_error": error},
    )


def retry_failed(db: Database, now: datetime | None = None, channel: str | None = None) -> int:
    """Give failed alerts a fresh round of attempts, due now. Returns how many."""
    now = now or datetime.now()
    with db.engine.begin() as conn:
        query = update(AlertRow).where(AlertRow.status == "failed")
        if channel:
            query = query.where(AlertRow.channel == channel)
        result = conn.execute(query.values(status="pending", attempts=0, next_attempt_at=now))
        return int(result.rowcount or 0)

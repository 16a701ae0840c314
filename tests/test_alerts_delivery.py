"""Delivery through the outbox to a real HTTP receiver: signatures, retries, crashes, a channel down.

Runs on SQLite, and on PostgreSQL whenever the test server answers.
"""

from __future__ import annotations

import hashlib
import hmac
import textwrap
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.alerts.dispatch import RetryPolicy, dispatch_pending
from crawler.alerts.message import AlertMessage
from crawler.alerts.notifiers import DeliveryError, Notifier
from crawler.alerts.webhook import WebhookNotifier
from crawler.store import open_database
from crawler.store.db import Database
from crawler.store.schema import AlertAttemptRow, AlertRow
from tests.alerts_helpers import Receiver, add_alerts, free_port, http_receiver, kill_mid_send

T0 = datetime(2023, 4, 4, 13)
POLICY = RetryPolicy(base_delay_s=60, lease_s=600)


@pytest.fixture
def db(database_url: str) -> Database:
    return open_database(database_url)


def statuses(db: Database) -> dict[int, tuple[str, int]]:
    with db.session() as s:
        return {a.id: (a.status, a.attempts) for a in s.scalars(select(AlertRow))}


def test_signed_payload_carries_the_idempotency_key(db: Database) -> None:
    [alert_id] = add_alerts(db, ("hook",))
    with http_receiver() as rec:
        hook = WebhookNotifier("hook", f"{rec.url}/newsmon", secret="s3cret")
        stats = dispatch_pending(db, [hook], now=T0, policy=POLICY)
    assert stats.sent == 1
    [req] = rec.requests
    expected = "sha256=" + hmac.new(b"s3cret", req.body, hashlib.sha256).hexdigest()
    assert req.headers["X-Newsmon-Signature"] == expected
    body = req.json()
    with db.session() as s:
        key = s.get_one(AlertRow, alert_id).idempotency_key
    assert body["idempotency_key"] == req.headers["Idempotency-Key"] == body["alert"]["idempotency_key"] == key
    alert = body["alert"]
    assert alert["investment_yi"] == 86.8 and alert["amount_text"] == "86.8亿元" and alert["company"] == "江苏三木集团"
    assert alert["region"] == "辽宁省 抚顺市" and alert["published"] == "2023-04-04" and "1607亩" in alert["evidence"]
    assert alert["article_url"].startswith("http://fs.gov.cn/a0.html") and alert["stage"] == "signed"
    assert statuses(db) == {alert_id: ("sent", 1)}


def test_500_three_times_then_200_delivers_each_alert_once(db: Database) -> None:
    ids = add_alerts(db, ("hook",), projects=3)
    script = Receiver(replies=[(500, b"boom")] * 3)
    with http_receiver(script) as rec:
        hook = WebhookNotifier("hook", rec.url)
        now = T0
        for _ in range(8):
            dispatch_pending(db, [hook], now=now, policy=POLICY)
            now += timedelta(hours=1)  # past any backoff so far
    assert len(rec.requests) == 3 + 3  # three refused, then one per alert
    assert sorted(rec.keys()[3:]) == sorted({*rec.keys()})  # after the failures, each key exactly once
    assert all(v[0] == "sent" for v in statuses(db).values())
    with db.session() as s:
        attempts = s.scalars(select(AlertAttemptRow).order_by(AlertAttemptRow.id)).all()
    assert [a.ok for a in attempts] == [False, False, False, True, True, True]
    assert all(a.finished_at is not None for a in attempts)
    assert all("HTTP 500" in (a.error or "") for a in attempts[:3])
    assert {a.alert_id for a in attempts[:3]} == {ids[0]}  # the channel failed: the others waited their turn


def test_backoff_grows_and_gives_up_at_the_cap(db: Database) -> None:
    [alert_id] = add_alerts(db, ("hook",))
    policy = RetryPolicy(max_attempts=3, base_delay_s=60)
    with http_receiver(Receiver(default=(503, b"down"))) as rec:
        hook = WebhookNotifier("hook", rec.url)
        assert dispatch_pending(db, [hook], now=T0, policy=policy).retrying == 1
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=59), policy=policy).retrying == 0  # waiting
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=60), policy=policy).retrying == 1
        with db.session() as s:
            assert s.get_one(AlertRow, alert_id).next_attempt_at == T0 + timedelta(seconds=60 + 120)
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=179), policy=policy).failed == 0
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=180), policy=policy).failed == 1
        assert dispatch_pending(db, [hook], now=T0 + timedelta(days=9), policy=policy).failed == 0
    assert len(rec.requests) == 3
    with db.session() as s:
        alert = s.get_one(AlertRow, alert_id)
        assert (alert.status, alert.attempts) == ("failed", 3) and "HTTP 503: down" in (alert.last_error or "")


class SendThenDie(Notifier):
    """A channel whose message goes out, then the process dies before the dispatcher records it."""

    def __init__(self, inner: Notifier, death: type[BaseException]) -> None:
        super().__init__(inner.name)
        self.inner = inner
        self.death = death

    def send(self, message: AlertMessage) -> None:
        self.inner.send(message)
        raise self.death()


@pytest.mark.parametrize("death", [KeyboardInterrupt, SystemExit])
def test_killed_between_send_and_commit_repeats_at_most_once(db: Database, death: type[BaseException]) -> None:
    add_alerts(db, ("hook",), projects=2)
    with http_receiver() as rec:
        hook = WebhookNotifier("hook", rec.url)
        with pytest.raises(death):
            dispatch_pending(db, [SendThenDie(hook, death)], now=T0, policy=POLICY)
        assert len(rec.requests) == 1
        # A restarted dispatcher right away leaves the interrupted alert alone (its lease runs), sends the other.
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=1), policy=POLICY).sent == 1
        # Once the lease is over the interrupted one goes again: the one duplicate, with the same key.
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=601), policy=POLICY).sent == 1
        assert dispatch_pending(db, [hook], now=T0 + timedelta(days=1), policy=POLICY).sent == 0
    keys = rec.keys()
    assert len(keys) == 3 and len(set(keys)) == 2 and keys[0] == keys[2]
    with db.session() as s:
        attempts = s.scalars(select(AlertAttemptRow).order_by(AlertAttemptRow.id)).all()
    assert [a.finished_at is None for a in attempts] == [True, False, False]  # the interrupted one shows


def test_a_message_that_kills_every_dispatcher_is_given_up(db: Database) -> None:
    [alert_id] = add_alerts(db, ("hook",))
    policy = RetryPolicy(max_attempts=2, lease_s=600)
    with http_receiver() as rec:
        dying = SendThenDie(WebhookNotifier("hook", rec.url), KeyboardInterrupt)
        for minutes in (0, 11):
            with pytest.raises(KeyboardInterrupt):
                dispatch_pending(db, [dying], now=T0 + timedelta(minutes=minutes), policy=policy)
        assert dispatch_pending(db, [dying], now=T0 + timedelta(minutes=22), policy=policy).sent == 0
    assert len(rec.requests) == 2
    with db.session() as s:
        alert = s.get_one(AlertRow, alert_id)
    assert (alert.status, alert.attempts, alert.last_error) == ("failed", 2, "gave up: 2 attempts interrupted")


CHILD = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from crawler.alerts.dispatch import RetryPolicy, dispatch_pending
    from crawler.alerts.webhook import WebhookNotifier
    from crawler.store import open_database

    db = open_database(sys.argv[1])
    dispatch_pending(db, [WebhookNotifier("hook", sys.argv[2])], now=datetime(2023, 4, 4, 13),
                     policy=RetryPolicy(lease_s=600))
    """
)


def test_sigkill_after_the_receiver_got_it(db: Database, database_url: str, tmp_path: Path) -> None:
    add_alerts(db, ("hook",))
    hold = threading.Event()
    with http_receiver(Receiver(hold=hold)) as rec:
        kill_mid_send(CHILD, database_url, rec)
        hold.set()
        hook = WebhookNotifier("hook", rec.url)
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=10), policy=POLICY).sent == 0
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=601), policy=POLICY).sent == 1
        assert dispatch_pending(db, [hook], now=T0 + timedelta(days=1), policy=POLICY).sent == 0
    keys = rec.keys()
    assert len(keys) == 2 and keys[0] == keys[1]
    assert list(statuses(db).values()) == [("sent", 2)]


def test_a_channel_down_neither_blocks_the_others_nor_waits_per_alert(db: Database) -> None:
    add_alerts(db, ("dead", "hook"), projects=4)
    with http_receiver() as rec:
        dead = WebhookNotifier("dead", f"http://127.0.0.1:{free_port()}/x", timeout_s=2)
        stats = dispatch_pending(db, [dead, WebhookNotifier("hook", rec.url)], now=T0, policy=POLICY)
    assert (stats.sent, stats.retrying, stats.deferred) == (4, 1, 3)
    assert len(rec.requests) == 4
    with db.session() as s:
        dead_rows = s.scalars(select(AlertRow).where(AlertRow.channel == "dead")).all()
    assert all(a.status == "pending" for a in dead_rows)
    assert sorted(a.attempts for a in dead_rows) == [0, 0, 0, 1]
    assert "unreachable" in next(a.last_error for a in dead_rows if a.attempts)


def test_webhook_rejects_non_2xx_and_redirects() -> None:
    with http_receiver(Receiver(replies=[(302, b""), (404, b"nope")])) as rec:
        hook = WebhookNotifier("hook", rec.url)
        msg_key = "k"
        for expected in ("HTTP 302", "HTTP 404: nope"):
            with pytest.raises(DeliveryError, match=expected):
                hook.post({"idempotency_key": msg_key}, msg_key)

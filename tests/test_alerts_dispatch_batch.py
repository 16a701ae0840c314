"""The dispatcher's batch claims: concurrent dispatchers, one attempt row per try, hand-backs, rendering.

Runs on SQLite, and on PostgreSQL whenever the test server answers.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crawler.alerts.dispatch import PassClock, RetryPolicy, claim_batch, dispatch_pending
from crawler.alerts.message import AlertMessage, Message
from crawler.alerts.notifiers import Notifier
from crawler.alerts.webhook import WebhookNotifier
from crawler.store import open_database
from crawler.store.db import Database
from crawler.store.schema import AlertAttemptRow, AlertRow, MentionRow
from tests.alerts_helpers import Receiver, add_alerts, http_receiver, kill_mid_send

T0 = datetime(2023, 4, 4, 13)


class Recorder(Notifier):
    """Records what it sends; fails the sends whose number (from 1) is in ``fail_on``."""

    def __init__(self, name: str, fail_on: tuple[int, ...] = (), pause_s: float = 0.0) -> None:
        super().__init__(name)
        self.fail_on = fail_on
        self.pause_s = pause_s
        self.calls = 0
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.calls += 1
        if self.calls in self.fail_on:
            raise ConnectionError("channel down")
        if self.pause_s:
            time.sleep(self.pause_s)
        self.sent.append(message)


@pytest.fixture
def db(database_url: str) -> Database:
    return open_database(database_url)


def tries(db: Database) -> dict[int, tuple[int, list[bool | None]]]:
    """alert id -> (its attempts counter, the ok of each of its attempt rows in order)."""
    with db.session() as s:
        out = {a.id: (a.attempts, []) for a in s.scalars(select(AlertRow))}
        for attempt in s.scalars(select(AlertAttemptRow).order_by(AlertAttemptRow.id)):
            out[attempt.alert_id][1].append(attempt.ok)
    return {k: (n, oks) for k, (n, oks) in out.items()}


def test_a_batch_claimed_by_one_dispatcher_is_left_alone_by_another(db: Database, database_url: str) -> None:
    ids = add_alerts(db, ("hook",), projects=4)
    policy = RetryPolicy()
    other = open_database(database_url)  # a second process's engine on the same database
    try:
        with db.engine.connect() as conn:
            claims = claim_batch(conn, ids[:3], PassClock(T0), policy)  # one batch
        assert [c.alert_id for c in claims] == ids[:3]
        with other.engine.connect() as conn:
            theirs = claim_batch(conn, ids, PassClock(T0), policy)  # the same ids, at the same time
        assert [c.alert_id for c in theirs] == [ids[3]]  # only what the first left
        hook = Recorder("hook")
        for database in (db, other):  # while the leases run, neither sends any of them
            assert dispatch_pending(database, [hook], now=T0 + timedelta(seconds=1), policy=policy).sent == 0
        assert hook.sent == []
    finally:
        other.close()
    assert tries(db) == {ids[0]: (1, [None]), ids[1]: (1, [None]), ids[2]: (1, [None]), ids[3]: (1, [None])}


def test_dispatchers_running_at_once_send_each_alert_once(db: Database, database_url: str) -> None:
    ids = add_alerts(db, ("hook",), projects=60)
    policy = RetryPolicy(batch=7)
    others = [open_database(database_url) for _ in range(2)]
    channels = [Recorder("hook", pause_s=0.001) for _ in others]
    start = threading.Barrier(len(others))
    errors: list[BaseException] = []

    def run(database: Database, channel: Recorder) -> None:
        try:
            start.wait(10)
            dispatch_pending(database, [channel], now=T0, policy=policy)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(others, channels, strict=True)]
    try:
        [t.start() for t in threads]
        [t.join(120) for t in threads]
    finally:
        [o.close() for o in others]
    assert errors == []
    keys = Counter(m.idempotency_key for c in channels for m in c.sent)
    assert len(keys) == len(ids) and set(keys.values()) == {1}  # nothing lost, nothing twice
    assert tries(db) == {i: (1, [True]) for i in ids}


def test_each_try_is_one_attempt_row_across_batches_failures_and_hand_backs(db: Database) -> None:
    ids = add_alerts(db, ("hook",), projects=5)
    policy = RetryPolicy(batch=2, base_delay_s=60)
    hook = Recorder("hook", fail_on=(3,))
    first = dispatch_pending(db, [hook], now=T0, policy=policy)
    # batch 1: two sent; batch 2: the third fails, the fourth is handed back; the fifth never claimed
    assert (first.sent, first.retrying, first.deferred) == (2, 1, 2)
    assert tries(db) == {
        ids[0]: (1, [True]),
        ids[1]: (1, [True]),
        ids[2]: (1, [False]),
        ids[3]: (0, []),
        ids[4]: (0, []),
    }
    with db.session() as s:
        handed_back = s.get_one(AlertRow, ids[3])
        assert handed_back.next_attempt_at == datetime(2023, 4, 4, 12) and handed_back.status == "pending"
    later = dispatch_pending(db, [hook], now=T0 + timedelta(hours=1), policy=policy)
    assert (later.sent, later.retrying, later.deferred) == (3, 0, 0)
    assert tries(db) == {
        ids[0]: (1, [True]),
        ids[1]: (1, [True]),
        ids[2]: (2, [False, True]),
        ids[3]: (1, [True]),
        ids[4]: (1, [True]),
    }
    assert [m.idempotency_key for m in hook.sent] == [f"key-{i}-hook" for i in range(1, 6)]


def test_the_rest_of_a_batch_goes_back_once_half_its_lease_is_gone(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_alerts(db, ("hook",), projects=5)
    elapsed = [0.0]

    class Slow(Recorder):
        def send(self, message: Message) -> None:
            super().send(message)
            elapsed[0] += 200  # seconds of a lease of 600

    monkeypatch.setattr(PassClock, "now", lambda self: self.start + timedelta(seconds=elapsed[0]))
    hook = Slow("hook")
    stats = dispatch_pending(db, [hook], now=T0, policy=RetryPolicy(batch=5, lease_s=600))
    assert stats.sent == 5 and len(hook.sent) == 5
    assert tries(db) == {i: (1, [True]) for i in ids}  # claimed again afresh: no extra attempt


def test_interrupted_mid_batch_hands_the_unsent_back(db: Database) -> None:
    ids = add_alerts(db, ("hook",), projects=3)

    class Dies(Recorder):
        def send(self, message: Message) -> None:
            super().send(message)
            if len(self.sent) == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dispatch_pending(db, [Dies("hook")], now=T0, policy=RetryPolicy())
    # the first recorded, the second in flight keeps its claim, the third is as if never claimed
    assert tries(db) == {ids[0]: (1, [True]), ids[1]: (1, [None]), ids[2]: (0, [])}


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


def test_sigkill_mid_batch_delays_the_rest_until_the_lease_and_duplicates_only_the_one_in_flight(
    db: Database, database_url: str
) -> None:
    ids = add_alerts(db, ("hook",), projects=3)
    hold = threading.Event()
    policy = RetryPolicy(lease_s=600)
    with http_receiver(Receiver(hold=hold)) as rec:
        kill_mid_send(CHILD, database_url, rec)
        hold.set()
        hook = WebhookNotifier("hook", rec.url)
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=10), policy=policy).sent == 0  # all leased
        assert dispatch_pending(db, [hook], now=T0 + timedelta(seconds=601), policy=policy).sent == 3
        assert dispatch_pending(db, [hook], now=T0 + timedelta(days=1), policy=policy).sent == 0
    keys = Counter(rec.keys())
    assert sorted(keys.values()) == [1, 1, 2] and keys[f"key-{ids[0]}-hook"] == 2  # the one in flight, twice
    assert tries(db) == {ids[0]: (2, [None, True]), ids[1]: (2, [None, True]), ids[2]: (2, [None, True])}


def test_a_batch_renders_each_alert_from_its_own_rows(db: Database) -> None:
    ids = add_alerts(db, ("hook",), projects=3)
    with db.transaction() as s:
        first = s.get_one(AlertRow, ids[0])
        for amount, evidence in ((None, "没有金额的一句"), (Decimal("120"), "总投资120亿元的一句")):
            s.add(
                MentionRow(
                    project_id=first.project_id,
                    article_id=first.article_id,
                    name="x",
                    investment_yi=amount,
                    amount_text=None,
                    stage="signed",
                    evidence=evidence,
                    created_at=T0,
                )
            )
    hook = Recorder("hook")
    assert dispatch_pending(db, [hook], now=T0, policy=RetryPolicy()).sent == 3
    messages = [m for m in hook.sent if isinstance(m, AlertMessage)]
    assert [m.project for m in messages] == [f"65万吨苯酚丙酮一体化产业链项目{i}" for i in range(3)]
    assert [m.article_url for m in messages] == [f"http://fs.gov.cn/a{i}.html?x=1&y=<2>" for i in range(3)]
    assert [m.investment_yi for m in messages] == [Decimal("86.8") + i for i in range(3)]
    assert messages[0].evidence == "总投资120亿元的一句"  # the mention with the largest amount
    assert all("1607亩" in m.evidence for m in messages[1:])


def test_a_failing_channel_hands_back_without_touching_the_others(db: Database) -> None:
    add_alerts(db, ("dead", "hook"), projects=3)
    dead, hook = Recorder("dead", fail_on=(1,)), Recorder("hook")
    stats = dispatch_pending(db, [dead, hook], now=T0, policy=RetryPolicy())
    assert (stats.sent, stats.retrying, stats.deferred) == (3, 1, 2)
    with db.session() as s:
        rows = s.scalars(select(AlertRow).order_by(AlertRow.id)).all()
    assert [(a.channel, a.status, a.attempts) for a in rows if a.channel == "dead"] == [
        ("dead", "pending", 1),
        ("dead", "pending", 0),
        ("dead", "pending", 0),
    ]
    assert all(a.status == "sent" for a in rows if a.channel == "hook")

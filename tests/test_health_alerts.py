"""Source-health alerts against a real database: the outbox rows, their delivery, status and listing.

Runs are written as a crawl writes them (``crawl_runs`` rows, ``ListPageStore.record`` for the column
streaks); ``track_health`` is what ``run_crawl`` calls after each crawl. Delivery goes to a real HTTP
receiver and a real SMTP server. On SQLite, and on PostgreSQL whenever the test server answers.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import func, select, text

from crawler.alerts.commands import list_alerts
from crawler.alerts.dispatch import RetryPolicy, dispatch_pending
from crawler.alerts.health import track_health
from crawler.alerts.mail import EmailNotifier, SmtpSettings
from crawler.alerts.webhook import WebhookNotifier
from crawler.config import HealthSettings, Source, load_config
from crawler.fetch import ListOutcome, ListPageStore
from crawler.scheduler.status import collect_status, render_text
from crawler.store import Database, open_database
from crawler.store.db import MIGRATIONS, make_engine, upgrade
from crawler.store.schema import AlertRow, CrawlRunRow, HealthStateRow
from tests.alerts_helpers import Receiver, add_alerts, http_receiver, smtp_server

T0 = datetime(2024, 5, 1, 8)
SINKS = ("mail", "hook")
COLUMN = "http://dead.example.gov.cn/zsyz/index.html"
DEAD = Source("dead", (COLUMN,))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


class Crawls:
    """Writes what a crawl of one source records, then runs the health hook, an hour apart each time."""

    def __init__(self, db: Database, source: Source = DEAD, settings: HealthSettings | None = None) -> None:
        self.db, self.source, self.settings = db, source, settings or HealthSettings()
        self.now = T0

    def crawl(self, outcome: ListOutcome, failed: bool | None = None) -> int:
        """One run whose (first) column ended in ``outcome``; returns the alert rows the hook queued."""
        self.now += timedelta(hours=1)
        failed = outcome.status in {"error", "empty"} if failed is None else failed
        with self.db.transaction() as session:
            session.add(
                CrawlRunRow(
                    source_name=self.source.name,
                    kind="crawl",
                    status="failed" if failed else "ok",
                    started_at=self.now,
                    finished_at=self.now + timedelta(seconds=5),
                    error_text=f"list page 1 {outcome.error}" if failed else None,
                )
            )
        ListPageStore(self.db).record(self.source.name, {self.source.list_urls[0]: outcome}, keep_validators=True)
        before = count(self.db)
        track_health(self.db, [self.source], self.settings, SINKS, now=self.now)
        return count(self.db) - before

    def down(self) -> int:
        return self.crawl(ListOutcome("error", error=f"{COLUMN}: connection refused (host down?)"))

    def up(self, links: int = 5) -> int:
        return self.crawl(ListOutcome("ok", links))

    def empty(self) -> int:
        return self.crawl(ListOutcome("empty", error=f"{COLUMN}: no article links (layout changed?)"))


def count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.kind == "source_health")) or 0)


def health_rows(db: Database) -> list[AlertRow]:
    with db.session() as s:
        return list(s.scalars(select(AlertRow).where(AlertRow.kind == "source_health").order_by(AlertRow.id)))


def test_one_alert_per_channel_when_it_breaks_one_when_it_recovers_again_when_it_breaks(db: Database) -> None:
    crawls = Crawls(db)
    assert [crawls.up(), crawls.down(), crawls.down()] == [0, 0, 0]
    assert crawls.down() == 2  # third failure in a row: one row per channel
    assert [crawls.down(), crawls.down()] == [0, 0]  # still down: nothing more
    assert crawls.up() == 2  # recovered
    assert [crawls.up(), crawls.down(), crawls.down()] == [0, 0, 0]
    assert crawls.down() == 2  # broken again: a new alert
    rows = health_rows(db)
    assert [(r.rule, r.channel) for r in rows] == [
        ("source-unhealthy", "mail"),
        ("source-unhealthy", "hook"),
        ("source-recovered", "mail"),
        ("source-recovered", "hook"),
        ("source-unhealthy", "mail"),
        ("source-unhealthy", "hook"),
    ]
    assert len({r.idempotency_key for r in rows}) == 6
    assert all(r.project_id is None and r.source_name == "dead" and r.status == "pending" for r in rows)
    first = json.loads(rows[0].payload or "")
    assert first["change"] == "unhealthy" and first["columns"] == [COLUMN]
    assert "connection refused" in first["problem"] and first["action"] == "newsmon sources check dead"
    recovered = json.loads(rows[2].payload or "")
    assert recovered["unhealthy_since"] == (T0 + timedelta(hours=4)).isoformat()


def test_a_column_whose_layout_changed_is_reported_with_the_links_it_had(db: Database) -> None:
    source = Source("two-columns", ("http://a.gov.cn/zsyz/", "http://a.gov.cn/tzgg/"))
    crawls = Crawls(db, source)
    store = ListPageStore(db)

    def crawl(first: ListOutcome) -> int:
        # the second column stays fine, so every run is ok: only the first column's streak tells
        store.record(source.name, {"http://a.gov.cn/tzgg/": ListOutcome("ok", 7)}, keep_validators=True)
        return crawls.crawl(first, failed=False)

    assert crawl(ListOutcome("ok", 12)) == 0
    assert crawl(ListOutcome("not_modified")) == 0
    empty = ListOutcome("empty", error="http://a.gov.cn/zsyz/: no article links (layout changed?)")
    assert [crawl(empty), crawl(empty)] == [0, 0]
    assert crawl(empty) == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CrawlRunRow).where(CrawlRunRow.status == "failed")) == 0
    payload = json.loads(health_rows(db)[0].payload or "")
    assert payload["columns"] == ["http://a.gov.cn/zsyz/"]
    [finding] = [f for f in payload["findings"] if f["url"]]
    assert finding == {
        "kind": "layout_changed",
        "runs": 3,
        "url": "http://a.gov.cn/zsyz/",
        "error": None,
        "links_before": 12,
    }
    assert "where it used to find 12" in payload["problem"]


def test_delivery_uses_the_outbox_retries_and_keeps_the_key(db: Database) -> None:
    crawls = Crawls(db)
    [crawls.down() for _ in range(3)]
    add_alerts(db, ("hook",))  # a project alert beside it: still sent as before
    policy = RetryPolicy(base_delay_s=60)
    with http_receiver(Receiver(replies=[(503, b"busy")])) as rec, smtp_server() as (box, port):
        mail = EmailNotifier("mail", SmtpSettings("127.0.0.1", port, "none", sender="n@x.cn", recipients=("a@x.cn",)))
        hook = WebhookNotifier("hook", rec.url)
        first = dispatch_pending(db, [mail, hook], now=T0 + timedelta(days=1), policy=policy)
        assert (first.sent, first.retrying, first.deferred) == (1, 1, 1)  # the hook failed once; its next waits
        second = dispatch_pending(db, [mail, hook], now=T0 + timedelta(days=1, minutes=2), policy=policy)
        assert (second.sent, second.retrying) == (2, 0)
        again = dispatch_pending(db, [mail, hook], now=T0 + timedelta(days=2), policy=policy)
        assert again.sent == 0
    events = [r.json()["event"] for r in rec.requests]
    assert sorted(events) == ["newsmon.alert", "newsmon.source_health", "newsmon.source_health"]
    health_keys = [r.json()["idempotency_key"] for r in rec.requests if r.json()["event"] == "newsmon.source_health"]
    assert health_keys[0] == health_keys[1]  # the retry carries the same key
    payload = next(r.json() for r in rec.requests if r.json()["event"] == "newsmon.source_health")
    assert payload["source_health"]["source"] == "dead" and payload["subject"] == "[newsmon] source unhealthy: dead"
    [letter] = box.messages
    assert letter["Subject"] == "[newsmon] source unhealthy: dead" and COLUMN in letter.get_body().get_content()
    assert {r.status for r in health_rows(db)} == {"sent"}


def test_settings_turn_alerts_off_pick_channels_and_skip_recovery(db: Database) -> None:
    off = Crawls(db, Source("off", ("http://off.cn/",)), HealthSettings(alerts=False))
    assert sum(off.down() for _ in range(4)) == 0
    with db.session() as s:
        assert s.scalars(select(HealthStateRow)).all() == []  # nothing alerted, nothing recorded as alerted
    picky = Crawls(
        db, Source("picky", ("http://picky.cn/",)), HealthSettings(channels=("hook",), recovery_alerts=False)
    )
    assert sum(picky.down() for _ in range(3)) == 1
    assert picky.up() == 0
    assert sum(picky.down() for _ in range(3)) == 1  # recovered quietly, so breaking again is a new episode
    strict = Crawls(db, Source("strict", ("http://strict.cn/",)), HealthSettings(failing_runs=1))
    assert strict.down() == 2


def test_a_list_url_no_longer_configured_does_not_keep_a_source_unhealthy(db: Database) -> None:
    crawls = Crawls(db)
    assert sum(crawls.down() for _ in range(3)) == 2
    moved = Source("dead", ("http://dead.example.gov.cn/new/index.html",))
    crawls.source = moved  # the user fixed sources.yaml: the new column works, the old row keeps its streak
    assert crawls.up() == 2
    assert json.loads(health_rows(db)[-1].payload or "")["change"] == "recovered"


def write_config(folder: Path, repo: Path, database_url: str) -> Path:
    folder.mkdir()
    (folder / "rules.yaml").write_bytes((repo / "config" / "rules.yaml").read_bytes())
    app = {"database": {"url": database_url}, "alerts": {"sinks": [{"kind": "console", "name": n} for n in SINKS]}}
    (folder / "newsmon.yaml").write_text(yaml.safe_dump(app), encoding="utf-8")
    sources = {"sources": [{"name": "dead", "list_urls": [COLUMN]}, {"name": "fine", "list_urls": ["http://f.cn/"]}]}
    (folder / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
    return folder


def test_status_and_alerts_list_show_source_health(db: Database, tmp_path: Path, repo: Path, database_url: str) -> None:
    crawls = Crawls(db)
    [crawls.down() for _ in range(3)]
    Crawls(db, Source("fine", ("http://f.cn/",))).up()
    config = load_config(write_config(tmp_path / "config", repo, database_url))
    report = collect_status(config, db, None, now=T0 + timedelta(days=1))
    dead, fine = report.sources
    assert dead.health is not None and not dead.health.healthy and dead.unhealthy_since == T0 + timedelta(hours=3)
    assert fine.health is not None and fine.health.healthy and fine.unhealthy_since is None
    text = render_text(report)
    assert "UNHEALTHY (alerted 2024-05-01 11:00:00): check with `newsmon sources check dead`" in text
    assert f"{COLUMN}: failed 3 runs in a row (connection refused (host down?))" in text
    rows = list_alerts(db, None, 10)
    assert [(r["kind"], r["source"], r["project"], r["rule"]) for r in rows] == [
        ("source_health", "dead", None, "source-unhealthy"),
        ("source_health", "dead", None, "source-unhealthy"),
    ]


def test_migration_0006_keeps_project_alerts_and_their_attempts(database_url: str) -> None:
    """A database at 0005 with a sent project alert: upgraded, the alert and its attempt are intact."""
    engine = make_engine(database_url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        for statement in (
            "insert into articles (url, canonical_url, source_name, published_or_seen, text, content_hash, first_seen)"
            " values ('http://a.cn/1', 'a.cn/1', 's', '2024-01-01', 't', 'h', '2024-01-01')",
            "insert into projects (name, name_key, stage, currency, approximate, first_article_id, first_seen,"
            " last_seen) values ('p', 'p', 'signed', 'CNY', false, 1, '2024-01-01', '2024-01-01')",
            "insert into alerts (project_id, article_id, rule, channel, idempotency_key, status, attempts, created_at)"
            " values (1, 1, 'large-project', 'hook', 'k1', 'sent', 1, '2024-01-01')",
            "insert into alert_attempts (alert_id, started_at, ok) values (1, '2024-01-01', true)",
        ):
            conn.execute(text(statement))
    upgrade(engine)
    with engine.begin() as conn:
        rows = conn.execute(text("select id, kind, project_id, article_id, source_name from alerts")).all()
        assert [tuple(r) for r in rows] == [(1, "project", 1, 1, None)]
        assert conn.execute(text("select alert_id from alert_attempts")).scalar() == 1
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # back on for the pool's connection
    engine.dispose()
    db = open_database(database_url)
    assert sum(Crawls(db).down() for _ in range(3)) == 2  # and health rows (no project) go in beside it
    db.close()


def test_a_source_whose_crawls_are_killed_at_the_timeout_is_alerted(db: Database, tmp_path: Path) -> None:
    """A crawl child killed at its timeout never runs its own health hook; the daemon assesses instead."""
    from crawler.scheduler import jobs
    from crawler.scheduler.runner import ChildOutcome

    folder = tmp_path / "config"
    shutil.copytree(Path(__file__).resolve().parent.parent / "config", folder)
    sources = {"sources": [{"name": "hangs", "list_urls": [COLUMN], "enabled": True}]}
    (folder / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
    runtime = jobs.Runtime(load_config(folder), db)
    health_rows = select(func.count()).select_from(AlertRow).where(AlertRow.kind == "source_health")
    counts = []
    for _ in range(4):
        jobs._record(runtime, ChildOutcome("hangs", datetime.now(), kill_reason="crawl timed out after 600 s"))
        with db.session() as session:
            counts.append(session.scalar(health_rows))
    sinks = len(runtime.config.app.notifiers)
    assert counts == [0, 0, sinks, sinks]  # unhealthy at the third killed crawl, alerted once per sink

"""The scheduler against a real database: the job store across restarts, and settling crawl runs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from crawler.scheduler.runs import abandon_stale_runs, recent_runs, settle_child_runs, source_health
from crawler.store import Database, open_database
from crawler.store.schema import CrawlRunRow


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


def add_run(db: Database, source: str, status: str, started: datetime, error: str | None = None) -> int:
    with db.transaction() as session:
        row = CrawlRunRow(
            source_name=source,
            kind="crawl",
            status=status,
            started_at=started,
            finished_at=None if status == "running" else started + timedelta(seconds=3),
            error_text=error,
        )
        session.add(row)
        session.flush()
        return row.id


def statuses(db: Database, source: str) -> list[tuple[str, str | None]]:
    with db.transaction() as session:
        rows = session.scalars(select(CrawlRunRow).where(CrawlRunRow.source_name == source).order_by(CrawlRunRow.id))
        return [(r.status, r.error_text) for r in rows]


def test_killed_child_run_is_recorded_failed(db: Database) -> None:
    launched = datetime.now()
    add_run(db, "other", "running", launched)  # another source's run is not touched
    add_run(db, "portal", "running", launched + timedelta(seconds=1))
    assert settle_child_runs(db, "portal", launched, "timed out: killed after 5 s", force=True) == 1
    assert statuses(db, "portal") == [("failed", "timed out: killed after 5 s")]
    assert statuses(db, "other") == [("running", None)]


def test_forced_settle_fails_a_run_the_child_closed_itself(db: Database) -> None:
    launched = datetime.now()
    add_run(db, "portal", "ok", launched + timedelta(seconds=1), "partial")
    settle_child_runs(db, "portal", launched, "timed out", force=True)
    assert statuses(db, "portal") == [("failed", "timed out\npartial")]


def test_crashed_child_without_a_row_still_gets_one(db: Database) -> None:
    launched = datetime.now()
    add_run(db, "portal", "ok", launched - timedelta(hours=1))
    settle_child_runs(db, "portal", launched, "crawl process exited with status -11", force=False)
    health = source_health(db, "portal")
    assert health.error_streak == 1 and health.last_error == "crawl process exited with status -11"
    assert [r.status for r in recent_runs(db, "portal")] == ["failed", "ok"]


def test_stale_running_rows_are_abandoned(db: Database) -> None:
    now = datetime.now()
    add_run(db, "a", "running", now - timedelta(hours=2))
    add_run(db, "b", "running", now)
    assert abandon_stale_runs(db, timedelta(hours=1)) == 1
    assert statuses(db, "a")[0][0] == "failed" and statuses(db, "b")[0][0] == "running"


def test_job_store_keeps_unchanged_jobs_and_replaces_changed_ones(tmp_path: Path) -> None:
    from apscheduler.triggers.interval import IntervalTrigger

    from crawler.scheduler.daemon import JobSpec, build_scheduler, sync_jobs
    from crawler.scheduler.settings import ScheduleSettings

    db = open_database(f"sqlite:///{tmp_path / 'jobs.db'}")

    def spec(source: str, minutes: int) -> JobSpec:
        name = f"crawl {source} [every {minutes}m]"
        trigger = IntervalTrigger(minutes=minutes)
        return JobSpec(f"crawl:{source}", "crawler.scheduler.jobs:crawl_source", trigger, name, args=(source,))

    def session(specs: list[JobSpec]) -> dict[str, tuple[str, datetime]]:
        scheduler = build_scheduler(db, ScheduleSettings())
        scheduler.start(paused=True)
        try:
            sync_jobs(scheduler, specs)
            return {j.id: (j.name, j.next_run_time) for j in scheduler.get_jobs()}
        finally:
            scheduler.shutdown(wait=False)

    first = session([spec("a", 30), spec("b", 30), spec("c", 30)])
    assert set(first) == {"crawl:a", "crawl:b", "crawl:c"}
    second = session([spec("a", 30), spec("b", 60)])
    assert second["crawl:a"] == first["crawl:a"]  # kept, with its next run time
    assert second["crawl:b"][0] == "crawl b [every 60m]"
    assert "crawl:c" not in second
    db.close()

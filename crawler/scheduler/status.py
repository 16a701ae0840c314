"""`newsmon status`: per source, the last run and its result, the next run, the error streak, and
whether it is unhealthy (``crawler.health``: failing, or a column empty or failing, run after run).

Reads only the database (crawl_runs, list_pages, health_states, the APScheduler job store, the alert
outbox) and the daemon's pid file, so it works whether or not the daemon is running.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, inspect, select, text

from crawler.config import Config
from crawler.health import SourceHealth, source_health
from crawler.scheduler.health import RunSummary, assess, retry_after
from crawler.scheduler.runs import recent_runs
from crawler.scheduler.settings import source_spec
from crawler.store.db import Database
from crawler.store.schema import AlertRow, HealthStateRow

JOBS_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class SourceStatus:
    name: str
    enabled: bool
    schedule: str
    last_run: RunSummary | None
    next_run: datetime | None  # from the job store; None when the source has no job
    error_streak: int
    last_error: str | None
    backoff_until: datetime | None  # a failing source skips runs until then
    health: SourceHealth | None = None  # None: no finished run yet
    unhealthy_since: datetime | None = None  # when its unhealthy alert was queued


@dataclass(frozen=True)
class StatusReport:
    generated_at: datetime
    daemon_pid: int | None
    pending_alerts: int
    sources: tuple[SourceStatus, ...]


def collect_status(config: Config, db: Database, daemon_pid: int | None, now: datetime | None = None) -> StatusReport:
    jobs = next_run_times(db)
    verdicts, alerted = health_verdicts(config, db)
    sources = []
    for source in config.sources:
        health = assess(recent_runs(db, source.name))
        until = retry_after(health, config.app.schedule.failure_backoff)
        sources.append(
            SourceStatus(
                name=source.name,
                enabled=source.enabled,
                schedule=_schedule_text(source.schedule, config),
                last_run=health.last_run,
                next_run=jobs.get(f"crawl:{source.name}"),
                error_streak=health.error_streak,
                last_error=health.last_error,
                backoff_until=until if until is not None and until > (now or datetime.now()) else None,
                health=verdicts.get(source.name),
                unhealthy_since=alerted.get(source.name),
            )
        )
    with db.transaction() as session:
        pending = session.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.status == "pending"))
    return StatusReport(now or datetime.now(), daemon_pid, int(pending or 0), tuple(sources))


def health_verdicts(config: Config, db: Database) -> tuple[dict[str, SourceHealth], dict[str, datetime]]:
    """Each configured source's health (crawler.health), and since when the unhealthy ones were alerted."""
    names = [source.name for source in config.sources]
    columns = {source.name: source.list_urls for source in config.sources}
    with db.session() as session:
        report = source_health(session, config.app.health.failing_runs, names=names, list_urls=columns)
        states = session.execute(
            select(HealthStateRow.source_name, HealthStateRow.since).where(HealthStateRow.healthy.is_(False))
        ).all()
    verdicts = {h.source: h for h in report}
    alerted = {name: since for name, since in states if name in verdicts and not verdicts[name].healthy}
    return verdicts, alerted


def _schedule_text(schedule: str | None, config: Config) -> str:
    try:
        return source_spec(schedule, config.app.schedule).text
    except ValueError as exc:
        return f"invalid: {exc}"


def next_run_times(db: Database) -> dict[str, datetime | None]:
    """Job id -> next run (local time) from APScheduler's table; empty before the daemon first ran."""
    if not inspect(db.engine).has_table(JOBS_TABLE):
        return {}
    with db.engine.connect() as connection:
        rows = connection.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE}")).all()
    return {str(job_id): datetime.fromtimestamp(float(ts)) if ts is not None else None for job_id, ts in rows}


def report_json(report: StatusReport) -> dict[str, Any]:
    return {
        "generated_at": report.generated_at,
        "daemon": {"running": report.daemon_pid is not None, "pid": report.daemon_pid},
        "pending_alerts": report.pending_alerts,
        "sources": [_source_json(s) for s in report.sources],
    }


def _source_json(s: SourceStatus) -> dict[str, Any]:
    run = s.last_run
    return {
        "name": s.name,
        "enabled": s.enabled,
        "schedule": s.schedule,
        "last_run": None if run is None else asdict(run),
        "result": None if run is None else run.status,
        "next_run": s.next_run,
        "error_streak": s.error_streak,
        "last_error": s.last_error,
        "backoff_until": s.backoff_until,
        "healthy": s.health.healthy if s.health else None,
        "health": s.health.to_json() if s.health else None,
        "unhealthy_since": s.unhealthy_since,
    }


_COLUMNS = ("SOURCE", "SCHEDULE", "LAST RUN", "RESULT", "PAGES", "NEW", "DUP", "PROJ", "ALERTS", "NEXT RUN", "STREAK")


def render_text(report: StatusReport) -> str:
    daemon = f"running (pid {report.daemon_pid})" if report.daemon_pid else "not running"
    lines = [f"newsmon status — daemon {daemon}", f"alerts waiting in the outbox: {report.pending_alerts}", ""]
    if not report.sources:
        return "\n".join([*lines, "no sources configured (sources.yaml)"])
    rows = [_COLUMNS, *(_row(s) for s in report.sources)]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    numeric = {4, 5, 6, 7, 8, 10}
    for n, row in enumerate(rows):
        cells = [_pad(c, w, right=i in numeric and n > 0) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n:
            lines.extend(_notes(report.sources[n - 1]))
    return "\n".join(lines)


def _width(cell: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in cell)


def _pad(cell: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(cell))
    return fill + cell if right else cell + fill


def _row(s: SourceStatus) -> tuple[str, ...]:
    run = s.last_run
    result = run.status if run else "never run"
    if not s.enabled:
        result += " (disabled)"
    counts = (
        (run.pages_fetched, run.articles_new, run.articles_duplicate, run.projects_new, run.alerts_created)
        if run
        else ("", "", "", "", "")
    )
    return (
        s.name,
        s.schedule,
        _time(run.started_at) if run else "-",
        result,
        *(str(c) for c in counts),
        _time(s.next_run) if s.next_run else "-",
        str(s.error_streak),
    )


def _notes(s: SourceStatus) -> list[str]:
    notes = []
    if s.error_streak and s.last_error:
        notes.append(f"    last error: {s.last_error.splitlines()[0][:200]}")
    if s.backoff_until:
        notes.append(f"    backing off: no run before {_time(s.backoff_until)}")
    if s.health and not s.health.healthy:
        since = f" (alerted {_time(s.unhealthy_since)})" if s.unhealthy_since else ""
        notes.append(f"    UNHEALTHY{since}: check with `newsmon sources check {s.name}`")
        notes.extend(f"      {finding.describe()[:300]}" for finding in s.health.findings)
    return notes


def _time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}"

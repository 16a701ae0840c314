"""The functions APScheduler calls: crawl one source, flush the alert outbox, send the daily digest.

Jobs live in the database job store, which keeps a job's function as a ``module:function``
reference and its arguments pickled, so the arguments are plain values (a source name) and the
functions find the daemon's config, database and running children through the ``Runtime``
installed at start.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from loguru import logger

from crawler.alerts.dispatch import dispatch_pending
from crawler.alerts.health import report_unhealthy
from crawler.config import Config, Source
from crawler.scheduler.health import SourceHealth, backoff_delay, should_skip
from crawler.scheduler.runner import ChildCrawl, ChildOutcome, child_command
from crawler.scheduler.runs import settle_child_runs, source_health
from crawler.scheduler.settings import ScheduleSettings
from crawler.store.db import Database

CRAWL_JOB = "crawler.scheduler.jobs:crawl_source"
DISPATCH_JOB = "crawler.scheduler.jobs:dispatch_alerts"
DIGEST_JOB = "crawler.scheduler.jobs:send_digest"
DIGEST_MODULE = "crawler.alerts.digest"


@dataclass
class Runtime:
    config: Config
    db: Database
    verbosity: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    children: set[ChildCrawl] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    backoff_logged: dict[str, datetime] = field(default_factory=dict)  # source -> the backoff end last logged

    @property
    def settings(self) -> ScheduleSettings:
        return self.config.app.schedule

    def stop_children(self, reason: str) -> None:
        """Take no new crawls, and kill the running ones (each is then recorded as failed with ``reason``)."""
        with self.lock:
            self.stopping.set()
            running = list(self.children)
        for child in running:
            child.kill(reason)

    def running_sources(self) -> list[str]:
        with self.lock:
            return sorted(c.outcome.source for c in self.children)


_runtime: Runtime | None = None


def install(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


def current() -> Runtime:
    if _runtime is None:
        raise RuntimeError("scheduler jobs run inside `newsmon run` (no runtime installed)")
    return _runtime


def crawl_source(source_name: str) -> None:
    rt = current()
    source = next((s for s in rt.config.sources if s.name == source_name and s.enabled), None)
    if source is None or rt.stopping.is_set():
        return
    health = source_health(rt.db, source_name)
    until = should_skip(health, rt.settings.failure_backoff, datetime.now())
    if until is not None:
        # Said once per backoff period (at each due run it would repeat every interval).
        log = logger.warning if rt.backoff_logged.get(source_name) != until else logger.debug
        rt.backoff_logged[source_name] = until
        log(
            "source {}: skipped, backing off after {} failures in a row (next attempt after {:%Y-%m-%d %H:%M:%S})",
            source_name,
            health.error_streak,
            until,
        )
        return
    outcome = _run_child(rt, source)
    if outcome is not None:
        _record(rt, outcome)


def _run_child(rt: Runtime, source: Source) -> ChildOutcome | None:
    command = child_command(source.name, rt.config.folder, rt.verbosity)
    child = ChildCrawl(source.name, command, rt.config.app.database_url)
    with rt.lock:
        if rt.stopping.is_set():
            return None
        rt.children.add(child)
    logger.info("source {}: crawl started", source.name)
    try:
        return child.run(rt.settings.crawl_timeout_s)
    finally:
        with rt.lock:
            rt.children.discard(child)


def _record(rt: Runtime, outcome: ChildOutcome) -> None:
    """Settle what the child could not record, then report the source's state."""
    if not outcome.clean:
        forced = outcome.kill_reason is not None
        settle_child_runs(rt.db, outcome.source, outcome.started_at, outcome.failure_reason(), force=forced)
        # A child killed at its timeout never reached its own health hook: assess the source here,
        # or a source whose every crawl hangs would never be alerted.
        crawled = [s for s in rt.config.sources if s.name == outcome.source]
        report_unhealthy(rt.config, rt.db, crawled)
    health = source_health(rt.db, outcome.source)
    _report(outcome, health, rt.settings)


def _report(outcome: ChildOutcome, health: SourceHealth, settings: ScheduleSettings) -> None:
    elapsed = (datetime.now() - outcome.started_at).total_seconds()
    run = health.last_run
    if health.error_streak == 0 and run is not None:
        logger.info(
            "source {}: ok in {:.1f} s — {} pages, {} new articles, {} duplicates, {} new projects, {} alerts",
            outcome.source,
            elapsed,
            run.pages_fetched,
            run.articles_new,
            run.articles_duplicate,
            run.projects_new,
            run.alerts_created,
        )
        return
    first_error = (health.last_error or "unknown error").splitlines()[0]
    logger.error("source {}: failed ({} in a row): {}", outcome.source, health.error_streak, first_error)
    delay = backoff_delay(health.error_streak, settings.failure_backoff)
    if delay is not None:
        logger.error(
            "source {}: {} failures in a row, backing off — next attempt in {:.0f} s at the earliest",
            outcome.source,
            health.error_streak,
            delay.total_seconds(),
        )


def dispatch_alerts() -> None:
    rt = current()
    stats = dispatch_pending(rt.db, rt.config.app.notifiers)
    if stats.sent or stats.retrying or stats.failed:
        logger.info("outbox: {} sent, {} to retry, {} failed for good", stats.sent, stats.retrying, stats.failed)


def digest_hours(config: Config) -> dict[int, tuple[str, ...]]:
    """The e-mail channels wanting the daily digest, by hour; empty when the digest module is absent."""
    schedule = getattr(_digest_module(), "digest_schedule", None)
    if not callable(schedule):
        return {}
    hours: dict[int, tuple[str, ...]] = {}
    for channel, hour in schedule(config):
        hours[int(hour)] = (*hours.get(int(hour), ()), str(channel))
    return hours


def send_digest(*channels: str) -> None:
    """Yesterday's digest to ``channels``, through ``crawler.alerts.digest.send_daily_digest``.

    That function records each (channel, day) it sent, so a run repeated after a restart sends nothing.
    """
    rt = current()
    send = getattr(_digest_module(), "send_daily_digest", None)
    if not callable(send):
        logger.warning("daily digest skipped: {}.send_daily_digest is not available", DIGEST_MODULE)
        return
    day = date.today() - timedelta(days=1)
    for outcome in send(rt.db, rt.config, day, channels) or ():
        logger.info(
            "daily digest for {} to {}: {}", day, getattr(outcome, "channel", "?"), getattr(outcome, "status", "?")
        )


def _digest_module() -> object:
    try:
        return importlib.import_module(DIGEST_MODULE)
    except ImportError as exc:
        logger.debug("no daily digest: {}", exc)
        return None

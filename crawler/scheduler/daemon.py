"""`newsmon run`: the scheduler daemon.

APScheduler 3 (BackgroundScheduler) with its jobs in the newsmon database (SQLAlchemyJobStore,
table ``apscheduler_jobs``), so schedules survive restarts: a job already stored with the same
schedule is kept as it is (its next run time too), a changed one is replaced, a source that is gone
or disabled loses its job. Missed runs coalesce into one run; a source never runs twice at once
(max_instances=1); the crawl executor's pool size caps how many crawls run together. Each crawl
runs in a child process (see ``crawler.scheduler.runner`` for why).

SIGTERM or Ctrl-C: no new crawls start; running ones get ``grace_period_s`` to finish (a second
signal cuts it short) and are then killed and recorded as failed; the outbox is flushed once more;
the exit status is 0.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from loguru import logger

from crawler.config import Config
from crawler.errors import ConfigError
from crawler.scheduler import jobs
from crawler.scheduler.pidfile import claim_pid_file
from crawler.scheduler.runner import KILL_WAIT_S
from crawler.scheduler.runs import abandon_stale_runs
from crawler.scheduler.settings import ScheduleSettings, effective_jitter, source_spec
from crawler.scheduler.status import JOBS_TABLE
from crawler.store import Database, open_database

CRAWL_EXECUTOR = "crawls"


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str
    trigger: BaseTrigger
    name: str  # carries the schedule: a stored job whose name differs is replaced
    executor: str = "default"
    args: tuple[str, ...] = ()
    run_now: bool = True  # a new job's first run is now rather than one interval away


def desired_jobs(config: Config) -> list[JobSpec]:
    """One job per enabled source, the outbox dispatcher, and a daily digest job per digest hour."""
    settings = config.app.schedule
    specs = []
    for source in config.sources:
        if not source.enabled:
            continue
        try:
            spec = source_spec(source.schedule, settings)
        except ValueError as exc:
            raise ConfigError(str(config.folder / "sources.yaml"), f"{source.name}.schedule", str(exc)) from None
        jitter = effective_jitter(spec.seconds, settings.jitter_s) if spec.kind == "interval" else 0
        name = f"crawl {source.name} [{spec.text}, jitter {jitter}s]"
        specs.append(
            JobSpec(
                f"crawl:{source.name}",
                jobs.CRAWL_JOB,
                spec.trigger(settings.jitter_s),
                name,
                CRAWL_EXECUTOR,
                (source.name,),
            )
        )
    every = settings.dispatch_interval_s
    specs.append(
        JobSpec("dispatch", jobs.DISPATCH_JOB, IntervalTrigger(seconds=every), f"dispatch alerts [every {every:g}s]")
    )
    for hour, channels in sorted(jobs.digest_hours(config).items()):
        name = f"daily digest to {', '.join(channels)} [{hour:02d}:00]"
        trigger = CronTrigger(hour=hour, minute=0)
        specs.append(JobSpec(f"digest:{hour:02d}", jobs.DIGEST_JOB, trigger, name, args=channels, run_now=False))
    return specs


class Scheduler(BackgroundScheduler):  # type: ignore[misc]
    """APScheduler's background scheduler, but a stopping scheduler processes no more jobs.

    ``shutdown`` wakes the scheduler thread once more, and APScheduler 3 then processes due jobs
    even when it was paused: it hands them to executors already shut down (logging errors) and
    moves their next run time on, so a run missed during the shutdown would not be caught up on
    the next start.
    """

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:
            return None
        result: float | None = super()._process_jobs()
        return result


def build_scheduler(db: Database, settings: ScheduleSettings) -> Scheduler:
    return Scheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename=JOBS_TABLE)},
        executors={
            CRAWL_EXECUTOR: ThreadPoolExecutor(settings.max_concurrent_crawls),
            "default": ThreadPoolExecutor(2),
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )


def sync_jobs(scheduler: BackgroundScheduler, specs: list[JobSpec]) -> None:
    """Make the job store hold exactly ``specs``, keeping stored jobs whose schedule is unchanged."""
    stored = {job.id: job for job in scheduler.get_jobs()}
    for spec in specs:
        job = stored.pop(spec.id, None)
        if job is not None and job.name == spec.name:
            logger.info("job {}: kept from the job store, next run {}", spec.name, _when(job.next_run_time))
            continue
        extra: dict[str, Any] = {"next_run_time": datetime.now()} if spec.run_now else {}
        added = scheduler.add_job(
            spec.func,
            trigger=spec.trigger,
            args=spec.args,
            id=spec.id,
            name=spec.name,
            executor=spec.executor,
            replace_existing=True,
            **extra,
        )
        logger.info("job {}: {}, next run {}", spec.name, "replaced" if job else "added", _when(added.next_run_time))
    for job in stored.values():
        scheduler.remove_job(job.id)
        logger.info("job {}: removed (its source is gone or disabled)", job.name)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if moment else "never (paused)"


def run_daemon(config: Config, verbosity: int = 0) -> int:
    signals = SignalWatch()  # first: a SIGTERM during start-up must not kill the daemon half-way
    settings = config.app.schedule
    add_log_file(config, verbosity)
    specs = desired_jobs(config)
    db = open_database(config.app.database_url)
    pid_file = claim_pid_file(config.app.data_dir)
    try:
        abandoned = abandon_stale_runs(db, timedelta(seconds=settings.crawl_timeout_s + KILL_WAIT_S + 60))
        if abandoned:
            logger.warning("{} crawl runs left running by an earlier daemon recorded as failed", abandoned)
        runtime = jobs.Runtime(config, db, verbosity)
        jobs.install(runtime)
        scheduler = build_scheduler(db, settings)
        scheduler.start(paused=True)  # jobs are reconciled with the store before any fires
        sync_jobs(scheduler, specs)
        scheduler.resume()
        logger.info(
            "newsmon run: pid {}, {} crawl jobs, at most {} crawls at once; SIGTERM or Ctrl-C stops",
            os.getpid(),
            sum(1 for s in specs if s.executor == CRAWL_EXECUTOR),
            settings.max_concurrent_crawls,
        )
        if not any(spec.executor == CRAWL_EXECUTOR for spec in specs):
            logger.warning("no enabled source in {}: only the alert outbox is served", config.folder / "sources.yaml")
        signals.wait_first()
        shutdown(runtime, scheduler, signals)
    finally:
        jobs.install(None)
        db.close()
        pid_file.unlink(missing_ok=True)
    return 0


def shutdown(runtime: jobs.Runtime, scheduler: BackgroundScheduler, signals: SignalWatch) -> None:
    settings = runtime.settings
    runtime.stopping.set()  # queued crawl jobs return at once
    scheduler.pause()
    running = runtime.running_sources()
    if running:
        logger.info("stopping: waiting up to {:g} s for running crawls: {}", settings.grace_period_s, running)
    deadline = time.monotonic() + settings.grace_period_s
    while runtime.running_sources() and time.monotonic() < deadline and not signals.second.is_set():
        signals.second.wait(0.2)
    runtime.stop_children(f"stopped: still running {settings.grace_period_s:g} s after the daemon was told to stop")
    scheduler.shutdown(wait=True)
    logger.info("stopping: flushing the alert outbox")
    try:
        jobs.dispatch_alerts()
    except Exception as exc:  # the pending rows stay in the outbox for the next start
        logger.error("final outbox flush failed: {}", exc)
    logger.info("newsmon run stopped")


class SignalWatch:
    """SIGTERM / SIGINT: the first asks for a graceful stop, a second one cuts the grace period short."""

    def __init__(self) -> None:
        self.first = threading.Event()
        self.second = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.first.is_set():
            logger.warning("{} again: killing running crawls now", signal.Signals(signum).name)
            self.second.set()
            return
        logger.info("{} received: stopping", signal.Signals(signum).name)
        self.first.set()

    def wait_first(self) -> None:
        while not self.first.wait(1.0):
            pass


def add_log_file(config: Config, verbosity: int) -> None:
    """A rotating log file under data_dir, beside the stderr sink ``setup_logging`` installed."""
    settings = config.app.schedule
    if not settings.log_file:
        return
    path = config.app.data_dir / settings.log_file
    path.parent.mkdir(parents=True, exist_ok=True)
    logger.add(
        path,
        level="DEBUG" if verbosity >= 2 else "INFO",
        rotation=settings.log_rotation,
        retention=settings.log_retention,
        encoding="utf-8",
        format="{time:YYYY-MM-DD HH:mm:ss.SSS} {level: <7} {message}",
    )

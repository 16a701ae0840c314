"""A source's health from its recent crawl runs: the error streak and when a failing source may run again.

Pure functions over plain values, so the backoff rule is tested without a database or a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crawler.scheduler.settings import BackoffPolicy


@dataclass(frozen=True)
class RunSummary:
    """One crawl_runs row, as status reports it."""

    id: int
    status: str  # running | ok | failed
    started_at: datetime
    finished_at: datetime | None
    pages_fetched: int = 0
    articles_new: int = 0
    articles_duplicate: int = 0
    projects_new: int = 0
    alerts_created: int = 0
    errors: int = 0
    error_text: str | None = None


@dataclass(frozen=True)
class SourceHealth:
    last_run: RunSummary | None = None  # the newest run, running or not
    error_streak: int = 0  # finished runs that failed in a row, newest first
    last_error: str | None = None  # the newest failed run's error text
    last_failure_at: datetime | None = None


def assess(runs_newest_first: Sequence[RunSummary]) -> SourceHealth:
    finished = [r for r in runs_newest_first if r.status != "running"]
    streak = error_streak([r.status for r in finished])
    failed = next((r for r in finished if r.status == "failed"), None)
    return SourceHealth(
        last_run=runs_newest_first[0] if runs_newest_first else None,
        error_streak=streak,
        last_error=failed.error_text if failed else None,
        last_failure_at=(failed.finished_at or failed.started_at) if failed else None,
    )


def error_streak(statuses_newest_first: Sequence[str]) -> int:
    """How many of the newest finished runs failed in a row (``running`` entries are ignored)."""
    streak = 0
    for status in statuses_newest_first:
        if status == "running":
            continue
        if status != "failed":
            break
        streak += 1
    return streak


def backoff_delay(streak: int, policy: BackoffPolicy) -> timedelta | None:
    """None below the threshold; then initial_s, growing by ``factor`` per further failure, up to max_s."""
    if streak < policy.after_failures:
        return None
    exponent = min(streak - policy.after_failures, 64)
    return timedelta(seconds=min(policy.max_s, policy.initial_s * policy.factor**exponent))


def retry_after(health: SourceHealth, policy: BackoffPolicy) -> datetime | None:
    """When a backing-off source may run again; None when it is not backing off."""
    delay = backoff_delay(health.error_streak, policy)
    if delay is None or health.last_failure_at is None:
        return None
    return health.last_failure_at + delay


def should_skip(health: SourceHealth, policy: BackoffPolicy, now: datetime) -> datetime | None:
    """The time to wait for if a run due ``now`` is to be skipped, else None."""
    until = retry_after(health, policy)
    return until if until is not None and now < until else None

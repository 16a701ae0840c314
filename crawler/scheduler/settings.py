"""Typed scheduler settings (the ``schedule:`` section of newsmon.yaml) and per-source schedule strings.

A source's ``schedule:`` in sources.yaml is ``every 30m`` / ``every 2s`` / ``every 1h`` / ``every 1d``
or a standard 5-field cron expression (minute hour day-of-month month day-of-week, 0 or 7 = Sunday).
A source without one runs every ``schedule.default_interval_minutes``. The daily digest's hour is
set per e-mail sink (``digest: {hour: 8}``, see ``crawler.alerts.digest``), not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from crawler.yamlcheck import Fields

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger


@dataclass(frozen=True)
class BackoffPolicy:
    """A source failing ``after_failures`` times in a row skips runs until a growing delay has passed."""

    after_failures: int = 3
    initial_s: float = 600.0
    factor: float = 2.0
    max_s: float = 6 * 3600.0


@dataclass(frozen=True)
class ScheduleSettings:
    default_interval_minutes: float = 30.0
    jitter_s: float = 60.0  # random delay added to each run, at most 10% of the source's interval
    max_concurrent_crawls: int = 2
    crawl_timeout_s: float = 1800.0  # a crawl child running longer is killed and recorded as failed
    grace_period_s: float = 60.0  # on SIGTERM / Ctrl-C: how long a running crawl may take to finish
    dispatch_interval_s: float = 60.0  # how often the alert outbox is flushed
    failure_backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    log_file: str = "newsmon.log"  # under data_dir; "" for stderr only
    log_rotation: str = "10 MB"
    log_retention: int = 5  # rotated files kept


def parse_schedule_settings(fields: Fields) -> ScheduleSettings:
    """Read the ``schedule:`` mapping of newsmon.yaml (every key optional)."""
    d = ScheduleSettings()
    settings = ScheduleSettings(
        default_interval_minutes=fields.number("default_interval_minutes", d.default_interval_minutes, 0.05),
        jitter_s=fields.number("jitter_s", d.jitter_s, 0.0),
        max_concurrent_crawls=fields.whole("max_concurrent_crawls", d.max_concurrent_crawls, 1),
        crawl_timeout_s=fields.number("crawl_timeout_s", d.crawl_timeout_s, 1.0),
        grace_period_s=fields.number("grace_period_s", d.grace_period_s, 0.0),
        dispatch_interval_s=fields.number("dispatch_interval_s", d.dispatch_interval_s, 0.5),
        failure_backoff=_parse_backoff(fields.sub("failure_backoff")),
        log_file=(fields.optional_str("log_file") or "") if fields.has("log_file") else d.log_file,
        log_rotation=fields.text("log_rotation", d.log_rotation),
        log_retention=fields.whole("log_retention", d.log_retention, 0),
    )
    fields.finish()
    return settings


def _parse_backoff(fields: Fields) -> BackoffPolicy:
    d = BackoffPolicy()
    policy = BackoffPolicy(
        after_failures=fields.whole("after_failures", d.after_failures, 1),
        initial_s=fields.number("initial_s", d.initial_s, 0.0),
        factor=fields.number("factor", d.factor, 1.0),
        max_s=fields.number("max_s", d.max_s, 0.0),
    )
    fields.finish()
    return policy


@dataclass(frozen=True)
class ScheduleSpec:
    """A parsed schedule string: an interval in seconds, or a cron expression (APScheduler weekdays)."""

    kind: Literal["interval", "cron"]
    text: str
    seconds: float = 0.0
    cron: str = ""

    def trigger(self, jitter_s: float) -> BaseTrigger:
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        if self.kind == "interval":
            jitter = effective_jitter(self.seconds, jitter_s)
            return IntervalTrigger(seconds=self.seconds, jitter=jitter or None)
        return CronTrigger.from_crontab(self.cron)


_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_EVERY = re.compile(r"every\s+(\d+(?:\.\d+)?)\s*([a-z]+)", re.IGNORECASE)
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def parse_schedule(text: str) -> ScheduleSpec:
    """``every 30m`` / ``every 2s`` / ``every 1h`` / ``every 1d``, or 5-field cron; ValueError explains."""
    text = " ".join(text.split())
    match = _EVERY.fullmatch(text)
    if match:
        unit = _UNITS.get(match[2].lower())
        if unit is None:
            raise ValueError(f"unknown unit {match[2]!r} in {text!r}: use s, m, h or d (e.g. 'every 30m')")
        seconds = float(match[1]) * unit
        if seconds < 1:
            raise ValueError(f"{text!r}: the interval must be at least one second")
        return ScheduleSpec("interval", text, seconds=seconds)
    if text.lower().startswith("every"):
        raise ValueError(f"{text!r}: expected 'every N' and a unit, e.g. 'every 30m', 'every 2s', 'every 1h'")
    parts = text.split(" ")
    if len(parts) != 5:
        raise ValueError(
            f"{text!r} is neither 'every N<s|m|h|d>' nor a 5-field cron expression (minute hour day month weekday)"
        )
    from apscheduler.triggers.cron import CronTrigger

    try:
        cron = " ".join([*parts[:4], _cron_weekdays(parts[4])])
        CronTrigger.from_crontab(cron)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid cron expression: {exc}") from None
    return ScheduleSpec("cron", text, cron=cron)


def default_spec(settings: ScheduleSettings) -> ScheduleSpec:
    minutes = settings.default_interval_minutes
    return ScheduleSpec("interval", f"every {minutes:g}m (default)", seconds=minutes * 60)


def source_spec(schedule: str | None, settings: ScheduleSettings) -> ScheduleSpec:
    return parse_schedule(schedule) if schedule else default_spec(settings)


def effective_jitter(interval_s: float, jitter_s: float) -> int:
    """Whole seconds of jitter, never more than a tenth of the interval (a 2 s schedule gets none)."""
    return int(min(jitter_s, interval_s / 10))


def _cron_weekdays(field_text: str) -> str:
    """Rewrite numeric cron weekdays (0/7 = Sunday) as names: APScheduler 3 counts 0 as Monday."""
    if re.search(r"[a-z]", field_text, re.IGNORECASE):
        return field_text
    days: list[int] = []
    for token in field_text.split(","):
        match = re.fullmatch(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?", token)
        if not match:
            return field_text  # left for APScheduler to reject with its own message
        start = 0 if match[1] == "*" else int(match[1])
        end = 6 if match[1] == "*" else int(match[2] or start)
        step = int(match[3] or 1)
        if end > 7 or start > end or step < 1 or (match[3] and match[1] != "*" and not match[2]):
            raise ValueError(f"bad day-of-week field {field_text!r}")
        days.extend(d % 7 for d in range(start, end + 1, step))
    if field_text == "*":
        return "*"
    return ",".join(_WEEKDAYS[d] for d in dict.fromkeys(days))


def read_source_schedule(fields: Fields, name: str = "schedule") -> str | None:
    """A source's ``schedule:`` string, checked now so a typo stops newsmon at start, naming the key."""
    value = fields.optional_str(name)
    if value is not None:
        try:
            parse_schedule(value)
        except ValueError as exc:
            raise fields.error(name, str(exc)) from None
    return value

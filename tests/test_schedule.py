"""The scheduler's pure parts: schedule strings, settings, backoff, status rendering; and its parts that
need a real database, job store or child process but no crawl (job sync, run settling, timeouts)."""

from __future__ import annotations

import shutil
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crawler.errors import ConfigError
from crawler.scheduler.health import RunSummary, SourceHealth, assess, backoff_delay, error_streak, should_skip
from crawler.scheduler.settings import (
    BackoffPolicy,
    ScheduleSettings,
    effective_jitter,
    parse_schedule,
    parse_schedule_settings,
    source_spec,
)
from crawler.yamlcheck import Fields

T0 = datetime(2026, 3, 2, 8, 0, 0)


# --- schedule strings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("every 30m", 1800),
        ("every 2s", 2),
        ("every 1h", 3600),
        ("every 1d", 86400),
        ("every 90 minutes", 5400),
        ("Every  2 hours", 7200),
        ("every 1.5h", 5400),
    ],
)
def test_interval_schedules(text: str, seconds: float) -> None:
    spec = parse_schedule(text)
    assert spec.kind == "interval"
    assert spec.seconds == seconds


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("*/15 * * * *", "*/15 * * * *"),
        ("0 8 * * *", "0 8 * * *"),
        ("0 8 * * 1-5", "0 8 * * mon,tue,wed,thu,fri"),  # cron weekdays: 0 and 7 are Sunday
        ("0 8 * * 0", "0 8 * * sun"),
        ("30 6 * * 7", "30 6 * * sun"),
        ("0 8 * * 0,6", "0 8 * * sun,sat"),
        ("0 8 * * mon-fri", "0 8 * * mon-fri"),
    ],
)
def test_cron_schedules_keep_cron_weekdays(text: str, cron: str) -> None:
    spec = parse_schedule(text)
    assert spec.kind == "cron"
    assert spec.cron == cron


def test_cron_trigger_fires_on_the_cron_weekday() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    trigger = parse_schedule("0 8 * * 1").trigger(0)  # Mondays, in cron
    first = trigger.get_next_fire_time(None, datetime(2026, 3, 4, 12, tzinfo=tz))  # a Wednesday
    assert first is not None and first.weekday() == 0 and first.hour == 8


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("every", "expected 'every N'"),
        ("every 5x", "unknown unit"),
        ("every 0s", "at least one second"),
        ("every 1ms", "unknown unit"),
        ("hourly", "neither"),
        ("0 8 * *", "neither"),
        ("61 * * * *", "not a valid cron"),
        ("0 8 * * 8", "not a valid cron"),
    ],
)
def test_bad_schedules_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_schedule(text)


def test_source_without_schedule_takes_the_default() -> None:
    spec = source_spec(None, ScheduleSettings(default_interval_minutes=45))
    assert spec.kind == "interval" and spec.seconds == 45 * 60


def test_jitter_is_at_most_a_tenth_of_the_interval() -> None:
    assert effective_jitter(2, 60) == 0
    assert effective_jitter(1800, 60) == 60
    assert effective_jitter(300, 60) == 30


def test_bad_schedule_in_sources_yaml_names_file_and_key(tmp_path: Path, config_dir: Path) -> None:
    from crawler.config import load_config

    shutil.copy(config_dir / "rules.yaml", tmp_path / "rules.yaml")
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - name: a\n    list_urls: [http://example.gov.cn/]\n    schedule: every 5 fortnights\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    message = str(caught.value)
    assert "sources.yaml" in message and "sources[0].schedule" in message and "unknown unit" in message


# --- settings ---------------------------------------------------------------------------------------


def test_schedule_settings_parse_and_default() -> None:
    fields = Fields(
        {
            "default_interval_minutes": 10,
            "max_concurrent_crawls": 3,
            "crawl_timeout_s": 600,
            "failure_backoff": {"after_failures": 2, "initial_s": 60},
            "log_file": "",
        },
        "newsmon.yaml",
        "schedule",
    )
    settings = parse_schedule_settings(fields)
    assert settings.default_interval_minutes == 10
    assert settings.max_concurrent_crawls == 3
    assert settings.crawl_timeout_s == 600
    assert settings.failure_backoff == BackoffPolicy(after_failures=2, initial_s=60)
    assert settings.log_file == ""
    assert settings.grace_period_s == ScheduleSettings().grace_period_s
    assert parse_schedule_settings(Fields(None, "newsmon.yaml", "schedule")) == ScheduleSettings()


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"max_concurrent_crawls": 0}, "schedule.max_concurrent_crawls"),
        ({"interval": 5}, "schedule.interval"),
        ({"failure_backoff": {"after": 3}}, "schedule.failure_backoff.after"),
        ({"crawl_timeout_s": "soon"}, "schedule.crawl_timeout_s"),
    ],
)
def test_bad_schedule_settings_name_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        parse_schedule_settings(Fields(data, "newsmon.yaml", "schedule"))


# --- error streak and backoff ----------------------------------------------------------------------


def run(n: int, status: str, at: datetime = T0, error: str | None = None) -> RunSummary:
    return RunSummary(n, status, at, None if status == "running" else at + timedelta(seconds=5), error_text=error)


def test_error_streak_counts_newest_failures_in_a_row() -> None:
    assert error_streak([]) == 0
    assert error_streak(["ok", "failed", "failed"]) == 0
    assert error_streak(["failed", "failed", "ok", "failed"]) == 2
    assert error_streak(["running", "failed", "failed"]) == 2


def test_backoff_grows_from_the_threshold_and_is_capped() -> None:
    policy = BackoffPolicy(after_failures=3, initial_s=600, factor=2, max_s=3000)
    assert [backoff_delay(n, policy) for n in (0, 1, 2)] == [None, None, None]
    assert backoff_delay(3, policy) == timedelta(seconds=600)
    assert backoff_delay(4, policy) == timedelta(seconds=1200)
    assert backoff_delay(5, policy) == timedelta(seconds=2400)
    assert backoff_delay(6, policy) == timedelta(seconds=3000)
    assert backoff_delay(500, policy) == timedelta(seconds=3000)


def test_failing_source_skips_runs_until_its_backoff_passed() -> None:
    policy = BackoffPolicy(after_failures=2, initial_s=60, factor=2, max_s=3600)
    runs = [run(3, "failed", T0, "boom"), run(2, "failed", T0 - timedelta(minutes=5)), run(1, "ok")]
    health = assess(runs)
    assert health.error_streak == 2 and health.last_error == "boom"
    finished = T0 + timedelta(seconds=5)
    assert should_skip(health, policy, finished + timedelta(seconds=30)) == finished + timedelta(seconds=60)
    assert should_skip(health, policy, finished + timedelta(seconds=61)) is None
    one_failure = assess(runs[:1] + runs[2:])
    assert should_skip(one_failure, policy, finished) is None
    assert should_skip(SourceHealth(), policy, T0) is None


# --- status rendering ------------------------------------------------------------------------------


def test_status_text_and_json(config_dir: Path) -> None:
    from crawler.scheduler.status import SourceStatus, StatusReport, render_text, report_json

    ok = run(7, "ok", T0)
    failed = run(9, "failed", T0, "http://127.0.0.1:9/: Connection was refused by other side\nmore")
    report = StatusReport(
        generated_at=T0,
        daemon_pid=4242,
        pending_alerts=1,
        sources=(
            SourceStatus("portal", True, "every 2s", ok, T0 + timedelta(seconds=2), 0, None, None),
            SourceStatus("down", True, "every 2s", failed, T0 + timedelta(seconds=2), 4, failed.error_text, T0),
            SourceStatus("new", False, "0 8 * * *", None, None, 0, None, None),
        ),
    )
    text = render_text(report)
    assert "daemon running (pid 4242)" in text and "outbox: 1" in text
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("SOURCE"))
    assert "NEXT RUN" in header and "STREAK" in header
    portal = next(line for line in lines if line.startswith("portal"))
    assert "2026-03-02 08:00:00" in portal and " ok " in portal and "2026-03-02 08:00:02" in portal
    assert "last error: http://127.0.0.1:9/: Connection was refused by other side" in text
    assert "more" not in text  # the first line of the error only
    assert "backing off: no run before 2026-03-02 08:00:00" in text
    assert "never run (disabled)" in text
    data = report_json(report)
    assert data["daemon"] == {"running": True, "pid": 4242}
    down = data["sources"][1]
    assert down["result"] == "failed" and down["error_streak"] == 4 and down["last_run"]["id"] == 9
    assert data["sources"][2]["last_run"] is None and data["sources"][2]["next_run"] is None


def test_status_without_daemon_or_sources() -> None:
    from crawler.scheduler.status import StatusReport, render_text

    text = render_text(StatusReport(T0, None, 0, ()))
    assert "daemon not running" in text and "no sources configured" in text


# --- real parts without a crawl ----------------------------------------------------------------------


def test_timed_out_child_is_killed() -> None:
    from crawler.scheduler.runner import ChildCrawl

    child = ChildCrawl("slow", [sys.executable, "-c", "import time; time.sleep(60)"], "sqlite://")
    started = time.monotonic()
    outcome = child.run(timeout_s=1)
    assert time.monotonic() - started < 10
    assert outcome.kill_reason is not None and "timed out" in outcome.kill_reason
    assert not outcome.clean and outcome.exit_code is not None and outcome.exit_code < 0


def test_child_logs_and_output_are_collected() -> None:
    from crawler.scheduler.runner import ChildCrawl

    script = "import sys; print('12:00:00 ERROR   oops', file=sys.stderr); print('[{\"source\": \"x\"}]'); sys.exit(3)"
    outcome = ChildCrawl("x", [sys.executable, "-c", script], "sqlite://").run(timeout_s=30)
    assert outcome.exit_code == 3 and not outcome.clean
    assert outcome.tallies == [{"source": "x"}]
    assert "oops" in outcome.failure_reason() and "status 3" in outcome.failure_reason()

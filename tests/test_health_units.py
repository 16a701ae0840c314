"""Source-health alerts, the pure parts: the change rule, findings, the message on every channel, config.

No database and no Scrapy: ``assess`` runs on plain run/column values, ``health_change`` on booleans,
and the message is rendered by the real notifiers' body builders.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crawler.alerts.health import HealthMessage, health_key, health_message
from crawler.alerts.message import AlertMessage, sample_message
from crawler.alerts.notifiers import ConsoleNotifier, JsonlNotifier
from crawler.alerts.robots import (
    DINGTALK_MAX_BYTES,
    WECOM_MAX_BYTES,
    DingTalkNotifier,
    FeishuNotifier,
    SlackNotifier,
    WeComNotifier,
)
from crawler.alerts.webhook import alert_payload
from crawler.config import HealthSettings, load_config
from crawler.errors import ConfigError
from crawler.health import RECOVERED, UNHEALTHY, SourceHealth, assess, health_change
from crawler.store.schema import HealthStateRow
from tests.health_doubles import Column, Run

T0 = datetime(2024, 5, 1, 8, 0)
COLUMN = "http://www.baotou.gov.cn/zsyz/index.html"
TZGG = "http://www.baotou.gov.cn/tzgg/"


def health(healthy: bool, source: str = "baotou") -> SourceHealth:
    return SourceHealth(source, healthy, 0 if healthy else 3, None, T0, None if healthy else "broken")


# --- the change rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alerted", "healthy", "change"),
    [
        (None, True, None),  # never assessed, fine: nothing to say
        (None, False, UNHEALTHY),  # never assessed (or alerts just turned on), broken: alert
        (True, False, UNHEALTHY),
        (False, False, None),  # still broken: not again
        (False, True, RECOVERED),
        (True, True, None),
    ],
)
def test_health_change(alerted: bool | None, healthy: bool, change: str | None) -> None:
    assert health_change(alerted, health(healthy)) == change


def test_one_alert_per_episode_over_a_run_history() -> None:
    """Runs go ok, fail 5 times, recover, fail 3 times: unhealthy, recovered, unhealthy, each once."""
    statuses = ["ok"] + ["failed"] * 5 + ["ok", "ok"] + ["failed"] * 3
    runs: list[Run] = []
    alerted: bool | None = None
    changes: list[tuple[int, str]] = []
    for i, status in enumerate(statuses):
        runs.append(Run("dead", status, T0 + timedelta(hours=i), "list page 1 http://x/: connection refused"))
        [verdict] = assess(runs)
        change = health_change(alerted, verdict)
        if change:
            changes.append((i, change))
            alerted = verdict.healthy
    assert changes == [(3, UNHEALTHY), (6, RECOVERED), (10, UNHEALTHY)]


def test_failing_runs_threshold_is_a_parameter() -> None:
    runs = [Run("s", "failed", T0 + timedelta(hours=i), "boom") for i in range(2)]
    assert assess(runs)[0].healthy
    assert not assess(runs, threshold=2)[0].healthy


# --- findings ---------------------------------------------------------------------------------------


def test_a_column_that_had_links_and_has_none_is_a_changed_layout() -> None:
    columns = [
        Column("baotou", COLUMN, empty_streak=3),
        Column("baotou", TZGG, error_streak=4, last_error=f"{TZGG}: HTTP 503 (after retries)\nmore"),
        Column("baotou", "http://www.baotou.gov.cn/ok/", empty_streak=2),
    ]
    [verdict] = assess([Run("baotou", "ok", T0)], columns, links_seen={COLUMN: 15})
    assert not verdict.healthy and verdict.failed_runs_in_row == 0
    assert verdict.columns == (COLUMN, TZGG)
    layout, errors = verdict.findings
    assert (layout.kind, layout.runs, layout.links_before) == ("layout_changed", 3, 15)
    assert "found no article links for 3 runs in a row, where it used to find 15" in layout.describe()
    assert (errors.kind, errors.error) == ("errors", "HTTP 503 (after retries)")
    assert errors.describe() == f"{TZGG}: failed 4 runs in a row (HTTP 503 (after retries))"
    [never] = assess([], [Column("new", COLUMN, empty_streak=3)])
    assert never.findings[0].kind == "no_links" and "layout changed?" in (never.problem or "")


def test_failing_runs_are_a_finding_with_the_last_error() -> None:
    runs = [
        Run("dead", "failed", T0 + timedelta(hours=i), f"list page 1 {COLUMN}: connection refused (host down?)\nx")
        for i in range(3)
    ]
    [verdict] = assess(runs, [Column("dead", COLUMN, error_streak=3, last_error=f"{COLUMN}: connection refused")])
    own, column = verdict.findings
    assert own.url is None and own.kind == "errors" and own.runs == 3
    assert (
        own.describe() == f"3 failed runs in a row, only errors: list page 1 {COLUMN}: connection refused (host down?)"
    )
    assert column.url == COLUMN and verdict.problem == own.describe()


# --- the message ------------------------------------------------------------------------------------


def unhealthy_message() -> HealthMessage:
    runs = [Run("包头 市", "ok", T0)] + [
        Run("包头 市", "failed", T0 + timedelta(hours=i), "the list pages yielded no article links (layout changed?)")
        for i in range(1, 4)
    ]
    [verdict] = assess(runs, [Column("包头 市", COLUMN, empty_streak=3)], links_seen={COLUMN: 5})
    message = health_message(UNHEALTHY, verdict, T0 + timedelta(hours=4), None)
    return HealthMessage.from_json({**message.to_json(), "idempotency_key": "hk1"})


def test_unhealthy_message_says_which_source_column_problem_and_what_to_do() -> None:
    message = unhealthy_message()
    assert message.subject() == "[newsmon] source unhealthy: 包头 市"
    text = message.text()
    assert "source: 包头 市" in text and COLUMN in text
    assert "3 failed runs in a row, no article links" in text
    assert "where it used to find 5 (list layout changed?)" in text
    assert "newsmon sources check '包头 市'" in text
    assert "last ok run: 2024-05-01 08:00:00" in text
    assert "&lt;" not in message.html() and "newsmon sources check" in message.html()


def test_message_survives_the_outbox_payload() -> None:
    message = unhealthy_message()
    again = HealthMessage.from_json(json.loads(json.dumps(message.to_json())))
    assert again == message
    assert message.to_json()["kind"] == "source_health" and message.to_json()["findings"][1]["links_before"] == 5


def test_recovered_message_says_what_was_wrong() -> None:
    [verdict] = assess([Run("dead", "ok", T0 + timedelta(hours=5))])
    state = HealthStateRow(source_name="dead", healthy=False, problem="3 failed runs", since=T0, checked_at=T0)
    message = health_message(RECOVERED, verdict, T0 + timedelta(hours=5), state)
    assert message.subject() == "[newsmon] source recovered: dead"
    assert "unhealthy since: 2024-05-01 08:00:00" in message.text() and "problem was: 3 failed runs" in message.text()


def test_webhook_payload_tells_health_from_project_alerts() -> None:
    health_payload = alert_payload(unhealthy_message())
    assert health_payload["event"] == "newsmon.source_health" and health_payload["idempotency_key"] == "hk1"
    assert health_payload["source_health"]["source"] == "包头 市" and "alert" not in health_payload
    project = sample_message()
    assert isinstance(project, AlertMessage)
    assert set(alert_payload(project)) == {"event", "idempotency_key", "subject", "text", "alert"}
    assert alert_payload(project)["event"] == "newsmon.alert"


def test_every_robot_renders_a_health_message_within_its_limit() -> None:
    long_error = "connection refused " * 2000
    message = unhealthy_message().with_evidence(long_error)
    bodies = {
        "dingtalk": DingTalkNotifier("d", "http://r/x").body(message),
        "wecom": WeComNotifier("w", "http://r/x").body(message),
        "feishu": FeishuNotifier("f", "http://r/x").body(message),
        "slack": SlackNotifier("s", "http://r/x").body(message),
    }
    assert len(bodies["wecom"]) <= WECOM_MAX_BYTES + 100 and len(bodies["dingtalk"]) <= DINGTALK_MAX_BYTES + 400
    for kind, body in bodies.items():
        assert "包头 市" in body.decode("utf-8"), kind
    post = json.loads(bodies["feishu"])["content"]["post"]["zh_cn"]
    assert post["content"][-1] == [{"tag": "a", "text": COLUMN, "href": COLUMN}]


def test_idempotency_keys_differ_per_channel_and_episode() -> None:
    keys = {health_key("s", UNHEALTHY, T0, c) for c in ("mail", "hook")}
    keys |= {health_key("s", UNHEALTHY, T0 + timedelta(days=1), "mail"), health_key("s", RECOVERED, T0, "mail")}
    assert len(keys) == 4 and all(len(k) == 32 for k in keys)


# --- config -----------------------------------------------------------------------------------------


def test_alert_channels() -> None:
    sinks = ("mail", "hook", "ding")
    assert HealthSettings().alert_channels(sinks) == sinks
    assert HealthSettings(channels=("ding", "mail")).alert_channels(sinks) == ("mail", "ding")
    assert HealthSettings(alerts=False).alert_channels(sinks) == ()


def _config(folder: Path, config_dir: Path, newsmon_yaml: str) -> Path:
    folder.mkdir()
    (folder / "rules.yaml").write_bytes((config_dir / "rules.yaml").read_bytes())
    (folder / "newsmon.yaml").write_text(newsmon_yaml, encoding="utf-8")
    return folder


def test_health_settings_parse(tmp_path: Path, config_dir: Path) -> None:
    assert load_config(config_dir).app.health == HealthSettings()
    text = "alerts: {sinks: [{kind: console}, {kind: jsonl}]}\n"
    text += "health: {failing_runs: 5, recovery_alerts: false, channels: [jsonl]}\n"
    health_settings = load_config(_config(tmp_path / "a", config_dir, text)).app.health
    assert health_settings == HealthSettings(failing_runs=5, recovery_alerts=False, channels=("jsonl",))


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("health: {failing_run: 3}\n", "health.failing_run", "unknown key"),
        ("health: {failing_runs: 0}\n", "health.failing_runs", ">= 1"),
        ("health: {alerts: yes please}\n", "health.alerts", "true or false"),
        ("health: {channels: [pager]}\n", "health.channels", "no sink named 'pager'"),
    ],
)
def test_bad_health_settings_name_file_and_key(
    tmp_path: Path, config_dir: Path, text: str, key: str, problem: str
) -> None:
    folder = _config(tmp_path / "c", config_dir, text)
    with pytest.raises(ConfigError) as caught:
        load_config(folder)
    message = str(caught.value)
    assert str(folder / "newsmon.yaml") in message and key in message and problem in message, message


def test_jsonl_and_console_sinks_carry_the_health_message(tmp_path: Path) -> None:
    JsonlNotifier("jsonl", tmp_path / "alerts.jsonl").send(unhealthy_message())
    [line] = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["kind"] == "source_health" and json.loads(line)["source"] == "包头 市"
    out = io.StringIO()
    ConsoleNotifier("console", out).send(unhealthy_message())
    assert "=== [newsmon] source unhealthy: 包头 市 ===" in out.getvalue() and COLUMN in out.getvalue()

"""Each sink kind parses its own settings; a mistake stops newsmon at start with file and key named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.alerts.mail import EmailNotifier
from crawler.alerts.notifiers import Notifier, build_notifier
from crawler.alerts.robots import DingTalkNotifier, FeishuNotifier, SlackNotifier, WeComNotifier
from crawler.alerts.webhook import WebhookNotifier
from crawler.errors import ConfigError
from crawler.yamlcheck import Fields

FILE = "config/newsmon.yaml"


def build(yaml_text: str) -> Notifier:
    return build_notifier(Fields(yaml.safe_load(yaml_text), FILE, "alerts.sinks[0]"))


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_SMTP_PASSWORD", "pw")
    monkeypatch.setenv("T_HOOK_SECRET", "s3cret")
    monkeypatch.setenv("T_DING_URL", "https://oapi.dingtalk.com/robot/send?access_token=abc")
    monkeypatch.setenv("T_WECOM_URL", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc")
    monkeypatch.setenv("T_FEISHU_URL", "https://open.feishu.cn/open-apis/bot/v2/hook/abc")
    monkeypatch.delenv("T_UNSET", raising=False)


def test_every_kind_parses_its_typed_settings() -> None:
    mail = build(
        """
        kind: email
        name: mail
        host: smtp.example.com
        security: ssl
        username: alerts@example.com
        password_env: T_SMTP_PASSWORD
        to: [a@example.com, "B <b@example.com>"]
        timeout_s: 5
        digest: {hour: 7}
        """
    )
    assert isinstance(mail, EmailNotifier)
    assert (mail.name, mail.smtp.port, mail.smtp.password, mail.smtp.sender) == (
        "mail",
        465,
        "pw",
        "alerts@example.com",
    )
    assert mail.smtp.recipients == ("a@example.com", "B <b@example.com>") and mail.digest_hour == 7
    hook = build("kind: webhook\nurl: https://hooks.example.com/newsmon\nsecret_env: T_HOOK_SECRET\n")
    assert isinstance(hook, WebhookNotifier) and hook.secret == "s3cret" and hook.name == "webhook"
    ding = build("kind: dingtalk\nurl_env: T_DING_URL\nsecret_env: T_HOOK_SECRET\nat_all: true\n")
    assert isinstance(ding, DingTalkNotifier) and ding.url.endswith("access_token=abc") and ding.at_all
    assert isinstance(build("kind: wecom\nurl_env: T_WECOM_URL\n"), WeComNotifier)
    feishu = build("kind: feishu\nurl_env: T_FEISHU_URL\nmsg_type: text\n")
    assert isinstance(feishu, FeishuNotifier) and feishu.msg_type == "text" and feishu.secret is None
    assert isinstance(build("kind: slack\nurl: https://chat.example.com/api/incoming\n"), SlackNotifier)


SMTP = "kind: email\nhost: smtp.example.com\nfrom: a@example.com\nto: [b@example.com]\n"


@pytest.mark.parametrize(
    ("yaml_text", "key", "problem"),
    [
        (SMTP + "hots: x\n", "alerts.sinks[0].hots", "unknown key"),
        (SMTP + "password: hunter2\n", "alerts.sinks[0].password", "password_env"),
        ("kind: webhook\nurl: https://x.example/h\nsecret: abc\n", "alerts.sinks[0].secret", "secret_env"),
        ("kind: wecom\nkey: abc\nurl_env: T_WECOM_URL\n", "alerts.sinks[0].key", "environment variable"),
        (SMTP + "username: u\npassword_env: T_UNSET\n", "alerts.sinks[0].password_env", "T_UNSET is not set"),
        (SMTP + "username: u\n", "alerts.sinks[0].password_env", "missing"),
        (SMTP + "security: tls\n", "alerts.sinks[0].security", "starttls, ssl, none"),
        (SMTP + "port: 70000\n", "alerts.sinks[0].port", "65535"),
        (SMTP + "timeout_s: -1\n", "alerts.sinks[0].timeout_s", "number >= 0.1"),
        (SMTP + "digest: {hour: 25}\n", "alerts.sinks[0].digest.hour", "0-23"),
        (SMTP + "digest: {hour: 8, at: 9}\n", "alerts.sinks[0].digest.at", "unknown key"),
        ("kind: email\nhost: h\nfrom: a@example.com\n", "alerts.sinks[0].to", "recipient"),
        ("kind: email\nhost: h\nfrom: nobody\nto: [b@example.com]\n", "alerts.sinks[0].from", "e-mail address"),
        ("kind: webhook\nurl: ftp://x.example/h\n", "alerts.sinks[0].url", "http(s) URL"),
        ("kind: webhook\nurl: 'http:///nohost'\n", "alerts.sinks[0].url", "http(s) URL"),
        ("kind: webhook\n", "alerts.sinks[0].url", "exactly one of url: or url_env:"),
        ("kind: webhook\nurl: https://x.example/h?token=abc\n", "alerts.sinks[0].url", "url_env"),
        ("kind: webhook\nurl_env: T_UNSET\n", "alerts.sinks[0].url_env", "T_UNSET is not set"),
        ("kind: webhook\nurl_env: 'not a name'\n", "alerts.sinks[0].url_env", "environment variable name"),
        (
            "kind: dingtalk\nurl: https://oapi.dingtalk.com/robot/send?access_token=abc\n",
            "alerts.sinks[0].url",
            "token",
        ),
        ("kind: feishu\nurl: https://open.feishu.cn/open-apis/bot/v2/hook/abc\n", "alerts.sinks[0].url", "token"),
        ("kind: slack\nurl: https://hooks.slack.com/services/T/B/X\n", "alerts.sinks[0].url", "token"),
        ("kind: feishu\nurl_env: T_FEISHU_URL\nmsg_type: card\n", "alerts.sinks[0].msg_type", "post or text"),
        ("kind: dingtalk\nurl_env: T_DING_URL\nat_all: yes please\n", "alerts.sinks[0].at_all", "true or false"),
        ("kind: pager\n", "alerts.sinks[0].kind", "unknown notifier"),
    ],
)
def test_malformed_sink_names_file_and_key(yaml_text: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build(yaml_text)
    assert caught.value.file == FILE and caught.value.key == key, str(caught.value)
    assert problem in caught.value.problem, str(caught.value)


def test_error_never_echoes_a_secret_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_BAD_URL", "ftp://robot.example/send?access_token=TOPSECRET")
    with pytest.raises(ConfigError) as caught:
        build("kind: dingtalk\nurl_env: T_BAD_URL\n")
    assert "TOPSECRET" not in str(caught.value) and caught.value.key == "alerts.sinks[0].url_env"


def write_config(folder: Path, sinks: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    repo_config = Path(__file__).resolve().parent.parent / "config"
    (folder / "rules.yaml").write_text((repo_config / "rules.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    text = yaml.safe_dump({"alerts": {"sinks": sinks}}, allow_unicode=True)
    (folder / "newsmon.yaml").write_text(text, encoding="utf-8")
    return folder


def test_the_cli_stops_at_start_naming_file_and_key(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    folder = write_config(tmp_path / "config", [{"kind": "email", "host": "h", "to": ["a@b.cn"], "password": "x"}])
    result = run_cli("alerts", "list", "--config", str(folder), "--db", f"sqlite:///{tmp_path / 'x.db'}", cwd=tmp_path)
    assert result.code == 2, result.stderr[-2000:]
    assert f"{folder / 'newsmon.yaml'}: alerts.sinks[0].password: secrets never go in" in result.stderr
    env = {"T_MISSING_FOR_CLI": ""}
    write_config(folder, [{"kind": "webhook", "url_env": "T_MISSING_FOR_CLI"}])
    result = run_cli("alerts", "test", "webhook", "--config", str(folder), cwd=tmp_path, env=env)
    assert result.code == 2 and "alerts.sinks[0].url_env: environment variable T_MISSING_FOR_CLI is not set" in (
        result.stderr
    )

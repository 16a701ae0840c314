"""Chat robots post their documented JSON shapes to a real local receiver, within their size limits.

Shapes checked against the robots' documentation:
- DingTalk 自定义机器人: POST ?access_token=..&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256(secret,
  "timestamp\\nsecret")>, body {"msgtype": "markdown", "markdown": {"title": str, "text": str}}, reply errcode/errmsg.
- WeCom 群机器人: body {"msgtype": "markdown", "markdown": {"content": str <= 4096 UTF-8 bytes}}, reply errcode.
- Feishu 自定义机器人: body {"timestamp": "<s>", "sign": base64 HMAC-SHA256(key="timestamp\\nsecret", msg=""),
  "msg_type": "post", "content": {"post": {"zh_cn": {"title": str, "content": [[{"tag": ...}]]}}}}, body <= 20 KB,
  reply code/msg.
- Slack incoming webhook: {"text": str}; errors come as HTTP 4xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from datetime import date
from decimal import Decimal

import pytest
import yaml

from crawler.alerts.message import AlertMessage, truncate_utf8
from crawler.alerts.notifiers import DeliveryError, Notifier, build_notifier
from crawler.alerts.robots import WECOM_MAX_BYTES
from crawler.yamlcheck import Fields
from tests.alerts_helpers import Receiver, http_receiver

SECRET = "SEC000000000000000000000000000000000000000000000000000000000000"
LONG_EVIDENCE = "项目总投资超百亿元，达7.37亿美元，" * 800 + "末尾"


def message(evidence: str = "该项目总投资86.8亿元，总占地1607亩。") -> AlertMessage:
    return AlertMessage(
        idempotency_key="k1",
        rule="large-project",
        project="65万吨苯酚丙酮一体化产业链项目 [一期]",
        company="江苏三木集团",
        investment_yi=Decimal("86.8"),
        amount_text="超百亿",
        stage="signed",
        region="辽宁省 抚顺市",
        evidence=evidence,
        article_title="抚顺市抓招商上项目",
        article_url="http://fs.gov.cn/a.html?id=1&b=(2)",
        published=date(2023, 4, 4),
    )


def robot(kind: str, url: str, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> Notifier:
    monkeypatch.setenv("T_ROBOT_URL", url)
    monkeypatch.setenv("T_ROBOT_SECRET", SECRET)
    data = yaml.safe_load(f"kind: {kind}\nurl_env: T_ROBOT_URL\n{extra}") or {}
    return build_notifier(Fields(data, "newsmon.yaml", "alerts.sinks[0]"))


def reference_dingtalk_sign(timestamp: str, secret: str) -> str:
    """The documentation's Python sample, verbatim in substance (it returns the urlencoded sign)."""
    secret_enc = secret.encode("utf-8")
    string_to_sign_enc = f"{timestamp}\n{secret}".encode()
    hmac_code = hmac.new(secret_enc, string_to_sign_enc, digestmod=hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(hmac_code))


def reference_feishu_sign(timestamp: str, secret: str) -> str:
    key_enc = f"{timestamp}\n{secret}".encode()
    hmac_code = hmac.new(key_enc, b"", digestmod=hashlib.sha256).digest()
    return base64.b64encode(hmac_code).decode("utf-8")


def test_dingtalk_signed_markdown(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_receiver() as rec:
        ding = robot(
            "dingtalk", f"{rec.url}/robot/send?access_token=TOKEN", monkeypatch, "secret_env: T_ROBOT_SECRET\n"
        )
        before = int(time.time() * 1000)
        ding.send(message())
    [req] = rec.requests
    assert req.path == "/robot/send" and req.query["access_token"] == ["TOKEN"]
    [timestamp], [sign] = req.query["timestamp"], req.query["sign"]
    assert before <= int(timestamp) <= int(time.time() * 1000)  # milliseconds
    assert urllib.parse.quote_plus(sign) == reference_dingtalk_sign(timestamp, SECRET)
    assert req.headers["Content-Type"].startswith("application/json")
    body = req.json()
    assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"title", "text"}
    assert all(isinstance(v, str) for v in body["markdown"].values())
    text = body["markdown"]["text"]
    for expected in (
        "65万吨苯酚丙酮",
        "江苏三木集团",
        "86.8 亿元 (原文: 超百亿)",
        "辽宁省 抚顺市",
        "1607亩",
        "2023-04-04",
    ):
        assert expected in text
    assert "[抚顺市抓招商上项目](http://fs.gov.cn/a.html?id=1&b=%282%29)" in text
    assert "【一期】" in text  # brackets in a name cannot open a link


def test_dingtalk_errcode_in_a_200_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = Receiver(default=(200, b'{"errcode":310000,"errmsg":"sign not match"}'))
    with http_receiver(refused) as rec:
        ding = robot("dingtalk", f"{rec.url}/robot/send?access_token=T", monkeypatch, "at_mobiles: ['13800000000']\n")
        with pytest.raises(DeliveryError, match="310000: sign not match"):
            ding.send(message())
    body = rec.requests[0].json()
    assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False} and "@13800000000" in body["markdown"]["text"]


def test_wecom_markdown_within_4096_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_receiver() as rec:
        wecom = robot("wecom", f"{rec.url}/cgi-bin/webhook/send?key=KEY", monkeypatch)
        wecom.send(message(LONG_EVIDENCE))
        wecom.send(message())
    long_body, short_body = (r.json() for r in rec.requests)
    assert rec.requests[0].query["key"] == ["KEY"]
    for body in (long_body, short_body):
        assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
        assert set(body["markdown"]) == {"content"} and isinstance(body["markdown"]["content"], str)
    content = long_body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= WECOM_MAX_BYTES
    assert "…" in content and "末尾" not in content
    assert "http://fs.gov.cn/a.html" in content and "江苏三木集团" in content  # the evidence gave way, not the facts
    assert "该项目总投资86.8亿元" in short_body["markdown"]["content"]


def test_wecom_errcode_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = Receiver(default=(200, b'{"errcode":93000,"errmsg":"invalid webhook url"}'))
    with http_receiver(refused) as rec, pytest.raises(DeliveryError, match="93000"):
        robot("wecom", f"{rec.url}/cgi-bin/webhook/send?key=K", monkeypatch).send(message())


def test_feishu_signed_post(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_receiver(Receiver(default=(200, b'{"code":0,"msg":"success","data":{}}'))) as rec:
        feishu = robot("feishu", f"{rec.url}/open-apis/bot/v2/hook/ID", monkeypatch, "secret_env: T_ROBOT_SECRET\n")
        before = int(time.time())
        feishu.send(message(LONG_EVIDENCE * 3))
    [req] = rec.requests
    assert len(req.body) <= 20 * 1000
    body = req.json()
    assert set(body) == {"timestamp", "sign", "msg_type", "content"}
    assert isinstance(body["timestamp"], str) and before <= int(body["timestamp"]) <= int(time.time())  # seconds
    assert body["sign"] == reference_feishu_sign(body["timestamp"], SECRET)
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert isinstance(post["title"], str) and "65万吨苯酚丙酮" in post["title"]
    assert isinstance(post["content"], list) and all(isinstance(line, list) for line in post["content"])
    elements = [e for line in post["content"] for e in line]
    assert all(e["tag"] in ("text", "a") and isinstance(e["text"], str) for e in elements)
    [link] = [e for e in elements if e["tag"] == "a"]
    assert link["href"] == "http://fs.gov.cn/a.html?id=1&b=(2)"
    assert any("…" in e["text"] for e in elements)


def test_feishu_text_and_error_code(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = Receiver(default=(200, b'{"code":19021,"msg":"sign match fail or timestamp is not within one hour"}'))
    with http_receiver(bad) as rec:
        feishu = robot("feishu", f"{rec.url}/open-apis/bot/v2/hook/ID", monkeypatch, "msg_type: text\n")
        with pytest.raises(DeliveryError, match="19021"):
            feishu.send(message())
    body = rec.requests[0].json()
    assert set(body) == {"msg_type", "content"} and body["msg_type"] == "text"
    assert set(body["content"]) == {"text"} and "江苏三木集团" in body["content"]["text"]


def test_slack_text_and_http_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with http_receiver(Receiver(replies=[(400, b"invalid_payload")], default=(200, b"ok"))) as rec:
        slack = robot("slack", f"{rec.url}/services/T/B/X", monkeypatch)
        with pytest.raises(DeliveryError, match="HTTP 400: invalid_payload"):
            slack.send(message())
        slack.send(message("a <b> & c"))
    body = rec.requests[1].json()
    assert set(body) == {"text"} and "a &lt;b&gt; &amp; c" in body["text"]


def test_an_unreachable_robot_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.alerts_helpers import free_port

    wecom = robot("wecom", f"http://127.0.0.1:{free_port()}/send?key=K", monkeypatch)
    with pytest.raises(DeliveryError, match="unreachable") as caught:
        wecom.send(message())
    assert "key=K" not in str(caught.value)  # the token stays out of logs


@pytest.mark.parametrize("limit", range(0, 40))
def test_truncation_never_breaks_a_character(limit: int) -> None:
    text = "投资a超百亿🙂元" * 3
    cut = truncate_utf8(text, limit)
    assert len(cut.encode("utf-8")) <= limit
    cut.encode("utf-8").decode("utf-8")  # whole characters only
    assert text.startswith(cut.removesuffix("…"))
    assert cut == text or cut.endswith("…") or limit <= len("…".encode())

"""Chat-group robots: DingTalk 钉钉, WeCom 企业微信, Feishu/Lark 飞书, and Slack-compatible webhooks.

Each posts one JSON message in the robot's documented shape, within its size limit (the evidence
sentence is shortened first, never inside a character). Robots report many errors in a 200 answer
(``errcode`` / ``code`` not 0): those raise like an HTTP error, so the dispatcher retries them.
Robot URLs carry their token, so they come from an environment variable (``url_env:``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import quote_plus

from crawler.alerts.http import HttpReply, encode_json, post_json, safe_url
from crawler.alerts.message import ELLIPSIS, M, Message, fit_evidence, truncate_utf8
from crawler.alerts.notifiers import DeliveryError, Notifier, env_secret
from crawler.alerts.webhook import endpoint_url
from crawler.yamlcheck import Fields

# Byte budgets. WeCom documents markdown content <= 4096 bytes and Feishu a request body <= 20 KB;
# DingTalk and Slack accept far more than an alert needs, so they get a comfortable cap.
WECOM_MAX_BYTES = 4096
FEISHU_MAX_BODY_BYTES = 20 * 1000
DINGTALK_MAX_BYTES = 15000
SLACK_MAX_BYTES = 3900


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: urlencode(base64(HMAC-SHA256(key=secret, msg="{timestamp}\\n{secret}")))."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=""))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def fit_payload(message: M, build: Callable[[M], dict[str, Any]], max_bytes: int) -> bytes:
    """The encoded payload within ``max_bytes``, shortening the evidence as much as needed."""
    body = encode_json(build(message))
    room = len(message.evidence.encode("utf-8"))
    while len(body) > max_bytes and room > 0:
        room = max(0, room - (len(body) - max_bytes))
        body = encode_json(build(message.with_evidence(truncate_utf8(message.evidence, room) or ELLIPSIS)))
    if len(body) > max_bytes:
        raise DeliveryError(f"message of {len(body)} bytes exceeds the robot's limit of {max_bytes}")
    return body


class RobotNotifier(Notifier):
    """What the robots share: endpoint, timeout, the reply check. Subclasses build the payload."""

    error_field: ClassVar[str] = "errcode"

    def __init__(self, name: str, url: str, timeout_s: float = 10.0, secret: str | None = None) -> None:
        super().__init__(name)
        self.url = url
        self.timeout_s = timeout_s
        self.secret = secret

    @classmethod
    def from_fields(cls, name: str, fields: Fields) -> Notifier:
        robot = cls(name, endpoint_url(fields, robot=True), fields.number("timeout_s", 10.0, 0.1))
        robot.configure(fields)
        return robot

    def configure(self, fields: Fields) -> None:
        """Read the settings particular to one robot."""

    def body(self, message: Message) -> bytes:
        raise NotImplementedError

    def endpoint(self) -> str:
        return self.url

    def send(self, message: Message) -> None:
        self.check(post_json(self.endpoint(), self.body(message), self.timeout_s))

    def check(self, reply: HttpReply) -> None:
        data = reply.json()
        if not isinstance(data, dict):
            raise DeliveryError(f"{self.kind} robot answered something that is not a JSON object: {reply.body[:200]!r}")
        code = data.get(self.error_field, data.get("StatusCode"))
        if code != 0:
            message = data.get("errmsg") or data.get("msg") or data.get("StatusMessage") or ""
            raise DeliveryError(f"{self.kind} robot refused the message: {self.error_field} {code}: {message}")

    def describe(self) -> str:
        return f"{self.kind} {safe_url(self.url)}" + (" (signed)" if self.secret else "")


class DingTalkNotifier(RobotNotifier):
    """``kind: dingtalk``: url_env, secret_env (加签, optional), at_mobiles, at_all, timeout_s."""

    kind = "dingtalk"
    at_mobiles: tuple[str, ...] = ()
    at_all: bool = False

    def configure(self, fields: Fields) -> None:
        self.secret = env_secret(fields, "secret_env", required=False)
        self.at_mobiles = fields.str_list("at_mobiles")
        self.at_all = fields.flag("at_all", False)

    def endpoint(self, now_ms: int | None = None) -> str:
        if not self.secret:
            return self.url
        timestamp = now_ms if now_ms is not None else int(time.time() * 1000)
        joiner = "&" if "?" in self.url else "?"
        return f"{self.url}{joiner}timestamp={timestamp}&sign={dingtalk_sign(self.secret, timestamp)}"

    def body(self, message: Message) -> bytes:
        mentions = "".join(f" @{m}" for m in self.at_mobiles)
        limit = DINGTALK_MAX_BYTES - len(mentions.encode("utf-8"))
        text = fit_evidence(message, lambda m: m.markdown("\n\n"), limit) + mentions
        payload: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": truncate_utf8(message.subject(), 200), "text": text},
        }
        if self.at_mobiles or self.at_all:
            payload["at"] = {"atMobiles": list(self.at_mobiles), "isAtAll": self.at_all}
        return encode_json(payload)


class WeComNotifier(RobotNotifier):
    """``kind: wecom``: url_env (…/cgi-bin/webhook/send?key=…), timeout_s. Markdown, <= 4096 bytes."""

    kind = "wecom"

    def body(self, message: Message) -> bytes:
        content = fit_evidence(message, lambda m: m.markdown("\n"), WECOM_MAX_BYTES)
        return encode_json({"msgtype": "markdown", "markdown": {"content": content}})


class FeishuNotifier(RobotNotifier):
    """``kind: feishu`` (also Lark): url_env, secret_env (签名校验, optional), msg_type post|text."""

    kind = "feishu"
    error_field = "code"
    msg_type = "post"

    def configure(self, fields: Fields) -> None:
        self.secret = env_secret(fields, "secret_env", required=False)
        self.msg_type = fields.text("msg_type", "post")
        if self.msg_type not in ("post", "text"):
            raise fields.error("msg_type", f"expected post or text, got {self.msg_type!r}")

    def body(self, message: Message, now_s: int | None = None) -> bytes:
        signature: dict[str, Any] = {}
        if self.secret:
            timestamp = now_s if now_s is not None else int(time.time())
            signature = {"timestamp": str(timestamp), "sign": feishu_sign(self.secret, timestamp)}
        build = self._post if self.msg_type == "post" else self._text
        return fit_payload(message, lambda m: {**signature, **build(m)}, FEISHU_MAX_BODY_BYTES)

    @staticmethod
    def _text(message: Message) -> dict[str, Any]:
        return {"msg_type": "text", "content": {"text": f"{message.subject()}\n{message.text()}"}}

    @staticmethod
    def _post(message: Message) -> dict[str, Any]:
        link = message.link()
        lines: list[list[dict[str, str]]] = [
            [{"tag": "text", "text": f"{label}: {value}"}]
            for label, value in message.fields()
            if link is None or value != link[1]
        ]
        if link is not None:
            lines.append([{"tag": "a", "text": link[0], "href": link[1]}])
        post = {"zh_cn": {"title": message.subject(), "content": lines}}
        return {"msg_type": "post", "content": {"post": post}}


class SlackNotifier(RobotNotifier):
    """``kind: slack``: any Slack-compatible incoming webhook taking ``{"text": ...}``; url_env, timeout_s."""

    kind = "slack"

    def body(self, message: Message) -> bytes:
        text = fit_evidence(message, lambda m: slack_escape(f"*{m.subject()}*\n{m.text()}"), SLACK_MAX_BYTES)
        return encode_json({"text": text})

    def check(self, reply: HttpReply) -> None:
        """Slack answers a plain ``ok``; its errors come as HTTP 4xx, which already raised."""


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

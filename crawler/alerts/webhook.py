"""A generic JSON webhook: POST each alert, signed with HMAC-SHA256 when a secret is set.

The payload's ``event`` tells a new-project alert ("newsmon.alert") from a source-health one
("newsmon.source_health"); see ``alert_payload``.

Receivers verify ``X-Newsmon-Signature: sha256=<hex>`` (HMAC-SHA256 of the raw body with the shared
secret) and drop repeats by ``idempotency_key`` (also sent as the ``Idempotency-Key`` header): a
dispatcher killed between sending and recording may deliver an alert twice, never with a new key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crawler.alerts.http import encode_json, post_json, safe_url
from crawler.alerts.message import Message
from crawler.alerts.notifiers import Notifier, env_secret, http_url
from crawler.yamlcheck import Fields

SIGNATURE_HEADER = "X-Newsmon-Signature"


def sign_body(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def alert_payload(message: Message) -> dict[str, Any]:
    """``event`` says what the alert is about: "newsmon.alert" (a new project, under "alert") or
    "newsmon.source_health" (a source turned unhealthy or recovered, under "source_health")."""
    return {
        "event": message.webhook_event,
        "idempotency_key": message.idempotency_key,
        "subject": message.subject(),
        "text": message.text(),
        message.payload_key: message.to_json(),
    }


class WebhookNotifier(Notifier):
    """``kind: webhook``: url (or url_env), secret_env, bearer_token_env, timeout_s."""

    kind = "webhook"

    def __init__(
        self,
        name: str,
        url: str,
        secret: str | None = None,
        timeout_s: float = 10.0,
        bearer_token: str | None = None,
    ) -> None:
        super().__init__(name)
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s
        self.headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}

    @classmethod
    def from_fields(cls, name: str, fields: Fields) -> Notifier:
        return cls(
            name,
            endpoint_url(fields, robot=False),
            secret=env_secret(fields, "secret_env", required=False),
            timeout_s=fields.number("timeout_s", 10.0, 0.1),
            bearer_token=env_secret(fields, "bearer_token_env", required=False),
        )

    def send(self, message: Message) -> None:
        self.post(alert_payload(message), message.idempotency_key)

    def post(self, payload: dict[str, Any], idempotency_key: str) -> None:
        body = encode_json(payload)
        headers = {**self.headers, "Idempotency-Key": idempotency_key}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign_body(self.secret, body)
        post_json(self.url, body, self.timeout_s, headers)

    def describe(self) -> str:
        return f"webhook {safe_url(self.url)}" + (" (signed)" if self.secret else "")


def endpoint_url(fields: Fields, robot: bool) -> str:
    """The endpoint from ``url:``, or from the variable named by ``url_env:`` when the URL carries a token."""
    plain = fields.optional_str("url")
    from_env = env_secret(fields, "url_env", required=False)
    if (plain is None) == (from_env is None):
        raise fields.error("url", "set exactly one of url: or url_env: (a variable holding a URL with a token)")
    if from_env is not None:
        return http_url(fields, "url_env", from_env)
    assert plain is not None
    url = http_url(fields, "url", plain)
    if _carries_token(url, robot):
        raise fields.error("url", "this URL carries a token: put it in an environment variable and name it as url_env:")
    return url


def _carries_token(url: str, robot: bool) -> bool:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if any(name in query for name in ("access_token", "key", "token", "sign")):
        return True
    # Slack and Feishu/Lark robots carry the token in the path.
    return robot and (parts.hostname == "hooks.slack.com" or "/hook/" in parts.path or "/hooks/" in parts.path)

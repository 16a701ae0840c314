"""Notifier plugins, chosen by ``kind:`` in config/newsmon.yaml (urlwatch-style registry).

Each subclass declares ``kind`` and parses its own typed settings in ``from_fields``; a bad
setting fails at start with the file and key named. ``send`` raises on failure: the dispatcher
records the error and retries later, so a notifier never swallows one.

Secrets never live in the YAML: a sink names the environment variable that holds one
(``password_env: NEWSMON_SMTP_PASSWORD``), read once at start; a key such as ``password:`` is refused.
The plugins beyond console and jsonl live in ``mail``, ``webhook`` and ``robots`` (imported by the
package, so the registry is complete whenever this module is).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import ClassVar, TextIO
from urllib.parse import urlsplit

from crawler.alerts.message import Message
from crawler.errors import ConfigError
from crawler.yamlcheck import Fields


class DeliveryError(Exception):
    """A channel refused or could not take a message (HTTP status, robot errcode, SMTP reply...)."""


# Keys that would put a secret in the YAML; the message says which ``*_env`` key to use instead.
INLINE_SECRET_KEYS = frozenset(
    {"password", "passwd", "secret", "token", "access_token", "api_key", "apikey", "key", "webhook_secret"}
)


class Notifier:
    kind: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Notifier]]] = {}
    supports_digest: ClassVar[bool] = False

    def __init__(self, name: str) -> None:
        self.name = name  # the channel name alerts are recorded under

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Notifier.registry[cls.kind] = cls

    @classmethod
    def from_fields(cls, name: str, fields: Fields) -> Notifier:
        raise NotImplementedError

    def send(self, message: Message) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        """Where this channel delivers, without secrets: for `newsmon alerts test` and logs."""
        return self.kind


def build_notifier(fields: Fields) -> Notifier:
    """Build one notifier from its YAML mapping (``kind`` picks the class)."""
    kind = fields.text("kind", "")
    if not kind:
        raise fields.error("kind", f"missing; one of: {', '.join(sorted(Notifier.registry))}")
    cls = Notifier.registry.get(kind)
    if cls is None:
        raise fields.error("kind", f"unknown notifier {kind!r}; one of: {', '.join(sorted(Notifier.registry))}")
    reject_inline_secrets(fields)
    name = fields.text("name", kind)
    notifier = cls.from_fields(name, fields)
    fields.finish()
    return notifier


def reject_inline_secrets(fields: Fields) -> None:
    for key in sorted(INLINE_SECRET_KEYS):
        if fields.has(key):
            raise fields.error(
                key,
                f"secrets never go in {fields.file}: put it in an environment variable and name that "
                f"variable here as {key}_env: NEWSMON_...",
            )


def env_secret(fields: Fields, key: str, required: bool) -> str | None:
    """The value of the environment variable named by ``key`` (e.g. ``password_env``), checked at start."""
    var = fields.optional_str(key)
    if var is None:
        if required:
            raise fields.error(key, "missing: name the environment variable that holds this secret")
        return None
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
        raise fields.error(key, f"expected an environment variable name, got {var!r}")
    value = os.environ.get(var)
    if not value:
        raise fields.error(key, f"environment variable {var} is not set (or empty)")
    return value


def http_url(fields: Fields, key: str, value: str) -> str:
    """Check that ``value`` (read from ``key``) is an absolute http(s) URL with a host."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise fields.error(key, f"expected an http(s) URL, got {_redact_url(value)!r}")
    return value


def _redact_url(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(query="...").geturl() if parts.query else url


class ConsoleNotifier(Notifier):
    """Prints each alert to the terminal (stderr, so ``--json`` output on stdout stays clean)."""

    kind = "console"

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        super().__init__(name)
        self.stream = stream

    @classmethod
    def from_fields(cls, name: str, fields: Fields) -> Notifier:
        return cls(name)

    def send(self, message: Message) -> None:
        stream = self.stream or sys.stderr
        stream.write(f"\n=== {message.subject()} ===\n{message.text()}\n")
        stream.flush()


class JsonlNotifier(Notifier):
    """Appends one JSON object per alert to a file: the simplest machine-readable sink."""

    kind = "jsonl"

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        self.path = path

    @classmethod
    def from_fields(cls, name: str, fields: Fields) -> Notifier:
        raw = fields.text("path", "data/alerts.jsonl")
        path = Path(raw)
        if path.exists() and path.is_dir():
            raise ConfigError(fields.file, fields.key("path"), f"{raw} is a directory, expected a file")
        return cls(name, path)

    def send(self, message: Message) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(message.to_json(), ensure_ascii=False) + "\n")

    def describe(self) -> str:
        return f"jsonl {self.path}"

"""Posting JSON to a URL with the standard library: a timeout, no redirects, and a clear error."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from crawler.alerts.notifiers import DeliveryError

USER_AGENT = "newsmon-alerts/0.1"


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (some robots answer plain text)."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET: report it as a failure instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def encode_json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def post_json(url: str, body: bytes, timeout: float, headers: dict[str, str] | None = None) -> HttpReply:
    """POST ``body`` (already-encoded JSON); a 2xx answer is returned, anything else raises DeliveryError."""
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header("User-Agent", USER_AGENT)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    where = safe_url(url)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return HttpReply(response.status, response.read(65536))
    except urllib.error.HTTPError as exc:
        excerpt = exc.read(300).decode("utf-8", "replace") if exc.fp else ""
        raise DeliveryError(f"{where} answered HTTP {exc.code}: {excerpt}".strip()) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{where} unreachable: {reason}") from None


def safe_url(url: str) -> str:
    """Scheme, host and first path segment only, for logs and errors: robot tokens live in the rest."""
    parts = urlsplit(url)
    first, _, rest = parts.path.lstrip("/").partition("/")
    tail = "/…" if rest or parts.query else ""
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/{first}{tail}"

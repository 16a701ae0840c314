"""Real local parts for the alert tests: an HTTP receiver, an SMTP server, and outbox rows."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from crawler.store.db import Database
from crawler.store.schema import AlertRow, ArticleRow, MentionRow, ProjectRow

ROBOT_OK = b'{"errcode":0,"errmsg":"ok","code":0,"msg":"success"}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers from a script."""

    replies: list[tuple[int, bytes]] = field(default_factory=list)  # used in order, then `default`
    default: tuple[int, bytes] = (200, ROBOT_OK)
    hold: threading.Event | None = None  # when set up, each POST waits for it before answering
    requests: list[Request] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def reply(self) -> tuple[int, bytes]:
        return self.replies.pop(0) if self.replies else self.default

    def keys(self) -> list[str]:
        return [r.json()["idempotency_key"] for r in self.requests]


@contextmanager
def http_receiver(receiver: Receiver | None = None) -> Iterator[Receiver]:
    rec = receiver or Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            parts = urlsplit(self.path)
            rec.requests.append(Request(parts.path, parse_qs(parts.query), dict(self.headers), self.rfile.read(length)))
            rec.received.set()
            if rec.hold is not None:
                rec.hold.wait(30)
            status, body = rec.reply()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        if rec.hold is not None:
            rec.hold.set()
        server.shutdown()
        server.server_close()


class MailBox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str]]] = []
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(content, policy=policy.default))
        return "250 OK"


def authenticator(user: str, password: str) -> Any:
    def check(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == user.encode() and data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server(port: int | None = None, **controller: Any) -> Iterator[tuple[MailBox, int]]:
    box = MailBox()
    port = port or free_port()
    ctl = Controller(box, hostname="127.0.0.1", port=port, **controller)
    ctl.start()
    try:
        yield box, port
    finally:
        ctl.stop()


def bodies(message: Message) -> dict[str, str]:
    """content type -> decoded text of each leaf part."""
    out = {}
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            out[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return out


def add_alerts(
    db: Database,
    channels: tuple[str, ...],
    projects: int = 1,
    evidence: str = "此次落地的65万吨苯酚丙酮一体化产业链项目总投资86.8亿元，总占地1607亩。",
    region: str | None = "辽宁省 抚顺市",
    seen: datetime = datetime(2023, 4, 4, 12),
) -> list[int]:
    """Projects with one article and mention each, and a pending outbox row per channel: what ingest writes."""
    ids = []
    with db.transaction() as s:
        for i in range(projects):
            article = ArticleRow(
                url=f"http://fs.gov.cn/a{i}.html?x=1&y=<2>",
                canonical_url=f"http://fs.gov.cn/a{i}.html{seen.isoformat()}",
                source_name="fushun",
                region=region,
                title=f"抚顺市抓招商上项目 <第{i}篇>",
                published=date(2023, 4, 4),
                published_or_seen=date(2023, 4, 4),
                text=evidence,
                content_hash=f"{i:064d}",
                first_seen=seen,
            )
            s.add(article)
            s.flush()
            project = ProjectRow(
                name=f"65万吨苯酚丙酮一体化产业链项目{i}",
                name_key=f"key{i}{seen.isoformat()}",
                company="江苏三木集团",
                region=region,
                investment_yi=Decimal("86.8") + i,
                amount_text="86.8亿元",
                stage="signed",
                first_article_id=article.id,
                first_seen=seen,
                last_seen=seen,
            )
            s.add(project)
            s.flush()
            s.add(
                MentionRow(
                    project_id=project.id,
                    article_id=article.id,
                    name=project.name,
                    investment_yi=project.investment_yi,
                    amount_text="86.8亿元",
                    stage="signed",
                    evidence=evidence,
                    created_at=seen,
                )
            )
            for channel in channels:
                alert = AlertRow(
                    project_id=project.id,
                    article_id=article.id,
                    rule="large-project",
                    channel=channel,
                    idempotency_key=f"key-{project.id}-{channel}",
                    status="pending",
                    attempts=0,
                    created_at=seen,
                    next_attempt_at=seen,
                )
                s.add(alert)
                s.flush()
                ids.append(alert.id)
    return ids


def kill_mid_send(child_code: str, database_url: str, receiver: Receiver) -> None:
    """Run ``child_code`` (argv: database URL, receiver URL) in a process, and SIGKILL it as soon as the
    receiver has a message: the dispatcher sent it but never hears back."""
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-c", child_code, database_url, receiver.url]
    child = subprocess.Popen(command, cwd=root, env=os.environ.copy())
    try:
        assert receiver.received.wait(60), "the child never posted"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()

"""E-mail over SMTP: STARTTLS, SSL or plain, optional login, plain-text and HTML bodies.

The Message-ID is derived from the alert's idempotency key, so a repeat after a crash carries the
same Message-ID (and ``X-Newsmon-Idempotency-Key``) and mail clients or filters can drop it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path

from loguru import logger

from crawler.alerts.message import Message
from crawler.alerts.notifiers import DeliveryError, Notifier, env_secret
from crawler.yamlcheck import Fields

SECURITY_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
MESSAGE_ID_DOMAIN = "newsmon.invalid"


@dataclass(frozen=True)
class Letter:
    """One e-mail to send: what alerts and digests both become."""

    subject: str
    text: str
    html: str
    key: str  # becomes the Message-ID and X-Newsmon-Idempotency-Key


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    password: str | None = None
    sender: str = ""
    recipients: tuple[str, ...] = ()
    timeout_s: float = 30.0
    ca_file: Path | None = None


class EmailNotifier(Notifier):
    """``kind: email``: host, port, security, username, password_env, from, to, timeout_s, ca_file, digest."""

    kind = "email"
    supports_digest = True

    def __init__(self, name: str, smtp: SmtpSettings, digest_hour: int | None = None) -> None:
        super().__init__(name)
        self.smtp = smtp
        self.digest_hour = digest_hour  # the hour of the daily digest of new projects; None = no digest

    @classmethod
    def from_fields(cls, name: str, fields: Fields) -> Notifier:
        host = fields.text("host", "")
        if not host:
            raise fields.error("host", "missing: the SMTP server's host name")
        security = fields.text("security", "starttls")
        if security not in SECURITY_PORTS:
            raise fields.error("security", f"expected one of starttls, ssl, none; got {security!r}")
        port = fields.whole("port", SECURITY_PORTS[security], 1)
        if port > 65535:
            raise fields.error("port", f"expected a port number up to 65535, got {port}")
        username = fields.optional_str("username")
        password = env_secret(fields, "password_env", required=username is not None)
        if username is None and password is not None:
            raise fields.error("password_env", "a password needs a username: set username:")
        sender = fields.text("from", username or "")
        if not sender:
            raise fields.error("from", "missing: the sender's address (it defaults to username: when that is one)")
        if not _is_address(sender):
            raise fields.error("from", f"expected an e-mail address, got {sender!r}")
        recipients = fields.str_list("to")
        if not recipients:
            raise fields.error("to", "missing: one or more recipient addresses")
        for address in recipients:
            if not _is_address(address):
                raise fields.error("to", f"expected e-mail addresses, got {address!r}")
        ca_raw = fields.optional_str("ca_file")
        if ca_raw is not None and not Path(ca_raw).is_file():
            raise fields.error("ca_file", f"no such file: {ca_raw}")
        timeout = fields.number("timeout_s", 30.0, 0.1)
        settings = SmtpSettings(
            host, port, security, username, password, sender, recipients, timeout, Path(ca_raw) if ca_raw else None
        )
        return cls(name, settings, _digest_hour(fields))

    def send(self, message: Message) -> None:
        self.send_letter(Letter(message.subject(), message.text(), message.html(), message.idempotency_key))

    def send_letter(self, letter: Letter) -> None:
        mail = self.compose(letter)
        try:
            with self._connect() as smtp:
                if self.smtp.username and self.smtp.password:
                    smtp.login(self.smtp.username, self.smtp.password)
                refused = smtp.send_message(mail)
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"SMTP {self.smtp.host}:{self.smtp.port}: {exc}") from None
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(f"SMTP {self.smtp.host}:{self.smtp.port} unreachable: {exc}") from None
        if refused:
            # Some recipients took it; retrying would repeat it to them, so report and carry on.
            logger.warning("SMTP {} refused recipients {}", self.smtp.host, sorted(refused))

    def compose(self, letter: Letter) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = letter.subject
        mail["From"] = self.smtp.sender
        mail["To"] = ", ".join(self.smtp.recipients)
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = f"<{letter.key}@{MESSAGE_ID_DOMAIN}>"
        mail["X-Newsmon-Idempotency-Key"] = letter.key
        mail.set_content(letter.text)
        mail.add_alternative(letter.html, subtype="html")
        return mail

    def _connect(self) -> smtplib.SMTP:
        s = self.smtp
        if s.security == "ssl":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self._tls())
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._tls())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.smtp.ca_file) if self.smtp.ca_file else None)

    def describe(self) -> str:
        s = self.smtp
        return f"email via {s.host}:{s.port} ({s.security}) to {', '.join(s.recipients)}"


def _is_address(value: str) -> bool:
    _, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    return bool(local) and bool(domain) and " " not in address


def _digest_hour(fields: Fields) -> int | None:
    """``digest: {hour: 8}`` (or ``digest: true`` for 8 o'clock): also send the daily digest here."""
    raw = fields.raw("digest")
    if raw is None or raw is False:
        return None
    if raw is True:
        return 8
    digest = fields.sub("digest")
    hour = digest.whole("hour", 8, 0)
    if hour > 23:
        raise digest.error("hour", f"expected an hour 0-23, got {hour}")
    digest.finish()
    return hour

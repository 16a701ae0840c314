"""E-mail alerts and the daily digest, delivered to a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from crawler.alerts.digest import build_digest, send_daily_digest
from crawler.alerts.dispatch import RetryPolicy, dispatch_pending
from crawler.alerts.mail import EmailNotifier
from crawler.alerts.notifiers import DeliveryError, build_notifier
from crawler.store import open_database
from crawler.store.db import Database
from crawler.store.schema import AlertRow, DigestRow
from crawler.yamlcheck import Fields
from tests.alerts_helpers import add_alerts, authenticator, bodies, free_port, smtp_server

T0 = datetime(2023, 4, 4, 13)


@pytest.fixture
def db(database_url: str) -> Database:
    return open_database(database_url)


def email(port: int, extra: str = "", security: str = "none") -> EmailNotifier:
    text = (
        f"kind: email\nname: mail\nhost: 127.0.0.1\nport: {port}\nsecurity: {security}\n"
        "from: newsmon <alerts@example.org>\nto: [a@example.org, b@example.org]\ntimeout_s: 5\n" + extra
    )
    notifier = build_notifier(Fields(yaml.safe_load(text), "newsmon.yaml", "alerts.sinks[0]"))
    assert isinstance(notifier, EmailNotifier)
    return notifier


def test_login_plain_and_html_bodies_to_every_recipient(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_SMTP_PASSWORD", "pa ss")
    add_alerts(db, ("mail",))
    auth = {"authenticator": authenticator("alerts", "pa ss"), "auth_require_tls": False}
    with smtp_server(**auth) as (box, port):
        mail = email(port, "username: alerts\npassword_env: T_SMTP_PASSWORD\n")
        assert dispatch_pending(db, [mail], now=T0).sent == 1
    [(sender, rcpts)] = box.envelopes
    assert sender == "alerts@example.org" and rcpts == ["a@example.org", "b@example.org"]
    [msg] = box.messages
    with db.session() as s:
        key = s.scalars(select(AlertRow.idempotency_key)).one()
    assert msg["Message-ID"] == f"<{key}@newsmon.invalid>" and msg["X-Newsmon-Idempotency-Key"] == key
    assert "65万吨苯酚丙酮一体化产业链项目0" in str(msg["Subject"]) or "=?utf-8?" in str(msg["Subject"])
    parts = bodies(msg)
    text, html = parts["text/plain"], parts["text/html"]
    for expected in ("江苏三木集团", "86.8 亿元 (原文: 86.8亿元)", "signed", "辽宁省 抚顺市", "1607亩", "2023-04-04"):
        assert expected in text and expected in html
    assert "抚顺市抓招商上项目 <第0篇>" in text and "http://fs.gov.cn/a0.html?x=1&y=<2>" in text
    assert "&lt;第0篇&gt;" in html and "<第0篇>" not in html  # escaped in HTML
    assert 'href="http://fs.gov.cn/a0.html?x=1&amp;y=&lt;2&gt;"' in html


def test_wrong_password_is_a_recorded_failure(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_SMTP_PASSWORD", "wrong")
    add_alerts(db, ("mail",))
    with smtp_server(authenticator=authenticator("alerts", "right"), auth_require_tls=False) as (box, port):
        mail = email(port, "username: alerts\npassword_env: T_SMTP_PASSWORD\n")
        assert dispatch_pending(db, [mail], now=T0).retrying == 1
    assert box.messages == []
    with db.session() as s:
        alert = s.scalars(select(AlertRow)).one()
    assert alert.status == "pending" and "535" in (alert.last_error or "")


def test_smtp_down_then_back(db: Database) -> None:
    add_alerts(db, ("mail",), projects=2)
    port = free_port()  # nothing listens yet
    mail = email(port)
    policy = RetryPolicy(base_delay_s=60)
    down = dispatch_pending(db, [mail], now=T0, policy=policy)
    assert (down.sent, down.retrying, down.deferred) == (0, 1, 1)
    with db.session() as s:
        assert {a.status for a in s.scalars(select(AlertRow))} == {"pending"}
    with smtp_server(port) as (box, _):
        assert dispatch_pending(db, [mail], now=T0 + timedelta(seconds=30), policy=policy).sent == 1  # one due
        assert dispatch_pending(db, [mail], now=T0 + timedelta(seconds=60), policy=policy).sent == 1
        assert dispatch_pending(db, [mail], now=T0 + timedelta(days=1), policy=policy).sent == 0
    assert len(box.messages) == 2 and len({m["Message-ID"] for m in box.messages}) == 2
    with db.session() as s:
        assert {a.status for a in s.scalars(select(AlertRow))} == {"sent"}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    yield cert_path, key_path


def server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*tls_files)
    return context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_login(security: str, tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.alerts.message import sample_message

    monkeypatch.setenv("T_SMTP_PASSWORD", "pw")
    context = server_context(tls_files)
    controller: dict[str, Any] = {"authenticator": authenticator("u", "pw")}
    controller.update({"tls_context": context, "require_starttls": True} if security == "starttls" else {})
    # aiosmtpd only counts STARTTLS as TLS for AUTH; the implicit-TLS connection is encrypted all the same.
    controller.update({"ssl_context": context, "auth_require_tls": False} if security == "ssl" else {})
    with smtp_server(**controller) as (box, port):
        extra = f"username: u\npassword_env: T_SMTP_PASSWORD\nca_file: {tls_files[0]}\n"
        email(port, extra, security).send(sample_message())
        untrusted = email(port, "username: u\npassword_env: T_SMTP_PASSWORD\n", security)
        with pytest.raises(DeliveryError, match=r"CERTIFICATE_VERIFY_FAILED"):
            untrusted.send(sample_message())
    assert len(box.messages) == 1 and "测试" in bodies(box.messages[0])["text/plain"]


def test_digest_lists_the_days_new_projects_by_region(db: Database) -> None:
    add_alerts(db, (), projects=2, region="辽宁省 抚顺市", seen=datetime(2023, 4, 4, 9))
    add_alerts(db, (), projects=1, region="内蒙古 包头市", seen=datetime(2023, 4, 4, 23, 59))
    add_alerts(db, (), projects=1, region=None, seen=datetime(2023, 4, 4, 10))
    add_alerts(db, (), projects=1, region="辽宁省 抚顺市", seen=datetime(2023, 4, 5, 0, 0))  # the next day
    with db.session() as s:
        digest = build_digest(s, date(2023, 4, 4))
    assert digest.count == 4
    assert [region for region, _ in digest.regions] == ["内蒙古 包头市", "辽宁省 抚顺市", "未注明地区"]
    fushun = dict(digest.regions)["辽宁省 抚顺市"]
    assert [i.investment_yi for i in fushun] == sorted((i.investment_yi for i in fushun), reverse=True)
    text = digest.text()
    assert "== 辽宁省 抚顺市 (2) ==" in text and "87.8 亿元" in text and "http://fs.gov.cn/a0.html" in text
    with db.session() as s:
        assert build_digest(s, date(2023, 4, 6)).count == 0


def test_daily_digest_goes_out_once_per_day(db: Database) -> None:
    add_alerts(db, (), projects=3, seen=datetime(2023, 4, 4, 9))
    with smtp_server() as (box, port):
        mail = email(port, "digest: {hour: 8}\n")
        config: Any = SimpleNamespace(app=SimpleNamespace(notifiers=(mail,)))
        [first] = send_daily_digest(db, config, date(2023, 4, 4))
        [again] = send_daily_digest(db, config, date(2023, 4, 4))
    assert (first.status, first.projects, again.status) == ("sent", 3, "already-sent")
    [msg] = box.messages
    parts = bodies(msg)
    assert "2023-04-04 新发现 3 个项目" in parts["text/plain"] and "<h3>辽宁省 抚顺市 (3)</h3>" in parts["text/html"]
    with db.session() as s:
        assert s.scalars(select(DigestRow.projects)).all() == [3]


def test_digest_with_smtp_down_reports_and_retries_later(db: Database) -> None:
    port = free_port()
    mail = email(port, "digest: true\n")
    config: Any = SimpleNamespace(app=SimpleNamespace(notifiers=(mail,)))
    [down] = send_daily_digest(db, config, date(2023, 4, 4))
    assert down.status == "failed" and "unreachable" in (down.error or "")
    with smtp_server(port) as (box, _):
        [up] = send_daily_digest(db, config, date(2023, 4, 4))
    assert up.status == "sent" and len(box.messages) == 1 and "没有发现新项目" in bodies(box.messages[0])["text/plain"]

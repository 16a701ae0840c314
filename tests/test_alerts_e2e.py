"""End to end: the real CLI replays the seeds and its alerts reach a real SMTP server and HTTP receiver.

The expected alerts are the replay's own JSON ``alerts`` list: each must arrive exactly once at each
channel, and a second replay must deliver nothing more.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.alerts_helpers import MailBox, Receiver, bodies, http_receiver, smtp_server
from tests.conftest import CliResult, run_cli

SECRET_ENV = {"NEWSMON_T_HOOK_SECRET": "e2e-secret"}


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with http_receiver() as rec:
        yield rec


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[MailBox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
def workdir(
    tmp_path_factory: pytest.TempPathFactory, repo: Path, receiver: Receiver, mailbox: tuple[MailBox, int]
) -> Path:
    work = tmp_path_factory.mktemp("alerts-e2e")
    shutil.copytree(repo / "seeds", work / "seeds")
    shutil.copytree(repo / "config", work / "config")
    settings = yaml.safe_load((work / "config" / "newsmon.yaml").read_text(encoding="utf-8"))
    settings["alerts"]["sinks"] = [
        {
            "kind": "email",
            "name": "mail",
            "host": "127.0.0.1",
            "port": mailbox[1],
            "security": "none",
            "from": "newsmon <alerts@example.org>",
            "to": ["desk@example.org", "boss@example.org"],
            "timeout_s": 10,
            "digest": {"hour": 8},
        },
        {"kind": "webhook", "name": "hook", "url": f"{receiver.url}/newsmon", "secret_env": "NEWSMON_T_HOOK_SECRET"},
    ]
    text_out = yaml.safe_dump(settings, allow_unicode=True, sort_keys=False)
    (work / "config" / "newsmon.yaml").write_text(text_out, encoding="utf-8")
    return work


@pytest.fixture(scope="module")
def first(workdir: Path) -> CliResult:
    result = run_cli("replay", "--json", cwd=workdir, env=SECRET_ENV)
    assert result.code == 0, result.stderr[-3000:]
    return result


def test_every_alert_arrives_once_at_each_channel(first: CliResult, receiver: Receiver, mailbox: Any) -> None:
    box: MailBox = mailbox[0]
    report = first.json()
    expected = Counter(a["project"] for a in report["alerts"])
    if not expected:
        pytest.skip("the replay raised no alerts (rules engine not finished?)")
    assert report["delivered"] == {"sent": 2 * sum(expected.values()), "retrying": 0, "failed": 0}
    hooked = Counter(r.json()["alert"]["project"] for r in receiver.requests)
    assert hooked == expected
    for req in receiver.requests:
        signature = "sha256=" + hmac.new(b"e2e-secret", req.body, hashlib.sha256).hexdigest()
        assert req.headers["X-Newsmon-Signature"] == signature
    assert len({r.json()["idempotency_key"] for r in receiver.requests}) == len(receiver.requests)
    mailed = Counter(bodies(m)["text/plain"].splitlines()[0].removeprefix("项目: ") for m in box.messages)
    assert mailed == expected
    assert all(env[1] == ["desk@example.org", "boss@example.org"] for env in box.envelopes)
    amounts = {a["project"]: a["investment_yi"] for a in report["alerts"]}
    for req in receiver.requests:
        alert = req.json()["alert"]
        assert alert["investment_yi"] == pytest.approx(amounts[alert["project"]])
        assert alert["article_url"].startswith("http") and alert["evidence"]


def test_second_replay_sends_nothing_again(first: CliResult, workdir: Path, receiver: Receiver, mailbox: Any) -> None:
    before = (len(receiver.requests), len(mailbox[0].messages))
    again = run_cli("replay", "--json", cwd=workdir, env=SECRET_ENV)
    assert again.code == 0, again.stderr[-3000:]
    assert again.json()["delivered"]["sent"] == 0
    assert (len(receiver.requests), len(mailbox[0].messages)) == before


def test_alerts_list_test_and_retry(first: CliResult, workdir: Path, receiver: Receiver) -> None:
    listed = run_cli("alerts", "list", "--json", cwd=workdir, env=SECRET_ENV)
    assert listed.code == 0, listed.stderr[-3000:]
    rows = listed.json()
    assert len(rows) == 2 * len(first.json()["alerts"])
    assert {(r["status"], r["attempts"], r["unfinished_attempts"]) for r in rows} <= {("sent", 1, 0)}
    assert run_cli("alerts", "list", "--status", "failed", cwd=workdir, env=SECRET_ENV).stdout.startswith("no alerts")

    before = len(receiver.requests)
    tested = run_cli("alerts", "test", "hook", cwd=workdir, env=SECRET_ENV)
    assert tested.code == 0 and "sample alert sent" in tested.stdout, tested.stderr[-2000:]
    assert len(receiver.requests) == before + 1 and "测试" in receiver.requests[-1].json()["alert"]["project"]
    unknown = run_cli("alerts", "test", "pager", cwd=workdir, env=SECRET_ENV)
    assert unknown.code == 2 and "no alert channel named 'pager'" in unknown.stderr and "mail, hook" in unknown.stderr

    if not rows:
        return
    hook_row = next(r for r in rows if r["channel"] == "hook")
    engine = create_engine(f"sqlite:///{workdir / 'data' / 'newsmon.db'}")
    with engine.begin() as conn:
        conn.execute(text("update alerts set status = 'failed', attempts = 8 where id = :id"), {"id": hook_row["id"]})
    engine.dispose()
    retried = run_cli("alerts", "retry", "--json", cwd=workdir, env=SECRET_ENV)
    assert retried.code == 0, retried.stderr[-3000:]
    assert retried.json()["requeued"] == 1 and retried.json()["delivered"]["sent"] == 1
    assert receiver.requests[-1].json()["idempotency_key"] == hook_row["idempotency_key"]  # a re-send keeps its key


def test_daily_digest_through_the_cli(first: CliResult, workdir: Path, mailbox: Any) -> None:
    from datetime import date

    box: MailBox = mailbox[0]
    before = len(box.messages)
    day = date.today().isoformat()
    sent = run_cli("alerts", "digest", "--day", day, "--json", cwd=workdir, env=SECRET_ENV)
    assert sent.code == 0, sent.stderr[-3000:]
    [outcome] = sent.json()
    assert (
        outcome["channel"] == "mail"
        and outcome["status"] == "sent"
        and outcome["projects"] >= len({a["project"] for a in first.json()["alerts"]})
    )
    digest = box.messages[before:]
    assert len(digest) == 1 and "新项目日报" in str(digest[0]["Subject"])
    body = bodies(digest[0])["text/plain"]
    assert all(a["project"] in body for a in first.json()["alerts"])
    again = run_cli("alerts", "digest", "--day", day, "--json", cwd=workdir, env=SECRET_ENV)
    assert again.json()[0]["status"] == "already-sent" and len(box.messages) == before + 1

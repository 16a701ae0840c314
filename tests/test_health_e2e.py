"""End to end: `newsmon crawl` through the real CLI, health alerts at a real HTTP receiver and SMTP server.

Two sources, crawled together five times. "dead" has no server for four crawls, then one comes up;
"redesigned" is a TRS column whose list page turns into a script-rendered shell with no article link
after the first crawl. With the default of three runs in a row, each source must raise exactly one
unhealthy alert per channel (dead after crawl 3, redesigned after crawl 4, saying it used to find 5
links), nothing while it stays broken, and dead one recovery alert per channel after crawl 5.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alerts_helpers import MailBox, Receiver, free_port, http_receiver, smtp_server
from tests.conftest import CliResult, run_cli
from tests.portals_site import Page, Site, TrsSite, _handler, serve_site

SHELL = """<html><head><meta charset="utf-8"><title>招商引资_示例市人民政府</title></head><body>
<div class="top"><a href="/">网站首页</a> <a href="/zwgk/">政务公开</a> <a href="/zsyz/">招商引资</a></div>
<div class="list"><div class="list-title">招商引资</div><div id="app" data-api="/api/zsyz/list.json"></div></div>
<script src="/static/js/app.3f2a.js"></script>
<div class="footer"><a href="/about.html">关于我们</a> | <a href="/sitemap.html">网站地图</a></div></body></html>"""
LIST_PATH = "/zsyz/index.html"


@contextmanager
def serve_on(port: int, site: Site) -> Iterator[None]:
    """The fixture portal on a given port: the dead source's server coming back."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(site))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Step:
    result: CliResult
    hooks: list[dict[str, Any]] = field(default_factory=list)  # webhook payloads received during this crawl
    mails: list[Message] = field(default_factory=list)

    def health(self, source: str) -> list[dict[str, Any]]:
        return [
            h for h in self.hooks if h["event"] == "newsmon.source_health" and h["source_health"]["source"] == source
        ]

    def subjects(self) -> list[str]:
        return sorted(str(m["Subject"]) for m in self.mails)


@dataclass
class History:
    work: Path
    steps: list[Step]
    dead_port: int

    def cli(self, *args: str) -> CliResult:
        return run_cli(*args, "--config", str(self.work / "config"), cwd=self.work)


def write_config(work: Path, repo: Path, hook: str, smtp_port: int, sources: list[dict[str, Any]]) -> None:
    config = work / "config"
    config.mkdir()
    (config / "rules.yaml").write_bytes((repo / "config" / "rules.yaml").read_bytes())
    app = {
        "database": {"url": f"sqlite:///{work / 'newsmon.db'}"},
        "crawl": {"autothrottle": False, "retries": 0, "download_timeout_s": 10},
        "alerts": {
            "sinks": [
                {"kind": "webhook", "name": "hook", "url": hook},
                {
                    "kind": "email",
                    "name": "mail",
                    "host": "127.0.0.1",
                    "port": smtp_port,
                    "security": "none",
                    "from": "newsmon <alerts@example.org>",
                    "to": ["ops@example.org"],
                },
            ]
        },
    }
    (config / "newsmon.yaml").write_text(yaml.safe_dump(app, allow_unicode=True), encoding="utf-8")
    (config / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> Iterator[History]:
    work = tmp_path_factory.mktemp("health-e2e")
    redesigned, revived = TrsSite(6), TrsSite(3)
    dead_port = free_port()
    with ExitStack() as stack:
        receiver: Receiver = stack.enter_context(http_receiver())
        box: MailBox
        box, smtp_port = stack.enter_context(smtp_server())
        base = stack.enter_context(serve_site(redesigned))
        sources = [
            {"name": "dead", "list_urls": [f"http://127.0.0.1:{dead_port}{LIST_PATH}"]},
            {"name": "redesigned", "list_urls": [base + LIST_PATH]},
        ]
        write_config(work, repo, f"{receiver.url}/hook", smtp_port, sources)
        history = History(work, [], dead_port)
        for n in range(1, 6):
            if n == 2:
                redesigned.pages[LIST_PATH] = Page(SHELL.encode("utf-8"), "text/html; charset=utf-8")
            if n == 5:
                stack.enter_context(serve_on(dead_port, revived))
            hooks, mails = len(receiver.requests), len(box.messages)
            result = history.cli("crawl", "--all", "--json")
            assert result.code in (0, 1), result.stderr[-3000:]
            new_hooks = [r.json() for r in receiver.requests[hooks:]]
            history.steps.append(Step(result, new_hooks, box.messages[mails:]))
        yield history


def test_a_dead_source_alerts_once_per_channel_after_three_failed_crawls(history: History) -> None:
    counts = [(len(s.health("dead")), s.subjects().count("[newsmon] source unhealthy: dead")) for s in history.steps]
    assert counts[:4] == [(0, 0), (0, 0), (1, 1), (0, 0)]  # the third failure alerts; the fourth does not
    [payload] = history.steps[2].health("dead")
    health = payload["source_health"]
    assert health["change"] == "unhealthy" and health["action"] == "newsmon sources check dead"
    assert health["columns"] == [f"http://127.0.0.1:{history.dead_port}{LIST_PATH}"]
    assert "connection refused" in health["problem"] and health["failed_runs_in_row"] == 3
    assert history.steps[2].result.json()["delivered"]["sent"] == 2
    [mail] = [m for m in history.steps[2].mails if "dead" in str(m["Subject"])]
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "newsmon sources check dead" in text and f"127.0.0.1:{history.dead_port}{LIST_PATH}" in text


def test_the_dead_source_coming_back_sends_one_recovery_alert(history: History) -> None:
    last = history.steps[4]
    [payload] = last.health("dead")
    assert payload["source_health"]["change"] == "recovered"
    assert payload["subject"] == "[newsmon] source recovered: dead"
    assert last.subjects() == ["[newsmon] source recovered: dead"]
    [run] = [run for run in last.result.json()["runs"] if run["source"] == "dead"]
    assert run["errors"] == [] and run["articles_new"] + run["articles_duplicate"] == 3  # the same texts as the other


def test_a_column_whose_layout_changed_is_reported_once(history: History) -> None:
    counts = [len(s.health("redesigned")) for s in history.steps]
    assert counts == [0, 0, 0, 1, 0]  # empty in crawls 2, 3, 4: alerted after the third, once
    [payload] = history.steps[3].health("redesigned")
    health = payload["source_health"]
    column = next(f for f in health["findings"] if f["url"])
    assert column["kind"] == "layout_changed" and column["links_before"] == 5 and column["runs"] == 3
    assert "where it used to find 5 (list layout changed?)" in health["problem"]
    assert [s for s in history.steps[3].subjects() if "redesigned" in s] == ["[newsmon] source unhealthy: redesigned"]


def test_no_project_alert_payload_is_disturbed(history: History) -> None:
    project_hooks = [h for s in history.steps for h in s.hooks if h["event"] != "newsmon.source_health"]
    assert all(h["event"] == "newsmon.alert" and "alert" in h for h in project_hooks)


def test_status_and_alerts_list_report_health(history: History) -> None:
    status = history.cli("status", "--json")
    assert status.code == 0, status.stderr[-2000:]
    by_name = {s["name"]: s for s in status.json()["sources"]}
    assert by_name["dead"]["healthy"] is True and by_name["redesigned"]["healthy"] is False
    assert by_name["redesigned"]["unhealthy_since"] and by_name["redesigned"]["health"]["columns"]
    text = history.cli("status").stdout
    assert "UNHEALTHY" in text and "newsmon sources check redesigned" in text
    listed = history.cli("alerts", "list")
    assert listed.code == 0, listed.stderr[-2000:]
    lines = listed.stdout.splitlines()
    assert sum("[source-unhealthy] dead" in line for line in lines) == 2  # hook and mail
    assert sum("[source-recovered] dead" in line for line in lines) == 2
    assert sum("[source-unhealthy] redesigned" in line for line in lines) == 2
    health = history.cli("sources", "health", "--json")
    assert {h["source"]: h["healthy"] for h in health.json()} == {"dead": True, "redesigned": False}

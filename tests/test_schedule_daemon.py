"""`newsmon run` end to end: the real daemon process, real crawl children, a real local portal.

The portal is served from this test on 127.0.0.1; an article published between runs must be
picked up and alerted exactly once, a restart must resume the stored schedule without alerting
again, and sources that are down, answer garbage or hang must be recorded as failed without
stopping the others. Waits poll the database against deadlines; nothing sleeps a fixed time.
"""

from __future__ import annotations

import html
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from crawler.replay.portal import StaticPage
from crawler.replay.server import serve, serve_handler
from tests.conftest import run_cli

SITE = "青山县人民政府"
COLUMN = "/zsyz/"
GRACE_S = 3

ARTICLES = {
    "daya": (
        "/zsyz/202301/t20230105_1001.html",
        "大亚新能源材料建设项目在青山经开区开工",
        "2023-01-05",
        [
            "1月5日上午，总投资30亿元的大亚新能源材料建设项目在青山经济技术开发区举行开工仪式。",
            "该项目由大亚新材料科技有限公司投资建设，规划用地约500亩，主要建设锂电池正极材料生产线及配套设施，"
            "计划2024年底建成投产，达产后预计年产值可达45亿元。",
            "县委副书记、县长李明出席开工仪式并讲话，要求各部门强化要素保障，全力推动项目早建成、早投产、早见效。",
        ],
    ),
    "meeting": (
        "/zsyz/202301/t20230109_1002.html",
        "我县召开优化营商环境工作推进会",
        "2023-01-09",
        [
            "1月9日，我县召开优化营商环境工作推进会，总结2022年全县营商环境建设工作，部署2023年重点任务。",
            "会议指出，去年全县新增市场主体3200余户，政务服务事项网上可办率达到98%。",
            "会议要求，各乡镇、各部门要持续深化“放管服”改革，为企业发展创造更好环境。",
        ],
    ),
}
NEW_ARTICLE = (
    "/zsyz/202302/t20230214_1003.html",
    "华鑫储能电池生产基地项目签约落户青山",
    "2023-02-14",
    [
        "2月14日，华鑫储能电池生产基地项目签约仪式在县行政中心举行，项目总投资50亿元。",
        "项目由华鑫能源集团股份有限公司投资建设，主要建设年产10GWh储能电池生产线，"
        "建成后将带动上下游配套企业20余家落户，新增就业岗位3000个。",
        "县委书记王强与企业负责人共同见证签约，并表示将提供全方位、全周期服务。",
    ],
)


def page(title: str, content: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}_{SITE}</title></head>\n'
        f'<body><div class="header"><a href="/">{SITE}</a><ul class="nav"><li><a href="/">首页</a></li>'
        f'<li><a href="{COLUMN}index.html">招商引资</a></li><li><a href="/zwgk/">政务公开</a></li></ul></div>\n'
        f"{content}\n"
        f'<div class="footer">主办单位：{SITE}办公室　版权所有：{SITE}　<a href="https://beian.miit.gov.cn/">'
        "青ICP备00000001号</a></div></body></html>\n"
    )


class Portal:
    """A county portal's 招商引资 column: one list page, newest first, and one page per article."""

    def __init__(self) -> None:
        self.pages: dict[str, StaticPage] = {"/robots.txt": StaticPage(b"User-agent: *\nAllow: /\n", "text/plain")}
        self.entries: list[tuple[str, str, str]] = []

    def publish(self, path: str, title: str, day: str, paragraphs: list[str]) -> None:
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        content = (
            f'<div class="article"><h1>{html.escape(title)}</h1>'
            f'<div class="info">发布时间：{day}　来源：青山县投资促进局</div>'
            f'<div class="TRS_Editor">\n{body}\n</div></div>'
        )
        self.pages[path] = StaticPage(page(title, content).encode("utf-8"), "text/html; charset=utf-8")
        self.entries.insert(0, (path, title, day))
        items = "\n".join(
            f'<li><a href="{p}" target="_blank">{html.escape(t)}</a><span class="date">{d}</span></li>'
            for p, t, d in self.entries
        )
        listing = f'<div class="list"><ul>\n{items}\n</ul></div>'
        self.pages[COLUMN + "index.html"] = StaticPage(
            page("招商引资", listing).encode("utf-8"), "text/html; charset=utf-8"
        )


@contextmanager
def garbage_server() -> Iterator[str]:
    """A portal that is broken: every page is a 500 with random bytes."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = os.urandom(512)
            self.send_response(500)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_handler(Handler) as base_url:
        yield base_url


@contextmanager
def hanging_server() -> Iterator[str]:
    """A portal that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def write_config(folder: Path, repo: Path, data: Path, sources: list[dict[str, Any]], **schedule: Any) -> Path:
    folder.mkdir()
    (folder / "rules.yaml").write_bytes((repo / "config" / "rules.yaml").read_bytes())
    app = {
        "data_dir": str(data),
        "crawl": {"obey_robots": True, "retries": 0, "download_timeout_s": 60, "autothrottle": False},
        "alerts": {"threshold_yi": 10, "sinks": [{"kind": "jsonl", "path": str(data / "alerts.jsonl")}]},
        "schedule": {"jitter_s": 0, "dispatch_interval_s": 1, "grace_period_s": GRACE_S, **schedule},
    }
    (folder / "newsmon.yaml").write_text(yaml.safe_dump(app, allow_unicode=True), encoding="utf-8")
    (folder / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")
    return folder


class Daemon:
    """`newsmon run` as a real process; its stderr goes to a file the test can read."""

    def __init__(self, workdir: Path, config: Path, db_url: str, name: str) -> None:
        self.log = workdir / f"{name}.stderr"
        env = {**os.environ}
        env.pop("NEWSMON_DATABASE_URL", None)
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "crawler.cli", "run", "--config", str(config), "--db", db_url],
                cwd=workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> tuple[int, float]:
        """SIGTERM; the exit status and how long it took."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=GRACE_S + 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"daemon did not stop:\n{self.stderr()[-3000:]}") from None
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Db:
    def __init__(self, path: Path) -> None:
        self.engine = create_engine(f"sqlite:///{path}")

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        try:
            with self.engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(text(sql), params)]
        except Exception:  # the daemon may not have created the tables yet
            return []

    def runs(self, source: str) -> list[dict[str, Any]]:
        return self.rows("select * from crawl_runs where source_name = :s order by id", s=source)


def wait_for(what: str, check: Callable[[], Any], daemon: Daemon, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if daemon.proc.poll() is not None:
            raise AssertionError(
                f"daemon exited ({daemon.proc.returncode}) waiting for {what}:\n{daemon.stderr()[-4000:]}"
            )
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{daemon.stderr()[-4000:]}")


def jsonl_projects(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["project"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def failed_twice(db: Db, source: str) -> bool:
    return len([r for r in db.runs(source) if r["status"] != "running"]) >= 2


def after(moment: str) -> Callable[[dict[str, Any]], bool]:
    return lambda run: str(run["started_at"]) > moment


@pytest.fixture
def portal() -> Iterator[tuple[Portal, str]]:
    site = Portal()
    for path, title, day, paragraphs in ARTICLES.values():
        site.publish(path, title, day, paragraphs)
    with serve(site.pages) as base:
        yield site, base


def test_daemon_crawls_alerts_once_survives_restart_and_isolates_failures(
    tmp_path: Path, repo: Path, portal: tuple[Portal, str]
) -> None:
    site, base = portal
    data = tmp_path / "data"
    db_path = tmp_path / "newsmon.db"
    with garbage_server() as garbage:
        sources = [
            {"name": "青山县", "region": "青山县", "list_urls": [f"{base}{COLUMN}index.html"], "schedule": "every 2s"},
            {"name": "down", "list_urls": [f"http://127.0.0.1:{closed_port()}/zsyz/"], "schedule": "every 2s"},
            {"name": "garbage", "list_urls": [f"{garbage}/zsyz/index.html"], "schedule": "every 2s"},
        ]
        config = write_config(
            tmp_path / "config",
            repo,
            data,
            sources,
            max_concurrent_crawls=3,
            crawl_timeout_s=40,
            failure_backoff={"after_failures": 2, "initial_s": 3600},
        )
        _first_daemon(tmp_path, config, db_path, data, site)
        _second_daemon(tmp_path, config, db_path, data)


def _first_daemon(tmp_path: Path, config: Path, db_path: Path, data: Path, site: Portal) -> None:
    db = Db(db_path)
    daemon = Daemon(tmp_path, config, f"sqlite:///{db_path}", "first")
    try:

        def ok() -> list[dict[str, Any]]:
            return [r for r in db.runs("青山县") if r["status"] == "ok"]

        first = wait_for("the first run", ok, daemon)[0]
        assert first["articles_new"] == 2 and first["alerts_created"] == 1, first
        wait_for("the first alert", lambda: jsonl_projects(data / "alerts.jsonl"), daemon)
        assert len(jsonl_projects(data / "alerts.jsonl")) == 1
        assert "大亚新能源材料" in jsonl_projects(data / "alerts.jsonl")[0]

        site.publish(*NEW_ARTICLE)
        wait_for("the new article", lambda: db.rows("select id from articles where title like '华鑫%'"), daemon)
        found = db.rows("select first_seen from articles where title like '华鑫%'")[0]["first_seen"]
        wait_for("its alert", lambda: any("华鑫" in p for p in jsonl_projects(data / "alerts.jsonl")), daemon)
        third = wait_for("a run finding nothing", lambda: [r for r in ok() if after(str(found))(r)], daemon)[0]
        assert third["articles_new"] == 0 and third["alerts_created"] == 0 and third["errors"] == 0, third

        for name in ("down", "garbage"):
            wait_for(f"{name} failing twice", partial(failed_twice, db, name), daemon)
            assert all(r["status"] == "failed" and r["errors"] >= 1 and r["error_text"] for r in db.runs(name))
        _check_status(tmp_path, config, db_path)
        code, took = daemon.stop()
    finally:
        daemon.kill()
    assert code == 0, daemon.stderr()[-3000:]
    assert took < GRACE_S + 8
    projects = jsonl_projects(data / "alerts.jsonl")
    assert sum("华鑫" in p for p in projects) == 1 and len(projects) == 2, projects
    assert not db.rows("select id from crawl_runs where status = 'running'")
    jobs = {r["id"] for r in db.rows("select id from apscheduler_jobs")}
    assert jobs == {"crawl:青山县", "crawl:down", "crawl:garbage", "dispatch"}
    assert (data / "newsmon.log").exists() and "crawl started" in (data / "newsmon.log").read_text(encoding="utf-8")


def _check_status(tmp_path: Path, config: Path, db_path: Path) -> None:
    result = run_cli("status", "--json", "--config", str(config), "--db", f"sqlite:///{db_path}", cwd=tmp_path)
    assert result.code == 0, result.stderr
    report = result.json()
    assert report["daemon"]["running"] is True
    by_name = {s["name"]: s for s in report["sources"]}
    good = by_name["青山县"]
    assert good["result"] in {"ok", "running"} and good["next_run"] and good["error_streak"] == 0
    for name in ("down", "garbage"):
        bad = by_name[name]
        assert bad["error_streak"] >= 2 and bad["last_error"] and bad["backoff_until"], bad
    text_result = run_cli("status", "--config", str(config), "--db", f"sqlite:///{db_path}", cwd=tmp_path)
    assert "青山县" in text_result.stdout and "backing off" in text_result.stdout


def _second_daemon(tmp_path: Path, config: Path, db_path: Path, data: Path) -> None:
    db = Db(db_path)
    alerts_before = jsonl_projects(data / "alerts.jsonl")
    restarted = datetime.now().isoformat(sep=" ")
    down_runs = len(db.runs("down"))
    daemon = Daemon(tmp_path, config, f"sqlite:///{db_path}", "second")
    try:
        wait_for(
            "a run after the restart",
            lambda: [r for r in db.runs("青山县") if after(restarted)(r) and r["status"] == "ok"],
            daemon,
        )
        code, _ = daemon.stop()
    finally:
        daemon.kill()
    assert code == 0, daemon.stderr()[-3000:]
    log = daemon.stderr()
    assert "crawl 青山县 [every 2s, jitter 0s]: kept from the job store" in log
    assert "skipped, backing off" in log
    assert len(db.runs("down")) == down_runs  # still backing off: the restart does not reset it
    assert jsonl_projects(data / "alerts.jsonl") == alerts_before  # no alert twice


def test_hung_crawl_is_killed_and_shutdown_kills_after_grace(tmp_path: Path, repo: Path) -> None:
    db_path = tmp_path / "newsmon.db"
    grace = 1  # shorter than the crawl timeout: the crawl running at SIGTERM is killed for the shutdown
    with hanging_server() as hanging:
        sources = [{"name": "hang", "list_urls": [f"{hanging}/zsyz/index.html"], "schedule": "every 2s"}]
        config = write_config(
            tmp_path / "config", repo, tmp_path / "data", sources, crawl_timeout_s=4, grace_period_s=grace
        )
        db = Db(db_path)
        daemon = Daemon(tmp_path, config, f"sqlite:///{db_path}", "hang")
        try:
            timed_out = wait_for(
                "the hung crawl to be killed",
                lambda: [r for r in db.runs("hang") if r["status"] == "failed"],
                daemon,
            )[0]
            wait_for("the next crawl to start", lambda: len(db.runs("hang")) == 2, daemon)
            code, took = daemon.stop()  # the running crawl hangs: it is killed once the grace period is over
        finally:
            daemon.kill()
    assert code == 0, daemon.stderr()[-3000:]
    assert grace <= took < grace + 8
    assert "timed out" in timed_out["error_text"] and timed_out["finished_at"] is not None
    stopped = db.runs("hang")[1]
    assert stopped["status"] == "failed" and stopped["error_text"].startswith("stopped:"), stopped
    assert not db.rows("select id from crawl_runs where status = 'running'")

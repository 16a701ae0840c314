"""The ingest process (crawler.ingestproc): storing in a child process loses nothing.

The child's loop is driven directly through real pipes; a real crawl (the CLI against a fixture
portal) has its ingest child killed half-way: every article is still stored, once, by the end of the
next crawl, and the run that lost articles keeps no list-page validators.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from multiprocessing import Pipe
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from crawler.config import AlertRule, load_config
from crawler.ingest import IngestSettings, PageRecord
from crawler.ingestlaunch import many_articles_expected
from crawler.ingestproc import STORE_HERE_FIRST, Reply, SourceSettings, serve
from crawler.models import Article, FetchedPage
from crawler.rules import load_ruleset_file
from crawler.store import open_database
from crawler.store.schema import ArticleRow, CrawlRunRow, ProjectRow
from tests.conftest import REPO, fresh_postgres_schema
from tests.portals_site import BadSite, Page, TrsSite, serve_site
from tests.test_portals_crawl import write_config

SIGNED = "3月2日，{town}与江苏三木集团举行{n}万吨苯酚丙酮一体化产业链项目签约仪式，项目总投资{n}6.8亿元。"


def _settings() -> SourceSettings:
    config = load_config(REPO / "config")
    return SourceSettings.of(IngestSettings(config.rules, (AlertRule(),), ("mail",), config.app.matching, run_id=None))


def _raw(n: int) -> FetchedPage:
    paragraph = SIGNED.format(town="抚顺", n=n)
    body = f"<html><head><title>第{n}篇</title></head><body><h1>第{n}篇</h1><p>{paragraph}</p></body></html>"
    content_type = "text/html; charset=utf-8"
    return FetchedPage(
        f"http://fs.gov.cn/{n}.html", body.encode(), content_type, "fushun", "抚顺市", datetime(2023, 4, 4)
    )


def _record(n: int) -> PageRecord:
    article = Article(f"http://ls.gov.cn/{n}.html", f"记录{n}", date(2023, 4, 4), SIGNED.format(town="辽阳", n=n))
    return PageRecord(article.url or "", "liaoyang", "辽阳市", article, "utf-8", datetime(2023, 4, 4))


class Child:
    """``serve`` in a thread of this process, with real pipes, as the crawl process would drive it."""

    def __init__(self, db_url: str) -> None:
        jobs_r, self.jobs = Pipe(duplex=False)
        self.replies, replies_w = Pipe(duplex=False)
        rules = load_ruleset_file(REPO / "config" / "rules.yaml")
        self.thread = threading.Thread(target=serve, args=(jobs_r, replies_w, db_url, rules), daemon=True)
        self.thread.start()
        self.jobs.send(("settings", "k", _settings()))

    def messages(self, count: int) -> list[Any]:
        out = []
        while len(out) < count:
            assert self.replies.poll(30), f"no answer from the child after {out}"
            if isinstance(message := self.replies.recv(), Reply):
                out.append(message)
        return out

    def stop(self) -> list[Any]:
        self.jobs.send(("stop",))
        self.thread.join(30)
        out = []
        while self.replies.poll(1):
            try:
                out.append(self.replies.recv())
            except EOFError:
                break
        return out


@pytest.fixture
def db_url(database_url: str) -> str:
    open_database(database_url)  # migrated, as run_crawl's database is before the child opens it
    return database_url


def test_the_child_extracts_raw_pages_stores_records_and_reports_commits(db_url: str) -> None:
    child = Child(db_url)
    child.jobs.send(("page", 1, "k", _raw(1)))
    child.jobs.send(("page", 2, "k", _record(2)))
    child.jobs.send(("page", 3, "k", _raw(1)))  # the same URL again: known, nothing written
    replies = [m for m in child.messages(3)]
    assert [r.seq for r in replies] == [1, 2, 3]
    assert [r.outcome.status for r in replies] == ["new", "new", "known"]
    assert replies[0].title == "第1篇" and replies[0].outcome.projects, "extracted in the child, with its project"
    final = child.stop()
    assert final[-1] == ("settled", [(1, True), (2, True), (3, True)]), "committed at the stop, all three"
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ArticleRow)) == 2
        assert conn.scalar(select(func.count()).select_from(ProjectRow)) == 2
    engine.dispose()


def test_a_page_that_breaks_extraction_is_reported_and_the_next_is_stored(db_url: str) -> None:
    child = Child(db_url)
    article = Article("http://fs.gov.cn/x.html", "坏", None, None)  # type: ignore[arg-type]  # no text: a bug upstream
    broken = PageRecord(article.url or "", "fushun", None, article, "utf-8", datetime(2023, 4, 4))
    child.jobs.send(("page", 1, "k", broken))
    child.jobs.send(("page", 2, "k", _record(5)))
    first, second = child.messages(2)
    assert isinstance(first, Reply) and first.outcome is None and first.error
    assert second.outcome.status == "new"
    assert child.stop()[-1] == ("settled", [(2, True)])


def test_the_crawl_process_gone_commits_what_the_child_holds_and_exits(db_url: str) -> None:
    child = Child(db_url)
    child.jobs.send(("page", 1, "k", _record(7)))
    (reply,) = child.messages(1)
    child.jobs.close()  # EOF, as when the crawl process dies
    child.thread.join(30)
    assert not child.thread.is_alive() and reply.outcome.status == "new"
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ArticleRow)) == 1
    engine.dispose()


# ----------------------------------------------------------------------------- a crawl losing its child


class SlowSite(TrsSite):
    """A TRS column whose article pages take a while, so a crawl is still storing when we strike."""

    kind = "slow"

    def lookup(self, path_and_query: str) -> Page | None:
        if "/t2023" in path_and_query:
            time.sleep(0.04)
        return super().lookup(path_and_query)


def _descendants(pid: int) -> Iterator[tuple[int, str]]:
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in os.listdir(f"/proc/{parent}/task"):
            try:
                children = Path(f"/proc/{parent}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                todo.append(child)
                yield child, Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")


def _ingest_child(crawl: subprocess.Popen[str]) -> int | None:
    """The forkserver's child: with one spare core the pool has no worker, so it is the ingest process."""
    found = list(_descendants(crawl.pid))
    servers = {pid for pid, cmd in found if "forkserver" in cmd}
    for pid, _ in found:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] in {str(s) for s in servers}:
            return pid
    return None


def _count(db_url: str, sql: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        value = int(conn.scalar(text(sql)) or 0)
    engine.dispose()
    return value


def _stored_so_far(db_url: str) -> int:
    try:
        return _count(db_url, "select count(*) from articles")
    except OperationalError:  # the crawl has not created the schema yet
        return 0


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the child through /proc (Linux)")
def test_a_killed_ingest_process_loses_no_article(tmp_path: Path) -> None:
    site = SlowSite(60)
    db_url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    config = tmp_path / "config"
    with serve_site(site) as base:
        source = {"name": "slow", "list_urls": [base + "/zsyz/index.html"], "region": "示例市", "max_pages": 20}
        write_config(tmp_path, REPO, [source])
        command = [sys.executable, "-m", "crawler.cli", "crawl", "slow", "--json", "--config", str(config)]
        env = {**os.environ, "NEWSMON_EXTRACT_WORKERS": "1", "NEWSMON_INGEST_PROCESS": "1"}
        env.pop("NEWSMON_DATABASE_URL", None)
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        crawl = subprocess.Popen([*command, "--db", db_url], cwd=tmp_path, env=env, **pipes)  # type: ignore[call-overload]
        deadline, killed = time.monotonic() + 60, None
        while killed is None and time.monotonic() < deadline and crawl.poll() is None:
            time.sleep(0.1)
            if _stored_so_far(db_url) >= 10:
                killed = _ingest_child(crawl)
                if killed is not None:
                    os.kill(killed, signal.SIGKILL)
        out, err = crawl.communicate(timeout=120)
        assert killed is not None, f"the crawl ended before its ingest child was killed:\n{err[-2000:]}"
        assert "the ingest process died" in err, err[-2000:]
        (run,) = json.loads(out)["runs"]
        assert run["articles_new"] == len(site.items) and not run["errors"], run
        assert _count(db_url, "select count(*) from articles") == len(site.items), "all stored by the first crawl"
        second = subprocess.run([*command, "--db", db_url], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert json.loads(second.stdout)["runs"][0]["articles_new"] == 0, second.stderr[-2000:]
        assert "storing in an ingest process" not in second.stderr, "a re-crawl storing nothing starts no child"
    assert _count(db_url, "select count(distinct canonical_url) from articles") == len(site.items)
    assert _count(db_url, "select count(*) from articles") == len(site.items)


def test_an_early_child_given_nothing_to_store_is_stopped_at_once(tmp_path: Path) -> None:
    """A first crawl starts its child early (all articles will be new); when the column turns out to
    list nothing, the crawl stops the child, neither waiting for it nor leaving it running."""
    site = BadSite(Page("<html><body><ul><li>暂无信息</li></ul></body></html>".encode(), "text/html; charset=utf-8"))
    with serve_site(site) as base:
        write_config(tmp_path, REPO, [{"name": "empty", "list_urls": [base + "/list.html"], "region": "示例市"}])
        command = [
            sys.executable,
            "-m",
            "crawler.cli",
            "crawl",
            "empty",
            "--json",
            "--config",
            str(tmp_path / "config"),
        ]
        env = {**os.environ, "NEWSMON_EXTRACT_WORKERS": "1", "NEWSMON_INGEST_PROCESS": "1"}
        env.pop("NEWSMON_DATABASE_URL", None)
        db = f"sqlite:///{tmp_path / 'newsmon.db'}"
        done = subprocess.run(
            [*command, "--db", db], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
    started = re.search(r"storing in an ingest process \(pid (\d+)\)", done.stderr)
    assert started is not None, f"a first crawl starts its child early:\n{done.stderr[-2000:]}"
    assert not Path(f"/proc/{started.group(1)}").exists(), "the unused ingest child outlived the crawl"
    assert "died" not in done.stderr and "not stored" not in done.stderr, done.stderr[-2000:]
    assert json.loads(done.stdout)["runs"][0]["articles_new"] == 0


def test_a_re_crawl_stores_a_few_new_articles_itself_and_starts_the_child_for_many(tmp_path: Path) -> None:
    """A few new articles (the usual re-crawl) are stored by the crawl process: no child start-up to
    pay or wait for. Past STORE_HERE_FIRST, the child starts and stores the rest; each is stored once."""
    site = TrsSite(3)
    db_url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    with serve_site(site) as base:
        source = {"name": "trs", "list_urls": [base + "/zsyz/index.html"], "region": "示例市", "max_pages": 50}
        write_config(tmp_path, REPO, [source])
        command = [sys.executable, "-m", "crawler.cli", "crawl", "trs", "--json", "--config", str(tmp_path / "config")]
        env = {**os.environ, "NEWSMON_EXTRACT_WORKERS": "1", "NEWSMON_INGEST_PROCESS": "1"}
        env.pop("NEWSMON_DATABASE_URL", None)

        def crawl() -> tuple[int, str]:
            done = subprocess.run([*command, "--db", db_url], cwd=tmp_path, env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr[-2000:]
            return json.loads(done.stdout)["runs"][0]["articles_new"], done.stderr

        assert crawl()[0] == 3
        [site.add_article() for _ in range(2)]
        new, log = crawl()
        assert new == 2 and "storing in an ingest process" not in log, log[-2000:]
        [site.add_article() for _ in range(STORE_HERE_FIRST + 5)]
        new, log = crawl()
        assert new == STORE_HERE_FIRST + 5 and "storing in an ingest process" in log, log[-2000:]
        assert "died" not in log and "had not committed" not in log, log[-2000:]
    assert _count(db_url, "select count(*) from articles") == len(site.items)
    assert _count(db_url, "select count(distinct canonical_url) from articles") == len(site.items)


def test_a_child_is_started_early_only_when_many_articles_are_expected(db_url: str) -> None:
    db = open_database(db_url)
    assert many_articles_expected(db, ["a"], refetch=False, backfill=None), "never crawled: all new"
    with db.transaction() as session:
        when = datetime(2024, 1, 1)
        session.add(CrawlRunRow(source_name="a", kind="crawl", status="ok", started_at=when))
        session.add(CrawlRunRow(source_name="b", kind="crawl", status="failed", started_at=when))
    assert not many_articles_expected(db, ["a"], refetch=False, backfill=None), "a re-crawl: mostly nothing new"
    assert many_articles_expected(db, ["a", "b"], refetch=False, backfill=None), "b never crawled successfully"
    assert many_articles_expected(db, ["a"], refetch=True, backfill=None)
    assert many_articles_expected(db, ["a"], refetch=False, backfill=5)
    db.close()


def _second_url(first: str, tmp_path: Path) -> Iterator[str]:
    if first.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'in_process.db'}"
    else:
        yield from fresh_postgres_schema(first.split("?")[0])


def _what_was_stored(db_url: str) -> dict[str, Any]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        stored = {
            "articles": sorted(tuple(r) for r in conn.execute(text("select url, title, text from articles"))),
            "projects": sorted(tuple(r) for r in conn.execute(text("select name, investment_yi, stage from projects"))),
            "alerts": conn.scalar(text("select count(*) from alerts")),
        }
    engine.dispose()
    return stored


def test_a_crawl_through_the_ingest_process_stores_what_an_in_process_crawl_does(
    database_url: str, tmp_path: Path
) -> None:
    """Both databases (the child opens the crawl's URL itself: a PostgreSQL schema in its options too)."""
    site = TrsSite(20)
    with serve_site(site) as base, contextmanager(_second_url)(database_url, tmp_path) as in_process_url:
        source = {"name": "trs", "list_urls": [base + "/zsyz/index.html"], "region": "示例市", "max_pages": 10}
        write_config(tmp_path, REPO, [source])
        command = [sys.executable, "-m", "crawler.cli", "crawl", "trs", "--json", "--config", str(tmp_path / "config")]
        for url, child in ((database_url, "1"), (in_process_url, "0")):
            env = {**os.environ, "NEWSMON_EXTRACT_WORKERS": "1", "NEWSMON_INGEST_PROCESS": child}
            env.pop("NEWSMON_DATABASE_URL", None)
            done = subprocess.run([*command, "--db", url], cwd=tmp_path, env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr[-2000:]
            assert ("storing in an ingest process" in done.stderr) is (child == "1")
            # The reactor's shutdown is no death of the child: the child commits its own last group.
            assert "ingest process died" not in done.stderr and "had not committed" not in done.stderr, done.stderr
            assert json.loads(done.stdout)["runs"][0]["articles_new"] == len(site.items)
        through_child, in_process = _what_was_stored(database_url), _what_was_stored(in_process_url)
    assert len(through_child["articles"]) == len(site.items) and through_child["alerts"] > 0
    assert through_child == in_process

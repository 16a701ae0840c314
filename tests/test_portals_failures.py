"""Misbehaving sources end with a clear log line and a failed run; the other sources still run.

A dead host, a 500 storm, a redirect loop, a redirect off the source's site, a 20 MB page and a
truncated GBK page, crawled in one `newsmon crawl` beside a healthy TRS column.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import CliResult, run_cli
from tests.portals_site import BadSite, Page, Site, TrsSite, serve_site
from tests.test_portals_crawl import write_config

ROW = '<li><a href="./202304/t2023040{n}_{n}.html">第{n}个重大项目集中签约</a>2023-04-0{n}</li>'
GBK_LIST = (
    '<html><head><meta charset="gbk"><title>招商引资</title></head><body><ul>'
    + "".join(ROW.format(n=n) for n in range(1, 9))
    + "</ul></body></html>"
).encode("gbk")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Outcome:
    result: CliResult
    runs: dict[str, dict[str, Any]]
    sites: dict[str, Site]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> Iterator[Outcome]:
    work = tmp_path_factory.mktemp("failures")
    sites: dict[str, Site] = {
        "storm": BadSite(Page(b"<h1>500</h1>", "text/html", status=500, etag=False)),
        "loop": BadSite(Page(b"", "text/html", status=302, headers={"Location": "/list.html"}, etag=False)),
        "offsite": BadSite(Page(b"", "text/html", status=302, etag=False)),
        "huge": BadSite(Page(b"<html>" + b"x" * (20 * 1024 * 1024) + b"</html>", "text/html", etag=False)),
        "truncated": BadSite(Page(GBK_LIST, "text/html; charset=gbk", etag=False, truncate_to=len(GBK_LIST) // 2)),
        "good": TrsSite(6),
    }
    with ExitStack() as stack:
        bases = {name: stack.enter_context(serve_site(site)) for name, site in sites.items()}
        off = bases["offsite"].replace("127.0.0.1", "localhost")
        sites["offsite"].pages["/list.html"].headers["Location"] = f"{off}/elsewhere.html"
        urls = {name: base + "/list.html" for name, base in bases.items()}
        urls["good"] = bases["good"] + "/zsyz/index.html"
        urls["dead"] = f"http://127.0.0.1:{_closed_port()}/list.html"
        write_config(work, repo, [{"name": name, "list_urls": [url]} for name, url in urls.items()])
        db_url = f"sqlite:///{work / 'newsmon.db'}"
        result = run_cli("crawl", "--all", "--json", "--config", str(work / "config"), "--db", db_url, cwd=work)
        engine = create_engine(db_url)
        with engine.connect() as conn:
            rows = conn.execute(text("select source_name, status, error_text, articles_new from crawl_runs")).all()
        engine.dispose()
        yield Outcome(result, {r[0]: dict(r._mapping) for r in rows}, sites)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("dead", "connection refused"),
        ("storm", "HTTP 500"),
        ("loop", "redirect"),
        ("offsite", "redirect off the source's site refused"),
        ("huge", "size cap"),
        ("truncated", "truncated response"),
    ],
)
def test_each_bad_source_ends_in_a_failed_run_with_a_clear_reason(outcome: Outcome, name: str, reason: str) -> None:
    run = outcome.runs[name]
    assert run["status"] == "failed", run
    assert reason in (run["error_text"] or ""), run
    assert any(f"[{name}] fetch failed" in line and reason in line for line in outcome.result.stderr.splitlines())


def test_the_healthy_source_still_runs(outcome: Outcome) -> None:
    assert outcome.result.code == 1  # some sources failed
    good = outcome.runs["good"]
    assert good["status"] == "ok" and good["articles_new"] == 6, good
    assert {r["source"] for r in outcome.result.json()["runs"]} == set(outcome.runs)


def test_500s_are_retried_then_given_up(outcome: Outcome) -> None:
    storm = outcome.sites["storm"]
    assert storm.requests.count("/list.html") == 2  # retries: 1 in the test config
    assert not any("elsewhere" in r for r in outcome.sites["offsite"].requests)

"""Reprints across three real local portals, crawled by the real CLI (a subprocess, the real spider).

Three sites, each its own HTTP server addressed under a stable host name through the source's proxy,
publish seed 000 with their own chrome, title and small edits, one in Traditional script. One crawl
stores it once with two linked duplicates and alerts once for 双良; a later report of the project's
operation, on one of the sites, adds a mention and no alert. `newsmon projects` then lists and shows it.
"""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from crawler.replay.portal import StaticPage
from crawler.replay.server import serve
from tests.conftest import CliResult, run_cli
from tests.test_dedup_ingest import OPERATING, seed_000_variants

SITES = {
    "nmg": ("http://www.nmg-news.test", "内蒙古新闻网", "内蒙古自治区 包头市"),
    "mirror": ("http://www.zl-mirror.test", "上海市稀土协会", None),
    "hk": ("http://news.hk-daily.test", "香港商報網", None),
}
OTHER = "/work/main/seeds/002_8a03dec8ef9cc38d.txt"


def article_page(site: str, title: str, paragraphs: list[str], day: str) -> StaticPage:
    _, portal, _ = SITES[site]
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    nav = "".join(f'<li><a href="/{c}/">{c}</a></li>' for c in ("首页", "要闻", "经济", "社会", "专题"))
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}_{portal}</title></head>
<body><div class="top"><a href="/">{portal}</a> | 设为首页 | 加入收藏</div><ul class="nav">{nav}</ul>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/news/">新闻中心</a></div>
<div class="main"><h1>{html.escape(title)}</h1><div class="info">来源：{portal}　发布时间：{day}</div>
<div class="content">{body}</div>
<div class="tools">【<a href="#">打印</a>】【<a href="#">关闭</a>】 分享到：微信 微博</div></div>
<div class="footer">{portal} 版权所有 Copyright © 2021 ICP备05001234号</div></body></html>"""
    return StaticPage(page.encode("utf-8"), "text/html; charset=utf-8")


def list_page(site: str, links: dict[str, str]) -> StaticPage:
    _, portal, _ = SITES[site]
    items = "\n".join(
        f'<li><a href="{path}">{html.escape(title)}</a><span>2021-11-25</span></li>' for path, title in links.items()
    )
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻中心_{portal}</title></head>
<body><div class="top"><a href="/">{portal}</a></div><ul class="news-list">{items}</ul></body></html>"""
    return StaticPage(page.encode("utf-8"), "text/html; charset=utf-8")


def build_site(site: str, articles: dict[str, tuple[str, list[str]]]) -> dict[str, StaticPage]:
    pages = {"/robots.txt": StaticPage(b"User-agent: *\nAllow: /\n", "text/plain")}
    for path, (title, paragraphs) in articles.items():
        day = path.rsplit("/t", 1)[1][:8]
        pages[path] = article_page(site, title, paragraphs, f"{day[:4]}-{day[4:6]}-{day[6:]}")
    pages["/news/index.html"] = list_page(site, {path: title for path, (title, _) in articles.items()})
    return pages


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, tuple[dict[str, StaticPage], str]]]:
    variants = seed_000_variants()
    other = [line.strip() for line in Path(OTHER).read_text(encoding="utf-8").splitlines()[3:] if line.strip()]
    served = {}
    with ExitStack() as stack:
        for i, site in enumerate(SITES):
            articles = {f"/news/202111/t20211125_{1000 + i}.html": variants[site]}
            if site == "nmg":
                articles["/news/202111/t20211124_999.html"] = ("抚顺市抓招商上项目促增长", other)
            pages = build_site(site, articles)
            served[site] = (pages, stack.enter_context(serve(pages)))
        yield served


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, repo: Path, sites: dict[str, Any]) -> Path:
    work = tmp_path_factory.mktemp("dedup_e2e")
    shutil.copytree(repo / "config", work / "config")
    sources = [
        {
            "name": site,
            "list_urls": [f"{host}/news/index.html"],
            "region": region,
            "link_selector": "ul.news-list a",
            "max_pages": 1,
            "proxy": sites[site][1],
        }
        for site, (host, _, region) in SITES.items()
    ]
    (work / "config" / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), "utf-8")
    return work


def cli(workdir: Path, *args: str) -> CliResult:
    db = f"sqlite:///{workdir / 'newsmon.db'}"
    return run_cli(*args, "--config", str(workdir / "config"), "--db", db, cwd=workdir)


def query(workdir: Path, sql: str) -> list[dict[str, Any]]:
    engine = create_engine(f"sqlite:///{workdir / 'newsmon.db'}")
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def delivered(workdir: Path) -> list[str]:
    path = workdir / "data" / "alerts.jsonl"
    return [json.loads(line)["project"] for line in path.read_text("utf-8").splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def first_crawl(workdir: Path) -> CliResult:
    result = cli(workdir, "crawl", "nmg", "--json")  # the original site first, then the reprints
    assert result.code == 0, result.stderr[-3000:]
    reprints = cli(workdir, "crawl", "mirror", "hk", "--json")
    assert reprints.code == 0, reprints.stderr[-3000:]
    runs = result.json()["runs"] + reprints.json()["runs"]
    return CliResult(0, json.dumps({"runs": runs}), result.stderr + reprints.stderr)


@pytest.fixture(scope="module")
def later_crawl(workdir: Path, first_crawl: CliResult, sites: dict[str, Any]) -> CliResult:
    pages, _ = sites["nmg"]
    later = {"/news/202112/t20211228_2000.html": ("双良集团40GW单晶硅项目全面投产", OPERATING.split("\n"))}
    pages.update(build_site("nmg", later))  # the list page now links the new report only
    result = cli(workdir, "crawl", "nmg", "--json")
    assert result.code == 0, result.stderr[-3000:]
    return result


def test_one_article_two_duplicates_one_alert(first_crawl: CliResult, workdir: Path) -> None:
    runs = {r["source"]: r for r in first_crawl.json()["runs"]}
    assert (runs["nmg"]["articles_new"], runs["nmg"]["articles_duplicate"]) == (2, 0)
    assert (runs["mirror"]["articles_new"], runs["mirror"]["articles_duplicate"]) == (0, 1)
    assert (runs["hk"]["articles_new"], runs["hk"]["articles_duplicate"]) == (0, 1)
    assert runs["mirror"]["alerts_created"] == runs["hk"]["alerts_created"] == 0
    articles = query(workdir, "select id, url, title, duplicate_of, text from articles order by id")
    [original] = [a for a in articles if "t20211125_1000" in a["url"]]
    reprints = [a for a in articles if a["duplicate_of"] is not None]
    assert sorted(a["url"].split("/")[2] for a in reprints) == ["news.hk-daily.test", "www.zl-mirror.test"]
    assert all(a["duplicate_of"] == original["id"] for a in reprints)
    assert any("稀土高新區" in a["text"] for a in reprints)  # the Traditional reprint is kept as written
    alerted = query(
        workdir,
        "select distinct p.id, p.name from alerts a join projects p on p.id = a.project_id where p.name like '%双良%'",
    )
    assert len(alerted) == 1
    assert sum("双良" in name for name in delivered(workdir)) == 1


def test_a_later_report_adds_a_mention_and_no_alert(later_crawl: CliResult, workdir: Path) -> None:
    [run] = later_crawl.json()["runs"]
    assert (run["articles_new"], run["projects_new"], run["alerts_created"]) == (1, 0, 0)
    [project] = query(workdir, "select id, stage from projects where name like '%双良%'")
    assert project["stage"] == "operating"
    mentions = query(workdir, f"select stage from project_mentions where project_id = {project['id']}")
    assert len(mentions) == 2
    assert sum("双良" in name for name in delivered(workdir)) == 1


def test_projects_command_lists_and_shows_history(later_crawl: CliResult, workdir: Path) -> None:
    listed = cli(workdir, "projects", "--min-yi", "10", "--format", "json")
    assert listed.code == 0, listed.stderr[-2000:]
    projects = listed.json()
    [sl] = [p for p in projects if "双良" in p["name"]]
    assert all(p["investment_yi"] >= 10 for p in projects)
    assert sl["mentions"] == 2 and sl["stage"] == "operating" and sl["company"] == "双良集团"
    assert sum(a["reprints"] for a in sl["articles"]) == 2
    shown = cli(workdir, "projects", "show", str(sl["id"]), "--format", "json")
    assert shown.code == 0, shown.stderr[-2000:]
    history = shown.json()
    assert [m["url"].rsplit("/", 1)[1] for m in history["mentions"]] == ["t20211125_1000.html", "t20211228_2000.html"]
    assert {a["channel"] for a in history["alerts"]} == {"console", "jsonl"}
    table = cli(workdir, "projects", "show", str(sl["id"]))
    assert "双良集团40gw单晶硅项目" in table.stdout and "+2 reprints" in table.stdout
    csv_out = cli(workdir, "projects", "--format", "csv", "--since", "2000-01-01")
    assert csv_out.code == 0 and csv_out.stdout.splitlines()[0].startswith("id,name,investment_yi")

"""Crawling fixture portals (TRS, Hanweb, generic) through the real CLI, counting requests server-side.

First crawl: every article stored. Second crawl, nothing new: at most robots.txt and one list page
per source (a 304), no article request. One article added: exactly that one fetched.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import CliResult, run_cli
from tests.portals_site import GenericSite, HanwebSite, Site, TrsSite, serve_site

NEWSMON_YAML = """
database: {url: "sqlite:///data/newsmon.db"}
crawl: {autothrottle: false, retries: 1, download_timeout_s: 10}
alerts: {sinks: [{kind: jsonl, path: data/alerts.jsonl}]}
"""


class Portals:
    def __init__(self, work: Path, sites: dict[str, tuple[Site, str]]) -> None:
        self.work, self.sites = work, sites
        self.db_url = f"sqlite:///{work / 'newsmon.db'}"

    def crawl(self, *extra: str) -> CliResult:
        for site, _ in self.sites.values():
            site.requests.clear()
            site.not_modified.clear()
        names = list(self.sites)
        return run_cli(
            "crawl", *names, "--json", "--config", str(self.work / "config"), "--db", self.db_url, *extra, cwd=self.work
        )

    def stored(self, source: str) -> list[str]:
        engine = create_engine(self.db_url)
        with engine.connect() as conn:
            rows = conn.execute(text("select url from articles where source_name = :s"), {"s": source})
            urls = [r[0] for r in rows]
        engine.dispose()
        return urls


def write_config(work: Path, repo: Path, sources: list[dict[str, object]]) -> None:
    config = work / "config"
    config.mkdir(parents=True, exist_ok=True)
    shutil.copy(repo / "config" / "rules.yaml", config / "rules.yaml")
    (config / "newsmon.yaml").write_text(NEWSMON_YAML, encoding="utf-8")
    (config / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def portals(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> Iterator[Portals]:
    work = tmp_path_factory.mktemp("portals")
    sites: dict[str, tuple[Site, str]] = {
        "trs": (TrsSite(12), "/zsyz/index.html"),
        "hanweb": (HanwebSite(12), f"/col/col{HanwebSite.column}/index.html"),
        "generic": (GenericSite(8), "/news/list.php"),
    }
    with ExitStack() as stack:
        bases = {name: stack.enter_context(serve_site(site)) for name, (site, _) in sites.items()}
        write_config(
            work,
            repo,
            [
                {"name": name, "list_urls": [bases[name] + path], "region": "示例市", "max_pages": 10}
                for name, (_, path) in sites.items()
            ],
        )
        yield Portals(work, sites)


@pytest.fixture(scope="module")
def first(portals: Portals) -> CliResult:
    result = portals.crawl()
    assert result.code == 0, result.stderr[-4000:]
    return result


@pytest.fixture(scope="module")
def second(portals: Portals, first: CliResult) -> dict[str, list[str]]:
    result = portals.crawl()
    assert result.code == 0, result.stderr[-4000:]
    for name, (site, path) in portals.sites.items():
        assert site.not_modified == [path], (name, site.requests)  # ETag (trs, hanweb) or Last-Modified (generic)
    return {name: list(site.requests) for name, (site, _) in portals.sites.items()}


@pytest.fixture(scope="module")
def third(portals: Portals, second: dict[str, list[str]]) -> dict[str, list[str]]:
    added = {name: site.add_article() for name, (site, _) in portals.sites.items()}
    result = portals.crawl()
    assert result.code == 0, result.stderr[-4000:]
    return {name: [site.article_path(added[name])] for name, (site, _) in portals.sites.items()}


def test_first_crawl_stores_every_article_once(portals: Portals, first: CliResult) -> None:
    runs = {r["source"]: r for r in first.json()["runs"]}
    for name, (site, _) in portals.sites.items():
        wanted = sorted(site.article_path(i) for i in site.items)
        assert sorted(site.article_requests()) == wanted, name  # each article requested exactly once
        assert runs[name]["articles_new"] + runs[name]["articles_duplicate"] == len(site.items), runs[name]
        assert len(portals.stored(name)) == len(site.items), name
        # No chrome link (picture carousel, sidebar, nav, footer) was taken for an article.
        assert not [r for r in site.requests if "/tpxw/" in r or "/rdgz/" in r or "about" in r], site.requests


def test_gbk_and_broken_article_pages_are_stored(portals: Portals, first: CliResult) -> None:
    engine = create_engine(portals.db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("select title, encoding, text from articles where source_name = 'trs'")).all()
    engine.dispose()
    assert any(enc and enc.lower() in {"gbk", "gb18030"} for _, enc, _ in rows)
    titles = {title for title, _, _ in rows}
    assert any("第3批" in (t or "") for t in titles), titles  # the page cut off mid-markup
    assert all("\ufffd" not in body for _, _, body in rows)


def test_second_crawl_requests_only_robots_and_one_list_page(second: dict[str, list[str]]) -> None:
    for name, requests in second.items():
        assert len(requests) <= 2, (name, requests)
        assert not [r for r in requests if "/art/" in r or "show" in r or "/t2023" in r], (name, requests)


def test_one_added_article_is_the_only_article_fetched(portals: Portals, third: dict[str, list[str]]) -> None:
    for name, (site, _) in portals.sites.items():
        assert site.article_requests() == third[name], (name, site.requests)
        assert len(portals.stored(name)) == len(site.items)


def test_backfill_pages_through_known_pages_without_fetching_articles(
    portals: Portals, third: dict[str, list[str]]
) -> None:
    result = portals.crawl("--backfill", "3")
    assert result.code == 0, result.stderr[-3000:]
    trs, _ = portals.sites["trs"]
    assert {"/zsyz/index.html", "/zsyz/index_1.html", "/zsyz/index_2.html"} <= set(trs.requests)
    for site, _ in portals.sites.values():
        assert site.article_requests() == [], site.requests

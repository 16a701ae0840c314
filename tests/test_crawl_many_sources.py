"""Many sources in one crawl: one Scrapy crawler serves them all, so the politeness limits hold across
sources (a host shared by several columns gets at most ``concurrent_per_host`` requests at once, the
whole crawl at most ``concurrent_total``), while each source keeps its own run, counts and proxy.

Real `newsmon crawl` runs against fixture portals that answer slowly enough for requests to overlap,
each counting the requests it has in flight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from crawler.config import Source
from crawler.crawljob import SOURCE_META, CrawlJob, RunTally
from crawler.fetch import ListOutcome, ListPageStore
from crawler.runrecords import finish_runs, start_runs
from crawler.store import open_database
from crawler.store.schema import CrawlRunRow, SourceRow
from tests.conftest import CliResult, run_cli
from tests.portals_site import Gauge, GenericSite, HanwebSite, Site, TrsSite, serve_site
from tests.test_portals_crawl import write_config

COLUMNS: dict[str, tuple[type[Site], str]] = {
    "trs": (TrsSite, "/zsyz/index.html"),
    "hanweb": (HanwebSite, f"/col/col{HanwebSite.column}/index.html"),
    "generic": (GenericSite, "/news/list.php"),
}


class OneHost(Site):
    """Several portals' columns on one host (their paths do not overlap), as on a city's portal."""

    delay_s = 0.05

    def __init__(self, parts: list[Site]) -> None:
        self.parts = parts
        super().__init__(0)

    def build(self) -> None:
        for part in self.parts:
            self.pages.update(part.pages)


class SlowTrs(TrsSite):
    delay_s = 0.05


@dataclass
class Crawled:
    result: CliResult
    runs: dict[str, dict[str, Any]]
    stored: dict[str, int]  # articles per source


def crawl(work: Path, repo: Path, sources: list[dict[str, object]], crawl_settings: str) -> Crawled:
    write_config(work, repo, sources)
    newsmon = work / "config" / "newsmon.yaml"
    newsmon.write_text(newsmon.read_text("utf-8").replace("crawl: {", f"crawl: {{{crawl_settings}, "), "utf-8")
    db_url = f"sqlite:///{work / 'newsmon.db'}"
    result = run_cli("crawl", "--all", "--json", "--config", str(work / "config"), "--db", db_url, cwd=work)
    assert result.code == 0, result.stderr[-4000:]
    engine = create_engine(db_url)
    with engine.connect() as conn:
        runs = conn.execute(text("select * from crawl_runs")).mappings().all()
        stored = conn.execute(text("select source_name, count(*) from articles group by source_name")).all()
    engine.dispose()
    return Crawled(result, {r["source_name"]: dict(r) for r in runs}, {name: n for name, n in stored})


@pytest.fixture(scope="module")
def shared_host(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> Iterator[tuple[OneHost, Crawled]]:
    site = OneHost([cls(10) for cls, _ in COLUMNS.values()])
    with serve_site(site) as base:
        sources = [{"name": name, "list_urls": [base + path], "max_pages": 5} for name, (_, path) in COLUMNS.items()]
        yield site, crawl(tmp_path_factory.mktemp("one_host"), repo, sources, "concurrent_per_host: 2")


def test_a_host_shared_by_several_sources_gets_at_most_its_per_host_limit(
    shared_host: tuple[OneHost, Crawled],
) -> None:
    site, _ = shared_host
    assert len(site.requests) > 30  # robots.txt, list pages and 30 articles: plenty of chances to overlap
    assert site.gauge.peak <= 2, f"{site.gauge.peak} requests at once to one host"


def test_each_source_sharing_a_host_keeps_its_own_run(shared_host: tuple[OneHost, Crawled]) -> None:
    site, crawled = shared_host
    assert crawled.stored == {name: 10 for name in COLUMNS}
    for name in COLUMNS:
        run = crawled.runs[name]
        assert (run["status"], run["articles_new"]) == ("ok", 10), run
    assert site.requests.count("/robots.txt") == 1  # asked once for the host, not once per source
    # Every response is counted once, for the source it was made for (robots.txt: the first to ask).
    assert sum(run["pages_fetched"] for run in crawled.runs.values()) == len(site.requests)


def test_the_total_limit_holds_across_sources(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> None:
    everywhere = Gauge()
    sites = [SlowTrs(6) for _ in range(6)]
    for site in sites:
        site.gauge = everywhere
    with ExitStack() as stack:
        bases = [stack.enter_context(serve_site(site)) for site in sites]
        sources = [{"name": f"p{n}", "list_urls": [f"{base}/zsyz/index.html"]} for n, base in enumerate(bases)]
        crawled = crawl(tmp_path_factory.mktemp("total"), repo, sources, "concurrent_per_host: 2, concurrent_total: 3")
    assert crawled.stored == {f"p{n}": 6 for n in range(6)}
    assert sum(len(site.requests) for site in sites) >= 6 * 8  # robots.txt, 2 list pages, 6 articles each
    assert everywhere.peak <= 3, f"{everywhere.peak} requests at once in a crawl limited to 3"


def test_a_source_s_proxy_carries_its_requests_and_no_other_source_s(
    tmp_path_factory: pytest.TempPathFactory, repo: Path
) -> None:
    proxied, direct = TrsSite(5), GenericSite(5)
    with serve_site(proxied) as proxy, serve_site(direct) as base:
        sources = [
            {"name": "proxied", "list_urls": ["http://www.proxied.test/zsyz/index.html"], "proxy": proxy},
            {"name": "direct", "list_urls": [f"{base}/news/list.php"]},
        ]
        crawled = crawl(tmp_path_factory.mktemp("proxy"), repo, sources, "concurrent_per_host: 2")
    assert crawled.stored == {"proxied": 5, "direct": 5}
    # Through a proxy a request names the whole URL; robots.txt for the proxied host went that way too.
    assert "http://www.proxied.test/robots.txt" in proxied.requests
    assert all(r.startswith("http://www.proxied.test/") for r in proxied.requests), proxied.requests
    assert all(r.startswith("/") for r in direct.requests), direct.requests


def _job(*names: str) -> CrawlJob:
    class Source:
        def __init__(self, name: str) -> None:
            self.name = name

    class Context:
        def __init__(self, name: str) -> None:
            self.source = Source(name)

    return CrawlJob([Context(name) for name in names])  # type: ignore[misc]


def test_a_request_without_a_source_is_the_first_source_of_its_host() -> None:
    job = _job("a", "b")
    job.claim("http://x.test/list.html", {SOURCE_META: "a"})
    job.claim("http://x.test/other.html", {SOURCE_META: "b"})
    robots: dict[str, Any] = {"dont_obey_robotstxt": True}
    job.claim("http://X.test/robots.txt", robots)
    context = job.of_meta(robots)
    assert context is not None and context.source.name == "a" and robots[SOURCE_META] == "a"
    stranger: dict[str, Any] = {}
    job.claim("http://y.test/robots.txt", stranger)
    assert job.of_meta(stranger) is None and SOURCE_META not in stranger


def test_run_records_of_more_sources_than_one_query_takes(database_url: str) -> None:
    """1,200 sources (a query takes 500 names): each gets its run, its region, its columns' validators."""
    db = open_database(database_url)
    try:
        sources = [Source(f"s{n}", (f"http://s{n}.test/zsyz/index.html",), region="甲市") for n in range(1200)]
        first = start_runs(db, sources, "crawl")
        moved = [replace(s, region="乙市") if n % 2 else s for n, s in enumerate(sources)]
        second = start_runs(db, moved, "crawl")
        assert len(set(first.values()) | set(second.values())) == 2400
        contexts = []
        for n, source in enumerate(moved):
            context = SimpleNamespace(
                tally=RunTally(source.name, second[source.name]),
                counts=Counter(list_pages_ok=1, list_links=12, responses=1),
                writer=None,
                ingester=None,
                list_outcomes={source.list_urls[0]: ListOutcome("ok", 12, etag=f'"e{n}"')},
            )
            contexts.append(context)
        finish_runs(db, contexts)  # type: ignore[arg-type]
        with db.session() as session:
            regions = {name: region for name, region in session.execute(select(SourceRow.name, SourceRow.region))}
            statuses = Counter(session.scalars(select(CrawlRunRow.status)))
        assert regions == {s.name: s.region for s in moved}
        assert statuses == Counter(ok=1200, running=1200)  # the first start's runs were never finished
        validators = ListPageStore(db).validators_among(s.list_urls[0] for s in sources)
        assert {url: v.etag for url, v in validators.items()} == {
            s.list_urls[0]: f'"e{n}"' for n, s in enumerate(sources)
        }
    finally:
        db.close()

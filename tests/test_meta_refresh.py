"""Meta refresh: an article page that forwards with <meta http-equiv="refresh"> is followed (as Scrapy's
own middleware does), while pages without one are no longer decoded to look (crawler.fetch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from crawler.fetch import may_hold_meta_refresh
from tests.conftest import REPO
from tests.portals_site import Page, TrsSite, serve_site
from tests.test_portals_crawl import write_config

REFRESH = (
    '<html><head><meta http-equiv="Refresh" content="0; url={target}"><title>跳转</title></head><body></body></html>'
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (REFRESH.format(target="/a.html").encode("gbk"), True),
        (b"<html><head><META HTTP-EQUIV='REFRESH' content='0;url=/b'></head></html>", True),
        ("<html><head><title>招商引资</title></head><body><p>签约</p></body></html>".encode("gbk"), False),
        (("<p>" + "招商" * 8000 + "</p>").encode() + b'<meta http-equiv="refresh" content="0;url=/c">', False),
        ('<meta http-equiv="refresh" content="0;url=/d">'.encode("utf-16"), True),  # BOM: always looked at
    ],
)
def test_which_pages_may_hold_a_meta_refresh(body: bytes, expected: bool) -> None:
    assert may_hold_meta_refresh(body) is expected


class ForwardingSite(TrsSite):
    """A TRS column whose first article's link answers with a GBK meta refresh to where the article is."""

    kind = "forwarding"

    def build(self) -> None:
        super().build()
        first = self.article_path(self.items[0])
        moved = first.replace(".html", "_moved.html")
        self.pages[moved] = self.pages[first]
        self.pages[first] = Page(REFRESH.format(target=moved).encode("gbk"), "text/html")


def test_an_article_behind_a_meta_refresh_is_followed_and_stored(tmp_path: Path) -> None:
    site = ForwardingSite(6)
    db_url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    with serve_site(site) as base:
        write_config(tmp_path, REPO, [{"name": "fwd", "list_urls": [base + "/zsyz/index.html"], "region": "示例市"}])
        command = [sys.executable, "-m", "crawler.cli", "crawl", "fwd", "--json", "--config", str(tmp_path / "config")]
        env = {k: v for k, v in os.environ.items() if k != "NEWSMON_DATABASE_URL"}
        done = subprocess.run([*command, "--db", db_url], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["runs"][0]["articles_new"] == len(site.items)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        urls = [row[0] for row in conn.execute(text("select url from articles"))]
    engine.dispose()
    assert sum(url.endswith("_moved.html") for url in urls) == 1, urls
    assert not any("跳转" in url for url in urls)

"""List pages: article links without navigation or footer links, and the next page."""

from __future__ import annotations

from pathlib import Path

from crawler.listing import parse_list_page
from crawler.replay.portal import build_portal

LIST = """<html><body>
<ul class="nav"><li><a href="/">网站首页</a></li><li><a href="/zwgk/">政务公开</a></li>
<li><a href="/zsyz/index.html">招商引资</a></li></ul>
<div class="list"><ul>
<li><a href="./202304/t20230404_123456.html">抚顺市抓招商上项目促增长掀起新热潮</a><span>2023-04-04</span></li>
<li><a href="./202303/t20230329_123001.html">高新区集中签约12个项目总投资138亿元</a><span>2023-03-29</span></li>
<li><a href="http://other-site.cn/2023/04/04/art_1_2.html">外站转载的一篇文章标题足够长</a></li>
<li><a href="javascript:void(0)">加载更多的文章标题足够长</a></li>
</ul></div>
<div class="pager"><a href="index.html">首页</a><a href="index_1.html">下一页</a></div>
<div class="footer"><a href="/about.html">关于我们</a> <a href="/sitemap.html">网站地图</a>
<a href="https://beian.miit.gov.cn/">京ICP备12345678号</a></div>
</body></html>"""


def test_generic_parser_finds_dated_article_links_only() -> None:
    page = parse_list_page(LIST, "http://www.fushun.gov.cn/zsyz/index.html")
    assert page.article_links == (
        "http://www.fushun.gov.cn/zsyz/202304/t20230404_123456.html",
        "http://www.fushun.gov.cn/zsyz/202303/t20230329_123001.html",
    )
    assert page.next_pages == ("http://www.fushun.gov.cn/zsyz/index_1.html",)


def test_selectors_override_detection() -> None:
    page = parse_list_page(
        LIST, "http://www.fushun.gov.cn/zsyz/index.html", link_selector="div.footer a", next_selector="div.pager a"
    )
    assert page.article_links[0] == "http://www.fushun.gov.cn/about.html"
    assert "http://www.fushun.gov.cn/zsyz/index_1.html" in page.next_pages


def test_replay_portal_lists_every_seed_once(repo: Path) -> None:
    pages = build_portal(repo / "seeds")
    base = "http://seeds.example.test"
    found: list[str] = []
    url = f"{base}/zsyz/index.html"
    while url:
        listing = parse_list_page(pages[url[len(base) :]].body.decode("utf-8"), url)
        found.extend(listing.article_links)
        url = listing.next_pages[0] if listing.next_pages else ""
    articles = [p for p in pages if p.startswith("/zsyz/content_")]
    assert sorted(found) == sorted(base + p for p in articles)
    assert len(articles) == len(list((repo / "seeds").glob("*.txt")))


def test_broken_and_empty_html_give_no_links() -> None:
    assert parse_list_page("", "http://x.cn/").article_links == ()
    assert parse_list_page("<div><a href='/2023/01/a.html'>短</a", "http://x.cn/").article_links == ()

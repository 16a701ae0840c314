"""List parsers on the fixture pages (tests/fixtures/portals/manifest.json says what each must yield),
the CMS specifics (TRS pager, Hanweb CDATA and dataproxy, feeds), and the real saved list pages."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.extract import decode_html
from crawler.listing import parse_list_page, site_domain
from crawler.listing.hanweb import proxy_next
from crawler.listing.trs import trs_pager

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "portals"
MANIFEST: list[dict[str, Any]] = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
REALPAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "realpages"


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_fixture_page_yields_exactly_its_articles(entry: dict[str, Any]) -> None:
    raw = (FIXTURES / entry["file"]).read_bytes()
    page = parse_list_page(decode_html(raw, entry["content_type"]).text, entry["url"])
    assert page.cms == entry["cms"]
    assert list(page.article_links) == entry["article_links"]
    assert list(page.next_pages) == entry["next_pages"]
    assert page.total_pages == entry["total_pages"]


def test_trs_pager_forms() -> None:
    assert trs_pager('createPageHTML(7, 0, "index", "html");') == (7, 0, "index", "html")
    assert trs_pager("createPageHTML('page_div',7, 2,'index','shtml',95);") == (7, 1, "index", "shtml")
    assert trs_pager(
        "var countPage = 4\nvar currentPage = 3;\ncreatePageHTML(countPage, currentPage, 'index', 'htm')"
    ) == (
        4,
        3,
        "index",
        "htm",
    )
    last = parse_list_page('<script>createPageHTML(3, 2, "index", "html");</script>', "http://x.gov.cn/a/index_2.html")
    assert last.next_pages == () and last.cms == "trs"


_TRS_SIDE = """<div class="side"><h3>{title}</h3><ul>
<li><a href="{prefix}202303/t20230316_9001.html">全市一季度重点项目集中开工</a><span>2023-03-16</span></li>
<li><a href="{prefix}202303/t20230314_9002.html">市委常委会研究优化营商环境</a><span>2023-03-14</span></li>
<li><a href="{prefix}202303/t20230313_9003.html">市政府与央企签署战略合作协议</a><span>2023-03-13</span></li>
<li><a href="{prefix}202303/t20230310_9004.html">全市招商引资工作推进会议召开</a><span>2023-03-10</span></li>
</ul></div>"""
_TRS_COLUMN = """<div class="list"><ul>
<li><a href="./202303/t20230315_1.html">项目环评公示</a><span>2023-03-15</span></li>
<li><a href="./202303/t20230309_2.html">项目备案信息公开</a><span>2023-03-09</span></li>
</ul>{pager}</div>"""
_PAGER = '<div class="page"><script>createPageHTML(4, 0, "index", "html");</script></div>'


@pytest.mark.parametrize("side_prefix", ["/xwzx/rdxw/", "./"])
def test_trs_the_pagers_block_beats_a_longer_sidebar(side_prefix: str) -> None:
    """The sidebar wins on score; the block holding the pager is the column's, even when both are under its folder."""
    html = "<html><head><script>function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){}"
    html += "</script></head><body>" + _TRS_SIDE.format(title="热点新闻", prefix=side_prefix)
    html += _TRS_COLUMN.format(pager=_PAGER) + "</body></html>"  # the head's definition is not the pager
    page = parse_list_page(html, "http://www.a.gov.cn/zwgk/zdxm/index.html")
    assert page.cms == "trs" and page.total_pages == 4
    assert page.article_links == (
        "http://www.a.gov.cn/zwgk/zdxm/202303/t20230315_1.html",
        "http://www.a.gov.cn/zwgk/zdxm/202303/t20230309_2.html",
    )


def test_trs_the_column_folders_block_wins_when_the_pager_is_apart() -> None:
    html = "<html><body>" + _TRS_SIDE.format(title="相关推荐", prefix="/xwzx/rdxw/")
    html += _TRS_COLUMN.format(pager="") + _PAGER + "</body></html>"
    page = parse_list_page(html, "http://www.a.gov.cn/zwgk/zdxm/index.html")
    assert page.article_links[0] == "http://www.a.gov.cn/zwgk/zdxm/202303/t20230315_1.html"
    assert len(page.article_links) == 2
    generic = parse_list_page(html.replace("createPageHTML", "pager"), "http://www.a.gov.cn/zwgk/zdxm/index.html")
    assert generic.cms == "generic" and generic.article_links == page.article_links  # the folder rule is not TRS's own
    elsewhere = parse_list_page(html.replace("createPageHTML", "pager"), "http://www.a.gov.cn/zdxm.html")
    assert len(elsewhere.article_links) == 4  # a column at the site root has no folder: the score keeps the sidebar


def test_hanweb_startrecord_window_and_last_page() -> None:
    xml = "<datastore><totalrecord>100</totalrecord><totalpage>7</totalpage><recordset></recordset></datastore>"
    base = "http://x.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15&columnid=9"
    [nxt], pages = proxy_next(base, xml)
    assert "startrecord=46" in nxt and "endrecord=90" in nxt and pages == 7
    assert proxy_next(base.replace("startrecord=1&endrecord=45", "startrecord=91&endrecord=135"), xml)[0] == []
    assert proxy_next("http://x.gov.cn/module/web/jpage/dataproxy.jsp?page=7&columnid=9", xml)[0] == []


def test_hanweb_records_are_unwrapped_from_script_cdata() -> None:
    html = """<html><body><div id="123"><script type="text/xml"><datastore><recordset>
<record><![CDATA[<li><a href='/art/2023/4/4/art_555_1.html' title='某区重大项目集中开工'>某区重大项目集中开工</a>
</li>]]></record>
<record><![CDATA[<li><a href="/art/2023/4/3/art_555_2.html">短</a></li>]]></record>
</recordset></datastore></script></div></body></html>"""
    page = parse_list_page(html, "http://www.x.gov.cn/col/col555/index.html")
    assert page.cms == "hanweb"
    assert page.article_links == (
        "http://www.x.gov.cn/art/2023/4/4/art_555_1.html",
        "http://www.x.gov.cn/art/2023/4/3/art_555_2.html",
    )
    assert page.next_pages and "columnid=555" in page.next_pages[0] and "unitid=123" in page.next_pages[0]


def test_a_last_page_keeps_the_first_pages_block() -> None:
    first = parse_list_page(
        (FIXTURES / "generic_list.html").read_text(encoding="utf-8"), "http://a.gov.cn/news/list.php"
    )
    assert first.block
    one_item = """<html><body><div class="side"><ul>
<li><a href="/r/2023/01/05/1.html">市政府召开全市经济工作会议</a></li>
<li><a href="/r/2023/01/12/2.html">全市优化营商环境推进会召开</a></li></ul></div>
<table class="main"><tr><td class="left"></td><td class="right"><table class="newslist">
<tr><td><a href="show1.php">最后一页只剩一篇项目签约文章</a></td><td class="date">[2023-01-02]</td></tr>
</table></td></tr></table></body></html>"""
    alone = parse_list_page(one_item, "http://a.gov.cn/news/list.php?page=9")
    assert alone.article_links != ("http://a.gov.cn/news/show1.php",)  # without the hint the sidebar wins
    hinted = parse_list_page(one_item, "http://a.gov.cn/news/list.php?page=9", block=first.block)
    assert hinted.article_links == ("http://a.gov.cn/news/show1.php",)


def test_site_domain() -> None:
    assert site_domain("http://www.baotou.gov.cn/x") == "baotou.gov.cn"
    assert site_domain("https://news.163.com/") == "163.com"
    assert site_domain("http://127.0.0.1:8080/") == "127.0.0.1"


def test_unknown_cms_is_a_config_error() -> None:
    from crawler.errors import ConfigError

    with pytest.raises(ConfigError):
        parse_list_page("<html></html>", "http://x.cn/", cms="dede")


LIST_PRECISION_FLOOR = 0.82
LIST_RECALL_FLOOR = 0.98


def test_real_saved_list_pages_floor() -> None:
    if not (REALPAGES / "lists.jsonl").exists():
        pytest.skip(f"real saved list pages not found at {REALPAGES}")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from eval_lists import evaluate

    result = evaluate(REALPAGES)
    overall = result["overall"]
    assert overall["recall"] >= LIST_RECALL_FLOOR, result
    assert overall["precision"] >= LIST_PRECISION_FLOOR, result
    assert result["page_average"]["precision"] >= 0.90 and result["page_average"]["recall"] >= 0.90, result
    fund_columns = [p for p in result["pages"] if p["id"] in {"008", "009", "010", "011"}]  # the gov-like columns
    assert all(p["precision"] == 1.0 and p["recall"] == 1.0 for p in fund_columns), fund_columns

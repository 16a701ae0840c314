"""Which link group is the column's own list when a dated sidebar outscores it: each fact of the page
(the pager, the column's name heading the list, the column's folder) decides on its own, and a page
with none of them is left to the score."""

from __future__ import annotations

import pytest

from crawler.listing import parse_list_page
from crawler.listing.column import is_other_page, list_pager
from crawler.listing.generic import parse_html
from crawler.listing.landmarks import column_names, headed_by

# Twelve dated links with long titles: a 通知公告 box that outscores a short column on its own.
_NOTICES = "\n".join(
    f'<li><a href="{{folder}}202303/t202303{day:02d}_{9000 + day}.html">'
    f"关于做好2023年第{day}批重点项目前期工作的通知</a><span>2023-03-{day:02d}</span></li>"
    for day in range(1, 13)
)
_SIDEBAR = '<div class="box"><h3>通知公告</h3><a href="/tzgg/">更多&gt;&gt;</a><ul>' + _NOTICES + "</ul></div>"
_COLUMN_ROWS = """<li><a href="{a}">开发区锂电材料项目开工</a><span>2023-03-15</span></li>
<li><a href="{b}">光伏发电项目并网发电</a><span>2023-03-09</span></li>
<li><a href="{c}">生猪屠宰加工项目签约</a><span>2023-03-02</span></li>"""
_SHOW = {"a": "show.php?id=3", "b": "show.php?id=2", "c": "show.php?id=1"}
_SHOWN = ["http://www.a.gov.cn/news/show.php?id=3", "http://www.a.gov.cn/news/show.php?id=2",
          "http://www.a.gov.cn/news/show.php?id=1"]  # fmt: skip


def _page(
    title: str, sidebar: str, heading: str, rows: str, pager: str = "", crumb: str = "", sidebar_left: bool = True
) -> str:
    """A two-column page; the sidebar is on the left (as on most gov templates) or on the right (as on news sites)."""
    column = f"{heading}<ul>{rows}</ul>{pager}"
    first, second = (sidebar, column) if sidebar_left else (column, sidebar)
    return (
        f"<html><head><title>{title}</title></head><body>{crumb}<div class='wrap'>"
        f"<div class='left'>{first}</div><div class='right'>{second}</div></div></body></html>"
    )


def test_other_pages_of_a_list() -> None:
    assert is_other_page("http://a.cn/news/list.php?page=2", "http://a.cn/news/list.php")
    assert is_other_page("http://a.cn/news/list.php?id=5&page=3", "http://a.cn/news/list.php?id=5&page=2")
    assert is_other_page("http://a.cn/zwgk/index_1.html", "http://a.cn/zwgk/index.html")
    assert is_other_page("http://a.cn/zwgk/index_1.html", "http://a.cn/zwgk/")
    assert is_other_page("http://a.cn/news/information_3.html", "http://a.cn/news/information_2.html")
    assert is_other_page("http://a.cn/gg/index2.html", "http://a.cn/gg/index.html")
    assert not is_other_page("http://a.cn/news/list.php", "http://a.cn/news/list.php")
    assert not is_other_page("http://a.cn/news/show.php?id=5", "http://a.cn/news/list.php")
    assert not is_other_page("http://a.cn/index.php?a=show&id=5", "http://a.cn/index.php?a=lists&catid=3")
    assert not is_other_page("http://a.cn/tzgg/index_1.html", "http://a.cn/zwgk/index.html")
    assert not is_other_page("http://b.cn/zwgk/index_1.html", "http://a.cn/zwgk/index.html")


def test_the_pager_is_made_of_links_to_the_lists_other_pages() -> None:
    html = """<html><body><div class="nav"><a href="/">首页</a></div>
<div class="slide"><a href="javascript:void(0)">&lt;</a><a href="javascript:void(0)">&gt;</a></div>
<div class="list"><ul><li><a href="show.php?id=1">某某项目签约落地</a></li></ul>
<div class="pg"><a href="list.php">首页</a> <b>2</b> <a href="list.php?page=3">3</a>
<a href="list.php?page=3">下一页</a></div>
</div></body></html>"""
    root = parse_html(html)
    assert root is not None
    pager = list_pager(root, "http://a.gov.cn/news/list.php?page=2")
    assert pager is not None and pager.get("class") == "pg"
    no_pager = parse_html(html.replace("list.php", "other.php"))
    assert no_pager is not None and list_pager(no_pager, "http://a.gov.cn/news/list.php?page=2") is None


def test_column_names_from_title_meta_and_breadcrumb() -> None:
    html = """<html><head><title>重点项目_铁岭市人民政府</title><meta name="ColumnName" content="项目建设"></head>
<body><div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 投资动态
</div></body></html>"""
    root = parse_html(html)
    assert root is not None
    assert column_names(root) == {"重点项目", "铁岭市人民政府", "项目建设", "投资动态"}


def test_a_heading_is_the_nearest_text_before_the_list() -> None:
    root = parse_html(
        "<html><body><div class='crumb'>当前位置：首页 &gt; 投资动态</div><div class='box'>"
        "<div class='t'><span>投资动态</span><a href='/m/'>更多&gt;&gt;</a></div><ul id='x'><li>a</li></ul>"
        "<ul id='y'><li>b</li></ul></div><p>投资动态</p><ul id='z'><li>c</li></ul></body></html>"
    )
    assert root is not None
    x, y, z = (root.get_element_by_id(i) for i in "xyz")
    assert headed_by(x, {"投资动态"})
    assert not headed_by(y, {"投资动态"})  # its nearest text is the list before it
    assert headed_by(z, {"投资动态"})
    assert not headed_by(x, {"通知公告"})


@pytest.mark.parametrize("sidebar_left", [True, False])
def test_generic_pager_beats_a_longer_dated_sidebar(sidebar_left: bool) -> None:
    pager = '<div class="pg"><a href="list.php?page=1">上一页</a> <a href="list.php?page=3">下一页</a></div>'
    sidebar, rows = _SIDEBAR.format(folder="/tzgg/"), _COLUMN_ROWS.format(**_SHOW)
    html = _page("某某市人民政府", sidebar, "", rows, pager, sidebar_left=sidebar_left)
    page = parse_list_page(html, "http://www.a.gov.cn/news/list.php?page=2")
    assert page.article_links == tuple(_SHOWN)
    assert page.next_pages == ("http://www.a.gov.cn/news/list.php?page=3",)
    alone = parse_list_page(
        html.replace("list.php?page=", "other.php?page="), "http://www.a.gov.cn/news/list.php?page=2"
    )
    assert len(alone.article_links) == 12  # no pager, no name, no folder: the score keeps the sidebar


@pytest.mark.parametrize(
    ("title", "crumb", "sidebar_left"),
    [
        ("投资动态_某某市人民政府", "", True),
        ("投资动态_某某市人民政府", "", False),
        ("某某市人民政府", "<div class='position'>当前位置：首页 &gt; 投资动态</div>", True),
    ],
)
def test_the_list_headed_by_the_columns_name_beats_a_longer_dated_sidebar(
    title: str, crumb: str, sidebar_left: bool
) -> None:
    sidebar, rows = _SIDEBAR.format(folder="/tzgg/"), _COLUMN_ROWS.format(**_SHOW)
    html = _page(title, sidebar, "<div class='lm'>投资动态</div>", rows, crumb=crumb, sidebar_left=sidebar_left)
    page = parse_list_page(html, "http://www.a.gov.cn/news/list.php")  # a one-page column: no pager
    assert page.article_links == tuple(_SHOWN)


def test_trs_heading_decides_when_pager_and_folder_say_nothing() -> None:
    """A parent column's page: its sidebar lists a sub-column under the same folder, the pager sits apart."""
    dated = ("./202303/t20230315_3.html", "./202303/t20230309_2.html", "./202303/t20230302_1.html")
    rows = _COLUMN_ROWS.format(**dict(zip("abc", dated, strict=True)))
    html = _page("政务公开_某某市人民政府", _SIDEBAR.format(folder="./tzgg/"), "<h2>政务公开</h2>", rows)
    html = html.replace("</body>", '<script>createPageHTML(5, 0, "index", "html");</script></body>')
    page = parse_list_page(html, "http://www.a.gov.cn/zwgk/index.html")
    assert page.cms == "trs" and page.total_pages == 5
    assert page.article_links == (
        "http://www.a.gov.cn/zwgk/202303/t20230315_3.html",
        "http://www.a.gov.cn/zwgk/202303/t20230309_2.html",
        "http://www.a.gov.cn/zwgk/202303/t20230302_1.html",
    )
    unnamed = parse_list_page(html.replace("<h2>政务公开</h2>", ""), "http://www.a.gov.cn/zwgk/index.html")
    assert len(unnamed.article_links) == 12


def test_a_pagers_link_titled_in_english_is_not_an_article() -> None:
    """上一页 titled "Prev page" (and beside "2/31") once made the pager a group of two dated titles."""
    html = _page("某某市人民政府", "", "", _COLUMN_ROWS.format(**_SHOW)).replace(
        "</ul>",
        '</ul><div class="pg"><a href="list.php?page=1" title="Prev page">上一页</a>'
        '<a href="list.php?page=3" title="Next page">下一页</a><span>2/31</span></div>',
    )
    page = parse_list_page(html, "http://www.a.gov.cn/news/list.php?page=2")
    assert page.article_links == tuple(_SHOWN)


@pytest.mark.parametrize("sidebar_left", [True, False])
def test_left_and_right_say_nothing(sidebar_left: bool) -> None:
    """Templates put the list in "left" (beside a right-hand ticker) as often as in "right": without a
    pager, a name or a folder, the longer list wins wherever it is drawn."""
    ticker = "<div class='box'><h3>即时新闻</h3><ul>" + _COLUMN_ROWS.format(**_SHOW) + "</ul></div>"
    html = _page("某某市人民政府", ticker, "", _NOTICES.format(folder="/xw/"), sidebar_left=sidebar_left)
    page = parse_list_page(html, "http://www.a.gov.cn/news/list.php")
    assert len(page.article_links) == 12 and page.article_links[0].startswith("http://www.a.gov.cn/xw/")

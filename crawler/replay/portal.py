"""Render seed texts into a small portal: paginated TRS-style list pages and one page per article.

Each page carries the chrome real portals wrap around an article (nav, breadcrumbs, related news,
footer with an ICP line), and one article is served as GBK with no charset anywhere, as many
county portals do, so the replay exercises the same decoding and chrome stripping as a real crawl.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from crawler.extract import split_plain_text

PORTAL_NAME = "招商引资示例门户"
PER_PAGE = 3
COLUMN = "/zsyz/"


@dataclass(frozen=True)
class StaticPage:
    body: bytes
    content_type: str


@dataclass(frozen=True)
class SeedEntry:
    path: str  # site path of the article page
    link_text: str
    meta: tuple[str, ...]
    headline: str | None
    body: tuple[str, ...]


def read_seeds(seeds_dir: Path) -> list[SeedEntry]:
    files = sorted(p for p in seeds_dir.glob("*.txt") if p.is_file())
    entries = []
    for i, path in enumerate(files):
        parts = split_plain_text(path.read_text(encoding="utf-8"))
        first_line = next((line.strip() for line in parts.body if line.strip()), path.stem)
        link_text = parts.headline or first_line[:30]
        entries.append(
            SeedEntry(
                f"{COLUMN}content_{10001 + i}.html", link_text, tuple(parts.meta), parts.headline, tuple(parts.body)
            )
        )
    return entries


def build_portal(seeds_dir: Path) -> dict[str, StaticPage]:
    """Every page of the portal by path; ``/zsyz/index.html`` is the column's first list page."""
    entries = read_seeds(seeds_dir)
    pages: dict[str, StaticPage] = {"/robots.txt": StaticPage(b"User-agent: *\nAllow: /\n", "text/plain")}
    chunks = [entries[i : i + PER_PAGE] for i in range(0, len(entries), PER_PAGE)] or [[]]
    for n, chunk in enumerate(chunks):
        name = "index.html" if n == 0 else f"index_{n}.html"
        has_next = n + 1 < len(chunks)
        pages[COLUMN + name] = _utf8(_list_page(chunk, n, has_next))
    gbk_index = _gbk_candidate(entries)
    for i, entry in enumerate(entries):
        related = [e for e in entries if e is not entry][:3]
        page = _article_page(entry, related)
        if i == gbk_index:
            # The charset is declared nowhere: the decoder has to recognise GBK by itself.
            pages[entry.path] = StaticPage(page.encode("gbk"), "text/html")
        else:
            pages[entry.path] = _utf8(page.replace("<head>", '<head><meta charset="utf-8">', 1))
    return pages


def _utf8(page: str) -> StaticPage:
    return StaticPage(page.encode("utf-8"), "text/html; charset=utf-8")


def _gbk_candidate(entries: list[SeedEntry]) -> int | None:
    """The middle article, or the next one whose text GBK can encode."""
    order = list(range(len(entries) // 2, len(entries))) + list(range(len(entries) // 2))
    for i in order:
        try:
            _article_page(entries[i], []).encode("gbk")
        except UnicodeEncodeError:
            continue
        return i
    return None


_HEADER = """<div class="top-bar"><span>欢迎访问{portal}</span> <a href="/">无障碍</a> <a href="/">长者模式</a></div>
<div class="header"><a class="logo" href="/">{portal}</a>
<ul class="nav"><li><a href="/">网站首页</a></li><li><a href="/zwgk/">政务公开</a></li>
<li><a href="{column}index.html">招商引资</a></li><li><a href="/zdxm/">重大项目</a></li>
<li><a href="/hdjl/">互动交流</a></li></ul>
<form class="search"><input name="q" placeholder="请输入关键字"><button>搜索</button></form></div>"""

_FOOTER = """<div class="footer"><p><a href="/">关于我们</a> | <a href="/">网站地图</a> | <a href="/">联系我们</a></p>
<p>主办单位：{portal}编辑部　承办：信息中心　联系电话：0000-12345678</p>
<p>版权所有：{portal}　<a href="https://beian.miit.gov.cn/">京ICP备12345678号-1</a>　京公网安备 11010502000001号</p>
<p>网站标识码：0000000001</p></div>"""


def _page(title: str, content: str) -> str:
    chrome = {"portal": PORTAL_NAME, "column": COLUMN}
    return (
        "<!DOCTYPE html>\n<html><head><title>"
        + html.escape(title)
        + f'</title><meta property="og:site_name" content="{PORTAL_NAME}"></head>\n<body>\n'
        + _HEADER.format(**chrome)
        + "\n"
        + content
        + "\n"
        + _FOOTER.format(**chrome)
        + "\n</body></html>\n"
    )


def _list_page(chunk: list[SeedEntry], n: int, has_next: bool) -> str:
    items = "\n".join(
        f'<li><a href=".{e.path[len(COLUMN) - 1 :]}" target="_blank" title="{html.escape(e.link_text)}">'
        f"{html.escape(e.link_text)}</a></li>"
        for e in chunk
    )
    pager = []
    if n > 0:
        previous = "index.html" if n == 1 else f"index_{n - 1}.html"
        pager.append(f'<a href="{previous}">上一页</a>')
    if has_next:
        pager.append(f'<a href="index_{n + 1}.html">下一页</a>')
    content = (
        '<div class="crumb">当前位置：<a href="/">首页</a> &gt; 招商引资</div>\n'
        f'<div class="list"><ul>\n{items}\n</ul></div>\n<div class="pager">{" ".join(pager)}</div>'
    )
    return _page(f"招商引资_{PORTAL_NAME}", content)


def _article_page(entry: SeedEntry, related: list[SeedEntry]) -> str:
    headline = html.escape(entry.headline) if entry.headline else ""
    info = "　".join(html.escape(m.strip().lstrip("- ")) for m in entry.meta if m.strip())
    paragraphs = "\n".join(f"<p>{html.escape(line.strip())}</p>" for line in entry.body if line.strip())
    related_items = "\n".join(
        f'<li><a href=".{e.path[len(COLUMN) - 1 :]}">{html.escape(e.link_text)}</a></li>' for e in related
    )
    content = (
        '<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="index.html">招商引资</a> &gt; 正文</div>\n'
        f'<div class="article"><h1>{headline}</h1>\n<div class="info">{info}</div>\n'
        f'<div class="TRS_Editor">\n{paragraphs}\n</div>\n'
        '<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a>　【<a href="#">打印本页</a>】'
        '【<a href="#">关闭窗口</a>】</div></div>\n'
        f'<div class="related"><h3>相关新闻</h3><ul>\n{related_items}\n</ul></div>'
    )
    title = f"{entry.headline}_{PORTAL_NAME}" if entry.headline else PORTAL_NAME
    return _page(title, content)

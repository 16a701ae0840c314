"""Fixture portals for the crawl tests: TRS, Hanweb and generic columns rendered from an article list,
served on 127.0.0.1 with request counting, ETag / Last-Modified, and misbehaving pages.

The layouts follow real gov portals: TRS WCM (``createPageHTML``, ``./202304/t20230404_1.html``, GB2312
list pages), Hanweb jpage (``<datastore>`` CDATA records, ``dataproxy.jsp``), and a generic county
portal (``show.php?id=``, dates in spans, "下一页"). Each page carries nav, a picture carousel, a
"hot news" sidebar and an ICP footer, none of whose links is an article of the column.
"""

from __future__ import annotations

import hashlib
import html
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from crawler.replay.server import serve_handler

PER_PAGE = 5
LAST_MODIFIED = "Tue, 04 Apr 2023 08:00:00 GMT"
TOWNS = ["高新区", "经开区", "东河区", "青山区", "九原区", "石拐区", "白云区", "稀土区", "滨河新区", "临港园区"]
INDUSTRIES = ["新能源电池", "稀土永磁材料", "光伏组件", "氢能装备", "现代煤化工", "数据中心", "铝基新材料"]


@dataclass(frozen=True)
class Item:
    number: int  # 1, 2, ... in publication order
    title: str
    day: str  # 2023-04-04
    body: tuple[str, ...]


def make_item(number: int, site: str) -> Item:
    town, industry = TOWNS[number % len(TOWNS)], INDUSTRIES[(number * 3 + len(site)) % len(INDUSTRIES)]
    amount = 10 + number * 7 + len(site)
    day = f"2023-{1 + number // 28:02d}-{1 + number % 28:02d}"
    title = f"{town}{industry}项目第{number}批签约落地"
    body = (
        f"{day[5:7].lstrip('0')}月{day[8:].lstrip('0')}日，{town}举行{industry}项目签约仪式，"
        f"{site}第{number}号{industry}产业园项目总投资{amount}亿元，计划年内开工建设。",
        f"该项目由某某{industry}科技有限公司投资建设，达产后预计年产值{amount * 2}亿元，新增就业岗位{number * 40}个。",
        f"{town}负责同志表示，将全力做好要素保障，推动第{number}批项目早投产、早见效。",
    )
    return Item(number, title, day, body)


def _chrome_top(site_name: str) -> str:
    return f"""<div class="top"><a href="/">网站首页</a> <a href="/zwgk/">政务公开</a> <a href="/zsyz/">招商引资</a>
<a href="/hdjl/">互动交流</a> <a href="javascript:void(0)" onclick="addFav()">加入收藏</a></div>
<div class="banner"><h1>{site_name}</h1></div>
<div class="pic-news"><ul>
<li><a href="/tpxw/202303/t20230301_900001.html"><img src="/img/a.jpg"></a>
<a href="/tpxw/202303/t20230301_900001.html">图片新闻：春季招商推介会现场</a></li>
<li><a href="/tpxw/202303/t20230302_900002.html"><img src="/img/b.jpg"></a>
<a href="/tpxw/202303/t20230302_900002.html">图片新闻：重点项目建设现场观摩</a></li>
</ul></div>"""


def _sidebar() -> str:
    return """<div class="side"><h3>热点关注</h3><ul>
<li><a href="/rdgz/202301/t20230105_800001.html">市政府召开全市经济工作会议</a></li>
<li><a href="/rdgz/202301/t20230112_800002.html">全市优化营商环境推进会召开</a></li>
</ul><h3>相关链接</h3><ul><li><a href="http://www.gov.cn/">中国政府网</a></li>
<li><a href="http://www.nmg.gov.cn/">内蒙古自治区人民政府</a></li></ul></div>"""


def _footer() -> str:
    return """<div class="footer"><a href="/about.html">关于我们</a> | <a href="/sitemap.html">网站地图</a> |
<a href="/contact.html">联系我们</a><br>主办单位：某某市人民政府办公室 网站标识码：1502000001
<a href="https://beian.miit.gov.cn/">蒙ICP备05003225号-1</a>
<a href="http://www.beian.gov.cn/">蒙公网安备 15020402000001号</a>
</div>"""


def article_page(item: Item, site_name: str, charset: str = "utf-8", broken: bool = False) -> bytes:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in item.body)
    page = f"""<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{html.escape(item.title)}_{site_name}</title>
<meta name="ArticleTitle" content="{html.escape(item.title)}"><meta name="PubDate" content="{item.day} 09:30">
</head><body>{_chrome_top(site_name)}
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zsyz/">招商引资</a></div>
<div class="article"><h2>{html.escape(item.title)}</h2>
<div class="info">发布时间：{item.day} 来源：{site_name}</div>
<div class="TRS_Editor">{paragraphs}</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a>
【<a href="javascript:window.print()">打印本页</a>】</div>
</div>{_sidebar()}{_footer()}</body></html>"""
    if broken:  # cut off after the text, unclosed tags and all
        page = page[: page.index('<div class="share">')] + "<div><table><tr><td><p>未闭合"
    return page.encode(charset, errors="strict")


@dataclass
class Page:
    body: bytes
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True  # answer If-None-Match with 304
    last_modified: bool = False  # answer If-Modified-Since with 304 (site changes bump it)
    truncate_to: int | None = None  # send only this many bytes of a longer Content-Length


class Gauge:
    """Requests in flight, and the most seen at once: for one site, or shared by several."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    @contextmanager
    def counting(self) -> Iterator[None]:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            yield
        finally:
            with self.lock:
                self.now -= 1


class Site:
    """One fixture portal: pages by path (recomputed when articles are added) and a request log."""

    kind = "site"
    name = "示例市人民政府"
    delay_s = 0.0  # each answer waits this long (in its own thread), so that requests overlap

    def __init__(self, count: int) -> None:
        self.items = [make_item(n, self.kind) for n in range(1, count + 1)]
        self.gauge = Gauge()
        self.requests: list[str] = []
        self.not_modified: list[str] = []  # paths answered 304
        self.lock = threading.Lock()
        self.version = 0
        self.pages: dict[str, Page] = {}
        self.rebuild()

    def add_article(self) -> Item:
        item = make_item(len(self.items) + 1, self.kind)
        self.items.append(item)
        self.version += 1
        self.rebuild()
        return item

    def newest_first(self) -> list[Item]:
        return sorted(self.items, key=lambda i: -i.number)

    def rebuild(self) -> None:
        self.pages = {"/robots.txt": Page(b"User-agent: *\nDisallow: /admin/\n", "text/plain", etag=False)}
        self.build()

    def build(self) -> None:
        raise NotImplementedError

    def article_path(self, item: Item) -> str:
        raise NotImplementedError

    def lookup(self, path_and_query: str) -> Page | None:
        split = urlsplit(path_and_query)
        if split.path.endswith("dataproxy.jsp"):  # like the real one: only page (and columnid) matter
            return self.pages.get(f"{split.path}?page={parse_qs(split.query).get('page', ['1'])[0]}")
        return self.pages.get(split.path + (f"?{split.query}" if split.query else "")) or self.pages.get(split.path)

    def article_requests(self) -> list[str]:
        paths = {self.article_path(i) for i in self.items}
        return [r for r in self.requests if urlsplit(r).path in paths]


class TrsSite(Site):
    """TRS WCM: GB2312 list pages index.html, index_1.html ..., createPageHTML(count, current, "index", "html")."""

    kind = "trs"
    name = "抚顺示例市人民政府"

    def article_path(self, item: Item) -> str:
        return f"/zsyz/{item.day[:4]}{item.day[5:7]}/t{item.day.replace('-', '')}_{100000 + item.number}.html"

    def list_page(self, chunk: list[Item], index: int, count: int) -> bytes:
        rows = "\n".join(
            f'<li><a href=".{self.article_path(i)[5:]}" target="_blank" title="{html.escape(i.title)}">'
            f"{html.escape(i.title)}</a><span>{i.day}</span></li>"
            for i in chunk
        )
        page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<meta name="generator" content="TRS WCM"><title>招商引资_{self.name}</title></head><body>
{_chrome_top(self.name)}<div class="list"><div class="list-title">招商引资</div><ul class="list-ul">
{rows}
</ul><div class="page"><script language="JavaScript">
var currentPage = {index};//所在页从0开始
var prevPage = currentPage-1//上一页
var nextPage = currentPage+1//下一页
var countPage = {count}//共多少页
createPageHTML({count}, {index}, "index", "html");
</script></div></div>{_sidebar()}{_footer()}</body></html>"""
        return page.encode("gb2312")

    def build(self) -> None:
        items = self.newest_first()
        chunks = [items[i : i + PER_PAGE] for i in range(0, len(items), PER_PAGE)]
        for n, chunk in enumerate(chunks):
            name = "index.html" if n == 0 else f"index_{n}.html"
            self.pages[f"/zsyz/{name}"] = Page(self.list_page(chunk, n, len(chunks)), "text/html")
        for item in self.items:
            gbk = item.number % 4 == 0
            broken = item.number == 3
            body = article_page(item, self.name, "gbk" if gbk else "utf-8", broken=broken)
            self.pages[self.article_path(item)] = Page(body, "text/html" if gbk else "text/html; charset=utf-8")


class HanwebSite(Site):
    """Hanweb jpage: col/col{ID}/index.html embeds page 1 as CDATA records; dataproxy.jsp?page=N the rest."""

    kind = "hanweb"
    name = "丹阳示例市人民政府"
    column, unit = 75631, 228946

    def article_path(self, item: Item) -> str:
        y, m, d = (int(x) for x in item.day.split("-"))
        return f"/art/{y}/{m}/{d}/art_{self.column}_{500000 + item.number}.html"

    def record(self, item: Item) -> str:
        return (
            f'<record><![CDATA[\n<li><a href="{self.article_path(item)}" title="{html.escape(item.title)}" '
            f'target="_blank">{html.escape(item.title)}</a><span class="bt-data-time">{item.day}</span></li>\n'
            "]]></record>"
        )

    def proxy_query(self, page: int) -> str:
        return (
            f"page={page}&appid=1&webid=57&path=/&columnid={self.column}&unitid={self.unit}"
            f"&webname=%E4%B8%B9%E9%98%B3%E5%B8%82&permissiontype=0"
        )

    def build(self) -> None:
        items = self.newest_first()
        total = len(items)
        pages = max(1, -(-total // PER_PAGE))
        first = "\n".join(self.record(i) for i in items[:PER_PAGE])
        column_page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>招商引资 {self.name}</title>
<script type="text/javascript" src="/module/jslib/jquery/jquery.js"></script></head><body>
{_chrome_top(self.name)}<div class="bt-main"><div class="bt-title">招商引资</div>
<div id="{self.unit}"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?{self.proxy_query(1)}"></a>]]></nextgroup>
<recordset>
{first}
</recordset></datastore></script></div>
<script language="javascript" src="/module/web/jpage/jpage.js"></script>
<script>$(document).ready(function(){{ $('#{self.unit}').jpage({{ dataStore: dataStore, perPage: {PER_PAGE},
 totalRecord: {total}, proxyUrl: '/module/web/jpage/dataproxy.jsp', groupSize: 1,
 ajaxParam: {{ col: 1, appid: 1, webid: 57, path: '/', columnid: {self.column}, sourceContentType: 1,
 unitid: '{self.unit}', webname: '丹阳市', permissiontype: 0 }} }}); }});</script>
</div>{_sidebar()}{_footer()}</body></html>"""
        self.pages[f"/col/col{self.column}/index.html"] = Page(column_page.encode("utf-8"), "text/html; charset=utf-8")
        for page in range(1, pages + 1):
            chunk = items[(page - 1) * PER_PAGE : page * PER_PAGE]
            xml = (
                f'<?xml version="1.0" encoding="utf-8"?><datastore><totalrecord>{total}</totalrecord>'
                f"<totalpage>{pages}</totalpage><recordset>"
                + "".join(self.record(i) for i in chunk)
                + "</recordset></datastore>"
            )
            self.pages[f"/module/web/jpage/dataproxy.jsp?page={page}"] = Page(
                xml.encode("utf-8"), "text/xml;charset=utf-8", etag=False
            )
        for item in self.items:
            self.pages[self.article_path(item)] = Page(article_page(item, self.name), "text/html; charset=utf-8")


class GenericSite(Site):
    """A county portal of its own make: show.php?id=N (no date in the URL), dates in spans, "下一页"."""

    kind = "generic"
    name = "双鸭山示例县人民政府"

    def article_path(self, item: Item) -> str:
        return f"/news/show{item.number}.php"

    def build(self) -> None:
        items = self.newest_first()
        chunks = [items[i : i + PER_PAGE] for i in range(0, len(items), PER_PAGE)]
        for n, chunk in enumerate(chunks):
            rows = "\n".join(
                f'<tr><td class="{"odd" if k % 2 else "even"}"><a href="show{i.number}.php">{html.escape(i.title)}</a>'
                f'</td><td class="date">[{i.day}]</td></tr>'
                for k, i in enumerate(chunk)
            )
            pager = (
                '<a href="list.php">首页</a> '
                + (f'<a href="list.php?page={n}">上一页</a> ' if n else "")
                + (f'<a href="list.php?page={n + 2}">下一页</a> ' if n + 1 < len(chunks) else "")
                + f'<a href="list.php?page={len(chunks)}">尾页</a>'
            )
            body = f"""<html><head><meta charset="utf-8"><title>投资动态</title></head><body>
{_chrome_top(self.name)}<table class="main"><tr><td class="left">{_sidebar()}</td><td class="right">
<div class="lm">投资动态</div><table class="newslist">
{rows}
</table><div class="pager">{pager}</div></td></tr></table>{_footer()}</body></html>"""
            key = "/news/list.php" if n == 0 else f"/news/list.php?page={n + 1}"
            modified = f"Tue, 04 Apr 2023 08:{self.version:02d}:00 GMT"
            self.pages[key] = Page(
                body.encode("utf-8"),
                "text/html; charset=utf-8",
                headers={"Last-Modified": modified},
                etag=False,
                last_modified=True,
            )
        for item in self.items:
            self.pages[self.article_path(item)] = Page(article_page(item, self.name), "text/html; charset=utf-8")


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with site.gauge.counting():
                if site.delay_s:
                    time.sleep(site.delay_s)
                self.answer()

        def answer(self) -> None:
            with site.lock:
                site.requests.append(self.path)
                page = site.lookup(self.path)
            if page is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.sha1(page.body).hexdigest()[:16] + '"'
            modified = page.headers.get("Last-Modified")
            not_modified = (page.etag and self.headers.get("If-None-Match") == etag) or (
                page.last_modified and modified and self.headers.get("If-Modified-Since") == modified
            )
            if not_modified and page.status == 200:
                site.not_modified.append(self.path)
                self.send_response(304)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            for key, value in page.headers.items():
                self.send_header(key, value)
            if page.etag and page.status == 200:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(page.body)))
            if page.truncate_to is not None:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(page.body[: page.truncate_to] if page.truncate_to is not None else page.body)
            if page.truncate_to is not None:
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve_site(site: Site) -> Iterator[str]:
    with serve_handler(_handler(site)) as base_url:
        yield base_url


class BadSite(Site):
    """One misbehaving list page at /list.html (plus whatever ``extra`` adds)."""

    kind = "bad"

    def __init__(self, page: Page, extra: Callable[[Site], None] | None = None) -> None:
        self.bad_page, self.extra = page, extra
        super().__init__(0)

    def article_path(self, item: Item) -> str:
        return f"/a{item.number}.html"

    def build(self) -> None:
        self.pages["/list.html"] = self.bad_page
        if self.extra:
            self.extra(self)


def request_counts(site: Site) -> Counter[str]:
    return Counter(urlsplit(r).path for r in site.requests)

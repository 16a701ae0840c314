"""A synthetic mirror of N local-government portals x M articles for the throughput benchmark.

``generate`` writes the mirror to a folder; ``serve`` (``python bench/mirror.py serve DIR``) serves it
from its own process on 127.0.0.1, so the server's work is not what the benchmark measures.

Articles are built from the seed articles (``seeds/*.txt``) and the rules-corpus passages
(``tests/data/rules_corpus.jsonl``): each article mixes one or two corpus passages, two to six seed
paragraphs and one paragraph of its own (60%: a project with its own name, company and amount), so no two
articles are near-duplicates by accident. About 4% of the articles of each portal are reprints of
another portal's article (same text, other chrome and title), as provincial portals repost city news.

Portals differ in chrome (four templates: nav size, sidebars, carousels, inline scripts, footers),
in list-page style (TRS WCM ``index_N.html`` + ``createPageHTML``; a generic county portal with
``list.php?page=N`` and "下一页"; Hanweb jpage with the ``<datastore>`` first page and
``dataproxy.jsp?page=N``), in page size (12-30 links a list page), and in encoding: TRS list pages are
GB2312 as on real TRS sites; ~15% of article pages are GBK, half of them with no charset anywhere.
Dates advance about two days per three articles from 2023-01-02 and sit in meta tags, in an info line or
in both.

``generate(..., new_share=0.01)`` gives the same mirror plus 1% new articles at the top of the
columns (spread over the portals round-robin); everything else is byte-identical, so a re-crawl of
the unchanged portals is answered 304 (the server sends ETags) and only the new articles are new.

Hosts are ``www.pNNbench.test``: the server answers absolute-URI requests as an HTTP proxy, and each
source's ``proxy:`` points at it, so the article URLs are the same in every run.

The mirror folder: ``manifest.json`` (portals, list URLs, counts) and ``pages/<host>/<n>.bin`` with
``index.json`` mapping ``host -> {path?query: [file, content type, kind]}`` (kind: list, article, other).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import json
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email.utils import formatdate
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
CORPUS = ROOT / "tests" / "data" / "rules_corpus.jsonl"
STYLES = ("trs", "generic", "hanweb")
TOWNS = ["高新区", "经开区", "东河区", "青山区", "九原区", "滨河新区", "临港园区", "开发区", "新城区", "工业园区"]
INDUSTRIES = [
    "新能源电池",
    "稀土永磁材料",
    "光伏组件",
    "氢能装备",
    "现代煤化工",
    "数据中心",
    "铝基新材料",
    "生物医药",
    "智能制造",
    "冷链物流",
    "半导体材料",
    "绿色建材",
]
CITIES = [
    "包头",
    "鄂尔多斯",
    "赤峰",
    "通辽",
    "呼伦贝尔",
    "巴彦淖尔",
    "乌兰察布",
    "锡林郭勒",
    "兴安",
    "阿拉善",
    "抚顺",
    "丹阳",
    "双鸭山",
    "芜湖",
    "宜宾",
    "遵义",
    "曲靖",
    "榆林",
    "吴忠",
    "哈密",
]
FIRST_DAY = date(2023, 1, 2)


# ---------------------------------------------------------------------------------------------- text


def _split_blocks(text: str) -> list[str]:
    return [b.strip() for b in text.replace("\r", "").split("\n") if len(b.strip()) >= 20]


def load_material() -> tuple[list[str], list[str]]:
    """(corpus passages, seed paragraphs): the real text the articles are made of."""
    passages = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            passages.append(json.loads(line)["text"].strip())
    paragraphs: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        paragraphs += [p for p in _split_blocks(path.read_text(encoding="utf-8")) if len(p) >= 40]
    return passages, paragraphs


@dataclass
class Item:
    portal: int
    number: int  # 1, 2 ... in publication order within the portal
    title: str
    day: date
    paragraphs: tuple[str, ...]
    outlet: str
    reprint_of: tuple[int, int] | None = None  # (portal, number) of the original


def _own_paragraph(rng: random.Random, portal: int, number: int) -> tuple[str, str]:
    town, industry = rng.choice(TOWNS), rng.choice(INDUSTRIES)
    amount = rng.choice([3, 5, 8, 12, 15, 20, 26, 30, 45, 60, 80, 120]) + number % 7
    brand = rng.choice(["宏远", "华信", "中科", "金泰", "瑞丰", "恒通", "博源"])
    firm = f"{CITIES[portal % len(CITIES)]}{brand}{industry}有限公司"
    name = f"{firm[:-4]}年产{number + 3}万吨{industry}项目"
    text = (
        f"{town}与{firm}签约，总投资{amount}亿元的{name}正式落地，计划年内开工建设，"
        f"达产后预计年产值{amount * 2}亿元，新增就业岗位{(number % 50 + 1) * 20}个（编号{portal:02d}-{number:05d}）。"
    )
    title = f"{town}{industry}项目签约落地 总投资{amount}亿元（{number}）"
    return text, title


def make_items(portal: int, count: int, passages: list[str], paragraphs: list[str]) -> list[Item]:
    items = []
    for number in range(1, count + 1):
        rng = random.Random(f"{portal}:{number}")
        own, title = _own_paragraph(rng, portal, number)
        if rng.random() < 0.4:  # not every article announces a project of its own
            own = own.split("，", 1)[0] + f"，双方就{title[:6]}合作深入交流（编号{portal:02d}-{number:05d}）。"
        body = rng.sample(passages, rng.choice([1, 1, 2])) + rng.sample(paragraphs, rng.randint(2, 6))
        rng.shuffle(body)
        body.insert(rng.randrange(len(body) + 1), own)
        day = FIRST_DAY + timedelta(days=number * 2 // 3 + portal % 5)  # stable when articles are added
        outlet = rng.choice(
            [f"{CITIES[portal % len(CITIES)]}日报", "新华网", "本网", f"{CITIES[portal % len(CITIES)]}市发改委"]
        )
        items.append(Item(portal, number, title, day, tuple(body), outlet))
    return items


def add_reprints(portals: list[list[Item]], share: float = 0.04) -> None:
    """Make ``share`` of each portal's articles copies of an article of another portal."""
    if len(portals) < 2:
        return
    for p, items in enumerate(portals):
        rng = random.Random(f"reprint:{p}")
        for item in items:
            if rng.random() >= share:
                continue
            other = rng.choice([q for q in range(len(portals)) if q != p])
            if not portals[other]:
                continue
            source = portals[other][min(item.number, len(portals[other])) - 1]
            if source.reprint_of is not None:
                continue
            item.paragraphs, item.reprint_of = source.paragraphs, (other, source.number)
            item.title = "转载：" + source.title


# -------------------------------------------------------------------------------------------- chrome


@dataclass(frozen=True)
class Portal:
    index: int
    host: str
    name: str
    style: str  # trs | generic | hanweb
    chrome: int  # 0..3
    per_page: int
    column: int  # hanweb column id

    @property
    def list_url(self) -> str:
        if self.style == "trs":
            return f"http://{self.host}/zsyz/index.html"
        if self.style == "hanweb":
            return f"http://{self.host}/col/col{self.column}/index.html"
        return f"http://{self.host}/news/list.php"

    def article_path(self, item: Item) -> str:
        d = item.day
        if self.style == "trs":
            return f"/zsyz/{d:%Y%m}/t{d:%Y%m%d}_{100000 + item.number}.html"
        if self.style == "hanweb":
            return f"/art/{d.year}/{d.month}/{d.day}/art_{self.column}_{500000 + item.number}.html"
        return f"/news/show.php?id={item.number}"


def make_portal(index: int) -> Portal:
    rng = random.Random(f"portal:{index}")
    city = CITIES[index % len(CITIES)]
    style = STYLES[index % len(STYLES)]
    name = f"{city}市{rng.choice(['人民政府', '投资促进局', '发展和改革委员会', '融媒体中心'])}"
    return Portal(
        index, f"www.p{index:02d}bench.test", name, style, index % 4, rng.choice([12, 15, 20, 25, 30]), 70000 + index
    )


def _links(rng: random.Random, prefix: str, count: int, words: list[str], dated: bool = False) -> str:
    def day() -> str:
        return f"<span>2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}</span>" if dated else ""

    return "\n".join(
        f'<li><a href="{prefix}/{rng.randrange(10**5, 10**6)}.html" target="_blank">'
        f"{rng.choice(words)}{rng.choice(words)}工作{rng.choice(['会议召开', '推进会', '动态', '通知'])}</a>"
        f"{day()}</li>"
        for _ in range(count)
    )


def chrome_parts(portal: Portal) -> tuple[str, str, str, str]:
    """(head extras, top, sidebar, footer) of the portal's template: these vary between portals."""
    rng = random.Random(f"chrome:{portal.index}")
    words = TOWNS + INDUSTRIES + ["营商环境", "政务服务", "乡村振兴", "安全生产", "民生实事", "优化审批"]
    n = portal.name
    nav_items = [
        "网站首页",
        "政务公开",
        "政务服务",
        "招商引资",
        "重大项目",
        "互动交流",
        "走进" + n[:2],
        "专题专栏",
        "政策文件",
        "统计信息",
        "人事信息",
        "新闻发布",
    ][: 6 + portal.chrome * 2]
    nav = "".join(f'<li><a href="/col{k}/">{t}</a></li>' for k, t in enumerate(nav_items))
    script = (
        "<script>var _hmt=_hmt||[];(function(){var hm=document.createElement('script');"
        "hm.src='//hm.baidu.com/hm.js?" + hashlib.md5(n.encode()).hexdigest() + "';})();"
        "function addFav(){try{window.external.addFavorite(location.href,document.title)}catch(e){}}</script>"
    )
    style = ".nav li{float:left;padding:0 12px}.list li{line-height:32px}.footer{text-align:center}" * (
        1 + portal.chrome
    )
    head = f"<style>{style}</style>{script}"
    carousel = ""
    if portal.chrome in (1, 3):
        carousel = (
            '<div class="pic-news"><ul>'
            + "".join(
                f'<li><a href="/tpxw/{rng.randrange(10**6)}.html"><img src="/img/{k}.jpg" alt="图片新闻"></a>'
                f'<a href="/tpxw/{rng.randrange(10**6)}.html">图片新闻：{rng.choice(words)}现场观摩</a></li>'
                for k in range(4)
            )
            + "</ul></div>"
        )
    top = (
        f'<div class="top-bar"><span>欢迎访问{n}</span> <a href="/">无障碍</a> <a href="/">长者模式</a> '
        f'<a href="javascript:void(0)" onclick="addFav()">加入收藏</a></div>'
        f'<div class="header"><a class="logo" href="/"><img src="/images/logo.png" alt="{n}"></a>'
        f'<ul class="nav">{nav}</ul><form class="search" action="/search"><input name="q" placeholder="请输入关键字">'
        f"<button>搜索</button></form></div>{carousel}"
    )
    # Dated, as on real portals, and up to 20 links: longer than some columns' pages (12 or 15), the
    # layout that once made crawler.listing take the sidebar for the column (see bench/README.md).
    side_count = [8, 12, 16, 20][portal.chrome]
    sidebar = (
        f'<div class="side"><h3>热点关注</h3><ul>{_links(rng, "/rdgz", side_count // 2, words, True)}</ul>'
        f"<h3>通知公告</h3><ul>{_links(rng, '/tzgg', side_count - side_count // 2, words, True)}</ul>"
        '<h3>相关链接</h3><ul><li><a href="http://www.gov.cn/">中国政府网</a></li>'
        '<li><a href="http://www.nmg.gov.cn/">内蒙古自治区人民政府</a></li></ul></div>'
    )
    footer = (
        f'<div class="footer"><p><a href="/about.html">关于我们</a> | <a href="/sitemap.html">网站地图</a> | '
        f'<a href="/contact.html">联系我们</a></p><p>主办单位：{n}办公室　承办：信息中心　'
        f"联系电话：0472-{rng.randrange(10**6, 10**7)}</p><p>网站标识码：15020{rng.randrange(10**5):05d}　"
        f'<a href="https://beian.miit.gov.cn/">蒙ICP备{rng.randrange(10**7):07d}号-1</a>　'
        f"蒙公网安备 1502040{rng.randrange(10**7):07d}号</p>"
        "<p>建议使用1366*768分辨率 IE9以上版本浏览器</p></div>"
    )
    return head, top, sidebar, footer


def article_html(portal: Portal, item: Item, chrome: tuple[str, str, str, str], charset: str | None) -> str:
    head, top, sidebar, footer = chrome
    t = html.escape(item.title)
    declare = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    metas = ""
    if portal.chrome != 2:  # one template has no meta tags: the date is only in the info line
        metas = (
            f'<meta name="ArticleTitle" content="{t}"><meta name="PubDate" content="{item.day} 09:30">'
            f'<meta name="ContentSource" content="{html.escape(item.outlet)}">'
        )
    info = f"发布时间：{item.day:%Y-%m-%d} 来源：{html.escape(item.outlet)}"
    if portal.chrome == 3:
        info = f"{item.day:%Y年%m月%d日} 来源：{html.escape(item.outlet)}　【字体：大 中 小】"
    paragraphs = "\n".join(f'<p style="text-indent:2em">{html.escape(p)}</p>' for p in item.paragraphs)
    container = ("TRS_Editor", "article-content", "zoom", "bt-article")[portal.chrome]
    return (
        f"<!DOCTYPE html><html><head>{declare}<title>{t}_{portal.name}</title>{metas}{head}</head><body>\n{top}\n"
        f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; '
        f'<a href="{portal.list_url}">招商引资</a> &gt; 正文</div>\n'
        f'<div class="main"><div class="article"><h1>{t}</h1>\n<div class="info">{info}</div>\n'
        f'<div class="{container}" id="zoom">\n{paragraphs}\n</div>\n'
        '<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a>　【<a href="javascript:window.print()">'
        '打印本页</a>】【<a href="javascript:window.close()">关闭窗口</a>】</div></div>\n'
        f"{sidebar}</div>\n{footer}\n</body></html>\n"
    )


# ----------------------------------------------------------------------------------------- list pages


def _chunks(items: list[Item], size: int) -> list[list[Item]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def trs_lists(portal: Portal, items: list[Item], chrome: tuple[str, str, str, str]) -> Iterator[tuple[str, str]]:
    head, top, sidebar, footer = chrome
    chunks = _chunks(items, portal.per_page)
    for n, chunk in enumerate(chunks):
        rows = "\n".join(
            f'<li><a href=".{portal.article_path(i)[5:]}" target="_blank" title="{html.escape(i.title)}">'
            f"{html.escape(i.title)}</a><span>{i.day}</span></li>"
            for i in chunk
        )
        yield (
            f"/zsyz/{'index.html' if n == 0 else f'index_{n}.html'}",
            (
                '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
                f'<meta name="generator" content="TRS WCM"><title>招商引资_{portal.name}</title>{head}</head><body>'
                f'{top}<div class="list"><div class="list-title">招商引资</div><ul class="list-ul">\n{rows}\n</ul>'
                f'<div class="page"><script language="JavaScript">\nvar currentPage = {n};//所在页从0开始\n'
                f'var countPage = {len(chunks)}//共多少页\ncreatePageHTML({len(chunks)}, {n}, "index", "html");\n'
                f"</script></div></div>{sidebar}{footer}</body></html>"
            ),
        )


def generic_lists(portal: Portal, items: list[Item], chrome: tuple[str, str, str, str]) -> Iterator[tuple[str, str]]:
    head, top, sidebar, footer = chrome
    chunks = _chunks(items, portal.per_page)
    for n, chunk in enumerate(chunks):
        rows = "\n".join(
            f'<tr><td class="{"odd" if k % 2 else "even"}"><a href="show.php?id={i.number}">{html.escape(i.title)}'
            f'</a></td><td class="date">[{i.day}]</td></tr>'
            for k, i in enumerate(chunk)
        )
        pager = (
            '<a href="list.php">首页</a> '
            + (f'<a href="list.php?page={n}">上一页</a> ' if n else "")
            + (f'<a href="list.php?page={n + 2}">下一页</a> ' if n + 1 < len(chunks) else "")
            + f'<a href="list.php?page={len(chunks)}">尾页</a> 共{len(chunks)}页'
        )
        yield (
            ("/news/list.php" if n == 0 else f"/news/list.php?page={n + 1}"),
            (
                f'<html><head><meta charset="utf-8"><title>投资动态_{portal.name}</title>{head}</head><body>'
                f'{top}<table class="main"><tr><td class="left">{sidebar}</td><td class="right">'
                f'<div class="lm">投资动态</div><table class="newslist">\n{rows}\n</table>'
                f'<div class="pager">{pager}</div></td></tr></table>{footer}</body></html>'
            ),
        )


def hanweb_lists(portal: Portal, items: list[Item], chrome: tuple[str, str, str, str]) -> Iterator[tuple[str, str]]:
    head, top, sidebar, footer = chrome
    per, unit, col = portal.per_page, 228900 + portal.index, portal.column

    def record(i: Item) -> str:
        return (
            f'<record><![CDATA[\n<li><a href="{portal.article_path(i)}" title="{html.escape(i.title)}" '
            f'target="_blank">{html.escape(i.title)}</a><span class="bt-data-time">{i.day}</span></li>\n'
            "]]></record>"
        )

    total, pages = len(items), max(1, -(-len(items) // per))
    query = f"page=1&appid=1&webid=57&path=/&columnid={col}&unitid={unit}&permissiontype=0"
    first = "\n".join(record(i) for i in items[:per])
    yield (
        f"/col/col{col}/index.html",
        (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>招商引资 {portal.name}</title>{head}</head><body>'
            f'{top}<div class="bt-main"><div class="bt-title">招商引资</div>\n<div id="{unit}"><script type="text/xml">'
            f'<datastore>\n<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?{query}"></a>]]></nextgroup>\n'
            f"<recordset>\n{first}\n</recordset></datastore></script></div>\n"
            '<script language="javascript" src="/module/web/jpage/jpage.js"></script>'
            f"<script>$(document).ready(function(){{ $('#{unit}').jpage({{ dataStore: dataStore, perPage: {per}, "
            f"totalRecord: {total}, proxyUrl: '/module/web/jpage/dataproxy.jsp', groupSize: 1, ajaxParam: {{ col: 1, "
            f"appid: 1, webid: 57, path: '/', columnid: {col}, sourceContentType: 1, unitid: '{unit}', "
            f"permissiontype: 0 }} }}); }});</script></div>{sidebar}{footer}</body></html>"
        ),
    )
    for page in range(1, pages + 1):
        chunk = items[(page - 1) * per : page * per]
        yield (
            f"/module/web/jpage/dataproxy.jsp?page={page}",
            (
                f'<?xml version="1.0" encoding="utf-8"?><datastore><totalrecord>{total}</totalrecord>'
                f"<totalpage>{pages}</totalpage><recordset>"
                + "".join(record(i) for i in chunk)
                + "</recordset></datastore>"
            ),
        )


LISTS = {"trs": trs_lists, "generic": generic_lists, "hanweb": hanweb_lists}


# ----------------------------------------------------------------------------------------- generate


def page_key(path_and_query: str) -> str:
    """The index key of a request: path plus query; Hanweb's dataproxy.jsp keyed by its page only."""
    split = urlsplit(path_and_query)
    if split.path.endswith("dataproxy.jsp"):
        return f"{split.path}?page={parse_qs(split.query).get('page', ['1'])[0]}"
    return split.path + (f"?{split.query}" if split.query else "")


def generate(out: Path, portals: int = 20, articles: int = 250, new_share: float = 0.0) -> dict[str, object]:
    """Write the mirror to ``out`` (replacing it); returns the manifest."""
    passages, paragraphs = load_material()
    sites = [make_portal(p) for p in range(portals)]
    counts = [articles] * portals
    new_total = round(portals * articles * new_share)
    for k in range(new_total):
        counts[k % portals] += 1
    all_items = [make_items(p, counts[p], passages, paragraphs) for p in range(portals)]
    add_reprints(all_items)
    index: dict[str, dict[str, list[str]]] = {}
    pages_dir = out / "pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    for old in pages_dir.glob("*/*.bin"):
        old.unlink()
    sizes: Counter[str] = Counter()
    gbk_pages = 0
    for portal, items in zip(sites, all_items, strict=True):
        chrome = chrome_parts(portal)
        host_dir = pages_dir / portal.host
        host_dir.mkdir(exist_ok=True)
        entries: dict[str, list[str]] = {}

        def put(
            key: str,
            body: bytes,
            content_type: str,
            kind: str,
            entries: dict[str, list[str]] = entries,
            host_dir: Path = host_dir,
        ) -> None:
            name = f"{len(entries)}.bin"
            (host_dir / name).write_bytes(body)
            entries[key] = [name, content_type, kind]
            sizes[kind] += len(body)

        newest_first = sorted(items, key=lambda i: -i.number)
        for key, text in LISTS[portal.style](portal, newest_first, chrome):
            if portal.style == "trs":
                put(key, text.encode("gb2312", errors="xmlcharrefreplace"), "text/html", "list")
            elif key.endswith(".html"):
                put(key, text.encode("utf-8"), "text/html; charset=utf-8", "list")
            elif "dataproxy" in key:
                put(key, text.encode("utf-8"), "text/xml;charset=utf-8", "list")
            else:
                put(key, text.encode("utf-8"), "text/html; charset=utf-8", "list")
        for item in items:
            rng = random.Random(f"enc:{portal.index}:{item.number}")
            roll = rng.random()
            if roll < 0.15:
                declared = "gbk" if roll < 0.075 else None  # half of them: no charset anywhere
                page = article_html(portal, item, chrome, declared)
                try:
                    body = page.encode("gbk")
                except UnicodeEncodeError:
                    body = None
                if body is not None:
                    gbk_pages += 1
                    put(portal.article_path(item), body, "text/html", "article")
                    continue
            page = article_html(portal, item, chrome, "utf-8")
            put(portal.article_path(item), page.encode("utf-8"), "text/html; charset=utf-8", "article")
        put("/robots.txt", b"User-agent: *\nDisallow: /admin/\n", "text/plain", "other")
        index[portal.host] = entries
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    manifest: dict[str, object] = {
        "portals": [
            {
                "name": f"bench{p.index:02d}",
                "host": p.host,
                "list_url": p.list_url,
                "style": p.style,
                "region": CITIES[p.index % len(CITIES)] + "市",
                "articles": counts[p.index],
            }
            for p in sites
        ],
        "articles": sum(counts),
        "new_articles": new_total,
        "reprints": sum(1 for items in all_items for i in items if i.reprint_of),
        "gbk_articles": gbk_pages,
        "bytes": dict(sizes),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def article_pages(out: Path) -> Iterator[tuple[str, bytes, str]]:
    """(url, body, content type) of every article page of the mirror in ``out``."""
    index = json.loads((out / "index.json").read_text(encoding="utf-8"))
    for host, entries in index.items():
        for key, (name, content_type, kind) in entries.items():
            if kind == "article":
                yield f"http://{host}{key}", (out / "pages" / host / name).read_bytes(), content_type


# ------------------------------------------------------------------------------------------- server


class Mirror:
    """The pages in memory, with ETags, and request counts since the last reset."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pages: dict[tuple[str, str], tuple[bytes, bytes, str]] = {}
        self.counts: Counter[str] = Counter()
        self.by_host: Counter[str] = Counter()
        self.load()

    def load(self) -> None:
        index = json.loads((self.folder / "index.json").read_text(encoding="utf-8"))
        pages = {}
        for host, entries in index.items():
            for key, (name, content_type, kind) in entries.items():
                body = (self.folder / "pages" / host / name).read_bytes()
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                head = (f"Content-Type: {content_type}\r\nETag: {etag}\r\nContent-Length: {len(body)}\r\n").encode(
                    "latin-1"
                )
                pages[(host, key)] = (head, body, kind + "\n" + etag)
        self.pages = pages

    def stats(self) -> dict[str, object]:
        return {
            "counts": dict(self.counts),
            "by_host": dict(self.by_host),
            "pages": len(self.pages),
            "cpu_s": sum(os.times()[:2]),
        }


async def _handle(mirror: Mirror, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    date_header = b""
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) < 3:
                break
            method, target = parts[0], parts[1]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name:
                    headers[name.strip().lower()] = value.strip()
            if target.startswith("http://") or target.startswith("https://"):
                split = urlsplit(target)
                host, rest = split.hostname or "", split.path + (f"?{split.query}" if split.query else "")
            else:
                host, rest = headers.get("host", "").split(":")[0], target
            status, extra, body = b"200 OK", b"", b""
            if rest.startswith("/__bench/"):
                if rest == "/__bench/reset":
                    mirror.counts.clear()
                    mirror.by_host.clear()
                elif rest == "/__bench/reload":
                    mirror.load()
                body = json.dumps(mirror.stats()).encode()
                extra = b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
            else:
                page = mirror.pages.get((host, page_key(rest or "/")))
                mirror.by_host[host] += 1
                if page is None:
                    mirror.counts["404"] += 1
                    status, extra = b"404 Not Found", b"Content-Length: 0\r\n"
                else:
                    kind, etag = page[2].split("\n")
                    mirror.counts[kind] += 1
                    if headers.get("if-none-match") == etag:
                        mirror.counts["not_modified"] += 1
                        status, extra = b"304 Not Modified", b"ETag: " + etag.encode() + b"\r\nContent-Length: 0\r\n"
                    else:
                        extra, body = page[0], page[1]
            if not date_header:
                date_header = f"Date: {formatdate(usegmt=True)}\r\nServer: benchmirror\r\n".encode()
            writer.write(b"HTTP/1.1 " + status + b"\r\n" + date_header + extra + b"\r\n")
            if method != "HEAD" and body:
                writer.write(body)
            await writer.drain()
            if headers.get("connection", "").lower() == "close" or headers.get("proxy-connection", "") == "close":
                break
    finally:
        writer.close()


async def _serve(folder: Path, port: int, ready: Path | None) -> None:
    mirror = Mirror(folder)
    server = await asyncio.start_server(lambda r, w: _handle(mirror, r, w), "127.0.0.1", port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready.write_text(str(bound))
    print(f"serving {folder} ({len(mirror.pages)} pages) on http://127.0.0.1:{bound}", flush=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write a mirror")
    gen.add_argument("out", type=Path)
    gen.add_argument("--portals", type=int, default=20)
    gen.add_argument("--articles", type=int, default=250)
    gen.add_argument("--new-share", type=float, default=0.0, help="share of new articles on top (0.01 = 1%%)")
    srv = sub.add_parser("serve", help="serve a mirror on 127.0.0.1 (also as an HTTP proxy for its hosts)")
    srv.add_argument("folder", type=Path)
    srv.add_argument("--port", type=int, default=0)
    srv.add_argument("--ready-file", type=Path, help="write the bound port here once listening")
    args = parser.parse_args(argv)
    if args.command == "generate":
        print(json.dumps(generate(args.out, args.portals, args.articles, args.new_share), ensure_ascii=False, indent=1))
        return 0
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_serve(args.folder, args.port, args.ready_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hanweb (大汉) jpage columns: ``col/col{ID}/index.html`` and the ``dataproxy.jsp`` XML behind it.

The first page's records sit inside ``<script type="text/xml"><datastore><recordset><record>
<![CDATA[...]]></record>``, which an HTML parser sees only as script text, so the CDATA is unwrapped
here. Further pages come from ``/module/web/jpage/dataproxy.jsp?page=N&columnid=..&unitid=..``
(or ``startrecord``/``endrecord``/``perpage``), which answers the same XML with ``totalrecord`` and
``totalpage``. Articles look like ``art/2023/4/4/art_123_456789.html``.
"""

from __future__ import annotations

import html as htmllib
import math
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from crawler.listing.base import ListPage, ListParser, absolute, unique
from crawler.listing.column import column_affinity, list_pager
from crawler.listing.generic import article_links, next_links, parse_html
from crawler.listing.patterns import MIN_TITLE_CHARS

PROXY_PATH = "/module/web/jpage/dataproxy.jsp"
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>", re.S | re.I)
_HREF = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>(.*?)</a>""", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")
_TOTAL_PAGE = re.compile(r"<totalpage>\s*(\d+)", re.I)
_TOTAL_RECORD = re.compile(r"<totalrecord>\s*(\d+)|totalRecord\s*[:=]\s*['\"]?(\d+)", re.I)
_PER_PAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)", re.I)
_UNIT_DIV = re.compile(r"""<div[^>]*\bid\s*=\s*["']?(\d+)["']?[^>]*>\s*<script[^>]*text/xml""", re.I)
_COLUMN_URL = re.compile(r"/col/col(\d+)/")
# jpage parameters as a script writes them: columnid:1234, unitid:'5678', webid=1 ...
_PARAM = re.compile(
    r"""\b(columnid|unitid|webid|appid|path|permissiontype|sourceContentType)\s*[:=]\s*['"]?([\w/.:-]*)"""
)


def records(text: str) -> list[str]:
    """The HTML fragments of the datastore's records."""
    return [m.group(1) for m in _RECORD.finditer(text)]


def record_link(fragment: str, base: str) -> str | None:
    """The article link of one record: its first link with a headline-length text or title."""
    first = None
    for m in _HREF.finditer(fragment):
        url = absolute(htmllib.unescape(m.group(1) or m.group(2) or m.group(3) or ""), base)
        if url is None:
            continue
        first = first or url
        text = htmllib.unescape(_TAGS.sub("", m.group(4))).strip()
        title = re.search(r"""title\s*=\s*["']([^"']+)""", m.group(0))
        if len(text) >= MIN_TITLE_CHARS or (title and len(title.group(1)) >= MIN_TITLE_CHARS):
            return url
    return first


def jpage_params(text: str, url: str) -> dict[str, str]:
    """The query a dataproxy request needs, from the nextgroup link, the script, the div and the URL."""
    params: dict[str, str] = {}
    group = _NEXTGROUP.search(text)
    if group:
        href = re.search(r"""href\s*=\s*["']([^"']+)""", group.group(1))
        if href:
            params.update(parse_qsl(urlsplit(htmllib.unescape(href.group(1))).query))
    for key, value in _PARAM.findall(text):
        if value:
            params.setdefault(key, value)
    if "columnid" not in params and (column := _COLUMN_URL.search(url)):
        params["columnid"] = column.group(1)
    if "unitid" not in params and (unit := _UNIT_DIV.search(text)):
        params["unitid"] = unit.group(1)
    return params


def total_pages(text: str) -> int | None:
    if page := _TOTAL_PAGE.search(text):
        return int(page.group(1))
    record, per_page = _TOTAL_RECORD.search(text), _PER_PAGE.search(text)
    if record and per_page and int(per_page.group(1)) > 0:
        return math.ceil(int(record.group(1) or record.group(2)) / int(per_page.group(1)))
    return None


def proxy_next(url: str, text: str) -> tuple[list[str], int | None]:
    """The page after a dataproxy answer: page=N+1, or the next startrecord..endrecord window."""
    split = urlsplit(url)
    query = dict(parse_qsl(split.query))
    pages = total_pages(text)
    if "startrecord" in query and "endrecord" in query:
        start, end = int(query["startrecord"]), int(query["endrecord"])
        record = _TOTAL_RECORD.search(text)
        total = int(record.group(1) or record.group(2)) if record else None
        if total is not None and end >= total:
            return [], pages
        span = end - start + 1
        query.update(startrecord=str(end + 1), endrecord=str(end + span))
    else:
        page = int(query.get("page", "1"))
        if pages is not None and page >= pages:
            return [], pages
        query["page"] = str(page + 1)
    return [split._replace(query=urlencode(query, safe="/")).geturl()], pages


def column_next(url: str, text: str) -> tuple[list[str], int | None]:
    """Page 2 of a column whose page 1 is embedded in its HTML."""
    params = jpage_params(text, url)
    pages = total_pages(text)
    if "columnid" not in params or (pages is not None and pages < 2):
        return [], pages
    params["page"] = str(max(int(params.get("page", "1") or 1), 2))
    ordered = {"page": params.pop("page"), **params}
    return [urljoin(url, PROXY_PATH) + "?" + urlencode(ordered, safe="/")], pages


class HanwebListParser(ListParser):
    kind = "hanweb"
    priority = 10

    def detect(self, html: str, url: str) -> bool:
        return "<datastore" in html.lower() or "dataproxy.jsp" in html or "dataproxy.jsp" in url

    def parse(
        self, html: str, url: str, link_selector: str | None, next_selector: str | None, block: str | None = None
    ) -> ListPage:
        fragments = records(html)
        is_proxy = "dataproxy.jsp" in urlsplit(url).path
        if fragments and not link_selector:
            links = [u for u in (record_link(f, url) for f in fragments) if u]
        else:
            body = "\n".join(fragments) if fragments else html
            root = parse_html(body)
            affinity = column_affinity(root, url, list_pager(root, url)) if root is not None and not fragments else None
            links = article_links(root, body, url, link_selector, block, affinity)[0] if root is not None else []
        if next_selector:
            root = parse_html(html)
            nexts = next_links(root, html, url, next_selector) if root is not None else []
            return ListPage(unique(links, url), unique(nexts, url), self.kind)
        nexts, pages = proxy_next(url, html) if is_proxy else column_next(url, html)
        if not links:
            nexts = []  # an empty page ends the column
        return ListPage(unique(links, url), unique(nexts, url), self.kind, total_pages=pages)

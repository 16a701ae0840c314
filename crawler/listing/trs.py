"""TRS WCM column pages: ``index.html``, ``index_1.html`` ... counted by an inline ``createPageHTML``.

The template calls ``createPageHTML(count, current, "index", "html")`` with ``current`` counted from 0
(``index.html`` is page 0), or in newer templates ``createPageHTML('page_div', count, current,
'index', 'html', records)`` with ``current`` counted from 1. Articles sit under dated folders:
``./202304/t20230404_123456.html``.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml.html import HtmlElement

from crawler.listing.base import ListPage, ListParser, unique
from crawler.listing.column import column_affinity, list_pager
from crawler.listing.generic import article_links, next_links, parse_html

_CALL = re.compile(
    r"createPageHTML\(\s*(?P<div>['\"][^'\"]*['\"]\s*,\s*)?(?P<count>\w+)\s*,\s*(?P<current>\w+)\s*,"
    r"\s*['\"](?P<prefix>[^'\"]+)['\"]\s*,\s*['\"](?P<ext>[^'\"]+)['\"]"
)
_GENERATOR = re.compile(r"""<meta[^>]+content\s*=\s*["'][^"']*TRS\s*WCM""", re.I)


def _value(token: str, html: str) -> int | None:
    if token.isdigit():
        return int(token)
    found = re.search(rf"\bvar\s+{re.escape(token)}\s*=\s*(\d+)", html)
    return int(found.group(1)) if found else None


def trs_pager(html: str) -> tuple[int, int, str, str] | None:
    """(page count, current page counted from 0, file prefix, extension) from createPageHTML."""
    call = _CALL.search(html)
    if call is None:
        return None
    count, current = _value(call["count"], html), _value(call["current"], html)
    if count is None or current is None:
        return None
    if call["div"]:  # the newer template counts pages from 1
        current = max(current - 1, 0)
    return count, current, call["prefix"], call["ext"]


def pager_element(root: HtmlElement) -> HtmlElement | None:
    """The script calling ``createPageHTML`` (not one defining it, in the head): it sits with the column's list."""
    return next((s for s in root.iter("script") if _CALL.search(s.text or "")), None)


def trs_page_url(url: str, number: int, prefix: str, ext: str) -> str:
    """Page ``number`` (from 0) of the column holding ``url``: index.html, index_1.html ..."""
    name = f"{prefix}.{ext}" if number == 0 else f"{prefix}_{number}.{ext}"
    return urljoin(url, name)


class TrsListParser(ListParser):
    kind = "trs"
    priority = 30

    def detect(self, html: str, url: str) -> bool:
        return "createPageHTML" in html or bool(_GENERATOR.search(html))

    def parse(
        self, html: str, url: str, link_selector: str | None, next_selector: str | None, block: str | None = None
    ) -> ListPage:
        root = parse_html(html)
        if root is None:
            return ListPage((), (), self.kind)
        script = pager_element(root)
        affinity = column_affinity(root, url, script if script is not None else list_pager(root, url))
        links, chosen = article_links(root, html, url, link_selector, block, affinity)
        pager = None if next_selector else trs_pager(html)
        if pager is None:
            nexts = next_links(root, html, url, next_selector)
            return ListPage(unique(links, url), unique(nexts, url), self.kind, block=chosen)
        count, current, prefix, ext = pager
        nexts = [trs_page_url(url, current + 1, prefix, ext)] if current + 1 < count else []
        return ListPage(unique(links, url), unique(nexts, url), self.kind, total_pages=count, block=chosen)

"""List-page parsers: find the article links and the next pages of a column page.

Parsers form a registry keyed by ``kind`` (chosen by ``cms:`` in sources.yaml, or tried in order
when ``cms: auto``). Each is a pure function of (html, url); no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from parsel import Selector

_DATED_PATH = re.compile(r"(?:19|20)\d{2}[-/_]?(?:0?[1-9]|1[0-2])(?:[-/_]?\d{1,2})?|/t20\d{6}_|art_\d+_\d+|content_\d+")
_ARTICLE_EXT = re.compile(r"\.(s?html?|php|aspx?|jsp)(\?|$)|/\d{4,}/?$", re.IGNORECASE)
_NEXT_TEXT = re.compile(r"^\s*(下一页|下页|后页|next|›|»|>)\s*$", re.IGNORECASE)
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "#")
_MIN_TITLE_CHARS = 6


@dataclass(frozen=True)
class ListPage:
    article_links: tuple[str, ...]  # absolute URLs, in page order, de-duplicated
    next_pages: tuple[str, ...]
    cms: str


class ListParser:
    kind: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[ListParser]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            ListParser.registry[cls.kind] = cls

    def detect(self, html: str) -> bool:
        return False

    def parse(self, html: str, url: str, link_selector: str | None, next_selector: str | None) -> ListPage:
        raise NotImplementedError


class GenericListParser(ListParser):
    """Any site: a given CSS selector, else links that look like dated articles with a real title."""

    kind = "generic"

    def detect(self, html: str) -> bool:
        return True

    def parse(self, html: str, url: str, link_selector: str | None, next_selector: str | None) -> ListPage:
        page = Selector(text=html or "<html></html>")
        if link_selector:
            links = [urljoin(url, h) for h in page.css(link_selector).css("::attr(href)").getall()]
        else:
            links = _guess_article_links(page, url)
        if next_selector:
            nexts = [urljoin(url, h) for h in page.css(next_selector).css("::attr(href)").getall()]
        else:
            nexts = _guess_next_pages(page, url)
        return ListPage(_unique(links, url), _unique(nexts, url), self.kind)


def _guess_article_links(page: Selector, url: str) -> list[str]:
    host = urlsplit(url).hostname
    found = []
    for anchor in page.css("a[href]"):
        href = (anchor.attrib.get("href") or "").strip()
        if not href or href.startswith(_SKIP_SCHEMES):
            continue
        absolute = urljoin(url, href)
        if urlsplit(absolute).hostname != host:
            continue
        text = "".join(anchor.css("::text").getall()).strip() or anchor.attrib.get("title", "")
        path = urlsplit(absolute).path
        if len(text) >= _MIN_TITLE_CHARS and _DATED_PATH.search(path) and _ARTICLE_EXT.search(path):
            found.append(absolute)
    return found


def _guess_next_pages(page: Selector, url: str) -> list[str]:
    nexts = []
    for anchor in page.css("a[href]"):
        text = "".join(anchor.css("::text").getall())
        href = (anchor.attrib.get("href") or "").strip()
        if _NEXT_TEXT.match(text) and href and not href.startswith(_SKIP_SCHEMES):
            nexts.append(urljoin(url, href))
    return nexts


def _unique(urls: list[str], page_url: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for u in urls:
        u = u.split("#", 1)[0]
        if u and u != page_url and u.startswith(("http://", "https://")):
            seen.setdefault(u, None)
    return tuple(seen)


def parse_list_page(
    html: str, url: str, cms: str = "auto", link_selector: str | None = None, next_selector: str | None = None
) -> ListPage:
    """Pick the parser (by ``cms`` or by detection) and return the links it finds."""
    if cms != "auto":
        parser: ListParser = ListParser.registry[cms]()
    else:
        specific = [cls() for kind, cls in ListParser.registry.items() if kind != "generic"]
        parser = next((p for p in specific if p.detect(html)), GenericListParser())
    return parser.parse(html, url, link_selector, next_selector)

"""What every list parser returns and shares: the ListPage, the registry, URL helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

from crawler.listing.patterns import SECOND_LEVEL, SKIP_EXTENSIONS, SKIP_SCHEMES


@dataclass(frozen=True)
class ListPage:
    article_links: tuple[str, ...]  # absolute URLs, in page order, de-duplicated
    next_pages: tuple[str, ...]  # absolute URLs of the following list pages, nearest first
    cms: str
    total_pages: int | None = None  # when the page says how many there are
    block: str | None = None  # the generic parser's main list block, a hint for the column's other pages


class ListParser:
    """A list-page parser; subclasses with a ``kind`` register themselves."""

    kind: ClassVar[str] = ""
    priority: ClassVar[int] = 50  # detection order when ``cms: auto`` (lower first)
    registry: ClassVar[dict[str, type[ListParser]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            ListParser.registry[cls.kind] = cls

    def detect(self, html: str, url: str) -> bool:
        return False

    def parse(
        self, html: str, url: str, link_selector: str | None, next_selector: str | None, block: str | None = None
    ) -> ListPage:
        raise NotImplementedError


def site_domain(url: str) -> str:
    """The registrable domain, roughly: www.baotou.gov.cn -> baotou.gov.cn, news.163.com -> 163.com."""
    host = (urlsplit(url).hostname or "").lower()
    labels = host.split(".")
    if len(labels) <= 2 or host.replace(".", "").isdigit():
        return host
    keep = 3 if labels[-2] in SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def same_site(url: str, page_url: str) -> bool:
    return site_domain(url) == site_domain(page_url)


def absolute(href: str | None, base: str) -> str | None:
    """An article-candidate URL from an href, or None for pager scripts, anchors, images and the like."""
    href = (href or "").strip()
    if not href or href.lower().startswith(SKIP_SCHEMES):
        return None
    url = urljoin(base, href).split("#", 1)[0]
    if not url.startswith(("http://", "https://")) or SKIP_EXTENSIONS.search(url):
        return None
    return url


def unique(urls: list[str], page_url: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    page = page_url.split("#", 1)[0]
    for u in urls:
        u = u.split("#", 1)[0]
        if u and u != page and u.startswith(("http://", "https://")):
            seen.setdefault(u, None)
    return tuple(seen)


def selected_links(html_selector_result: list[str], url: str) -> list[str]:
    return [u for u in (absolute(h, url) for h in html_selector_result) if u]

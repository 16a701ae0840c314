"""Any site: the article links of the main list block, and the pager's next page.

The main list is the best-ranked link group (``crawler.listing.groups``); where the page has a pager
of its own, the groups are first ranked by where they sit (``crawler.listing.column``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from lxml.html import HtmlElement
from parsel import Selector

from crawler.extract.html import preclean
from crawler.listing.base import ListPage, ListParser, absolute, same_site, selected_links, unique
from crawler.listing.column import column_affinity, list_pager
from crawler.listing.groups import Affinity, LinkFacts, element_text, link_facts, main_list_links
from crawler.listing.patterns import NEXT_TEXT

_DIGITS = re.compile(r"\d+")


def parse_html(html: str) -> HtmlElement | None:
    """An lxml tree of any HTML, however broken; None when there is nothing to parse."""
    if not html or not html.strip():
        return None
    html = preclean(html)  # libxml2 stops at a stray </html>, and refuses an XML declaration in a str
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html, parser=lxml.html.HTMLParser(recover=True, remove_comments=True))
    except (etree.ParserError, ValueError):
        return None


def guess_next_pages(root: HtmlElement, page_url: str) -> list[str]:
    """The pager's "下一页"/next link, rel=next, else the link to page 2 of a first page."""
    found: list[str] = []
    for link in root.iter("link"):
        if (link.get("rel") or "").lower() == "next" and (url := absolute(link.get("href"), page_url)):
            found.append(url)
    numbered: list[str] = []
    for anchor in root.iter("a"):
        url = absolute(anchor.get("href"), page_url)
        if url is None or not same_site(url, page_url):
            continue
        text = element_text(anchor) or (anchor.get("title") or "").strip()
        classes = (anchor.get("class") or "").lower().split()
        if NEXT_TEXT.match(text) or (anchor.get("rel") or "").lower() == "next" or "next" in classes:
            found.append(url)
        elif text == "2" and _is_second_page(url, page_url):
            numbered.append(url)
    return found or numbered


def _is_second_page(url: str, page_url: str) -> bool:
    """``index.html`` -> ``index_1.html``/``index2.html``/``?page=2``: the pager's link to page 2."""
    here, there = urlsplit(page_url), urlsplit(url)
    if _DIGITS.search(here.path.rsplit("/", 1)[-1]) or here.netloc != there.netloc:
        return False
    return here.path.rsplit("/", 1)[0] == there.path.rsplit("/", 1)[0]


class GenericListParser(ListParser):
    """Any site: a given CSS selector, else the main list block found by ranking link groups."""

    kind = "generic"
    priority = 100

    def detect(self, html: str, url: str) -> bool:
        return True

    def parse(
        self, html: str, url: str, link_selector: str | None, next_selector: str | None, block: str | None = None
    ) -> ListPage:
        root = parse_html(html)
        if root is None:
            return ListPage((), (), self.kind)
        affinity = column_affinity(root, url, list_pager(root, url))
        links, chosen = article_links(root, html, url, link_selector, block, affinity)
        nexts = next_links(root, html, url, next_selector)
        return ListPage(unique(links, url), unique(nexts, url), self.kind, block=chosen)


def article_links(
    root: HtmlElement,
    html: str,
    url: str,
    link_selector: str | None,
    block: str | None = None,
    affinity: Callable[[list[LinkFacts]], Affinity] | None = None,
) -> tuple[list[str], str | None]:
    """The article links: by ``link_selector``, else the main list block (``affinity`` builds a ranking)."""
    if link_selector:
        return selected_links(Selector(text=html).css(link_selector).css("::attr(href)").getall(), url), None
    facts = link_facts(root, url)
    return main_list_links(facts, block, affinity(facts) if affinity else None)


def next_links(root: HtmlElement, html: str, url: str, next_selector: str | None) -> list[str]:
    if next_selector:
        return selected_links(Selector(text=html).css(next_selector).css("::attr(href)").getall(), url)
    return guess_next_pages(root, url)

"""List-page parsers: find the article links and the next pages of a column page.

Parsers form a registry keyed by ``kind`` (chosen by ``cms:`` in sources.yaml, or tried by
``priority`` when ``cms: auto``, the generic parser last). Each is a pure function of (html, url);
no network. ``trs`` (TRS WCM), ``hanweb`` (大汉 jpage), ``feed`` (RSS, Atom, sitemaps), ``generic``.
"""

from __future__ import annotations

from crawler.errors import ConfigError
from crawler.listing.base import ListPage, ListParser, same_site, site_domain
from crawler.listing.feeds import FeedListParser
from crawler.listing.generic import GenericListParser
from crawler.listing.hanweb import HanwebListParser
from crawler.listing.trs import TrsListParser

__all__ = [
    "FeedListParser",
    "GenericListParser",
    "HanwebListParser",
    "ListPage",
    "ListParser",
    "TrsListParser",
    "choose_parser",
    "parse_list_page",
    "same_site",
    "site_domain",
]


def choose_parser(html: str, url: str, cms: str = "auto") -> ListParser:
    """The parser named by ``cms``, or the first (by priority) whose detection accepts the page."""
    if cms != "auto":
        try:
            return ListParser.registry[cms]()
        except KeyError:
            known = ", ".join(sorted(ListParser.registry))
            raise ConfigError("sources.yaml", "cms", f"unknown cms {cms!r} (known: auto, {known})") from None
    ordered = sorted(ListParser.registry.values(), key=lambda cls: cls.priority)
    return next((p for p in (cls() for cls in ordered) if p.detect(html, url)), GenericListParser())


def parse_list_page(
    html: str,
    url: str,
    cms: str = "auto",
    link_selector: str | None = None,
    next_selector: str | None = None,
    block: str | None = None,
) -> ListPage:
    """Pick the parser (by ``cms`` or by detection) and return the links it finds.

    ``block`` is the ``ListPage.block`` of the column's first page, passed for its further pages.
    """
    return choose_parser(html, url, cms).parse(html, url, link_selector, next_selector, block)

"""RSS 2.0, Atom and XML sitemaps: where a site publishes one, the links need no guessing."""

from __future__ import annotations

import re

from lxml import etree

from crawler.listing.base import ListPage, ListParser, absolute, same_site, unique

_ROOT = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(rss|feed|urlset|sitemapindex|rdf:RDF)\b", re.S | re.I)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in element if _local(c.tag) == name]


def _text_of(element: etree._Element, name: str) -> str:
    found = _children(element, name)
    return (found[0].text or "").strip() if found else ""


def parse_xml(text: str) -> etree._Element | None:
    try:
        data = re.sub(r"^\s*<\?xml[^>]*>", "", text).encode("utf-8")
        return etree.fromstring(data, parser=etree.XMLParser(recover=True, resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, ValueError):
        return None


def feed_links(root: etree._Element) -> tuple[list[str], list[str]]:
    """(article links, further feeds or sitemaps) of an RSS, Atom or sitemap document."""
    kind = _local(root.tag)
    items = [e for e in root.iter() if _local(e.tag) in {"item", "entry", "url", "sitemap"}]
    links: list[str] = []
    more: list[tuple[str, str]] = []
    dated: list[tuple[str, str]] = []
    for item in items:
        name = _local(item.tag)
        if name == "entry":
            hrefs = [
                link.get("href", "") for link in _children(item, "link") if link.get("rel", "alternate") == "alternate"
            ]
            links.extend(h for h in hrefs[:1] if h)
        elif name == "item":
            link = _text_of(item, "link") or _text_of(item, "guid")
            if link:
                links.append(link)
        elif name == "url":
            dated.append((_text_of(item, "lastmod"), _text_of(item, "loc")))
        else:
            more.append((_text_of(item, "lastmod"), _text_of(item, "loc")))
    if kind == "urlset" or dated:
        # Newest first when the sitemap says when each page changed; otherwise as written.
        links.extend(loc for _, loc in sorted(dated, key=lambda p: p[0], reverse=True) if loc)
    nexts = [loc for _, loc in sorted(more, key=lambda p: p[0], reverse=True) if loc]
    return links, nexts


class FeedListParser(ListParser):
    kind = "feed"
    priority = 20

    def detect(self, html: str, url: str) -> bool:
        return bool(_ROOT.match(html[:2000]))

    def parse(
        self, html: str, url: str, link_selector: str | None, next_selector: str | None, block: str | None = None
    ) -> ListPage:
        root = parse_xml(html)
        if root is None:
            return ListPage((), (), self.kind)
        links, nexts = feed_links(root)
        absolute_links = [u for u in (absolute(h, url) for h in links) if u and same_site(u, url)]
        absolute_nexts = [u for u in (absolute(h, url) for h in nexts) if u and same_site(u, url)]
        return ListPage(unique(absolute_links, url), unique(absolute_nexts, url), self.kind)

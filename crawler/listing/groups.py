"""Link groups: every link of a list page grouped by its place in the page, and the main list among them.

Links are grouped by their place in the page (the chain of ancestor tags and classes; the classes of
the link and of item-level tags such as ``li`` and ``td`` are left out, as lists alternate them).
A group's score is the number of its links that look like articles (a title-length text, and a date
in the URL or in the text around the link), weighted by text length; the best group is the main
list. Navigation, footers and sidebars lose because their links carry no dates or short texts. Dated
sidebars can outscore a short column: a parser then ranks groups by what the page says about where
its list sits (``Affinity``, built by ``crawler.listing.column``) before the scores.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from crawler.listing.base import absolute, same_site
from crawler.listing.patterns import FOOTER_TEXT, MIN_TITLE_CHARS, NAV_TEXT, TEXT_DATE, URL_DATE

# Tags whose classes vary from item to item (odd/even, first, top, red/gray) and so are left out of a group key.
_ITEM_TAGS = frozenset({"a", "li", "tr", "td", "th", "dd", "dt", "span", "em", "strong", "b", "i", "font", "p"})
# Tags that bound the text searched for a date written beside a link.
_ITEM_BOUNDS = frozenset({"li", "tr", "dd", "dl", "p", "div", "article", "section", "table", "tbody"})
_MAX_ITEM_TEXT = 300
_MIN_GROUP_ARTICLES = 2
# Tags that hold one entry of a list; a plain title-and-date entry beats a card with pictures.
_CARD_ITEMS = frozenset({"li", "tr", "dd", "article", "body", "html"})
_CARD_WEIGHT = 0.5
# Ranks a group (by its key) ahead of its score; higher tuples win.
Affinity = Callable[[str], tuple[float, ...]]
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class LinkFacts:
    url: str
    text: str
    group: str
    titled: bool  # a text long enough to be a headline, not a navigation word
    dated: bool  # a date in the URL or beside the link
    card: bool = False  # its list item also holds a picture or several other links (a feed card, a carousel)


def element_text(element: HtmlElement) -> str:
    return _WS.sub(" ", element.text_content()).strip()


def group_key(anchor: HtmlElement) -> str:
    parts = []
    element: HtmlElement | None = anchor
    while element is not None and isinstance(element.tag, str):
        tag = element.tag
        classes = (element.get("class") or "").split()
        parts.append(tag if tag in _ITEM_TAGS or not classes else f"{tag}.{classes[0]}")
        element = element.getparent()
    return "/".join(reversed(parts))


def _date_beside(anchor: HtmlElement, own_text: str) -> bool:
    element = anchor.getparent()
    for _ in range(3):
        if element is None:
            return False
        text = element_text(element)
        if len(text) > _MAX_ITEM_TEXT:
            return False
        if TEXT_DATE.search(text.replace(own_text, " ")):
            return True
        if element.tag in _ITEM_BOUNDS:
            return False
        element = element.getparent()
    return False


def _is_card(anchor: HtmlElement) -> bool:
    element = anchor.getparent()
    while element is not None and element.tag not in _CARD_ITEMS:
        element = element.getparent()
    if element is None or element.tag in {"body", "html"}:
        return False
    if next(element.iter("img"), None) is not None:
        return True
    hrefs = {a.get("href") for a in element.iter("a")}
    return len(hrefs) > 2


def link_facts(root: HtmlElement, page_url: str) -> list[LinkFacts]:
    """Every same-site link of the page with what the ranking needs to know about it."""
    facts = []
    for anchor in root.iter("a"):
        url = absolute(anchor.get("href"), page_url)
        if url is None or not same_site(url, page_url):
            continue
        text = element_text(anchor)
        title = (anchor.get("title") or "").strip()
        shortened = not text or text.endswith(("...", "…")) or len(text) < MIN_TITLE_CHARS
        if len(title) > len(text) and shortened and not NAV_TEXT.match(text):  # a pager's 上一页 titled "Prev page"
            text = title
        titled = len(text) >= MIN_TITLE_CHARS and not NAV_TEXT.match(text) and not FOOTER_TEXT.search(text)
        split = urlsplit(url)
        dated = bool(URL_DATE.search(split.path + ("?" + split.query if split.query else "")))
        if titled and not dated:
            dated = _date_beside(anchor, text)
        facts.append(LinkFacts(url, text, group_key(anchor), titled, dated, titled and dated and _is_card(anchor)))
    return facts


def group_scores(facts: list[LinkFacts]) -> tuple[dict[str, float], dict[str, int]]:
    """Per group (in page order): the weighted score of its titled, dated links, and their number."""
    scores: dict[str, float] = {}
    counts: dict[str, int] = {}
    for f in facts:
        if f.titled and f.dated:
            weight = (1.0 + min(len(f.text), 40) / 20) * (_CARD_WEIGHT if f.card else 1.0)
            scores[f.group] = scores.get(f.group, 0.0) + weight
            counts[f.group] = counts.get(f.group, 0) + 1
    return scores, counts


def main_list_links(
    facts: list[LinkFacts], block: str | None = None, affinity: Affinity | None = None
) -> tuple[list[str], str | None]:
    """The titled links of the best-scoring group (see the module note), in page order, and its key.

    ``block``, the group chosen on the column's first page, wins whenever it has a titled link here:
    a last page holding one article must not lose to a sidebar holding two. ``affinity`` ranks the
    groups before their scores do (a CMS parser's knowledge of where the column's own list sits).
    """
    if block and any(f.group == block and f.titled for f in facts):
        return [f.url for f in facts if f.group == block and f.titled], block
    scores, counts = group_scores(facts)
    eligible = [g for g in scores if counts[g] >= _MIN_GROUP_ARTICLES]
    if not eligible:
        return [f.url for f in facts if f.titled and f.dated], None
    rank = affinity or (lambda g: ())
    best = max(eligible, key=lambda g: (*rank(g), scores[g]))  # the earlier group wins a tie
    return [f.url for f in facts if f.group == best and f.titled], best

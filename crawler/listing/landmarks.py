"""What a column page says about itself: the column's name, and which list that name heads.

A column page names its column in the ``<title>`` (``重点项目_鞍山市人民政府``), in TRS's
``<meta name="ColumnName">`` and as the breadcrumb's last step (``当前位置：首页 > 政务公开 > 重点项目``),
and heads its own list with that name (``<h2>重点项目</h2>``, ``<div class="lm">投资动态</div>``); a
sidebar is headed by its own name (``热点关注``, ``通知公告``), which is not the page's.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from crawler.listing.groups import element_text
from crawler.listing.patterns import CRUMB_OPENING, CRUMB_SEPARATORS, CRUMB_WORDS, NAV_TEXT, TITLE_SEPARATORS

_NAME_CHARS = (2, 20)  # a column's name: 动态 .. a long 信息公开 sub-column name
_MAX_CRUMB_CHARS = 150
_MAX_HEADING_CHARS = 40  # more text than this before a list is content, not its heading
_HEADING_LEVELS = 3  # how far above a list's container its heading may sit (h3 + ul; div.title + div > ul)
_WORD_SPLIT = re.compile(r"[\s_\-]+")
_WS = re.compile(r"\s+")
_NOT_TEXT = frozenset({"script", "style", "noscript", "template"})


def _words(element: HtmlElement) -> set[str]:
    return set(_WORD_SPLIT.split(f"{element.get('class') or ''} {element.get('id') or ''}".lower())) - {""}


def _is_name(text: str) -> bool:
    return _NAME_CHARS[0] <= len(text) <= _NAME_CHARS[1]


def _crumb_last_step(root: HtmlElement) -> str | None:
    """The last step of the page's breadcrumb, found by its class or id words or its opening words."""
    for element in root.iter("div", "p", "span", "td", "nav", "ol", "ul"):
        if not (_words(element) & CRUMB_WORDS or CRUMB_OPENING.match(element.text or "")):
            continue
        text = element_text(element)
        if len(text) <= _MAX_CRUMB_CHARS and CRUMB_SEPARATORS.search(text):
            step = _WS.sub("", CRUMB_SEPARATORS.split(text)[-1])
            if _is_name(step):  # not a utility class such as "position-relative" on some other box
                return step
    return None


def column_names(root: HtmlElement) -> set[str]:
    """The names the page gives its column: the title's parts, the ColumnName meta, the breadcrumb's end."""
    names = {part.strip() for part in TITLE_SEPARATORS.split(root.findtext(".//title") or "")}
    names |= {(meta.get("content") or "").strip() for meta in root.iter("meta") if meta.get("name") == "ColumnName"}
    names.add(_crumb_last_step(root) or "")
    return {_WS.sub("", name) for name in names if _is_name(_WS.sub("", name))}


def lowest_common_ancestor(elements: list[HtmlElement]) -> HtmlElement | None:
    """The deepest element holding all of ``elements`` (itself, for one)."""
    if not elements:
        return None
    common = [elements[0], *elements[0].iterancestors()]
    for element in elements[1:]:
        chain = {element, *element.iterancestors()}
        common = [e for e in common if e in chain]
    return common[0] if common else None


def heading_name(element: HtmlElement) -> str:
    """The text of a would-be heading without its links' navigation words (``热点关注 更多>>`` -> ``热点关注``)."""
    pieces = (_WS.sub("", piece) for piece in element.itertext())
    return "".join(piece for piece in pieces if not NAV_TEXT.match(piece))


def headed_by(container: HtmlElement, names: set[str]) -> bool:
    """Whether the nearest text before ``container`` (or before one of its near ancestors) is one of ``names``."""
    element: HtmlElement | None = container
    for _ in range(_HEADING_LEVELS):
        if element is None or element.tag in {"body", "html"}:
            return False
        for sibling in element.itersiblings(preceding=True):
            text = element_text(sibling) if isinstance(sibling.tag, str) and sibling.tag not in _NOT_TEXT else ""
            if text:  # only the nearest text heads a list; a breadcrumb's steps are no heading
                return len(text) <= _MAX_HEADING_CHARS and heading_name(sibling) in names
        element = element.getparent()
    return False

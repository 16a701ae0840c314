"""Where a column page's own list sits: beside its pager, under the column's name, under its folder.

Sidebars of dated links ("热点关注", "通知公告", "相关推荐", "排行") can be longer than the column's own
list, so the link-group score alone picks them. Three facts of the page say which block is the
column's, and rank the groups, in this order, before their scores:

1. the pager pages the list it sits with: the group whose links share the deepest ancestor with the
   pager element is that list. The pager is TRS's ``createPageHTML`` call, or the links to the
   list's other pages (``list.php?page=2``, ``index_1.html``) written as page numbers or
   首页/下一页/尾页 (``list_pager``); a carousel's arrows link nowhere (``javascript:``) and are no pager;
2. the column's name (in the title, the ColumnName meta, the breadcrumb) heads its own list, not a
   sidebar (``crawler.listing.landmarks``);
3. a column's articles live in subfolders of the column's folder (``/zwgk/zdxm/index.html`` lists
   ``./202303/t20230315_1.html``); sidebars point elsewhere in the site. Siblings of the page
   (``index_1.html``, ``information_3.html``) are its pager, not articles.

On a page without a pager, a matching heading or a column folder the score decides alone.
Container names are not used: "left"/"right" hold the column on some templates and the sidebar on
others, and on the real saved list pages ranking "side"/"sidebar" containers last moves 007
(news.qq.com) off the block its ground truth labels (``bench/eval_lists.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from lxml.html import HtmlElement

from crawler.listing.base import absolute
from crawler.listing.groups import Affinity, LinkFacts, element_text, group_key
from crawler.listing.landmarks import column_names, headed_by, lowest_common_ancestor
from crawler.listing.patterns import PAGER_TEXT

_MIN_COLUMN_SHARE = 0.5  # the share of a group's titled links under the folder that makes it the column's
_PAGE_NUMBER = re.compile(r"[_\-]?\d+$")  # index_1, index2, information_3, list-4


def column_folder(url: str) -> str | None:
    """``scheme://host/dir/`` of a column page, or None when the column is the site root."""
    split = urlsplit(url)
    folder = split.path.rsplit("/", 1)[0] + "/"
    if folder == "/":
        return None
    return f"{split.scheme}://{split.netloc}{folder}"


def folder_groups(facts: list[LinkFacts], url: str) -> set[str]:
    """The groups most of whose titled links are in subfolders of the column's folder (``./202303/``)."""
    folder = column_folder(url)
    if folder is None:
        return set()
    inside: dict[str, int] = {}
    total: dict[str, int] = {}
    for f in facts:
        if f.titled:
            total[f.group] = total.get(f.group, 0) + 1
            below = f.url.startswith(folder) and "/" in f.url[len(folder) :]  # not a sibling such as index_2.html
            inside[f.group] = inside.get(f.group, 0) + below
    return {g for g, n in total.items() if inside[g] >= _MIN_COLUMN_SHARE * n}


def _page_stem(path: str) -> tuple[str, str]:
    """(folder, file name without extension and page number): ``/news/index_2.html`` -> ("/news", "index")."""
    folder, _, name = path.rpartition("/")
    stem = name.rsplit(".", 1)[0] or "index"  # a folder URL serves its index page
    return folder, _PAGE_NUMBER.sub("", stem)


def is_other_page(url: str, page_url: str) -> bool:
    """Whether ``url`` is another page of the list at ``page_url``: the same path with another page
    parameter (``list.php?page=2``), or a file of the same folder named like it (``index_1.html``)."""
    here, there = urlsplit(page_url), urlsplit(url)
    if here.netloc != there.netloc or (here.path, here.query) == (there.path, there.query):
        return False
    if here.path == there.path:
        changed = set(parse_qsl(there.query)) ^ set(parse_qsl(here.query))
        return len({key for key, _ in changed}) == 1 and all(value.isdigit() for _, value in changed)
    return _page_stem(here.path) == _page_stem(there.path)


def list_pager(root: HtmlElement, page_url: str) -> HtmlElement | None:
    """The element holding the pager's links to the list's other pages (page numbers, 下一页, 尾页)."""
    links = [
        anchor
        for anchor in root.iter("a")
        if PAGER_TEXT.match(element_text(anchor))
        and (url := absolute(anchor.get("href"), page_url)) is not None
        and is_other_page(url, page_url)
    ]
    return lowest_common_ancestor(links)


def group_anchors(root: HtmlElement, groups: set[str]) -> dict[str, list[HtmlElement]]:
    """The links of each of ``groups``, in page order."""
    anchors: dict[str, list[HtmlElement]] = {}
    for anchor in root.iter("a"):
        key = group_key(anchor)
        if key in groups:
            anchors.setdefault(key, []).append(anchor)
    return anchors


def pager_depths(anchors: dict[str, list[HtmlElement]], pager: HtmlElement | None) -> dict[str, int]:
    """Per group, the depth of the deepest ancestor its first link shares with the pager element."""
    if pager is None:
        return {}
    depth_of = {e: d for d, e in enumerate(reversed([pager, *pager.iterancestors()]))}  # holds the proxies
    depths: dict[str, int] = {}
    for key, links in anchors.items():
        shared = next((e for e in links[0].iterancestors() if e in depth_of), None)
        depths[key] = depth_of[shared] if shared is not None else 0
    return depths


def named_groups(anchors: dict[str, list[HtmlElement]], names: set[str]) -> set[str]:
    """The groups headed by one of the column's names."""
    if not names:
        return set()
    boxes = {key: lowest_common_ancestor(links) for key, links in anchors.items()}
    return {key for key, box in boxes.items() if box is not None and headed_by(box, names)}


def column_affinity(root: HtmlElement, url: str, pager: HtmlElement | None) -> Callable[[list[LinkFacts]], Affinity]:
    """A ranking of link groups by nearness to ``pager``, then by the column's name, then by its folder."""

    def build(facts: list[LinkFacts]) -> Affinity:
        anchors = group_anchors(root, {f.group for f in facts if f.titled and f.dated})
        depths = pager_depths(anchors, pager)
        named = named_groups(anchors, column_names(root))
        folder = folder_groups(facts, url)
        return lambda g: (float(depths.get(g, 0)), float(g in named), float(g in folder))

    return build

"""Where a column page's own list sits: beside its pager, and under the column's folder.

Sidebars of dated links ("热点新闻", "相关推荐", "排行") can be longer than the column's own list, so
the link-group score alone picks them. Two facts of the page say which block is the column's:

- the pager (the TRS ``createPageHTML`` call) pages the list it sits with: the group whose links
  share the deepest ancestor with the pager element is that list;
- a column's articles live in subfolders of the column's folder (``/zwgk/zdxm/index.html`` lists
  ``./202303/t20230315_1.html``); sidebars point elsewhere in the site. Siblings of the page
  (``index_1.html``, ``information_3.html``) are its pager, not articles.

The pager comes first, the folder second, the score last. Neither says anything on a page without a
pager whose list is at the site root, and the ranking is then the score's alone. Only the TRS parser
uses this: on the real saved list pages a generic pager guess (">" links) is a carousel's arrows, so
nearness to it picks the carousel; the folder rule alone leaves those pages as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from crawler.listing.generic import Affinity, LinkFacts, group_key

_MIN_COLUMN_SHARE = 0.5  # the share of a group's titled links under the folder that makes it the column's


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


def pager_depths(root: HtmlElement, pager: HtmlElement | None, groups: set[str]) -> dict[str, int]:
    """Per group, the depth of the deepest ancestor its first link shares with the pager element."""
    if pager is None:
        return {}
    depth_of = {e: d for d, e in enumerate(reversed([pager, *pager.iterancestors()]))}  # holds the proxies
    depths: dict[str, int] = {}
    for anchor in root.iter("a"):
        key = group_key(anchor)
        if key in groups and key not in depths:
            shared = next((e for e in anchor.iterancestors() if e in depth_of), None)
            depths[key] = depth_of[shared] if shared is not None else 0
    return depths


def column_affinity(root: HtmlElement, url: str, pager: HtmlElement | None) -> Callable[[list[LinkFacts]], Affinity]:
    """A ranking of link groups by nearness to ``pager``, then by lying under the column's folder."""

    def build(facts: list[LinkFacts]) -> Affinity:
        groups = {f.group for f in facts if f.titled and f.dated}
        depths = pager_depths(root, pager, groups)
        folder = folder_groups(facts, url)
        return lambda g: (float(depths.get(g, 0)), float(g in folder))

    return build

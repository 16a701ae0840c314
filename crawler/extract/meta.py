"""Read the <meta> tags gov CMSs (TRS, Hanweb) and news sites put the article's facts in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lxml.html import HtmlElement

from crawler.extract.dates import parse_date
from crawler.extract.patterns import (
    META_DATE_KEYS,
    META_GOV_TITLE_KEYS,
    META_PAGE_TITLE_KEYS,
    META_SITE_NAME_KEYS,
    META_SOURCE_KEYS,
)
from crawler.extract.titles import normalize_space

_KEY_ATTRIBUTES = ("name", "property", "itemprop", "http-equiv")


@dataclass(frozen=True)
class MetaFacts:
    title: str | None  # a gov CMS title field (ArticleTitle)
    page_title: str | None  # og:title and the like, often with a site suffix
    published: date | None
    source: str | None
    site_name: str | None = None


def meta_map(tree: HtmlElement) -> dict[str, str]:
    """Lower-cased, stripped meta key -> first non-empty content ("og:time " becomes "og:time")."""
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        content = element.get("content")
        content = normalize_space(content) if content else None
        if not content:
            continue
        for attribute in _KEY_ATTRIBUTES:
            key = element.get(attribute)
            if not key:
                continue  # most meta tags have one of the four: skip the others' normalising
            key = normalize_space(key).lower()
            if key and key not in found:
                found[key] = content
    return found


def _first(values: dict[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if values.get(key):
            return values[key]
    return None


def _meta_date(values: dict[str, str]) -> date | None:
    for key in META_DATE_KEYS:
        found = parse_date(values.get(key))
        if found is not None:
            return found
    return None


def read_meta(tree: HtmlElement) -> MetaFacts:
    values = meta_map(tree)
    return MetaFacts(
        title=_first(values, META_GOV_TITLE_KEYS),
        page_title=_first(values, META_PAGE_TITLE_KEYS),
        published=_meta_date(values),
        source=_first(values, META_SOURCE_KEYS),
        site_name=_first(values, META_SITE_NAME_KEYS),
    )

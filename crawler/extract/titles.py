"""Clean a headline: drop site-name suffixes from <title>, repair a quote the portal cut off."""

from __future__ import annotations

import re

from crawler.extract.patterns import QUOTE_PAIRS, TITLE_SEPARATOR_RE, TITLE_SUFFIX_MAX

_TAG_RE = re.compile(r"<[^>]{0,200}>")  # editors paste markup into meta titles ("<div>——副题</div>")
_TRAILING_SEPARATORS = " -_|｜–"
_NON_WORD_RE = re.compile(r"\W+")


def normalize_space(text: str) -> str:
    r"""Runs of whitespace (full-width and no-break spaces too) as one space, none at the ends.

    ``str.split()`` splits on exactly the characters ``\s`` matches in a str pattern (\u3000 and
    \u00a0 among them), so this is ``re.sub(r"[\s\u3000\u00a0]+", " ", text).strip()``, at a
    fraction of the cost: it runs on every text node of every page.
    """
    return " ".join(text.split())


def strip_site_suffix(title: str) -> str:
    """Remove trailing " -某某网" / "_某某市人民政府" / "|栏目" segments, one at a time.

    A segment is a site name only when it is short and shorter than what precedes it, so that
    "新华视界｜河北遵化：数字农机服务…" keeps its long second half.
    """
    while True:
        matches = list(TITLE_SEPARATOR_RE.finditer(title))
        if not matches:
            return title
        last = matches[-1]
        head, tail = title[: last.start()].strip(), title[last.end() :].strip()
        if not tail:
            title = head
            continue
        if len(tail) > TITLE_SUFFIX_MAX or len(head) < 4 or len(tail) >= len(head):
            return title
        title = head


def repair_quotes(title: str) -> str:
    """Close an opening quote left dangling at the end ("跑出“加速度" -> "跑出“加速度”")."""
    for opening, closing in QUOTE_PAIRS:
        if title.count(opening) == title.count(closing) + 1 and title.rfind(opening) > title.rfind(closing):
            title += closing
    return title


def clean_title(raw: str | None) -> str | None:
    """A headline without site suffix, with balanced trailing quotes; None when nothing is left."""
    if not raw:
        return None
    title = strip_site_suffix(normalize_space(_TAG_RE.sub("", raw))).strip(_TRAILING_SEPARATORS)
    title = repair_quotes(title)
    return title or None


def _key(text: str) -> str:
    return _NON_WORD_RE.sub("", text)


def choose_title(gov_meta: str | None, page_titles: list[str], headings: list[str], fallback: str | None) -> str | None:
    """Pick the headline.

    A gov CMS meta title (ArticleTitle) is the editor's own field and wins. Otherwise the longest
    <h1>/<h2> that a page title (og:title, <title>) repeats is the headline: the repetition tells
    the headline from a logo heading, and the heading carries no site suffix.
    """
    title = clean_title(gov_meta)
    if title:
        return title
    keys = [_key(t) for t in page_titles if t]
    confirmed: list[str] = []
    for heading in headings:
        heading_key = _key(heading)
        if len(heading_key) >= 4 and any(heading_key in key for key in keys):
            confirmed.append(normalize_space(heading))
    if confirmed:
        return clean_title(max(confirmed, key=len))
    for candidate in [*page_titles, fallback, *headings[:1]]:
        title = clean_title(candidate)
        if title:
            return title
    return None

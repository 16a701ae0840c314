"""Parse a plain-text article (a scraped .txt): headline, info-bar meta lines, body."""

from __future__ import annotations

from dataclasses import dataclass, field

from crawler.extract.chrome import is_chrome_line, strip_chrome
from crawler.extract.dates import bare_date_near_top, labelled_date
from crawler.extract.patterns import DATE_RE, META_LINE_RE, SOURCE_LINE_RE
from crawler.extract.titles import clean_title
from crawler.models import Article

_HEADLINE_MAX = 80
_HEADLINE_MIN = 4
_META_LINE_MAX = 80


@dataclass(frozen=True)
class PlainParts:
    """A text split the way a portal page lays it out: headline, info bar, body (raw lines)."""

    headline: str | None
    meta: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)


def is_meta_line(line: str) -> bool:
    """An info-bar line: a label with a colon (时间/来源/點擊 …) or a short line that is a date."""
    text = line.strip()
    if not text or len(text) > _META_LINE_MAX or "。" in text:
        return False
    if META_LINE_RE.match(text):
        return True
    # "//shuangyashan.dbw.cn  2022-08-05 08:28:29": a date with at most a site name beside it.
    match = DATE_RE.search(text)
    if match is None:
        return False
    return len(text) - (match.end() - match.start()) <= 40 and not _has_cjk_prose(text)


def _has_cjk_prose(text: str) -> bool:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text) > 8


def is_headline_like(line: str) -> bool:
    text = line.strip()
    if not (_HEADLINE_MIN <= len(text) <= _HEADLINE_MAX) or is_meta_line(text):
        return False
    # A sentence-final full stop makes it the first paragraph; a headline may end with ？ or ！.
    return not text.endswith(("。", ".", "；", ";", "：", ":")) and text.count("。") == 0


def split_plain_text(text: str) -> PlainParts:
    """Split a text into headline, the meta lines right after it, and everything else as body.

    Chrome lines before the headline stay in the body so a renderer reproduces the residue.
    """
    lines = text.splitlines()
    body: list[str] = []
    index = 0
    while index < len(lines) and (
        not lines[index].strip() or (is_chrome_line(lines[index]) and not is_meta_line(lines[index]))
    ):
        if lines[index].strip():
            body.append(lines[index])
        index += 1
    headline: str | None = None
    if index < len(lines) and not is_meta_line(lines[index]) and is_headline_like(lines[index]):
        headline = lines[index]
        index += 1
    meta: list[str] = []
    while index < len(lines) and (not lines[index].strip() or is_meta_line(lines[index])):
        if lines[index].strip():
            meta.append(lines[index])
        index += 1
    body.extend(lines[index:])
    return PlainParts(headline=headline, meta=meta, body=body)


def _source(meta: list[str]) -> str | None:
    for line in meta:
        match = SOURCE_LINE_RE.search(line)
        if match:
            return match.group(1)
    return None


def extract_plain_text(text: str, url: str | None = None) -> Article:
    """An Article from a plain-text file: headline, date from meta or top lines, filtered body."""
    parts = split_plain_text(text)
    top = ([parts.headline] if parts.headline else []) + parts.meta
    published = labelled_date(parts.meta) or bare_date_near_top(top + parts.body[:3])
    return Article(
        url=url,
        title=clean_title(parts.headline),
        published=published,
        text=strip_chrome("\n".join(parts.body)),
        source=_source(parts.meta),
        date_from="text" if published else None,
        warnings=() if text.strip() else ("empty text",),
    )

"""Find an article's publishing date: parse date strings, labelled info-bar lines, htmldate."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from lxml.html import HtmlElement

from crawler.extract.patterns import (
    COMPACT_DATE_RE,
    CURRENT_DATE_WIDGET_RE,
    DATE_LABEL_RE,
    DATE_RE,
    NOT_PUBLISH_PREFIX_RE,
)

_EARLIEST = date(1990, 1, 1)  # no Chinese news portal predates this; earlier "dates" are noise
_NEAR_TOP_LINES = 6
_DATE_LINE_MAX = 60
_AFTER_HEADLINE_LINES = 30


def _valid(year: int, month: int, day: int, today: date | None = None) -> date | None:
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    # A future date is a countdown, an event or a typo, never when the article was published.
    if found < _EARLIEST or found > (today or date.today()):
        return None
    return found


def parse_date(value: str | None) -> date | None:
    """The first plausible calendar date in a string: 2023-04-04, 2023/4/4, 2023年4月4日, 20230404."""
    if not value:
        return None
    value = value.strip()
    match = DATE_RE.search(value)
    if match:
        return _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    compact = COMPACT_DATE_RE.match(value)
    if compact:
        return _valid(int(compact.group(1)), int(compact.group(2)), int(compact.group(3)))
    return None


def labelled_date(lines: Iterable[str]) -> date | None:
    """The date of the first line that labels one as published (发布时间/日期/時間 …)."""
    for line in lines:
        for match in DATE_LABEL_RE.finditer(line):
            before = line[: match.start()]
            # "成文日期：…" is the drafting date of a gov document, not its publishing date.
            if NOT_PUBLISH_PREFIX_RE.search(before.rstrip()):
                continue
            found = parse_date(match.group(1))
            if found is not None:
                return found
    return None


def bare_date_near_top(lines: list[str]) -> date | None:
    """A date standing on a short line near the top ("//shuangyashan.dbw.cn  2022-08-05 08:28:29")."""
    seen = 0
    for line in lines:
        text = line.strip()
        if not text:
            continue
        seen += 1
        if seen > _NEAR_TOP_LINES:
            break
        if len(text) <= _DATE_LINE_MAX and "。" not in text and DATE_RE.search(text):
            found = parse_date(text)
            if found is not None:
                return found
    return None


def _key(text: str) -> str:
    return re.sub(r"\W+", "", text)


def date_after_headline(lines: list[str], headline: str | None) -> date | None:
    """The info-bar date: the first short dated line just below the headline.

    Starting at the headline skips the "今天是2024年5月20日 星期一" widget in portal headers;
    stopping after a few dozen lines keeps the dated related-news list below the article out.
    """
    start = 0
    key = _key(headline or "")
    if key:
        for index, line in enumerate(lines):
            line_key = _key(line)
            if key in line_key and len(line_key) <= len(key) + 30:
                start = index + 1
                break
        else:
            return None
    for line in lines[start : start + _AFTER_HEADLINE_LINES]:
        text = line.strip()
        if len(text) > _DATE_LINE_MAX or "。" in text or CURRENT_DATE_WIDGET_RE.search(text):
            continue
        found = parse_date(text) if DATE_RE.search(text) else None
        if found is not None:
            return found
    return None


def is_written_in(found: date, document: str) -> bool:
    """True when the document spells out this full date (2023-04-04, 2023年4月4日, 2023/04/04, 20230404)."""
    pattern = rf"{found.year}(?:\s*[-/.年]\s*)?0?{found.month}(?:\s*[-/.月]\s*)?0?{found.day}(?!\d)"
    if found.month < 10 or found.day < 10:
        # Compact forms need both zero pads: 2023-1-1 can't be told from 20231 1 otherwise.
        pattern += rf"|{found.year}{found.month:02d}{found.day:02d}(?!\d)"
    return re.search(pattern, document) is not None


def htmldate_date(tree: HtmlElement, url: str | None, document: str = "") -> date | None:
    """htmldate's original-publication guess, capped at today, kept only when the page spells it.

    htmldate's extensive search turns a bare year in prose ("2023年是…") into January 1st; a
    date the page never writes out in full is such a guess, and no date beats a wrong one.
    """
    import htmldate  # here, as trafilatura (which loads it) in crawler.extract.html

    try:
        found = htmldate.find_date(
            tree, original_date=True, extensive_search=True, url=url, max_date=date.today().isoformat()
        )
    except Exception:  # htmldate parses arbitrary markup; a crash must only cost us the date
        return None
    guess = parse_date(found)
    if guess is None or not (document or url):
        return guess
    return guess if is_written_in(guess, f"{url or ''} {document}") else None

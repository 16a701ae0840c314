"""The chrome-line filter: drop portal residue (footer, share bar, credits, counters) line by line.

An extractor's content block still carries lines that belong to the portal, not the article.
They are recognised by vocabulary (``patterns``) and by shape: link bars of short tokens,
breadcrumbs, bracketed buttons, and the tail of short sentence-less lines after the last
real paragraph. Old table layouts reach us as "| cell | cell |" rows; each cell is judged alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from crawler.extract.patterns import (
    BRACKET_TOKEN_RE,
    BREADCRUMB_RE,
    CHROME_ANYWHERE,
    CHROME_ANYWHERE_LATIN,
    CHROME_IN_SHORT_LINE,
    CHROME_LINE_MAX,
    CHROME_WHOLE_LINE,
    COPYRIGHT_MARKERS,
    COPYRIGHT_MARKERS_LATIN,
    COPYRIGHT_RE,
    COPYRIGHT_SHORT_MAX,
    CREDIT_LINE_RE,
    DATE_RE,
    IMAGE_NAME_RE,
    INFO_BAR_ONLY_LABEL_RE,
    META_LABEL_ANYWHERE_RE,
    META_LINE_RE,
    NAV_MIN_TOKENS,
    NAV_TOKEN_MAX,
    NAV_WORDS,
    PARAGRAPH_MIN,
    SENTENCE_END_RE,
    SHORT_LINE_MAX,
    SIGNATURE_RE,
    TAIL_SHORT_MAX,
)

# Separators of link bars ("网站首页 | 网站地图 | 联系方式") and runs of spaces between links.
_BAR_SPLIT_RE = re.compile(r"\s*(?:[|｜丨/·•]|\\\|| - )\s*|\s{2,}|\u3000+")
_EDGE_JUNK = " \t\u3000\u00a0|｜丨·•-–—>»■□▪◆◇●○【】[]()（）\\"
_TABLE_CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")


# Every character a letter a-z matches when case is ignored: A-Z, a-z, İ, ı, ſ and the Kelvin sign.
_LATIN_RE = re.compile("[A-Za-z\u0130\u0131\u017f\u212a]")


def _alternation(patterns: Iterable[str]) -> re.Pattern[str]:
    # Joined bare rather than each in (?:…): the same alternatives in the same order, but when all of them
    # start with a plain character the regex engine skips ahead to those characters (CHROME_ANYWHERE: 5x
    # faster; a group hides them from it).
    return re.compile("|".join(patterns), re.IGNORECASE)


@lru_cache(maxsize=1)
def _anywhere_re() -> re.Pattern[str]:
    return _alternation(CHROME_ANYWHERE)


@lru_cache(maxsize=1)
def _anywhere_latin_re() -> re.Pattern[str]:
    return _alternation(CHROME_ANYWHERE_LATIN)


@lru_cache(maxsize=1)
def _copyright_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """COPYRIGHT_MARKERS without and with Latin letters, to tell quickly that a line has none."""
    return (
        _alternation([m for m in COPYRIGHT_MARKERS if m not in COPYRIGHT_MARKERS_LATIN]),
        _alternation([m for m in COPYRIGHT_MARKERS if m in COPYRIGHT_MARKERS_LATIN]),
    )


def _has_latin_match(pattern: re.Pattern[str], text: str) -> bool:
    """``pattern.search(text)`` for a pattern whose every match holds a Latin letter: a line without one
    (most article lines) is passed over by a quick scan instead of the slow case-ignoring one."""
    return _LATIN_RE.search(text) is not None and pattern.search(text) is not None


@lru_cache(maxsize=1)
def _short_line_re() -> re.Pattern[str]:
    return _alternation(CHROME_IN_SHORT_LINE)


@lru_cache(maxsize=1)
def _whole_re() -> re.Pattern[str]:
    return _alternation(CHROME_WHOLE_LINE)


def is_sentence(line: str) -> bool:
    """True when the line reads as prose: it has sentence punctuation or paragraph length."""
    return bool(SENTENCE_END_RE.search(line)) or len(line) >= PARAGRAPH_MIN


def _tokens(line: str) -> list[str]:
    tokens = (t.strip(_EDGE_JUNK) for t in _BAR_SPLIT_RE.split(line))
    return [t for t in tokens if t]


def _is_bar(line: str) -> bool:
    """A link bar: only chrome tokens ("网站首页 | 网站地图"), or many short nav tokens ("首页 | 新闻 | 股市 …")."""
    tokens = _tokens(line)
    if not tokens:
        return False
    if all(_whole_re().fullmatch(t) for t in tokens):
        return True
    return (
        len(tokens) >= NAV_MIN_TOKENS
        and all(len(t) <= NAV_TOKEN_MAX and not SENTENCE_END_RE.search(t) for t in tokens)
        and any(t in NAV_WORDS for t in tokens)
    )


def _is_button_bar(text: str) -> bool:
    """Bracketed widget buttons: "页面功能 【我来说两句】【推荐】【字体：大 中 小】【打印】"."""
    buttons = BRACKET_TOKEN_RE.findall(text)
    if len(buttons) < 2:
        return False
    rest = BRACKET_TOKEN_RE.sub(" ", text).strip(_EDGE_JUNK)
    return not rest or bool(_whole_re().fullmatch(rest)) or (len(rest) <= 8 and ":" not in rest)


def _is_copyright(text: str) -> bool:
    # Spaced-out notices ("人 民 网 版 权 所 有") are matched with the spaces removed (str.split()
    # splits on what \s matches, full-width and no-break spaces included; faster than a regex).
    squeezed = "".join(text.split())
    plain, latin = _copyright_res()
    if plain.search(squeezed) is None and not _has_latin_match(latin, squeezed):
        return False  # no marker at all, the usual case: no need to count them
    markers = len(COPYRIGHT_RE.findall(squeezed))
    if not markers:
        return False
    # A sentence that mentions 版权所有 once is prose; notices are short, have no 。, or pile
    # up markers ("版权所有，未经授权禁止转载。").
    return len(text) <= COPYRIGHT_SHORT_MAX or "。" not in text or markers >= 2


def _is_meta_line(line: str) -> bool:
    """An info-bar line ("发布时间：2023-04-04 来源：… 浏览：…") rather than prose.

    A lone "时间：5月6日上午" is a notice's content (when a meeting is), so an info bar needs a
    full date, a second label, or a label that only info bars use (来源, 点击, 作者 …).
    """
    match = META_LINE_RE.match(line)
    if not match or len(line) > CHROME_LINE_MAX or "。" in line:
        return False
    return (
        bool(DATE_RE.search(line))
        or len(META_LABEL_ANYWHERE_RE.findall(line)) >= 2
        or bool(INFO_BAR_ONLY_LABEL_RE.match(line))
    )


def is_chrome_line(line: str) -> bool:
    """True when a single line is portal chrome by its content alone (no context needed)."""
    text = line.strip()
    if not text:
        return False
    if _anywhere_re().search(text) or _has_latin_match(_anywhere_latin_re(), text) or _is_copyright(text):
        return True
    if len(text) <= SHORT_LINE_MAX and _short_line_re().search(text):
        return True
    if len(text) > CHROME_LINE_MAX:
        return False
    core = text.strip(_EDGE_JUNK)
    if not core:
        return True  # a line of separators only
    if _whole_re().fullmatch(core) or _is_bar(text) or _is_button_bar(text):
        return True
    if BREADCRUMB_RE.search(core) and not is_sentence(core):
        return True
    if CREDIT_LINE_RE.match(text) or IMAGE_NAME_RE.match(text):
        return True
    return _is_meta_line(text)


def _is_table_row(line: str) -> bool:
    text = line.strip()
    return len(text) > 1 and text.startswith("|") and text.endswith("|")


def _filter_row(line: str) -> list[str]:
    """Judge a "| a | b |" row cell by cell: a layout table's cells are separate blocks.

    A row of several surviving cells is kept as a row (a real data table); a row left with one
    cell is unwrapped into a plain line, as layout tables hold one text block per cell.
    """
    # Only a bar is judged on the whole row: one row of a layout table may hold both the
    # article cell and a footer cell, and the footer must not take the article with it.
    if _is_bar(line):
        return []
    cells = [c.strip() for c in _TABLE_CELL_SPLIT_RE.split(line.strip())[1:-1]]
    kept = [c for c in cells if c.strip(_EDGE_JUNK) and not is_chrome_line(c)]
    if len(kept) <= 1:
        return kept
    # A bullet cell before a short title is a related-links list item ("| · | 标题 |").
    if len(cells) == 2 and not cells[0].strip(_EDGE_JUNK) and not is_sentence(cells[1]):
        return []
    return ["| " + " | ".join(kept) + " |"]


def _is_keepable_tail(line: str) -> bool:
    """Short closing lines that belong to the article: a signature (issuing body) or its date."""
    core = line.strip()
    return bool(SIGNATURE_RE.search(core)) or bool(DATE_RE.fullmatch(core))


def _trim_tail(lines: list[str]) -> list[str]:
    """Drop short non-sentence lines after the last real paragraph ("丹阳视觉", "丹阳热点")."""
    end = len(lines)
    while end > 0:
        line = lines[end - 1].strip().strip("|").strip()
        if not line:
            end -= 1
            continue
        if is_sentence(line) or len(line) > TAIL_SHORT_MAX or _is_keepable_tail(line):
            break
        end -= 1
    if end == len(lines):
        return lines
    # Never trim an article down to nothing: a text of short lines only is kept whole.
    if not any(is_sentence(x.strip()) for x in lines[:end]):
        return lines
    return lines[:end]


def _filter_lines(text: str) -> list[str]:
    kept: list[str] = []
    for line in text.splitlines():
        if _is_table_row(line):
            kept.extend(_filter_row(line))
        elif not is_chrome_line(line):
            kept.append(line.rstrip())
    return kept


def strip_chrome(text: str) -> str:
    """Remove chrome lines from extracted text; blank lines and prose are kept, tail trimmed."""
    kept = _trim_tail(_filter_lines(text))
    out: list[str] = []
    for line in kept:
        if not line.strip() and (not out or not out[-1].strip()):
            continue  # collapse the blank runs left where chrome was removed
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)

"""The matching form of a text and its paragraph / sentence / clause structure.

Matching runs on a Simplified, width-normalised copy that has exactly the same length as the
article text, so every offset found in it is an offset in the article: output wording is
always sliced from the original (Traditional stays Traditional).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from crawler.rules.ruleset import RuleSet

# Full-width digits and Latin letters, the ideographic space, ．％－: one char each, same length.
_WIDTH = {0xFF10 + i: 0x30 + i for i in range(10)}
_WIDTH.update({0xFF21 + i: 0x41 + i for i in range(26)})
_WIDTH.update({0xFF41 + i: 0x61 + i for i in range(26)})
_WIDTH.update({0x3000: 0x20, 0xFF0E: 0x2E, 0xFF05: 0x25, 0xFF0D: 0x2D})


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc  # imported lazily: no converter is built at import time

    return opencc.OpenCC("t2s")


def _convert_same_length(text: str) -> str:
    """t2s, falling back line by line, then char by char, wherever a phrase changed the length."""
    cc = _converter()
    whole: str = cc.convert(text)
    if len(whole) == len(text):
        return whole
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        conv: str = cc.convert(line)
        if len(conv) != len(line):
            conv = "".join(c if len(c := cc.convert(ch)) == 1 else ch for ch in line)
        out.append(conv)
    return "".join(out)


def matching_text(text: str) -> str:
    """Simplified Chinese, half-width digits and letters; same length as ``text``."""
    return _convert_same_length(text).translate(_WIDTH) if text else text


@dataclass(frozen=True, slots=True)
class Doc:
    """A text prepared for the rules, with its structure as sorted boundary offsets."""

    text: str  # the original
    s: str  # the matching form, same length
    paragraphs: tuple[int, ...]  # start offsets of lines
    sentences: tuple[int, ...]  # start offsets of sentences (lines included)
    clauses: tuple[int, ...]  # start offsets of clauses (sentences included)

    def _span(self, starts: tuple[int, ...], pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(starts, pos) - 1
        start = starts[i] if i >= 0 else 0
        end = starts[i + 1] if i + 1 < len(starts) else len(self.s)
        return start, end

    def paragraph(self, pos: int) -> tuple[int, int]:
        return self._span(self.paragraphs, pos)

    def paragraph_index(self, pos: int) -> int:
        return bisect.bisect_right(self.paragraphs, pos) - 1

    def sentence(self, pos: int) -> tuple[int, int]:
        return self._span(self.sentences, pos)

    def clause(self, pos: int) -> tuple[int, int]:
        return self._span(self.clauses, pos)

    def window(self, span: tuple[int, int], pos: int, width: int) -> tuple[int, int]:
        """``span`` clipped to ``width`` chars on either side of ``pos``."""
        return max(span[0], pos - width), min(span[1], pos + width)


def _is_decimal_point(s: str, i: int) -> bool:
    return 0 < i < len(s) - 1 and s[i - 1].isdigit() and s[i + 1].isdigit()


def prepare(text: str, rules: RuleSet) -> Doc:
    """Convert once and record where each paragraph, sentence and clause starts."""
    s = matching_text(text)
    paragraphs, sentences, clauses = [0], [0], [0]
    sentence_ends, clause_ends = rules.text.sentence_ends, rules.text.clause_ends
    points = rules.money.decimal_points
    for match in rules.text.boundary.finditer(s):
        i, ch = match.start(), match.group()
        if ch == "\n":
            paragraphs.append(i + 1)
            sentences.append(i + 1)
            clauses.append(i + 1)
        elif ch in sentence_ends:
            if ch in points and _is_decimal_point(s, i):  # 132。9亿元
                continue
            sentences.append(i + 1)
            clauses.append(i + 1)
        elif ch in clause_ends and not (ch == "," and _is_decimal_point(s, i)):
            clauses.append(i + 1)
    return Doc(text=text, s=s, paragraphs=tuple(paragraphs), sentences=tuple(sentences), clauses=tuple(clauses))

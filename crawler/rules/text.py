"""The matching form of a text and its paragraph / sentence / clause structure.

Matching runs on a Simplified, width-normalised copy that has exactly the same length as the
article text, so every offset found in it is an offset in the article: output wording is
always sliced from the original (Traditional stays Traditional).
"""

from __future__ import annotations

import re
from bisect import bisect_right
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


_WIDE = re.compile("[" + "".join(chr(c) for c in _WIDTH) + "]")


def matching_text(text: str) -> str:
    """Simplified Chinese, half-width digits and letters; same length as ``text``."""
    if not text:
        return text
    simple = _convert_same_length(text)
    return simple.translate(_WIDTH) if _WIDE.search(simple) else simple


@dataclass(frozen=True, slots=True)
class Origin:
    """Where each character of a matching form with noise dropped comes from in the text, as runs:
    run k starts at ``starts[k]`` in the matching form and at ``froms[k]`` in the text. Indexed like
    the list of every character's offset, without building it (a thousand ints per article)."""

    starts: tuple[int, ...]
    froms: tuple[int, ...]
    size: int

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> int:
        if i < 0:
            i += self.size  # from the end, as a list
        if not 0 <= i < self.size:
            raise IndexError("origin index out of range")
        k = bisect_right(self.starts, i) - 1
        return self.froms[k] + i - self.starts[k]


@dataclass(frozen=True, slots=True)
class Doc:
    """A text prepared for the rules, with its structure as sorted boundary offsets."""

    text: str  # the original
    s: str  # the matching form
    paragraphs: tuple[int, ...]  # start offsets of lines
    sentences: tuple[int, ...]  # start offsets of sentences (lines included)
    clauses: tuple[int, ...]  # start offsets of clauses (sentences included)
    origin: Origin | None = None  # origin[i]: offset in text of s[i]; None when s is as long as text

    def at(self, i: int) -> int:
        """The offset in the original text of position ``i`` of the matching form."""
        if self.origin is None:
            return i
        return self.origin[i] if i < len(self.origin) else len(self.text)

    def end_at(self, i: int) -> int:
        """The original offset just after the character before position ``i``."""
        if self.origin is None or i <= 0:
            return i if self.origin is None else 0
        return self.origin[min(i, len(self.origin)) - 1] + 1

    def orig(self, start: int, end: int) -> str:
        """The original wording of s[start:end]."""
        return self.text[self.at(start) : self.end_at(end)] if end > start else ""

    def _span(self, starts: tuple[int, ...], pos: int) -> tuple[int, int]:
        i = bisect_right(starts, pos)  # starts[i - 1] <= pos < starts[i]
        return (starts[i - 1] if i else 0), (starts[i] if i < len(starts) else len(self.s))

    def paragraph(self, pos: int) -> tuple[int, int]:
        return self._span(self.paragraphs, pos)

    def paragraph_index(self, pos: int) -> int:
        return bisect_right(self.paragraphs, pos) - 1

    def sentence(self, pos: int) -> tuple[int, int]:
        return self._span(self.sentences, pos)

    def clause(self, pos: int) -> tuple[int, int]:
        return self._span(self.clauses, pos)

    def window(self, span: tuple[int, int], pos: int, width: int) -> tuple[int, int]:
        """``span`` clipped to ``width`` chars on either side of ``pos``."""
        return max(span[0], pos - width), min(span[1], pos + width)


def _is_decimal_point(s: str, i: int) -> bool:
    return 0 < i < len(s) - 1 and s[i - 1].isdigit() and s[i + 1].isdigit()


def _drop_noise(m: str, rules: RuleSet) -> tuple[str, Origin | None]:
    """Drop pinyin glosses (項(xiàng)目) and spaces inside Chinese (3. 5亿元); map positions back."""
    cuts: list[tuple[int, int]] = []
    for match in rules.text.noise.finditer(m):
        a, b = match.span()
        between_words = a > 0 and b < len(m) and m[a - 1].isascii() and m[a - 1].isalpha()
        if match.group().isspace() and between_words and m[b].isascii() and m[b].isalpha():
            continue  # "Mysteel reports": a space between two Latin words stays
        cuts.append((a, b))
    if not cuts:
        return m, None
    parts: list[str] = []
    starts: list[int] = []
    froms: list[int] = []
    size = last = 0
    for a, b in [*cuts, (len(m), len(m))]:
        if a > last:  # the run kept before this cut
            parts.append(m[last:a])
            starts.append(size)
            froms.append(last)
            size += a - last
        last = b
    return "".join(parts), Origin(tuple(starts), tuple(froms), size)


def prepare(text: str, rules: RuleSet) -> Doc:
    """Convert once and record where each paragraph, sentence and clause starts."""
    s, origin = _drop_noise(matching_text(text), rules)
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
    return Doc(text, s, tuple(paragraphs), tuple(sentences), tuple(clauses), origin)

"""The matching form of a text and its paragraph / sentence / clause structure.

Matching runs on a Simplified, width-normalised copy that has exactly the same length as the
article text, so every offset found in it is an offset in the article: output wording is
always sliced from the original (Traditional stays Traditional).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Hashable
from dataclasses import dataclass, field
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


# One wide character to look for, not a run: a pattern opening with a repeat makes the engine try every
# place of the text, where one opening with a character class skips to such characters.
_WIDE = re.compile("[" + "".join(chr(c) for c in _WIDTH) + "]")
_WIDE_RUN = re.compile(_WIDE.pattern + "+")


def _narrow(match: re.Match[str]) -> str:
    return match.group().translate(_WIDTH)


def matching_text(text: str) -> str:
    """Simplified Chinese, half-width digits and letters; same length as ``text``."""
    if not text:
        return text
    simple = _convert_same_length(text)
    # Only the runs of wide characters are translated: translate() looks every character of a Chinese
    # text up in the table, at ten times the cost of the search.
    return _WIDE_RUN.sub(_narrow, simple) if _WIDE.search(simple) else simple


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
        return self.offset(i)

    def offset(self, i: int) -> int:
        """``self[i]`` for 0 <= i < size, without the checks (Doc.at has made them)."""
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
    memos: dict[int, tuple[RuleSet, dict[Hashable, Any]]] = field(default_factory=dict, compare=False, repr=False)

    def memo(self, rules: RuleSet) -> dict[Hashable, Any]:
        """Where pure functions of this text keep what they found under ``rules``, for the calls that
        ask again (a figure's kind and its binding both read the name after it)."""
        held = self.memos.get(id(rules))
        if held is None or held[0] is not rules:  # the rules held here keep their id from being reused
            held = self.memos[id(rules)] = (rules, {})
        return held[1]

    def at(self, i: int) -> int:
        """The offset in the original text of position ``i`` of the matching form."""
        origin = self.origin
        if origin is None:
            return i
        if i >= origin.size:
            return len(self.text)
        return origin.offset(i) if i >= 0 else origin[i]

    def end_at(self, i: int) -> int:
        """The original offset just after the character before position ``i``."""
        origin = self.origin
        if origin is None or i <= 0:
            return i if origin is None else 0
        j = (i if i < origin.size else origin.size) - 1
        return (origin.offset(j) if j >= 0 else origin[j]) + 1

    def orig(self, start: int, end: int) -> str:
        """The original wording of s[start:end]."""
        if end <= start:
            return ""
        if self.origin is None:  # the text is its matching form's length: at() and end_at() are identities
            return self.text[start:end]
        return self.text[self.at(start) : self.end_at(end)]

    # paragraph, sentence and clause each look their span up themselves, not through a shared helper:
    # they are asked a hundred times per article, and the extra call was a tenth of their cost.

    def paragraph(self, pos: int) -> tuple[int, int]:
        starts = self.paragraphs
        i = bisect_right(starts, pos)  # starts[i - 1] <= pos < starts[i]
        return (starts[i - 1] if i else 0), (starts[i] if i < len(starts) else len(self.s))

    def paragraph_start(self, pos: int, lo: int) -> int:
        """``max(self.paragraph(pos)[0], lo)`` from s[lo:pos] alone (every line end starts a paragraph):
        a search of a name's few characters, not a look-up in all the paragraphs."""
        start = self.s.rfind("\n", lo if lo > 0 else 0, pos) + 1  # conditionals, not max(): called per name
        return start if start > lo else lo

    def paragraph_end(self, pos: int, hi: int) -> int:
        """``min(self.paragraph(pos)[1], hi)`` from s[pos:hi] alone."""
        found = self.s.find("\n", pos, hi)
        return found + 1 if found >= 0 else hi if hi < len(self.s) else len(self.s)

    def clause_start(self, pos: int) -> int:
        """``self.clause(pos)[0]``, without the span (every name asks it)."""
        i = bisect_right(self.clauses, pos)
        return self.clauses[i - 1] if i else 0

    def paragraph_index(self, pos: int) -> int:
        return bisect_right(self.paragraphs, pos) - 1

    def sentence(self, pos: int) -> tuple[int, int]:
        starts = self.sentences
        i = bisect_right(starts, pos)
        return (starts[i - 1] if i else 0), (starts[i] if i < len(starts) else len(self.s))

    def clause(self, pos: int) -> tuple[int, int]:
        starts = self.clauses
        i = bisect_right(starts, pos)
        return (starts[i - 1] if i else 0), (starts[i] if i < len(starts) else len(self.s))

    def window(self, span: tuple[int, int], pos: int, width: int) -> tuple[int, int]:
        """``span`` clipped to ``width`` chars on either side of ``pos``."""
        lo, hi = pos - width, pos + width  # conditionals, not max() and min(): a window per mention and figure
        return (span[0] if span[0] > lo else lo), (span[1] if span[1] < hi else hi)


def _noise(m: str, rules: RuleSet) -> list[tuple[int, int]]:
    """The spans of ``text.noise.finditer(m)``, trying the noise only where a character it can open with
    stands: a pattern opening with alternatives makes the engine try every place, ten times slower."""
    noise, starts = rules.text.noise, rules.derived.noise_starts
    if starts is None:
        return [match.span() for match in noise.finditer(m)]
    spans: list[tuple[int, int]] = []
    end = 0
    for start in starts.finditer(m):
        if (at := start.start()) >= end and (match := noise.match(m, at)) is not None:
            end = match.end()  # never empty: it opens with a character
            spans.append((at, end))
    return spans


def _drop_noise(m: str, rules: RuleSet) -> tuple[str, Origin | None]:
    """Drop pinyin glosses (項(xiàng)目) and spaces inside Chinese (3. 5亿元); map positions back."""
    cuts: list[tuple[int, int]] = []
    n = len(m)
    for a, b in _noise(m, rules):
        between_words = a > 0 and b < n and m[a - 1].isascii() and m[a - 1].isalpha()
        if between_words and m[b].isascii() and m[b].isalpha() and m[a:b].isspace():
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


def _decimal_ends(s: str, ends: list[int], points: frozenset[str]) -> set[int]:
    """Those of ``ends`` after a character of ``points`` (。) standing between two digits (132。9亿元).
    Where these characters are few among the boundaries (Chinese commas), each is found by str.find;
    else each boundary is looked at (texts with ASCII commas)."""
    last = len(s) - 1
    if 3 * sum(map(s.count, points)) > len(ends):
        return {e for e in ends if s[e - 1] in points and 1 < e <= last and s[e - 2].isdigit() and s[e].isdigit()}
    found: set[int] = set()
    for point in points:
        i = s.find(point, 1, last)
        while i >= 0:
            if s[i - 1].isdigit() and s[i + 1].isdigit():
                found.add(i + 1)
            i = s.find(point, i + 1, last)
    return found


def prepare(text: str, rules: RuleSet) -> Doc:
    """Convert once and record where each paragraph, sentence and clause starts."""
    s, origin = _drop_noise(matching_text(text), rules)
    # Where each boundary character ends, then which of them end sentences and lines: list comprehensions
    # over the ends cost a third of a loop sorting each match into its lists.
    ends = [match.end() for match in rules.text.boundary.finditer(s)]
    decimal = _decimal_ends(s, ends, rules.derived.decimal_marks)
    if decimal:  # 132。9亿元: a point between digits ends nothing
        ends = [e for e in ends if e not in decimal]
    sentence_marks = rules.derived.sentence_marks
    sentences = [e for e in ends if s[e - 1] in sentence_marks]
    paragraphs = [e for e in sentences if s[e - 1] == "\n"]
    return Doc(text, s, (0, *paragraphs), (0, *sentences), (0, *ends), origin)

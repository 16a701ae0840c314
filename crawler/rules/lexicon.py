"""A word list compiled for fast matching at a position, kept apart from the rules that use it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


def _sizes(groups: Mapping[str, list[str]]) -> Mapping[str, tuple[int, ...]]:
    """For each key, the distinct lengths of its words, longest first."""
    return MappingProxyType({k: tuple(sorted({len(w) for w in v}, reverse=True)) for k, v in groups.items()})


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Words matched longest first; each word may carry a tag (a kind, a stage ...)."""

    words: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    by_last: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    by_first: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    pattern: re.Pattern[str] | None = None
    # ends_at / starts_at try one slice per length, not every word: 35 cue words end in 资, in 4 lengths.
    members: frozenset[str] = frozenset()
    end_sizes: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    start_sizes: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, words: Iterable[str], tags: Mapping[str, str] | None = None) -> Lexicon:
        unique = sorted({w for w in words if w}, key=lambda w: (-len(w), w))
        by_last: dict[str, list[str]] = {}
        by_first: dict[str, list[str]] = {}
        for word in unique:
            by_last.setdefault(word[-1], []).append(word)
            by_first.setdefault(word[0], []).append(word)
        pattern = re.compile("|".join(re.escape(w) for w in unique)) if unique else None
        return cls(
            words=tuple(unique),
            tags=MappingProxyType(dict(tags or {})),
            by_last=MappingProxyType({k: tuple(v) for k, v in by_last.items()}),
            by_first=MappingProxyType({k: tuple(v) for k, v in by_first.items()}),
            pattern=pattern,
            members=frozenset(unique),
            end_sizes=_sizes(by_last),
            start_sizes=_sizes(by_first),
        )

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self.members

    def tag(self, word: str) -> str:
        return self.tags.get(word, "")

    # ends_at and starts_at are called hundreds of times per article, most often to say no: an offset past
    # the text is caught as the IndexError it raises, not checked against len(s) on every call.

    def ends_at(self, s: str, end: int, lo: int = 0) -> str | None:
        """The longest word w with s[end-len(w):end] == w, not reaching before lo (an offset, >= 0)."""
        if end <= lo:
            return None
        try:
            last = s[end - 1]
        except IndexError:  # end past the text
            return None
        if last not in self.end_sizes:
            return None  # most positions end no word
        for size in self.end_sizes[last]:
            if end - size >= lo and (word := s[end - size : end]) in self.members:
                return word
        return None

    def starts_at(self, s: str, pos: int, hi: int | None = None) -> str | None:
        """The longest word w with s[pos:pos+len(w)] == w, not reaching past hi."""
        if pos < 0:
            return None
        try:
            first = s[pos]
        except IndexError:  # pos past the text
            return None
        if first not in self.start_sizes:
            return None  # most positions start no word
        limit = len(s) if hi is None or hi > len(s) else hi
        for size in self.start_sizes[first]:  # none fits when pos >= limit
            if pos + size <= limit and (word := s[pos : pos + size]) in self.members:
                return word
        return None

    def find_first(self, s: str, lo: int, hi: int) -> tuple[int, str] | None:
        if self.pattern is None or lo >= hi:
            return None
        match = self.pattern.search(s, lo if lo > 0 else 0, hi)
        return (match.start(), match.group()) if match else None

    def find_last(self, s: str, lo: int, hi: int) -> tuple[int, str] | None:
        if self.pattern is None or lo >= hi:
            return None
        last: tuple[int, str] | None = None
        for match in self.pattern.finditer(s, lo if lo > 0 else 0, hi):
            last = (match.start(), match.group())
        return last

    def occurs(self, s: str, lo: int, hi: int) -> bool:
        # lo if lo > 0 else 0, not max(lo, 0): in Python 3.11 max() parses keyword arguments on every call,
        # at five times the cost, and these three run for every clause window the rules read.
        return self.pattern is not None and lo < hi and self.pattern.search(s, lo if lo > 0 else 0, hi) is not None

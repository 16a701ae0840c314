"""Lookups derived from the rules once, when they are loaded, for the rules' hot paths.

Each replaces work the rules would otherwise repeat for every name or clause; each gives exactly
what that work gave (tests/test_rules_speed_equivalence.py).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from typing import Any

from crawler.rules.lexicon import Lexicon
from crawler.rules.names import QUOTES
from crawler.rules.ruleset import Derived, KindRules, LandRules, MoneyRules, NameRules, TextRules


def _any_of(chars: Iterable[str]) -> re.Pattern[str]:
    """A pattern matching any one of ``chars``."""
    return re.compile("[" + "".join(re.escape(ch) for ch in sorted(chars)) + "]")


def join_patterns(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One pattern that matches where any of ``patterns`` does; None when joining could change what one
    of them means (groups a backreference could name, flags set for the whole pattern)."""
    if any(p.groups or p.flags != re.UNICODE for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))
    except re.error:
        return None


_WIDEST_RANGE = 4096  # a class range wider than this is not listed character by character


def first_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """The characters every match of ``pattern`` starts with, or None when that cannot be told: a match may
    be empty or open with a look-around, a negated class, a category (\\s), a wide range, any character.
    Read from the parse tree the re module itself builds (a private module: any surprise gives None)."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        parser, names = importlib.import_module("re._parser"), importlib.import_module("re._constants")
        found = _first(parser.parse(pattern.pattern, pattern.flags).data, names)
    except Exception:  # another Python's parser, another tree: do without
        return None
    return None if found is None else frozenset(found)


def only_at_text_start(pattern: re.Pattern[str]) -> bool:
    """Whether every match of ``pattern`` starts where the text starts (^ or \\A first, no MULTILINE): with
    match(s, pos) and pos > 0 it never matches (tells it from the parse tree, as first_chars)."""
    if pattern.flags & re.MULTILINE:
        return False
    try:
        parser, names = importlib.import_module("re._parser"), importlib.import_module("re._constants")
        return _opens_at_start(parser.parse(pattern.pattern, pattern.flags).data, names)
    except Exception:  # another Python's parser, another tree: do without
        return False


def _opens_at_start(items: Any, c: Any) -> bool:
    if not items:
        return False
    op, av = items[0]
    if op is c.AT:
        return av is c.AT_BEGINNING or av is c.AT_BEGINNING_STRING
    if op is c.BRANCH:
        return all(_opens_at_start(branch.data, c) for branch in av[1])
    if op is c.SUBPATTERN:  # scoped flags might turn MULTILINE on
        return not av[1] and not av[2] and _opens_at_start(av[3].data, c)
    return False


def _first(items: Any, c: Any) -> set[str] | None:
    """First characters of a parsed sequence (see first_chars)."""
    if not items:
        return None  # an empty sequence matches the empty string
    op, av = items[0]
    if op is c.LITERAL:
        return {chr(av)}
    if op is c.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is c.LITERAL:
                chars.add(chr(value))
            elif kind is c.RANGE and value[1] - value[0] <= _WIDEST_RANGE:
                chars.update(map(chr, range(value[0], value[1] + 1)))
            else:
                return None
        return chars
    if op is c.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            found = _first(branch.data, c)
            if found is None:
                return None
            out |= found
        return out
    if op is c.SUBPATTERN:
        return None if av[1] or av[2] else _first(av[3].data, c)  # scoped flags (?i:...): give up
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
        return _first(av[2].data, c) if av[0] >= 1 else None
    if op is getattr(c, "ATOMIC_GROUP", None):
        return _first(av.data, c)
    return None


def _cores(words: tuple[str, ...]) -> tuple[str, ...]:
    """The words that contain no other word of ``words`` (占地 for 总占地面积)."""
    return tuple(w for w in words if not any(other != w and other in w for other in words))


def derive(
    text: TextRules, names: NameRules, kinds: KindRules, money: MoneyRules, land: LandRules | None = None
) -> Derived:
    """What the hot paths look up, computed once per rule set."""
    # is_generic drops the words of 2+ characters and keeps one-character ones: a pattern without the
    # latter drops the same words (a one-character match ends where the next search would start).
    long_words = (
        re.compile("|".join(re.escape(w) for w in lexicon.words if len(w) > 1))
        for lexicon in (names.generic_words, kinds.phase_words)
        if any(len(w) > 1 for w in lexicon.words)
    )
    dropped = money.number_chars | {w for w in money.units.words if len(w) == 1}
    generic_chars = frozenset(w for w in names.generic_words.words if len(w) == 1)
    # Characters of no word is_generic drops, no figure character, not generic: each stays in the core
    # (whitespace aside, which strip() may take), so two of them settle that a name is not generic.
    worded = {ch for lexicon in (names.generic_words, kinds.phase_words) for w in lexicon.words for ch in w}
    kept = re.compile("[^" + "".join(re.escape(ch) for ch in sorted(worded | dropped | generic_chars)) + r"\s]")
    breaks = text.name_breaks | text.list_separators
    points = ((text.sentence_ends & money.decimal_points) | ({","} & text.clause_ends - text.sentence_ends)) - {"\n"}
    return Derived(
        generic_long=tuple(long_words),
        generic_chars=generic_chars,
        figure_chars=_any_of(dropped),
        kept_char=kept,
        sentence_marks=text.sentence_ends | {"\n"},
        # A sentence end that is also a decimal point (。), and the ASCII comma as a clause end.
        decimal_marks=points,
        back_marks=breaks.union(QUOTES.values(), names.stop_before.by_last, names.object_verbs.by_last, "\n"),
        stops=Lexicon.of(names.stop_before.words + names.object_verbs.words),
        front_firsts=frozenset(names.strip_prefixes.by_first).union(names.lead_verbs.by_first),
        number_lead_lasts=frozenset(money.vague_numbers.by_last).union(
            money.range_separators.by_last, money.approx_before.by_last
        ),
        unit_follow_firsts=frozenset(money.range_separators.by_first).union(money.approx_between.by_first),
        strip_hint=join_patterns(names.strip_prefix_patterns),
        strip_at_text_start=all(only_at_text_start(p) for p in names.strip_prefix_patterns),
        forward_marks=_any_of(breaks.union(QUOTES, names.stop_after.by_first)),
        noise_starts=None if (firsts := first_chars(text.noise)) is None else _any_of(firsts),
        land_cores=None if land is None else _cores(land.markers.words),
        implied_cores=_cores(money.implied_currencies.words),
    )

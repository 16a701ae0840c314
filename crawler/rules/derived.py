"""Lookups derived from the rules once, when they are loaded, for the rules' hot paths.

Each replaces work the rules would otherwise repeat for every name or clause; each gives exactly
what that work gave (tests/test_rules_speed_equivalence.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from crawler.rules.names import QUOTES
from crawler.rules.ruleset import Derived, KindRules, MoneyRules, NameRules, TextRules


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


def derive(text: TextRules, names: NameRules, kinds: KindRules, money: MoneyRules) -> Derived:
    """What the hot paths look up, computed once per rule set."""
    # is_generic drops the words of 2+ characters and keeps one-character ones: a pattern without the
    # latter drops the same words (a one-character match ends where the next search would start).
    long_words = (
        re.compile("|".join(re.escape(w) for w in lexicon.words if len(w) > 1))
        for lexicon in (names.generic_words, kinds.phase_words)
        if any(len(w) > 1 for w in lexicon.words)
    )
    dropped = money.number_chars | {w for w in money.units.words if len(w) == 1}
    breaks = text.name_breaks | text.list_separators
    return Derived(
        generic_long=tuple(long_words),
        generic_chars=frozenset(w for w in names.generic_words.words if len(w) == 1),
        figure_chars=_any_of(dropped),
        back_marks=breaks.union(QUOTES.values(), names.stop_before.by_last, names.object_verbs.by_last),
        strip_hint=join_patterns(names.strip_prefix_patterns),
        forward_marks=_any_of(breaks.union(QUOTES, names.stop_after.by_first)),
    )

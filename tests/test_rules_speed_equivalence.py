"""The rules' shortcuts give what the plain code they replaced gave.

Each ``_old_*`` below is the code as it was before the shortcut (kept here, not in the package), and
each test draws texts from the characters and words that code reacts to, so hypothesis reaches the
cases where the two could part: words overlapping a window's ends, quotes, counts, noise runs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.rules import load_ruleset_file
from crawler.rules.companies import known_org
from crawler.rules.derived import derive, join_patterns
from crawler.rules.lexicon import Lexicon
from crawler.rules.names import (
    _CLOSERS,
    QUOTES,
    Name,
    _item_back,
    _item_forward,
    _prefix_pattern,
    _quoted,
    _stops_before,
    is_generic,
    walk_back,
    walk_forward,
)
from crawler.rules.ruleset import RuleSet
from crawler.rules.stage import _scan, _within, stage_words
from crawler.rules.text import Doc, _drop_noise, prepare

RULES = load_ruleset_file(Path(__file__).resolve().parent.parent / "config" / "rules.yaml")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _texts(words: list[str], chars: str, max_size: int = 40) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(words), st.sampled_from(chars)), max_size=max_size).map("".join)


# ------------------------------------------------------------------------------------------ Lexicon


def _old_ends_at(lex: Lexicon, s: str, end: int, lo: int = 0) -> str | None:
    if end <= lo or end > len(s):
        return None
    for word in lex.by_last.get(s[end - 1], ()):
        start = end - len(word)
        if start >= lo and s.startswith(word, start):
            return word
    return None


def _old_starts_at(lex: Lexicon, s: str, pos: int, hi: int | None = None) -> str | None:
    limit = len(s) if hi is None else min(hi, len(s))
    if pos < 0 or pos >= limit:
        return None
    for word in lex.by_first.get(s[pos], ()):
        if pos + len(word) <= limit and s.startswith(word, pos):
            return word
    return None


@SETTINGS
@given(
    st.lists(st.text("abc", min_size=1, max_size=4), min_size=1, max_size=12),
    st.text("abcd", max_size=12),
    st.data(),
)
def test_lexicon_lookups_by_length_find_the_words_a_scan_of_them_finds(
    words: list[str], s: str, data: st.DataObject
) -> None:
    lex = Lexicon.of(words)
    for end in range(-1, len(s) + 2):
        lo = data.draw(st.integers(0, len(s) + 1))  # offsets in a text: never negative
        assert lex.ends_at(s, end, lo) == _old_ends_at(lex, s, end, lo)
        assert lex.ends_at(s, end) == _old_ends_at(lex, s, end)
    for pos in range(-2, len(s) + 2):
        hi = data.draw(st.none() | st.integers(-2, len(s) + 2))
        assert lex.starts_at(s, pos, hi) == _old_starts_at(lex, s, pos, hi)
        assert lex.occurs(s, pos, len(s)) == (lex.find_first(s, pos, len(s)) is not None)


# ------------------------------------------------------------------------- stage words, found once


def _with_stage_words(words: list[str]) -> RuleSet:
    stages = ("planned", "signed", "started", "completed", "operating")
    tags = {w: stages[i % len(stages)] for i, w in enumerate(words)}
    return replace(RULES, stage=replace(RULES.stage, words=Lexicon.of(tags, tags)))


@SETTINGS
@given(st.lists(st.text("abc", min_size=1, max_size=4), min_size=1, max_size=8), st.text("abcx。\n", max_size=40))
def test_stage_words_of_a_span_are_those_a_scan_of_the_span_finds(words: list[str], text: str) -> None:
    rules = _with_stage_words(words)  # overlapping words: 'ab', 'bc', 'abc' ...
    doc = prepare(text, rules)
    found = stage_words(doc, rules)
    for lo in range(len(doc.s) + 1):
        for hi in range(lo, len(doc.s) + 1):
            assert list(_within(doc, (lo, hi), rules, found)) == _scan(doc, (lo, hi), rules)


@SETTINGS
@given(_texts([*RULES.stage.words.words, "项目", "力争", "预计"], "。，\n建成投产开工签约运营"))
def test_stage_words_of_the_shipped_rules_too(text: str) -> None:
    doc = prepare(text, RULES)
    found = stage_words(doc, RULES)
    for lo in range(0, len(doc.s) + 1, 3):
        for hi in range(lo, len(doc.s) + 1, 2):
            assert list(_within(doc, (lo, hi), RULES, found)) == _scan(doc, (lo, hi), RULES)


# ------------------------------------------------------------------------------------------ counts

COUNT_WORDS = [*RULES.kinds.count_nouns.words, *RULES.kinds.count_prefixes.words, *RULES.kinds.count_counters.words]
COUNT_TEXTS = _texts([*COUNT_WORDS, "月", "人", "余", "多", "12", "一个"], "0123456789一二三十百两个项，。、的和新", 30)


def _old_count() -> re.Pattern[str]:
    """The count pattern without the lookahead put in front of it."""
    pattern = RULES.kinds.count.pattern
    assert pattern.startswith("(?=[") and pattern.endswith(")")
    return re.compile(pattern[pattern.index("])(?:") + len("])(?:") : -1])


@SETTINGS
@given(COUNT_TEXTS, st.data())
def test_counts_are_found_as_before(text: str, data: st.DataObject) -> None:
    old, kinds = _old_count(), RULES.kinds
    lo = data.draw(st.integers(0, len(text)))
    hi = data.draw(st.integers(lo, len(text)))
    want = old.search(text, lo, hi)
    for got in (kinds.find_count(text, lo, hi), kinds.count.search(text, lo, hi)):
        assert (got and (got.span(), got.group())) == (want and (want.span(), want.group()))
    assert [m.span() for m in kinds.count.finditer(text, lo, hi)] == [m.span() for m in old.finditer(text, lo, hi)]
    assert (kinds.count.match(text, lo, hi) is None) == (old.match(text, lo, hi) is None)
    if kinds.count_hint.search(text, lo, hi) is None:  # what _count_after and _count_before rely on
        assert want is None


# ------------------------------------------------------------------------------------- is_generic


def _old_is_generic(doc: Doc, start: int, end: int, rules: RuleSet) -> bool:
    text = doc.s[start:end]
    if rules.names.descriptor_prefixes.starts_at(text, 0):
        return True
    count = _old_count().search(text)
    if count is not None:
        text = text[: count.start()] + text[count.end() :]
    suffix = rules.names.any_suffixes.ends_at(text, len(text)) or ""
    core = text[: len(text) - len(suffix)]
    for lexicon in (rules.names.generic_words, rules.kinds.phase_words):
        if lexicon.pattern is not None:
            core = lexicon.pattern.sub(lambda m: m.group() if len(m.group()) == 1 else "", core)
    money = rules.money
    core = "".join(ch for ch in core if ch not in money.number_chars and not money.units.starts_at(ch, 0))
    core = core.strip()
    return len(core) < 2 or all(ch in rules.names.generic_words for ch in core)


GENERIC_WORDS = [*RULES.names.generic_words.words, *RULES.kinds.phase_words.words]
GENERIC_WORDS += RULES.names.descriptor_prefixes.words
NAME_WORDS = [*GENERIC_WORDS, *COUNT_WORDS, "项目", "工程", "产业园", "亿", "万"]
NAME_TEXTS = _texts(NAME_WORDS, "0123.,一二十个项期新市 光伏", 12)


@SETTINGS
@given(NAME_TEXTS)
def test_is_generic_as_before(text: str) -> None:
    doc = prepare(text, RULES)
    for start in range(len(doc.s)):
        for end in range(start + 1, len(doc.s) + 1):
            assert is_generic(doc, start, end, RULES) == _old_is_generic(doc, start, end, RULES)


# ------------------------------------------------------------------------------- prefix patterns


@SETTINGS
@given(st.text("2024年5月1日一是 -—·x", max_size=16), st.data())
def test_prefix_patterns_checked_at_once_as_one_by_one(s: str, data: st.DataObject) -> None:
    extra = (re.compile(r"\d+年"), re.compile(r"x+|-"), re.compile(r"(?:一|二)是"))
    for patterns in (RULES.names.strip_prefix_patterns, extra, RULES.names.strip_prefix_patterns + extra):
        rules = replace(
            RULES,
            names=replace(RULES.names, strip_prefix_patterns=patterns),
            derived=replace(RULES.derived, strip_hint=join_patterns(patterns)),
        )
        start = data.draw(st.integers(0, len(s)))
        end = data.draw(st.integers(start, len(s)))
        want = next((m for p in patterns if (m := p.match(s, start, end)) and m.end() > start), None)
        got = _prefix_pattern(s, start, end, rules)
        assert (got and got.span()) == (want and want.span())


def test_patterns_that_could_mean_something_else_joined_are_notjoin_patterns() -> None:
    assert join_patterns((re.compile(r"(a)\1"), re.compile("b"))) is None  # a backreference to renumber
    assert join_patterns((re.compile("(?i)a"), re.compile("b"))) is None  # a flag for the whole pattern
    assert join_patterns((re.compile("^a"), re.compile("b+"))) is not None


# ------------------------------------------------------------------------------------------- noise


def _old_drop_noise(m: str) -> tuple[str, list[int] | None]:
    cuts: list[tuple[int, int]] = []
    for match in RULES.text.noise.finditer(m):
        a, b = match.span()
        between_words = a > 0 and b < len(m) and m[a - 1].isascii() and m[a - 1].isalpha()
        if match.group().isspace() and between_words and m[b].isascii() and m[b].isalpha():
            continue
        cuts.append((a, b))
    if not cuts:
        return m, None
    parts: list[str] = []
    origin: list[int] = []
    last = 0
    for a, b in cuts:
        parts.append(m[last:a])
        origin.extend(range(last, a))
        last = b
    parts.append(m[last:])
    origin.extend(range(last, len(m)))
    return "".join(parts), origin


@SETTINGS
@given(_texts(["(xiàng)", "(jì)", "  ", "\u00a0", "ab cd", " (", "3. 5"], "项目a b亿 ", 30))
def test_dropped_noise_maps_back_as_before(m: str) -> None:
    s, origin = _drop_noise(m, RULES)
    old_s, old_origin = _old_drop_noise(m)
    assert s == old_s
    assert (origin is None) == (old_origin is None)
    if origin is not None and old_origin is not None:
        assert len(origin) == len(old_origin)
        for i in range(-len(s) - 2, len(s) + 2):
            try:
                want: int | str = old_origin[i]
            except IndexError:
                want = "IndexError"
            try:
                got: int | str = origin[i]
            except IndexError:
                got = "IndexError"
            assert got == want


# ------------------------------------------------------------------------------------ name scans


def _old_walk_back(doc: Doc, end: int, keep: int, rules: RuleSet) -> int:
    s, text = doc.s, rules.text
    stop_ends, verb_ends = rules.names.stop_before.by_last, rules.names.object_verbs.by_last
    floor = max(doc.paragraph(max(end - 1, 0))[0], end - rules.limits.name_max_chars)
    i = end
    while i > floor:
        ch = s[i - 1]
        if ch in _CLOSERS and i < end and (j := _quoted(s, i - 1, floor, end, rules)) is not None:
            i = j
            continue
        if ch in text.name_breaks:
            break
        if ch in text.list_separators:
            if i - 1 < keep and _item_back(doc, i - 1, floor, rules):
                i -= 1
                continue
            break
        if i <= keep and (ch in stop_ends or ch in verb_ends) and _stops_before(s, i, floor, rules):
            break
        i -= 1
    return i


def _old_walk_forward(doc: Doc, start: int, rules: RuleSet) -> int:
    s, names = doc.s, rules.names
    hi = min(doc.paragraph(start)[1], start + rules.limits.name_max_chars)
    i = start
    while i < hi:
        ch = s[i]
        if ch in QUOTES and (j := _quoted(s, i, start, hi, rules)) is not None and j + 1 < hi:
            i = j + 1
            continue
        if ch in rules.text.name_breaks:
            break
        if i > start and names.stop_after.starts_at(s, i, hi):
            break
        if ch in rules.text.list_separators and (
            names.any_suffixes.ends_at(s, i, start) or not _item_forward(doc, i, hi, rules)
        ):
            break
        i += 1
    return i


SCAN_WORDS = [*RULES.names.stop_before.words[:12], *RULES.names.stop_after.words[:12], *RULES.names.object_verbs.words]
SCAN_TEXTS = _texts([*SCAN_WORDS, "项目", "产业园", "5万吨", "公司"], "“”「」‘’、，。\n 光伏电池甲乙", 30)


# The shipped rules break names at quotes; quotes held inside names take the other branches.
_TEXT = replace(RULES.text, name_breaks=RULES.text.name_breaks - {*QUOTES, *QUOTES.values()})
QUOTES_INSIDE = replace(RULES, text=_TEXT, derived=derive(_TEXT, RULES.names, RULES.kinds, RULES.money))


@SETTINGS
@given(SCAN_TEXTS)
@example("甲“光伏举行电池”项目")  # a stop word inside quotes the name holds
@example("乙“光伏、电池”项目")
def test_name_scans_stop_where_they_stopped(text: str) -> None:
    for rules in (RULES, QUOTES_INSIDE):
        doc = prepare(text, rules)
        for end in range(len(doc.s) + 1):
            for keep in (end, end - 2):
                assert walk_back(doc, end, keep, rules) == _old_walk_back(doc, end, keep, rules)
            assert walk_forward(doc, end, rules) == _old_walk_forward(doc, end, rules)


# ------------------------------------------------------------------------------- known companies


ORGS = st.dictionaries(st.text("中船光", max_size=6), st.just((0, 2)))


@SETTINGS
@given(st.text("中船集团光伏", min_size=2, max_size=14), ORGS)
def test_known_org_tries_only_lengths_that_can_match(s: str, orgs: dict[str, tuple[int, int]]) -> None:
    doc = prepare(s, RULES)
    for start in range(len(doc.s)):
        for end in range(start + 1, len(doc.s) + 1):
            name = Name(start, end, False, False)
            longest = min(end - start - 2, RULES.limits.name_max_chars)
            want = next((orgs[k] for size in range(longest, 1, -1) if (k := doc.s[start : start + size]) in orgs), None)
            assert known_org(doc, name, orgs, RULES) == want

"""The second round of the rules' shortcuts gives what the code it replaced gave.

As in test_rules_speed_equivalence.py, each ``_old_*`` below is the code as it was before a shortcut
(kept here, not in the package), and hypothesis draws texts from the characters and words that code
reacts to. Where a shortcut rests on a property of the rules (a pattern opening with ^, stop words
without a line end, the longest strong suffix), variants of the shipped rules break that property too.
"""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.rules.companies import known_org, org_lengths
from crawler.rules.config import _anchor
from crawler.rules.derived import derive, first_chars, only_at_text_start
from crawler.rules.lexicon import Lexicon
from crawler.rules.money import _number_after, _pick, _read_left, _read_right, _Scan
from crawler.rules.names import (
    _CLOSERS,
    Name,
    _item_back,
    _prefix_pattern,
    _quoted,
    name_before,
    strip_front,
    walk_back,
)
from crawler.rules.numbers import number_before
from crawler.rules.projects import _all_names, _Group, _Index
from crawler.rules.ruleset import RuleSet
from crawler.rules.text import _WIDTH, Doc, _convert_same_length, _noise, matching_text, prepare
from tests.test_rules_speed_equivalence import RULES, _texts

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _rederived(rules: RuleSet) -> RuleSet:
    """``rules`` with its derived lookups made again from its (changed) sections."""
    return replace(rules, derived=derive(rules.text, rules.names, rules.kinds, rules.money, rules.land))


# ---------------------------------------------------------------------------- boundaries, wide text


def _old_bounds(s: str, rules: RuleSet) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    def decimal(i: int) -> bool:
        return 0 < i < len(s) - 1 and s[i - 1].isdigit() and s[i + 1].isdigit()

    paragraphs, sentences, clauses = [0], [0], [0]
    points = rules.money.decimal_points
    for match in rules.text.boundary.finditer(s):
        i, ch = match.start(), match.group()
        if ch == "\n":
            paragraphs.append(i + 1)
            sentences.append(i + 1)
            clauses.append(i + 1)
        elif ch in rules.text.sentence_ends:
            if ch in points and decimal(i):
                continue
            sentences.append(i + 1)
            clauses.append(i + 1)
        elif ch in rules.text.clause_ends and not (ch == "," and decimal(i)):
            clauses.append(i + 1)
    return tuple(paragraphs), tuple(sentences), tuple(clauses)


_COMMA_ENDS = _rederived(replace(RULES, text=replace(RULES.text, sentence_ends=RULES.text.sentence_ends | {","})))
_NO_POINT = _rederived(replace(RULES, money=replace(RULES.money, decimal_points=frozenset("."))))
BOUND_TEXTS = _texts(["132。9亿元", "1,2", "3,", ",4"], "。，,：:；\n12²①٣a甲 ", 30)


@SETTINGS
@given(BOUND_TEXTS)
@example("2。²")  # a digit str.isdigit() takes and \d does not
@example("①。3")
def test_boundaries_are_where_they_were(text: str) -> None:
    for rules in (RULES, _COMMA_ENDS, _NO_POINT):
        doc = prepare(text, rules)
        assert (doc.paragraphs, doc.sentences, doc.clauses) == _old_bounds(doc.s, rules)


@SETTINGS
@given(_texts(["１２３", "ＡＢ", "　", "．５％"], "项目ａ甲1 ", 20))
def test_wide_runs_are_narrowed_as_the_whole_text_was(text: str) -> None:
    simple = _convert_same_length(text)
    assert matching_text(text) == (simple.translate(_WIDTH) if text else text)


@SETTINGS
@given(BOUND_TEXTS)
def test_paragraph_and_clause_lookups_agree_with_the_spans(text: str) -> None:
    doc = prepare(text, RULES)
    for pos in range(len(doc.s) + 1):
        assert doc.clause_start(pos) == doc.clause(pos)[0]
        for width in (0, 1, 3, 60):
            assert doc.paragraph_start(pos, pos - width) == max(doc.paragraph(pos)[0], pos - width)
            assert doc.paragraph_end(pos, pos + width) == min(doc.paragraph(pos)[1], pos + width)


# ------------------------------------------------------------------------------------------- noise

NOISES = [
    (r"\((?:[a-zü]{0,6}[āáǎà][a-zü]{0,6})\)", r"[ \u00a0]+"),  # the shipped kind
    (r"x+", r"\(a\)"),
    (r"(?:ab|cd)+", r"[b-d]e"),
    (r"a*b",),  # may open with b or a: a repeat that may be empty
    (r"(?i)ab",),  # cased: no character set told
    (r"a?",),  # matches the empty string
    (r"(?<=a)b",),  # a look-behind first
]
NOISE_TEXTS = _texts(["(xiàng)", "(a)", "ab", "cd", "  ", "\u00a0", "xx", "de", "AB"], "abcdex()项 ", 24)


@SETTINGS
@given(NOISE_TEXTS)
def test_noise_tried_at_its_first_characters_is_the_noise_found_everywhere(m: str) -> None:
    for patterns in NOISES:
        rules = _rederived(replace(RULES, text=replace(RULES.text, noise=re.compile("|".join(patterns)))))
        assert _noise(m, rules) == [match.span() for match in rules.text.noise.finditer(m)]
        firsts = first_chars(rules.text.noise)
        if firsts is not None:
            assert all(m[match.start()] in firsts for match in rules.text.noise.finditer(m))


def test_first_characters_are_told_only_when_sure() -> None:
    assert first_chars(RULES.text.noise) == frozenset("( \u00a0")
    assert first_chars(re.compile("(?:ab|cd)+|[b-d]e")) == frozenset("abcd")
    for unsure in ("a*b", "(?i)ab", "a?", "(?<=a)b", "[^a]", r"\sa", ".a", "(?i:a)b", "a|"):
        assert first_chars(re.compile(unsure)) is None, unsure


# ------------------------------------------------------------------------------- prefix patterns

ANCHORED = {r"^\d{4}年": True, r"\A-": True, "(?:^a)|(?:^b)": True, "(?m)^a": False, "a|^b": False, "(?:^a|b)": False}


@SETTINGS
@given(st.text("ab-2024年\n", max_size=12))
def test_patterns_said_to_match_only_at_the_start_do(s: str) -> None:
    for text, anchored in ANCHORED.items():
        pattern = re.compile(text)
        assert only_at_text_start(pattern) is anchored
        if anchored:
            assert all(pattern.match(s, pos) is None for pos in range(1, len(s) + 1))


def _old_strip_front(doc: Doc, start: int, end: int, rules: RuleSet) -> tuple[int, bool]:
    s, names = doc.s, rules.names
    backref = False
    for _ in range(8):
        word = names.strip_prefixes.starts_at(s, start, end)
        if word:
            backref = backref or word in names.backrefs
            start += len(word)
            continue
        lead = names.lead_verbs.starts_at(s, start, end)
        after = start + len(lead) if lead else start
        if lead and after < end and (s[after].isdigit() or names.capacity_markers.starts_at(s, after, end)):
            start = after
            continue
        match = _prefix_pattern(s, start, end, rules)
        if match is None:
            break
        start = match.end()
    while start < end and s[start] in ")）":
        start += 1
    return start, backref


_LOOSE = (re.compile(r"\d+年"), re.compile(r"-+"))  # not anchored: they strip anywhere
_LOOSE_PREFIXES = _rederived(replace(RULES, names=replace(RULES.names, strip_prefix_patterns=_LOOSE)))


@SETTINGS
@given(_texts(["2024年", "该", "此次", "建设", "年产", "今年", "-"], "5月1日)）项目甲", 16))
def test_fronts_are_stripped_as_before(text: str) -> None:
    for rules in (RULES, _LOOSE_PREFIXES):
        doc = prepare(text, rules)
        for start in range(len(doc.s)):
            for end in range(start, len(doc.s) + 1):
                assert strip_front(doc, start, end, rules) == _old_strip_front(doc, start, end, rules)


# ------------------------------------------------------------------------------------ name scans


def _old_walk_back(doc: Doc, end: int, keep: int, rules: RuleSet) -> int:
    s, text = doc.s, rules.text
    floor = max(doc.paragraph(max(end - 1, 0))[0], end - rules.limits.name_max_chars)
    stops = (rules.names.stop_before, rules.names.object_verbs)
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
        if i <= keep and any(lex.ends_at(s, i, floor) for lex in stops):
            break
        i -= 1
    return i


def _with_stops(words: list[str]) -> RuleSet:
    return _rederived(replace(RULES, names=replace(RULES.names, stop_before=Lexicon.of(words))))


_LINE_STOP = _with_stops([*RULES.names.stop_before.words, "乙\n甲", "\n的"])  # stop words holding a line end
_LINE_BREAK = _rederived(replace(RULES, text=replace(RULES.text, name_breaks=RULES.text.name_breaks | {"\n"})))
SCAN_TEXTS = _texts(["项目", "乙\n甲", "\n的", "的", "在", "举行", "“光伏”", "5万吨"], "甲乙丙、，。\n ", 30)


@SETTINGS
@given(SCAN_TEXTS)
@example("乙\n甲光伏项目")
def test_backward_scans_meet_the_paragraph_start_where_they_looked_it_up(text: str) -> None:
    for rules in (RULES, _LINE_STOP, _LINE_BREAK):
        doc = prepare(text, rules)
        for end in range(len(doc.s) + 1):
            for keep in (end, end - 2, end - 4):
                assert walk_back(doc, end, keep, rules) == _old_walk_back(doc, end, keep, rules)


def _with_strong(words: list[str]) -> RuleSet:
    names = replace(RULES.names, strong_suffixes=Lexicon.of(words))
    return _rederived(replace(RULES, names=names))


STRONGS = [
    RULES,
    _with_strong(["项目", "目标项目", "设项", "建设项目"]),  # a suffix inside another, one across another
    _with_strong(["项目", "甲的乙丙丁戊己庚项目"]),  # longer than name_before's reach of 8, a stop word inside
    _with_strong(["项目", "的项目", "目的"]),  # 目的 covers where 的项目 begins: a stop word inside it
]


@SETTINGS
@given(_texts(["项目", "建设项目", "目标项目", "设项目", "甲的乙丙丁戊己庚项目", "目的", "工程"], "甲标的，", 24))
@example("项目标项目")  # 目标项目 ends where the scan found 项目: it began inside the match before
@example("乙甲的乙丙丁戊己庚项目")
@example("甲目的项目")
def test_all_names_are_the_names_before_every_strong_suffix(text: str) -> None:
    for rules in STRONGS:
        doc = prepare(text, rules)
        pattern = rules.names.strong_suffixes.pattern
        assert pattern is not None
        want = [n for m in pattern.finditer(doc.s) if (n := name_before(doc, m.end(), rules)) is not None]
        assert _all_names(doc, rules) == want


# ------------------------------------------------------------------------------------- money


def _old_read_left(s: str, ustart: int, unit: str, lo: int, rules: RuleSet) -> _Scan | None:
    m = rules.money
    j, approx = ustart, False
    between = m.approx_between.ends_at(s, j, lo)
    if between:
        j, approx = j - len(between), True
    num = number_before(s, j, lo, m, rules.limits.number_max_chars)
    if num is None:
        return None
    scale = m.unit_scale[unit]
    value = None if num.value is None else num.value * scale
    scan = _Scan(num.start, ustart + len(unit), value, approx)
    vague = m.vague_numbers.ends_at(s, scan.num_start, lo)
    if vague:
        scan.num_start, scan.value, scan.approximate = scan.num_start - len(vague), None, True
    sep = m.range_separators.ends_at(s, scan.num_start, lo)
    if sep and scan.value is not None:
        low = number_before(s, scan.num_start - len(sep), lo, m, rules.limits.number_max_chars)
        if low is not None and low.value is not None:
            scan.value = _pick(low.value * scale, scan.value, rules)
            scan.num_start, scan.approximate = low.start, True
    bound = m.approx_before.ends_at(s, scan.num_start, lo)
    cue = rules.kinds.cues.ends_at(s, scan.num_start, lo) if bound else None
    if bound and not (cue and len(cue) > len(bound)):
        scan.num_start, scan.approximate = scan.num_start - len(bound), True
    return scan


def _old_read_right(s: str, scan: _Scan, hi: int, rules: RuleSet) -> str:
    m = rules.money
    sep = m.range_separators.starts_at(s, scan.pos, hi)
    if sep and scan.value is not None:
        high = _number_after(s, scan.pos + len(sep), rules)
        if high is not None:
            scan.pos, scan.value = high[0], _pick(scan.value, high[1], rules)
            scan.approximate = True
    between = m.approx_between.starts_at(s, scan.pos, hi)
    if between and m.currencies.starts_at(s, scan.pos + len(between), hi):
        scan.pos, scan.approximate = scan.pos + len(between), True
    currency = m.currencies.starts_at(s, scan.pos, hi) or ""
    scan.pos += len(currency)
    return currency


MONEY = RULES.money
MONEY_WORDS = [*MONEY.approx_before.words, *MONEY.range_separators.words, *MONEY.vague_numbers.words]
MONEY_WORDS += [*MONEY.approx_between.words, *MONEY.currencies.words[:6], "签约", "总投资", "亿", "万"]
MONEY_TEXTS = _texts(MONEY_WORDS, "0123.,一十百亿万元", 20)


@SETTINGS
@given(MONEY_TEXTS)
def test_numbers_are_read_round_their_units_as_before(s: str) -> None:
    for ustart in range(len(s)):
        unit = MONEY.units.starts_at(s, ustart)
        if unit is None:
            continue
        for lo in (0, max(0, ustart - 3)):
            new, old = _read_left(s, ustart, unit, lo, RULES), _old_read_left(s, ustart, unit, lo, RULES)
            assert new == old
            if new is not None and old is not None:
                assert _read_right(s, new, len(s), RULES) == _old_read_right(s, old, len(s), RULES)
                assert new == old


def _old_anchor(units: Lexicon, lead: list[str]) -> re.Pattern[str]:
    assert units.pattern is not None
    return re.compile(f"(?<=[{re.escape(''.join(lead))}])(?:{'|'.join(re.escape(w) for w in units.words)})")


LEAD = sorted("0123456789一十百余多资额")
UNIT_SETS = [MONEY.units, Lexicon.of(["万亿", "万", "亿", "亿万", "千万"])]


@SETTINGS
@given(_texts(["万亿", "亿万", "千万", "总投资", "12"], "万亿千资额1余甲 ", 20), st.data())
def test_unit_anchors_are_found_where_they_were(s: str, data: st.DataObject) -> None:
    for units in UNIT_SETS:
        new, old = _anchor(units, LEAD), _old_anchor(units, LEAD)
        assert [(m.span(), m.group()) for m in new.finditer(s)] == [(m.span(), m.group()) for m in old.finditer(s)]
        lo = data.draw(st.integers(0, len(s)))
        hi = data.draw(st.integers(lo, len(s)))
        got, want = new.search(s, lo, hi), old.search(s, lo, hi)
        assert (got and (got.span(), got.group())) == (want and (want.span(), want.group()))


# -------------------------------------------------------------------------------- counts, words

COUNT_WORDS = [*RULES.kinds.count_nouns.words, *RULES.kinds.count_prefixes.words, *RULES.kinds.count_counters.words]


@SETTINGS
@given(_texts([*COUNT_WORDS, "余", "多", "12", "一个", "月"], "0123456789一二三十百两个项，。、的新", 30), st.data())
def test_every_count_holds_its_hint(text: str, data: st.DataObject) -> None:
    kinds = RULES.kinds
    lo = data.draw(st.integers(0, len(text)))
    hi = data.draw(st.integers(lo, len(text)))
    for match in kinds.count.finditer(text, lo, hi):
        assert kinds.count_hint.search(text, match.start(), match.end()) is not None
    got, want = kinds.find_count(text, lo, hi), kinds.count.search(text, lo, hi)
    assert (got and got.span()) == (want and want.span())


@SETTINGS
@given(
    st.lists(st.text("占用地面积总台币", min_size=1, max_size=4), min_size=1, max_size=6),
    st.text("占用地台币甲", max_size=20),
)
def test_word_cores_occur_where_a_word_does(words: list[str], s: str) -> None:
    lexicon = Lexicon.of(words)
    money = replace(RULES.money, implied_currencies=lexicon)
    derived = derive(RULES.text, RULES.names, RULES.kinds, money, replace(RULES.land, markers=lexicon))
    assert derived.land_cores is not None
    for cores in (derived.land_cores, derived.implied_cores):
        assert any(word in s for word in cores) == lexicon.occurs(s, 0, len(s))


@SETTINGS
@given(st.lists(st.text("abc", min_size=1, max_size=3), max_size=6), st.text("abc", max_size=4))
def test_lexicon_membership_is_the_word_list(words: list[str], word: str) -> None:
    assert (word in Lexicon.of(words)) == (word in set(words) and bool(word))


ORGS = st.dictionaries(st.text("中船光", max_size=6), st.just((0, 2)))


@SETTINGS
@given(st.text("中船集团光伏", min_size=2, max_size=14), ORGS)
def test_known_orgs_with_their_lengths_given_are_those_found_without(s: str, orgs: dict[str, tuple[int, int]]) -> None:
    doc = prepare(s, RULES)
    for start in range(len(doc.s)):
        for end in range(start + 1, len(doc.s) + 1):
            name = Name(start, end, False, False)
            assert known_org(doc, name, orgs, RULES, org_lengths(orgs)) == known_org(doc, name, orgs, RULES)


# ---------------------------------------------------------------------------- grouping by name keys


class _OldIndex:
    def __init__(self) -> None:
        self.exact: dict[str, int] = {}
        self.pieces: dict[str, set[str]] = {}
        self.heads: dict[str, set[str]] = {}

    def find(self, key: str) -> int | None:
        if key in self.exact:
            return self.exact[key]
        if len(key) < 4:
            return None
        for other in sorted(self.pieces.get(key[:4], ())):
            if key in other:
                return self.exact[other]
        for i in range(len(key) - 3):
            for other in sorted(self.heads.get(key[i : i + 4], ())):
                if other in key:
                    return self.exact[other]
        return None

    def add(self, key: str, group: int) -> None:
        self.exact[key] = group
        if len(key) >= 4:
            self.heads.setdefault(key[:4], set()).add(key)
            for i in range(len(key) - 3):
                self.pieces.setdefault(key[i : i + 4], set()).add(key)


@SETTINGS
@given(st.lists(st.text("abcd", max_size=9), max_size=14))
@example(["abcda", "abcdb", "abcd"])  # two keys contain the third: the least is its group
@example(["aaaa", "bbbb", "bbbbaaaa"])  # two keys are contained in the third: the one heading it first wins
def test_names_join_the_groups_they_joined(keys: list[str]) -> None:
    old, new = _OldIndex(), _Index()
    for key in keys:
        want = old.find(key)
        found = new.find(key)
        got = None if found is None else new.groups.index(found)
        assert got == want
        if want is None:
            want = len(new.groups)
            new.groups.append(_Group([]))
        if key not in old.exact:
            old.add(key, want)
            new.add(key, new.groups[want])

"""How far a project has got (from the words around it), and the land it takes."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from crawler.models import Stage
from crawler.rules.numbers import parse_number
from crawler.rules.ruleset import RuleSet
from crawler.rules.text import Doc

# Each stage value with its Stage and its rank (``Stage.rank``, which lists the enum on every call).
_RANKED: Mapping[str, tuple[Stage, int]] = MappingProxyType({st.value: (st, i) for i, st in enumerate(Stage)})
TOP_RANK = len(_RANKED) - 1  # operating: no stage goes further


# The members as globals, and ranks keyed by member: Stage.X and stage.value go through the enum's machinery,
# at five to ten times the cost of a global, and the stage words are read for every mention.
_UNKNOWN, _PLANNED = Stage.UNKNOWN, Stage.PLANNED
_RANK: Mapping[Stage, int] = MappingProxyType({stage: stage_rank for stage, stage_rank in _RANKED.values()})


def rank(stage: Stage) -> int:
    """``stage.rank``, without listing the enum."""
    return _RANK[stage]


def _is_future(doc: Doc, start: int, end: int, rules: RuleSet) -> bool:
    """力争6月建成 / 建成投产后 / 预计10月竣工 / 还没建成: not (yet) an achievement."""
    s, st = doc.s, rules.stage
    # Conditionals, not max() and min(): in Python 3.11 they parse keyword arguments on every call.
    if st.negators.ends_at(s, start, start - 3 if start > 3 else 0):
        return True
    while word := st.words.starts_at(s, end):  # 建成投产后: the 后 closes the whole chain
        end += len(word)
    if st.future_after.starts_at(s, end):
        return True
    lo, reach = doc.sentence(start)[0], start - rules.limits.future_reach
    if lo < reach:
        lo = reach
    return st.future_before.occurs(s, lo, start)


def _about_many(doc: Doc, start: int, end: int, rules: RuleSet) -> bool:
    """开发区签约项目8个: a stage word in a clause that counts projects describes them all."""
    lo, hi = doc.clause(start)
    reach = lo + rules.limits.clause_window
    return rules.kinds.find_count(doc.s, lo, hi if hi < reach else reach) is not None


Found = tuple[int, int, Stage, int]  # a stage word: start, end, its stage and the stage's rank


Test = Callable[[Doc, int, int, RuleSet], bool]  # a test of a stage word at (start, end): _is_future ...


@dataclass(frozen=True, slots=True)
class StageWords:
    """The stage words of a whole text, found by one scan (``stage_words``), and what the tests of
    ``furthest_stage`` said of each: every mention of every project asks of the same words again."""

    found: tuple[Found, ...]
    starts: tuple[int, ...]
    said: dict[tuple[Test, int, int], bool] = field(default_factory=dict, compare=False, repr=False)

    def holds(self, test: Test, doc: Doc, start: int, end: int, rules: RuleSet) -> bool:
        """``test(doc, start, end, rules)``, run once per word (the tests are pure)."""
        key = (test, start, end)
        said = self.said.get(key)
        if said is None:
            said = self.said[key] = test(doc, start, end, rules)
        return said


def stage_words(doc: Doc, rules: RuleSet) -> StageWords:
    found = _scan(doc, (0, len(doc.s)), rules)
    return StageWords(tuple(found), tuple(f[0] for f in found))


def _scan(doc: Doc, span: tuple[int, int], rules: RuleSet) -> list[Found]:
    words = rules.stage.words
    if words.pattern is None:
        return []
    tags = words.tags  # every stage word has one
    found: list[Found] = []
    for m in words.pattern.finditer(doc.s, span[0], span[1]):
        stage, stage_rank = _RANKED[tags[m.group()]]
        found.append((m.start(), m.end(), stage, stage_rank))
    return found


def _within(doc: Doc, span: tuple[int, int], rules: RuleSet, words: StageWords) -> Sequence[Found]:
    """The stage words a scan of ``span`` alone finds. Those of the whole text inside it, unless one of
    the whole text's words straddles an end of the span: only then may the two scans differ (a scan
    from ``lo`` is where the whole text's scan is, as no word of it covers ``lo``; the words it then
    finds are the same until one would reach past ``hi``)."""
    lo, hi = span
    i, j = bisect.bisect_left(words.starts, lo), bisect.bisect_left(words.starts, hi)
    if (i > 0 and words.found[i - 1][1] > lo) or (j > 0 and words.found[j - 1][1] > hi):
        return _scan(doc, span, rules)
    return words.found[i:j]


def furthest_stage(doc: Doc, span: tuple[int, int], rules: RuleSet, skip: Skip, words: StageWords) -> Stage:
    """The furthest stage stated as achieved in the span (从奠基开工到点火生产 -> operating)."""
    best, best_rank = _UNKNOWN, 0
    for start, end, stage, stage_rank in _within(doc, span, rules, words):
        if stage_rank <= best_rank:
            continue
        if skip.counted and words.holds(_about_many, doc, start, end, rules):
            continue
        if skip.events and not words.holds(_event, doc, start, end, rules):
            continue
        if stage is not _PLANNED and words.holds(_is_future, doc, start, end, rules):
            continue
        if _inside(start, skip.inside):  # last: the tests above answer from memory
            continue  # 运营总部项目: a stage word inside a name says nothing
        best, best_rank = stage, stage_rank
        if best_rank == TOP_RANK:
            break  # nothing later can go further
    return best


def _inside(pos: int, spans: tuple[tuple[int, int], ...]) -> bool:
    """Whether ``pos`` lies in one of ``spans``."""
    for a, b in spans:  # noqa: SIM110 - a loop: any() over a generator costs three times as much
        if a <= pos < b:
            return True
    return False


# Not frozen, as it is never changed: built for each stage look-up, and a frozen dataclass costs three times
# as much to build. unsafe_hash keeps it hashable as a frozen one was.
@dataclass(slots=True, unsafe_hash=True)
class Skip:
    inside: tuple[tuple[int, int], ...] = ()  # spans (names) whose stage words do not count
    counted: bool = False  # skip clauses that count projects
    events: bool = False  # only events count (集中开工, 签约仪式)


def _event(doc: Doc, start: int, end: int, rules: RuleSet) -> bool:
    """集中开工 / 开工仪式 / 集中签约开工活动: a stage word naming an event, not a project's progress."""
    s, st = doc.s, rules.stage
    if st.event_before.ends_at(s, start, start - 4 if start > 4 else 0):
        return True
    hi = doc.clause(start)[1]
    if hi > end + 6:
        hi = end + 6
    return st.event_after.occurs(s, end, hi)


def stage_near(
    doc: Doc, pos: int, rules: RuleSet, names: tuple[tuple[int, int], ...], planned: bool, words: StageWords
) -> Stage:
    """The stage from the clause at ``pos``, else its sentence, else its paragraph (where clauses
    that count projects describe other projects), else the paragraphs before it (the article's
    event: 集中开工, 签约仪式). ``planned``: the figure's cue is 计划投资. ``words``: the text's stage words."""
    limits, skip = rules.limits, Skip(names)
    stage = furthest_stage(doc, doc.window(doc.clause(pos), pos, limits.clause_window), rules, skip, words)
    if stage is _UNKNOWN and planned:
        return _PLANNED
    if stage is _UNKNOWN:
        span = doc.window(doc.sentence(pos), pos, limits.sentence_window)
        stage = furthest_stage(doc, span, rules, skip, words)
    if stage is _UNKNOWN:
        span = doc.window(doc.paragraph(pos), pos, limits.paragraph_window)
        stage = furthest_stage(doc, span, rules, Skip(names, True, False), words)  # counted clauses skipped
    if stage is _UNKNOWN:
        # 重大项目集中开工仪式 in the title or an earlier paragraph: the event of every project listed after
        span = (max(0, pos - limits.article_window), pos)
        stage = furthest_stage(doc, span, rules, Skip(names, False, True), words)  # events only
    return stage


def land_near(doc: Doc, lo: int, hi: int, rules: RuleSet) -> Decimal | None:
    """占地85亩 / 总占地1607亩 / 用地面积约12公顷, in 亩."""
    s, land, m = doc.s, rules.land, rules.money
    pattern = land.markers.pattern
    if pattern is None:
        return None
    for match in pattern.finditer(s, lo, hi):
        i = match.end()
        while True:
            link = rules.kinds.linkers.starts_at(s, i, hi) or m.approx_before.starts_at(s, i, hi)
            if not link:
                break
            i += len(link)
        j = i
        while j < hi and j - i < rules.limits.number_max_chars and s[j] in m.number_chars:
            j += 1
        unit = land.units.starts_at(s, j, hi)
        value = parse_number(s[i:j], m) if unit else None
        if unit and value is not None:
            return value * land.unit_scale[unit]
    return None


def capacity_in(doc: Doc, lo: int, hi: int, rules: RuleSet) -> tuple[int, int] | None:
    """年产3800吨抛光粉及纳米抛光液: capacity wording inside a name, up to its suffix."""
    found = rules.names.capacity_markers.find_first(doc.s, lo, hi)
    if found is None:
        return None
    suffix = rules.names.any_suffixes.find_last(doc.s, found[0], hi)
    end = suffix[0] if suffix is not None else hi
    return (found[0], end) if end - found[0] > len(found[1]) + 1 else None

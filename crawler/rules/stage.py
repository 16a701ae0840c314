"""How far a project has got (from the words around it), and the land it takes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crawler.models import Stage
from crawler.rules.numbers import parse_number
from crawler.rules.ruleset import RuleSet
from crawler.rules.text import Doc


def _is_future(doc: Doc, start: int, end: int, rules: RuleSet) -> bool:
    """力争6月建成 / 建成投产后 / 预计10月竣工 / 还没建成: not (yet) an achievement."""
    s, st = doc.s, rules.stage
    if st.negators.ends_at(s, start, max(0, start - 3)):
        return True
    while word := st.words.starts_at(s, end):  # 建成投产后: the 后 closes the whole chain
        end += len(word)
    if st.future_after.starts_at(s, end):
        return True
    lo = max(doc.sentence(start)[0], start - rules.limits.future_reach)
    return st.future_before.occurs(s, lo, start)


def _about_many(doc: Doc, pos: int, rules: RuleSet) -> bool:
    """开发区签约项目8个: a stage word in a clause that counts projects describes them all."""
    lo, hi = doc.clause(pos)
    return rules.kinds.count.search(doc.s, lo, min(hi, lo + rules.limits.clause_window)) is not None


def furthest_stage(doc: Doc, span: tuple[int, int], rules: RuleSet, skip: Skip) -> Stage:
    """The furthest stage stated as achieved in the span (从奠基开工到点火生产 -> operating)."""
    pattern = rules.stage.words.pattern
    best = Stage.UNKNOWN
    if pattern is None:
        return best
    for match in pattern.finditer(doc.s, *span):
        stage = Stage(rules.stage.words.tag(match.group()))
        if stage.rank <= best.rank or any(a <= match.start() < b for a, b in skip.inside):
            continue  # 运营总部项目: a stage word inside a name says nothing
        if skip.counted and _about_many(doc, match.start(), rules):
            continue
        if skip.events and not _event(doc, match.start(), match.end(), rules):
            continue
        if stage is not Stage.PLANNED and _is_future(doc, match.start(), match.end(), rules):
            continue
        best = stage
    return best


@dataclass(frozen=True, slots=True)
class Skip:
    inside: tuple[tuple[int, int], ...] = ()  # spans (names) whose stage words do not count
    counted: bool = False  # skip clauses that count projects
    events: bool = False  # only events count (集中开工, 签约仪式)


def _event(doc: Doc, start: int, end: int, rules: RuleSet) -> bool:
    """集中开工 / 开工仪式 / 集中签约开工活动: a stage word naming an event, not a project's progress."""
    s, st = doc.s, rules.stage
    if st.event_before.ends_at(s, start, max(0, start - 4)):
        return True
    hi = min(doc.clause(start)[1], end + 6)
    return st.event_after.occurs(s, end, hi)


def stage_near(doc: Doc, pos: int, rules: RuleSet, names: tuple[tuple[int, int], ...], planned: bool) -> Stage:
    """The stage from the clause at ``pos``, else its sentence, else its paragraph (where clauses
    that count projects describe other projects), else the paragraphs before it (the article's
    event: 集中开工, 签约仪式). ``planned``: the figure's cue is 计划投资."""
    limits = rules.limits
    spans = (
        (doc.window(doc.clause(pos), pos, limits.clause_window), Skip(names)),
        (doc.window(doc.sentence(pos), pos, limits.sentence_window), Skip(names)),
        (doc.window(doc.paragraph(pos), pos, limits.paragraph_window), Skip(names, counted=True)),
        # 重大项目集中开工仪式 in the title or an earlier paragraph: the event of every project listed after
        ((max(0, pos - limits.article_window), pos), Skip(names, events=True)),
    )
    for level, (span, skip) in enumerate(spans):
        stage = furthest_stage(doc, span, rules, skip)
        if level == 0 and planned and stage is Stage.UNKNOWN:
            return Stage.PLANNED
        if stage is not Stage.UNKNOWN:
            return stage
    return Stage.UNKNOWN


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

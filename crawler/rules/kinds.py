"""What each money figure measures: one project's investment, or an aggregate, an output value ...

Reporters put a single project's total and a programme's sum in the same words (总投资), so the
kind comes from what surrounds the figure: a count of projects (重点项目96个，总投资560.77亿元),
a threshold (10亿元以上项目3个), a phase share (其中一期投资11.6亿元), or the cue itself (产值).
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.models import AmountKind
from crawler.rules.money import Figure
from crawler.rules.names import Name, name_after, name_before
from crawler.rules.ruleset import RuleSet
from crawler.rules.text import Doc

# The kinds as globals: AmountKind.X goes through the enum's machinery, at ten times the cost of a global.
_INVESTMENT, _AGGREGATE, _PHASE, _OTHER = (
    AmountKind.INVESTMENT,
    AmountKind.AGGREGATE,
    AmountKind.PHASE,
    AmountKind.OTHER,
)

_DIRECT = {
    "aggregate": AmountKind.AGGREGATE,
    "output_value": AmountKind.OUTPUT_VALUE,
    "revenue": AmountKind.REVENUE,
    "tax": AmountKind.TAX,
    "funds_in_place": AmountKind.FUNDS_IN_PLACE,
    "other": AmountKind.OTHER,
    "phase": AmountKind.PHASE,
    "investment": AmountKind.INVESTMENT,
}


# Not frozen, as it is never changed: built for every figure, and a frozen dataclass costs three times
# as much to build. unsafe_hash keeps it hashable as a frozen one was.
@dataclass(slots=True, unsafe_hash=True)
class Classified:
    figure: Figure
    kind: AmountKind
    cue_kind: str  # the cue's class after inheritance: investment, signed, ... ('' when none)
    phase: str | None  # 一期 ... when the figure is a phase's investment
    respectively: bool  # 总投资分别为11亿元、6亿元: amounts given in the order of the names after


# max() and min() of two ints, as conditionals: in Python 3.11 the builtins parse keyword arguments on every
# call, at twice the cost of these, and every figure's kind reads half a dozen windows.
def _atleast(a: int, b: int) -> int:
    return a if a > b else b


def _atmost(a: int, b: int) -> int:
    return a if a < b else b


def _joined(s: str, prev: Figure, fig: Figure, rules: RuleSet) -> bool:
    """Two figures in a list: 11亿元、6亿元 / 10亿元和30亿元."""
    gap = s[prev.end : fig.start]
    return gap in rules.text.list_separators or gap in rules.text.joiners


def _followed_by_name(doc: Doc, fig: Figure, rules: RuleSet) -> bool:
    """A figure without a cue that stands before a name: 港区30亿元XX小镇, 30亿元的XX项目."""
    s = doc.s
    hi = _atmost(doc.clause(fig.end)[1], fig.end + rules.limits.name_max_chars)
    if fig.end >= hi or s[fig.end] in rules.text.name_breaks or s[fig.end] in rules.text.list_separators:
        return False
    found = rules.names.any_suffixes.find_first(s, fig.end, hi)
    return found is not None and rules.kinds.find_count(s, fig.end, found[0] + len(found[1])) is None


def _listed_after(doc: Doc, figs: list[Figure], i: int, done: list[Classified], rules: RuleSet) -> bool:
    """港区30亿元XX小镇、5.6亿元YY仓储物流: a bare figure after 、 continues a list of projects."""
    fig, s = figs[i], doc.s
    if i == 0 or fig.start == 0 or s[fig.start - 1] not in rules.text.list_separators:
        return False
    prev = done[i - 1]
    same_sentence = doc.sentence(prev.figure.start)[0] == doc.sentence(fig.start)[0]
    return same_sentence and prev.kind is _INVESTMENT and prev.figure.cue is None


def _threshold(doc: Doc, fig: Figure, rules: RuleSet) -> bool:
    """10亿元以上项目3个 / 亿元以上重点项目: a class of projects by size."""
    s = doc.s
    word = fig.after if fig.after in rules.kinds.threshold_after else ""
    word = word or rules.kinds.threshold_after.starts_at(s, fig.num_end) or ""
    if not word:
        return False
    hi = _atmost(doc.clause(fig.end)[1], fig.end + rules.limits.name_max_chars)
    return rules.kinds.count_nouns.occurs(s, fig.num_end, hi)


def _count_after(doc: Doc, fig: Figure, rules: RuleSet) -> bool:
    """总投资额46.8亿元的36个招商引资项目 / 投资35亿元建设A、B及C3个项目 (not …A项目等20多个项目)."""
    s = doc.s
    pos = fig.end + 1 if s.startswith("的", fig.end) else fig.end
    hi = _atmost(doc.clause(fig.end)[1], pos + rules.limits.clause_window)
    if rules.kinds.count_hint.search(s, pos, hi) is None:
        return False  # no number before a counter or noun: no count
    if rules.kinds.count.match(s, pos, hi) is not None:
        return True
    later = rules.kinds.count.search(s, pos, hi)
    if later is None or "等" in s[pos : later.end()]:
        return False
    return not rules.kinds.cues.occurs(s, pos, later.start())  # another figure's cue: its own list item


def _followed_by_class(doc: Doc, fig: Figure, rules: RuleSet) -> bool:
    """8个投资过5000万元的项目 / 又一个超百亿人民币投资项目: a figure describing a class of projects."""
    if fig.cue is not None and fig.cue.start >= fig.num_end:
        return rules.names.strong_suffixes.starts_at(doc.s, fig.end) is not None
    if not doc.s.startswith("的", fig.end):
        return False
    name = name_after(doc, fig.end + 1, rules, require_suffix=True)
    return name is not None and name.generic and not name.backref


def _count_before(doc: Doc, fig: Figure, lo: int, rules: RuleSet) -> bool:
    """签约项目88项，签约额405亿元 / 项目6个，包括A、B、C等，总投资…: the figure sums the counted projects."""
    s = doc.s
    if rules.kinds.count_hint.search(s, lo, fig.start) is None:
        return False  # no number before a counter or noun: no count
    last = None
    for match in rules.kinds.count.finditer(s, lo, fig.start):
        last = match
    if last is None:
        return False
    pos = last.end()
    noun = rules.kinds.count_nouns.starts_at(s, pos, fig.start)  # 丙项目3个项目: the count's own noun
    pos += len(noun) if noun else 0
    named = _named_between(doc, pos, fig.start, rules)
    if not named:
        return True
    between = s[pos : fig.start]
    listed = any(sep in between for sep in rules.text.list_separators) and len(named) > 1
    return "等" in between or listed


def _named_between(doc: Doc, lo: int, hi: int, rules: RuleSet) -> list[Name]:
    """Names of single projects (not 项目 alone, not a class) ending in [lo, hi)."""
    out: list[Name] = []
    pattern = rules.names.strong_suffixes.pattern
    if pattern is None:
        return out
    for match in pattern.finditer(doc.s, lo, hi):
        name = name_before(doc, match.end(), rules)
        if name is not None and not name.generic:
            out.append(name)
    return out


def _aggregate_context(doc: Doc, fig: Figure, rules: RuleSet) -> bool:
    s = doc.s
    if fig.cue is not None and rules.kinds.aggregate_context.occurs(fig.cue.linker, 0, len(fig.cue.linker)):
        return True  # 投资总计1.85亿
    lo = _atleast(doc.clause(fig.start)[0], fig.start - rules.limits.clause_window)
    if rules.kinds.aggregate_context.occurs(s, lo, fig.start):
        return True
    return rules.kinds.aggregate_area.occurs(s, _atleast(lo, fig.start - 6), fig.start)


def _phase_word(doc: Doc, fig: Figure, rules: RuleSet) -> tuple[str, bool] | None:
    """一期投资 / 一期项目投资 / 二期工程计划投资: the phase word right before the cue, and whether
    it stands alone (no project name in front of it: it refers to the project just spoken of)."""
    if fig.cue is None:
        return None
    s, pos = doc.s, fig.cue.start
    lo = _atleast(doc.clause(pos)[0], pos - 8)
    noun = rules.names.strong_suffixes.ends_at(s, pos, lo)
    if noun:
        pos -= len(noun)
    word = rules.kinds.phase_words.ends_at(s, pos, lo)
    if word is None:
        return None
    before = pos - len(word)
    alone = before <= lo or bool(rules.kinds.phase_share_markers.ends_at(s, before, lo))
    return word, alone


def _investment_kind(doc: Doc, fig: Figure, prev_end: int, rules: RuleSet) -> AmountKind:
    if _threshold(doc, fig, rules) or _count_after(doc, fig, rules) or _aggregate_context(doc, fig, rules):
        return _AGGREGATE
    if _followed_by_class(doc, fig, rules):
        return _AGGREGATE
    sentence = doc.sentence(fig.start)[0]
    lo = _atleast(_atleast(sentence, prev_end), fig.start - rules.limits.clause_window)
    if _count_before(doc, fig, lo, rules):
        return _AGGREGATE
    return _INVESTMENT


def _classify_one(doc: Doc, figs: list[Figure], i: int, done: list[Classified], rules: RuleSet) -> Classified:
    fig, s = figs[i], doc.s
    cue_kind = fig.cue.kind if fig.cue else ""
    respectively = bool(fig.cue and "分别" in fig.cue.linker)
    if not cue_kind and i > 0 and _joined(s, figs[i - 1], fig, rules):
        cue_kind, respectively = done[i - 1].cue_kind, done[i - 1].respectively
        if done[i - 1].kind is _PHASE:
            return Classified(fig, _PHASE, cue_kind, None, respectively)
    if not cue_kind and (_followed_by_name(doc, fig, rules) or _listed_after(doc, figs, i, done, rules)):
        cue_kind = "investment"
    if cue_kind not in ("investment", "signed"):
        return Classified(fig, _DIRECT.get(cue_kind, _OTHER), cue_kind, None, respectively)
    prev_end = figs[i - 1].end if i > 0 else 0
    kind = _investment_kind(doc, fig, prev_end, rules)
    found = _phase_word(doc, fig, rules) if kind is _INVESTMENT else None
    if found and _phase_is_share(doc, fig, done, found[1], rules):
        kind = _PHASE
    return Classified(fig, kind, cue_kind, found[0] if found else None, respectively)


def _phase_is_share(doc: Doc, fig: Figure, done: list[Classified], alone: bool, rules: RuleSet) -> bool:
    """其中一期投资11.6亿元, or a phase figure after a whole project's total: in the same sentence,
    or (for a phase that stands alone, 二期工程计划投资…) in the same paragraph."""
    lo = doc.sentence(fig.start)[0]
    if rules.kinds.phase_share_markers.occurs(doc.s, _atleast(lo, fig.start - rules.limits.clause_window), fig.start):
        return True
    if alone:  # 二期工程计划投资180亿元, up to three paragraphs after 该项目总投资200亿元
        lo = doc.paragraphs[max(0, doc.paragraph_index(fig.start) - 3)]
    return any(c.figure.start >= lo and c.kind is _INVESTMENT and c.phase is None for c in done[-5:])


def _chain_thresholds(doc: Doc, out: list[Classified], rules: RuleSet) -> None:
    """10亿元、30亿元以上重大产业项目: a figure listed before a threshold is one too."""
    for i in range(len(out) - 2, -1, -1):
        here, nxt = out[i], out[i + 1]
        listed = here.kind is _INVESTMENT and nxt.kind is _AGGREGATE and nxt.figure.after
        if listed and _joined(doc.s, here.figure, nxt.figure, rules) and _threshold(doc, nxt.figure, rules):
            out[i] = Classified(here.figure, _AGGREGATE, here.cue_kind, None, False)


def classify(doc: Doc, figures: list[Figure], rules: RuleSet) -> list[Classified]:
    """The kind of every figure, in order."""
    out: list[Classified] = []
    for i in range(len(figures)):
        out.append(_classify_one(doc, figures, i, out, rules))
    _chain_thresholds(doc, out, rules)
    return out

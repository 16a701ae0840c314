"""Which project each investment figure belongs to, in the patterns reporters use.

In order: a name right after the figure (总投资86.8亿元的X项目 / 投资7亿元X项目), a name right
before it (X项目总投资…, X项目，总投资…), a back-reference in its sentence (该项目…超百亿投资),
an organisation brought in by the clause before (吸引来X公司，计划投资3亿元), and the last
project named earlier in the same sentence.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from operator import attrgetter

from crawler.models import AmountKind
from crawler.rules.kinds import Classified
from crawler.rules.names import Name, Span, finish, name_after, name_before
from crawler.rules.ruleset import RuleSet
from crawler.rules.text import Doc


# Not frozen, as it is never changed: built for every mention, and a frozen dataclass costs three times
# as much to build. unsafe_hash keeps it hashable as a frozen one was.
@dataclass(slots=True, unsafe_hash=True)
class Mention:
    name: Name
    figure: Classified | None
    pos: int  # where the project is spoken of: the figure, or the name
    company: Span | None = None  # a company the binding itself found (吸引来X公司)


def usable(name: Name | None) -> bool:
    return name is not None and not name.generic and not name.backref


class Names:
    """The names of a text in order, searchable by position."""

    def __init__(self, every: list[Name], rules: RuleSet) -> None:
        self.rules = rules
        self.every = sorted(every, key=attrgetter("start", "end"))
        self.starts = [n.start for n in self.every]
        self.named = sorted((n for n in every if not (n.generic or n.backref)), key=attrgetter("end"))  # usable
        self.ends = [n.end for n in self.named]

    def resolve(self, doc: Doc, pos: int) -> Name | None:
        """The last project named before ``pos`` in this paragraph or the one or two before it."""
        i = bisect.bisect_right(self.ends, pos) - 1
        if i < 0:
            return None
        name = self.named[i]
        return name if doc.paragraph_index(pos) - doc.paragraph_index(name.start) <= 2 else None

    def before(self, lo: int, pos: int) -> list[Name]:
        """Names starting in [lo, pos), nearest first."""
        i = bisect.bisect_left(self.starts, pos)
        j = bisect.bisect_left(self.starts, lo)
        return self.every[j:i][::-1]


def _settle(doc: Doc, name: Name | None, names: Names) -> Name | None:
    """A usable name as it is; a back-reference resolved; a class of projects dropped."""
    if name is None:
        return None
    if name.backref:
        target = names.resolve(doc, name.start)
        if target is not None and (name.generic or _same(doc, name, target, names.rules)):
            return target
        return None if name.generic else Name(name.start, name.end, False, False)
    return None if name.generic else name


def _same(doc: Doc, a: Name, b: Name, rules: RuleSet) -> bool:
    """此次落地的65万吨/年苯酚丙酮…项目 and 65万吨苯酚丙酮一体化产业链项目: a 4-character piece shared,
    and the earlier name is one project (not A、B、C三大项目, whose items the later names are)."""
    x, y = doc.s[a.start : a.end], doc.s[b.start : b.end]
    if rules.kinds.find_count(y) is not None:
        return False
    pieces = {x[i : i + 4] for i in range(len(x) - 3)}
    return any(y[i : i + 4] in pieces for i in range(len(y) - 3) if not y[i : i + 4].endswith("项目"))


def _bare(doc: Doc, name: Name, rules: RuleSet) -> bool:
    """项目 / 一期项目 / 二期工程: nothing but a phase and a suffix."""
    text = doc.s[name.start : name.end]
    suffix = rules.names.any_suffixes.ends_at(text, len(text)) or ""
    rest = text[: len(text) - len(suffix)]
    return not rest or rest in rules.kinds.phase_words


def _after(doc: Doc, c: Classified, names: Names, rules: RuleSet) -> Name | None:
    s, pos = doc.s, c.figure.end
    if s.startswith("的", pos):
        return _settle(doc, name_after(doc, pos + 1, rules, require_suffix=False), names)
    if c.cue_kind == "signed":
        return None  # 签约117亿元 天府新区项目是签约重点: a deal's sum, then a topic
    bare = c.figure.cue is None  # 港区30亿元XX小镇、5.6亿元YY仓储物流: a list of named figures
    return _settle(doc, name_after(doc, pos, rules, require_suffix=not bare), names)


def _built_next(doc: Doc, c: Classified, names: Names, rules: RuleSet) -> Name | None:
    """研祥集团投资30亿元，在蓉设立西南生产基地: the clause after the figure says what it builds."""
    s, start = doc.s, c.figure.end + 1
    if c.figure.end >= len(s) or s[c.figure.end] not in rules.text.clause_ends:
        return None
    hi = min(doc.clause(start)[1], start + rules.limits.name_max_chars)
    place = rules.names.place_markers.starts_at(s, start, hi)
    for i in range(start, min(hi, start + 12) if place else start + 1):
        if rules.names.lead_verbs.starts_at(s, i, hi):
            return _settle(doc, name_after(doc, i, rules, require_suffix=False), names)
    return None


def _class_before(doc: Doc, c: Classified, rules: RuleSet) -> bool:
    """其中产业类项目计划总投资164.3亿元: a class of projects right before the cue owns the figure."""
    fig = c.figure
    if fig.cue is None or fig.cue.start >= fig.num_start:
        return False
    name = name_before(doc, fig.cue.start, rules, strong=True)
    return name is not None and name.generic and not name.backref and not _bare(doc, name, rules)


def _before(doc: Doc, c: Classified, names: Names, rules: RuleSet) -> Name | None:
    fig, s = c.figure, doc.s
    pos = fig.cue.start if fig.cue is not None and fig.cue.start < fig.num_start else fig.num_start
    if s.startswith("的", pos - 1):
        pos -= 1
    name = name_before(doc, pos, rules, strong=False)
    if name is None:
        lo = doc.clause(pos)[0]
        if s[lo:pos].strip() == "" and lo > doc.sentence(pos)[0]:
            name = name_before(doc, lo - 1, rules, strong=False)  # X项目，总投资3.6亿元
    if name is not None and name.generic and not name.backref and _bare(doc, name, rules):
        name = Name(name.start, name.end, True, True)  # 一期项目投资1.2亿元: the project just named
    return _settle(doc, name, names)


def _in_sentence(doc: Doc, c: Classified, names: Names, rules: RuleSet) -> Name | None:
    """该项目从奠基开工到点火生产…，跑出了超百亿投资…: the sentence's subject."""
    lo, reach = doc.sentence(c.figure.start)[0], c.figure.start - rules.limits.sentence_window
    if lo < reach:  # not max(): in Python 3.11 it parses keyword arguments on every call
        lo = reach
    for name in names.before(lo, c.figure.start):
        if name.backref:
            return names.resolve(doc, name.start)
        if usable(name):
            return name
    return None


def _name_ends(s: str, pos: int, rules: RuleSet) -> bool:
    if pos >= len(s) or s[pos] in rules.text.name_breaks or s[pos] in rules.text.clause_ends:
        return True
    return rules.names.stop_after.starts_at(s, pos) is not None


def _opening_name(doc: Doc, lo: int, hi: int, rules: RuleSet) -> Name | None:
    """The first name (any suffix) in the clauses of [lo, hi): the subject a sentence opens with."""
    s = doc.s
    while lo < hi:
        end = min(doc.clause(lo)[1], hi)
        found = rules.names.any_suffixes.find_first(s, lo, end)
        if found is not None:
            after = found[0] + len(found[1])  # the name ends there: 产业园(…) / 产业园在… (not 合作框架协议)
            if not _name_ends(s, after, rules):
                return None
            name = name_before(doc, after, rules, strong=False)
            return name if usable(name) else None
        lo = end
    return None


def _subject(doc: Doc, c: Classified, rules: RuleSet) -> Name | None:
    """闽商天下石·石文化创意产业园(以下简称石博园)投资最大、占地面最广,预计总投资20亿元: a figure
    opening its clause, with no other figure before it in the sentence, belongs to the sentence's subject."""
    fig, s = c.figure, doc.s
    if fig.cue is None or fig.cue.kind != "investment":
        return None
    lo, start = doc.clause(fig.start)[0], doc.sentence(fig.start)[0]
    head = name_before(doc, fig.start, rules) if s[lo : fig.start].strip() else None
    if head is not None and _bare(doc, head, rules):  # 星巴克宣布将继续追加项目总投资至1.56亿美元
        lo = head.start
    elif s[lo : fig.start].strip() or lo == start:
        return None
    if rules.money.anchor.search(s, start, lo) is not None:
        return None
    found = _opening_name(doc, start, lo, rules)
    if found is None and head is not None and start > doc.paragraph(start)[0]:  # …产业园在苏州昆山正式动工。
        prev = doc.sentence(start - 1)[0]
        if rules.money.anchor.search(s, prev, start) is None:
            found = _opening_name(doc, prev, start, rules)
    return found


def _brought_in(doc: Doc, c: Classified, rules: RuleSet) -> Name | None:
    """吸引来中船集团703研究所，计划投资3亿元: the organisation in the clause before."""
    s, names = doc.s, rules.names
    lo = doc.clause(c.figure.start)[0]
    if lo <= doc.sentence(c.figure.start)[0] or s[lo : c.figure.start].strip():
        return None
    start, end = doc.clause(lo - 1)[0], lo - 1
    verb = names.object_verbs.find_first(s, start, end)
    if verb is None:
        return None
    start = verb[0] + len(verb[1])
    if not 3 <= end - start <= 24 or "的" in s[start:end] or not names.org_suffixes.occurs(s, start, end):
        return None
    return finish(doc, start, end, rules)


def _respectively(doc: Doc, run: list[Classified], rules: RuleSet) -> list[Name] | None:
    """总投资分别为11亿元、6亿元的A和B: the names after the last figure, in order."""
    s, last = doc.s, run[-1].figure
    if not s.startswith("的", last.end):
        return None
    whole = name_after(doc, last.end + 1, rules, require_suffix=False)
    if whole is None:
        return None
    parts, start, i = [], whole.start, whole.start
    while i < whole.end:
        sep = s[i] if s[i] in rules.text.list_separators else rules.text.joiners.starts_at(s, i, whole.end)
        if sep:
            parts.append((start, i))
            start = i = i + len(sep)
            continue
        i += 1
    parts.append((start, whole.end))
    found = [finish(doc, a, b, rules) for a, b in parts]
    if len(found) != len(run) or not all(usable(n) for n in found):
        return None
    return [n for n in found if n is not None]


def _runs(classified: list[Classified]) -> list[list[Classified]]:
    runs: list[list[Classified]] = []
    for c in classified:
        if c.respectively and runs and runs[-1][-1].respectively and c.figure.cue is None:
            runs[-1].append(c)
        elif c.respectively:
            runs.append([c])
    return [r for r in runs if len(r) > 1]


def bind(doc: Doc, classified: list[Classified], every: list[Name], rules: RuleSet) -> list[Mention]:
    """A mention for each investment figure that can be tied to a project."""
    names = Names(every, rules)
    out: list[Mention] = []
    done: set[int] = set()
    for run in _runs(classified):
        listed = _respectively(doc, run, rules)
        if listed is not None:
            out.extend(Mention(n, c, c.figure.start) for n, c in zip(listed, run, strict=True))
            done.update(c.figure.start for c in run)
    investment = AmountKind.INVESTMENT  # once: an enum member costs ten times a local to read
    for c in classified:
        if c.kind is not investment or c.figure.start in done or _class_before(doc, c, rules):
            continue
        name = _after(doc, c, names, rules) or _before(doc, c, names, rules)
        name = name or _in_sentence(doc, c, names, rules) or _built_next(doc, c, names, rules)
        name = name or _subject(doc, c, rules)
        if name is None:
            org = _brought_in(doc, c, rules)
            if org is not None:
                out.append(Mention(org, c, c.figure.start, (org.start, org.end)))
            continue
        out.append(Mention(name, c, c.figure.start))
    return out

"""Assembling projects: mentions of the same project across an article become one Project."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from crawler.models import Amount, Project, Stage
from crawler.rules.binding import Mention, bind, usable
from crawler.rules.companies import company_of, org_mentions, region_brand
from crawler.rules.kinds import Classified, classify
from crawler.rules.money import scan_figures
from crawler.rules.names import Name, Span, name_before, substantive
from crawler.rules.ruleset import RuleSet
from crawler.rules.stage import StageWords, capacity_in, land_near, rank, stage_near, stage_words
from crawler.rules.text import Doc, prepare

_NOT_WORD = re.compile(r"[\W_]+")


def _amounts(doc: Doc, classified: list[Classified]) -> list[Amount]:
    return [
        Amount(
            text=doc.orig(c.figure.start, c.figure.end),
            value_yi=c.figure.value_yi,
            currency=c.figure.currency,
            approximate=c.figure.approximate,
            kind=c.kind,
            start=doc.at(c.figure.start),
            end=doc.end_at(c.figure.end),
        )
        for c in classified
    ]


def analyse(text: str, rules: RuleSet) -> tuple[Doc, list[Classified]]:
    doc = prepare(text, rules)
    return doc, classify(doc, scan_figures(doc, rules), rules)


def find_amounts(text: str, rules: RuleSet) -> list[Amount]:
    """Every money figure in ``text`` with its kind, in order."""
    doc, classified = analyse(text, rules)
    return _amounts(doc, classified)


def _all_names(doc: Doc, rules: RuleSet) -> list[Name]:
    """Every name ending in a strong suffix (…项目, …工程), generic ones included, in order."""
    pattern = rules.names.strong_suffixes.pattern
    out: list[Name] = []
    if pattern is None:
        return out
    for match in pattern.finditer(doc.s):
        if len(out) >= rules.limits.max_mentions:
            break
        name = name_before(doc, match.end(), rules)
        if name is not None:
            out.append(name)
    return out


def _key(doc: Doc, name: Name, rules: RuleSet) -> str:
    text = doc.s[name.start : name.end].lower()
    suffix = rules.names.strong_suffixes.ends_at(text, len(text))
    if suffix and len(text) - len(suffix) >= 2:
        text = text[: -len(suffix)]
    return _NOT_WORD.sub("", text)


@dataclass(slots=True)
class _Group:
    mentions: list[Mention]
    keys: set[str] = field(default_factory=set)


class _Index:
    """Name keys to groups: a key joins the group of an equal key, or of a key containing it or
    contained in it (the shorter at least 4 characters), found through 4-character pieces."""

    def __init__(self) -> None:
        self.groups: list[_Group] = []
        self.exact: dict[str, _Group] = {}
        self.pieces: defaultdict[str, set[str]] = defaultdict(set)  # 4-char piece -> keys containing it
        self.heads: defaultdict[str, set[str]] = defaultdict(set)  # first 4 chars -> keys

    def find(self, key: str) -> _Group | None:
        if key in self.exact:
            return self.exact[key]
        if len(key) < 4:
            return None
        for other in sorted(self.pieces.get(key[:4], ())):
            if key in other:
                return self.exact[other]
        for i in range(len(key) - 3):
            heads = self.heads.get(key[i : i + 4])
            for other in sorted(heads) if heads else ():  # most pieces head no key: sort nothing
                if other in key:
                    return self.exact[other]
        return None

    def add(self, key: str, group: _Group) -> None:
        self.exact[key] = group
        group.keys.add(key)
        if len(key) >= 4:
            self.heads[key[:4]].add(key)
            for i in range(len(key) - 3):
                self.pieces[key[i : i + 4]].add(key)


def _group(doc: Doc, mentions: list[Mention], rules: RuleSet) -> list[_Group]:
    index = _Index()
    for mention in mentions:
        key = _key(doc, mention.name, rules)
        group = index.find(key)
        if group is None:
            group = _Group([])
            index.groups.append(group)
        group.mentions.append(mention)
        if key not in index.exact:
            index.add(key, group)
    return index.groups


def _best_figure(group: _Group) -> Mention | None:
    """Total investment over a signed amount, a whole project over a phase, then the largest."""
    bound = [m for m in group.mentions if m.figure is not None]
    if not bound:
        return None

    def rank(m: Mention) -> tuple[int, int, float]:
        c = m.figure
        assert c is not None
        value = float(c.figure.value_yi) if c.figure.value_yi is not None else -1.0
        return (c.cue_kind != "signed", c.phase is None, value)

    return max(bound, key=rank)


def _alias_company(doc: Doc, group: _Group, main: Name) -> Span | None:
    """创力电梯项目 elsewhere for 江苏创力电梯垂直电梯部件…项目: the company is 江苏创力电梯."""
    s = doc.s
    for key in group.keys:
        if not 2 <= len(key) <= 6:
            continue
        at = s.find(key, main.start, main.end)
        if 0 <= at - main.start <= 4 and main.end - (at + len(key)) > 2:
            return (main.start, at + len(key))
    return None


def _company(doc: Doc, group: _Group, main: Name, orgs: dict[str, Span], rules: RuleSet) -> str | None:
    for mention in group.mentions:
        if mention.company is not None:
            return doc.orig(mention.company[0], mention.company[1])
    # The main name first, then the others; each name once (the same name finds the same company).
    for name in dict.fromkeys([main, *(m.name for m in group.mentions)]):
        span = company_of(doc, name, orgs, rules)
        if span is not None:
            return doc.orig(span[0], span[1])
    span = _alias_company(doc, group, main) or region_brand(doc, main, rules)
    return doc.orig(span[0], span[1]) if span is not None else None


def _sentence_text(doc: Doc, pos: int, rules: RuleSet) -> str:
    lo, hi = doc.window(doc.sentence(pos), pos, rules.limits.sentence_window)
    return doc.orig(lo, hi).strip()


def _stage(doc: Doc, group: _Group, words: StageWords, rules: RuleSet) -> Stage:
    """The furthest stage any mention of the project states."""
    names = tuple((m.name.start, m.name.end) for m in group.mentions)
    best, best_rank = Stage.UNKNOWN, 0
    for m in group.mentions:
        cue = m.figure.figure.cue if m.figure is not None else None
        planned = cue is not None and cue.word in rules.stage.planned_cues
        stage = stage_near(doc, m.pos, rules, names, planned, words)
        if rank(stage) > best_rank:  # the first of equally far stages stays, as max() keeps it
            best, best_rank = stage, rank(stage)
    return best


def _land(doc: Doc, group: _Group, best: Mention | None, rules: RuleSet) -> Decimal | None:
    """占地 N 亩 in the sentence of the investment figure, else of any mention."""
    for pos in dict.fromkeys([m.pos for m in ([best] if best else []) + group.mentions]):  # each place once
        lo, hi = doc.window(doc.sentence(pos), pos, rules.limits.sentence_window)
        land = land_near(doc, lo, hi, rules)
        if land is not None:
            return land
    return None


def _project(doc: Doc, group: _Group, orgs: dict[str, Span], words: StageWords, rules: RuleSet) -> Project:
    best = _best_figure(group)
    c = best.figure if best is not None else None
    main = best.name if best else max((m.name for m in group.mentions), key=lambda n: n.end - n.start)
    cap = capacity_in(doc, main.start, main.end, rules)
    industry = rules.names.industries.find_first(doc.s, main.start, main.end)
    return Project(
        name=doc.orig(main.start, main.end),
        company=_company(doc, group, main, orgs, rules),
        investment_yi=c.figure.value_yi if c else None,
        currency=c.figure.currency if c else rules.money.default_currency,
        amount_text=doc.orig(c.figure.start, c.figure.end) if c else None,
        approximate=c.figure.approximate if c else False,
        stage=_stage(doc, group, words, rules),
        phase=c.phase if c else None,
        land_mu=_land(doc, group, best, rules),
        capacity=doc.orig(cap[0], cap[1]) if cap else None,
        industry=industry[1] if industry else None,
        evidence=_sentence_text(doc, best.pos if best else main.start, rules),
    )


def extract(text: str, rules: RuleSet) -> list[Project]:
    """The projects of one article, in order of first mention. May raise on a bug; see __init__."""
    doc, classified = analyse(text, rules)
    every = _all_names(doc, rules)
    mentions = bind(doc, classified, every, rules)
    mentions += [Mention(n, None, n.start) for n in every if usable(n) and substantive(doc, n, rules)]
    if not mentions:
        return []  # no project: no organisations or stage words to look for
    mentions.sort(key=lambda m: (m.pos, m.figure is None))
    orgs, words = org_mentions(doc, rules), stage_words(doc, rules)
    return [_project(doc, g, orgs, words, rules) for g in _group(doc, mentions, rules)]

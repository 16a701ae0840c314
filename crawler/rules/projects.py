"""Assembling projects: mentions of the same project across an article become one Project."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from crawler.models import Amount, Project, Stage
from crawler.rules.binding import Mention, bind
from crawler.rules.companies import company_of, org_lengths, org_mentions, region_brand
from crawler.rules.kinds import Classified, classify
from crawler.rules.money import scan_figures
from crawler.rules.names import Name, Span, name_before, name_ending, substantive
from crawler.rules.ruleset import RuleSet
from crawler.rules.stage import TOP_RANK, StageWords, capacity_in, land_near, rank, stage_near, stage_words
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
    longest, limit, last = len(rules.names.strong_suffixes.words[0]), rules.limits.max_mentions, 0
    for match in pattern.finditer(doc.s):
        if len(out) >= limit:
            break
        start, end = match.span()
        # The suffix name_before would look up is the one matched, unless a longer one ends here that the
        # scan stepped over (the match before reached into it) or that name_before does not reach (over 8).
        if last <= end - longest and longest <= 8:
            name = name_ending(doc, end, start, rules)
        else:
            name = name_before(doc, end, rules)
        last = end
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
    """Name keys to groups: a key joins the group of an equal key, else of the least key containing it,
    else of the key contained in it whose first 4 characters come first in it (then the least); the
    shorter key has at least 4 characters. Every long key is tried: an article has a handful, and an
    index of their 4-character pieces cost more to build than all the tries."""

    def __init__(self) -> None:
        self.groups: list[_Group] = []
        self.exact: dict[str, _Group] = {}
        self.longs: list[str] = []  # the keys of 4 characters or more

    def find(self, key: str) -> _Group | None:
        if key in self.exact:
            return self.exact[key]
        if len(key) < 4:
            return None
        containing = [other for other in self.longs if key in other]
        if containing:
            return self.exact[min(containing)]
        contained = [other for other in self.longs if other in key]
        if contained:
            return self.exact[min(contained, key=lambda other: (key.find(other[:4]), other))]
        return None

    def add(self, key: str, group: _Group) -> None:
        self.exact[key] = group
        group.keys.add(key)
        if len(key) >= 4:
            self.longs.append(key)


def _group(doc: Doc, mentions: list[Mention], rules: RuleSet) -> list[_Group]:
    index = _Index()
    keys: dict[tuple[int, int], str] = {}  # a name's key, made once for all its mentions
    for mention in mentions:
        span = (mention.name.start, mention.name.end)
        key = keys.get(span)
        if key is None:
            key = keys[span] = _key(doc, mention.name, rules)
        group = index.find(key)
        if group is None:
            group = _Group([])
            index.groups.append(group)
        group.mentions.append(mention)
        if key not in index.exact:
            index.add(key, group)
    return index.groups


def _best_figure(group: _Group) -> Mention | None:
    """Total investment over a signed amount, a whole project over a phase, then the largest; the first of
    equals, as max() would keep it (a loop: max(key=) parses its keyword on every call, at more cost)."""
    best, best_rank = None, None
    for m in group.mentions:
        c = m.figure
        if c is None:
            continue
        value = float(c.figure.value_yi) if c.figure.value_yi is not None else -1.0
        rank = (c.cue_kind != "signed", c.phase is None, value)
        if best_rank is None or rank > best_rank:
            best, best_rank = m, rank
    return best


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


@dataclass(frozen=True, slots=True)
class _Article:
    """What the projects of one text have in common, found once for them all."""

    orgs: dict[str, Span]  # org_mentions
    org_lengths: tuple[int, ...]  # org_lengths(orgs)
    words: StageWords  # stage_words
    land: bool  # some land.markers word occurs: else no sentence needs reading for 占地 N 亩


def _article(doc: Doc, rules: RuleSet) -> _Article:
    orgs = org_mentions(doc, rules)
    cores = rules.derived.land_cores
    land = cores is None or any(word in doc.s for word in cores)  # str's search: a tenth of a pattern's
    return _Article(orgs, org_lengths(orgs), stage_words(doc, rules), land)


def _company(doc: Doc, group: _Group, main: Name, article: _Article, rules: RuleSet) -> str | None:
    for mention in group.mentions:
        if mention.company is not None:
            return doc.orig(mention.company[0], mention.company[1])
    # The main name first, then the others; each name once (the same name finds the same company): told
    # apart by their fields, as Name's equality does, without its hash written in Python.
    asked: set[tuple[int, int, bool, bool]] = set()
    for name in [main, *(m.name for m in group.mentions)]:
        fields = (name.start, name.end, name.backref, name.generic)
        if fields in asked:
            continue
        asked.add(fields)
        span = company_of(doc, name, article.orgs, rules, article.org_lengths)
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
        stage_rank = rank(stage)
        if stage_rank > best_rank:  # the first of equally far stages stays, as max() keeps it
            best, best_rank = stage, stage_rank
            if best_rank == TOP_RANK:
                break  # no later mention can go further
    return best


def _land(doc: Doc, group: _Group, best: Mention | None, rules: RuleSet) -> Decimal | None:
    """占地 N 亩 in the sentence of the investment figure, else of any mention."""
    for pos in dict.fromkeys([m.pos for m in ([best] if best else []) + group.mentions]):  # each place once
        lo, hi = doc.window(doc.sentence(pos), pos, rules.limits.sentence_window)
        land = land_near(doc, lo, hi, rules)
        if land is not None:
            return land
    return None


def _project(doc: Doc, group: _Group, article: _Article, rules: RuleSet) -> Project:
    best = _best_figure(group)
    c = best.figure if best is not None else None
    main = best.name if best else max((m.name for m in group.mentions), key=lambda n: n.end - n.start)
    cap = capacity_in(doc, main.start, main.end, rules)
    industry = rules.names.industries.find_first(doc.s, main.start, main.end)
    return Project(
        name=doc.orig(main.start, main.end),
        company=_company(doc, group, main, article, rules),
        investment_yi=c.figure.value_yi if c else None,
        currency=c.figure.currency if c else rules.money.default_currency,
        amount_text=doc.orig(c.figure.start, c.figure.end) if c else None,
        approximate=c.figure.approximate if c else False,
        stage=_stage(doc, group, article.words, rules),
        phase=c.phase if c else None,
        land_mu=_land(doc, group, best, rules) if article.land else None,
        capacity=doc.orig(cap[0], cap[1]) if cap else None,
        industry=industry[1] if industry else None,
        evidence=_sentence_text(doc, best.pos if best else main.start, rules),
    )


def extract(text: str, rules: RuleSet) -> list[Project]:
    """The projects of one article, in order of first mention. May raise on a bug; see __init__."""
    doc, classified = analyse(text, rules)
    every = _all_names(doc, rules)
    mentions = bind(doc, classified, every, rules)
    # usable(n), spelt out: a call per name
    mentions += [
        Mention(n, None, n.start) for n in every if not (n.generic or n.backref) and substantive(doc, n, rules)
    ]
    if not mentions:
        return []  # no project: no organisations or stage words to look for
    mentions.sort(key=lambda m: (m.pos, m.figure is None))
    article = _article(doc, rules)
    return [_project(doc, g, article, rules) for g in _group(doc, mentions, rules)]

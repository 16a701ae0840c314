"""The company behind a project name, from the name itself or from the article around it."""

from __future__ import annotations

from crawler.rules.names import Name, Span, strip_front, walk_back
from crawler.rules.ruleset import RuleSet
from crawler.rules.text import Doc


def org_in_name(doc: Doc, name: Name, rules: RuleSet) -> Span | None:
    """东莞市美锦电子材料有限公司 | 光学纳米分子材料项目; 双良集团 | 40gw单晶硅项目."""
    pattern = rules.names.org_suffixes.pattern
    if pattern is None:
        return None
    best = None
    for match in pattern.finditer(doc.s, name.start, name.end):
        if match.start() - name.start >= 2 and name.end - match.end() >= 2:
            best = (name.start, match.end())
    return best


def capacity_split(doc: Doc, name: Name, rules: RuleSet) -> Span | None:
    """利晨科技 | 年产3800吨抛光粉…项目: a short name in front of the capacity wording."""
    found = rules.names.capacity_markers.find_first(doc.s, name.start, name.end)
    if found is None or not 2 <= found[0] - name.start <= 10:
        return None
    span = (name.start, found[0])
    if rules.names.generic_words.ends_at(doc.s, span[1], span[0]) == doc.s[span[0] : span[1]]:
        return None
    return span


def region_brand(doc: Doc, name: Name, rules: RuleSet) -> Span | None:
    """四川航天拓新 | 玄武岩精深加工: region + a 2-4 character brand, then the industry."""
    s, names = doc.s, rules.names
    region = names.regions.starts_at(s, name.start, name.end)
    if region is None:
        return None
    brand = name.start + len(region)
    for pos in range(brand + 2, min(brand + 5, name.end)):
        if names.industries.starts_at(s, pos, name.end):
            return (name.start, pos)
    return None


def company_before(doc: Doc, name: Name, rules: RuleSet) -> Span | None:
    """江苏三木集团举行 | 65万吨…项目签约仪式: the organisation acting on the project."""
    s, names = doc.s, rules.names
    lo = doc.clause(name.start)[0]
    verb = names.company_verbs.ends_at(s, name.start, lo)
    if verb is None:
        return None
    end = name.start - len(verb)
    suffix = names.org_suffixes.ends_at(s, end, lo)
    if suffix is None:
        return None
    start = walk_back(doc, end, end - len(suffix), rules)
    start, _ = strip_front(doc, start, end, rules)
    return (start, end) if end - start - len(suffix) >= 2 else None


def org_mentions(doc: Doc, rules: RuleSet) -> dict[str, Span]:
    """Organisations named in the text (…集团, …有限公司) by their short form (中船 for 中船集团)."""
    pattern = rules.names.org_suffixes.pattern
    out: dict[str, Span] = {}
    if pattern is None:
        return out
    for n, match in enumerate(pattern.finditer(doc.s)):
        if n >= rules.limits.max_mentions:
            break
        start = walk_back(doc, match.end(), match.start(), rules)
        if match.start() - start < 2:
            continue  # stripping only takes more away
        start, _ = strip_front(doc, start, match.end(), rules)
        if match.start() - start >= 2:
            out.setdefault(doc.s[start : match.start()], (start, match.end()))
    return out


def org_lengths(orgs: dict[str, Span]) -> tuple[int, ...]:
    """The distinct lengths of the short forms in ``orgs`` (of 2 characters or more), longest first."""
    return tuple(sorted({len(k) for k in orgs if len(k) >= 2}, reverse=True))


def known_org(
    doc: Doc, name: Name, orgs: dict[str, Span], rules: RuleSet, lengths: tuple[int, ...] | None = None
) -> Span | None:
    """中船 | 清洁能源装备基地项目, with 中船集团 named elsewhere: the name opens with its short form.
    ``lengths``: ``org_lengths(orgs)``, which a caller asking for many names computes once."""
    longest = min(name.end - name.start - 2, rules.limits.name_max_chars)
    for size in org_lengths(orgs) if lengths is None else lengths:  # only the lengths of orgs can match
        if size > longest:
            continue
        span = orgs.get(doc.s[name.start : name.start + size])
        if span is not None:
            return span
    return None


def company_of(
    doc: Doc, name: Name, orgs: dict[str, Span], rules: RuleSet, lengths: tuple[int, ...] | None = None
) -> Span | None:
    for finder in (org_in_name, capacity_split, company_before):
        span = finder(doc, name, rules)
        if span is not None:
            return span
    return known_org(doc, name, orgs, rules, lengths)

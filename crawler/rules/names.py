"""Where a project name starts and ends, and which company stands in front of it.

Names are scanned outward from a fixed point (a 项目 suffix, or the 的 after an amount),
stopping at punctuation and at the verbs that surround names in reporting (举行X项目签约仪式,
以X项目为抓手, X项目能够如期落地). A list joined by 、 stays one name when its items are
product lines of one project (年产5万吨A、3万吨B项目).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.rules.ruleset import RuleSet
from crawler.rules.text import Doc

Span = tuple[int, int]


# Not frozen, as it is never changed: built for every name, and a frozen dataclass costs three times
# as much to build. unsafe_hash keeps it hashable as a frozen one was.
@dataclass(slots=True, unsafe_hash=True)
class Name:
    start: int
    end: int
    backref: bool  # 该项目 / 此次落地的…项目: refers back to the last named project
    generic: bool  # 重点项目, 一期项目, 32个重大产业项目: not a name of one project


def _stops_before(s: str, i: int, floor: int, rules: RuleSet) -> bool:
    """A stop word or an object verb ends at ``i`` (one look-up in the two lists joined)."""
    return rules.derived.stops.ends_at(s, i, floor) is not None


def _item_back(doc: Doc, sep: int, floor: int, rules: RuleSet) -> bool:
    """Whether a backward scan may cross the 、 at ``sep``: the item before it is a product line."""
    s, i = doc.s, sep
    while i > floor and s[i - 1] not in rules.text.name_breaks and s[i - 1] not in rules.text.list_separators:
        i -= 1
    if rules.names.any_suffixes.ends_at(s, sep, i) or rules.kinds.cues.occurs(s, i, sep):
        return False
    if not any(map(str.isdigit, s[i:sep])):  # 65万吨/年苯酚丙酮、…: product lines carry capacities
        return False
    return rules.money.currencies.find_first(s, i, sep) is None


QUOTES = {"“": "”", "「": "」", "『": "』", "‘": "’"}  # opener: closer
_CLOSERS = {v: k for k, v in QUOTES.items()}


def _quoted(s: str, i: int, lo: int, hi: int, rules: RuleSet) -> int | None:
    """新田岭“分布式光伏+绿色矿山建设”项目: the other end of the quote at ``i`` when the quoted
    words are part of a name (short, no sentence or clause punctuation inside)."""
    ch = s[i]
    other = QUOTES.get(ch) or _CLOSERS.get(ch)
    if other is None:
        return None
    j = s.find(other, i + 1, hi) if ch in QUOTES else s.rfind(other, lo, i)
    if j < 0:
        return None
    inside = s[min(i, j) + 1 : max(i, j)]
    if not 2 <= len(inside) <= 30 or any(c in rules.text.clause_ends or c in rules.text.sentence_ends for c in inside):
        return None
    return j


def walk_back(doc: Doc, end: int, keep: int, rules: RuleSet) -> int:
    """Start of the name ending at ``end``; stop words are ignored inside [keep, end). The scan goes back
    name_max_chars at most and never past the start of its paragraph, which it finds by meeting the line
    end before it (most names stop long before one): looked up only where a test below needs it."""
    s, text = doc.s, rules.text
    reach = end - rules.limits.name_max_chars
    floor = reach if reach > 0 else 0
    marks, stops = rules.derived.back_marks, rules.derived.stops  # _stops_before, inline: a call per stop
    i = end
    while i > floor:
        ch = s[i - 1]
        if ch not in marks:
            i -= 1  # most characters: none of the tests below can stop the scan there
            continue
        if ch == "\n" and i < end:
            break  # the paragraph starts at i
        if ch in _CLOSERS and i < end:
            j = _quoted(s, i - 1, doc.paragraph_start(end - 1, reach), end, rules)
            if j is not None:
                i = j  # “X”项目: the quoted words belong to the name
                continue
        if ch in text.name_breaks:
            break
        if ch in text.list_separators:
            if i - 1 < keep and _item_back(doc, i - 1, doc.paragraph_start(end - 1, reach), rules):
                i -= 1
                continue
            break
        # A stop word ends here; one holding a line end may reach into the paragraph before, which it must not.
        if (
            i <= keep
            and ch in stops.end_sizes
            and (word := stops.ends_at(s, i, floor)) is not None
            and ("\n" not in word or stops.ends_at(s, i, doc.paragraph_start(end - 1, reach)) is not None)
        ):
            break
        i -= 1
    return i


def _item_forward(doc: Doc, sep: int, hi: int, rules: RuleSet) -> bool:
    """Whether a forward scan may cross the 、 at ``sep``: the next item ends the name with a suffix."""
    s, j = doc.s, sep + 1
    while j < hi and s[j] not in rules.text.name_breaks and s[j] not in rules.text.list_separators:
        j += 1
    if j == sep + 1 or rules.kinds.cues.occurs(s, sep + 1, j) or rules.money.currencies.occurs(s, sep + 1, j):
        return False
    found = rules.names.any_suffixes.find_last(s, sep + 1, j)
    return found is not None and not rules.names.stop_after.occurs(s, sep + 1, found[0])


def walk_forward(doc: Doc, start: int, rules: RuleSet) -> int:
    """End of the stretch after ``start`` that may hold a name (before punctuation or a stop word)."""
    s, names = doc.s, rules.names
    hi = doc.paragraph_end(start, start + rules.limits.name_max_chars)
    # As in walk_back: visit only the characters that can stop the scan (or open a quote), left to right.
    i = start
    for mark in rules.derived.forward_marks.finditer(s, start, hi):
        if (at := mark.start()) < i:
            continue  # inside quoted words stepped over
        ch = s[at]
        if ch in QUOTES and (j := _quoted(s, at, start, hi, rules)) is not None and j + 1 < hi:
            i = j + 1  # “长隆国际海洋度假区”项目
            continue
        if ch in rules.text.name_breaks:
            return at
        if at > start and names.stop_after.starts_at(s, at, hi):
            return at
        if ch in rules.text.list_separators and (
            names.any_suffixes.ends_at(s, at, start) or not _item_forward(doc, at, hi, rules)
        ):
            return at
        i = at + 1
    return hi if hi > start else start


def strip_front(doc: Doc, start: int, end: int, rules: RuleSet) -> tuple[int, bool]:
    """Drop descriptors, dates and back-reference words from the front; report a back-reference."""
    s, names = doc.s, rules.names
    firsts, anywhere = rules.derived.front_firsts, not rules.derived.strip_at_text_start
    if start > 0 and not anywhere and (start >= end or (s[start] not in firsts and s[start] not in ")）")):
        return start, False  # most names: nothing below could strip a character
    backref = False
    for _ in range(8):
        if start < end and s[start] in firsts:  # most names open with neither: skip both look-ups
            word = names.strip_prefixes.starts_at(s, start, end)
            if word:
                backref = backref or word in names.backrefs
                start += len(word)
                continue
            lead = names.lead_verbs.starts_at(s, start, end)
            after = start + len(lead) if lead else start
            if lead and after < end and (s[after].isdigit() or names.capacity_markers.starts_at(s, after, end)):
                start = after  # 建设年产4GWh…项目
                continue
        match = _prefix_pattern(s, start, end, rules) if anywhere or start == 0 else None  # ^… past offset 0: no
        if match is None:
            break
        start = match.end()
    while start < end and s[start] in ")）":
        start += 1
    return start, backref


def _prefix_pattern(s: str, start: int, end: int, rules: RuleSet) -> re.Match[str] | None:
    """The first strip_prefix_patterns match of some length at ``start``; most names have none, and
    one match of all the patterns together (``strip_hint``) says so."""
    hint = rules.derived.strip_hint
    if hint is not None and hint.match(s, start, end) is None:
        return None
    patterns = rules.names.strip_prefix_patterns
    return next((m for p in patterns if (m := p.match(s, start, end)) and m.end() > start), None)


def is_generic(doc: Doc, start: int, end: int, rules: RuleSet) -> bool:
    """重点项目, 新兴产业项目, 32个重大产业项目, 一期项目: no name of its own.

    Read in place, s[start:end] (the words, the count pattern and the suffix look at nothing outside it):
    the name is copied out only when a count is cut from it or the slow test below needs its core."""
    s, descriptors = doc.s, rules.names.descriptor_prefixes
    # The first character looked at before the look-up is called: most names open with no descriptor.
    if start < end and s[start] in descriptors.start_sizes and descriptors.starts_at(s, start, end):
        return True  # 又一清洁能源项目, 首个项目: a description, not a name
    count = rules.kinds.find_count(s, start, end)
    if count is not None:  # 32个重大产业项目 is a class; A和B两个项目 names two
        s = s[start : count.start()] + s[count.end() : end]
        start, end = 0, len(s)
    suffix = rules.names.any_suffixes.ends_at(s, end, start) or ""
    core_end = end - len(suffix)
    if core_end - start < 2:
        return True  # what follows only takes characters away
    derived = rules.derived
    kept = derived.kept_char.search(s, start, core_end)
    if kept is not None and derived.kept_char.search(s, kept.end(), core_end):
        return False  # two characters no step below removes: most names end here
    core = s[start:core_end]
    for pattern in derived.generic_long:  # one-character words (市, 新) go only when nothing else is left
        core = pattern.sub("", core)
    core = derived.figure_chars.sub("", core).strip()  # digits, numerals, 亿/万
    return len(core) < 2 or derived.generic_chars.issuperset(core)


def substantive(doc: Doc, name: Name, rules: RuleSet) -> bool:
    """Whether a name met without an amount names one project (not 落实项目, 重点招商引资项目)."""
    s, names = doc.s, rules.names
    suffix = names.any_suffixes.ends_at(s, name.end, name.start) or ""
    core_end = name.end - len(suffix)
    if core_end - name.start < 4 or names.generic_words.ends_at(s, core_end, name.start):
        return False
    if names.area_endings.ends_at(s, core_end, name.start):
        return False
    if not any(map(str.isdigit, s[name.start : core_end])) and not (
        names.industries.occurs(s, name.start, core_end)
        or names.org_suffixes.occurs(s, name.start, core_end)
        or names.capacity_markers.occurs(s, name.start, core_end)
    ):
        return False
    return not rules.kinds.find_count(s, name.start, name.end)  # the dearest test last


def _clause_backref(doc: Doc, start: int, rules: RuleSet) -> bool:
    """此次落地抚顺高新区的…项目: the clause opens with a back-reference word."""
    s, backrefs = doc.s, rules.names.backrefs
    lo = doc.clause_start(start)
    while lo < start and s[lo].isspace():
        lo += 1
    # The first character looked at before the look-up is called: most clauses open with no back-reference.
    return lo < start and s[lo] in backrefs.start_sizes and backrefs.starts_at(s, lo, start) is not None


def finish(doc: Doc, start: int, end: int, rules: RuleSet) -> Name | None:
    start, backref = strip_front(doc, start, end, rules)
    if end - start < 2:
        return None
    generic = is_generic(doc, start, end, rules)
    backref = backref or _clause_backref(doc, start, rules)
    return Name(start, end, backref, generic)


def name_before(doc: Doc, end: int, rules: RuleSet, strong: bool = True) -> Name | None:
    """The name that ends at ``end`` with a suffix (…X项目 | 总投资…)."""
    suffixes = rules.names.strong_suffixes if strong else rules.names.any_suffixes
    suffix = suffixes.ends_at(doc.s, end, end - 8 if end > 8 else 0)
    if suffix is None:
        return None
    return name_ending(doc, end, end - len(suffix), rules)


def name_ending(doc: Doc, end: int, keep: int, rules: RuleSet) -> Name | None:
    """The name that ends at ``end`` with the suffix s[keep:end]."""
    return finish(doc, walk_back(doc, end, keep, rules), end, rules)


def name_after(doc: Doc, start: int, rules: RuleSet, require_suffix: bool) -> Name | None:
    """The name that starts at ``start`` (…亿元的 | X项目 …). Asked again for the same place (a figure's
    kind, then its binding), it answers from the text's memo."""
    memo = doc.memo(rules)
    key = (name_after, start, require_suffix)
    if key not in memo:
        name, suffixed = _name_after(doc, start, rules, require_suffix)
        memo[key] = name
        if suffixed:  # a name found up to its suffix is found whether one is required or not
            memo[name_after, start, not require_suffix] = name
    found: Name | None = memo[key]
    return found


def _name_after(doc: Doc, start: int, rules: RuleSet, require_suffix: bool) -> tuple[Name | None, bool]:
    """The name after ``start``, and whether it was found up to a suffix."""
    s = doc.s
    lead = rules.names.lead_verbs.starts_at(s, start)
    if lead:
        start += len(lead)
    stop = walk_forward(doc, start, rules)
    found = rules.names.any_suffixes.find_last(s, start, stop)
    if found is not None:
        return finish(doc, start, found[0] + len(found[1]), rules), True
    if require_suffix or not 4 <= stop - start <= 30 or (s[start].isdigit() and stop - start < 6):
        return None, False
    return finish(doc, start, stop, rules), False

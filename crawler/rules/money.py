"""Finding money figures: scanning from each unit word (亿, 万, 万亿) back to its number.

Scanning outward from unit words keeps the work linear: no pattern ever runs over a long run
of digits, so no input can make it backtrack.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from loguru import logger

from crawler.rules.numbers import NumberSpan, number_before, parse_number
from crawler.rules.ruleset import RuleSet
from crawler.rules.text import Doc


# Not frozen, as it is never changed: built for every figure, and a frozen dataclass costs three times
# as much to build. unsafe_hash keeps it hashable as a frozen one was.
@dataclass(slots=True, unsafe_hash=True)
class Cue:
    word: str
    kind: str  # a tag of kinds.cues: investment, signed, aggregate, output_value ...
    start: int
    linker: str  # what stood between cue and figure: 为, 达, 分别为 ...


# Not frozen, as it is never changed: built for every figure, and a frozen dataclass costs three times
# as much to build. unsafe_hash keeps it hashable as a frozen one was.
@dataclass(slots=True, unsafe_hash=True)
class Figure:
    """A money figure with its wording, before its kind is decided."""

    start: int  # the wording, cue included
    end: int
    num_start: int  # the figure itself: bound word, range, number
    num_end: int  # ... through the unit and currency
    value_yi: Decimal | None
    currency: str
    approximate: bool
    cue: Cue | None
    after: str  # bound word after the figure: 以上, 左右 ('' when none)


def cue_before(s: str, pos: int, lo: int, rules: RuleSet) -> Cue | None:
    """The cue word ending at ``pos``, across linkers (签约额达, 总投资分别为, 到位资金实现)."""
    j = pos
    linkers: list[str] = []
    for _ in range(5):
        word = rules.kinds.cues.ends_at(s, j, lo)
        if word:
            return Cue(word, rules.kinds.cues.tag(word), j - len(word), "".join(reversed(linkers)) if linkers else "")
        link = rules.kinds.linkers.ends_at(s, j, lo) or rules.money.approx_before.ends_at(s, j, lo)
        if not link:
            return None
        linkers.append(link)
        j -= len(link)
    return None


def _number_after(s: str, pos: int, rules: RuleSet) -> tuple[int, Decimal] | None:
    """A number then a unit starting at ``pos`` (the high end of 5亿-8亿元): (end, value in 亿)."""
    m, i = rules.money, pos
    while i < len(s) and i - pos < rules.limits.number_max_chars and s[i] in m.number_chars:
        i += 1
    unit = m.units.starts_at(s, i)
    value = parse_number(s[pos:i], m) if unit else None
    if unit is None or value is None:
        return None
    return i + len(unit), value * m.unit_scale[unit]


def _pick(low: Decimal, high: Decimal, rules: RuleSet) -> Decimal:
    low, high = min(low, high), max(low, high)
    return high if rules.money.range_value == "high" else low


@dataclass(slots=True)
class _Scan:
    """Mutable state of one figure while it is being read."""

    num_start: int
    pos: int  # end of what has been read after the number
    value: Decimal | None  # in 亿 of the original currency
    approximate: bool = False


def _read_left(s: str, ustart: int, unit: str, lo: int, rules: RuleSet) -> _Scan | None:
    """Number, 余/多, range start, bound word and vague word before the unit."""
    m = rules.money
    j, approx = ustart, False
    between = m.approx_between.ends_at(s, j, lo)
    if between:
        j, approx = j - len(between), True
    num: NumberSpan | None = number_before(s, j, lo, m, rules.limits.number_max_chars)
    if num is None:
        return None
    scale = m.unit_scale[unit]
    value = None if num.value is None else num.value * scale
    scan = _Scan(num.start, ustart + len(unit), value, approx)
    # Most numbers follow a cue's last character (总投资50亿元), which ends none of the words below.
    if scan.num_start > lo and s[scan.num_start - 1] in rules.derived.number_lead_lasts:
        _read_lead(s, scan, scale, lo, rules)
    return scan


def _read_lead(s: str, scan: _Scan, scale: Decimal, lo: int, rules: RuleSet) -> None:
    """The vague word, range start and bound word before the number (十几亿, 5-8亿, 超过5亿)."""
    m = rules.money
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
    if bound and not (cue and len(cue) > len(bound)):  # 签约117亿元: 约 belongs to the cue 签约
        scan.num_start, scan.approximate = scan.num_start - len(bound), True


def _read_right(s: str, scan: _Scan, hi: int, rules: RuleSet) -> str:
    """Range end, 多, currency and bound word after the unit; returns the currency word."""
    m = rules.money
    if scan.pos < len(s) and s[scan.pos] in rules.derived.unit_follow_firsts:  # most units: 元 follows
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


def implied_currency(s: str, rules: RuleSet) -> str | None:
    """新台币 named in a text with no 人民币: the currency of its plain 元 figures (Taiwan news)."""
    m = rules.money
    if not any(word in s for word in rules.derived.implied_cores):
        return None  # most texts: str's search goes through a text ten times as fast as a pattern's
    found = m.implied_currencies.find_first(s, 0, len(s))
    if found is None or m.currencies.pattern is None:
        return None
    for match in m.currencies.pattern.finditer(s):
        word = match.group()
        if m.currency_of[word].code == m.default_currency and word not in m.plain_currency_words:
            return None
    return found[1]


def _figure_at(doc: Doc, ustart: int, unit: str, rules: RuleSet, implied: str | None) -> Figure | None:
    s, m = doc.s, rules.money
    lo, hi = doc.clause(ustart)
    # Conditionals, not max(): in Python 3.11 max() parses keyword arguments on every call, at five times the cost.
    if lo < (reach := ustart - rules.limits.clause_window):
        lo = reach
    scan = _read_left(s, ustart, unit, lo, rules)
    if scan is None:
        return _damaged_at(doc, ustart, unit, rules)
    currency = _read_right(s, scan, hi, rules)
    num_end = scan.pos
    after = m.approx_after.starts_at(s, num_end, hi) or ""
    cue_lo = scan.num_start - rules.limits.cue_window
    cue = cue_before(s, scan.num_start, lo if lo > cue_lo else cue_lo, rules)
    end = num_end + len(after)
    if cue is None:
        word = rules.kinds.cues_after.starts_at(s, end, hi)
        if word:
            cue = Cue(word, rules.kinds.cues_after.tag(word), end, "")
    if not currency and not _bare_money(s, cue, end, hi, rules):
        return None  # 40亿片, 600亿度, 65万吨: no currency and no money word beside it
    if cue is not None and cue.start >= end:
        end = cue.start + len(cue.word)
    code, value = m.default_currency, scan.value
    word = implied if implied and (not currency or currency in m.plain_currency_words) else currency
    if word:
        code = m.currency_of[word].code
        value = None if value is None else value * m.currency_of[word].rate
    start = cue.start if cue is not None and cue.start < scan.num_start else scan.num_start
    approx = scan.approximate or bool(after)
    return Figure(start, end, scan.num_start, num_end, _tidy(value), code, approx, cue, after)


_ONE = Decimal(1)


def _tidy(value: Decimal | None) -> Decimal | None:
    """2.13000 -> 2.13, 100 stays 100 (not 1E+2)."""
    if value is None:
        return None
    return value.quantize(_ONE) if value == value.to_integral_value() else value.normalize()


def _bare_money(s: str, cue: Cue | None, end: int, hi: int, rules: RuleSet) -> bool:
    if cue is None:
        return bool(rules.money.bare_cues_after.starts_at(s, end, hi))
    return bool(rules.money.bare_cues_before.ends_at(cue.word, len(cue.word))) or cue.start >= end


def _damaged_at(doc: Doc, ustart: int, unit: str, rules: RuleSet) -> Figure | None:
    """An investment cue right before the unit, the digits lost: 总投资亿元 (but not 亿元以上)."""
    s = doc.s
    lo, hi = doc.clause(ustart)
    cue = cue_before(s, ustart, max(lo, ustart - rules.limits.cue_window), rules)
    if cue is None or cue.kind not in ("investment", "signed") or cue.linker:
        return None
    end = ustart + len(unit)
    currency = rules.money.currencies.starts_at(s, end, hi) or ""
    end += len(currency)
    if rules.money.approx_after.starts_at(s, end, hi) or rules.kinds.threshold_after.starts_at(s, end, hi):
        return None
    code = rules.money.currency_of[currency].code if currency else rules.money.default_currency
    return Figure(cue.start, end, ustart, end, None, code, False, cue, "")


def scan_figures(doc: Doc, rules: RuleSet) -> list[Figure]:
    """Every money figure in the text, in order, at most ``limits.max_amounts``."""
    figures: list[Figure] = []
    last_end, tried = 0, 0
    implied = implied_currency(doc.s, rules)
    most = rules.limits.max_amounts
    for match in rules.money.anchor.finditer(doc.s):
        if (at := match.start()) < last_end:
            continue
        tried += 1
        if len(figures) >= most or tried > 4 * most:
            logger.warning(
                "rules: {} money figures among the first {} unit words (limits.max_amounts {}); the rest are ignored",
                len(figures),
                tried - 1,
                most,
            )
            break
        figure = _figure_at(doc, at, match.group(), rules, implied)
        if figure is not None:
            figures.append(figure)
            last_end = figure.end
    return figures

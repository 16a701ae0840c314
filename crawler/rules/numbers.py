"""Numbers as Chinese news writes them: 1,088.57 / 132。9 / 3千 / 五十 / 一百二十 / 百."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from crawler.rules.ruleset import MoneyRules

_PLAIN = re.compile(r"\d+(?:\.\d+)?")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


# Not frozen, as it is never changed: built for every figure, and a frozen dataclass costs three times
# as much to build. unsafe_hash keeps it hashable as a frozen one was.
@dataclass(slots=True, unsafe_hash=True)
class NumberSpan:
    start: int
    value: Decimal | None  # None: scraping damage ("总投资.1亿元" lost its leading digits)


def _arabic(token: str, m: MoneyRules) -> Decimal | None:
    mult = 1
    if token and token[-1] in m.numeral_multipliers:  # 3千(万)
        mult = m.numeral_multipliers[token[-1]]
        token = token[:-1]
    for point in m.decimal_points:
        token = token.replace(point, ".")
    for sep in m.thousands_separators:
        if sep in token:
            if not _GROUPED.fullmatch(token.replace(sep, ",")):
                return None
            token = token.replace(sep, "")
    if not (token.isascii() and token.isdigit()) and not _PLAIN.fullmatch(token):  # plain digits: no pattern
        return None
    try:
        return Decimal(token) * mult
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None


def _chinese(token: str, m: MoneyRules) -> Decimal | None:
    total, digit, last_mult = 0, None, None
    for ch in token:
        if ch in m.numeral_digits:
            if digit is not None and digit != 0:
                return None  # 一二: two digits in a row
            digit = m.numeral_digits[ch]
        elif ch in m.numeral_multipliers:
            mult = m.numeral_multipliers[ch]
            if last_mult is not None and mult >= last_mult:
                return None  # 十百
            total += (1 if digit is None else digit) * mult
            digit, last_mult = None, mult
        else:
            return None
    return Decimal(total + (digit or 0)) if token else None


def parse_number(token: str, m: MoneyRules) -> Decimal | None:
    """The value of a number wording, or None when it is not one."""
    if not token:
        return None
    if token[0].isdigit():
        return _arabic(token, m)
    return _chinese(token, m)


def number_before(s: str, end: int, lo: int, m: MoneyRules, max_chars: int) -> NumberSpan | None:
    """The number that ends at ``end`` (scanning back at most ``max_chars``), if any."""
    i = end
    floor = lo if lo > end - max_chars else end - max_chars  # not max(): see Lexicon.occurs
    chars, points, seps = m.number_chars, m.decimal_points, m.thousands_separators  # read once per number
    while i > floor and s[i - 1] in chars:
        i -= 1
    while i < end and (s[i] in seps or (s[i] in points and s[i] != ".")):
        i += 1  # a clause comma or a sentence-final 。 is punctuation, not part of the number
    if i >= end:
        return None
    if s[i] == "." or s[end - 1] in points:
        digits = s[i:end].strip(".")
        return NumberSpan(i, None) if digits.isdigit() else None  # ".1亿元", "1.亿元": lost digits
    for j in range(i, end):
        if s[j] in points or s[j] in seps:
            continue
        value = parse_number(s[j:end], m)
        if value is not None:
            return NumberSpan(j, value)
    return None

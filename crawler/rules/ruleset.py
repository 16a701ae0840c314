"""The typed, compiled form of config/rules.yaml: built once by ``load_ruleset``, then read-only."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from crawler.rules.lexicon import Lexicon


@dataclass(frozen=True, slots=True)
class TextRules:
    sentence_ends: frozenset[str]
    clause_ends: frozenset[str]
    name_breaks: frozenset[str]
    list_separators: frozenset[str]
    joiners: Lexicon
    boundary: re.Pattern[str]  # any line, sentence or clause end
    noise: re.Pattern[str]  # dropped from the matching form: pinyin glosses, spaces


@dataclass(frozen=True, slots=True)
class Limits:
    max_amounts: int
    max_mentions: int
    number_max_chars: int
    cue_window: int
    clause_window: int
    sentence_window: int
    paragraph_window: int
    article_window: int
    future_reach: int
    name_max_chars: int
    count_gap_chars: int


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class MoneyRules:
    units: Lexicon
    unit_scale: Mapping[str, Decimal]
    currencies: Lexicon
    currency_of: Mapping[str, Currency]
    default_currency: str
    numeral_digits: Mapping[str, int]
    numeral_multipliers: Mapping[str, int]
    decimal_points: frozenset[str]
    thousands_separators: frozenset[str]
    approx_before: Lexicon
    approx_between: Lexicon
    approx_after: Lexicon
    vague_numbers: Lexicon
    range_separators: Lexicon
    range_value: str
    bare_cues_before: Lexicon
    bare_cues_after: Lexicon
    number_chars: frozenset[str]
    anchor: re.Pattern[str]  # a unit word right after a character that can end a number or a cue
    implied_currencies: Lexicon  # 新台币 named once: plain 元 figures are in it (Taiwan news)
    plain_currency_words: Lexicon  # 元: a currency word that does not name the currency


@dataclass(frozen=True, slots=True)
class KindRules:
    cues: Lexicon  # tag: investment, signed, aggregate, output_value, revenue, tax, funds_in_place, other
    cues_after: Lexicon
    linkers: Lexicon
    aggregate_context: Lexicon
    aggregate_area: Lexicon
    count_counters: Lexicon
    count_not_followed_by: Lexicon
    count_nouns: Lexicon
    count_prefixes: Lexicon
    threshold_after: Lexicon
    phase_words: Lexicon
    phase_share_markers: Lexicon
    count: re.Pattern[str]  # "N个…项目" or "项目N个": a count of projects
    count_hint: re.Pattern[str]  # a digit or numeral then a counter or noun (5个, 3项目): every count holds one

    def find_count(self, s: str, lo: int = 0, hi: int | None = None) -> re.Match[str] | None:
        """``count.search``, quick where no number stands before a counter or noun (most names and clauses)."""
        hi = len(s) if hi is None else hi
        return self.count.search(s, lo, hi) if self.count_hint.search(s, lo, hi) is not None else None


@dataclass(frozen=True, slots=True)
class NameRules:
    strong_suffixes: Lexicon
    any_suffixes: Lexicon  # strong suffixes and those allowed beside an amount
    stop_after: Lexicon
    stop_before: Lexicon
    strip_prefixes: Lexicon
    strip_prefix_patterns: tuple[re.Pattern[str], ...]
    generic_words: Lexicon
    backrefs: Lexicon
    lead_verbs: Lexicon
    object_verbs: Lexicon
    org_suffixes: Lexicon
    company_verbs: Lexicon
    capacity_markers: Lexicon
    regions: Lexicon
    industries: Lexicon
    area_endings: Lexicon
    descriptor_prefixes: Lexicon
    place_markers: Lexicon


@dataclass(frozen=True, slots=True)
class StageRules:
    words: Lexicon  # tag: a Stage value
    planned_cues: Lexicon
    future_before: Lexicon
    future_after: Lexicon
    negators: Lexicon
    event_before: Lexicon  # 集中开工: a stage word naming the article's event ...
    event_after: Lexicon  # ... or 开工仪式, 签约活动


@dataclass(frozen=True, slots=True)
class LandRules:
    markers: Lexicon
    units: Lexicon
    unit_scale: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class Derived:
    """Lookups computed once from the sections above (``derived.derive``), for the hot paths."""

    generic_long: tuple[re.Pattern[str], ...]  # names.generic_words, then kinds.phase_words, of 2+ characters
    generic_chars: frozenset[str]  # the one-character names.generic_words
    figure_chars: re.Pattern[str]  # money.number_chars and one-character money.units
    kept_char: re.Pattern[str]  # a character is_generic neither drops nor counts as generic
    sentence_marks: frozenset[str]  # text.sentence_ends and the line end
    decimal_marks: frozenset[str]  # boundary characters that end nothing between two digits (132。9亿元)
    stops: Lexicon  # names.stop_before and names.object_verbs in one: where a backward name scan stops
    front_firsts: frozenset[str]  # first characters of names.strip_prefixes and names.lead_verbs
    number_lead_lasts: frozenset[str]  # last characters of money.vague_numbers, range_separators, approx_before
    unit_follow_firsts: frozenset[str]  # first characters of money.range_separators and approx_between
    back_marks: frozenset[str]  # breaks, separators, closing quotes, last characters of stop words, line end
    strip_hint: re.Pattern[str] | None  # all names.strip_prefix_patterns in one (None: they cannot be joined)
    strip_at_text_start: bool  # names.strip_prefix_patterns all open with ^: they match only at offset 0
    forward_marks: re.Pattern[str]  # breaks, separators, opening quotes, first characters of stop words
    noise_starts: re.Pattern[str] | None  # any character a text.noise match can open with (None: unknown)
    land_cores: tuple[str, ...] | None  # land.markers holding no other: a text with one holds one (None: unknown)
    implied_cores: tuple[str, ...]  # money.implied_currencies holding no other (台币 for 新台币 and 台币)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything the extraction rules match, compiled. Build it with ``load_ruleset``."""

    file: str
    version: int
    threshold_yi: Decimal
    text: TextRules
    limits: Limits
    money: MoneyRules
    kinds: KindRules
    names: NameRules
    stage: StageRules
    land: LandRules
    derived: Derived

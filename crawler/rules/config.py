"""Reading and validating config/rules.yaml into a ``RuleSet``.

Every key is required and every unknown key is an error, so a misspelt key never silently
drops a word list. Errors are ``ConfigError`` naming the file and the dotted key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from crawler.errors import ConfigError
from crawler.models import AmountKind, Stage
from crawler.rules.derived import derive
from crawler.rules.lexicon import Lexicon
from crawler.rules.ruleset import (
    Currency,
    KindRules,
    LandRules,
    Limits,
    MoneyRules,
    NameRules,
    RuleSet,
    StageRules,
    TextRules,
)
from crawler.yamlcheck import parse_yaml

_TOP = ("version", "text", "threshold_yi", "limits", "money", "kinds", "names", "stage", "land")
_CUE_KINDS = ("investment", "signed", "aggregate", "output_value", "revenue", "tax", "funds_in_place", "other")
_AFTER_KINDS = frozenset(k.value for k in AmountKind)
_STAGES = tuple(s.value for s in Stage if s is not Stage.UNKNOWN)


class _Reader:
    """Typed accessors that raise ConfigError with the dotted key."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.file, key, problem)

    def section(self, data: Any, key: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(data, Mapping):
            raise self.fail(key, f"expected a mapping, got {type(data).__name__}")
        for name in data:
            if name not in allowed:
                where = f"{key}.{name}" if key else str(name)
                raise self.fail(where, f"unknown key (expected one of: {', '.join(allowed)})")
        for name in allowed:
            if name not in data:
                raise self.fail(f"{key}.{name}" if key else name, "missing key")
        return data

    def words(self, data: Any, key: str, single: bool = False) -> tuple[str, ...]:
        if not isinstance(data, list) or not data:
            raise self.fail(key, f"expected a non-empty list of words, got {data!r}")
        for i, word in enumerate(data):
            if not isinstance(word, str) or not word:
                raise self.fail(f"{key}[{i}]", f"expected a non-empty string, got {word!r}")
            if single and len(word) != 1:
                raise self.fail(f"{key}[{i}]", f"expected one character, got {word!r}")
        return tuple(data)

    def lexicon(self, data: Any, key: str) -> Lexicon:
        return Lexicon.of(self.words(data, key))

    def integer(self, data: Any, key: str, minimum: int = 1) -> int:
        if isinstance(data, bool) or not isinstance(data, int) or data < minimum:
            raise self.fail(key, f"expected an integer >= {minimum}, got {data!r}")
        return data

    def number(self, data: Any, key: str) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, int | float | str):
            raise self.fail(key, f"expected a number, got {data!r}")
        try:
            value = Decimal(str(data))
        except InvalidOperation:
            raise self.fail(key, f"expected a number, got {data!r}") from None
        if not value.is_finite() or value <= 0:
            raise self.fail(key, f"expected a positive number, got {data!r}")
        return value

    def number_map(self, data: Any, key: str) -> dict[str, Decimal]:
        if not isinstance(data, Mapping) or not data:
            raise self.fail(key, f"expected a non-empty mapping of word: number, got {data!r}")
        out: dict[str, Decimal] = {}
        for word, value in data.items():
            if not isinstance(word, str) or not word:
                raise self.fail(key, f"expected word keys, got {word!r}")
            out[word] = self.number(value, f"{key}.{word}")
        return out

    def choice(self, data: Any, key: str, choices: tuple[str, ...]) -> str:
        if data not in choices:
            raise self.fail(key, f"expected one of {', '.join(choices)}, got {data!r}")
        return str(data)

    def patterns(self, data: Any, key: str) -> tuple[re.Pattern[str], ...]:
        out = []
        for i, text in enumerate(self.words(data, key)):
            try:
                out.append(re.compile(text))
            except re.error as exc:
                raise self.fail(f"{key}[{i}]", f"bad regular expression: {exc}") from None
        return tuple(out)


def _text(r: _Reader, data: Any) -> TextRules:
    d = r.section(data, "text", ("sentence_ends", "clause_ends", "name_breaks", "list_separators", "joiners", "noise"))
    noise = "|".join(p.pattern for p in r.patterns(d["noise"], "text.noise"))
    sentence_ends = frozenset(r.words(d["sentence_ends"], "text.sentence_ends", single=True))
    clause_ends = frozenset(r.words(d["clause_ends"], "text.clause_ends", single=True))
    chars = "".join(sorted(sentence_ends | clause_ends | {"\n"}))
    return TextRules(
        sentence_ends=sentence_ends,
        clause_ends=clause_ends,
        boundary=re.compile(f"[{re.escape(chars)}]"),
        noise=re.compile(noise),
        name_breaks=frozenset(r.words(d["name_breaks"], "text.name_breaks", single=True)),
        list_separators=frozenset(r.words(d["list_separators"], "text.list_separators", single=True)),
        joiners=r.lexicon(d["joiners"], "text.joiners"),
    )


def _limits(r: _Reader, data: Any) -> Limits:
    names = tuple(Limits.__dataclass_fields__)
    d = r.section(data, "limits", names)
    return Limits(**{name: r.integer(d[name], f"limits.{name}") for name in names})


def _currencies(r: _Reader, data: Any) -> dict[str, Currency]:
    if not isinstance(data, Mapping) or not data:
        raise r.fail("money.currencies", "expected a non-empty mapping of word: {code, rate}")
    out: dict[str, Currency] = {}
    for word, spec in data.items():
        key = f"money.currencies.{word}"
        d = r.section(spec, key, ("code", "rate"))
        code = d["code"]
        if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code):
            raise r.fail(f"{key}.code", f"expected a 3-letter currency code, got {code!r}")
        out[str(word)] = Currency(code=code, rate=r.number(d["rate"], f"{key}.rate"))
    return out


_MONEY = (
    "units", "currencies", "default_currency", "numeral_digits", "numeral_multipliers", "decimal_points",
    "thousands_separators", "approx_before", "approx_between", "approx_after", "vague_numbers",
    "range_separators", "range_value", "bare_unit_cues_before", "bare_unit_cues_after",
    "implied_currencies", "plain_currency_words",
)  # fmt: skip


def _digit_map(r: _Reader, data: Any, key: str, minimum: int) -> dict[str, int]:
    if not isinstance(data, Mapping) or not data:
        raise r.fail(key, "expected a non-empty mapping of character: integer")
    out: dict[str, int] = {}
    for char, value in data.items():
        if not isinstance(char, str) or len(char) != 1:
            raise r.fail(key, f"expected single characters as keys, got {char!r}")
        out[char] = r.integer(value, f"{key}.{char}", minimum)
    return out


def _anchor(units: Lexicon, lead: list[str]) -> re.Pattern[str]:
    """A unit word right after a character of ``lead``: (?<=[lead])(?:万亿|万|亿), written
    万(?<=[lead]万)亿|万(?<=[lead]万)|亿(?<=[lead]亿). The same matches, but alternatives that open with a
    character let the engine skip to unit characters, where a look-behind in front made it try every place."""
    behind = f"[{re.escape(''.join(lead))}]"
    return re.compile(
        "|".join(f"{re.escape(w[0])}(?<={behind}{re.escape(w[0])}){re.escape(w[1:])}" for w in units.words)
    )


def _money(r: _Reader, data: Any, kinds: Mapping[str, Any]) -> MoneyRules:
    d = r.section(data, "money", _MONEY)
    scale = r.number_map(d["units"], "money.units")
    currencies = _currencies(r, d["currencies"])
    default = d["default_currency"]
    if default not in {c.code for c in currencies.values()}:
        raise r.fail("money.default_currency", f"{default!r} is not the code of any money.currencies entry")
    digits = _digit_map(r, d["numeral_digits"], "money.numeral_digits", 0)
    mults = _digit_map(r, d["numeral_multipliers"], "money.numeral_multipliers", 2)
    points = frozenset(r.words(d["decimal_points"], "money.decimal_points", single=True))
    seps = frozenset(r.words(d["thousands_separators"], "money.thousands_separators", single=True))
    between = r.lexicon(d["approx_between"], "money.approx_between")
    number_chars = frozenset("0123456789") | digits.keys() | mults.keys() | points | seps
    invest_cues = [w for k in ("investment", "signed") for w in kinds.get(k, ())]
    lead = sorted(number_chars | {w[-1] for w in between.words} | {w[-1] for w in invest_cues})
    units = Lexicon.of(scale)
    anchor = _anchor(units, lead)
    implied = r.lexicon(d["implied_currencies"], "money.implied_currencies")
    for i, word in enumerate(implied.words):
        if word not in currencies:
            raise r.fail(f"money.implied_currencies[{i}]", f"{word!r} is not a money.currencies word")
    return MoneyRules(
        implied_currencies=implied,
        plain_currency_words=r.lexicon(d["plain_currency_words"], "money.plain_currency_words"),
        units=units,
        unit_scale=MappingProxyType(scale),
        currencies=Lexicon.of(currencies),
        currency_of=MappingProxyType(currencies),
        default_currency=str(default),
        numeral_digits=MappingProxyType(digits),
        numeral_multipliers=MappingProxyType(mults),
        decimal_points=points,
        thousands_separators=seps,
        approx_before=r.lexicon(d["approx_before"], "money.approx_before"),
        approx_between=between,
        approx_after=r.lexicon(d["approx_after"], "money.approx_after"),
        vague_numbers=r.lexicon(d["vague_numbers"], "money.vague_numbers"),
        range_separators=r.lexicon(d["range_separators"], "money.range_separators"),
        range_value=r.choice(d["range_value"], "money.range_value", ("low", "high")),
        bare_cues_before=r.lexicon(d["bare_unit_cues_before"], "money.bare_unit_cues_before"),
        bare_cues_after=r.lexicon(d["bare_unit_cues_after"], "money.bare_unit_cues_after"),
        number_chars=number_chars,
        anchor=anchor,
    )


_KINDS = (
    "cues", "cues_after", "linkers", "aggregate_context", "aggregate_area", "count_counters",
    "count_not_followed_by", "count_nouns", "count_prefixes", "threshold_after", "phase_words",
    "phase_share_markers",
)  # fmt: skip


def _cue_words(r: _Reader, data: Any) -> dict[str, tuple[str, ...]]:
    d = r.section(data, "kinds.cues", _CUE_KINDS)
    return {kind: r.words(d[kind], f"kinds.cues.{kind}") for kind in _CUE_KINDS}


def _numerals(money: MoneyRules) -> str:
    return re.escape("".join(sorted(money.numeral_digits.keys() | money.numeral_multipliers.keys())))


def _count_pattern(lex: Mapping[str, Lexicon], money: MoneyRules, breaks: str, gap: int) -> re.Pattern[str]:
    """N个…项目 / 项目…N个 / 共N个 / N项目, with N in digits or Chinese numerals, 多/余 allowed after N.
    Every branch holds a number's last digit followed by a counter or a noun: ``_count_hint`` relies on it."""

    def alt(lexicon: Lexicon) -> str:
        return "|".join(re.escape(w) for w in lexicon.words)

    numerals = _numerals(money)
    one = "(?!(?:1|一)(?:个|项|家))"  # 一个工业项目 is one project, not a count of many
    number = f"(?:\\d{{1,6}}|[{numerals}]{{1,6}})(?:{alt(money.approx_between)})?"
    counter = f"(?:{alt(lex['count_counters'])})(?!{alt(lex['count_not_followed_by'])})"
    noun = f"(?:{alt(lex['count_nouns'])})"
    free = f"[^{re.escape(breaks)}\\d]"
    # What a count can start with, looked ahead for first: the engine then skips most places at once.
    first = re.escape("".join(sorted({w[0] for key in ("count_nouns", "count_prefixes") for w in lex[key].words})))
    return re.compile(
        f"(?=[\\d{numerals}{first}])(?:"
        f"{one}{number}{counter}{free}{{0,{gap}}}?{noun}"
        f"|{noun}{free}{{0,6}}?{number}{counter}"
        f"|(?:{alt(lex['count_prefixes'])}){number}{counter}"
        f"|\\d{{1,6}}{noun})"
    )


def _count_hint(lex: Mapping[str, Lexicon], money: MoneyRules) -> re.Pattern[str]:
    """What every count holds (see _count_pattern): a digit or numeral, 多/余 maybe, then a counter or a
    noun (个, 项目). Searched before the count itself: most names and clauses with a digit (年产5万吨)
    hold no such pair, and the count pattern tries every place it is given."""
    words = [*lex["count_counters"].words, *lex["count_nouns"].words]
    between = "|".join(re.escape(w) for w in money.approx_between.words)
    return re.compile(f"[\\d{_numerals(money)}](?:{between})?(?:{'|'.join(re.escape(w) for w in words)})")


def _kinds(
    r: _Reader, d: Mapping[str, Any], cues: dict[str, tuple[str, ...]], money: MoneyRules, text: TextRules, gap: int
) -> KindRules:
    tags: dict[str, str] = {}
    for kind in _CUE_KINDS:  # a word listed under two kinds keeps the first (investment first)
        for word in cues[kind]:
            tags.setdefault(word, kind)
    after = d["cues_after"]
    if not isinstance(after, Mapping) or not after:
        raise r.fail("kinds.cues_after", "expected a non-empty mapping of word: kind")
    for word, kind in after.items():
        r.choice(kind, f"kinds.cues_after.{word}", tuple(sorted(_AFTER_KINDS)))
    lex = {name: r.lexicon(d[name], f"kinds.{name}") for name in _KINDS[2:]}
    breaks = "".join(sorted(text.sentence_ends | text.clause_ends | text.list_separators | {"\n"}))
    return KindRules(
        cues=Lexicon.of(tags, tags),
        cues_after=Lexicon.of(after, {str(k): str(v) for k, v in after.items()}),
        count=_count_pattern(lex, money, breaks, gap),
        count_hint=_count_hint(lex, money),
        **lex,
    )


_NAMES = (
    "strong_suffixes", "amount_suffixes", "stop_after", "stop_before", "strip_prefixes",
    "strip_prefix_patterns", "generic_words", "backrefs", "lead_verbs", "object_verbs", "org_suffixes",
    "company_verbs", "capacity_markers", "regions", "industries", "area_endings", "descriptor_prefixes",
    "place_markers",
)  # fmt: skip


def _names(r: _Reader, data: Any) -> NameRules:
    d = r.section(data, "names", _NAMES)
    strong = r.words(d["strong_suffixes"], "names.strong_suffixes")
    extra = r.words(d["amount_suffixes"], "names.amount_suffixes")
    plain = {k: r.lexicon(d[k], f"names.{k}") for k in _NAMES[2:] if k != "strip_prefix_patterns"}
    return NameRules(
        strong_suffixes=Lexicon.of(strong),
        any_suffixes=Lexicon.of(strong + extra),
        strip_prefix_patterns=r.patterns(d["strip_prefix_patterns"], "names.strip_prefix_patterns"),
        **plain,
    )


def _stage(r: _Reader, data: Any) -> StageRules:
    keys = ("words", "planned_cues", "future_before", "future_after", "negators", "event_before", "event_after")
    d = r.section(data, "stage", keys)
    w = r.section(d["words"], "stage.words", _STAGES)
    tags = {word: stage for stage in _STAGES for word in r.words(w[stage], f"stage.words.{stage}")}
    return StageRules(
        words=Lexicon.of(tags, tags),
        planned_cues=r.lexicon(d["planned_cues"], "stage.planned_cues"),
        future_before=r.lexicon(d["future_before"], "stage.future_before"),
        future_after=r.lexicon(d["future_after"], "stage.future_after"),
        negators=r.lexicon(d["negators"], "stage.negators"),
        event_before=r.lexicon(d["event_before"], "stage.event_before"),
        event_after=r.lexicon(d["event_after"], "stage.event_after"),
    )


def _land(r: _Reader, data: Any) -> LandRules:
    d = r.section(data, "land", ("markers", "units"))
    scale = r.number_map(d["units"], "land.units")
    return LandRules(
        markers=r.lexicon(d["markers"], "land.markers"), units=Lexicon.of(scale), unit_scale=MappingProxyType(scale)
    )


def load_ruleset(data: Mapping[str, Any], file: str = "config/rules.yaml") -> RuleSet:
    """Validate a parsed rules mapping and compile it. Raises ConfigError naming file and key."""
    r = _Reader(file)
    top = r.section(data, "", _TOP)
    version = r.integer(top["version"], "version")
    if version != 1:
        raise r.fail("version", f"unsupported version {version} (this code reads version 1)")
    kinds_data = r.section(top["kinds"], "kinds", _KINDS)
    cues = _cue_words(r, kinds_data["cues"])
    text = _text(r, top["text"])
    limits = _limits(r, top["limits"])
    money = _money(r, top["money"], cues)
    kinds = _kinds(r, kinds_data, cues, money, text, limits.count_gap_chars)
    names = _names(r, top["names"])
    threshold = r.number(top["threshold_yi"], "threshold_yi")  # checked in the order of the fields, as before
    stage, land = _stage(r, top["stage"]), _land(r, top["land"])
    return RuleSet(
        file=file,
        version=version,
        threshold_yi=threshold,
        text=text,
        limits=limits,
        money=money,
        kinds=kinds,
        names=names,
        stage=stage,
        land=land,
        derived=derive(text, names, kinds, money, land),
    )


def load_ruleset_file(path: Path) -> RuleSet:
    """Read a rules YAML file. Unreadable or malformed YAML is a ConfigError with the line."""
    file = str(path)
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, "", f"cannot read: {exc}") from None
    try:
        data = parse_yaml(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(file, "", f"bad YAML: {where}{problem}") from None
    if data is None:
        raise ConfigError(file, "", "the file is empty")
    return load_ruleset(data, file)

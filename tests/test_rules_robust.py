"""Any text at all: never an exception, never a hang, offsets always those of the input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loguru import logger

from crawler.models import Project
from crawler.rules import RuleSet, extract_projects, find_amounts, load_ruleset_file
from crawler.rules.projects import extract

RULES = load_ruleset_file(Path(__file__).resolve().parent.parent / "config" / "rules.yaml")

# Characters the rules react to, mixed into arbitrary text so hypothesis reaches the rules.
CHARS = "0123456789.。,，、；：亿万元的项目工程总投资超近约余多以上个项其中一二期该签约开工投产年产占地亩() \n"
WORDS = st.sampled_from(
    [*CHARS, "项目", "总投资", "亿元", "美元", "有限公司", "集团", "(xiàng)", "等", "分别为", "以上项目", "該項目"]
)
TEXTS = st.lists(st.one_of(st.text(max_size=8), WORDS), max_size=80).map("".join)


def _check(text: str, projects: list[Project], rules: RuleSet) -> None:
    for amount in find_amounts(text, rules):
        assert text[amount.start : amount.end] == amount.text
    for project in projects:
        assert project.name and project.name in text
        if project.amount_text is not None:
            assert project.amount_text in text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_unicode_never_raises(text: str) -> None:
    _check(text, extract(text, RULES), RULES)  # the strict core, without the safety net


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_rule_shaped_noise_never_raises(text: str) -> None:
    _check(text, extract(text, RULES), RULES)


MB = 1_000_000
ADVERSARIAL = {
    "digits": "1" * MB,
    "digits_and_points": "1." * (MB // 2),
    "yi": "亿" * MB,
    "digit_yi": "1亿" * (MB // 2),
    "figures": "12亿元" * (MB // 4),
    "list_marks": "、" * MB,
    "xiangmu": "项目" * (MB // 2),
    "de": "的" * MB,
    "invest": "投资" * (MB // 2),
    "companies": "有限公司" * (MB // 4),
    "counts": "项目1个" * (MB // 4),
    "one_long_name": "甲" * MB + "项目",
    "figure_list": "总投资1亿元的某某项目、" * (MB // 11),
    "pinyin": "項(xiàng)" * (MB // 8),
    "spaces": "1 亿 " * (MB // 4),
}


def _seconds(text: str) -> float:
    started = time.perf_counter()
    projects = extract_projects(text, RULES)
    assert isinstance(projects, list)
    return time.perf_counter() - started


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_a_megabyte_of_adversarial_text_takes_linear_time(name: str) -> None:
    """No backtracking blow-up: four times the text takes about four times as long (quadratic would
    be sixteen), and a megabyte stays far from a hang. A ratio, not a speed: this machine's speed
    drifts, and a megabyte of spaces took 0.95-1.01 s here against well under 1 s elsewhere."""
    text = ADVERSARIAL[name]
    extract_projects("预热", RULES)
    quarter = _seconds(text[: len(text) // 4])
    whole = _seconds(text)
    assert whole < 8 * max(quarter, 0.05), f"{name}: {quarter:.3f}s for a quarter, {whole:.3f}s for all"
    assert whole < 10.0, f"{name}: {whole:.2f}s"


def test_the_public_function_never_raises_even_on_a_rules_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    import crawler.rules as public

    def boom(text: str, rules: RuleSet) -> list[Project]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(public, "extract", boom)
    assert public.extract_projects("总投资5亿元的光伏项目", RULES) == []


@pytest.mark.parametrize(
    ("piece", "figures"),
    [("总投资5亿元，", "max"), ("亿元。", "0")],
    ids=["figures", "unit-words-only"],
)
def test_the_cap_on_money_figures_says_what_it_counted(piece: str, figures: str) -> None:
    """A text past the cap is cut with a warning that names the figures found, the unit words looked
    at and the limit, not a count of 0 "over" the limit when only unit words filled it."""
    most = RULES.limits.max_amounts
    warnings: list[str] = []
    sink = logger.add(lambda message: warnings.append(message.record["message"]), level="WARNING")
    try:
        find_amounts(piece * (5 * most), RULES)
    finally:
        logger.remove(sink)
    found = most if figures == "max" else 0
    looked = most if figures == "max" else 4 * most
    assert warnings == [
        f"rules: {found} money figures among the first {looked} unit words (limits.max_amounts {most}); "
        "the rest are ignored"
    ]

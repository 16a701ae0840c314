"""Money figures: units, bounds, ranges, numerals, currencies and scraping damage."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.models import Amount
from crawler.rules import RuleSet, find_amounts, load_ruleset, load_ruleset_file


@pytest.fixture(scope="module")
def rules(repo: Path) -> RuleSet:
    return load_ruleset_file(repo / "config" / "rules.yaml")


def only(text: str, rules: RuleSet) -> Amount:
    found = find_amounts(text, rules)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "value", "approximate"),
    [
        ("该项目总投资5亿元，占地200亩。", "5", False),
        ("项目总投资8000万元，建设标准化厂房。", "0.8", False),
        ("总投资2亿的利晨科技抛光粉项目开工。", "2", False),  # 亿 without 元 after an investment cue
        ("公司拟投资三千万元建设仓储中心。", "0.3", False),  # 千万 in Chinese numerals
        ("跑出了超百亿投资大项目落地建设的新速度。", "100", True),  # 超百亿: the stated bound
        ("项目计划总投资近50亿元。", "50", True),
        ("项目总投资约20亿元。", "20", True),
        ("该基地总投资逾30亿元。", "30", True),
        ("项目总投资10余亿元。", "10", True),
        ("项目总投资5亿多元。", "5", True),
        ("总投资百余亿元的产业园开工。", "100", True),
        ("项目建成后，可实现产值300亿元以上。", "300", True),
        ("投资五十亿元的电池项目签约。", "50", False),
        ("总投资一百二十亿元的新区市政基建开工。", "120", False),
        ("前10月累计签约项目110个，总投资1,088.57亿元。", "1088.57", False),
        ("全省重点项目总投资1.2万亿元。", "12000", False),
    ],
)
def test_value_and_bound(text: str, value: str, approximate: bool, rules: RuleSet) -> None:
    amount = only(text, rules)
    assert amount.value_yi == Decimal(value)
    assert amount.approximate is approximate
    assert amount.currency == "CNY"
    assert text[amount.start : amount.end] == amount.text


def test_a_range_is_approximate_with_its_low_end(rules: RuleSet) -> None:
    for text in ("华润电力风电项目总投资5-8亿元。", "风电项目总投资5亿至8亿元。", "项目总投资5～8亿元。"):
        amount = only(text, rules)
        assert (amount.value_yi, amount.approximate) == (Decimal(5), True), text


def test_range_value_is_configurable(repo: Path) -> None:
    data = yaml.safe_load((repo / "config" / "rules.yaml").read_text(encoding="utf-8"))
    data["money"]["range_value"] = "high"
    amount = only("项目总投资5-8亿元。", load_ruleset(data))
    assert amount.value_yi == Decimal(8)


def test_full_width_digits(rules: RuleSet) -> None:
    amount = only("总投资１２.５亿元的光伏组件项目开工。", rules)
    assert amount.value_yi == Decimal("12.5")
    assert amount.text == "总投资１２.５亿元"  # the article's own characters


def test_spaces_and_pinyin_glosses_inside_figures(rules: RuleSet) -> None:
    assert only("该项目计划总投资约 25 亿元。", rules).value_yi == Decimal(25)
    assert only("项目总投资 3. 5亿元。", rules).value_yi == Decimal("3.5")
    amount = only("總投資15億美元的萊賽爾纖維項(xiàng)目開工。", rules)
    assert amount.value_yi == Decimal(15) * Decimal("7.2")


def test_a_full_width_point_between_digits_is_a_decimal_point(rules: RuleSet) -> None:
    amount = only("总投资132。9亿元的钢铁基地项目投产。", rules)
    assert amount.value_yi == Decimal("132.9")


def test_lost_digits_give_no_value_rather_than_a_wrong_one(rules: RuleSet) -> None:
    amount = only("总投资.1亿元的化工项目开工。", rules)
    assert amount.value_yi is None
    assert amount.text == "总投资.1亿元"


def test_threshold_without_a_number_is_not_a_figure(rules: RuleSet) -> None:
    assert find_amounts("全市签约亿元以上项目41个。", rules) == []


@pytest.mark.parametrize(
    ("text", "currency", "original"),
    [
        ("外资项目16个，总投资7.37亿美元。", "USD", "7.37"),
        ("投资3000万美元的汽车电子项目落户。", "USD", "0.3"),
        ("投资2亿欧元的化工项目签约。", "EUR", "2"),
        ("总投资7亿港元的度假村签约。", "HKD", "7"),
        ("总投资11.5亿澳门元的游乐场开工。", "MOP", "11.5"),
    ],
)
def test_foreign_currencies_are_converted_with_configured_rates(
    text: str, currency: str, original: str, rules: RuleSet
) -> None:
    amount = only(text, rules)
    rate = next(c.rate for c in rules.money.currency_of.values() if c.code == currency)
    assert amount.currency == currency
    assert amount.value_yi == Decimal(original) * rate


def test_rates_come_from_the_config(repo: Path) -> None:
    data: dict[str, Any] = yaml.safe_load((repo / "config" / "rules.yaml").read_text(encoding="utf-8"))
    data["money"]["currencies"]["美元"]["rate"] = 7
    assert only("总投资2亿美元的项目签约。", load_ruleset(data)).value_yi == Decimal(14)


@pytest.mark.parametrize(
    "text",
    [
        "全部达产后具备年产硅片40亿片的生产规模。",
        "用于光伏电站的年发电量超过600亿度。",
        "此次落地的65万吨/年苯酚丙酮项目。",
        "年接待游客3000万人次。",
    ],
)
def test_quantities_that_are_not_money(text: str, rules: RuleSet) -> None:
    assert find_amounts(text, rules) == []


def test_traditional_text_keeps_its_wording_and_offsets(rules: RuleSet) -> None:
    text = "據了解，酒泉市今年計劃實施各類項目806個，總投資4557億元。"
    amount = only(text, rules)
    assert amount.text == "總投資4557億元"
    assert text[amount.start : amount.end] == amount.text
    assert amount.value_yi == Decimal(4557)


def test_offsets_survive_dropped_noise(rules: RuleSet) -> None:
    text = "今年共有3個(gè)項(xiàng)目簽約，其中總投資 12 億元的項(xiàng)目開工。"
    for amount in find_amounts(text, rules):
        assert text[amount.start : amount.end] == amount.text

"""General rules added with the corpus growth: quoted names, implied New Taiwan dollars, the
article's event as a stage, class and descriptor figures, sentence subjects."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crawler.models import Project, Stage
from crawler.rules import RuleSet, extract_projects, load_ruleset_file


@pytest.fixture(scope="module")
def rules(repo: Path) -> RuleSet:
    return load_ruleset_file(repo / "config" / "rules.yaml")


def funded(text: str, rules: RuleSet) -> dict[str, Project]:
    return {p.name: p for p in extract_projects(text, rules) if p.investment_yi is not None}


def test_quoted_name_after_amount(rules: RuleSet) -> None:
    got = funded("据披露，总投资一百亿元的“长隆国际海洋度假区”项目预计明年建成。", rules)
    assert got["“长隆国际海洋度假区”项目"].investment_yi == 100


def test_quoted_name_inside(rules: RuleSet) -> None:
    got = funded("新田岭“分布式光伏+绿色矿山建设”项目总投资2亿元。", rules)
    assert "新田岭“分布式光伏+绿色矿山建设”项目" in got


def test_taiwan_dollars_implied_once_named(rules: RuleSet) -> None:
    text = "今天通过2件投资申请案，将投资约新台币46亿元。华泰电子将投资43亿元新建厂房及办公大楼。"
    project = funded(text, rules)["厂房及办公大楼"]
    assert project.currency == "TWD"
    assert project.investment_yi == Decimal("43") * Decimal("0.22")


def test_renminbi_named_keeps_cny(rules: RuleSet) -> None:
    text = "投资金额接近7亿元(人民币,约30亿台币)。某公司投资12亿元新建厂房及办公大楼。"
    assert funded(text, rules)["厂房及办公大楼"].currency == "CNY"


def test_event_in_earlier_paragraph_gives_stage(rules: RuleSet) -> None:
    text = "3月28日，某县重点项目集中开工仪式举行。\n其中，滨河路改造工程总投资3亿元，主要建设道路。"
    assert funded(text, rules)["滨河路改造工程"].stage is Stage.STARTED


def test_progress_of_another_project_is_not_the_event(rules: RuleSet) -> None:
    text = "甲项目从奠基开工到点火生产仅用时5个月。\n乙材料项目总投资2亿元，主要建设厂房。"
    assert funded(text, rules)["乙材料项目"].stage is Stage.UNKNOWN


def test_descriptor_figure_is_not_an_investment(rules: RuleSet) -> None:
    text = "总投资15.7亿美元莱赛尔纤维项目，作为溧阳又一个新的超百亿人民币投资项目，占地2200亩。"
    got = funded(text, rules)
    assert [p.investment_yi for p in got.values()] == [Decimal("113.04")]


def test_class_before_cue_owns_the_figure(rules: RuleSet) -> None:
    text = "全县开工动员重点项目中，计划投资额累计共192.7亿元，其中产业类项目计划总投资达164.3亿元。"
    assert funded(text, rules) == {}


def test_sentence_subject_with_parenthesis(rules: RuleSet) -> None:
    text = "其中闽商石文化创意产业园(以下简称石博园)投资最大、占地最广，预计总投资20亿元，占地1246亩。"
    assert funded(text, rules)["闽商石文化创意产业园"].investment_yi == 20


def test_one_project_is_not_a_count(rules: RuleSet) -> None:
    text = "最大的一个工业项目由研祥集团投资30亿元，在蓉设立西南生产基地及总部。"
    assert funded(text, rules)["西南生产基地及总部"].investment_yi == 30

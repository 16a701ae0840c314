"""What each figure measures: only a single project's investment may ever alert."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crawler.models import AmountKind
from crawler.rules import RuleSet, extract_projects, find_amounts, load_ruleset_file

K = AmountKind


@pytest.fixture(scope="module")
def rules(repo: Path) -> RuleSet:
    return load_ruleset_file(repo / "config" / "rules.yaml")


def kind_of(text: str, wording: str, rules: RuleSet) -> AmountKind:
    """The kind of the figure whose wording overlaps ``wording`` in ``text``."""
    at = text.index(wording)
    over = [a for a in find_amounts(text, rules) if a.start < at + len(wording) and at < a.end]
    assert len(over) == 1, (wording, over)
    return over[0].kind


@pytest.mark.parametrize(
    ("text", "wording", "kind"),
    [
        # one project's investment
        ("此次落地的苯酚丙酮项目总投资86.8亿元，总占地1607亩。", "总投资86.8亿元", K.INVESTMENT),
        ("总投资30亿元的大亚新能源材料建设项目是今年新签约的重大项目之一。", "总投资30亿元", K.INVESTMENT),
        ("吸引来中船集团703研究所，计划投资3亿元，在生物质能源领域合作。", "计划投资3亿元", K.INVESTMENT),
        # sums of many projects
        ("全市各级领导干部累计对接企业近200次，签约项目88项，签约额405亿元。", "签约额405亿元", K.AGGREGATE),
        ("组织实施亿元以上重点项目96个，同比增长16个，总投资560.77亿元。", "总投资560.77亿元", K.AGGREGATE),
        ("截至7月底，全市在手在谈项目113个，外资项目16个，总投资7.37亿美元。", "总投资7.37亿美元", K.AGGREGATE),
        ("今年以来，共有12个项目实现签约，总签约额138.8亿元。", "总签约额138.8亿元", K.AGGREGATE),
        ("总投资额46.8亿元的36个招商引资项目集中开工。", "总投资额46.8亿元", K.AGGREGATE),
        ("我们现场集中签约项目22个，累计金额达75.2亿元。", "累计金额达75.2亿元", K.AGGREGATE),
        ("甲锂电池项目、乙光伏项目、丙储能项目3个项目总投资120亿元。", "总投资120亿元", K.AGGREGATE),
        ("包括长隆海洋度假区、十字门商务区等四大项目动工，总投资达726亿元。", "总投资达726亿元", K.AGGREGATE),
        ("本次集中签约项目6个，包括A光伏项目、B储能项目等，总投资额76.85亿元。", "总投资额76.85亿元", K.AGGREGATE),
        ("太平洋集团拟投资35亿元建设兴仁大道、东南路网及兴仁教育城3个项目。", "拟投资35亿元", K.AGGREGATE),
        ("酒泉市今年计划实施各类项目806个，年度计划投资967亿元。", "年度计划投资967亿元", K.AGGREGATE),
        ("全市计划实施建设项目731个，当年计划投资204亿元。", "当年计划投资204亿元", K.AGGREGATE),
        # thresholds: a class of projects by size
        ("从体量规模看，总投资30亿元以上项目3个，10亿元以上项目3个。", "10亿元以上", K.AGGREGATE),
        ("签约亿元以上项目41个，总投资160.7亿元，其中30亿元以上项目2个。", "30亿元以上", K.AGGREGATE),
        ("当场签约8个投资过5000万元的项目。", "投资过5000万元", K.AGGREGATE),
        # other measures
        ("项目建成后，年产值30亿元，吸纳就业500人。", "年产值30亿元", K.OUTPUT_VALUE),
        ("项目建成后，可实现产值300亿元以上。", "产值300亿元以上", K.OUTPUT_VALUE),
        ("预计实现年营业收入4.41亿元，年缴税额4215万元。", "年营业收入4.41亿元", K.REVENUE),
        ("预计实现年营业收入4.41亿元，年缴税额4215万元。", "年缴税额4215万元", K.TAX),
        ("项目投产后电池箔总产能达4万吨，销售额约20亿元。", "销售额约20亿元", K.REVENUE),
        ("预计今年10月竣工投产后可实现年销售收入12亿元。", "年销售收入12亿元", K.REVENUE),
        ("公司去年实现营收18亿元。", "营收18亿元", K.REVENUE),
        ("全部达产后，年纳税超5亿元。", "年纳税超5亿元", K.TAX),
        ("项目每年可为地方贡献税收2亿元。", "税收2亿元", K.TAX),
        ("招商引资到位资金实现80.5亿元，同比增长91.9%。", "到位资金实现80.5亿元", K.FUNDS_IN_PLACE),
        ("今年当年计划完成投资171.7亿元。", "完成投资171.7亿元", K.OTHER),
        ("该公司注册资本5亿元。", "注册资本5亿元", K.OTHER),
        ("总投资560.77亿元，同比增长87.1亿元。", "同比增长87.1亿元", K.OTHER),
        ("公司拟对膜材料项目增加投资6600万元。", "增加投资6600万元", K.OTHER),
    ],
)
def test_kind(text: str, wording: str, kind: AmountKind, rules: RuleSet) -> None:
    assert kind_of(text, wording, rules) is kind


def test_a_phase_of_a_bigger_project_is_a_phase(rules: RuleSet) -> None:
    text = "大亚新能源材料建设项目总投资30亿元，其中一期投资11.6亿元，二期投资18.4亿元。"
    assert kind_of(text, "总投资30亿元", rules) is K.INVESTMENT
    assert kind_of(text, "一期投资11.6亿元", rules) is K.PHASE
    assert kind_of(text, "二期投资18.4亿元", rules) is K.PHASE
    (project,) = [p for p in extract_projects(text, rules) if p.investment_yi is not None]
    assert project.investment_yi == 30 and project.phase is None


def test_a_phase_figure_alone_is_the_projects_investment_with_its_phase(rules: RuleSet) -> None:
    text = "记者来到辽宁祥顺气体有限公司稀有气体精制项目现场。一期项目投资1.2亿元，以氪氙精制为主。"
    assert kind_of(text, "投资1.2亿元", rules) is K.INVESTMENT
    (project,) = extract_projects(text, rules)
    assert (project.investment_yi, project.phase) == (Decimal("1.2"), "一期")
    assert project.company == "辽宁祥顺气体有限公司"


def test_a_later_phase_after_the_total_in_an_earlier_paragraph(rules: RuleSet) -> None:
    text = "风光互补项目总投资200亿元，占地2万亩。\n二期工程计划投资180亿元，到2020年全部建成。"
    assert kind_of(text, "计划投资180亿元", rules) is K.PHASE


def test_aggregates_never_become_a_projects_investment(rules: RuleSet) -> None:
    text = (
        "今年，稀土高新区组织实施亿元以上重点项目96个，总投资560.77亿元，当年计划完成投资171.7亿元。"
        "前10月累计签约项目110个，总投资1088.57亿元。签约项目88项，签约额405亿元。"
    )
    assert [p for p in extract_projects(text, rules) if p.investment_yi is not None] == []


def test_a_signed_amount_beside_the_total_loses_to_the_total(rules: RuleSet) -> None:
    text = "宁德时代动力电池项目签约金额20亿元，总投资50亿元，占地300亩。"
    (project,) = extract_projects(text, rules)
    assert project.investment_yi == 50
    assert project.amount_text == "总投资50亿元"


def test_a_capital_increase_is_the_projects_investment(rules: RuleSet) -> None:
    text = "富邦实业(福建)有限公司(增资)项目，由台湾富邦建设股份有限公司投资，拟增资3000万美元。"
    assert kind_of(text, "增资3000万美元", rules) is K.INVESTMENT

"""Which project each investment belongs to, its company, stage, land, and one Project per project."""

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
    """The projects with an amount, by name."""
    return {p.name: p for p in extract_projects(text, rules) if p.investment_yi is not None}


def test_amount_then_de_then_name(rules: RuleSet) -> None:
    got = funded("抓住机遇，加快推动总投资20亿元的金力永磁年产20000吨稀土永磁材料项目建设。", rules)
    project = got["金力永磁年产20000吨稀土永磁材料项目"]
    assert project.investment_yi == 20
    assert project.company == "金力永磁"
    assert project.capacity == "年产20000吨稀土永磁材料"


def test_name_then_amount(rules: RuleSet) -> None:
    got = funded("大亚集团副总裁介绍，大亚新能源材料建设项目总投资30亿元，目前在建的一期项目为一条生产线。", rules)
    project = got["大亚新能源材料建设项目"]
    assert project.investment_yi == 30
    assert project.company == "大亚集团"  # its short form opens the name
    assert project.stage is Stage.STARTED


def test_gai_xiangmu_points_back_to_the_last_named_project(rules: RuleSet) -> None:
    text = (
        "江苏创力电梯垂直电梯部件及储能生产建设项目自3月29日开工以来稳步推进。"
        "该项目总投资3.6亿元，占地85亩，预计今年10月竣工投产后可实现年销售收入12亿元。\n"
        "“从拿到地到全面开工，创力电梯项目仅用了7天时间。”"
    )
    (project,) = extract_projects(text, rules)  # three mentions, one project
    assert project.name == "江苏创力电梯垂直电梯部件及储能生产建设项目"
    assert project.investment_yi == Decimal("3.6")
    assert project.land_mu == 85
    assert project.stage is Stage.STARTED  # 开工以来; 预计…竣工投产后 is a plan
    assert project.company == "江苏创力电梯"  # the article's short name 创力电梯 ends the company


def test_two_figures_each_with_its_name_in_a_list(rules: RuleSet) -> None:
    text = (
        "以投资6亿元的四川航天拓新玄武岩精深加工、投资4.5亿元的青岛洛唯石墨精深加工为代表的新兴产业项目落地并开工建设。"
    )
    got = funded(text, rules)
    assert got["四川航天拓新玄武岩精深加工"].investment_yi == 6
    assert got["四川航天拓新玄武岩精深加工"].company == "四川航天拓新"
    assert got["青岛洛唯石墨精深加工"].investment_yi == Decimal("4.5")
    assert got["青岛洛唯石墨精深加工"].company == "青岛洛唯"
    assert {p.stage for p in got.values()} == {Stage.STARTED}


def test_list_joined_by_semicolons_with_companies_in_front(rules: RuleSet) -> None:
    text = (
        "总投资7.06亿元的自动化设备及汽车零部件项目通讯模组、指纹模组项目；"
        "总投资2亿元的东莞市美锦电子材料有限公司光学纳米分子材料项目；"
        "总投资2亿元的苏州体素信息科技有限公司眼底影像辅助产品生产线项目……"
    )
    got = funded(text, rules)
    assert got["自动化设备及汽车零部件项目通讯模组、指纹模组项目"].investment_yi == Decimal("7.06")
    assert got["东莞市美锦电子材料有限公司光学纳米分子材料项目"].company == "东莞市美锦电子材料有限公司"
    assert got["苏州体素信息科技有限公司眼底影像辅助产品生产线项目"].company == "苏州体素信息科技有限公司"


def test_list_ending_with_a_count_keeps_each_figure_with_its_name(rules: RuleSet) -> None:
    text = (
        "今年以来，投资5亿元的鸿展热电联产项目、投资7亿元铁矿提能改造项目、"
        "投资15亿元的中船清洁能源装备基地项目等20多个项目，均实现了当年签约当年开工。"
    )
    got = funded(text, rules)
    assert {n: p.investment_yi for n, p in got.items()} == {
        "鸿展热电联产项目": 5,
        "铁矿提能改造项目": 7,  # no 的 between the figure and the name
        "中船清洁能源装备基地项目": 15,
    }
    assert {p.stage for p in got.values()} == {Stage.STARTED}


def test_amount_in_a_later_sentence_takes_the_earlier_name_and_company(rules: RuleSet) -> None:
    text = (
        "2月27日，抚顺高新区管委会与江苏三木集团举行65万吨苯酚丙酮一体化产业链项目签约仪式。"
        "此次落地抚顺高新区的65万吨/年苯酚丙酮、50万吨/年双酚A及20万吨/年聚碳酸酯项目总投资86.8亿元，总占地1607亩。"
    )
    (project,) = funded(text, rules).values()
    assert project.name == "65万吨苯酚丙酮一体化产业链项目"
    assert project.company == "江苏三木集团"
    assert (project.investment_yi, project.land_mu, project.stage) == (Decimal("86.8"), 1607, Stage.SIGNED)


def test_the_sentence_subject_owns_a_bound_in_a_later_clause(rules: RuleSet) -> None:
    text = (
        "初冬时节，双良集团40gw单晶硅项目仍在抢工期。"
        "该项目从奠基开工到点火生产仅用时5个月，跑出了超百亿投资大项目落地建设的新速度。"
    )
    (project,) = funded(text, rules).values()
    assert project.name == "双良集团40gw单晶硅项目"
    assert (project.investment_yi, project.approximate, project.amount_text) == (100, True, "超百亿投资")
    assert project.stage is Stage.OPERATING  # the furthest stage stated as achieved


def test_an_organisation_brought_in_plans_an_investment(rules: RuleSet) -> None:
    text = "面对满满的诚意，吸引来中船集团703研究所，计划投资3亿元，在生物质能源领域再次进行合作。"
    (project,) = funded(text, rules).values()
    assert project.company == "中船集团703研究所"
    assert project.investment_yi == 3
    assert project.stage is Stage.PLANNED


def test_figures_before_names_without_a_cue(rules: RuleSet) -> None:
    got = funded("港区30亿元文旅小镇、5.6亿元智慧仓储物流开工建设。", rules)
    assert got["文旅小镇"].investment_yi == 30
    assert got["智慧仓储物流"].investment_yi == Decimal("5.6")


def test_respectively_assigns_amounts_in_order(rules: RuleSet) -> None:
    got = funded("总投资分别为11亿元、6亿元的锂电池隔膜项目和光伏玻璃项目已签约。", rules)
    assert got["锂电池隔膜项目"].investment_yi == 11
    assert got["光伏玻璃项目"].investment_yi == 6


def test_one_amount_shared_by_counted_projects_is_no_ones_investment(rules: RuleSet) -> None:
    assert funded("总投资50亿元的汽车零部件和新材料两个项目开工。", rules) == {}
    assert funded("甲锂电池项目、乙光伏项目、丙储能项目3个项目总投资120亿元。", rules) == {}


def test_a_company_investing_then_building_in_the_next_clause(rules: RuleSet) -> None:
    got = funded("该工业项目由研祥集团投资30亿元，在蓉设立西南生产基地及总部。", rules)
    assert got["西南生产基地及总部"].investment_yi == 30


def test_a_project_named_three_times_is_one_project(rules: RuleSet) -> None:
    text = (
        "双良集团40gw单晶硅项目仍在抢工期。该项目跑出了超百亿投资大项目的新速度。\n"
        "双良集团40gw单晶硅项目是重点招商引资项目。\n"
        "以双良集团40gw单晶硅项目为抓手发展光伏产业。"
    )
    projects = extract_projects(text, rules)
    assert [p.name for p in projects] == ["双良集团40gw单晶硅项目"]


def test_named_without_amount_carries_none_and_junk_is_not_a_name(rules: RuleSet) -> None:
    text = "一季度，甘肃巨化新材料有限公司高性能硅氟新材料一体化项目在玉门开工。全市上下落实项目、督促项目、服务项目。"
    projects = extract_projects(text, rules)
    assert [(p.name, p.investment_yi) for p in projects] == [("甘肃巨化新材料有限公司高性能硅氟新材料一体化项目", None)]
    assert projects[0].company == "甘肃巨化新材料有限公司"
    assert projects[0].stage is Stage.STARTED


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("总投资5亿元的光伏组件项目昨日签约。", Stage.SIGNED),
        ("总投资5亿元的光伏组件项目正式开工。", Stage.STARTED),
        ("总投资5亿元的光伏组件项目于去年奠基，目前在建。", Stage.STARTED),
        ("总投资5亿元的光伏组件项目已竣工。", Stage.COMPLETED),
        ("总投资5亿元的光伏组件项目已建成投产。", Stage.OPERATING),
        ("光伏组件项目拟投资5亿元，正在洽谈。", Stage.PLANNED),
        ("总投资5亿元的光伏组件项目力争年底建成投产。", Stage.UNKNOWN),
        ("总投资5亿元的光伏组件项目建成后年产值10亿元。", Stage.UNKNOWN),
        ("总投资5亿元的光伏组件项目还没建成就有了订单。", Stage.UNKNOWN),
        ("总投资5亿元的威马汽车运营总部项目位于园区。", Stage.UNKNOWN),  # 运营 in a name is no stage
    ],
)
def test_stage(text: str, stage: Stage, rules: RuleSet) -> None:
    (project,) = funded(text, rules).values()
    assert project.stage is stage


def test_stage_of_a_count_in_another_sentence_is_not_the_projects(rules: RuleSet) -> None:
    text = "总投资2亿元的光学纳米分子材料项目……今年截至7月底，开发区签约项目8个，总投资41.1亿元。"
    (project,) = funded(text, rules).values()
    assert project.stage is Stage.UNKNOWN


def test_a_collective_start_covers_the_projects_it_lists(rules: RuleSet) -> None:
    text = (
        "此次集中开工的15个项目有总投资3.3亿元的港城电力工程二期新型节能变压器、总投资2.2亿元的宏岳塑胶PVC管材项目等。"
    )
    got = funded(text, rules)
    assert got["宏岳塑胶PVC管材项目"].stage is Stage.STARTED


def test_evidence_is_the_sentence_in_the_articles_script(rules: RuleSet) -> None:
    text = "據悉，總投資12億元的華友鈷業新能源材料項目在經開區開工。"
    (project,) = funded(text, rules).values()
    assert project.name == "華友鈷業新能源材料項目"
    assert project.evidence == text
    assert project.amount_text == "總投資12億元"

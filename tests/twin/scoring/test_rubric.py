"""The 2021 rubric as data: every indicator encoded, sums exact, the file validated on load."""

from __future__ import annotations

import pytest

from twin.errors import NotFound
from twin.scoring.errors import RubricError
from twin.scoring.measures import MEASURES
from twin.scoring.rubric import RUBRIC_2021, DeductionRule, LevelsRule, PerItemRule, ThresholdRule, load_rubric, parse_rubric

RUBRIC = load_rubric()


def test_five_dimensions_of_100_make_500() -> None:
    assert [d.name for d in RUBRIC.dimensions] == ["基础设施信息化", "运营管理精细化", "功能服务便利化", "组织保障规范化", "产业发展数字化"]
    for dimension in RUBRIC.dimensions:
        assert sum(i.max for i in dimension.indicators) == 100, dimension.name
        assert sum(item.max for item in dimension.items) == 100, dimension.name
        for item in dimension.items:
            assert sum(i.max for i in item.indicators) == item.max, item.name
    assert RUBRIC.max == 500 == sum(i.max for i in RUBRIC.indicators)


def test_items_and_their_points_match_the_official_table() -> None:
    items = {(d.name, item.name): item.max for d in RUBRIC.dimensions for item in d.items}
    assert items == {
        ("基础设施信息化", "基础网络"): 45, ("基础设施信息化", "通信机房"): 10, ("基础设施信息化", "监控中心"): 10,
        ("基础设施信息化", "数据中心"): 10, ("基础设施信息化", "基础平台"): 25,
        ("运营管理精细化", "综合安防"): 18, ("运营管理精细化", "消防管理"): 5, ("运营管理精细化", "智能楼宇"): 10,
        ("运营管理精细化", "能耗监控"): 5, ("运营管理精细化", "智能照明"): 10, ("运营管理精细化", "智能充电"): 5,
        ("运营管理精细化", "环境监测"): 5, ("运营管理精细化", "智能管理"): 5, ("运营管理精细化", "应急防控"): 12,
        ("运营管理精细化", "物业管理"): 20, ("运营管理精细化", "项目管理"): 5,
        # The PDF extraction shows 党建服务 under 运营管理精细化; it belongs to 功能服务便利化.
        ("功能服务便利化", "党建服务"): 15, ("功能服务便利化", "政务服务"): 15, ("功能服务便利化", "公共服务"): 25,
        ("功能服务便利化", "创新创业"): 15, ("功能服务便利化", "生活配套"): 30,
        ("组织保障规范化", "制度保障"): 20, ("组织保障规范化", "组织保障"): 20, ("组织保障规范化", "资金保障"): 20,
        ("组织保障规范化", "人力保障"): 20, ("组织保障规范化", "信息安全"): 10, ("组织保障规范化", "数据对接"): 10,
        ("产业发展数字化", "园区数字化招商"): 10, ("产业发展数字化", "企业数字化建设"): 75, ("产业发展数字化", "产业数字化分析"): 15,
    }
    assert len(RUBRIC.indicators) == 70


def test_rules_keep_the_published_thresholds_and_text() -> None:
    conduit = RUBRIC.locate("infra.conduit_roads")[2]
    assert "90%（含）以上得5分，60%（含）~90%得2~4分，建设比例未达到60%的不得分" in conduit.text
    assert isinstance(conduit.rule, ThresholdRule)
    assert [(float(b.min), b.points) for b in conduit.rule.bands] == [(90.0, 5), (60.0, (2, 4))]
    services = RUBRIC.locate("infra.wired_services")[2]
    assert "每一类服务扣减1分" in services.text
    assert isinstance(services.rule, DeductionRule) and len(services.rule.items) == 5 and services.rule.per_missing == 1
    workshops = RUBRIC.locate("industry.digital_factories")[2]
    assert "每家得5分，本项最高得分20分" in workshops.text
    assert isinstance(workshops.rule, PerItemRule) and (workshops.rule.points_each, workshops.rule.cap) == (5, 20)
    stars = RUBRIC.locate("industry.cloud_stars")[2].rule
    assert isinstance(stars, PerItemRule) and stars.weights == {"3": 3, "4": 4, "5": 5} and stars.cap == 25
    team = RUBRIC.locate("org.it_team")[2].rule
    assert isinstance(team, LevelsRule) and [lv.points for lv in team.levels] == [10, (3, 6), 0]
    party = RUBRIC.locate("service.party_building")
    assert party[0].name == "功能服务便利化" and party[2].max == 15


def test_every_indicator_has_chinese_rule_english_summary_and_a_scoring_path() -> None:
    for indicator in RUBRIC.indicators:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in indicator.text), indicator.id
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in indicator.summary_en + indicator.name_en), indicator.id
        assert "扫码" not in indicator.text, f"{indicator.id} carries a page footer of the PDF"
        if indicator.source == "computed":
            assert indicator.measure in MEASURES, indicator.id
        else:
            assert isinstance(indicator.rule, LevelsRule)


def test_the_rubric_file_is_utf8_yaml() -> None:
    text = RUBRIC_2021.read_bytes().decode("utf-8")
    assert "基础设施信息化" in text and text.lstrip().startswith("#")


def test_a_broken_rubric_is_rejected_with_the_reason() -> None:
    text = RUBRIC_2021.read_text(encoding="utf-8").replace("            max: 10\n            text: 为满足各运营商", "            max: 9\n            text: 为满足各运营商")
    with pytest.raises(RubricError, match="best score 10 differs from max 9"):
        parse_rubric(text)
    with pytest.raises(RubricError, match="not valid YAML"):
        parse_rubric("dimensions: [unclosed")
    bad_sum = RUBRIC_2021.read_text(encoding="utf-8").replace("        name_en: Basic network\n        max: 45", "        name_en: Basic network\n        max: 40")
    with pytest.raises(RubricError, match="worth 40 but its indicators sum to 45"):
        parse_rubric(bad_sum)


def test_unknown_indicator_is_not_found() -> None:
    with pytest.raises(NotFound, match="unknown indicator 'infra.nope'"):
        RUBRIC.locate("infra.nope")

"""Who wrote a report and when: names split into body and region, levels, years, publication dates."""

from __future__ import annotations

from pathlib import Path

import pytest

from report.document import lines_document
from report.identity import apply_folder_region, region_from_folder
from report.metadata import (
    find_published,
    organization_from_name,
    organization_from_title,
    parse_date,
    read_metadata,
)
from report.model import Organization, Source
from report.parse import parse_document


@pytest.mark.parametrize(
    ("full_name", "name", "region", "level"),
    [
        ("房县白鹤镇人民政府", "白鹤镇人民政府", "房县", "township"),
        ("加格达奇区白桦乡人民政府", "白桦乡人民政府", "加格达奇区", "township"),
        ("十堰市房县人民政府", "房县人民政府", "十堰市", "county"),
        ("房县人民政府", "房县人民政府", None, "county"),
        ("十堰市人民政府", "十堰市人民政府", None, "city"),
        ("十堰市丹江口市人民政府", "丹江口市人民政府", "十堰市", "county"),
        ("湖北省人民政府", "湖北省人民政府", None, "province"),
        ("恩施土家族苗族自治州人民政府", "恩施土家族苗族自治州人民政府", None, "city"),
        ("房县教育局", "教育局", "房县", "department"),
        ("房县住房和城乡建设局", "住房和城乡建设局", "房县", "department"),
        ("房县市场监督管理局", "市场监督管理局", "房县", "department"),
        ("十堰市房县卫生健康委员会", "卫生健康委员会", "房县", "department"),
        ("教育部", "教育部", None, "national"),
        ("国家统计局", "国家统计局", None, "national"),
        ("孟津区会盟镇人民政府", "会盟镇人民政府", "孟津区", "township"),
        ("尧都区屯里街道办事处", "屯里街道办事处", "尧都区", "township"),
    ],
)
def test_organization_from_name(full_name: str, name: str, region: str | None, level: str) -> None:
    assert organization_from_name(full_name) == Organization(name=name, region=region, level=level)


@pytest.mark.parametrize(
    ("title", "name", "region"),
    [
        ("房县白鹤镇人民政府2023年政府信息公开工作年度报告", "白鹤镇人民政府", "房县"),
        ("2023年房县白鹤镇人民政府政府信息公开工作年度报告", "白鹤镇人民政府", "房县"),
        ("加格达奇区白桦乡人民政府 2022 年 政府信息公开工作年度报告", "白桦乡人民政府", "加格达奇区"),
        ("房县教育局2023年度政府信息公开工作年度报告", "教育局", "房县"),
    ],
)
def test_organization_from_title(title: str, name: str, region: str) -> None:
    organization = organization_from_title(title)
    assert (organization.name, organization.region) == (name, region)


def test_title_is_a_short_line_not_a_citation() -> None:
    lines = [
        "按照《关于印发<中华人民共和国政府信息公开工作年度报告格式>的通知》（2021年）相关规定，现将工作报告如下：",
        "# 孟津区白鹤镇人民政府 2024 年政府信息公开工作年度报告",
    ]
    assert read_metadata(lines).title == "孟津区白鹤镇人民政府 2024 年政府信息公开工作年度报告"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024年01月23日 16:12:21", "2024-01-23"),
        ("2024-1-5", "2024-01-05"),
        ("二〇二四年一月二十三日", "2024-01-23"),
        ("二〇二四年三月十日", "2024-03-10"),
        ("2024年2月30日", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_published_from_label_or_signature_but_not_from_prose() -> None:
    assert find_published(["标题", "发布日期：2024-01-20", "正文"]) == "2024-01-20"
    assert find_published(["正文", "房县白鹤镇人民政府", "二〇二四年一月二十日"]) == "2024-01-20"
    assert find_published(["统计期限自2023年1月1日至2023年12月31日。", "六、其他需要报告的事项", "无"]) is None


def test_year_from_statistics_period_when_there_is_no_title() -> None:
    text = "一、总体情况\n我镇自2022年1月1日至2022年12月31日公开信息65条。\n"
    report = parse_document(lines_document(text), Source(path="a.txt", sha256="", format="txt"))
    assert report.year == 2022
    assert report.organization.level == "township"


def test_region_from_folder() -> None:
    assert region_from_folder(Path("/share/房县/白鹤镇/2023.pdf"), "白鹤镇人民政府") == "房县"
    assert region_from_folder(Path("/share/十堰市/房县/教育局/2023.pdf"), "教育局") == "房县"
    assert region_from_folder(Path("/share/inbox/2023.pdf"), "白鹤镇人民政府") is None
    assert region_from_folder(Path("/share/房县/2023.pdf"), "房县人民政府") is None


def test_folder_region_fills_only_a_missing_region() -> None:
    source = Source(path="/share/房县/白鹤镇/2023.txt", sha256="", format="txt")
    text = "白鹤镇人民政府2023年政府信息公开工作年度报告\n一、总体情况\n"
    report = parse_document(lines_document(text), source)
    assert report.organization.region is None
    apply_folder_region(report)
    assert report.organization.region == "房县"
    other = parse_document(lines_document("孟津区" + text), source)
    apply_folder_region(other)
    assert other.organization.region == "孟津区"

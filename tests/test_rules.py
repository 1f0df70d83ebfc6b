"""Every built-in rule fires on a crafted defect (with location, expected, actual) and stays silent on a clean report."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from nianbao.settings import RuleSettings, Settings
from report.identity import ambiguity, earlier_reports, identity
from report.model import DocumentCounts, Finding, Report
from rules import BUILTIN, all_rules, compare, evaluate
from tests.factories import clean_report, next_year

SETTINGS = RuleSettings()


def findings_of(report: Report, rule: str, earlier: list[Report] | None = None) -> list[Finding]:
    return [finding for finding in evaluate(report, earlier or [], SETTINGS) if finding.rule == rule]


def test_clean_report_has_no_findings() -> None:
    report = clean_report()
    assert evaluate(report, [], SETTINGS) == []
    assert report.problems == []


def test_clean_series_has_no_findings() -> None:
    first = clean_report(year=2022)
    second = next_year(first)
    third = next_year(second)
    assert evaluate(second, [first], SETTINGS) == []
    assert evaluate(third, [second, first], SETTINGS) == []


CONTRACT_RULES = {
    "requests.balance", "requests.total_row", "requests.total_column", "appeals.totals",
    "requests.carry_over_continuity", "regulations.in_force_continuity", "narrative.copied_from_prior_year",
    "regulations.ineligible_issuer", "publication.late", "narrative.contradicts_table", "appeals.without_requests",
    "fees.statement_missing", "year.inconsistent", "narrative.missing_topics", "structure.missing_section",
    "structure.missing_table", "structure.blank_cells", "value.invalid", "structure.outdated_template",
}  # fmt: skip


def test_every_contract_rule_is_registered_with_a_three_part_explanation() -> None:
    ids = [item.id for item in all_rules()]
    assert len(ids) == len(set(ids)), "two rules share an id"
    assert CONTRACT_RULES <= set(ids)
    for item in all_rules():
        assert item.severity in ("error", "warning", "info")
        for part in ("What it does", "Why is this bad?", "Example"):
            assert part in item.explanation, (item.id, part)
        # reviewers read the legal basis in Chinese, naming the law or the format it rests on
        assert re.search(r"《.+》|国办公开办函", item.basis), item.id


def test_requests_balance() -> None:
    report = clean_report()
    assert report.tables.requests
    report.tables.requests["new"][5] = 2
    report.tables.requests["new"][6] = 5
    found = findings_of(report, "requests.balance")
    assert [(f.location, f.expected, f.actual) for f in found] == [
        ("三/（七）总计/其他", 2, 0),
        ("三/（七）总计/总计", 5, 3),
    ]
    assert "requests.total[5]" in found[0].cells and "其他" in found[0].message


def test_requests_total_row() -> None:
    report = clean_report()
    assert report.tables.requests
    report.tables.requests["total"][0] = 4
    found = findings_of(report, "requests.total_row")
    assert [(f.location, f.expected, f.actual, f.cells) for f in found] == [
        ("三/（七）总计/自然人", 3, 4, ["requests.total[0]"])
    ]


def test_requests_total_column() -> None:
    report = clean_report()
    assert report.tables.requests
    report.tables.requests["granted"][6] = 3
    found = findings_of(report, "requests.total_column")
    assert [(f.location, f.expected, f.actual) for f in found] == [("三/（一）予以公开/总计", 2, 3)]


def test_requests_total_column_skips_rows_with_blank_applicant_columns() -> None:
    report = clean_report()
    assert report.tables.requests
    report.tables.requests["granted"] = [None, None, None, None, None, None, 9]
    assert findings_of(report, "requests.total_column") == []


def test_appeals_totals() -> None:
    report = clean_report()
    assert report.tables.appeals
    report.tables.appeals.litigation_direct.corrected = 2
    found = findings_of(report, "appeals.totals")
    assert [(f.location, f.expected, f.actual, f.cells) for f in found] == [
        ("四/行政诉讼/未经复议直接起诉/总计", 2, 0, ["appeals.litigation_direct.total"])
    ]


def test_appeals_without_requests() -> None:
    report = clean_report()
    assert report.tables.requests
    for key in report.tables.requests:
        report.tables.requests[key] = [0] * 7
    report.evidence.section_text["一"] = report.evidence.section_text["一"].replace("共收到政府信息公开申请3件", "")
    found = findings_of(report, "appeals.without_requests")
    assert [(f.location, f.expected, f.actual) for f in found] == [("四/行政复议/总计", 0, 1)]


def test_regulations_ineligible_issuer_fires_for_township_department_and_county() -> None:
    for name, region, level in (
        ("白鹤镇人民政府", "房县", "township"),
        ("教育局", "房县", "department"),
        ("房县人民政府", "十堰市", "county"),
    ):
        report = clean_report(name=name, region=region, level=level)
        assert report.tables.active
        report.tables.active.regulations.issued = 2
        report.tables.active.regulations.in_force = 2
        found = findings_of(report, "regulations.ineligible_issuer")
        assert [(f.location, f.expected, f.actual) for f in found] == [
            ("二/规章/本年制发件数", 0, 2),
            ("二/规章/现行有效件数", 0, 2),
        ], level


def test_regulations_ineligible_issuer_silent_for_city_and_province_governments() -> None:
    for name, level in (("十堰市人民政府", "city"), ("湖北省人民政府", "province")):
        report = clean_report(name=name, region=None, level=level)
        assert report.tables.active
        report.tables.active.regulations.issued = 3
        report.tables.active.regulations.in_force = 40
        assert findings_of(report, "regulations.ineligible_issuer") == []


def test_in_force_continuity() -> None:
    first = clean_report(year=2022)
    second = next_year(first)
    assert second.tables.active
    second.tables.active.normative_documents.in_force = 9
    found = findings_of(second, "regulations.in_force_continuity", [first])
    assert [(f.location, f.expected, f.actual) for f in found] == [("二/行政规范性文件/现行有效件数", 6, 9)]
    assert findings_of(second, "regulations.in_force_continuity", []) == []


def test_carry_over_continuity() -> None:
    first = clean_report(year=2022)
    assert first.tables.requests
    first.tables.requests["carried_out"][6] = 2
    first.tables.requests["carried_out"][0] = 2
    first.tables.requests["new"] = [5, 0, 0, 0, 0, 0, 5]
    second = next_year(first)
    assert second.tables.requests
    second.tables.requests["carried_in"] = [0] * 7
    found = findings_of(second, "requests.carry_over_continuity", [first])
    assert [(f.location, f.expected, f.actual) for f in found] == [
        ("三/二、上年结转政府信息公开申请数量/自然人", 2, 0),
        ("三/二、上年结转政府信息公开申请数量/总计", 2, 0),
    ]


def test_cross_year_rules_need_exactly_the_previous_year() -> None:
    first = clean_report(year=2021)
    later = clean_report(year=2023)
    assert later.tables.requests
    later.tables.requests["carried_in"][6] = 7
    assert findings_of(later, "requests.carry_over_continuity", [first]) == []


def test_missing_section_and_order() -> None:
    report = clean_report()
    report.sections = ["一", "二", "三", "四", "六"]
    found = findings_of(report, "structure.missing_section")
    assert [(f.location, f.expected) for f in found] == [
        ("五、存在的主要问题及改进情况", "五、存在的主要问题及改进情况")
    ]
    report.sections = ["一", "三", "二", "四", "五", "六"]
    found = findings_of(report, "structure.missing_section")
    assert [(f.expected, f.actual) for f in found] == [("一、二、三、四、五、六", "一、三、二、四、五、六")]


def test_missing_table() -> None:
    report = clean_report()
    report.tables.appeals = None
    found = findings_of(report, "structure.missing_table")
    assert [(f.location, f.actual) for f in found] == [("四、行政复议、行政诉讼情况", None)]
    assert "表四" in found[0].message


def test_blank_cells() -> None:
    report = clean_report()
    assert report.tables.requests
    report.tables.requests["granted"][1] = None
    report.evidence.blank_cells = ["requests.granted[1]"]
    found = findings_of(report, "structure.blank_cells")
    assert [(f.location, f.actual, f.cells) for f in found] == [("三", 1, ["requests.granted[1]"])]
    assert "三/（一）予以公开/商业企业" in found[0].message


def test_value_invalid_text_negative_and_fraction() -> None:
    report = clean_report()
    assert report.tables.requests and report.tables.active
    report.evidence.invalid_cells = {"requests.granted[0]": "五", "active.licensing": "1.5"}
    report.tables.active.penalty = -1
    found = findings_of(report, "value.invalid")
    assert {(f.location, f.actual) for f in found} == {
        ("三/（一）予以公开/自然人", "五"),
        ("二/行政许可", "1.5"),
        ("二/行政处罚", -1),
    }


def test_narrative_contradicts_table() -> None:
    report = clean_report()
    report.evidence.section_text["一"] += "本年度共收到政府信息公开申请12件。"
    found = findings_of(report, "narrative.contradicts_table")
    assert [(f.location, f.expected, f.actual) for f in found] == [("三/一、本年新收政府信息公开申请数量/总计", 12, 3)]


def test_narrative_contradicts_table_on_none_received_and_appeals() -> None:
    report = clean_report()
    report.evidence.section_text["一"] = "本年度未收到政府信息公开申请。本年度未发生行政复议和行政诉讼。"
    found = findings_of(report, "narrative.contradicts_table")
    assert {(f.location, f.expected, f.actual) for f in found} == {
        ("三/一、本年新收政府信息公开申请数量/总计", 0, 3),
        ("四/行政复议/总计", 0, 1),
    }


def test_narrative_ignores_other_years_and_unrelated_counts() -> None:
    report = clean_report()
    report.evidence.section_text["一"] += "较上年收到申请5件有所下降。今年以来共收到群众留言30条。为群众办理事项340件。"
    assert findings_of(report, "narrative.contradicts_table") == []


def test_fees_statement_missing() -> None:
    report = clean_report()
    report.evidence.section_text["六"] = "无"
    found = findings_of(report, "fees.statement_missing")
    assert [(f.location, f.expected) for f in found] == [("六", "信息处理费收取情况")]


def test_year_inconsistent() -> None:
    report = clean_report(year=2023)
    report.evidence.period_years = [2022]
    found = findings_of(report, "year.inconsistent")
    assert [(f.expected, f.actual) for f in found] == [(2023, 2022)]
    report.evidence.period_years = [2023]
    report.published = "2023-12-20"
    found = findings_of(report, "year.inconsistent")
    assert [(f.location, f.actual) for f in found] == [("发布日期", "2023-12-20")]


@pytest.mark.parametrize(
    ("level", "published", "fires"),
    [
        ("department", "2024-02-01", True),
        ("department", "2024-01-31", False),
        ("county", "2024-03-20", False),
        ("county", "2024-04-01", True),
        ("township", "2024-02-10", False),
        ("township", "2024-04-01", True),
        ("unknown", "2024-09-01", False),
    ],
)
def test_publication_late(level: str, published: str, fires: bool) -> None:
    report = clean_report(level=level, year=2023)
    report.published = published
    found = findings_of(report, "publication.late")
    assert bool(found) == fires
    if fires:
        assert found[0].actual == published


def test_publication_late_township_deadline_is_a_setting_per_province() -> None:
    report = clean_report(level="township", year=2023)
    report.published = "2024-02-10"
    strict = RuleSettings(township_deadline="01-31")
    assert [f.expected for f in evaluate(report, [], strict) if f.rule == "publication.late"] == ["2024-01-31"]
    report.evidence.title = "湖北省十堰市房县白鹤镇人民政府2023年政府信息公开工作年度报告"
    by_province = RuleSettings(township_deadlines={"湖北省": "02-01", "河南省": "03-31"})
    assert [f.expected for f in evaluate(report, [], by_province) if f.rule == "publication.late"] == ["2024-02-01"]
    report.evidence.title = "洛阳市孟津区白鹤镇人民政府2023年政府信息公开工作年度报告"
    assert [f for f in evaluate(report, [], by_province) if f.rule == "publication.late"] == []


def test_publication_late_government_office_is_a_department_and_old_reports_had_march() -> None:
    office = clean_report(name="人民政府办公室", region="十堰市", level="department", year=2023)
    office.published = "2024-02-15"
    assert [f.expected for f in findings_of(office, "publication.late")] == ["2024-01-31"]
    old = clean_report(name="教育局", region="房县", level="department", year=2018)
    old.published = "2019-03-20"
    assert findings_of(old, "publication.late") == []
    old.published = "2019-04-02"
    found = findings_of(old, "publication.late")
    assert [f.expected for f in found] == ["2019-03-31"] and "第三十一条" in found[0].message


def test_ineligible_issuer_spares_the_general_office_of_a_rule_making_government() -> None:
    for name, region, fires in (
        ("人民政府办公厅", "湖北省", False),
        ("人民政府办公室", "十堰市", False),
        ("人民政府办公室", "恩施土家族苗族自治州", False),
        ("人民政府办公室", "房县", True),
        ("教育局", "十堰市", True),
    ):
        report = clean_report(name=name, region=region, level="department")
        assert report.tables.active is not None
        report.tables.active.regulations = DocumentCounts(issued=1, repealed=0, in_force=3)
        assert bool(findings_of(report, "regulations.ineligible_issuer")) == fires, (name, region)


def test_year_inconsistent_period_backwards_or_report_dated_within_it() -> None:
    report = clean_report(year=2023)
    report.evidence.period_spans = [(2023, 2022)]
    found = findings_of(report, "year.inconsistent")
    assert [(f.location, f.actual) for f in found] == [("统计期限", "自2023年1月1日至2022年12月31日")]
    report.evidence.period_spans = [(2023, 2023)]
    assert findings_of(report, "year.inconsistent") == []
    report.published = "2023-12-31"
    found = findings_of(report, "year.inconsistent")
    assert [(f.location, f.expected, f.actual) for f in found] == [("发布日期", "2023-12-31 以后", "2023-12-31")]


def test_outdated_template_only_from_2021_and_on_table_two_labels(tmp_path) -> None:
    from report.parse import parse_file

    report = clean_report(year=2020)
    report.evidence.template_markers = ["采购总金额"]
    assert findings_of(report, "structure.outdated_template") == []
    text = (
        "房县白鹤镇人民政府2023年政府信息公开工作年度报告\n二、主动公开政府信息情况\n"
        "第二十条第（一）项\n信息内容 本年制发件数 本年废止件数 现行有效件数\n规章 0 0 0\n规范性文件 2 1 5\n"
        "三、收到和处理政府信息公开申请情况\n"
    )
    path = tmp_path / "r.txt"
    path.write_text(text, encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.tables.active is not None and parsed.tables.active.normative_documents.in_force == 5
    assert parsed.evidence.template_markers == ["表二“规范性文件”"]
    assert findings_of(parsed, "structure.outdated_template") == []  # the old word alone: many 2021 tables keep it
    path.write_text(text + "上一年项目数量\n", encoding="utf-8")
    found = findings_of(parse_file(path), "structure.outdated_template")
    assert [f.actual for f in found] == ["上一年项目数量、表二“规范性文件”"]
    path.write_text(text.replace("规范性文件 2", "行政规范性文件 2"), encoding="utf-8")
    assert parse_file(path).evidence.template_markers == []


def test_copied_from_prior_year() -> None:
    first = clean_report(year=2022)
    second = next_year(first)
    second.evidence.section_text["五"] = first.evidence.section_text["五"].replace("二是", "二是进一步")
    found = findings_of(second, "narrative.copied_from_prior_year", [first])
    assert len(found) == 1 and found[0].location == "五" and found[0].actual >= 0.9
    second.evidence.section_text["五"] = "无"
    first.evidence.section_text["五"] = "无"
    assert findings_of(second, "narrative.copied_from_prior_year", [first]) == []


def test_copied_from_prior_year_names_the_part() -> None:
    first = clean_report(year=2022)
    second = next_year(first)
    second.evidence.section_text["一"] = first.evidence.section_text["一"]
    found = findings_of(second, "narrative.copied_from_prior_year", [first])
    assert [(f.location, f.actual) for f in found] == [("一", 1.0)] and "第一部分“总体情况”" in found[0].message


def test_tables_copied_from_prior_year() -> None:
    first = clean_report(year=2022)
    second = next_year(first)
    assert findings_of(second, "tables.copied_from_prior_year", [first]) == []
    second.tables = first.tables.model_copy(deep=True)
    found = findings_of(second, "tables.copied_from_prior_year", [first])
    assert [(f.location, f.actual) for f in found] == [("二、三、四", len(first.cell_values()))]
    for report in (first, second):  # all-zero tables repeat legitimately
        report.tables = clean_report().tables.model_copy(deep=True)
        for path in report.cell_values():
            _zero(report, path)
    assert findings_of(second, "tables.copied_from_prior_year", [first]) == []


def _zero(report: Report, path: str) -> None:
    tables = report.tables
    assert tables.active and tables.requests and tables.appeals
    table, _, rest = path.partition(".")
    if table == "requests":
        key, _, column = rest.rstrip("]").partition("[")
        tables.requests[key][int(column)] = 0
    elif table == "appeals":
        block, _, field = rest.partition(".")
        setattr(getattr(tables.appeals, block), field, 0)
    else:
        row, _, field = rest.partition(".")
        setattr(getattr(tables.active, row), field, 0) if field else setattr(tables.active, row, 0)


def test_revised_after_publication() -> None:
    first = clean_report(year=2023, sha="a" * 64)
    revised = clean_report(year=2023, sha="c" * 64)
    candidates = [first, revised]
    assert earlier_reports(revised, candidates) == [first]
    found = findings_of(revised, "report.revised_after_publication", earlier_reports(revised, candidates))
    assert [(f.severity, f.actual) for f in found] == [("info", f"另有内容不同的版本（{'a' * 12}）")]
    assert compare(revised, [first]) is None  # the comparison stays with the year before
    same = clean_report(year=2023, sha="a" * 64)
    assert findings_of(same, "report.revised_after_publication", earlier_reports(same, [first])) == []


def test_outdated_template() -> None:
    report = clean_report()
    report.evidence.template_markers = ["第二十条第(九)项", "采购总金额"]
    found = findings_of(report, "structure.outdated_template")
    assert [(f.location, f.actual) for f in found] == [("二", "第二十条第(九)项、采购总金额")]


def test_missing_topics() -> None:
    report = clean_report()
    report.evidence.section_text["一"] = "本年度我镇主动公开各类信息120条，依申请公开工作有序开展。"
    found = findings_of(report, "narrative.missing_topics")
    assert [f.expected for f in found] == ["政府信息管理", "政府信息公开平台建设", "监督保障"]
    assert all(f.severity == "info" for f in found)


def test_settings_disable_and_regrade() -> None:
    report = clean_report()
    report.evidence.section_text["六"] = "无"
    settings = RuleSettings(disabled=["narrative.missing_topics"], severity={"fees.statement_missing": "error"})
    found = evaluate(report, [], settings)
    assert [(f.rule, f.severity) for f in found] == [("fees.statement_missing", "error")]
    assert evaluate(report, [], RuleSettings(disabled=["fees.statement_missing"])) == []


def test_settings_from_toml_and_env(tmp_path, monkeypatch) -> None:
    config = tmp_path / "nianbao.toml"
    config.write_text('[rules]\ndisabled = ["year.inconsistent"]\ncopy_similarity = 0.75\n', encoding="utf-8")
    monkeypatch.setenv("NIANBAO_CONFIG", str(config))
    monkeypatch.setenv("NIANBAO_RULES__TOWNSHIP_DEADLINE", "03-31")
    settings = Settings()
    assert settings.rules.disabled == ["year.inconsistent"]
    assert settings.rules.copy_similarity == 0.75
    assert settings.rules.township_deadline == "03-31"


def test_compare_lists_every_changed_cell() -> None:
    first = clean_report(year=2022)
    second = next_year(first)
    comparison = compare(second, [first])
    assert comparison is not None and comparison.year == 2022 and comparison.sha256 == "a" * 64
    assert {(c.cell, c.before, c.after) for c in comparison.changes} == {
        ("active.normative_documents.issued", 2, 1),
        ("active.normative_documents.repealed", 1, 0),
        ("active.normative_documents.in_force", 5, 6),
    }


def test_same_name_in_different_regions_is_never_merged() -> None:
    fangxian_2022 = clean_report(region="房县", year=2022)
    assert fangxian_2022.tables.requests
    fangxian_2022.tables.requests["carried_out"][6] = 4
    mengjin_2023 = clean_report(region="孟津区", year=2023)
    assert earlier_reports(mengjin_2023, [fangxian_2022]) == []
    assert (
        findings_of(mengjin_2023, "requests.carry_over_continuity", earlier_reports(mengjin_2023, [fangxian_2022]))
        == []
    )
    fangxian_2023 = clean_report(region="房县", year=2023)
    assert earlier_reports(fangxian_2023, [fangxian_2022, mengjin_2023]) == [fangxian_2022]


def test_a_name_without_region_among_regional_namesakes_is_ambiguous() -> None:
    regional = clean_report(region="房县", year=2022)
    bare = clean_report(region=None, year=2023)
    known = {identity(regional), identity(bare)}
    reason = ambiguity(bare, known)
    assert reason is not None and "白鹤镇人民政府" in reason
    assert ambiguity(regional, known) is None


def test_readme_rule_table_is_generated_from_the_registry() -> None:
    from pathlib import Path

    from nianbao.cli import rules_markdown

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("| id | severity | checks |")
    table = readme[start : readme.index("\n\n", start) + 1]
    assert table == rules_markdown(), "README's rule table differs: paste `nianbao rules --markdown` into it"
    assert table.count("\n") == len(BUILTIN) + 2


def test_rules_explain_cli_prints_the_docstring() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "nianbao", "rules", "--explain", "requests.balance", "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "What it does" in run.stdout and "勾稽" in run.stdout
    assert "依据：国办公开办函〔2021〕30号 表三表头" in run.stdout
    listing = subprocess.run(
        [sys.executable, "-m", "nianbao", "rules"], capture_output=True, text=True, timeout=60, check=True
    )
    assert len(listing.stdout.splitlines()) == len(all_rules()) and "regulations.ineligible_issuer" in listing.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "nianbao", "rules", "--explain", "no.such"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unknown.returncode == 2

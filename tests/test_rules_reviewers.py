"""The rules reviewers cite most (issue 13): each fires on a crafted defect and stays silent on a clean report."""

from __future__ import annotations

from pathlib import Path

from report.model import Finding, Report
from report.parse import parse_file
from rules import all_rules, evaluate
from rules.settings import RuleSettings
from tests.factories import YEARLY_OVERVIEWS, clean_report

SETTINGS = RuleSettings()
NEW_RULES = (
    "tables.copied_from_prior_year",
    "structure.misnumbered_section",
    "narrative.thin_section",
    "narrative.problems_without_measures",
    "value.unit_suspect",
    "narrative.foreign_entity_name",
    "report.revised_after_publication",
)


def findings_of(report: Report, rule: str, settings: RuleSettings = SETTINGS) -> list[Finding]:
    return [finding for finding in evaluate(report, [], settings) if finding.rule == rule]


def test_new_rules_explain_themselves_to_reviewers_in_chinese() -> None:
    rules = {item.id: item for item in all_rules()}
    for rule_id in NEW_RULES:
        item = rules[rule_id]
        assert item.reviewer is not None and item.reviewer.checks and item.reviewer.why and item.reviewer.example
        assert all("\u4e00" <= char <= "\u9fff" for char in item.reviewer.checks[:2]), rule_id


def test_thin_section() -> None:
    report = clean_report()
    assert findings_of(report, "narrative.thin_section") == []
    report.evidence.section_text["五"] = "无。"
    found = findings_of(report, "narrative.thin_section")
    assert [(f.location, f.actual, f.severity) for f in found] == [("五", "无", "info")]
    assert "只写了“无”" in found[0].message
    report.evidence.section_text["五"] = "较好。"
    assert [f.actual for f in findings_of(report, "narrative.thin_section")] == ["较好"]
    assert findings_of(report, "narrative.thin_section", RuleSettings(thin_section_chars=2)) == []
    report.evidence.section_text["六"] = "无"  # fees.statement_missing says it; not twice
    assert [f.location for f in findings_of(report, "narrative.thin_section")] == ["五"]
    report.evidence.section_text["六"] = "处理费：无。"
    assert [f.location for f in findings_of(report, "narrative.thin_section")] == ["五", "六"]


def test_problems_without_measures() -> None:
    report = clean_report()
    assert findings_of(report, "narrative.problems_without_measures") == []
    report.evidence.section_text["五"] = "信息公开的及时性有待提高，部分栏目更新滞后，工作人员业务能力有待加强。"
    found = findings_of(report, "narrative.problems_without_measures")
    assert [(f.location, f.severity) for f in found] == [("五", "info")]
    assert "有待提高" in found[0].actual
    report.evidence.section_text["五"] += "下一步，我镇将建立信息发布台账。"
    assert findings_of(report, "narrative.problems_without_measures") == []


def test_unit_suspect() -> None:
    report = clean_report(level="township")
    assert report.tables.active is not None
    report.tables.active.fees = 35.5
    assert findings_of(report, "value.unit_suspect") == []
    report.tables.active.fees = 3500.0
    found = findings_of(report, "value.unit_suspect")
    assert [(f.location, f.cells, f.actual) for f in found] == [("二/行政事业性收费", ["active.fees"], 3500.0)]
    assert "0.35 万元" in found[0].message
    city = clean_report(name="人民政府", region="十堰市", level="city")
    assert city.tables.active is not None
    city.tables.active.fees = 96171.6
    assert findings_of(city, "value.unit_suspect") == []


def test_foreign_entity_name_in_signature() -> None:
    report = clean_report()
    report.evidence.section_text["六"] = "本年度未收取信息处理费。\n房县白鹤镇人民政府\n2024年1月20日"
    assert findings_of(report, "narrative.foreign_entity_name") == []
    report.evidence.section_text["六"] = "本年度未收取信息处理费。\n房县黄龙镇人民政府\n2024年1月20日"
    found = findings_of(report, "narrative.foreign_entity_name")
    assert [(f.location, f.expected, f.actual) for f in found] == [("落款", "房县白鹤镇人民政府", "房县黄龙镇人民政府")]
    report.evidence.section_text["六"] = "本年度未收取信息处理费。\n县政府办公室\n2024年1月20日"
    assert findings_of(report, "narrative.foreign_entity_name") == []


def test_foreign_entity_name_in_self_reference() -> None:
    report = clean_report(name="教育局", region="房县", level="department")
    report.evidence.section_text["一"] = report.evidence.section_text["一"].replace("我镇", "我局")
    assert findings_of(report, "narrative.foreign_entity_name") == []
    report.evidence.section_text["五"] = "本镇公开栏更新不及时。我镇将加强管理。"
    found = findings_of(report, "narrative.foreign_entity_name")
    assert found == []  # the report also calls itself 我局
    report.evidence.section_text["一"] = report.evidence.section_text["一"].replace("我局", "本镇")
    found = findings_of(report, "narrative.foreign_entity_name")
    assert [(f.location, f.actual) for f in found] == [("正文", "我镇")]


def test_contradicts_table_reads_documents_appeals_and_carry_over() -> None:
    report = clean_report()
    assert report.tables.active is not None and report.tables.requests is not None
    report.tables.active.normative_documents.in_force = 470
    report.evidence.section_text["二"] = "本年度制发行政规范性文件2件，废止1件，现行有效行政规范性文件393件。"
    found = findings_of(report, "narrative.contradicts_table")
    assert [(f.location, f.expected, f.actual) for f in found] == [("二/行政规范性文件/现行有效件数", 393, 470)]
    assert "现行有效行政规范性文件393件" in found[0].message
    report.evidence.section_text["二"] = "指导各部门制发行政规范性文件40件。"
    assert findings_of(report, "narrative.contradicts_table") == []
    report.evidence.section_text["三"] = "上年结转申请2件，1件结转下年度继续办理。"
    found = findings_of(report, "narrative.contradicts_table")
    assert [(f.cells, f.expected, f.actual) for f in found] == [
        (["requests.carried_in[6]"], 2, 0),
        (["requests.carried_out[6]"], 1, 0),
    ]
    report.evidence.section_text["三"] = ""
    report.evidence.section_text["四"] = "本年度收到行政复议申请3件。"
    found = findings_of(report, "narrative.contradicts_table")
    assert [(f.cells, f.expected, f.actual) for f in found] == [(["appeals.review.total"], 3, 1)]


HEADINGS = ("一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
            "四、政府信息公开行政复议、行政诉讼情况", "五、其他工作", "六、存在的主要问题及改进情况",
            "七、其他需要报告的事项")  # fmt: skip


def test_misnumbered_section_instead_of_missing(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text(
        "白鹤镇2023年政府信息公开工作年度报告\n" + "\n正文。\n".join(HEADINGS) + "\n无。\n", encoding="utf-8"
    )
    report = parse_file(path)
    assert report.evidence.misnumbered_sections == {"五": "六", "六": "七"}
    found = evaluate(report, [], SETTINGS)
    misnumbered = [(f.location, f.expected, f.actual) for f in found if f.rule == "structure.misnumbered_section"]
    assert misnumbered == [("五、存在的主要问题及改进情况", "五", "六"), ("六、其他需要报告的事项", "六", "七")]
    assert not [f for f in found if f.rule == "structure.missing_section"]
    path.write_text("白鹤镇2023年政府信息公开工作年度报告\n" + "\n正文。\n".join(HEADINGS[:5]) + "\n", encoding="utf-8")
    report = parse_file(path)
    assert report.evidence.misnumbered_sections == {}
    found = evaluate(report, [], SETTINGS)
    assert {f.rule for f in found} >= {"structure.missing_section"}
    assert "structure.misnumbered_section" not in {f.rule for f in found}


PEER_FIVE = (
    "存在的主要问题：一是政务公开工作人员多为兼职，业务能力参差不齐，对条例理解不深；二是基层公开栏更新不及时，"
    "部分内容与政府网站不一致；三是政策解读形式单一，图表图解、视频解读运用较少。改进措施：一是组织全体工作人员"
    "开展专题培训，每季度不少于一次；二是建立公开栏月度检查制度，做到线上线下同步更新；三是丰富解读形式。"
)


def peer_pair() -> tuple[Report, Report]:
    """白鹤镇 and 黄龙镇, 2023: 黄龙镇's part 五 is 白鹤镇's with the name and the figures changed."""
    baihe = clean_report(name="白鹤镇人民政府", region="房县", sha="a" * 64)
    huanglong = clean_report(name="黄龙镇人民政府", region="房县", sha="d" * 64)
    baihe.evidence.section_text["五"] = "白鹤镇" + PEER_FIVE.replace("一次", "3次")
    huanglong.evidence.section_text["五"] = "黄龙镇" + PEER_FIVE.replace("一次", "12次")
    huanglong.evidence.section_text["一"] = YEARLY_OVERVIEWS[0]
    return baihe, huanglong


def test_copied_from_peer_masks_names_and_numbers() -> None:
    baihe, huanglong = peer_pair()
    found = [f for f in evaluate(huanglong, [], SETTINGS, [baihe]) if f.rule == "narrative.copied_from_peer"]
    assert [(f.location, f.actual) for f in found] == [("五", 1.0)] and "房县白鹤镇人民政府" in found[0].message
    assert [f for f in evaluate(huanglong, [], SETTINGS) if f.rule == "narrative.copied_from_peer"] == []
    huanglong.evidence.section_text["五"] = "黄龙镇" + "".join(reversed(PEER_FIVE))
    assert [f for f in evaluate(huanglong, [], SETTINGS, [baihe]) if f.rule == "narrative.copied_from_peer"] == []
    namesake = clean_report(name="白鹤镇人民政府", region="房县", sha="e" * 64)  # its own other version: not a peer
    namesake.evidence.section_text["五"] = baihe.evidence.section_text["五"]
    assert [f for f in evaluate(namesake, [], SETTINGS, [baihe]) if f.rule == "narrative.copied_from_peer"] == []


def test_copied_from_peer_candidates_come_from_the_index_and_the_store(tmp_path: Path) -> None:
    from rules.similarity import PeerIndex
    from storage import Store

    baihe, huanglong = peer_pair()
    unrelated = clean_report(name="城关镇人民政府", region="房县", sha="f" * 64)
    unrelated.evidence.section_text["五"] = "城关镇" + "".join(reversed(PEER_FIVE))
    unrelated.evidence.section_text["一"] = YEARLY_OVERVIEWS[1]
    index = PeerIndex()
    for report in (baihe, huanglong, unrelated):
        index.add(report)
    assert index.candidates(huanglong) == [baihe]
    store = Store.open(f"sqlite:///{tmp_path / 'n.db'}")
    for report in (baihe, unrelated):
        store.save(report)
    assert [peer.source.sha256 for peer in store.peer_reports(huanglong)] == ["a" * 64]
    later = clean_report(name="黄龙镇人民政府", region="房县", year=2024, sha="9" * 64)
    later.evidence.section_text["五"] = huanglong.evidence.section_text["五"]
    assert store.peer_reports(later) == []  # another year
    store.dispose()


def test_minhash_signatures_are_datasketchs() -> None:
    from datasketch import MinHash

    from rules.similarity import PERMUTATIONS, SHINGLE, signature

    text = "存在的主要问题一是政务公开工作人员多为兼职业务能力参差不齐二是基层公开栏更新不及时"
    reference = MinHash(num_perm=PERMUTATIONS, seed=13, scheme="legacy")
    reference.update_batch([text[i : i + SHINGLE].encode() for i in range(len(text) - SHINGLE + 1)])
    assert signature(text) == [int(value) for value in reference.hashvalues]

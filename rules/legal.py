"""Rules from the law itself: who may make 规章 (《立法法》) and when the report is due (条例 第四十九条)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from report.model import Organization, Report
from rules.base import Hit, ReviewerText, rule
from rules.settings import RuleSettings

LEVEL_NAMES = {
    "township": "乡镇（街道）",
    "county": "县级人民政府",
    "department": "地方政府部门",
    "city": "市级人民政府",
    "province": "省级人民政府",
    "national": "国务院部门",
}
# Bodies that may never make 规章: only 国务院部门 and the governments of provinces, 设区的市 and 自治州 may.
# A "city" may be a county-level city, so it is not judged.
INELIGIBLE_LEVELS = ("township", "county", "department")
# A government's general office (办公厅/办公室) publishes and counts its government's 规章, so the office of a
# government that may make them is no ineligible department. Its region names that government; a 市 may be a
# 设区的市, so a 市's office is not judged either (precision first).
_GENERAL_OFFICES = ("人民政府办公厅", "人民政府办公室", "政府办公厅", "政府办公室")
_RULE_MAKING_REGIONS = ("省", "自治区", "直辖市", "市", "自治州", "州", "盟")
# Reports on 2018 and earlier fall under the 2008 条例 (第三十一条): 3月31日 for every body.
LAST_YEAR_OF_OLD_DEADLINE = 2018


@rule(
    "regulations.ineligible_issuer",
    "error",
    "无权制定规章的机关填报了规章",
    "{body}无权制定规章（《立法法》），但表二“规章”{field}填的是 {actual}，应为 0。",
    basis="《立法法》：只有国务院各部门和省、自治区、直辖市、设区的市、自治州人民政府可以制定规章；乡镇、县级政府和地方政府部门无权制定。",
    reviewer=ReviewerText(
        checks="乡镇（街道）、县（区）人民政府和地方政府工作部门的报告中，表二“规章”的“本年制发件数”或“现行有效件数”是否大于 0。",
        why="依照《立法法》，只有国务院各部门可以制定部门规章，只有省、自治区、直辖市和设区的市、自治州的人民政府可以制定地方政府规章。乡镇、县级政府和政府部门填报规章，通常是把内部制度或代拟的文件当成了规章，应改填“行政规范性文件”或不填。",
        example="房县白鹤镇人民政府 2023 年度报告表二：规章 本年制发件数 2、现行有效件数 2。",
    ),
)
def ineligible_issuer(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when a township, a county (district) government or a local government's department reports 规章
    issued or in force.

    Why is this bad?
    Under 《立法法》 only 国务院各部门 make 部门规章 and only the governments of provinces, 设区的市 and 自治州 make
    地方政府规章. A township or a 局 that lists 规章 has counted internal rules or documents it only drafted;
    they belong under 行政规范性文件 or nowhere.

    The general office (办公厅/办公室) of a province's, a 市's or a 自治州's government is not judged: it counts the
    规章 its government makes.

    Example
    房县白鹤镇人民政府: 规章 本年制发件数 2, 现行有效件数 2.
    """
    active, organization = report.tables.active, report.organization
    if active is None or organization.level not in INELIGIBLE_LEVELS or _office_of_rule_maker(organization):
        return
    body = LEVEL_NAMES[organization.level]
    for field, label in (("issued", "本年制发件数"), ("in_force", "现行有效件数")):
        value = getattr(active.regulations, field)
        if value:
            yield Hit(
                location=f"二/规章/{label}",
                cells=[f"active.regulations.{field}"],
                expected=0,
                actual=value,
                fields={"body": body, "field": label},
            )


def _office_of_rule_maker(organization: Organization) -> bool:
    name, region = organization.name or "", organization.region or ""
    return name.endswith(_GENERAL_OFFICES) and region.endswith(_RULE_MAKING_REGIONS)


def township_deadline(settings: RuleSettings, places: str) -> str:
    """MM-DD for a township: the setting of the first province (or region) named in `places`, else the default."""
    return next(
        (limit for place, limit in settings.township_deadlines.items() if place and place in places),
        settings.township_deadline,
    )


def deadline_for(year: int, level: str, settings: RuleSettings, places: str = "") -> date | None:
    """The last day to publish a body's report on `year` (条例 第四十九条; 第三十一条 of 2008 up to 2018 reports).

    `places` is the text that may name the body's province (its title, its region), for townships' deadlines."""
    if level == "unknown":
        return None
    if year <= LAST_YEAR_OF_OLD_DEADLINE:
        return date(year + 1, 3, 31)
    if level in ("department", "national"):
        return date(year + 1, 1, 31)
    if level in ("county", "city", "province"):
        return date(year + 1, 3, 31)
    month, day = (int(part) for part in township_deadline(settings, places).split("-"))
    return date(year + 1, month, day)


def deadline(report: Report, settings: RuleSettings) -> date | None:
    """The last day to publish this report, by the body's level and the reporting year."""
    if report.year is None:
        return None
    places = f"{report.evidence.title or ''} {report.organization.region or ''}"
    return deadline_for(report.year, report.organization.level, settings, places)


@rule(
    "publication.late",
    "warning",
    "发布日期晚于《政府信息公开条例》第四十九条规定的期限",
    "报告发布日期为 {actual}，晚于 {expected} 的期限（{basis}）。",
    basis="《政府信息公开条例》第四十九条：县级以上人民政府部门于每年1月31日前、本级人民政府于每年3月31日前公布上一年度报告。",
    reviewer=ReviewerText(
        checks="报告写明的发布日期是否晚于期限：县级以上人民政府部门为次年 1 月 31 日，县级以上人民政府为次年 3 月 31 日，乡镇（街道）按设定的期限（默认次年 1 月 31 日）。",
        why="《政府信息公开条例》第四十九条规定，县级以上人民政府部门应当在每年 1 月 31 日前向本级政府信息公开工作主管部门提交上一年度报告并向社会公布，县级以上地方人民政府应当在每年 3 月 31 日前公布本级政府上一年度报告。条例未写明乡镇的期限，多数地方随部门一并收集，因此默认 1 月 31 日，可在配置中修改。",
        example="某县教育局 2023 年度报告落款日期为“2024年3月2日”，晚于 2024 年 1 月 31 日。",
    ),
)
def publication_late(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Compares the stated publication date with the deadline for the body's level: 31 January for departments
    (a government's 办公厅/办公室 included) and 国务院部门, 31 March for county, city and province governments,
    and for townships the configured deadline (default 31 March, settable per province). Reports on 2018 and
    earlier are due by 31 March whatever the level.

    Why is this bad?
    《政府信息公开条例》第四十九条: 县级以上人民政府部门 publish the previous year's report by 1月31日, and the
    本级人民政府's report is published by 3月31日. Townships are not named there, so the governments' date is
    the outer bound unless the province set an earlier one. The 2008 条例 (第三十一条) had 3月31日 for all.

    Example
    A 教育局 report for 2023 dated 2024年3月2日.
    """
    limit, published = deadline(report, settings), report.published
    if limit is None or published is None:
        return
    if date.fromisoformat(published) > limit:
        if report.year is not None and report.year <= LAST_YEAR_OF_OLD_DEADLINE:
            basis = "2008年《政府信息公开条例》第三十一条"
        elif report.organization.level == "township":
            basis = "乡镇期限（条例未列明，按本地设定，默认以3月31日为限）"
        else:
            basis = "《政府信息公开条例》第四十九条"
        yield Hit(location="发布日期", expected=limit.isoformat(), actual=published, fields={"basis": basis})

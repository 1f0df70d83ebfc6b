"""A clean report built directly as a model, for rule tests that change one thing and watch one rule."""

from __future__ import annotations

from report.model import (
    OUTCOME_KEYS,
    REQUEST_KEYS,
    ActiveTable,
    AppealBlock,
    AppealsTable,
    DocumentCounts,
    Evidence,
    Organization,
    Report,
    Source,
    Tables,
)

SECTION_ONE = (
    "本年度，我镇扎实推进主动公开工作，认真办理依申请公开，加强政府信息管理和保密审查，"
    "推进政府信息公开平台建设，完善监督保障机制，开展业务培训。"
)
SECTION_FIVE = (
    "存在的主要问题：一是公开内容不够丰富，二是更新不够及时。改进措施：一是加强培训，提高工作人员业务水平；"
    "二是建立信息发布台账，明确时限，确保及时准确公开。"
)

# Section 五 texts that differ from year to year, so a clean series is not a copy.
YEARLY_PROBLEMS = (
    "本年度问题：政策解读形式单一，回应关切不够主动。措施：丰富解读形式，建立舆情回应机制，定期开展自查。",
    "主要问题是基层公开专栏更新滞后、栏目设置不统一。下一步将统一栏目标准，实行月度通报，并纳入年度考核。",
    "依申请公开答复文书不够规范，个别答复说理不充分。将制定答复模板，开展案例培训，实行法律顾问审核。",
)


# Section 一 texts that differ from year to year, so a clean series is not a copy.
YEARLY_OVERVIEWS = (
    "本年度，我镇围绕重点领域信息主动公开，规范依申请公开答复流程，健全政府信息管理制度，"
    "升级政府信息公开平台栏目，把政务公开纳入绩效考核，强化监督保障。",
    "一年来，我镇坚持以公开为常态，主动公开财政预决算和惠民政策，依申请公开按时答复，"
    "落实保密审查和发布审核，优化网站专栏建设，建立监督考核机制。",
    "本年度，我镇以群众需求为导向做好主动公开，依申请公开件件有回复，信息管理台账动态更新，"
    "新媒体平台同步发布，开展社会评议并接受群众监督。",
)


def clean_report(
    *,
    name: str = "白鹤镇人民政府",
    region: str | None = "房县",
    level: str = "township",
    year: int = 2023,
    sha: str = "a" * 64,
) -> Report:
    """A report where every relation holds: 3 new applications from 自然人, 2 granted, 1 partly, none carried."""
    requests = {key: [0] * 7 for key in REQUEST_KEYS}
    requests["new"] = [3, 0, 0, 0, 0, 0, 3]
    requests["granted"] = [2, 0, 0, 0, 0, 0, 2]
    requests["partial"] = [1, 0, 0, 0, 0, 0, 1]
    requests["total"] = [3, 0, 0, 0, 0, 0, 3]
    assert sum(requests[key][6] for key in OUTCOME_KEYS) == requests["total"][6]
    return Report(
        source=Source(path=f"/share/{region or ''}/{name}/{year}.txt", sha256=sha, format="txt"),
        organization=Organization(name=name, region=region, level=level),  # type: ignore[arg-type]
        year=year,
        published=f"{year + 1}-01-20",
        sections=["一", "二", "三", "四", "五", "六"],
        tables=Tables(
            active=ActiveTable(
                regulations=DocumentCounts(issued=0, repealed=0, in_force=0),
                normative_documents=DocumentCounts(issued=2, repealed=1, in_force=5),
                licensing=10,
                penalty=2,
                coercion=0,
                fees=0.0,
            ),
            requests=requests,
            appeals=AppealsTable(
                review=AppealBlock(upheld=1, corrected=0, other=0, pending=0, total=1),
                litigation_direct=AppealBlock(upheld=0, corrected=0, other=0, pending=0, total=0),
                litigation_after_review=AppealBlock(upheld=0, corrected=0, other=0, pending=0, total=0),
            ),
        ),
        evidence=Evidence(
            title=f"{region or ''}{name}{year}年政府信息公开工作年度报告",
            title_year=year,
            period_years=[year],
            section_text={
                "一": SECTION_ONE + f"本年度共收到政府信息公开申请3件。统计期限自{year}年1月1日至{year}年12月31日。",
                "二": "",
                "三": "",
                "四": "本年度发生行政复议1件。",
                "五": SECTION_FIVE,
                "六": "本年度未收取信息处理费。",
            },
        ),
    )


def next_year(report: Report, **changes: object) -> Report:
    """The same body's report one year later, consistent with this one (carry-over and in-force continue)."""
    following = clean_report(
        name=report.organization.name or "",
        region=report.organization.region,
        level=report.organization.level,
        year=(report.year or 2022) + 1,
        sha="b" * 64,
    )
    assert report.tables.active and following.tables.active and report.tables.requests and following.tables.requests
    before = report.tables.active.normative_documents
    following.tables.active.normative_documents = DocumentCounts(
        issued=1, repealed=0, in_force=(before.in_force or 0) + 1
    )
    following.tables.requests["carried_in"] = list(report.tables.requests["carried_out"])
    following.evidence.section_text["五"] = YEARLY_PROBLEMS[(following.year or 0) % len(YEARLY_PROBLEMS)]
    following.evidence.section_text["一"] = following.evidence.section_text["一"].replace(
        SECTION_ONE, YEARLY_OVERVIEWS[(following.year or 0) % len(YEARLY_OVERVIEWS)]
    )
    for key, value in changes.items():
        setattr(following, key, value)
    return following

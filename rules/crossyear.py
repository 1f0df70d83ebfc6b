"""Rules that compare a report with the same organization's report of the year before."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from difflib import SequenceMatcher

from nianbao.settings import RuleSettings
from report.model import ACTIVE_DOCUMENT_ROWS, APPLICANT_COLUMNS, REQUEST_ROWS, Report
from report.tokens import compact
from rules.base import Hit, ReviewerText, rule


def last_year(report: Report, earlier: Sequence[Report]) -> Report | None:
    """The earlier report of exactly the year before, if stored."""
    if report.year is None:
        return None
    return next((previous for previous in earlier if previous.year == report.year - 1), None)


@rule(
    "requests.carry_over_continuity",
    "error",
    "本年“上年结转”应等于上年报告的“结转下年度继续办理”",
    "表三“{column}”列：本年上年结转 {actual} 件，但 {year} 年报告的结转下年度继续办理为 {expected} 件。",
    basis="国办公开办函〔2021〕30号 表三：上年“结转下年度继续办理”的申请，即本年“上年结转”的申请。",
    reviewer=ReviewerText(
        checks="本年表三“二、上年结转政府信息公开申请数量”的每一列，是否等于上一年度报告表三“四、结转下年度继续办理”的同一列（已入库上一年度报告时才检查）。",
        why="国办公开办函〔2021〕30号表三中，上一年结转下年度继续办理的申请，就是本年的上年结转申请。两年数字不同，说明有申请在年度之间丢失，或两份报告之一填错。",
        example="2022 年度报告“结转下年度继续办理”总计 2 件，2023 年度报告“上年结转政府信息公开申请数量”总计却是 0 件。",
    ),
)
def carry_over_continuity(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    For every column of table 三, checks that this year's 二、上年结转政府信息公开申请数量 equals last year's
    四、结转下年度继续办理, when last year's report is stored.

    Why is this bad?
    Applications carried out of one year are exactly those carried into the next (国办公开办函〔2021〕30号,
    table 三). A difference means applications were lost between years or one of the two reports is wrong.

    Example
    2022: 结转下年度 总计 2. 2023: 上年结转 总计 0.
    """
    previous = last_year(report, earlier)
    if previous is None or report.tables.requests is None or previous.tables.requests is None:
        return
    for column, name in enumerate(APPLICANT_COLUMNS):
        carried_in = report.tables.requests["carried_in"][column]
        carried_out = previous.tables.requests["carried_out"][column]
        if carried_in is None or carried_out is None or carried_in == carried_out:
            continue
        yield Hit(
            location=f"三/{REQUEST_ROWS['carried_in']}/{name}",
            cells=[f"requests.carried_in[{column}]"],
            expected=carried_out,
            actual=carried_in,
            fields={"column": name, "year": previous.year},
        )


@rule(
    "regulations.in_force_continuity",
    "warning",
    "现行有效件数应等于上年现行有效 + 本年制发 − 本年废止",
    "表二“{row}”：上年现行有效 {last_in_force} + 本年制发 {issued} − 本年废止 {repealed} = {expected}，"
    "但本年现行有效件数为 {actual}。",
    basis="国办公开办函〔2021〕30号 表二：现行有效件数只随本年制发、废止而变（文件到期失效或机构调整时可能例外，故为警告）。",
    reviewer=ReviewerText(
        checks="表二中“规章”和“行政规范性文件”分别检查：本年“现行有效件数”是否等于上一年度报告的现行有效件数，加本年“本年制发件数”，减本年“本年废止件数”。",
        why="国办公开办函〔2021〕30号表二的现行有效件数只随制发、废止变化。文件有效期届满自动失效、机构调整等情况下可能合理地对不上，所以只作警告，请审核人结合说明判断；否则说明两年中有一年填错。",
        example="2022 年行政规范性文件现行有效 5 件；2023 年本年制发 2 件、本年废止 1 件，现行有效却填 9 件（应为 6 件）。",
    ),
)
def in_force_continuity(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    For 规章 and 行政规范性文件 separately, checks in_force = last year's in_force + issued − repealed.

    Why is this bad?
    The count in force moves only by what was issued and repealed. A break is legitimate after documents lapse
    at the end of their validity or a reorganisation, which is why this is a warning; otherwise one of the two
    years is misreported.

    Example
    2022: 行政规范性文件 现行有效 5. 2023: 制发 2, 废止 1, 现行有效 9 (expected 6).
    """
    previous = last_year(report, earlier)
    if previous is None or report.tables.active is None or previous.tables.active is None:
        return
    for row, label in ACTIVE_DOCUMENT_ROWS.items():
        now, before = getattr(report.tables.active, row), getattr(previous.tables.active, row)
        values = (before.in_force, now.issued, now.repealed, now.in_force)
        if None in values:
            continue
        expected = before.in_force + now.issued - now.repealed
        if expected != now.in_force:
            yield Hit(
                location=f"二/{label}/现行有效件数",
                cells=[f"active.{row}.in_force"],
                expected=expected,
                actual=now.in_force,
                fields={"row": label, "last_in_force": before.in_force, "issued": now.issued, "repealed": now.repealed},
            )


def similarity(first: str, second: str) -> float:
    """How alike two texts are, 0..1, ignoring whitespace and punctuation width."""
    return SequenceMatcher(None, compact(first), compact(second), autojunk=False).ratio()


@rule(
    "narrative.copied_from_prior_year",
    "warning",
    "第五部分与上年报告几乎相同",
    "第五部分“存在的主要问题及改进情况”与 {year} 年报告的相似度为 {actual}，达到抄袭阈值 {expected}。",
    basis="《政府信息公开条例》第五十条要求报告当年存在的主要问题及改进情况；内容与上年雷同是督查通报中常见的问题（条例第四十七条）。",
    reviewer=ReviewerText(
        checks="第五部分“存在的主要问题及改进情况”与上一年度报告的第五部分相比，文字相似度是否达到设定的阈值（默认 90%）。“无”之类很短的内容不比较。",
        why="《政府信息公开条例》第五十条要求年度报告写明当年存在的主要问题及改进情况；上级督查（条例第四十七条）通报中常见“内容与上年雷同”。照抄上年的问题和措施，等于没有报告本年情况。",
        example="2023 年度报告第五部分“一是主动公开的深度和广度还不够……下一步将进一步加强……”与 2022 年度报告逐字相同，只改了年份。",
    ),
)
def copied_from_prior_year(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Compares section 五 (存在的主要问题及改进情况) with last year's and fires when they are at least as similar
    as the configured threshold (default 0.9). Very short texts (“无”) are not compared.

    Why is this bad?
    《政府信息公开条例》第五十条 asks each year for that year's problems and improvements; supervising offices
    (条例 第四十七条) criticise 内容雷同 reports. A copied section says nothing about the year.

    Example
    The 2023 section 五 repeats the 2022 one with only the year changed.
    """
    previous = last_year(report, earlier)
    if previous is None:
        return
    now, before = report.evidence.section_text.get("五", ""), previous.evidence.section_text.get("五", "")
    if min(len(compact(now)), len(compact(before))) < settings.copy_min_chars:
        return
    ratio = round(similarity(now, before), 3)
    if ratio >= settings.copy_similarity:
        yield Hit(location="五", expected=settings.copy_similarity, actual=ratio, fields={"year": previous.year})

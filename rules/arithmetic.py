"""Rules on the sums inside one report's tables. A relation that touches a blank cell is not checked."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from operator import add, itemgetter

from report.model import (
    APPEAL_BLOCKS,
    APPLICANT_COLUMNS,
    OUTCOME_KEYS,
    REQUEST_ROWS,
    TOTAL_COLUMN,
    AppealBlock,
    Cell,
    Report,
)
from rules.base import Hit, ReviewerText, rule
from rules.settings import RuleSettings

_APPLICANT_CELLS = itemgetter(slice(TOTAL_COLUMN))
_TOTAL_CELL = itemgetter(TOTAL_COLUMN)
# Table 三's rows, all of them and the 21 outcome rows, in one call each (a missing row raises KeyError, as
# `requests[key]` does)
_REQUEST_ROWS = itemgetter(*REQUEST_ROWS)
_OUTCOME_ROWS = itemgetter(*OUTCOME_KEYS)
# A row of zeros (most rows of most reports) holds every relation within its row: told by one list comparison
# (its zeros are the same objects, compared by identity), where summing it costs a call and a look at each cell.
ZERO_ROW: list[Cell] = [0] * len(APPLICANT_COLUMNS)


def _all_agree(sums: Iterable[Cell], totals: Iterable[Cell], rows: Sequence[Sequence[Cell]]) -> bool:
    """Whether a relation of table 三 holds everywhere, told at C speed: every row is whole (seven cells), no
    summed cell is blank (a sum over a blank raises TypeError) and each sum equals its total (a blank total
    equals no sum). When it is not so, the rule walks the cells one by one, skipping blanks and naming each
    mismatch."""
    if min(map(len, rows)) < len(APPLICANT_COLUMNS):
        return False
    try:
        return list(sums) == list(totals)
    except TypeError:
        return False


@rule(
    "requests.balance",
    "error",
    "表三每一列：本年新收 + 上年结转 = 办理结果总计 + 结转下年度",
    "表三“{column}”列不平衡：本年新收 {new} + 上年结转 {carried_in} = {expected}，"
    "但（七）总计 {total} + 结转下年度 {carried_out} = {actual}。",
    basis="国办公开办函〔2021〕30号 表三表头：“本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和”。",
    reviewer=ReviewerText(
        checks="表三（收到和处理政府信息公开申请情况）的每一列（自然人、五类法人或其他组织、总计）：“一、本年新收政府信息公开申请数量”加“二、上年结转政府信息公开申请数量”，应等于“三、本年度办理结果”中的“（七）总计”加“四、结转下年度继续办理”。",
        why="国办公开办函〔2021〕30号印发的年度报告格式在表三表头写明：“本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和”。收到的申请要么本年办结，要么结转下年，不平衡说明申请被漏计或多计。",
        example="表三“自然人”列：本年新收 3 件、上年结转 0 件，但（七）总计 2 件、结转下年度继续办理 0 件，3 + 0 ≠ 2 + 0。",
    ),
)
def requests_balance(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    For every column of table 三, checks 一、本年新收 + 二、上年结转 = （七）总计 + 四、结转下年度继续办理.

    Why is this bad?
    The format (国办公开办函〔2021〕30号) prints this relation in the table's own header: “本列数据的勾稽
    关系为：第一项加第二项之和，等于第三项加第四项之和”. An application received must be either closed this
    year or carried over; a column that does not balance has lost or invented applications.

    Example
    A column with new 3, carried_in 0, total 2, carried_out 0: 3 + 0 ≠ 2 + 0.
    """
    requests = report.tables.requests
    if requests is None or _all_agree(
        map(add, requests["new"], requests["carried_in"]),
        map(add, requests["total"], requests["carried_out"]),
        (requests["new"], requests["carried_in"], requests["total"], requests["carried_out"]),
    ):
        return
    for column, name in enumerate(APPLICANT_COLUMNS):
        new, carried_in = requests["new"][column], requests["carried_in"][column]
        total, carried_out = requests["total"][column], requests["carried_out"][column]
        if new is None or carried_in is None or total is None or carried_out is None:
            continue
        if new + carried_in != total + carried_out:
            yield Hit(
                location=f"三/（七）总计/{name}",
                cells=[f"requests.{key}[{column}]" for key in ("new", "carried_in", "total", "carried_out")],
                expected=new + carried_in,
                actual=total + carried_out,
                fields={
                    "column": name,
                    "new": new,
                    "carried_in": carried_in,
                    "total": total,
                    "carried_out": carried_out,
                },
            )


@rule(
    "requests.total_row",
    "error",
    "表三每一列：（七）总计 = 21 个办理结果行之和",
    "表三“{column}”列：（一）至（六）各办理结果之和为 {expected}，但（七）总计填的是 {actual}。",
    basis="国办公开办函〔2021〕30号 表三：每件办结的申请只计入一个办理结果（区分处理的只计“部分公开”），各结果行之和即总计。",
    reviewer=ReviewerText(
        checks="表三每一列的“（七）总计”，是否等于“（一）予以公开”至“（六）其他处理”各办理结果行（共 21 行）之和。",
        why="国办公开办函〔2021〕30号规定每件办结的申请只计入一种办理结果（部分公开、部分不公开的只计“（二）部分公开”），各结果行相加即为总计；不相等说明漏填了某一行或填错了数字。",
        example="表三“总计”列：“（一）予以公开”1 件，其他办理结果都是 0，但“（七）总计”填了 2。",
    ),
)
def requests_total_row(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    For every column of table 三, checks that （七）总计 equals the sum of the 21 outcome rows, from
    （一）予以公开 to （六）3.其他.

    Why is this bad?
    Each closed application is counted in exactly one outcome row (国办公开办函〔2021〕30号: 区分处理的只计
    部分公开), so the outcome rows must add up to the total. A mismatch means a row was left out or mistyped.

    Example
    予以公开 1, all other outcome rows 0, but （七）总计 2.
    """
    requests = report.tables.requests
    if requests is None:
        return
    rows = _OUTCOME_ROWS(requests)
    if _all_agree(map(sum, zip(*rows, strict=False)), requests["total"], (*rows, requests["total"])):
        return
    for column, name in enumerate(APPLICANT_COLUMNS):
        outcomes = [row[column] for row in rows]
        total = requests["total"][column]
        if total is None or None in outcomes:
            continue
        expected = sum(outcomes)  # type: ignore[arg-type]  # no None, as just checked
        if expected != total:
            yield Hit(
                location=f"三/（七）总计/{name}",
                cells=[f"requests.total[{column}]"],
                expected=expected,
                actual=total,
                fields={"column": name},
            )


@rule(
    "requests.total_column",
    "error",
    "表三每一行：总计列 = 六类申请人之和（六列都填写时）",
    "表三“{row}”行：六类申请人之和为 {expected}，但总计列填的是 {actual}。",
    basis="国办公开办函〔2021〕30号 表三：总计为自然人与五类法人或其他组织之和。",
    reviewer=ReviewerText(
        checks="表三每一行中，当自然人和五类法人或其他组织（商业企业、科研机构、社会公益组织、法律服务机构、其他）六列都已填写时，“总计”列是否等于这六列之和。",
        why="国办公开办函〔2021〕30号表三的“总计”是六类申请人之和；不相等说明某一列或总计填错。只填总计、六列空白的行不在此检查，由“统计表中有空白单元格”一条提示。",
        example="“一、本年新收政府信息公开申请数量”一行：自然人 2、商业企业 1、其余 0，但总计填了 4。",
    ),
)
def requests_total_column(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    For every row of table 三 whose six applicant columns are all filled, checks that the 总计 column is
    their sum.

    Why is this bad?
    总计 is by definition the sum over 自然人 and the five kinds of 法人或其他组织 (国办公开办函〔2021〕30号,
    table 三). Rows that fill only 总计 (as some reports do) are not checked here; structure.blank_cells
    reports those blanks.

    Example
    一、本年新收: 2, 1, 0, 0, 0, 0 and 总计 4.
    """
    requests = report.tables.requests
    if requests is None:
        return
    filled = [row for row in _REQUEST_ROWS(requests) if row != ZERO_ROW]  # rows of zeros add up
    if not filled or _all_agree(map(sum, map(_APPLICANT_CELLS, filled)), map(_TOTAL_CELL, filled), filled):
        return
    for key, label in REQUEST_ROWS.items():
        cells = requests[key]
        applicants, total = cells[:TOTAL_COLUMN], cells[TOTAL_COLUMN]
        if total is None or None in applicants:
            continue
        expected = sum(applicants)  # type: ignore[arg-type]  # no None, as just checked
        if expected != total:
            yield Hit(
                location=f"三/{label}/总计",
                cells=[f"requests.{key}[{TOTAL_COLUMN}]"],
                expected=expected,
                actual=total,
                fields={"row": label},
            )


@rule(
    "appeals.totals",
    "error",
    "表四每一块：总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    "表四“{block}”：结果维持、结果纠正、其他结果、尚未审结之和为 {expected}，但总计填的是 {actual}。",
    basis="国办公开办函〔2021〕30号 表四：每件复议、诉讼或已有结果（维持、纠正、其他），或尚未审结，四项之和即总计。",
    reviewer=ReviewerText(
        checks="表四（政府信息公开行政复议、行政诉讼情况）的行政复议、未经复议直接起诉、复议后起诉三块中，“总计”是否等于“结果维持”“结果纠正”“其他结果”“尚未审结”四项之和。",
        why="国办公开办函〔2021〕30号表四中，每件复议或诉讼要么已有结果（维持、纠正、其他），要么尚未审结，四项之和就是总计；不相等会误报公开决定经复议、诉讼后的结果。",
        example="行政复议：结果维持 1、结果纠正 1、其他结果 0、尚未审结 0，总计却填 1。",
    ),
)
def appeals_totals(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    In each block of table 四 (行政复议; 行政诉讼 未经复议直接起诉; 复议后起诉), checks that 总计 is the sum
    of 结果维持, 结果纠正, 其他结果 and 尚未审结.

    Why is this bad?
    Every case ends in exactly one of the four results or is still pending (国办公开办函〔2021〕30号, table 四),
    so the four add up to the total. A mismatch misreports how disclosure decisions fared on review.

    Example
    行政复议: 结果维持 1, 结果纠正 1, 其他结果 0, 尚未审结 0, 总计 1.
    """
    appeals = report.tables.appeals
    if appeals is None:
        return
    for block, label in APPEAL_BLOCKS.items():
        counts: AppealBlock = getattr(appeals, block)
        parts, total = [counts.upheld, counts.corrected, counts.other, counts.pending], counts.total
        if total is None or None in parts:
            continue
        expected = sum(parts)  # type: ignore[arg-type]  # no None, as just checked
        if expected != total:
            yield Hit(
                location=f"四/{label}/总计",
                cells=[f"appeals.{block}.total"],
                expected=expected,
                actual=total,
                fields={"block": label},
            )

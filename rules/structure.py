"""Rules on the report's form: its sections, its tables, and what fills their cells."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain

from report.labels import OUTDATED_ACTIVE_MARKER
from report.model import SECTION_NUMERALS, Report, active_values, appeal_values, describe_cell
from rules.arithmetic import ZERO_ROW
from rules.base import Hit, ReviewerText, rule
from rules.settings import RuleSettings

SECTION_TITLES = {
    "一": "一、总体情况",
    "二": "二、主动公开政府信息情况",
    "三": "三、收到和处理政府信息公开申请情况",
    "四": "四、政府信息公开行政复议、行政诉讼情况",
    "五": "五、存在的主要问题及改进情况",
    "六": "六、其他需要报告的事项",
}
TABLE_TITLES = {
    "active": ("二", "主动公开政府信息情况"),
    "requests": ("三", "收到和处理政府信息公开申请情况"),
    "appeals": ("四", "行政复议、行政诉讼情况"),
}
TABLE_LABELS = {"active": "表二", "requests": "表三", "appeals": "表四"}
_ALL_SECTIONS = list(SECTION_NUMERALS)
FIRST_YEAR_OF_2021_FORMAT = 2021  # 国办公开办函〔2021〕30号 applies from the reports on 2021


@rule(
    "structure.missing_section",
    "error",
    "六个部分缺少一个，或顺序不对",
    "报告{problem}：{location}。",
    basis="《政府信息公开条例》第五十条规定报告内容，国办公开办函〔2021〕30号规定六个部分及其顺序。",
    reviewer=ReviewerText(
        checks="报告是否有格式规定的全部六个部分：一、总体情况；二、主动公开政府信息情况；三、收到和处理政府信息公开申请情况；四、政府信息公开行政复议、行政诉讼情况；五、存在的主要问题及改进情况；六、其他需要报告的事项，并且顺序正确。标题用“3、”代替“三、”也算。",
        why="《政府信息公开条例》第五十条规定年度报告应当包括的内容，国办公开办函〔2021〕30号规定了这六个部分及其顺序。缺少某一部分，就缺少了法规要求报告的内容。",
        example="报告从“四、政府信息公开行政复议、行政诉讼情况”直接跳到“六、其他需要报告的事项”，没有“五、存在的主要问题及改进情况”。",
    ),
)
def missing_section(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Checks that all six sections of the format are there (一、总体情况 … 六、其他需要报告的事项), in order.
    A heading numbered 3、 instead of 三、 still counts.

    Why is this bad?
    《政府信息公开条例》第五十条 fixes what the report contains and 国办公开办函〔2021〕30号 fixes its six
    sections; a missing part (for instance no 五、存在的主要问题及改进情况) leaves out what the law requires.

    A part that is there under another numeral is left to structure.misnumbered_section.

    Example
    A report that goes from 四、…行政诉讼情况 straight to 六、其他需要报告的事项.
    """
    if report.sections == _ALL_SECTIONS:
        return  # the six, in order (most reports)
    if not report.sections and not report.evidence.section_text.get(""):
        return  # nothing readable at all: the problems say so, and there is no form to judge
    for numeral in SECTION_NUMERALS:
        if numeral not in report.sections and numeral not in report.evidence.misnumbered_sections:
            yield Hit(
                location=SECTION_TITLES[numeral],
                expected=SECTION_TITLES[numeral],
                actual=None,
                fields={"problem": "缺少这一部分"},
            )
    present = [numeral for numeral in report.sections if numeral in SECTION_NUMERALS]
    expected_order = sorted(present, key=SECTION_NUMERALS.index)
    if present != expected_order:
        yield Hit(
            location="、".join(present),
            expected="、".join(expected_order),
            actual="、".join(present),
            fields={"problem": "各部分顺序不对，实际顺序为"},
        )


@rule(
    "structure.misnumbered_section",
    "warning",
    "六个部分都在，但编号不对",
    "“{title}”标为“{actual}、”，应为“{expected}、”。",
    basis="国办公开办函〔2021〕30号 规定年度报告六个部分的标题及其编号（一至六）；编号错乱使读者和汇总统计无法按部分对照。",
    reviewer=ReviewerText(
        checks="六个部分都有，但某些部分的标题编号与格式规定的“一、总体情况 …… 六、其他需要报告的事项”不一致，例如多出一个部分导致后面的编号顺延。",
        why="国办公开办函〔2021〕30号 固定了六个部分及其编号，上级汇总和社会公众都按编号查找；编号错乱说明报告未按格式编写。内容都在，故只是警告，不按“缺少部分”处理。",
        example="报告在“四、政府信息公开行政复议、行政诉讼情况”之后写“六、存在的主要问题及改进情况”“七、其他需要报告的事项”。",
    ),
)
def misnumbered_section(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires, once per part, when all six parts are there but some carry a numeral other than the format's
    (五、存在的主要问题 written as 六、, or a part inserted so that the rest shift).

    Why is this bad?
    国办公开办函〔2021〕30号 fixes the six parts and their numerals; readers and the offices that compile the
    reports look parts up by number. The content is there, so it is a warning, not a missing part.

    Example
    一 … 四 as in the format, then “六、存在的主要问题及改进情况” and “七、其他需要报告的事项”.
    """
    for numeral, written in report.evidence.misnumbered_sections.items():
        yield Hit(
            location=SECTION_TITLES[numeral],
            expected=numeral,
            actual=written,
            fields={"title": SECTION_TITLES[numeral].split("、", 1)[1]},
        )


@rule(
    "structure.missing_table",
    "error",
    "统计表（二、三、四）缺失或无法读取",
    "{table}（{location}）缺失或无法读取。",
    basis="国办公开办函〔2021〕30号 规定表二、表三、表四为每份报告必备的统计表；《政府信息公开条例》第五十条要求报告这些数字。",
    reviewer=ReviewerText(
        checks="三张统计表是否齐全并且能够读出：表二“主动公开政府信息情况”、表三“收到和处理政府信息公开申请情况”、表四“政府信息公开行政复议、行政诉讼情况”。",
        why="国办公开办函〔2021〕30号把这三张表定为每份报告必备、可比较的部分；没有这些表，《政府信息公开条例》第五十条要求报告的数字就无从核对。表格排版损坏、无法读出时也会提示，请审核人查看原文件。",
        example="第四部分只写了“本年度无行政复议、行政诉讼”，没有附表四。",
    ),
)
def missing_table(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Checks that the three statistical tables are present and readable: 二 主动公开政府信息情况, 三 收到和处理
    政府信息公开申请情况, 四 行政复议、行政诉讼情况.

    Why is this bad?
    国办公开办函〔2021〕30号 makes the three tables the fixed, comparable part of every report; without them
    the figures 《政府信息公开条例》第五十条 asks for are not reported at all.

    Example
    A report whose section 四 says only “本年度无行政复议、行政诉讼” without the table.
    """
    if not report.sections and not report.evidence.section_text.get(""):
        return
    tables = vars(report.tables)  # the tables read from the model's __dict__: three `getattr`s of it cost more
    for key, (numeral, title) in TABLE_TITLES.items():
        if tables[key] is None:
            yield Hit(
                location=f"{numeral}、{title}",
                cells=[],
                expected="统计表",
                actual=None,
                fields={"table": TABLE_LABELS[key]},
            )


@rule(
    "structure.blank_cells",
    "warning",
    "统计表中有空白单元格",
    "{table}有 {actual} 个单元格空白（例如 {examples}），应填写数字，没有的填 0。",
    basis="国办公开办函〔2021〕30号 的统计表每格都应填数；空白既不能看作零，也无法核对合计。",
    reviewer=ReviewerText(
        checks="统计表中是否有留空的单元格（列出空白格的数量和几个例子）。",
        why="空白不等于零：读者无法分辨“没有”还是“没填”，表内的合计关系也无法核对。国办公开办函〔2021〕30号的统计表每格都应填写数字，没有的填 0。",
        example="表三只填了“总计”一列，自然人、商业企业等六列全部空白。",
    ),
)
def blank_cells(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Reports the cells of each statistical table that were left blank.

    Why is this bad?
    A blank is not a zero: the reader cannot tell “none” from “not reported”, and none of the table's sums
    can be checked. The format's tables (国办公开办函〔2021〕30号) expect a figure in every cell.

    Example
    Table 三 with only the 总计 column filled and the six applicant columns empty.
    """
    by_table: dict[str, list[str]] = {}
    for path in report.evidence.blank_cells:
        by_table.setdefault(path.split(".", 1)[0], []).append(path)
    for key, paths in by_table.items():
        numeral, _ = TABLE_TITLES[key]
        yield Hit(
            location=numeral,
            cells=paths,
            expected=0,
            actual=len(paths),
            fields={"table": TABLE_LABELS[key], "examples": "、".join(describe_cell(path) for path in paths[:3])},
        )


def _has_negative_cell(report: Report) -> bool:
    """Whether any cell of `Report.cell_values` is below zero, read without building the cells' paths (only a
    finding needs them): `filter(None, …)` keeps the nonzero numbers and `min` compares them, both in C; table
    三 without a blank in one `min` over the cells of its rows not all zeros (a call of `min` costs as much as ~10 of
    its comparisons)."""
    tables = report.tables
    active, requests, appeals = tables.active, tables.requests, tables.appeals
    values: list[float | None] = []
    if active is not None:
        values += active_values(active)
    if requests is not None:
        filled = [row for row in requests.values() if row != ZERO_ROW]  # a row of zeros holds no negative
        try:  # a blank raises TypeError, no cell at all ValueError: then cell by cell below
            if filled and min(chain.from_iterable(filled)) < 0:  # type: ignore[type-var, operator]
                return True
        except (TypeError, ValueError):
            values += chain.from_iterable(requests.values())
    if appeals is not None:
        values += appeal_values(appeals)
    return min(filter(None, values), default=0) < 0


def _negative_cells(report: Report) -> Iterator[tuple[str, float]]:
    if not _has_negative_cell(report):
        return
    for path, value in report.cell_values().items():
        if value is not None and value < 0:  # a cell holds an int, a float (万元) or None
            yield path, value


@rule(
    "value.invalid",
    "error",
    "单元格为负数、件数带小数，或不是数字",
    "{location} 填的是“{actual}”，{reason}。",
    basis="国办公开办函〔2021〕30号：件数是不小于零的整数，行政事业性收费是不小于零的金额（万元）。",
    reviewer=ReviewerText(
        checks="统计表的单元格是否为负数、件数带小数，或者根本不是数字（如“五”“无”“/”“——”）。",
        why="文件件数、申请件数、案件数都是不小于零的整数，表二“行政事业性收费”是不小于零的金额（万元）（国办公开办函〔2021〕30号）。填文字的格子无法相加和比较，相关的合计检查也会受影响。",
        example="表三“（一）予以公开”一行自然人一列填的是“五”，而不是 5。",
    ),
)
def invalid_value(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Flags table cells that are negative, fractional where a count (件) is due, or not a number at all
    (“五”, “无”, “/”, “——”).

    Why is this bad?
    Counts of documents, decisions, applications and cases are whole numbers ≥ 0, and 行政事业性收费 is an
    amount ≥ 0 in 万元 (国办公开办函〔2021〕30号). Text in a number cell cannot be added up or compared.

    Example
    予以公开 for 自然人 filled with “五” instead of 5.
    """
    for path, raw in report.evidence.invalid_cells.items():
        reason = "件数应为整数" if raw.replace(".", "", 1).lstrip("-").isdigit() else "应填写数字"
        yield Hit(
            location=describe_cell(path), cells=[path], expected="非负整数", actual=raw, fields={"reason": reason}
        )
    for path, value in _negative_cells(report):
        yield Hit(
            location=describe_cell(path),
            cells=[path],
            expected="不小于 0 的数",
            actual=value,
            fields={"reason": "不能为负数"},
        )


@rule(
    "structure.outdated_template",
    "warning",
    "仍在使用 2019 年试行模板，而不是 2021 年格式",
    "报告仍使用 2019 年试行模板（发现“{actual}”），应改用国办公开办函〔2021〕30号的格式。",
    basis="自2021年度报告起适用国办公开办函〔2021〕30号的格式；2019年试行模板的表格行列不同，无法按现行关系核对或比较。",
    reviewer=ReviewerText(
        checks="报告是否仍在使用 2019 年试行模板（国办公开办函〔2019〕60号）才有的内容：表二中“第二十条第（九）项”政府集中采购一栏，“本年新制作数量”“对外公开总数量”“上一年项目数量”等列，“其他对外管理服务事项”一行，或表三“（六）其他处理”下没有分列三项。",
        why="自 2021 年度报告起应使用国办公开办函〔2021〕30号的格式。旧模板的表格行列不同，数字既无法按现行勾稽关系核对，也无法与其他机关比较。",
        example="表二仍有“第二十条第（九）项 | 采购项目数量 | 采购总金额”一栏。",
    ),
)
def outdated_template(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Looks for what only the 2019 trial template (国办公开办函〔2019〕60号) had: a 第二十条第（九）项 政府集中采购
    block, the columns 本年新制作数量 / 对外公开总数量 / 上一年项目数量, a 其他对外管理服务事项 row, or （六）其他处理
    without its three numbered items. A table 二 row named 规范性文件 instead of 行政规范性文件 is named too, but
    alone it does not fire: many reports in the 2021 format keep that word. Only reports on 2021 and later are
    judged; 2019 and 2020 reports were due in the trial template.

    Why is this bad?
    Since the 2021 reports the format of 国办公开办函〔2021〕30号 applies. Old-template tables have other rows
    and columns, so their figures cannot be compared with other bodies' or checked by the current relations.

    Example
    Table 二 still has “第二十条第（九）项 | 采购项目数量 | 采购总金额”.
    """
    markers = report.evidence.template_markers
    strong = [marker for marker in markers if marker != OUTDATED_ACTIVE_MARKER]
    if strong and report.year is not None and report.year >= FIRST_YEAR_OF_2021_FORMAT:
        yield Hit(
            location="三" if strong[0].startswith("（六）") else "二",
            expected="国办公开办函〔2021〕30号格式",
            actual="、".join(markers),
        )


@rule(
    "value.unit_suspect",
    "warning",
    "行政事业性收费金额像是以“元”填入了“万元”栏",
    "表二“行政事业性收费”填的是 {actual} 万元，对{body}而言过大（≥ {expected} 万元），疑为按“元”填写；按元计应为 {as_wan} 万元。",
    basis="国办公开办函〔2021〕30号 表二“行政事业性收费”的单位是万元；按元填写会使金额放大一万倍。",
    reviewer=ReviewerText(
        checks="表二“行政事业性收费（单位：万元）”的金额，对乡镇或政府部门而言大得不合常理（默认乡镇 ≥ 500 万元、部门 ≥ 10 亿元），像是把以“元”计的金额填进了“万元”栏。",
        why="国办公开办函〔2021〕30号 规定该栏单位为万元；按元填写会把金额放大一万倍，汇总全省数据时严重失真。",
        example="某镇表二行政事业性收费填“3500”，实际收费 3500 元（0.35 万元）。",
    ),
)
def unit_suspect(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when table 二's 行政事业性收费, stated in 万元, is at least the configured ceiling for the body's
    level (default: township 500 万元, department 100,000 万元); other levels are not judged.

    Why is this bad?
    The column is in 万元 (国办公开办函〔2021〕30号). An amount in 元 typed into it is ten thousand times too
    large and distorts every sum made from the reports.

    Example
    A township's 行政事业性收费 given as 3500 — 3,500 元, not 35 million.
    """
    active = report.tables.active
    ceiling = settings.fee_ceiling_wan.get(report.organization.level)
    if active is None or active.fees is None or ceiling is None or active.fees < ceiling:
        return
    yield Hit(
        location="二/行政事业性收费",
        cells=["active.fees"],
        expected=ceiling,
        actual=active.fees,
        fields={
            "body": {"township": "乡镇（街道）", "department": "政府部门"}.get(report.organization.level, "该机关"),
            "as_wan": f"{active.fees / 10000:g}",
        },
    )

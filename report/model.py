"""The typed model of one annual report: what the parser produces and everything after it reads.

`Report.to_contract()` gives the JSON shape of `../shared/contract/README.md` (schema nianbao.report/1).
`Report.evidence` carries what the parser saw beyond the tables (section text, title, raw invalid
cells); rules read it, but it is not part of the contract's output.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "nianbao.report/1"

Level = Literal["township", "county", "city", "province", "department", "national", "unknown"]
Severity = Literal["error", "warning", "info"]
SECTION_NUMERALS = ("一", "二", "三", "四", "五", "六")

# Table 三: row keys in the report's order, with the label a reviewer sees in a location.
REQUEST_ROWS: dict[str, str] = {
    "new": "一、本年新收政府信息公开申请数量",
    "carried_in": "二、上年结转政府信息公开申请数量",
    "granted": "（一）予以公开",
    "partial": "（二）部分公开",
    "denied_secret": "（三）1.属于国家秘密",
    "denied_law": "（三）2.其他法律行政法规禁止公开",
    "denied_safety": "（三）3.危及“三安全一稳定”",
    "denied_third_party": "（三）4.保护第三方合法权益",
    "denied_internal": "（三）5.属于三类内部事务信息",
    "denied_process": "（三）6.属于四类过程性信息",
    "denied_enforcement": "（三）7.属于行政执法案卷",
    "denied_query": "（三）8.属于行政查询事项",
    "unavailable_not_held": "（四）1.本机关不掌握相关政府信息",
    "unavailable_needs_creation": "（四）2.没有现成信息需要另行制作",
    "unavailable_unclear": "（四）3.补正后申请内容仍不明确",
    "rejected_petition": "（五）1.信访举报投诉类申请",
    "rejected_repeat": "（五）2.重复申请",
    "rejected_publication": "（五）3.要求提供公开出版物",
    "rejected_excessive": "（五）4.无正当理由大量反复申请",
    "rejected_confirmation": "（五）5.要求行政机关确认或重新出具已获取信息",
    "other_no_correction": "（六）1.申请人无正当理由逾期不补正",
    "other_no_fee": "（六）2.申请人逾期未按收费通知要求缴纳费用",
    "other_other": "（六）3.其他",
    "total": "（七）总计",
    "carried_out": "四、结转下年度继续办理",
}
REQUEST_KEYS: tuple[str, ...] = tuple(REQUEST_ROWS)
# The 21 outcome rows whose sum is （七）总计.
OUTCOME_KEYS: tuple[str, ...] = REQUEST_KEYS[REQUEST_KEYS.index("granted") : REQUEST_KEYS.index("total")]
APPLICANT_COLUMNS: tuple[str, ...] = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
TOTAL_COLUMN = 6

APPEAL_BLOCKS: dict[str, str] = {
    "review": "行政复议",
    "litigation_direct": "行政诉讼/未经复议直接起诉",
    "litigation_after_review": "行政诉讼/复议后起诉",
}
APPEAL_FIELDS: dict[str, str] = {
    "upheld": "结果维持",
    "corrected": "结果纠正",
    "other": "其他结果",
    "pending": "尚未审结",
    "total": "总计",
}

ACTIVE_DOCUMENT_ROWS: dict[str, str] = {"regulations": "规章", "normative_documents": "行政规范性文件"}
ACTIVE_DOCUMENT_FIELDS: dict[str, str] = {
    "issued": "本年制发件数",
    "repealed": "本年废止件数",
    "in_force": "现行有效件数",
}
ACTIVE_DECISION_ROWS: dict[str, str] = {"licensing": "行政许可", "penalty": "行政处罚", "coercion": "行政强制"}

Cell = int | None


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class Source(_Model):
    path: str
    sha256: str
    format: str


class Organization(_Model):
    name: str | None = None
    region: str | None = None
    level: Level = "unknown"


class DocumentCounts(_Model):
    issued: Cell = None
    repealed: Cell = None
    in_force: Cell = None


class ActiveTable(_Model):
    """Table 二 — 主动公开政府信息情况."""

    regulations: DocumentCounts = Field(default_factory=DocumentCounts)
    normative_documents: DocumentCounts = Field(default_factory=DocumentCounts)
    licensing: Cell = None
    penalty: Cell = None
    coercion: Cell = None
    fees: float | None = None


class AppealBlock(_Model):
    upheld: Cell = None
    corrected: Cell = None
    other: Cell = None
    pending: Cell = None
    total: Cell = None


class AppealsTable(_Model):
    """Table 四 — 行政复议、行政诉讼情况."""

    review: AppealBlock = Field(default_factory=AppealBlock)
    litigation_direct: AppealBlock = Field(default_factory=AppealBlock)
    litigation_after_review: AppealBlock = Field(default_factory=AppealBlock)


class Tables(_Model):
    active: ActiveTable | None = None
    # Table 三: row key -> seven cells (six applicant columns, then 总计).
    requests: dict[str, list[Cell]] | None = None
    appeals: AppealsTable | None = None


class Change(_Model):
    cell: str
    before: Any
    after: Any


class Comparison(_Model):
    year: int | None
    sha256: str
    changes: list[Change] = Field(default_factory=list)


class Finding(_Model):
    rule: str
    severity: Severity
    message: str
    location: str
    cells: list[str] = Field(default_factory=list)
    expected: Any = None
    actual: Any = None


class Evidence(_Model):
    """What the parser read besides the tables; rules use it, the contract JSON does not show it."""

    title: str | None = None
    title_year: int | None = None
    period_years: list[int] = Field(default_factory=list)
    # Statistics periods as (first year, last year) in the order written: 自2023年1月1日至2022年12月31日 -> (2023, 2022).
    period_spans: list[tuple[int, int]] = Field(default_factory=list)
    # Section numeral -> the prose under that heading (table rows excluded).
    section_text: dict[str, str] = Field(default_factory=dict)
    # Cell path -> the raw text found where a number was due ("五", "无", "-1.5", …).
    invalid_cells: dict[str, str] = Field(default_factory=dict)
    # Cell paths read as blank (an existing empty cell), as opposed to cells the parser could not place.
    blank_cells: list[str] = Field(default_factory=list)
    # Section (by its heading's words) -> the numeral its heading carries instead (五 -> "六"), filled only when
    # all six sections are there once renumbering is allowed for.
    misnumbered_sections: dict[str, str] = Field(default_factory=dict)
    # Phrases that only the 2019 trial template has.
    template_markers: list[str] = Field(default_factory=list)
    # Region named by the folder the file came from (<share>/房县/白鹤镇/2023.pdf), when known.
    folder_region: str | None = None
    # Why this file is not a readable annual report (Chinese, for the ledger and the reviewer), or None.
    # Set when the file cannot be read or holds no part and no table of the format; such a file is not
    # judged by the rules and the pipeline ends it `failed` with this reason.
    rejected: str | None = None


class Report(_Model):
    schema_: str = Field(default=SCHEMA, alias="schema")
    source: Source
    organization: Organization = Field(default_factory=Organization)
    year: int | None = None
    published: str | None = None
    sections: list[str] = Field(default_factory=list)
    tables: Tables = Field(default_factory=Tables)
    compared_with: Comparison | None = None
    findings: list[Finding] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    evidence: Evidence = Field(default_factory=Evidence)

    def to_contract(self) -> dict[str, Any]:
        """The JSON object of the contract, key for key."""
        return self.model_dump(mode="json", by_alias=True, exclude={"evidence"})

    def cell_values(self) -> dict[str, Any]:
        """Every table cell by its contract path (`requests.new[6]`, `appeals.review.total`, …)."""
        return table_cells(self.tables)


def table_cells(tables: Tables) -> dict[str, Any]:
    return dict(zip(*cell_paths_and_values(tables), strict=True))


def cell_paths_and_values(tables: Tables) -> tuple[tuple[str, ...], list[Any]]:
    """Every table cell's contract path and value, in `table_cells`' order, apart. The paths are one tuple, made
    once, for all tables of one shape (which tables there are, how many cells each row of table 三 has): two
    reports whose paths are equal have the same cells in the same order, and are compared value by value."""
    active, requests, appeals = _TABLES(vars(tables))
    values: list[Any] = []
    widths: tuple[int, ...] | None = None
    if active is not None:
        values += active_values(active)
    if requests is not None:
        rows: list[list[Cell]] = list(map(requests.get, REQUEST_KEYS, repeat(_NO_ROW)))
        widths = tuple(map(len, rows))
        values += chain.from_iterable(rows)
    if appeals is not None:
        values += appeal_values(appeals)
    return _cell_paths(active is not None, widths, appeals is not None), values


# A model's fields are read from its `__dict__`, where pydantic keeps them: reading them as attributes costs
# about eight times as much (pydantic's `__getattr__` keeps Python from taking the fast path), and the rules and
# `compare` read every cell of tables 二 and 四 of every report.
_TABLES = itemgetter("active", "requests", "appeals")
_DOCUMENT_ROWS = itemgetter(*ACTIVE_DOCUMENT_ROWS)
_DOCUMENT_FIELDS = itemgetter(*ACTIVE_DOCUMENT_FIELDS)
_DECISION_ROWS_AND_FEES = itemgetter(*ACTIVE_DECISION_ROWS, "fees")
_APPEAL_BLOCKS = itemgetter(*APPEAL_BLOCKS)
_APPEAL_FIELDS = itemgetter(*APPEAL_FIELDS)


def active_values(active: ActiveTable) -> list[Cell | float]:
    """Table 二's cells in `table_cells`' order: each document row's fields, then the decisions and the fees."""
    fields = vars(active)
    values: list[Cell | float] = []
    for counts in _DOCUMENT_ROWS(fields):
        values += _DOCUMENT_FIELDS(vars(counts))
    values += _DECISION_ROWS_AND_FEES(fields)
    return values


def appeal_values(appeals: AppealsTable) -> list[Cell]:
    """Table 四's cells in `table_cells`' order: each block's fields."""
    values: list[Cell] = []
    for block in _APPEAL_BLOCKS(vars(appeals)):
        values += _APPEAL_FIELDS(vars(block))
    return values


@lru_cache(maxsize=64)
def _cell_paths(active: bool, widths: tuple[int, ...] | None, appeals: bool) -> tuple[str, ...]:
    """The paths of the cells of tables of one shape: table 二's when `active`, table 三's when `widths` (its rows'
    sizes, in REQUEST_KEYS' order) is not None, table 四's when `appeals`."""
    paths: list[str] = []
    if active:
        paths += (path for _, fields in _ACTIVE_DOCUMENT_PATHS for _, path in fields)
        paths += (path for _, path in _ACTIVE_ROW_PATHS)
    if widths is not None:
        for (key, standard), width in zip(_REQUEST_CELL_PATHS, widths, strict=True):
            # a row of another width (a hand-made model): every cell it has, by its own index
            paths += standard if width == len(standard) else (f"requests.{key}[{column}]" for column in range(width))
    if appeals:
        paths += (path for _, fields in _APPEAL_PATHS for _, path in fields)
    return tuple(paths)


# Every cell's contract path, in `table_cells`' order: made once, not for every report.
_ACTIVE_DOCUMENT_PATHS = tuple(
    (row, tuple((field, f"active.{row}.{field}") for field in ACTIVE_DOCUMENT_FIELDS)) for row in ACTIVE_DOCUMENT_ROWS
)
_ACTIVE_ROW_PATHS = tuple((row, f"active.{row}") for row in (*ACTIVE_DECISION_ROWS, "fees"))
_REQUEST_CELL_PATHS = tuple(
    (key, tuple(f"requests.{key}[{column}]" for column in range(len(APPLICANT_COLUMNS)))) for key in REQUEST_KEYS
)
_NO_ROW: list[Cell] = [None] * len(APPLICANT_COLUMNS)
_APPEAL_PATHS = tuple(
    (block, tuple((field, f"appeals.{block}.{field}") for field in APPEAL_FIELDS)) for block in APPEAL_BLOCKS
)


def empty_requests() -> dict[str, list[Cell]]:
    return {key: [None] * 7 for key in REQUEST_KEYS}


def describe_cell(path: str) -> str:
    """A cell path as a reviewer reads it: `requests.total[5]` -> `三/（七）总计/其他`."""
    table, _, rest = path.partition(".")
    if table == "requests" and "[" in rest:
        key, _, column = rest.rstrip("]").partition("[")
        return f"三/{REQUEST_ROWS.get(key, key)}/{APPLICANT_COLUMNS[int(column)]}"
    if table == "appeals":
        block, _, field = rest.partition(".")
        return f"四/{APPEAL_BLOCKS.get(block, block)}/{APPEAL_FIELDS.get(field, field)}"
    if table == "active":
        row, _, field = rest.partition(".")
        if field:
            return f"二/{ACTIVE_DOCUMENT_ROWS.get(row, row)}/{ACTIVE_DOCUMENT_FIELDS.get(field, field)}"
        return f"二/{ACTIVE_DECISION_ROWS.get(row, '行政事业性收费' if row == 'fees' else row)}"
    return path

"""Synthetic 政府信息公开工作年度报告 with a known ground truth, rendered in many layouts, with planted defects.

Nothing here is a test: test modules import it.  Everything is deterministic given a `random.Random`.

- `make_truth(rng, ...)` builds one consistent report (`GroundTruth`): every relation of the contract holds.
- `make_series(rng, years=[...])` builds consecutive years of one organization (carry-over and in-force continue).
- `LAYOUTS[name](truth, rng)` renders a truth as text (str) or as a binary document (bytes, docx and pdf);
  `FILE_SUFFIX[name]` is the file extension to save it under; `encode(text, rng)` picks an encoding.
- `plant(truth, kind, rng)` / `plant_series(series, kind, rng)` return a modified copy and an `Expected`:
  the rule ids a correct checker must report and the cells involved; `plant_peer_copy(truth, peer, rng)` gives
  a body another body's part 五 (narrative.copied_from_peer, which the generator's own prose never makes fire).
- `violations(truth)` is a reference evaluation of the contract's rules on a ground truth (rule id -> cells),
  used to work out which rules a planted change breaks.
"""

from __future__ import annotations

import copy
import datetime
import html
import io
import random
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from report.document import TextLine
from report.extract import extract
from report.model import APPEAL_BLOCKS, APPEAL_FIELDS, OUTCOME_KEYS, REQUEST_KEYS, SECTION_NUMERALS

Cell = int | None
Requests = dict[str, list[Cell]]

LEVELS: tuple[str, ...] = ("township", "county", "city", "province", "department")
GOVERNMENT_LEVELS = frozenset({"county", "city", "province"})
REGULATION_LEVELS = frozenset({"city", "province"})
APPEAL_COUNTS: tuple[str, ...] = ("upheld", "corrected", "other", "pending")
TOPICS: tuple[str, ...] = ("主动公开", "依申请公开", "政府信息管理", "政府信息公开平台建设", "监督保障")
# Words that tie a paragraph of section 一 to a topic; a dropped topic leaves none of them behind.
TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "主动公开": ("主动公开",),
    "依申请公开": ("依申请公开",),
    "政府信息管理": ("信息管理",),
    "政府信息公开平台建设": ("平台",),
    "监督保障": ("监督", "保障", "考核"),
}

# --------------------------------------------------------------------------------------------------------------
# Organizations


@dataclass(frozen=True)
class _County:
    name: str
    city: str
    province: str
    townships: tuple[str, ...]
    # A county-level city (县级市) reads like a city; it is used as a region only, never as a county government.
    county_city: bool = False


_COUNTIES: tuple[_County, ...] = (
    _County(
        "房县",
        "十堰市",
        "湖北省",
        ("城关镇", "军店镇", "化龙堰镇", "土城镇", "大木厂镇", "白鹤镇", "门古寺镇", "中坝乡", "九道乡"),
    ),
    _County("郧西县", "十堰市", "湖北省", ("城关镇", "土门镇", "上津镇", "店子镇", "夹河镇", "湖北口回族乡", "六郎乡")),
    _County("竹山县", "十堰市", "湖北省", ("城关镇", "宝丰镇", "擂鼓镇", "秦古镇", "得胜镇", "潘口乡")),
    _County("孟津区", "洛阳市", "河南省", ("白鹤镇", "会盟镇", "平乐镇", "朝阳镇", "横水镇", "常袋镇", "城关镇")),
    _County("宜阳县", "洛阳市", "河南省", ("城关镇", "丰李镇", "柳泉镇", "韩城镇", "白杨镇", "张坞镇", "莲庄镇")),
    _County(
        "加格达奇区", "大兴安岭地区", "黑龙江省", ("白桦乡", "加北乡", "长虹街道", "东山街道", "卫东街道", "光明街道")
    ),
    _County(
        "尧都区",
        "临汾市",
        "山西省",
        ("屯里镇", "乔李镇", "大阳镇", "县底镇", "金殿镇", "解放路街道", "车站街道", "鼓楼西街道"),
    ),
    _County("洪洞县", "临汾市", "山西省", ("大槐树镇", "赵城镇", "曲亭镇", "苏堡镇", "广胜寺镇", "万安镇")),
    _County(
        "丹江口市", "十堰市", "湖北省", ("均州路街道", "丹赵路街道", "土关垭镇", "浪河镇", "习家店镇"), county_city=True
    ),
)
_CITIES: dict[str, str] = {"十堰市": "湖北省", "洛阳市": "河南省", "临汾市": "山西省", "襄阳市": "湖北省"}
_PROVINCES: tuple[str, ...] = ("湖北省", "河南省", "山西省", "黑龙江省")
_COUNTY_DEPARTMENTS: tuple[str, ...] = (
    "教育局",
    "卫生健康局",
    "自然资源和规划局",
    "财政局",
    "民政局",
    "人力资源和社会保障局",
    "住房和城乡建设局",
    "交通运输局",
    "农业农村局",
    "市场监督管理局",
    "应急管理局",
    "文化和旅游局",
    "统计局",
    "医疗保障局",
    "退役军人事务局",
    "发展和改革局",
    "司法局",
    "水利局",
)
_CITY_DEPARTMENTS: tuple[str, ...] = (
    "教育局",
    "卫生健康委员会",
    "自然资源和规划局",
    "财政局",
    "民政局",
    "人力资源和社会保障局",
    "住房和城乡建设局",
    "交通运输局",
    "发展和改革委员会",
    "生态环境局",
    "应急管理局",
    "市场监督管理局",
)
_PROVINCE_DEPARTMENTS: tuple[str, ...] = (
    "教育厅",
    "卫生健康委员会",
    "自然资源厅",
    "财政厅",
    "民政厅",
    "交通运输厅",
    "发展和改革委员会",
)


@dataclass(frozen=True)
class Organization:
    title_name: str  # as the title names the body: 房县白鹤镇人民政府
    name: str  # the contract's `name`: 白鹤镇人民政府
    region: str | None  # the contract's `region`: 房县
    level: str
    self_name: str  # how the prose refers to the body: 我镇, 我局, …
    phone: str


def _self_name(name: str, level: str) -> str:
    if level == "township":
        if name.endswith("街道办事处"):
            return "本街道"
        return "我乡" if name.endswith("乡人民政府") else "我镇"
    if level == "department":
        if name.endswith("委员会"):
            return "我委"
        return "我厅" if name.endswith("厅") else "我局"
    if level == "county":
        return "我区" if name.removesuffix("人民政府").endswith("区") else "我县"
    return "我市" if level == "city" else "我省"


def make_organization(rng: random.Random, level: str | None = None) -> Organization:
    """A realistic body of the given level (random when None)."""
    level = level or rng.choice(LEVELS)
    county = rng.choice(_COUNTIES)
    phone = f"0{rng.randint(310, 939)}-{rng.randint(2000000, 8999999)}"
    if level == "township":
        place = rng.choice(county.townships)
        name = f"{place}办事处" if place.endswith("街道") else f"{place}人民政府"
        with_region = rng.random() < 0.8
        title = f"{county.name}{name}" if with_region else name
        region = county.name if with_region else None
    elif level == "county":
        county = rng.choice([c for c in _COUNTIES if not c.county_city and c.city in _CITIES])
        name = f"{county.name}人民政府"
        with_region = rng.random() < 0.15
        title = f"{county.city}{name}" if with_region else name
        region = county.city if with_region else None
    elif level == "city":
        city = rng.choice(sorted(_CITIES))
        name = f"{city}人民政府"
        with_region = rng.random() < 0.15
        title = f"{_CITIES[city]}{name}" if with_region else name
        region = _CITIES[city] if with_region else None
    elif level == "province":
        name = f"{rng.choice(_PROVINCES)}人民政府"
        title, region = name, None
    elif level == "department":
        tier = rng.choices(("county", "city", "province"), (6, 3, 1))[0]
        if tier == "county":
            region, name = county.name, rng.choice(_COUNTY_DEPARTMENTS)
        elif tier == "city":
            region, name = rng.choice(sorted(_CITIES)), rng.choice(_CITY_DEPARTMENTS)
        else:
            region, name = rng.choice(_PROVINCES), rng.choice(_PROVINCE_DEPARTMENTS)
        title = f"{region}{name}"
    else:
        raise ValueError(f"unknown level {level!r}")
    return Organization(title, name, region, level, _self_name(name, level), phone)


# --------------------------------------------------------------------------------------------------------------
# The ground truth


@dataclass
class GroundTruth:
    """One report as it should be parsed: organization, year, dates, the three tables (contract shape), prose."""

    organization: Organization
    year: int  # the reporting year the title states (the contract's `year`)
    period_year: int  # the year of the statistics period (differs from `year` only with year.inconsistent)
    published: str | None  # ISO date, stated in the text, or None
    active: dict[str, Any] | None
    requests: Requests | None
    appeals: dict[str, dict[str, Cell]] | None
    # Section numeral -> paragraphs of prose (for 二/三/四: what stands before the table).  Sub-heads such as
    # "（一）主动公开" are paragraphs of their own.
    sections: dict[str, list[str]]
    order: list[str] = field(default_factory=lambda: list(SECTION_NUMERALS))  # sections in document order
    preface: list[str] = field(default_factory=list)  # prose between the title and section 一
    show_title: bool = True
    claimed_new: int = 0  # the number of applications the prose states (0: "未收到")
    claim_sentence: str = ""  # the sentence of section 一 that states it
    raw_cells: dict[str, str] = field(default_factory=dict)  # cell path -> text printed instead of a number
    procurement: tuple[int, float] | None = None  # the 2019 template's 第二十条第（九）项 block, when present
    # How the title and signature are printed (see "Title damage" below); None / empty: the layout's own.
    title_lines: list[str] | None = None  # the title, line by line
    head_lines: list[str] = field(default_factory=list)  # page chrome before the title
    signature_name: str | None = None  # the body named in the signature
    signed: bool = False  # print the signature even where the layout would leave it out

    # -- what the parse must give ------------------------------------------------------------------------------
    @property
    def title_name(self) -> str:
        return self.organization.title_name

    @property
    def name(self) -> str:
        return self.organization.name

    @property
    def region(self) -> str | None:
        return self.organization.region

    @property
    def level(self) -> str:
        return self.organization.level

    @property
    def title(self) -> str:
        return f"{self.title_name}{self.year}年政府信息公开工作年度报告"

    @property
    def signer(self) -> str:
        return self.signature_name if self.signature_name is not None else self.title_name

    def expected_organization(self) -> dict[str, Any]:
        """The contract's `organization` object. Without a title the text never names the body."""
        if not self.show_title:
            return {"name": None, "region": None, "level": self.level}
        return {"name": self.name, "region": self.region, "level": self.level}

    def tables(self) -> dict[str, Any]:
        """The contract's `tables` object."""
        return copy.deepcopy({"active": self.active, "requests": self.requests, "appeals": self.appeals})

    def section_text(self, numeral: str) -> str:
        return "\n".join(self.sections.get(numeral, []))

    def all_text(self) -> str:
        return "\n".join([*self.preface, *(p for n in self.order for p in self.sections.get(n, []))])

    # -- cells by contract path --------------------------------------------------------------------------------
    def cells(self) -> dict[str, Any]:
        """Every table cell by its contract path."""
        return cell_values(self.tables())

    def cell(self, path: str) -> Any:
        container, key = _locate(self, path)
        return container[key]

    def set_cell(self, path: str, value: Any) -> None:
        container, key = _locate(self, path)
        container[key] = value


_PATH = re.compile(r"^(?P<table>active|requests|appeals)\.(?P<row>\w+)(?:\[(?P<col>\d)\]|\.(?P<field>\w+))?$")


def _locate(truth: GroundTruth, path: str) -> tuple[Any, Any]:
    match = _PATH.match(path)
    if not match:
        raise KeyError(path)
    table = getattr(truth, match["table"])
    if table is None:
        raise KeyError(f"{path}: table absent")
    row = match["row"]
    if match["col"] is not None:
        return table[row], int(match["col"])
    if match["field"] is not None:
        return table[row], match["field"]
    return table, row


def cell_values(tables: dict[str, Any]) -> dict[str, Any]:
    """Contract path -> value for every cell of a `tables` object (contract JSON shape)."""
    cells: dict[str, Any] = {}
    active = tables.get("active")
    if active is not None:
        for row in ("regulations", "normative_documents"):
            for key in ("issued", "repealed", "in_force"):
                cells[f"active.{row}.{key}"] = active[row][key]
        for key in ("licensing", "penalty", "coercion", "fees"):
            cells[f"active.{key}"] = active[key]
    requests = tables.get("requests")
    if requests is not None:
        for key in REQUEST_KEYS:
            for column, value in enumerate(requests[key]):
                cells[f"requests.{key}[{column}]"] = value
    appeals = tables.get("appeals")
    if appeals is not None:
        for block in APPEAL_BLOCKS:
            for key in APPEAL_FIELDS:
                cells[f"appeals.{block}.{key}"] = appeals[block][key]
    return cells


# --------------------------------------------------------------------------------------------------------------
# Tables

_COLUMN_WEIGHTS = (80, 8, 2, 2, 5, 3)
_OUTCOME_WEIGHTS: dict[str, int] = {
    "granted": 45,
    "partial": 10,
    "denied_secret": 1,
    "denied_law": 1,
    "denied_safety": 1,
    "denied_third_party": 2,
    "denied_internal": 2,
    "denied_process": 2,
    "denied_enforcement": 1,
    "denied_query": 2,
    "unavailable_not_held": 18,
    "unavailable_needs_creation": 3,
    "unavailable_unclear": 2,
    "rejected_petition": 3,
    "rejected_repeat": 2,
    "rejected_publication": 1,
    "rejected_excessive": 1,
    "rejected_confirmation": 1,
    "other_no_correction": 2,
    "other_no_fee": 1,
    "other_other": 3,
}
assert tuple(_OUTCOME_WEIGHTS) == OUTCOME_KEYS


def _volume(rng: random.Random, level: str) -> int:
    if level == "township":
        return 0 if rng.random() < 0.5 else rng.randint(1, 6)
    if level == "department":
        return 0 if rng.random() < 0.3 else rng.randint(1, 30)
    if level == "county":
        return rng.randint(0, 80)
    if level == "city":
        return rng.randint(10, 300)
    return rng.randint(30, 600)


def _spread(rng: random.Random, count: int) -> list[int]:
    columns = [0] * 6
    for _ in range(count):
        columns[rng.choices(range(6), _COLUMN_WEIGHTS)[0]] += 1
    return columns


def _make_requests(rng: random.Random, new_columns: list[int], carried_in: list[int]) -> Requests:
    rows: dict[str, list[int]] = {key: [0] * 7 for key in REQUEST_KEYS}
    weights = list(_OUTCOME_WEIGHTS.values())
    for column in range(6):
        opened = new_columns[column] + carried_in[column]
        carried_out = rng.randint(1, max(1, opened // 3)) if opened and rng.random() < 0.25 else 0
        closed = opened - carried_out
        for _ in range(closed):
            rows[rng.choices(OUTCOME_KEYS, weights)[0]][column] += 1
        rows["new"][column] = new_columns[column]
        rows["carried_in"][column] = carried_in[column]
        rows["total"][column] = closed
        rows["carried_out"][column] = carried_out
    for row in rows.values():
        row[6] = sum(row[:6])
    return {key: list(row) for key, row in rows.items()}


def _make_appeals(rng: random.Random, any_requests: bool) -> dict[str, dict[str, Cell]]:
    appeals: dict[str, dict[str, Cell]] = {}
    for block, chance in zip(APPEAL_BLOCKS, (0.3, 0.15, 0.08), strict=True):
        counts = [0, 0, 0, 0]
        if any_requests and rng.random() < chance:
            for _ in range(rng.randint(1, 3)):
                counts[rng.choices(range(4), (5, 2, 2, 2))[0]] += 1
        appeals[block] = {**dict(zip(APPEAL_COUNTS, counts, strict=True)), "total": sum(counts)}
    return appeals


def _documents(rng: random.Random, previous_in_force: int, issued_range: tuple[int, int]) -> dict[str, int]:
    issued = rng.randint(*issued_range)
    repealed = rng.randint(0, min(previous_in_force, max(0, issued_range[1] // 2)))
    return {"issued": issued, "repealed": repealed, "in_force": previous_in_force + issued - repealed}


def _make_active(rng: random.Random, level: str, previous: dict[str, Any] | None) -> dict[str, Any]:
    if level in REGULATION_LEVELS:
        base = previous["regulations"]["in_force"] if previous else rng.randint(30, 300)
        regulations = _documents(rng, base, (0, 6))
    else:
        regulations = {"issued": 0, "repealed": 0, "in_force": 0}
    ranges = {
        "township": ((0, 2), (0, 6)),
        "department": ((0, 8), (0, 40)),
        "county": ((2, 20), (20, 150)),
        "city": ((5, 40), (80, 600)),
        "province": ((10, 60), (200, 1500)),
    }[level]
    base = previous["normative_documents"]["in_force"] if previous else rng.randint(*ranges[1])
    normative = _documents(rng, base, ranges[0])
    if level == "township" and rng.random() < 0.5:
        normative = {"issued": 0, "repealed": 0, "in_force": base}
    scale = {"township": 60, "department": 3000, "county": 20000, "city": 80000, "province": 200000}[level]

    def decisions() -> int:
        return 0 if rng.random() < 0.35 else rng.randint(0, scale)

    if level == "township" and rng.random() < 0.7:
        fees = 0.0
    else:
        fees = rng.choice((0.0, round(rng.randint(1, 9999) / 100, 2), round(rng.randint(1, 999999) / 10000, 4)))
    return {
        "regulations": regulations,
        "normative_documents": normative,
        "licensing": decisions(),
        "penalty": decisions(),
        "coercion": decisions() // 10,
        "fees": fees,
    }


# --------------------------------------------------------------------------------------------------------------
# Prose
#
# Each body writes its own sentences: a paragraph is a few clauses drawn from pools and combined (which clauses,
# in which order, filled with which subjects, channels, months and figures), so two bodies' parts 一 and 五 rarely
# share an LSH band, as real reports of different bodies do not (a few stock sentences made every report a
# candidate copy of a dozen others; bench/prose_peers.py gives the figures). A body keeps some habits from
# year to year (`_Voice`: its named channels, the subjects it returns to) and bodies of one county share a few
# template phrases, as real ones do. Sentences that rules read (the claim of applications received, the
# statistics period, the fee statement, the note on appeals) come from the fixed lists below; the other prose
# never names an application count, a period, a 规章 or a table's row, and a topic's words appear only in its
# own paragraphs (so dropping a topic leaves none of them behind).

_CLAIMS = (
    "本年度共收到政府信息公开申请{n}件，均在法定期限内依法作出答复。",
    "本年度共收到政府信息公开申请{n}件。",
    "全年共收到政府信息公开申请{n}件，已全部按时办理。",
)
_NO_CLAIMS = ("本年度未收到政府信息公开申请。", "{year}年，{self}未收到政府信息公开申请。")
_FEE_STATEMENTS = (
    "本年度未收取信息处理费。",
    "{year}年度，{self}未收取政府信息公开信息处理费。",
    "本年度未向申请人收取信息处理费。",
)
_PERIODS = (
    "本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
    "本报告所列数据统计期限为{year}年1月1日至{year}年12月31日。",
)
_NO_APPEALS_NOTE = "本年度未发生因政府信息公开引起的行政复议、行政诉讼。"
_FEE_WORD = "信息处理费"
_CHINESE_ORDINALS = "一二三四五六七八九十"
_SUBHEAD = re.compile(r"^[（(][一二三四五六七八九十][）)]\S{2,16}$")

# What bodies publish and write about (no word of a topic's keywords, of a table row or of 规章).
_SUBJECTS = (
    "财政预决算",
    "“三公”经费",
    "惠农补贴发放",
    "乡村振兴项目",
    "低保救助",
    "特困人员供养",
    "高龄津贴发放",
    "耕地地力补贴",
    "农村危房改造",
    "人居环境整治",
    "防汛抗旱",
    "森林防火",
    "安全生产",
    "重大建设项目",
    "政府采购",
    "公共资源交易",
    "征地补偿",
    "就业创业",
    "义务教育招生",
    "医疗救助",
    "养老服务",
    "食品安全",
    "生态环境治理",
    "人事任免",
    "公开招聘",
    "权责清单",
    "民生实事",
    "河湖长制",
    "秸秆禁烧",
    "退役军人优待",
    "残疾人补贴",
    "临时救助",
    "村级集体“三资”",
    "特色产业发展",
    "移民后期扶持",
    "村庄规划",
    "农村饮水安全",
    "校舍改造",
    "村级事务",
    "防灾减灾",
    "社会救助",
    "文化惠民活动",
    "城乡环境卫生",
    "道路建设",
    "小型水利工程",
    "土地流转",
    "殡葬改革",
    "消防安全",
    "营商环境",
    "企业帮扶",
    "老旧小区改造",
    "燃气安全",
    "农产品质量安全",
)
_DETAILS = (
    "资金分配结果",
    "项目实施进度",
    "补贴对象名单",
    "办理流程和时限",
    "申报条件和程序",
    "验收结果",
    "责任单位和联系人",
    "政策依据和标准",
    "年度计划",
    "招标和中标结果",
    "审批结果",
    "检查通报",
    "工作进展",
    "资金使用明细",
)
_PUBLISH_VERBS = ("及时公开", "逐项公开", "按月公示", "分批公示", "动态更新", "集中公布", "定期公示", "全程公开")
_EFFECTS = (
    "方便群众查阅",
    "做到应公开尽公开",
    "让群众看得到、看得懂",
    "及时回应群众关切",
    "切实维护群众知情权",
    "做到程序公开、结果透明",
    "群众知晓率明显提高",
    "公开内容更加具体",
)
_FORMS = ("图文", "图解", "短视频", "问答", "一图读懂", "负责人解读", "漫画", "音频", "H5", "案例说明")
_OFFLINE = (
    "各村（社区）公开栏",
    "便民服务大厅",
    "村务公开栏",
    "政务服务大厅电子屏",
    "集镇宣传栏",
    "宣传展板",
    "政务公开专区",
    "公共查阅点",
)
_CHANNEL_FORMS = (
    "“{stem}发布”微信公众号",
    "“{stem}之声”微信公众号",
    "“幸福{stem}”微信公众号",
    "“{stem}在线”政务微博",
    "“{stem}政务”抖音号",
    "“{stem}融媒”客户端",
    "“{stem}微讯”视频号",
    "“{stem}手机台”",
    "“掌上{stem}”小程序",
)
_COLUMNS = (
    "重点领域信息公开",
    "政策解读",
    "乡村振兴",
    "财政信息",
    "惠民政策",
    "人事信息",
    "应急管理",
    "公示公告",
    "办事指南",
    "建议提案办理",
    "政策问答",
    "回应关切",
)

# Phrases bodies of one county share (a county's template), drawn per county.
_LEADERSHIP = (
    "在{party}委、{party}政府的坚强领导下",
    "在{party}委、{party}政府的正确领导下",
    "在上级政务公开主管部门的指导下",
    "在{party}政务公开办的具体指导下",
    "按照{party}委、{party}政府的统一部署",
)
_GUIDES = (
    "深入贯彻落实《中华人民共和国政府信息公开条例》",
    "坚持以人民为中心的发展思想",
    "认真落实上级关于政务公开工作的部署要求",
    "对照政务公开工作要点",
    "以推进基层政务公开标准化规范化为抓手",
    "紧扣年度重点工作",
)
_ACTIONS = (
    "持续深化政务公开",
    "不断提高公开质量",
    "着力推进决策、执行、管理、服务、结果公开",
    "积极回应社会关切",
    "扎实推进政府信息公开各项工作",
    "不断拓展公开的广度和深度",
    "推动政务公开提质增效",
    "认真做好政策解读",
    "规范公开工作流程",
    "提升公开的针对性和实效性",
)
_RESULTS = (
    "政府信息公开工作取得新成效",
    "政务公开工作水平进一步提高",
    "群众的知情权、参与权得到有效落实",
    "各项工作有序推进",
    "公开工作的规范化水平稳步提升",
    "为中心工作营造了良好的公开环境",
)


_PLACE_CHARACTERS = "安平和兴东西南北新青石金龙凤泉山河桥松柏槐杨柳梨枣桃李庄沟坪岭湾塘坝营寨岗店铺楼台"
_SUBHEAD_ENDINGS = ("", "情况", "：", "方面", "工作")


@dataclass(frozen=True)
class _Voice:
    """How one body writes, year after year: its own channels, the subjects it returns to, its county's phrases."""

    channels: tuple[str, ...]  # named platforms (part 一's platform paragraph only: they say 公众号 etc.)
    offline: tuple[str, ...]
    subjects: tuple[str, ...]
    leadership: str
    guide: str
    supervision_lead: int  # which opening sentence the county's bodies use for 监督保障
    five_intro: int
    places: tuple[str, ...]  # its villages and communities (a department: the areas it serves)
    subhead: str  # how its part 一's sub-heads end: （一）主动公开情况, （一）主动公开工作…


def _stem(org: Organization) -> str:
    """The short word a body's own channels are named after (白鹤 for 白鹤镇, 教育 for 教育局)."""
    if org.level == "department":
        return org.name[:2]
    name = org.name.removesuffix("人民政府").removesuffix("办事处").removesuffix("街道")
    short = name.rstrip("镇乡县区市省") if len(name) > 2 else name
    return short or name


def _voice(org: Organization) -> _Voice:
    own = random.Random(f"voice:{org.title_name}")  # str seeds are hashed with sha512: stable across runs
    county = random.Random(f"county:{org.region or org.title_name}")
    # The party committee and government above the body (or its own, for a government): 县委、县政府, 区委、区政府…
    place = (org.name.removesuffix("人民政府") if org.level in GOVERNMENT_LEVELS else org.region) or org.title_name
    party = next((unit for unit in "省市区县" if place.endswith(unit)), "县")
    stem = _stem(org)
    return _Voice(
        channels=tuple(form.format(stem=stem) for form in own.sample(_CHANNEL_FORMS, own.randint(1, 3))),
        offline=tuple(own.sample(_OFFLINE, 2)),
        subjects=tuple(own.sample(_SUBJECTS, 8)),
        leadership=county.choice(_LEADERSHIP).format(party=party),
        guide=county.choice(_GUIDES),
        supervision_lead=county.randrange(len(_SUPERVISION_LEADS)),
        five_intro=county.randrange(len(_FIVE_INTROS)),
        places=tuple(
            "".join(own.sample(_PLACE_CHARACTERS, 2))
            + (own.choice(("村", "社区")) if org.level != "department" else "片区")
            for _ in range(5)
        ),
        subhead=own.choice(_SUBHEAD_ENDINGS),
    )


def _subjects(rng: random.Random, voice: _Voice, k: int) -> list[str]:
    """k subjects, mostly the body's own."""
    chosen: list[str] = []
    while len(chosen) < k:
        subject = rng.choice(voice.subjects if rng.random() < 0.6 else _SUBJECTS)
        if subject not in chosen:
            chosen.append(subject)
    return chosen


def _listed(items: Sequence[str]) -> str:
    return "、".join(items)


def _month(rng: random.Random) -> str:
    return f"{rng.randint(1, 12)}月" if rng.random() < 0.7 else f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日"


def _sentences(rng: random.Random, lead: str, pool: Sequence[Callable[[], str]], low: int, high: int) -> str:
    """A lead sentence and a few others of the pool, in a random order."""
    chosen = rng.sample(list(pool), rng.randint(low, min(high, len(pool))))
    return lead + "".join(make() for make in chosen)


def _intro(rng: random.Random, org: Organization, year: int, voice: _Voice) -> str:
    start = rng.choice((f"{year}年，", f"{year}年以来，", "过去一年，", "本年度，", "一年来，", ""))
    actions = "，".join(rng.sample(_ACTIONS, rng.randint(2, 3)))
    pieces = [voice.leadership, voice.guide] if rng.random() < 0.7 else [voice.guide]
    return f"{start}{org.self_name}{'，'.join(pieces)}，{actions}，{rng.choice(_RESULTS)}。"


def _open_paragraph(rng: random.Random, org: Organization, voice: _Voice) -> str:
    me = org.self_name
    lead = rng.choice(
        (
            f"{me}坚持以公开为常态、不公开为例外，",
            f"{me}严格对照主动公开基本目录，",
            f"{me}围绕年度中心工作，",
            f"{me}紧扣群众关心关注的热点难点，",
            f"{me}对照基层政务公开标准目录，",
            f"{me}持续扩大主动公开范围，",
            f"{me}以群众需求为导向，",
            f"{me}把主动公开贯穿工作全过程，",
            f"{me}围绕{rng.choice(_subjects(rng, voice, 1))}等重点工作，",
            "",
        )
    )
    lead += rng.choice(("全年主动公开", "主动公开", "全年共发布", "通过门户网站主动公开")) + (
        f"{_listed(_subjects(rng, voice, rng.randint(2, 5)))}等各类政府信息{rng.randint(20, 1500)}条。"
    )

    def breakdown() -> str:
        parts = [f"{s}信息{rng.randint(1, 90)}条" for s in _subjects(rng, voice, rng.randint(2, 3))]
        return f"其中，{_listed(parts)}。"

    def subject() -> str:
        return (
            f"在{rng.choice(_subjects(rng, voice, 1))}方面，{rng.choice(_PUBLISH_VERBS)}"
            f"{_listed(rng.sample(_DETAILS, rng.randint(1, 3)))}，{rng.choice(_EFFECTS)}。"
        )

    def campaign() -> str:
        return (
            f"{_month(rng)}，集中开展{rng.choice(_subjects(rng, voice, 1))}信息专项公开，"
            f"在{rng.choice(voice.offline)}公示{rng.randint(2, 30)}批次。"
        )

    def explain() -> str:
        return (
            f"围绕{_listed(_subjects(rng, voice, rng.randint(1, 2)))}等政策，采用{_listed(rng.sample(_FORMS, 2))}"
            f"等形式发布解读材料{rng.randint(2, 60)}篇。"
        )

    def offline() -> str:
        return (
            f"利用{_listed(voice.offline)}公开{rng.choice(_subjects(rng, voice, 1))}等纸质材料"
            f"{rng.randint(5, 400)}份，{rng.choice(_EFFECTS)}。"
        )

    def places() -> str:
        chosen = _listed(rng.sample(voice.places, rng.randint(1, 3)))
        return rng.choice(
            (
                f"在{chosen}设立政务公开示范点，集中展示{_listed(rng.sample(_DETAILS, 2))}。",
                f"{_month(rng)}，在{chosen}公示{rng.choice(_subjects(rng, voice, 1))}{rng.choice(_DETAILS)}，"
                f"公示期{rng.choice(('五', '七', '十'))}个工作日。",
                f"组织{chosen}的群众代表参与{rng.choice(_subjects(rng, voice, 1))}事项的意见征集。",
            )
        )

    if rng.random() < 0.4:  # "其中" goes right after the total it breaks down
        lead += breakdown()
    return _sentences(rng, lead, (subject, campaign, explain, offline, places), 1, 3)


def _request_paragraph(rng: random.Random, org: Organization, claim: str) -> str:
    me = org.self_name
    steps = _listed(rng.sample(("登记", "审核", "办理", "答复", "归档", "补正告知", "征求意见"), rng.randint(3, 5)))
    lead = rng.choice(
        (
            f"{me}严格执行依申请公开工作流程，规范{steps}各环节。",
            f"{me}依申请公开工作做到依法办理、按时答复，{steps}等环节均留痕管理。",
            f"{me}进一步规范依申请公开工作，明确{steps}等环节的责任和时限。",
            f"{me}畅通依申请公开渠道，{steps}等环节按规定办理。",
            f"{me}把依申请公开作为回应群众需求的重要途径，细化{steps}等环节的要求。",
        )
    )

    def documents() -> str:
        thing = rng.choice(("办理制度", "答复文书模板", "工作台账", "会商机制", "办理指引"))
        effect = rng.choice(("答复内容更加规范", "做到依法依规、按时答复", "答复质量进一步提高", "办理过程全程可查"))
        return f"完善依申请公开{thing}，{effect}。"

    def cases() -> str:
        kind = rng.choice(("内容不明确", "涉及第三方权益", "需要多个单位共同办理", "属于咨询性质"))
        action = rng.choice(("及时告知申请人补正", "依法书面征求意见", "由办公室统一协调答复", "耐心做好解释说明"))
        return f"对{kind}的申请，{action}。"

    def staff() -> str:
        office = rng.choice(("党政办", "办公室", "综合办", "政务公开办"))
        return f"依申请公开工作由{office}统一负责，明确{rng.randint(1, 4)}名工作人员具体承办。"

    def channels() -> str:
        ways = _listed(rng.sample(("当面提交", "信函", "网上提交", "传真", "电子邮件"), rng.randint(2, 4)))
        return f"申请人可通过{ways}等方式提出申请，{rng.choice(('指南已在网站公开', '办理时限已明示', '联系方式已公布'))}。"

    body = _sentences(rng, lead, (documents, cases, staff, channels), 0, 2)
    return claim + body if rng.random() < 0.5 else body + claim


def _management_paragraph(rng: random.Random, org: Organization) -> str:
    me = org.self_name
    mechanism = rng.choice(
        (
            "“先审查、后公开”和“一事一审”制度",
            "信息发布“三审三校”制度",
            "保密审查和发布审核机制",
            "专人负责、分级把关的信息发布流程",
        )
    )
    lead = f"{me}{rng.choice(('加强', '规范', '持续加强', '着力规范', '不断完善'))}政府信息管理，落实{mechanism}。"

    def review() -> str:
        scope = rng.choice(("现行有效的政策文件", "历年公开的信息", "网站存量信息", "公开目录", "政府信息公开指南"))
        result = rng.choice(
            (
                f"调整公开目录{rng.randint(2, 40)}项",
                f"清理过时信息{rng.randint(3, 200)}条",
                "及时更新相关内容",
                f"修改完善{rng.randint(1, 12)}处表述",
            )
        )
        return f"{_month(rng)}，对{scope}进行全面梳理，{result}。"

    def ledger() -> str:
        thing = rng.choice(("政府信息管理台账", "政策文件库", "公开信息动态调整机制", "信息公开属性源头认定机制"))
        mode = rng.choice(("动态管理", "全过程管理", "分类管理", "统一编号管理"))
        return f"建立{thing}，对拟公开信息实行{mode}。"

    def incident() -> str:
        bad = rng.choice(("泄密", "信息发布错误", "敏感信息泄露", "公开不当"))
        return f"全年未发生{bad}情况。"

    def publicity() -> str:
        thing = rng.choice(("公文公开属性", "拟公开信息的保密性", "涉及个人信息的内容", "图片和附件"))
        return f"在信息发布前逐条核对{thing}，{rng.choice(('做到应删尽删', '严防信息泄露', '确保表述准确'))}。"

    return _sentences(rng, lead, (review, ledger, incident, publicity), 1, 3)


def _platform_paragraph(rng: random.Random, org: Organization, voice: _Voice) -> str:
    me = org.self_name
    lead = rng.choice(
        (
            f"{me}持续加强政府信息公开平台建设，",
            f"{me}以门户网站为主、政务新媒体为辅推进平台建设，",
            "加强政务公开平台建设，",
            f"{me}不断优化信息公开平台，",
        )
    ) + rng.choice(
        (
            f"通过{_listed(voice.channels)}发布信息{rng.randint(30, 2000)}条。",
            f"依托政府网站信息公开专栏和{_listed(voice.channels)}拓宽公开渠道。",
            "规范栏目设置，优化页面布局和检索功能。",
        )
    )

    def columns() -> str:
        return f"{_month(rng)}对政府网站信息公开专栏进行调整，新增{_listed(rng.sample(_COLUMNS, rng.randint(1, 3)))}等栏目。"

    def checks() -> str:
        return f"定期开展网站内容检查，全年检查{rng.randint(4, 52)}次，整改错链、断链{rng.randint(1, 30)}处。"

    def sync() -> str:
        return f"建立{rng.choice(voice.channels)}与门户网站信息同步发布机制，做到重要信息同步推送。"

    def terminals() -> str:
        where = _listed(rng.sample(voice.places, rng.randint(1, 2)))
        return f"在{where}设置自助查询终端{rng.randint(1, 9)}台，方便群众就近查询。"

    return _sentences(rng, lead, (columns, checks, sync, terminals), 1, 2)


_SUPERVISION_LEADS = (
    "成立以主要负责同志为组长的政务公开工作领导小组，将政务公开工作纳入年度目标考核。",
    "健全政务公开工作监督保障机制，明确分管负责同志和专人负责日常工作。",
    "把政务公开工作纳入绩效考核体系，做好监督保障工作。",
    "自觉接受社会监督，畅通意见反馈渠道。",
)


def _supervision_paragraph(rng: random.Random, org: Organization, voice: _Voice) -> str:
    lead = _SUPERVISION_LEADS[voice.supervision_lead if rng.random() < 0.6 else rng.randrange(len(_SUPERVISION_LEADS))]

    def training() -> str:
        return (
            f"{_month(rng)}组织开展政务公开业务培训{rng.randint(1, 6)}次，参训{rng.randint(10, 300)}人次，"
            f"重点学习{rng.choice(('条例内容', '公开目录编制', '答复文书规范', '政策解读要点'))}。"
        )

    def inspection() -> str:
        return f"开展自查{rng.randint(1, 8)}次，发现并整改问题{rng.randint(1, 30)}个。"

    def monitors() -> str:
        return f"聘请社会监督员{rng.randint(2, 15)}名，通过{rng.choice(voice.offline)}设置意见箱收集意见建议。"

    def accountability() -> str:
        return "全年未发生因政府信息公开工作被责任追究的情况。"

    def visits() -> str:
        where = _listed(rng.sample(voice.places, rng.randint(1, 3)))
        return f"{_month(rng)}，到{where}实地督导公开栏更新情况，现场反馈意见{rng.randint(2, 20)}条。"

    return _sentences(rng, lead, (training, inspection, monitors, accountability, visits), 1, 3)


def _claim(rng: random.Random, n: int, year: int, self_name: str) -> str:
    template = rng.choice(_CLAIMS if n else _NO_CLAIMS)
    return template.format(n=n, year=year, self=self_name)


def _section_one(
    rng: random.Random, org: Organization, year: int, claim: str, topics: Sequence[str] = TOPICS
) -> list[str]:
    voice = _voice(org)
    paragraphs = [_intro(rng, org, year, voice)]
    suffix = voice.subhead if rng.random() < 0.8 else rng.choice(_SUBHEAD_ENDINGS)
    writers: dict[str, Callable[[], str]] = {
        "主动公开": lambda: _open_paragraph(rng, org, voice),
        "依申请公开": lambda: _request_paragraph(rng, org, claim),
        "政府信息管理": lambda: _management_paragraph(rng, org),
        "政府信息公开平台建设": lambda: _platform_paragraph(rng, org, voice),
        "监督保障": lambda: _supervision_paragraph(rng, org, voice),
    }
    for index, topic in enumerate(topics):
        paragraphs += [f"（{_CHINESE_ORDINALS[index]}）{topic}{suffix}", writers[topic]()]
    return paragraphs


# Part 五: problems and measures, each an aspect and what is wrong with it / an action, an object and a way.
_ASPECTS = (
    "信息公开的及时性",
    "政策解读的针对性",
    "公开栏的更新频次",
    "依申请公开答复的统一性",
    "工作人员的业务水平",
    "基层公开的标准化水平",
    "公开内容的全面性",
    "回应关切的时效",
    "网站栏目的维护",
    "公开信息的可读性",
    "重点领域信息公开的深度",
    "公开目录的动态调整",
    "政务新媒体的运维",
    "村级事务公开",
    "公开工作的协调联动",
)
_SHORTCOMINGS = ("有待提高", "还需加强", "不够到位", "与群众期待仍有差距", "仍存在短板", "还不够高", "需要进一步提升")
_SYMPTOMS = (
    "部分栏目更新滞后",
    "个别信息发布不及时",
    "解读形式较为单一",
    "图表图解运用较少",
    "兼职人员流动较大",
    "部分公开内容与网站不一致",
    "答复文书格式不够统一",
    "对群众关注的热点回应不够充分",
    "公开信息多为结果性信息",
    "部分信息表述不够通俗",
    "线上线下公开衔接不够紧密",
    "培训覆盖面不够广",
)
_MEASURE_VERBS = ("加强", "完善", "健全", "规范", "强化", "优化", "深化", "改进")
_MEASURE_OBJECTS = (
    "信息发布审核机制",
    "政策解读工作",
    "公开栏日常管理",
    "依申请公开办理流程",
    "业务培训",
    "公开目录动态更新",
    "重点领域信息公开",
    "政务新媒体运维",
    "村级事务公开",
    "回应关切机制",
    "网站内容检查",
    "工作队伍建设",
    "信息公开台账管理",
    "线上线下公开衔接",
    "公开内容审核把关",
)
_MEASURE_WAYS = (
    "定期开展自查",
    "每季度至少开展一次专项检查",
    "组织工作人员集中学习",
    "综合运用图解、视频等方式",
    "明确信息发布时限",
    "建立问题整改台账",
    "推行清单化管理",
    "加强与业务科室的沟通协调",
    "实行专人负责",
    "邀请上级业务骨干现场指导",
)
_MEASURE_AIMS = (
    "确保信息及时准确公开",
    "切实提升公开实效",
    "推动政务公开工作再上新台阶",
    "提高群众满意度",
    "做到线上线下公开内容一致",
    "增强公开工作的规范性",
    "保持队伍相对稳定",
    "让政策真正惠及群众",
)
_FIVE_INTROS = (
    "{year}年，{self}政府信息公开工作取得了一定成效，但仍存在一些不足：",
    "对照上级要求，{self}{year}年政府信息公开工作仍存在以下问题：",
    "{self}政府信息公开工作虽然取得了一定成绩，但与群众的期待相比还有差距，主要表现在：",
    "回顾{year}年的工作，{self}在政府信息公开方面还存在以下不足：",
)
_PROBLEM_HEADS = ("（一）存在的主要问题", "（一）存在的问题", "（一）主要问题")
_MEASURE_HEADS = ("（二）改进措施", "（二）改进情况", "（二）下一步工作打算")
_MEASURE_INTROS = (
    "下一步，将重点做好以下工作：",
    "针对上述问题，{self}将采取以下措施：",
    "新的一年，{self}将着力做好以下工作：",
)


def _problem(rng: random.Random) -> str:
    aspect = rng.choice(_ASPECTS)
    if rng.random() < 0.5:
        return f"{aspect}{rng.choice(_SHORTCOMINGS)}，{rng.choice(_SYMPTOMS)}。"
    return f"{rng.choice(_SYMPTOMS)}，{aspect}{rng.choice(_SHORTCOMINGS)}。"


def _measure(rng: random.Random) -> str:
    verb, thing, way, aim = (
        rng.choice(pool) for pool in (_MEASURE_VERBS, _MEASURE_OBJECTS, _MEASURE_WAYS, _MEASURE_AIMS)
    )
    if rng.random() < 0.5:
        return f"{verb}{thing}，{way}，{aim}。"
    return f"{way}，{verb}{thing}，{aim}。"


def _items(rng: random.Random, make: Callable[[random.Random], str], count: int, avoid: set[str]) -> list[str]:
    found: list[str] = []
    while len(found) < count:
        text = make(rng)
        if text not in avoid and text not in found:
            found.append(text)
    return found


def _section_five(rng: random.Random, org: Organization, year: int, avoid: Sequence[str] = ()) -> list[str]:
    """Part 五; `avoid`: last year's items, none of which comes back."""
    voice = _voice(org)
    last = set(avoid)
    problems = _items(rng, _problem, rng.randint(2, 4), last)
    measures = _items(rng, _measure, rng.randint(2, 4), last)
    numbering = rng.choice(("arabic", "ordinal"))
    template = _FIVE_INTROS[voice.five_intro if rng.random() < 0.5 else rng.randrange(len(_FIVE_INTROS))]
    paragraphs = [rng.choice(_PROBLEM_HEADS), template.format(year=year, self=org.self_name)]
    for index, text in enumerate(problems):
        paragraphs.append(f"{index + 1}.{text}" if numbering == "arabic" else f"{_CHINESE_ORDINALS[index]}是{text}")
    paragraphs += [rng.choice(_MEASURE_HEADS), rng.choice(_MEASURE_INTROS).format(self=org.self_name)]
    for index, text in enumerate(measures):
        paragraphs.append(f"{index + 1}.{text}" if numbering == "arabic" else f"{_CHINESE_ORDINALS[index]}是{text}")
    return paragraphs


def _five_items(paragraphs: Sequence[str]) -> list[str]:
    """The enumerated items of a part 五 ("1.…", "一是…"), without their numbers."""
    return [
        re.sub(r"^(?:\d\.|[一二三四五六七八九十]是)", "", p)
        for p in paragraphs
        if re.match(r"^(?:\d\.|[一二三四五六七八九十]是)", p)
    ]


def _section_six(
    rng: random.Random, org: Organization, year: int, requests: Requests, *, period: bool, contact: bool
) -> list[str]:
    me = org.self_name
    no_fee = requests["other_no_fee"][6] or 0
    if no_fee:
        paragraphs = [f"本年度向申请人发出收费通知{no_fee}件，申请人逾期未缴纳，实际收取信息处理费0元。"]
    else:
        paragraphs = [rng.choice(_FEE_STATEMENTS).format(year=year, self=me)]
    extras = (
        f"{me}认真办理人大代表建议和政协委员提案，办理结果已按要求公开。",
        f"{me}年度政务公开工作要点已于{rng.randint(1, 6)}月在门户网站公开，各项任务均已落实。",
        f"本年度{me}办理人大代表建议{rng.randint(0, 12)}件、政协委员提案{rng.randint(0, 12)}件，均已按时办结。",
        f"{me}按要求开展了政务公开第三方评估整改，{rng.randint(1, 9)}项问题均已整改到位。",
    )
    if rng.random() < 0.5:
        paragraphs.append(rng.choice(extras))
    if period:
        paragraphs.append(rng.choice(_PERIODS).format(year=year))
    if contact:
        paragraphs.append(f"如对本报告有疑问，请与{org.title_name}联系，联系电话：{org.phone}。")
    return paragraphs


_PREFACES = (
    "根据《中华人民共和国政府信息公开条例》规定，现公布{self}{year}年政府信息公开工作年度报告。",
    "根据《中华人民共和国政府信息公开条例》要求，{self}编制了{year}年政府信息公开工作年度报告。",
    "按照《中华人民共和国政府信息公开条例》有关规定，现将{self}{year}年政府信息公开工作年度报告予以公布。",
)


def _published(rng: random.Random, level: str, year: int) -> str:
    start = datetime.date(year + 1, 1, 5 if level not in GOVERNMENT_LEVELS else 15)
    end = datetime.date(year + 1, 1, 31) if level not in GOVERNMENT_LEVELS else datetime.date(year + 1, 3, 31)
    return (start + datetime.timedelta(days=rng.randint(0, (end - start).days))).isoformat()


def make_truth(
    rng: random.Random,
    *,
    level: str | None = None,
    year: int | None = None,
    blanks: bool = False,
    show_title: bool | None = None,
    organization: Organization | None = None,
    requests: bool | None = None,
) -> GroundTruth:
    """A consistent report: every relation of the contract holds and no built-in rule fires (except
    structure.blank_cells when `blanks`, which leaves the six applicant columns of table 三 blank).

    `requests`: True forces at least one application, False none, None lets the level decide.
    """
    org = organization or make_organization(rng, level)
    year = year if year is not None else rng.randint(2021, 2024)
    return _build(rng, org, year, blanks=blanks, show_title=show_title, wants_requests=requests)


def _build(
    rng: random.Random,
    org: Organization,
    year: int,
    *,
    blanks: bool,
    show_title: bool | None,
    wants_requests: bool | None,
    previous: GroundTruth | None = None,
) -> GroundTruth:
    volume = _volume(rng, org.level)
    if wants_requests is True and volume == 0:
        volume = rng.randint(1, 6)
    if wants_requests is False:
        volume = 0
    if previous is not None and previous.requests is not None:
        carried_in = _carried_columns(previous.requests)
    elif volume and rng.random() < 0.3:
        carried_in = _spread(rng, rng.randint(1, max(1, volume // 4)))
    else:
        carried_in = [0] * 6
    if wants_requests is False:
        carried_in = [0] * 6
    requests = _make_requests(rng, _spread(rng, volume), carried_in)
    any_requests = any(requests["new"][c] or requests["carried_in"][c] for c in range(7))
    appeals = _make_appeals(rng, any_requests)
    active = _make_active(rng, org.level, previous.active if previous else None)
    show_title = (rng.random() < 0.9) if show_title is None else show_title
    claimed = requests["new"][6] or 0
    claim = _claim(rng, claimed, year, org.self_name)
    period_where = rng.choice(("六", "preface", "none")) if show_title else "preface"
    preface: list[str] = []
    if period_where == "preface" or rng.random() < 0.2:
        preface.append(rng.choice(_PREFACES).format(self=org.self_name, year=year))
        if period_where == "preface":
            preface.append(rng.choice(_PERIODS).format(year=year))
    avoid = _five_items(previous.sections["五"]) if previous else []
    sections = {
        "一": _section_one(rng, org, year, claim),
        "二": [f"{year}年，{org.self_name}主动公开政府信息情况如下："] if rng.random() < 0.3 else [],
        "三": ["具体情况见下表。"] if rng.random() < 0.2 else [],
        "四": [],
        "五": _section_five(rng, org, year, avoid),
        "六": _section_six(
            rng, org, year, requests, period=period_where == "六", contact=show_title and rng.random() < 0.5
        ),
    }
    if all(appeals[b]["total"] == 0 for b in APPEAL_BLOCKS) and rng.random() < 0.3:
        sections["四"].append(_NO_APPEALS_NOTE)
    truth = GroundTruth(
        organization=org,
        year=year,
        period_year=year,
        published=_published(rng, org.level, year) if show_title and rng.random() < 0.8 else None,
        active=active,
        requests=requests,
        appeals=appeals,
        sections=sections,
        preface=preface,
        show_title=show_title,
        claimed_new=claimed,
        claim_sentence=claim,
    )
    if blanks:
        for key in REQUEST_KEYS:
            truth.requests[key][:6] = [None] * 6  # type: ignore[index]
    return truth


def _carried_columns(previous: Requests) -> list[int]:
    """Last year's carried_out per applicant column (all in 自然人 when the columns were left blank)."""
    row = previous["carried_out"]
    if any(value is None for value in row[:6]):
        return [row[6] or 0, 0, 0, 0, 0, 0]
    return [int(value) for value in row[:6]]  # type: ignore[arg-type]


def make_series(
    rng: random.Random,
    years: Sequence[int] = (2022, 2023, 2024),
    *,
    level: str | None = None,
    blanks: bool = False,
    organization: Organization | None = None,
) -> list[GroundTruth]:
    """Consecutive, consistent reports of one organization: carried_in of year n = carried_out of year n-1 (per
    column), in_force continues (in_force = last in_force + issued - repealed), section 五 changes every year."""
    org = organization or make_organization(rng, level)
    series: list[GroundTruth] = []
    for year in years:
        previous = series[-1] if series else None
        truth = _build(rng, org, year, blanks=blanks, show_title=True, wants_requests=None, previous=previous)
        series.append(truth)
    return series


# --------------------------------------------------------------------------------------------------------------
# A reference evaluation of the contract's rules on a ground truth

_DEADLINE_MONTH_DAY = {"county": (3, 31), "city": (3, 31), "province": (3, 31), "township": (3, 31)}
# value.unit_suspect: 行政事业性收费 (万元) from which an amount reads like 元, by level (RuleSettings' default).
FEE_CEILING_WAN = {"township": 500.0, "department": 100000.0}
THIN_SECTION_CHARS = 10  # narrative.thin_section's default


def thin(text: str) -> bool:
    """Whether a part says nothing: empty, 无, or under THIN_SECTION_CHARS characters (punctuation aside)."""
    bare = re.sub(r"[\W_]+", "", text)
    return len(bare) < THIN_SECTION_CHARS or bare in ("无", "暂无")


def _requests_violations(requests: Requests) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}

    def add(rule: str, cells: list[str]) -> None:
        found.setdefault(rule, set()).update(cells)

    for column in range(7):

        def value(key: str, column: int = column) -> Cell:
            return requests[key][column]

        balance = [value(k) for k in ("new", "carried_in", "total", "carried_out")]
        if None not in balance and balance[0] + balance[1] != balance[2] + balance[3]:  # type: ignore[operator]
            add("requests.balance", [f"requests.{k}[{column}]" for k in ("new", "carried_in", "total", "carried_out")])
        outcomes = [value(k) for k in OUTCOME_KEYS]
        if value("total") is not None and None not in outcomes and sum(outcomes) != value("total"):  # type: ignore
            add("requests.total_row", [f"requests.total[{column}]"])
    for key in REQUEST_KEYS:
        row = requests[key]
        if None not in row and sum(row[:6]) != row[6]:  # type: ignore[arg-type]
            add("requests.total_column", [f"requests.{key}[6]"])
    return found


def violations(truth: GroundTruth) -> dict[str, set[str]]:
    """Rule id -> cells involved, for every built-in rule (of a single year) that fires on this truth."""
    found: dict[str, set[str]] = {}

    def add(rule: str, cells: Sequence[str] = ()) -> None:
        found.setdefault(rule, set()).update(cells)

    cells = truth.cells()
    for path, value in cells.items():
        if value is None and path not in truth.raw_cells:
            add("structure.blank_cells", [path])
        elif isinstance(value, int | float) and value < 0:
            add("value.invalid", [path])
    for path in truth.raw_cells:
        add("value.invalid", [path])
    if truth.requests is not None:
        for rule, rule_cells in _requests_violations(truth.requests).items():
            add(rule, sorted(rule_cells))
    if truth.appeals is not None:
        for block in APPEAL_BLOCKS:
            counts = [truth.appeals[block][k] for k in APPEAL_COUNTS]
            total = truth.appeals[block]["total"]
            if total is not None and None not in counts and sum(counts) != total:  # type: ignore[arg-type]
                add("appeals.totals", [f"appeals.{block}.total"])
        if truth.requests is not None:
            opened = [truth.requests[k][c] for k in ("new", "carried_in") for c in range(7)]
            totals = [truth.appeals[b]["total"] or 0 for b in APPEAL_BLOCKS]
            if all(v in (0, None) for v in opened) and any(v is not None for v in opened) and any(totals):
                add(
                    "appeals.without_requests",
                    [f"appeals.{b}.total" for b in APPEAL_BLOCKS if truth.appeals[b]["total"]],
                )
    if truth.active is not None and truth.level not in REGULATION_LEVELS:
        regulations = truth.active["regulations"]
        if (regulations["issued"] or 0) > 0 or (regulations["in_force"] or 0) > 0:
            add(
                "regulations.ineligible_issuer",
                [f"active.regulations.{k}" for k in ("issued", "in_force") if (regulations[k] or 0) > 0],
            )
    if truth.order != list(SECTION_NUMERALS):
        add("structure.missing_section")
    for table in ("active", "requests", "appeals"):
        if getattr(truth, table) is None:
            add("structure.missing_table")
    stated_new = truth.requests["new"][6] if truth.requests is not None else None
    if stated_new is not None and truth.claimed_new != stated_new:
        add("narrative.contradicts_table", ["requests.new[6]"])
    if "六" in truth.order and _FEE_WORD not in truth.section_text("六"):
        add("fees.statement_missing")
    periods = {int(y) for y in re.findall(r"统计期限\S*?(\d{4})年1月1日", truth.all_text())}
    published_year = int(truth.published[:4]) if truth.published else None
    if (truth.show_title and periods and periods != {truth.year}) or (
        published_year is not None and published_year != truth.period_year + 1
    ):
        add("year.inconsistent")
    if truth.published is not None:
        month, day = _DEADLINE_MONTH_DAY.get(truth.level, (1, 31))
        if datetime.date.fromisoformat(truth.published) > datetime.date(truth.period_year + 1, month, day):
            add("publication.late")
    if truth.procurement is not None:
        add("structure.outdated_template")
    if "五" in truth.order and thin(truth.section_text("五")):
        add("narrative.thin_section")
    fees = truth.active["fees"] if truth.active is not None else None
    if fees is not None and fees >= FEE_CEILING_WAN.get(truth.level, float("inf")):
        add("value.unit_suspect", ["active.fees"])
    one = truth.section_text("一")
    if "一" in truth.order and any(not any(w in one for w in TOPIC_KEYWORDS[t]) for t in TOPICS):
        add("narrative.missing_topics")
    return found


def series_violations(previous: GroundTruth, current: GroundTruth) -> dict[str, set[str]]:
    """Rule id -> cells, for the rules that compare a year with the one before."""
    found: dict[str, set[str]] = {}
    if previous.requests is not None and current.requests is not None:
        for column in range(7):
            before, now = previous.requests["carried_out"][column], current.requests["carried_in"][column]
            if before is not None and now is not None and before != now:
                found.setdefault("requests.carry_over_continuity", set()).add(f"requests.carried_in[{column}]")
    if previous.active is not None and current.active is not None:
        for row in ("regulations", "normative_documents"):
            last, this = previous.active[row], current.active[row]
            values = [last["in_force"], this["issued"], this["repealed"], this["in_force"]]
            if None not in values and values[0] + values[1] - values[2] != values[3]:
                found.setdefault("regulations.in_force_continuity", set()).add(f"active.{row}.in_force")
    if "五" in current.order and current.sections.get("五") == previous.sections.get("五"):
        found["narrative.copied_from_prior_year"] = set()
    if (
        None not in (current.active, current.requests, current.appeals)
        and current.cells() == previous.cells()
        and any(current.cells().values())
    ):
        found["tables.copied_from_prior_year"] = set()
    return found


# --------------------------------------------------------------------------------------------------------------
# Defects


@dataclass(frozen=True)
class Expected:
    """What a correct checker must report about a planted defect."""

    kind: str
    rules: frozenset[str]  # every rule the change makes fire (kind included)
    cells: tuple[str, ...]  # the cells the defect changed or that carry it (may be empty)
    all_rules: frozenset[str] = frozenset()  # every rule that fires on the modified truth (baseline included)
    optional: frozenset[str] = frozenset()  # rules a correct checker may report or not
    relation_cells: dict[str, frozenset[str]] = field(default_factory=dict)  # rule -> cells, from `violations`


KINDS: tuple[str, ...] = (
    "requests.balance",
    "requests.total_row",
    "requests.total_column",
    "appeals.totals",
    "appeals.without_requests",
    "regulations.ineligible_issuer",
    "structure.missing_section",
    "structure.missing_table",
    "structure.blank_cells",
    "value.invalid",
    "narrative.contradicts_table",
    "narrative.missing_topics",
    "fees.statement_missing",
    "year.inconsistent",
    "publication.late",
    "structure.outdated_template",
    "narrative.thin_section",
    "value.unit_suspect",
)
SERIES_KINDS: tuple[str, ...] = (
    "requests.carry_over_continuity",
    "regulations.in_force_continuity",
    "narrative.copied_from_prior_year",
    "tables.copied_from_prior_year",
)
# What value.invalid writes into a number cell. Text makes the cell null (contract: "the cell is null"); "-1" is a
# number and stays one (-1), so arithmetic relations may break too — `Expected.rules` then names them.
INVALID_TEXTS: tuple[str, ...] = ("五", "无", "-", "-1")
# Cells that blank or invalid defects leave alone: the prose states new 总计, and emptying new/carried_in 总计 would
# make appeals.without_requests a matter of reading.
_PROSE_CELLS = frozenset({"requests.new[6]", "requests.carried_in[6]"})


def _changed_rules(before: dict[str, set[str]], after: dict[str, set[str]]) -> set[str]:
    return {rule for rule, cells in after.items() if rule not in before or not cells <= before[rule]}


def _filled(truth: GroundTruth) -> None:
    """Give table 三 filled applicant columns (everything in 自然人) when they were left blank."""
    assert truth.requests is not None
    for row in truth.requests.values():
        if any(value is None for value in row[:6]) and row[6] is not None:
            row[:6] = [row[6], 0, 0, 0, 0, 0]


def _sync_claim(truth: GroundTruth, rng: random.Random) -> None:
    """Make the prose state new 总计 again after a table change."""
    assert truth.requests is not None
    new = truth.requests["new"][6]
    if new is None or new == truth.claimed_new:
        return
    _set_claim(truth, new, rng)


def _set_claim(truth: GroundTruth, n: int, rng: random.Random) -> None:
    sentence = _claim(rng, n, truth.period_year, truth.organization.self_name)
    truth.sections["一"] = [p.replace(truth.claim_sentence, sentence) for p in truth.sections["一"]]
    truth.claim_sentence, truth.claimed_new = sentence, n


def _drop_appeals_note(truth: GroundTruth) -> None:
    if truth.appeals is not None and any(truth.appeals[b]["total"] for b in APPEAL_BLOCKS):
        truth.sections["四"] = [p for p in truth.sections["四"] if p != _NO_APPEALS_NOTE]


def _retarget(truth: GroundTruth, level: str, rng: random.Random) -> None:
    """Make the truth a report of another body of `level` (keeping the tables); regulations stay valid."""
    org = make_organization(rng, level)
    old = truth.organization
    truth.organization = org
    for numeral, paragraphs in truth.sections.items():
        truth.sections[numeral] = [
            p.replace(old.self_name, org.self_name)
            .replace(old.title_name, org.title_name)
            .replace(old.phone, org.phone)
            for p in paragraphs
        ]
    truth.preface = [p.replace(old.self_name, org.self_name) for p in truth.preface]
    truth.claim_sentence = truth.claim_sentence.replace(old.self_name, org.self_name)
    if truth.published is not None:
        truth.published = _published(rng, level, truth.period_year)
    if truth.active is not None and level not in REGULATION_LEVELS:
        truth.active["regulations"] = {"issued": 0, "repealed": 0, "in_force": 0}


def _renumber_subheads(paragraphs: list[str]) -> list[str]:
    result, index = [], 0
    for paragraph in paragraphs:
        if _SUBHEAD.match(paragraph):
            paragraph = f"（{_CHINESE_ORDINALS[index]}）{paragraph[3:]}"
            index += 1
        result.append(paragraph)
    return result


def _modify(truth: GroundTruth, kind: str, rng: random.Random) -> tuple[list[str], set[str]]:
    """Apply a single-year defect in place; returns (cells involved, optional rules)."""
    optional: set[str] = set()
    requests = truth.requests
    if (
        kind
        in (
            "requests.balance",
            "requests.total_row",
            "requests.total_column",
            "appeals.without_requests",
            "value.invalid",
            "structure.blank_cells",
            "narrative.contradicts_table",
        )
        and requests is None
    ):
        raise ValueError(f"{kind} needs table 三")
    if kind == "requests.balance":
        assert requests is not None
        delta = rng.randint(1, 5)
        columns = [6] if any(v is None for v in requests["carried_out"][:6]) else [rng.randrange(6), 6]
        for column in columns:
            requests["carried_out"][column] += delta  # type: ignore[operator]
        return [f"requests.carried_out[{c}]" for c in columns], optional
    if kind == "requests.total_row":
        assert requests is not None
        key = rng.choice(OUTCOME_KEYS)
        delta = rng.randint(1, 5)
        columns = [6] if any(v is None for v in requests[key][:6]) else [rng.randrange(6), 6]
        for column in columns:
            requests[key][column] += delta  # type: ignore[operator]
        return [f"requests.{key}[{c}]" for c in columns], optional
    if kind == "requests.total_column":
        assert requests is not None
        _filled(truth)
        column, delta = rng.randrange(6), rng.randint(1, 5)
        key = rng.choice(OUTCOME_KEYS)
        for row in ("new", "total", key):
            requests[row][column] += delta  # type: ignore[operator]
        return [f"requests.{row}[{column}]" for row in ("new", "total", key)], optional
    if kind == "appeals.totals":
        if truth.appeals is None:
            raise ValueError("appeals.totals needs table 四")
        block = rng.choice(tuple(APPEAL_BLOCKS))
        truth.appeals[block]["total"] = (truth.appeals[block]["total"] or 0) + rng.randint(1, 3)
        _drop_appeals_note(truth)
        return [f"appeals.{block}.total"], optional
    if kind == "appeals.without_requests":
        assert requests is not None and truth.appeals is not None
        for row in requests.values():
            row[:] = [None if v is None else 0 for v in row]
        truth.raw_cells = {p: t for p, t in truth.raw_cells.items() if not p.startswith("requests.")}
        upheld, pending = rng.randint(0, 2), rng.randint(0, 1)
        upheld = upheld or (0 if pending else 1)
        truth.appeals["review"] = {
            "upheld": upheld,
            "corrected": 0,
            "other": 0,
            "pending": pending,
            "total": upheld + pending,
        }
        truth.sections["六"] = [("本年度未收取信息处理费。" if "收费通知" in p else p) for p in truth.sections["六"]]
        _sync_claim(truth, rng)
        _drop_appeals_note(truth)
        return ["appeals.review.total"], optional
    if kind == "regulations.ineligible_issuer":
        if truth.active is None:
            raise ValueError("regulations.ineligible_issuer needs table 二")
        if truth.level in REGULATION_LEVELS:
            _retarget(truth, rng.choice(("township", "county", "department")), rng)
        issued = rng.randint(1, 3)
        truth.active["regulations"] = {"issued": issued, "repealed": 0, "in_force": issued + rng.randint(0, 3)}
        return ["active.regulations.issued", "active.regulations.in_force"], optional
    if kind == "structure.missing_section":
        if rng.random() < 0.5:
            truth.order = [n for n in truth.order if n != "五"]
            del truth.sections["五"]
        else:
            i, j = truth.order.index("五"), truth.order.index("六")
            truth.order[i], truth.order[j] = truth.order[j], truth.order[i]
        return [], optional
    if kind == "structure.missing_table":
        truth.appeals = None
        truth.sections["四"] = [_NO_APPEALS_NOTE] if rng.random() < 0.5 else []
        return [], optional
    if kind == "structure.blank_cells":
        candidates = [
            p for p, v in truth.cells().items() if v is not None and p not in truth.raw_cells and p not in _PROSE_CELLS
        ]
        chosen = sorted(rng.sample(candidates, rng.randint(1, 4)))
        for path in chosen:
            truth.set_cell(path, None)
        return chosen, optional
    if kind == "value.invalid":
        candidates = [p for p, v in truth.cells().items() if v is not None and p not in _PROSE_CELLS]
        path = rng.choice(candidates)
        text = rng.choice(INVALID_TEXTS)
        if text == "-1":  # a negative number is still a number: the cell holds it (and relations see it)
            truth.set_cell(path, -1.0 if path == "active.fees" else -1)
        else:  # text in a number cell: the cell is null, the text goes to `problems`
            truth.set_cell(path, None)
            truth.raw_cells[path] = text
        return [path], {"structure.blank_cells"}
    if kind == "narrative.contradicts_table":
        assert requests is not None
        new = requests["new"][6] or 0
        claimed = 0 if new and rng.random() < 0.4 else new + rng.randint(1, 5)
        _set_claim(truth, claimed, rng)
        return ["requests.new[6]"], optional
    if kind == "narrative.missing_topics":
        topic = rng.choice(("政府信息公开平台建设", "监督保障", "政府信息管理"))
        paragraphs, skipping = [], False
        for paragraph in truth.sections["一"]:
            if _SUBHEAD.match(paragraph):
                skipping = topic in paragraph
            if not skipping:
                paragraphs.append(paragraph)
        truth.sections["一"] = _renumber_subheads(paragraphs)
        return [], optional
    if kind == "fees.statement_missing":
        kept = [p for p in truth.sections["六"] if _FEE_WORD not in p]
        truth.sections["六"] = kept or ["无"]
        return [], optional
    if kind == "year.inconsistent":
        truth.show_title = True
        if not re.search("统计期限", truth.all_text()):
            truth.sections["六"].append(rng.choice(_PERIODS).format(year=truth.period_year))
        truth.year = truth.period_year + 1
        return [], {"publication.late"}
    if kind == "publication.late":
        if truth.level != "department":
            _retarget(truth, "department", rng)
        truth.show_title = True
        truth.published = f"{truth.period_year + 1}-03-02"
        return [], optional
    if kind == "structure.outdated_template":
        truth.procurement = (rng.randint(0, 30), round(rng.randint(0, 99999) / 100, 2))
        return [], optional
    if kind == "narrative.thin_section":
        truth.sections["五"] = [rng.choice(("无。", "无", "暂无。", "工作运行良好。"))]
        return [], optional
    if kind == "value.unit_suspect":
        if truth.active is None:
            raise ValueError("value.unit_suspect needs table 二")
        if truth.level != "township":
            _retarget(truth, "township", rng)
        truth.active["fees"] = float(rng.randint(6, 9999) * 100)  # yuan typed into the 万元 cell
        return ["active.fees"], optional
    raise ValueError(f"unknown defect kind {kind!r}")


def _expected(
    kind: str, before: dict[str, set[str]], after: dict[str, set[str]], cells: list[str], optional: set[str]
) -> Expected:
    rules = _changed_rules(before, after) | {kind}
    return Expected(
        kind=kind,
        rules=frozenset(rules),
        cells=tuple(cells),
        all_rules=frozenset(after),
        optional=frozenset(optional - rules),
        relation_cells={rule: frozenset(after[rule]) for rule in rules if rule in after},
    )


def plant(truth: GroundTruth, kind: str, rng: random.Random) -> tuple[GroundTruth, Expected]:
    """A modified copy of `truth` carrying one defect of `kind`, and what a correct checker must report.

    `Expected.rules` holds every rule id the change breaks (a change to one cell may break several relations).
    """
    if kind in SERIES_KINDS:
        raise ValueError(f"{kind} needs a series: use plant_series")
    modified = copy.deepcopy(truth)
    before = violations(truth)
    cells, optional = _modify(modified, kind, rng)
    return modified, _expected(kind, before, violations(modified), cells, optional)


def plant_series(series: Sequence[GroundTruth], kind: str, rng: random.Random) -> tuple[list[GroundTruth], Expected]:
    """A copy of the series whose last year carries a cross-year defect (or any single-year `kind`)."""
    if len(series) < 2:
        raise ValueError("a series needs at least two years")
    modified = [copy.deepcopy(t) for t in series]
    previous, last = modified[-2], modified[-1]
    if kind not in SERIES_KINDS:
        last_modified, expected = plant(last, kind, rng)
        modified[-1] = last_modified
        return modified, expected
    before = {**violations(last), **series_violations(previous, last)}
    optional: set[str] = set()
    if kind == "requests.carry_over_continuity":
        assert last.requests is not None
        delta = rng.randint(1, 4)
        columns = [6] if any(v is None for v in last.requests["carried_in"][:6]) else [rng.randrange(6), 6]
        for column in columns:  # keep the year balanced: the extra carried-in applications are carried out
            last.requests["carried_in"][column] += delta  # type: ignore[operator]
            last.requests["carried_out"][column] += delta  # type: ignore[operator]
        cells = [f"requests.carried_in[{c}]" for c in columns]
    elif kind == "regulations.in_force_continuity":
        assert last.active is not None
        last.active["normative_documents"]["in_force"] += rng.randint(1, 5)
        cells = ["active.normative_documents.in_force"]
    elif kind == "narrative.copied_from_prior_year":
        last.sections["五"] = list(previous.sections["五"])
        cells = []
    elif kind == "tables.copied_from_prior_year":
        if previous.active is None or previous.requests is None or previous.appeals is None:
            raise ValueError("tables.copied_from_prior_year needs tables 二, 三 and 四")
        if not any(previous.cells().values()):
            previous.active["licensing"] = 1
        last.active, last.requests, last.appeals = copy.deepcopy((previous.active, previous.requests, previous.appeals))
        last.raw_cells = dict(previous.raw_cells)
        _sync_claim(last, rng)
        last.sections["四"] = [p for p in last.sections["四"] if p != _NO_APPEALS_NOTE]
        last.sections["六"] = [p for p in previous.sections["六"] if "收费通知" in p] or last.sections["六"]
        cells = []
    else:  # pragma: no cover - guarded above
        raise ValueError(kind)
    after = {**violations(last), **series_violations(previous, last)}
    return modified, _expected(kind, before, after, cells, optional)


PEER_COPY = "narrative.copied_from_peer"


def plant_peer_copy(truth: GroundTruth, peer: GroundTruth, rng: random.Random) -> tuple[GroundTruth, Expected]:
    """A copy of `truth` whose part 五 is `peer`'s (another body's report of the same year) with the peer's name
    and self-reference made this body's and every figure changed: the copy narrative.copied_from_peer must find
    when the peer's report is stored or checked with it. The generator's own prose never makes two bodies' parts
    that alike, so this is the only way the rule fires on generated reports."""
    if peer.year != truth.year or (peer.name, peer.region) == (truth.name, truth.region):
        raise ValueError("a peer copy needs another body's report of the same year")
    if "五" not in peer.sections or "五" not in truth.sections:
        raise ValueError("a peer copy needs part 五 in both reports")
    modified = copy.deepcopy(truth)
    before = violations(truth)
    own, theirs = truth.organization, peer.organization

    def adapted(text: str) -> str:
        text = text.replace(theirs.title_name, own.title_name).replace(theirs.name, own.name)
        text = text.replace(theirs.self_name, own.self_name)
        return re.sub(r"\d", lambda _: str(rng.randint(1, 9)), text)

    modified.sections["五"] = [adapted(p) for p in peer.sections["五"]]
    return modified, _expected(PEER_COPY, before, violations(modified), [], set())


# --------------------------------------------------------------------------------------------------------------
# Rendering: shared pieces

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_ARABIC = dict(zip(SECTION_NUMERALS, "123456", strict=True))
_HEADINGS: dict[str, str] = {
    "一": "总体情况",
    "二": "主动公开政府信息情况",
    "三": "收到和处理政府信息公开申请情况",
    "四": "政府信息公开行政复议、行政诉讼情况",
    "五": "存在的主要问题及改进情况",
    "六": "其他需要报告的事项",
}
_FIVE_VARIANTS = ("存在的主要问题及改进情况", "政府信息公开工作存在的主要问题及改进情况", "存在问题及改进情况")
_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
_TOP_LABELS: dict[str, str] = {
    "new": "一、本年新收政府信息公开申请数量",
    "carried_in": "二、上年结转政府信息公开申请数量",
    "granted": "（一）予以公开",
    "partial": "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
    "total": "（七）总计",
    "carried_out": "四、结转下年度继续办理",
}
_GROUPS: dict[str, str] = {
    "denied": "（三）不予公开",
    "unavailable": "（四）无法提供",
    "rejected": "（五）不予处理",
    "other": "（六）其他处理",
}
_ITEM_LABELS: dict[str, str] = {
    "denied_secret": "1.属于国家秘密",
    "denied_law": "2.其他法律行政法规禁止公开",
    "denied_safety": "3.危及“三安全一稳定”",
    "denied_third_party": "4.保护第三方合法权益",
    "denied_internal": "5.属于三类内部事务信息",
    "denied_process": "6.属于四类过程性信息",
    "denied_enforcement": "7.属于行政执法案卷",
    "denied_query": "8.属于行政查询事项",
    "unavailable_not_held": "1.本机关不掌握相关政府信息",
    "unavailable_needs_creation": "2.没有现成信息需要另行制作",
    "unavailable_unclear": "3.补正后申请内容仍不明确",
    "rejected_petition": "1.信访举报投诉类申请",
    "rejected_repeat": "2.重复申请",
    "rejected_publication": "3.要求提供公开出版物",
    "rejected_excessive": "4.无正当理由大量反复申请",
    "rejected_confirmation": "5.要求行政机关确认或重新出具已获取信息",
    "other_no_correction": "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    "other_no_fee": "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    "other_other": "3.其他",
}
_APPLICANTS = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
_APPEAL_HEADS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")


def _group(key: str) -> str | None:
    prefix = key.split("_")[0]
    return _GROUPS.get(prefix) if key in _ITEM_LABELS else None


@dataclass(frozen=True)
class Style:
    """Typographic choices of one rendering."""

    fullwidth: float = 0.0  # share of integer cells written with full-width digits
    half_parens: bool = False  # (一) instead of （一）, : instead of ：
    item_sep: str = "."  # "1." or "1、" in the row labels of table 三
    arabic: frozenset[str] = frozenset()  # section numerals written "3、 …" (seed 001)
    zhengwu: bool = False  # "政务公开" in the Arabic-numbered headings (seed 001)
    indent: str = ""  # before section headings
    heading_gap: str = ""  # between "一、" and the heading text
    five: str = _HEADINGS["五"]
    pad: float = 0.0  # share of number cells with stray spaces around them
    fee_decimals: int | None = None  # None: as short as possible
    blank_lines: bool = True  # an empty line between lines (seed 000/002)


def make_style(rng: random.Random) -> Style:
    return Style(
        fullwidth=rng.choice((0.0, 0.0, 0.0, 0.3, 1.0)),
        half_parens=rng.random() < 0.25,
        item_sep=rng.choice((".", ".", ".", "、")),
        arabic=rng.choice((frozenset(), frozenset(), frozenset(), frozenset("三"), frozenset("三四五"))),
        zhengwu=rng.random() < 0.5,
        indent=rng.choice(("", "", "\u00a0\u00a0 ", "\u3000\u3000", "  ")),
        heading_gap=rng.choice(("", "", " ")),
        five=rng.choice(_FIVE_VARIANTS),
        pad=rng.choice((0.0, 0.0, 0.2, 0.6)),
        fee_decimals=rng.choice((None, None, 2, 4)),
        blank_lines=rng.random() < 0.7,
    )


def _half(text: str, style: Style) -> str:
    if not style.half_parens:
        return text
    return text.replace("（", "(").replace("）", ")").replace("：", ":").replace("，", ",")


def heading_text(numeral: str, style: Style) -> str:
    body = style.five if numeral == "五" else _HEADINGS[numeral]
    if numeral in style.arabic:
        if style.zhengwu:
            body = body.replace("政府信息公开", "政务公开")
        return f"{_ARABIC[numeral]}、 {body}"
    return f"{numeral}、{style.heading_gap}{body}"


def _label(key: str, style: Style) -> str:
    text = _TOP_LABELS.get(key) or _ITEM_LABELS[key]
    if key in _ITEM_LABELS and style.item_sep != ".":
        text = text.replace(".", style.item_sep, 1)
    return _half(text, style)


def _date_text(iso: str, rng: random.Random) -> str:
    date = datetime.date.fromisoformat(iso)
    return rng.choice(
        (f"{date.year}年{date.month}月{date.day}日", f"{date.year}年{date.month:02d}月{date.day:02d}日", iso)
    )


def _fee_text(value: float, style: Style) -> str:
    if style.fee_decimals is not None and round(value, style.fee_decimals) == value:
        return f"{value:.{style.fee_decimals}f}"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


class _Composer:
    """Walks a truth in document order; subclasses say how each piece looks."""

    def __init__(self, truth: GroundTruth, rng: random.Random, style: Style | None = None) -> None:
        self.truth = truth
        self.rng = rng
        self.style = style or make_style(rng)

    # -- values ------------------------------------------------------------------------------------------------
    def number(self, path: str, value: Any, *, pad: bool = False) -> str:
        raw = self.truth.raw_cells.get(path)
        if raw is not None:
            text = raw
        elif value is None:
            return ""
        elif isinstance(value, float):
            text = _fee_text(value, self.style)
        else:
            text = str(value)
            if self.rng.random() < self.style.fullwidth:
                text = text.translate(_FULLWIDTH)
        if pad and self.rng.random() < self.style.pad:
            text = self.rng.choice((" ", "\u3000", "\u00a0", "  ")) + text + self.rng.choice(("", " ", "\u3000"))
        return text

    def request_cells(self, key: str, *, pad: bool = False) -> list[str]:
        assert self.truth.requests is not None
        return [self.number(f"requests.{key}[{c}]", v, pad=pad) for c, v in enumerate(self.truth.requests[key])]

    def appeal_cells(self, *, pad: bool = False) -> list[str]:
        assert self.truth.appeals is not None
        return [
            self.number(f"appeals.{block}.{key}", self.truth.appeals[block][key], pad=pad)
            for block in APPEAL_BLOCKS
            for key in APPEAL_FIELDS
        ]

    def active_blocks(self, *, pad: bool = False) -> list[tuple[str, list[str], list[tuple[str, list[str]]]]]:
        """(block heading, header cells, [(row label, cells)]) for table 二, the 2019 block included."""
        active = self.truth.active
        assert active is not None
        s = self.style

        def item(n: str) -> str:
            return _half(f"第二十条第（{n}）项", s)

        def docs(row: str) -> list[str]:
            return [
                self.number(f"active.{row}.{k}", active[row][k], pad=pad) for k in ("issued", "repealed", "in_force")
            ]

        def one(key: str) -> list[str]:
            return [self.number(f"active.{key}", active[key], pad=pad)]

        blocks = [
            (
                item("一"),
                ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
                [("规章", docs("regulations")), ("行政规范性文件", docs("normative_documents"))],
            ),
            (item("五"), ["信息内容", "本年处理决定数量"], [("行政许可", one("licensing"))]),
            (
                item("六"),
                ["信息内容", "本年处理决定数量"],
                [("行政处罚", one("penalty")), ("行政强制", one("coercion"))],
            ),
            (
                item("八"),
                [
                    "信息内容",
                    _half(
                        self.rng.choice(("本年收费金额（单位：万元）", "本年收费金额（单位：万元，保留4位小数）")), s
                    ),
                ],
                [("行政事业性收费", one("fees"))],
            ),
        ]
        if self.truth.procurement is not None:
            count, amount = self.truth.procurement
            blocks.append(
                (
                    item("九"),
                    ["信息内容", "采购项目数量", _half("采购总金额（单位：万元）", s)],
                    [("政府集中采购", [str(count), _fee_text(amount, s)])],
                )
            )
        return blocks

    def paragraphs(self, numeral: str) -> list[str]:
        return [_half(p, self.style) for p in self.truth.sections.get(numeral, [])]

    def signature_date(self) -> str | None:
        return _date_text(self.truth.published, self.rng) if self.truth.published else None

    def title_block(self) -> list[str]:
        """Page chrome, then the title's lines."""
        return [*self.truth.head_lines, *self.title_only()]

    def title_only(self) -> list[str]:
        return list(self.truth.title_lines) if self.truth.title_lines is not None else [self.truth.title]


# --------------------------------------------------------------------------------------------------------------
# Text layouts


def _wrap(text: str, width: int, measure: Callable[[str], float] = len) -> list[str]:
    """Break prose into lines of at most `width`, preferring breaks after punctuation (so that short clauses,
    such as the sentence stating the number of applications, are never cut)."""
    lines: list[str] = []
    clauses = re.findall(r"[^，。；：！？]*[，。；：！？]?", text)
    current = ""
    for clause in (c for c in clauses if c):
        if measure(current + clause) <= width:
            current += clause
            continue
        if current:
            lines.append(current)
        current = clause
        while measure(current) > width:
            cut = len(current)
            while cut > 1 and measure(current[:cut]) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines or [""]


class _SpacesComposer(_Composer):
    """Seed 000: space-separated rows, wrapped labels and header words, table 四 as one line of 15 numbers."""

    def __init__(
        self,
        truth: GroundTruth,
        rng: random.Random,
        style: Style | None = None,
        *,
        width: float = 62,
        measure: Callable[[str], float] = len,
    ) -> None:
        super().__init__(truth, rng, style)
        self.width, self.measure = width, measure
        self.lines: list[str] = []
        self.lookalike_subheads = rng.random() < 0.2  # seed 000's "一、加强组织领导" inside section 一
        self.heading_first = truth.show_title and rng.random() < 0.15  # seed 000: "一、总体情况" before the title

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    def render_lines(self) -> list[str]:
        t = self.truth
        if self.heading_first and t.order and t.order[0] == "一":
            self.emit(" " + heading_text("一", self.style))
        if t.show_title:
            self.emit(*(_half(line, self.style) for line in self.title_block()))
        for paragraph in t.preface:
            self.prose(paragraph)
        for numeral in t.order:
            if not (numeral == "一" and self.heading_first):
                self.emit(self.style.indent + heading_text(numeral, self.style))
            for paragraph in self.paragraphs(numeral):
                if numeral == "一" and self.lookalike_subheads and _SUBHEAD.match(paragraph):
                    paragraph = f"{paragraph[1]}、{paragraph[3:].rstrip('：:')}"
                self.prose(paragraph)
            if numeral == "二" and t.active is not None:
                self.active()
            if numeral == "三" and t.requests is not None:
                self.requests()
            if numeral == "四" and t.appeals is not None:
                self.appeals()
        if t.show_title and (t.published or t.signed):
            self.emit(t.signer, self.signature_date() or "")
        return self.lines

    def prose(self, text: str) -> None:
        self.emit(*_wrap(text, int(self.width), self.measure))

    def row(self, label: str, cells: list[str]) -> None:
        numbers = " ".join(cell or " " for cell in cells)
        line = f"{label} {numbers}"
        if self.measure(line) <= self.width and len(label) <= 30:
            self.emit(line)
            return
        first = label[:30]
        while self.measure(first) > self.width:
            first = first[:-1]
        self.emit(first)
        rest = label[len(first) :]
        if rest:
            self.emit(rest)
        self.lines.append("\u2063" + numbers)  # follows the label with a single newline (seed 000)

    def active(self) -> None:
        for heading, header, rows in self.active_blocks():
            self.emit(heading, " ".join(header))
            for label, cells in rows:
                self.emit(f"{label} {' '.join(cells)}")

    def requests(self) -> None:
        s = self.style
        self.emit(
            _half(_NOTE, s),
            "申请人情况",
            "自然人",
            "法人或其他组织",
            "总计",
            "商业企业 科研机构",
            "社会公益",
            "组织",
            "法律服务",
            "\u2063机构",
            "\u2063其他",
        )
        seen: set[str] = set()
        for key in REQUEST_KEYS:
            if key == "granted":
                self.emit(" 三、本年度办理", "结果")
            group = _group(key)
            if group and group not in seen:
                seen.add(group)
                text = _half(group, s)
                self.emit(text[:5], text[5:])
            self.row(_label(key, s), self.request_cells(key))

    def appeals(self) -> None:
        heads = " ".join(_APPEAL_HEADS)
        self.emit(
            "行政复议 行政诉讼",
            heads,
            "未经复议直接起诉 复议后起诉",
            f"{heads} {heads}",
            " ".join(c or " " for c in self.appeal_cells()),
        )


def _join_lines(lines: list[str], blank_lines: bool) -> str:
    """Lines with an empty line between them, except where a line is marked to follow directly (U+2063)."""
    out: list[str] = []
    for line in lines:
        if line.startswith("\u2063"):
            out.append("\n" + line[1:])
        elif out:
            out.append(("\n\n" if blank_lines else "\n") + line)
        else:
            out.append(line)
    return "".join(out) + "\n"


def render_spaces(truth: GroundTruth, rng: random.Random) -> str:
    """Seed 000's layout: text pulled out of a PDF, rows space-separated, labels and header words wrapped."""
    composer = _SpacesComposer(truth, rng)
    return _join_lines(composer.render_lines(), composer.style.blank_lines)


class _TabsComposer(_Composer):
    """Seed 001: one cell per line, every line tab-led, blank cells a tab + NBSP, empty lines between rows."""

    # How often one row's 总计 cell wraps onto a line of its own ("\t\u00a0", "", "3"), as in seed 001.
    wrap_chance = 0.5

    def render(self) -> str:
        t, s = self.truth, self.style
        out: list[str] = []
        if t.show_title:
            out += [*self.title_block(), ""]
        for paragraph in t.preface:
            out += [" " + paragraph, ""]
        for numeral in t.order:
            indent = s.indent if numeral != "一" else ""
            out += [indent + heading_text(numeral, s), ""]
            for paragraph in self.paragraphs(numeral):
                out += [paragraph, ""]
            if numeral == "二" and t.active is not None:
                out += self.active()
            if numeral == "三" and t.requests is not None:
                out += self.requests()
            if numeral == "四" and t.appeals is not None:
                out += self.appeals()
            out.append("")
        if t.show_title and (t.published or t.signed):
            out += [t.signer, self.signature_date() or ""]
        return "\n".join(out) + "\n"

    def cell(self, text: str) -> str:
        if not text:
            return "\t\u00a0"
        return "\t" + self.rng.choice(("\u00a0", "\u00a0", "", "\u3000       \u3000", "\u00a0           ")) + text

    def active(self) -> list[str]:
        out: list[str] = []
        for heading, header, rows in self.active_blocks():
            out += ["\t" + heading, ""]
            out += ["\t" + h for h in header] + [""]
            for label, cells in rows:
                out += ["\t" + label] + [self.cell(c) for c in cells] + [""]
        return out

    def requests(self) -> list[str]:
        s = self.style
        out = [
            "\t" + _half(_NOTE, s),
            "\t申请人情况",
            "",
            "\t",
            "\t自然人",
            "\t法人或其他组织",
            "\t总计",
            "",
            "\t",
            "\t",
            "\t商业\n企业",
            "\t科研\n机构",
            "\t社会公益组织",
            "\t法律服务机构",
            "\t其他",
            "\t",
            "",
        ]
        wrapped_row = self.rng.choice(REQUEST_KEYS) if self.rng.random() < self.wrap_chance else None
        seen: set[str] = set()
        for key in REQUEST_KEYS:
            lead: list[str] = []
            if key == "granted":
                lead = ["\t三、本年度办理结果"]
            elif key in OUTCOME_KEYS or key == "total":
                lead = ["\t"]
            group = _group(key)
            if group and group not in seen:
                seen.add(group)
                lead.append("\t" + _half(group, s))
            elif group:
                lead.append("\t")
            cells = [self.cell(c) for c in self.request_cells(key)]
            if key == wrapped_row and cells[-1].strip("\t\u00a0\u3000 "):
                # the last cell's number wrapped onto a following line of its own (seed 001)
                cells[-1] = "\t\u00a0\n\n" + cells[-1].strip("\t\u00a0\u3000 ")
            out += [*lead, "\t" + _label(key, s), *cells, ""]
        return out

    def appeals(self) -> list[str]:
        heads = ["\t结果维持", "\t结果\n纠正", "\t其他\n结果", "\t尚未\n审结", "\t总计"]
        out = [
            "\t行政复议",
            "\t行政诉讼",
            "",
            *heads,
            "\t未经复议直接起诉",
            "\t复议后起诉",
            "",
            "\t",
            "\t",
            "\t",
            "\t",
            "\t",
            "\t结果\n维持",
            *heads[1:],
            "\t结果\n维持",
            *heads[1:],
            "",
        ]
        out += [self.cell(c) for c in self.appeal_cells()]
        return [*out, ""]


def render_cell_lines_tabs(truth: GroundTruth, rng: random.Random) -> str:
    """Seed 001's layout (a Word table pasted as text)."""
    return _TabsComposer(truth, rng).render()


class _BlankLinesComposer(_Composer):
    """Seed 002: a web page's text, one cell per line between blank lines, half-width parentheses."""

    def __init__(self, truth: GroundTruth, rng: random.Random, style: Style | None = None) -> None:
        super().__init__(truth, rng, style or replace(make_style(rng), half_parens=True))

    def render(self) -> str:
        t, s = self.truth, self.style
        out: list[str] = []
        if t.show_title:
            out += self.title_block()
            out += (
                ["撰写时间", self.rng.choice((f"{t.published} 16:12:21", f"{self.signature_date()} 09:30:00"))]
                if t.published
                else []
            )
            out += ["来源", t.title_name, "编辑", f"{t.region or ''}-{t.name}".lstrip("-")]
            out += self.title_only()
        for paragraph in t.preface:
            out.append(_half(paragraph, s))
        for numeral in t.order:
            out.append(s.indent + heading_text(numeral, s))
            out += self.paragraphs(numeral)
            if numeral == "二" and t.active is not None:
                for heading, header, rows in self.active_blocks(pad=True):
                    out += [heading, *header]
                    for label, cells in rows:
                        out += [label, *(c or "\u00a0" for c in cells)]
            if numeral == "三" and t.requests is not None:
                out += [
                    _half(_NOTE, s),
                    "申请人情况",
                    "自然人",
                    "法人或其他组织",
                    "总计",
                    "商业",
                    "企业",
                    "科研",
                    "机构",
                    "社会公益组织",
                    "法律服务机构",
                    "其他",
                ]
                seen: set[str] = set()
                for key in REQUEST_KEYS:
                    if key == "granted":
                        out.append("三、本年度办理结果")
                    group = _group(key)
                    if group and group not in seen:
                        seen.add(group)
                        out.append(_half(group, s))
                    out += [_label(key, s), *(c or "\u00a0" for c in self.request_cells(key, pad=True))]
            if numeral == "四" and t.appeals is not None:
                words = ["结果维持", "结果", "纠正", "其他", "结果", "尚未", "审结", "总计"]
                out += [
                    "行政复议",
                    "行政诉讼",
                    *words,
                    "未经复议直接起诉",
                    "复议后起诉",
                    "结果",
                    "维持",
                    *words[1:],
                    "结果",
                    "维持",
                    *words[1:],
                ]
                out += [self.rng.choice((" ", "", "")) + (c or "\u00a0") for c in self.appeal_cells()]
        if t.show_title and (t.published or t.signed or t.signature_name is None):
            out.append(" " * 54 + t.signer)
            if t.published:
                out.append(" " * 57 + (self.signature_date() or ""))
        return "\n\n".join(out) + "\n"


def render_cell_lines_blank(truth: GroundTruth, rng: random.Random) -> str:
    """Seed 002's layout (text copied from a web page)."""
    return _BlankLinesComposer(truth, rng).render()


class _TsvComposer(_Composer):
    """Seeds 003 and 004: tab-separated table rows with merged-cell shifts."""

    markdown = False

    def render(self) -> str:
        t, s = self.truth, self.style
        out: list[str] = ["", ""] if not self.markdown else []
        levels = self.rng.sample(("##", "###", "####"), 3) if self.markdown else []
        signed = False
        if t.show_title:
            title = t.title if self.rng.random() < 0.6 else f"{t.title_name} {t.year} 年 政府信息公开工作年度报告"
            lines = [*t.head_lines, *(t.title_lines if t.title_lines is not None else [title])]
            out += [*lines[:-1], ("# " if self.markdown else "") + lines[-1], ""]
            if t.published and self.rng.random() < 0.5:
                out += [f"发布日期：{self.signature_date()}", ""]
                signed = True
        for paragraph in t.preface:
            out += [_half(paragraph, s), ""]
        for index, numeral in enumerate(t.order):
            prefix = f"{levels[min(index // 2, 2)]} " if self.markdown else s.indent
            out += [prefix + heading_text(numeral, s), ""]
            for paragraph in self.paragraphs(numeral):
                if self.markdown and _SUBHEAD.match(paragraph):
                    paragraph = f"{'#' * (len(prefix.strip()) + 1)} {paragraph}"
                elif self.markdown and re.match(r"^\d\.", paragraph):
                    paragraph = f"- {paragraph[2:]}"
                out += [paragraph, ""]
            if numeral == "二" and t.active is not None:
                out += [*self.active(), ""]
            if numeral == "三" and t.requests is not None:
                out += [*self.requests(), ""]
            if numeral == "四" and t.appeals is not None:
                out += [*self.appeals(), ""]
        if t.show_title and ((t.published and not signed) or t.signed):
            out += [t.signer, self.signature_date() or ""]
        return "\n".join(out).rstrip("\n") + ("\n" if self.rng.random() < 0.5 else "")

    def active(self) -> list[str]:
        out: list[str] = []
        for heading, header, rows in self.active_blocks(pad=True):
            out.append(heading + "\t\t\t")
            out.append("\t".join(header + [""] * (4 - len(header))))
            for label, cells in rows:
                out.append("\t".join([label, *cells] + [""] * (3 - len(cells))))
        return out

    def requests(self) -> list[str]:
        s = self.style
        lead = "\t\t" if self.markdown else "\t"
        tail = "\t" if self.markdown else ""
        out = [
            f"{_half(_NOTE, s).replace('（', '(').replace('）', ')')}{lead}申请人情况\t\t\t\t\t\t总计{tail}",
            f"{lead[:-1]}\t自然人\t法人或其他组织\t\t\t\t\t{tail}",
            f"{lead}\t" + "\t".join(_APPLICANTS) + f"\t{tail}",
        ]
        seen: set[str] = set()
        for key in REQUEST_KEYS:
            cells = self.request_cells(key, pad=True)
            blank = any(not c for c in cells)
            label = _label(key, s)
            if not blank and self.rng.random() < 0.3:  # seed 003: "(一) 予以公开", "1. 申请人…"
                label = re.sub(r"^([（(][一二三四五六七][）)]|\d[.、])", r"\1 ", label)
            group = _group(key)
            first_of_group = bool(group) and group not in seen
            if group:
                seen.add(group)
            if blank:  # a clean 10-column grid: labels in columns 0-2, the seven cells in 3-9
                if key in ("new", "carried_in", "carried_out"):
                    prefix = [label, "", ""]
                elif key == "granted":
                    prefix = ["三、本年度办理结果", label, ""]
                elif key in ("partial", "total"):
                    prefix = ["", label, ""]
                else:
                    prefix = ["", _half(group, s) if first_of_group else "", label]  # type: ignore[arg-type]
                out.append("\t".join(prefix + cells))
                continue
            numbers = "\t".join(cells)
            if key in ("new", "carried_in"):
                out.append(f"{label}{lead}{numbers}{tail}")
            elif key == "granted":
                out.append(
                    f"{self.rng.choice(('三、 本年度 办理结果', '三、本年度办理结果'))}\t{label}\t\t{numbers}{tail}"
                )
            elif key == "partial":
                out.append(f"\t{label}\t\t{numbers}{tail}")
            elif key in ("other_other", "total", "carried_out"):
                out.append(f"{label}\t\t{numbers}\t")
            else:
                out.append(f"\t{_half(group, s) if first_of_group else ''}\t{label}\t{numbers}")  # type: ignore
        return out

    def appeals(self) -> list[str]:
        heads = "\t".join(_APPEAL_HEADS)
        out = [
            "行政复议\t\t\t\t\t行政诉讼" + "\t" * 9,
            f"{heads}\t未经复议直接起诉\t\t\t\t\t复议后起诉\t\t\t\t",
            f"\t\t\t\t\t{heads}\t{heads}",
        ]
        if not self.markdown:
            out.append("")
        out.append("\t".join(self.appeal_cells(pad=True)))
        if not self.markdown:
            out.append("\t".join(["---"] * 15))
        return out


class _MarkdownComposer(_TsvComposer):
    markdown = True


def render_tsv_shifted(truth: GroundTruth, rng: random.Random) -> str:
    """Seed 003's layout: tab-separated rows with merged-cell shifts and a `---` line after table 四."""
    return _TsvComposer(truth, rng).render()


def render_markdown(truth: GroundTruth, rng: random.Random) -> str:
    """Seed 004's layout: Markdown headings of varying levels, tables as tab-separated rows."""
    return _MarkdownComposer(truth, rng).render()


# --------------------------------------------------------------------------------------------------------------
# Tables with merged cells (HTML and Word)


@dataclass(frozen=True)
class SpanCell:
    text: str
    rowspan: int = 1
    colspan: int = 1
    header: bool = False


SpanTable = list[list[SpanCell]]


def _span_active(composer: _Composer, *, one_table: bool) -> list[SpanTable]:
    tables: list[SpanTable] = []
    rows: SpanTable = []
    for heading, header, body in composer.active_blocks(pad=True):
        width = 4
        block: SpanTable = [[SpanCell(heading, colspan=width, header=True)]]
        head = [SpanCell(h, header=True) for h in header]
        head[-1] = replace(head[-1], colspan=width - len(header) + 1)
        block.append(head)
        for label, cells in body:
            row = [SpanCell(label)] + [SpanCell(c) for c in cells]
            row[-1] = replace(row[-1], colspan=width - len(cells))
            block.append(row)
        if one_table:
            rows += block
        else:
            tables.append(block)
    return [rows] if one_table else tables


def _span_requests(composer: _Composer) -> SpanTable:
    s = composer.style
    rows: SpanTable = [
        [SpanCell(_half(_NOTE, s), 3, 3, True), SpanCell("申请人情况", colspan=7, header=True)],
        [
            SpanCell("自然人", rowspan=2, header=True),
            SpanCell("法人或其他组织", colspan=5, header=True),
            SpanCell("总计", rowspan=2, header=True),
        ],
        [SpanCell(a, header=True) for a in _APPLICANTS],
    ]
    group_sizes = {g: sum(1 for k in _ITEM_LABELS if _group(k) == g) for g in _GROUPS.values()}
    seen: set[str] = set()
    for key in REQUEST_KEYS:
        cells = [SpanCell(c) for c in composer.request_cells(key, pad=True)]
        label = _label(key, s)
        if key in ("new", "carried_in", "carried_out"):
            rows.append([SpanCell(label, colspan=3), *cells])
            continue
        row: list[SpanCell] = []
        if key == "granted":
            row.append(SpanCell("三、本年度办理结果", rowspan=len(OUTCOME_KEYS) + 1))
        group = _group(key)
        if group is None:
            row.append(SpanCell(label, colspan=2))
        else:
            if group not in seen:
                seen.add(group)
                row.append(SpanCell(_half(group, s), rowspan=group_sizes[group]))
            row.append(SpanCell(label))
        rows.append(row + cells)
    return rows


def _span_appeals(composer: _Composer) -> SpanTable:
    heads = list(_APPEAL_HEADS)
    return [
        [SpanCell("行政复议", colspan=5, header=True), SpanCell("行政诉讼", colspan=10, header=True)],
        [
            *(SpanCell(h, rowspan=2, header=True) for h in heads),
            SpanCell("未经复议直接起诉", colspan=5, header=True),
            SpanCell("复议后起诉", colspan=5, header=True),
        ],
        [SpanCell(h, header=True) for h in heads * 2],
        [SpanCell(c) for c in composer.appeal_cells(pad=True)],
    ]


def grid_positions(table: SpanTable) -> tuple[list[tuple[int, int, SpanCell]], int, int]:
    """(row, column, cell) of every cell laid out as a browser would, and the grid's size."""
    taken: set[tuple[int, int]] = set()
    placed: list[tuple[int, int, SpanCell]] = []
    width = 0
    for r, row in enumerate(table):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
            width = max(width, c)
    height = max(r for r, _ in taken) + 1 if taken else 0
    return placed, height, width


class _HtmlComposer(_Composer):
    def render(self) -> str:
        t, s, rng = self.truth, self.style, self.rng
        esc = html.escape
        heading_tag = rng.choice(("h2", "h3", "p-strong", "p"))
        body: list[str] = []
        signed = False
        if t.show_title:
            body += [f'<div class="crumb">{esc(line)}</div>' for line in t.head_lines]
            body += [f'<h1 class="title">{esc(line)}</h1>' for line in self.title_only()]
            if t.published and rng.random() < 0.6:
                body.append(
                    f'<div class="info"><span>发布时间：{esc(self.signature_date() or "")}</span>'
                    f"<span>来源：{esc(t.title_name)}</span></div>"
                )
                signed = True
        body.append('<div class="article-content">')
        for paragraph in t.preface:
            body.append(f'<p style="text-indent:2em">{esc(paragraph)}</p>')
        one_table = rng.random() < 0.5
        for numeral in t.order:
            text = esc(heading_text(numeral, s))
            indent = s.indent.replace("\u00a0", "&nbsp;")
            if heading_tag == "p-strong":
                body.append(f"<p>{indent}<strong>{text}</strong></p>")
            elif heading_tag == "p":
                body.append(f'<p style="text-indent:2em">{indent}{text}</p>')
            else:
                body.append(f"<{heading_tag}>{text}</{heading_tag}>")
            for paragraph in self.paragraphs(numeral):
                body.append(f'<p style="text-indent:2em">{esc(paragraph)}</p>')
            if numeral == "二" and t.active is not None:
                body += [self.table(table) for table in _span_active(self, one_table=one_table)]
            if numeral == "三" and t.requests is not None:
                body.append(self.table(_span_requests(self)))
            if numeral == "四" and t.appeals is not None:
                body.append(self.table(_span_appeals(self)))
        if t.show_title and ((t.published and not signed) or t.signed):
            body.append(f'<p style="text-align:right">{esc(t.signer)}</p>')
            body.append(f'<p style="text-align:right">{esc(self.signature_date() or "")}</p>')
        body.append("</div>")
        meta = rng.choice(
            ('<meta charset="utf-8">', '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">')
        )
        title = esc(t.title) if t.show_title else "政府信息公开工作年度报告"
        return (
            '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n' + meta + f"\n<title>{title}</title>\n</head>\n"
            "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
        )

    def table(self, table: SpanTable) -> str:
        rng = self.rng
        wrap = rng.choice(("plain", "p", "p-span"))
        lines = ['<table border="1" cellspacing="0" cellpadding="0" style="border-collapse:collapse">', "<tbody>"]
        for row in table:
            cells = []
            for cell in row:
                attributes = ""
                if cell.rowspan > 1:
                    attributes += f' rowspan="{cell.rowspan}"'
                if cell.colspan > 1:
                    attributes += f' colspan="{cell.colspan}"'
                text = html.escape(cell.text).replace("\u00a0", "&nbsp;")
                if text and wrap == "p":
                    text = f'<p style="text-align:center">{text}</p>'
                elif text and wrap == "p-span":
                    text = f'<p><span style="font-family:宋体">{text}</span></p>'
                tag = "th" if cell.header and rng.random() < 0.3 else "td"
                cells.append(f"<{tag}{attributes}>{text}</{tag}>")
            lines.append("<tr>" + "".join(cells) + "</tr>")
        lines += ["</tbody>", "</table>"]
        return "\n".join(lines)


def render_html(truth: GroundTruth, rng: random.Random) -> str:
    """A web page: headings and paragraphs, the tables as real `<table>`s with rowspan/colspan like the form."""
    return _HtmlComposer(truth, rng).render()


class _DocxComposer(_Composer):
    def render(self) -> bytes:
        from docx import Document
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        t, s, rng = self.truth, self.style, self.rng
        document = Document()
        as_heading = rng.random() < 0.5
        if t.show_title:
            for line in t.head_lines:
                document.add_paragraph(line)
            as_title = rng.random() < 0.5
            for line in self.title_only():
                if as_title:
                    document.add_paragraph(line)._p.style = "Title"  # add_heading looks styles up by name: slow
                else:
                    paragraph = document.add_paragraph()
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                    paragraph.add_run(line).bold = True
        for text in t.preface:
            document.add_paragraph(text)
        one_table = rng.random() < 0.5
        for numeral in t.order:
            text = heading_text(numeral, s)
            if as_heading:
                document.add_paragraph(text)._p.style = "Heading1"
            else:
                document.add_paragraph().add_run(s.indent + text).bold = True
            for paragraph in self.paragraphs(numeral):
                document.add_paragraph(paragraph)
            tables: list[SpanTable] = []
            if numeral == "二" and t.active is not None:
                tables = _span_active(self, one_table=one_table)
            if numeral == "三" and t.requests is not None:
                tables = [_span_requests(self)]
            if numeral == "四" and t.appeals is not None:
                tables = [_span_appeals(self)]
            for table in tables:
                self.table(document, table)
        if t.show_title and (t.published or t.signed):
            for text in (t.signer, self.signature_date() or ""):
                paragraph = document.add_paragraph(text)
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    @staticmethod
    def table(document: Any, table: SpanTable) -> None:
        """The table with Word's own merge markup (gridSpan, vMerge), written directly: `_Cell.merge` is slow."""
        placed, height, width = grid_positions(table)
        # Document.add_table looks its style up by name on every call (slow): the body adds the bare table.
        word_table = document._body.add_table(height, width, document._block_width)
        word_table._tbl.tblPr.style = "TableGrid"
        origin = {(r, c): cell for r, c, cell in placed}
        covered: dict[tuple[int, int], tuple[int, SpanCell]] = {}  # grid slot -> (origin column, cell)
        for r, c, cell in placed:
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    covered[(r + dr, c + dc)] = (c, cell)
        for r, word_row in enumerate(word_table.rows):
            tcs = list(word_row._tr.tc_lst)
            for c, tc in enumerate(tcs):
                start, cell = covered.get((r, c), (c, SpanCell("")))
                if c != start:
                    word_row._tr.remove(tc)  # swallowed by the gridSpan of the slot on its left
                    continue
                if cell.colspan > 1:
                    tc.grid_span = cell.colspan
                if cell.rowspan > 1:
                    tc.vMerge = "restart" if (r, c) in origin else "continue"
                if (r, c) in origin and cell.text:
                    tc.p_lst[0].add_r().text = cell.text


def render_docx(truth: GroundTruth, rng: random.Random) -> bytes:
    """A Word document built with python-docx; the tables merged like the official form."""
    return _DocxComposer(truth, rng).render()


_WORD_PART = "word/document.xml"
_PACKAGE_RELATIONSHIPS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="word/document.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)


def docx_around(part: str) -> bytes:
    """The smallest docx package holding `part` as its main part: the relationships naming it, and the part in
    UTF-8 (a lone surrogate kept as its bytes, for readers to meet)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_rels/.rels", _PACKAGE_RELATIONSHIPS)
        archive.writestr(_WORD_PART, part.encode("utf-8", "surrogatepass"))
    return buffer.getvalue()


_WORD_TAG = re.compile(
    r"<w:p>|<w:p/>|<w:r>|<w:tr>|<w:tbl>|</w:tbl>|</w:p>|<w:t(?: xml:space=\"preserve\")?>([^<]*)</w:t>"
)


def wordlike_docx(data: bytes, rng: random.Random) -> bytes:
    """A python-docx document rewritten with the markup Word itself adds, which changes no text: revision ids
    (rsid) on paragraphs, runs and rows, Word 2010's paragraph ids (w14:paraId, w14:textId), proofing marks
    around runs, bookmarks (in paragraphs, around tables and in rows), the place a page broke when last laid out,
    language and East Asian font hints in run properties, row heights in row properties, and texts split over
    runs. It reads as the document it was made from."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    sessions = [f"{rng.randrange(1 << 24):08X}" for _ in range(rng.randint(1, 4))]
    heights = [rng.randrange(300, 900) for _ in range(rng.randint(1, 2))]
    bookmarks = iter(range(1, 1 << 30))

    def paragraph_ids() -> str:
        rsid = rng.choice(sessions)
        return (
            f' w:rsidR="{rsid}" w:rsidRDefault="{rsid}" w14:paraId="{rng.randrange(1 << 31):08X}"'
            f' w14:textId="{rng.randrange(1 << 31):08X}"'
        )

    def run_start() -> str:
        attributes = f' w:rsidRPr="{rng.choice(sessions)}"' if rng.random() < 0.5 else ""
        return f"<w:r{attributes}>"

    def word(match: re.Match[str]) -> str:
        tag = match.group()
        if tag == "<w:p>":
            return f"<w:p{paragraph_ids()}>"
        if tag == "<w:p/>":
            return f"<w:p{paragraph_ids()}/>"
        if tag == "<w:r>":
            mark = rng.random()
            if mark < 0.15:
                return f'<w:proofErr w:type="spellStart"/>{run_start()}'
            if mark < 0.2:
                return f'<w:proofErr w:type="gramEnd"/>{run_start()}'
            return run_start()
        if tag == "<w:tr>":
            ids = f' w:rsidR="{rng.choice(sessions)}" w14:paraId="{rng.randrange(1 << 31):08X}" w14:textId="77777777"'
            height = f'<w:trPr><w:trHeight w:val="{rng.choice(heights)}"/></w:trPr>' if rng.random() < 0.7 else ""
            bookmark = f'<w:bookmarkStart w:id="{next(bookmarks)}" w:name="_Hlk{rng.randrange(10**8)}"/>'
            return f"<w:tr{ids}>{height}{bookmark if rng.random() < 0.02 else ''}"
        if tag == "<w:tbl>":
            number = next(bookmarks)
            if rng.random() < 0.3:
                return f'<w:bookmarkStart w:id="{number}" w:name="_Toc{rng.randrange(10**9)}"/><w:tbl>'
            return tag
        if tag == "</w:tbl>":
            return f'</w:tbl><w:bookmarkEnd w:id="{rng.randrange(1, 99)}"/>' if rng.random() < 0.3 else tag
        if tag == "</w:p>":
            if rng.random() < 0.05:
                number = next(bookmarks)
                return f'<w:bookmarkStart w:id="{number}" w:name="_GoBack"/><w:bookmarkEnd w:id="{number}"/></w:p>'
            if rng.random() < 0.1:
                return '<w:proofErr w:type="spellEnd"/></w:p>'
            return tag
        text = match.group(1)
        hints = '<w:rPr><w:rFonts w:hint="eastAsia"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr>'
        broke = "<w:lastRenderedPageBreak/>" if rng.random() < 0.05 else ""
        cut = rng.randrange(len(text) + 1)
        while cut < len(text) and "&" in text[max(cut - 5, 0) : cut]:  # not inside an entity
            cut += 1
        if len(text) < 2 or cut in (0, len(text)) or rng.random() < 0.5:
            return f"{broke}{_word_text(text)}"
        return f"{broke}{_word_text(text[:cut])}</w:r>{run_start()}{hints}{_word_text(text[cut:])}"

    part = _WORD_TAG.sub(word, archive.read(_WORD_PART).decode("utf-8"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in archive.infolist():
            target.writestr(info, part.encode("utf-8") if info.filename == _WORD_PART else archive.read(info))
    return buffer.getvalue()


def _word_text(text: str) -> str:
    """A run's text as Word writes it: spaces at its ends kept by xml:space."""
    preserve = ' xml:space="preserve"' if text != text.strip(" ") else ""
    return f"<w:t{preserve}>{text}</w:t>"


_PDF_FONT = "STSong-Light"


def render_pdf(truth: GroundTruth, rng: random.Random) -> bytes:
    """A PDF (reportlab, CID font STSong-Light) whose tables are drawn as space-separated text lines (seed 000)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if _PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(_PDF_FONT))
    size, margin = 10.5, 56
    page_width, page_height = A4
    usable = page_width - 2 * margin

    def measure(text: str) -> float:
        return pdfmetrics.stringWidth(text, _PDF_FONT, size)

    style = replace(make_style(rng), pad=0.0, indent="")
    composer = _SpacesComposer(truth, rng, style, width=usable, measure=measure)
    lines = [line.removeprefix("\u2063") for line in composer.render_lines()]
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(truth.title if truth.show_title else "政府信息公开工作年度报告")
    y = page_height - margin
    for line in lines:
        if y < margin:
            pdf.showPage()
            y = page_height - margin
        pdf.setFont(_PDF_FONT, size)
        pdf.drawString(margin + (2 * size if line.startswith(" ") else 0), y, line.strip(" "))
        y -= size * 1.6
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------------------
# Layouts and encodings

Renderer = Callable[[GroundTruth, random.Random], str | bytes]

LAYOUTS: dict[str, Renderer] = {
    "spaces": render_spaces,
    "cell_lines_tabs": render_cell_lines_tabs,
    "cell_lines_blank": render_cell_lines_blank,
    "tsv_shifted": render_tsv_shifted,
    "markdown": render_markdown,
    "html": render_html,
    "docx": render_docx,
    "pdf": render_pdf,
}
FILE_SUFFIX: dict[str, str] = {
    "spaces": "txt",
    "cell_lines_tabs": "txt",
    "cell_lines_blank": "txt",
    "tsv_shifted": "txt",
    "markdown": "md",
    "html": "html",
    "docx": "docx",
    "pdf": "pdf",
}
TEXT_LAYOUTS: tuple[str, ...] = ("spaces", "cell_lines_tabs", "cell_lines_blank", "tsv_shifted", "markdown")
# Layouts in which a blank cell stays distinguishable from its neighbours (space-separated rows and
# one-cell-per-line text between blank lines lose blank cells, as real extractions do).
BLANK_CAPABLE: frozenset[str] = frozenset({"cell_lines_tabs", "tsv_shifted", "markdown", "html", "docx"})
ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "gb18030")
NEWLINES: tuple[str, ...] = ("\n", "\r\n")


def encode_as(text: str, encoding: str, newline: str = "\n") -> bytes:
    return text.replace("\n", newline).encode(encoding)


def encode(text: str, rng: random.Random) -> bytes:
    """The text as a file's bytes: UTF-8, UTF-8 with BOM or GB18030, with LF or CRLF line ends."""
    return encode_as(text, rng.choice(ENCODINGS), rng.choice(NEWLINES))


def render(layout: str, truth: GroundTruth, rng: random.Random) -> bytes:
    """The file's bytes for a layout (text layouts as UTF-8 with LF)."""
    result = LAYOUTS[layout](truth, rng)
    return result if isinstance(result, bytes) else result.encode("utf-8")


# --------------------------------------------------------------------------------------------------------------
# Title damage (who and when): the forms in which real reports name their body, year and date.
# Each operator changes how the title, the page around it and the signature are printed, never what the report
# says: the parse must still give the truth's organization, year and publication date.

# How the title names body and year. `preface` and `signature` print a title without the body, which is then
# named only in the preface or only in the signature.
TITLE_FORMS: tuple[str, ...] = ("plain", "spaced_year", "chinese_year", "guanyu", "preface", "signature")
# What happens to the title's lines: split under a PDF page number, a crawler's header, a web page's chrome.
TITLE_WRAPPINGS: tuple[str, ...] = ("split", "crawler_label", "page_chrome")
TITLE_DAMAGE: tuple[str, ...] = (*TITLE_FORMS[1:], *TITLE_WRAPPINGS)
_CHINESE_YEAR_DIGITS = "〇一二三四五六七八九"
_PAGE_NUMBERS = ("- 1 -", "— 1 —", "第 1 页 共 9 页", "1/9")
_REPORT_TAIL = "政府信息公开工作年度报告"


def chinese_year(year: int) -> str:
    """2023 -> 二〇二三."""
    return "".join(_CHINESE_YEAR_DIGITS[int(digit)] for digit in str(year))


def _title_pieces(truth: GroundTruth, form: str) -> tuple[str, str]:
    """(the part naming the body, the rest) of a title in one of TITLE_FORMS."""
    name, year = truth.title_name, truth.year
    if form == "spaced_year":
        return name, f" {year} 年{_REPORT_TAIL}"
    if form == "chinese_year":
        return name, f"{chinese_year(year)}年{_REPORT_TAIL}"
    if form == "guanyu":
        return name, f"关于{year}年度政府信息公开工作情况的报告"
    if form in ("preface", "signature"):
        return "", f"{year}年{_REPORT_TAIL}"
    return name, f"{year}年{_REPORT_TAIL}"


def _other_government(truth: GroundTruth, rng: random.Random) -> str:
    """A government that is not the report's body (a page's 来源 or site name: 平潭县人民政府 on 平潭综合实验区's page)."""
    places = sorted({county.name for county in _COUNTIES} | set(_CITIES))
    own = truth.title_name
    return rng.choice([place for place in places if place not in own]) + "人民政府"


def damage_title(truth: GroundTruth, form: str, wrappings: Sequence[str], rng: random.Random) -> GroundTruth:
    """A copy of a titled truth whose title is printed in `form`, wrapped in `wrappings` (see TITLE_WRAPPINGS)."""
    if form not in TITLE_FORMS or any(wrapping not in TITLE_WRAPPINGS for wrapping in wrappings):
        raise ValueError(f"unknown title damage {form!r} {wrappings!r}")
    damaged = copy.deepcopy(truth)
    damaged.show_title = True
    name, rest = _title_pieces(damaged, form)
    one_line = f"{name}{rest}"
    lines = [one_line]
    if "split" in wrappings:
        if name:
            lines = [rng.choice(_PAGE_NUMBERS), name, rest.strip()]
        else:  # 2024 年上海市科委政府信息公开工作 / 年度报告
            cut = rng.randint(len(rest) - 6, len(rest) - 2)
            lines = [rng.choice(_PAGE_NUMBERS), rest[:cut], rest[cut:]]
    published = damaged.published
    head: list[str] = []
    if "page_chrome" in wrappings:
        site = _other_government(damaged, rng)
        when = f"发布时间：{published} {rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}" if published else "发布时间："
        head += [
            f"{one_line}{rng.choice(('_', '-', ' - '))}{site}",
            f"当前位置：首页 > 政务公开 > 政府信息公开年报 > {one_line}",
            f"{when} 来源：{site} 浏览次数：{rng.randint(10, 9999)}",
        ]
    if "crawler_label" in wrappings:
        separator = rng.choice((": ", "：", ":"))
        head = [
            f"标题{separator}{one_line}",
            f"发布时间{separator}{published + ' 10:48' if published else ''}",
            f"文号{separator}",
            f"发布机构{separator}",
            f"正文{separator}",
            *head,
        ]
    damaged.title_lines, damaged.head_lines = lines, head
    if form == "preface":
        damaged.preface.insert(
            0, f"根据《中华人民共和国政府信息公开条例》规定，现公布{damaged.title_name}{damaged.year}年{_REPORT_TAIL}。"
        )
        damaged.signature_name = ""
    elif form == "signature":
        damaged.signature_name = damaged.title_name
        damaged.signed = True
    else:
        damaged.signature_name = None
    if form in ("preface", "signature"):
        # the contact line of section 六 names the body too: leave it out so that one place names it
        damaged.sections["六"] = [p for p in damaged.sections["六"] if damaged.title_name not in p]
    return damaged


def damage_title_at_random(truth: GroundTruth, rng: random.Random) -> tuple[GroundTruth, str]:
    """A random title form with a random combination of wrappings, and a label saying which."""
    form = rng.choice(TITLE_FORMS)
    wrappings = [wrapping for wrapping in TITLE_WRAPPINGS if rng.random() < 0.5]
    return damage_title(truth, form, wrappings, rng), "+".join([form, *wrappings])


# --------------------------------------------------------------------------------------------------------------
# Damage to headings and tables (issue 10): how real text arrives after PDF text layers, converters and crawlers.
# Each operator takes the lines of a rendering and gives damaged lines; `damage` applies several at random.

Damage = Callable[[list[str], random.Random], list[str]]

_HEADING_LINE = re.compile(
    r"^(?P<lead>[#*\s\u3000\u00a0]*)(?P<numeral>[一二三四五六1-6])(?P<sep>\s*、\s*)(?P<words>"
    + "|".join(re.escape(words) for words in {*_HEADINGS.values(), *_FIVE_VARIANTS, "政务公开"})
    + r".*)$"
)
_NUMBER_LINE = re.compile(r"^\s*\d+\s*$")
_TRAILING_NUMBERS = re.compile(r"^(?P<label>.*?\D)(?P<numbers>(?: +\d+){3,})\s*$")
_FOOTER_STYLES = ("- {n} -", "— {n} —", "第 {n} 页 共 {m} 页", "{n}/{m}", "第{n}页")
_VERTICAL_LABEL_TEXT = "三、本年度办理结果"


def _is_heading(line: str) -> bool:
    return bool(_HEADING_LINE.match(line)) and "本年" not in line and "结转" not in line


def damage_fused_lines(lines: list[str], rng: random.Random) -> list[str]:
    """A crawler's one-line page: every line joined, table cells written against each other (r07's kind)."""
    kept = [line for line in lines if not re.match(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|?)+\s*$", line)]
    cells = [re.sub(r"[\t|]+", "", line).strip() for line in kept]
    joined = rng.choice(("", " ")).join(cell for cell in cells if cell)
    return [re.sub(r"(?<=\d) +(?=\d)", "", joined)]


def damage_split_headings(lines: list[str], rng: random.Random) -> list[str]:
    """A heading cut after its numeral: `六、` on one line, `其他需要报告的事项` on the next."""
    result: list[str] = []
    for line in lines:
        match = _HEADING_LINE.match(line)
        if match and _is_heading(line) and rng.random() < 0.7:
            result += [match["lead"] + match["numeral"] + match["sep"].rstrip(), match["words"]]
        else:
            result.append(line)
    return result


def damage_renumber(lines: list[str], rng: random.Random) -> list[str]:
    """All six parts present under other numerals (a report that numbered its parts its own way)."""
    numerals = list("一二三四五六")
    shuffled = numerals[:]
    while shuffled == numerals:
        rng.shuffle(shuffled)
    mapping = {**dict(zip(numerals, shuffled, strict=True)), **dict(zip("123456", shuffled, strict=True))}
    result: list[str] = []
    for line in lines:
        match = _HEADING_LINE.match(line)
        if match and _is_heading(line):
            line = match["lead"] + mapping[match["numeral"]] + match["sep"] + match["words"]
        result.append(line)
    return result


def damage_vertical_label(lines: list[str], rng: random.Random) -> list[str]:
    """The merged label 三、本年度办理结果 as a PDF text layer gives it: one character per line, after the
    上年结转 row."""
    for index, line in enumerate(lines):
        if "予以公开" in line and any("上年结转" in earlier for earlier in lines[:index]):
            label_free = [line.replace(_VERTICAL_LABEL_TEXT, "")]
            return [*lines[:index], *_VERTICAL_LABEL_TEXT, *label_free, *lines[index + 1 :]]
    return lines


def damage_placeholder_header(lines: list[str], rng: random.Random) -> list[str]:
    """A converter's header row of placeholders under the applicant columns: `|---|…` then `| - | - |…`."""
    for index, line in enumerate(lines):
        if "法律服务机构" in line:
            width = rng.randint(2, 5)
            filler = ["|" + "---|" * width, "| " + " | ".join("-" * width) + " |"]
            return [*lines[: index + 1], *filler, *lines[index + 1 :]]
    return lines


def damage_footers(lines: list[str], rng: random.Random) -> list[str]:
    """Page footers of a PDF's text layer between lines, in every style."""
    result = list(lines)
    pages = rng.randint(5, 12)
    for page in sorted(rng.sample(range(1, len(result)), min(4, len(result) - 1)), reverse=True):
        footer = rng.choice(_FOOTER_STYLES).format(n=rng.randint(1, pages), m=pages)
        result.insert(page, footer)
    return result


def damage_split_numbers(lines: list[str], rng: random.Random) -> list[str]:
    """Numbers of two or more digits cut in two: over two lines (cell per line) or by a space (row per line)."""
    result: list[str] = []
    for line in lines:
        if _NUMBER_LINE.match(line) and len(line.strip()) >= 2 and rng.random() < 0.5:
            digits = line.strip()
            cut = rng.randint(1, len(digits) - 1)
            result += [digits[:cut], digits[cut:]]
            continue
        match = _TRAILING_NUMBERS.match(line) if "\t" not in line and "|" not in line else None
        if match and rng.random() < 0.5:
            numbers = match["numbers"].split()
            long = [i for i, number in enumerate(numbers) if len(number) >= 2]
            if long:
                i = rng.choice(long)
                cut = rng.randint(1, len(numbers[i]) - 1)
                numbers[i] = numbers[i][:cut] + " " + numbers[i][cut:]
                line = match["label"] + " " + " ".join(numbers)
        result.append(line)
    return result


def damage_fused_digits(lines: list[str], rng: random.Random) -> list[str]:
    """The cells of a row written against each other (`…申请数量801000081`): space-separated rows lose their
    spaces, and runs of one-number lines are joined into one line."""
    result: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= 3 and rng.random() < 0.6:
            result.append("".join(cell.strip() for cell in run))
        else:
            result.extend(run)
        run.clear()

    for line in lines:
        if _NUMBER_LINE.match(line):
            run.append(line)
            continue
        if not line.strip() and run:
            continue  # the blank lines between cells go with the join
        flush()
        match = _TRAILING_NUMBERS.match(line) if "\t" not in line and "|" not in line else None
        if match and rng.random() < 0.6:
            line = match["label"] + rng.choice(("", " ")) + "".join(match["numbers"].split())
        result.append(line)
    flush()
    return result


def damage_collapsed_repeats(lines: list[str], rng: random.Random) -> list[str]:
    """A crawler that dropped empty lines and collapsed repeated lines like `uniq` (8 0 0 0 0 0 8 -> 8 0 8)."""
    result: list[str] = []
    for line in lines:
        if line.strip() and (not result or result[-1].strip() != line.strip()):
            result.append(line)
    return result


def _row_cells(line: str) -> tuple[str, list[str]] | None:
    """(label, seven values) of a table-三 row written on one line (space- or tab-separated), else None."""
    cells = [cell.strip() for cell in line.split("\t")] if "\t" in line else line.split()
    values = [cell for cell in cells if cell]
    if len(values) < 8 or not all(unicodedata.normalize("NFKC", v).isdigit() for v in values[-7:]):
        return None
    return "".join(values[:-7]), values[-7:]


def damage_detached_labels(lines: list[str], rng: random.Random) -> list[str]:
    """A PDF-to-Markdown converter's table 三 (r05's kind): every row a `| … |` line, and some rows' labels
    printed as free text a line or two away from their values, which stay in report order."""
    first = next((i for i, line in enumerate(lines) if "本年新收" in line and _row_cells(line)), None)
    last = next((i for i, line in enumerate(lines) if "结转下年" in line and _row_cells(line)), None)
    if first is None or last is None:
        return lines
    result = lines[:first]
    loose: list[str] = []
    for line in lines[first : last + 1]:
        row = _row_cells(line)
        if row is None:
            result.append(line)
            continue
        label, values = row
        if rng.random() < 0.5:
            loose.append(label)
            result.append("| " + " | ".join(values) + " |")
        else:
            result.append("| " + " | ".join([label, *values]) + " |")
        if loose and rng.random() < 0.5:
            result.append(loose.pop(0))
    return [*result, *loose, *lines[last + 1 :]]


DAMAGES: dict[str, Damage] = {
    "fused_lines": damage_fused_lines,
    "split_headings": damage_split_headings,
    "renumber": damage_renumber,
    "vertical_label": damage_vertical_label,
    "placeholder_header": damage_placeholder_header,
    "footers": damage_footers,
    "split_numbers": damage_split_numbers,
    "fused_digits": damage_fused_digits,
    "collapsed_repeats": damage_collapsed_repeats,
    "detached_labels": damage_detached_labels,
}
# Damage that leaves every line of the table in place: combined freely with the rest.
_LINE_DAMAGES = ("split_headings", "renumber", "vertical_label", "placeholder_header", "footers")
# Damage that rewrites the table rows: one of them at a time (a crawler does one thing to a page).
_ROW_DAMAGES = ("fused_lines", "split_numbers", "fused_digits", "collapsed_repeats", "detached_labels")


def rendered_lines(layout: str, truth: GroundTruth, rng: random.Random) -> list[str]:
    """A rendering's text as lines: text layouts as written, HTML/Word/PDF as their reader gives them (a
    grid's rows tab-joined), which is how such files reach people after a converter."""
    result = LAYOUTS[layout](truth, rng)
    if isinstance(result, str) and layout in TEXT_LAYOUTS:
        return result.split("\n")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"report.{FILE_SUFFIX[layout]}"
        path.write_bytes(result if isinstance(result, bytes) else result.encode("utf-8"))
        _, _, document = extract(path, 50_000_000)
    lines: list[str] = []
    for block in document.blocks:
        if isinstance(block, TextLine):
            lines.append(block.text)
        else:
            lines.extend("\t".join(cell or "" for cell in row) for row in block.rows)
    return lines


def damage(lines: list[str], rng: random.Random, kinds: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """The lines with damage applied (the given kinds, or one row damage and up to three line damages at
    random), and the kinds applied in order."""
    if kinds is None:
        kinds = [*rng.sample(_LINE_DAMAGES, rng.randint(0, 3)), rng.choice(_ROW_DAMAGES)]
        rng.shuffle(kinds)
        if "fused_lines" in kinds:  # fusing the lines comes last: every other damage works on lines
            kinds = [kind for kind in kinds if kind != "fused_lines"] + ["fused_lines"]
    for kind in kinds:
        lines = DAMAGES[kind](lines, rng)
    return lines, list(kinds)

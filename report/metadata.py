"""Who wrote the report, for which year, and when it was published — read from its own words.

Real reports name themselves in many ways: a title on one line or split over several (under a PDF page
number, one text run per line), behind a crawler's `标题：` or inside page chrome (breadcrumbs, a page title
ending `-XX局`), `X关于2022年度政府信息公开工作情况的报告`, years in Chinese numerals, or only in the preface or
the signature. A name is accepted only when its structure is that of a body's name (places, then a body);
anything else is a fragment and is left out, with a problem.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from itertools import chain, islice, repeat
from operator import itemgetter

from report.model import Level, Organization
from report.normalized import REMEMBERED_LINES, LineMemo
from report.tokens import compact, normalize

# -- Label words ---------------------------------------------------------------------------------------------
# The report words a title ends with, and the subjects it may name.
_REPORT_WORDS = r"(?:年度报告|年报|情况的报告|工作报告|报告)"
_SUBJECTS = r"(?:政府信息公开|政务信息公开|政务公开|信息公开)"
# Labels a crawler or a web page puts before a title; words that open page chrome rather than a name.
_TITLE_LABELS = ("标题", "名称", "题目", "文章标题", "正文")
_CHROME_WORDS = ("当前位置", "您的位置", "首页", "正文", "标题", "名称", "关于")
# Words that end a phrase right before a name in prose (本报告由淮安市洪泽区人民政府办公室…, 请与…联系): a
# parent place read off the prose starts after them.
_PROSE_BOUNDARIES = "由与将在对是的和及向为从经据按请现"
# Lead-ins of a preface sentence that names the body: 现公布XX2023年政府信息公开工作年度报告.
_PREFACE_LEADS = ("现公布", "现予公布", "现将", "特公布", "公布", "发布")
# How a body refers to itself in prose: never a name.
_SELF_WORDS = ("我", "本", "全", "该")
# Labels of a stated publication date. A page's 生成时间 or a crawler's 采集时间 is not one.
_DATE_LABEL = re.compile(r"(?:撰写|发布|印发|成文|公开|发文)(?:时间|日期)|^日期")
_DATE_WORDS = ("日期", "时间")  # every date label holds one of them
_REPORT_CHARACTERS = ("告", "报")  # a title ends with (a piece of) 报告, 年报

_YEAR_ARABIC = r"(?:19|20)\d{2}"
_YEAR_CHINESE = r"[〇零○O一二三四五六七八九]{4}"
_YEAR = re.compile(rf"({_YEAR_ARABIC}|{_YEAR_CHINESE})\s*年(?:度)?")
_TITLE = re.compile(rf"{_SUBJECTS}.{{0,10}}{_REPORT_WORDS}")
# A title's keyword, where the name before it ends: (关于)(2023年度)政府信息公开…
_TITLE_KEY = re.compile(rf"(?:关于)?\s*(?:(?:{_YEAR_ARABIC}|{_YEAR_CHINESE})\s*年度?\s*)?{_SUBJECTS}")
_TITLE_LABEL = re.compile(r"^[#*\s]*(?:" + "|".join(_TITLE_LABELS) + r")?\s*[:：]?\s*")
# Page chrome after a title: `…年度报告-沭阳县发改局`, `…年度报告_房县人民政府`, `…年度报告 来源：…`.
_TITLE_CHROME_TAIL = re.compile(
    rf"({_REPORT_WORDS}(?:\s*[(（]\s*(?:{_YEAR_ARABIC}|{_YEAR_CHINESE})\s*年度?\s*[)）])?)"
    r"\s*(?:[-_|—–－]+.*|\s+\S+[:：].*|\.(?:pdf|docx?|wps|html?|shtml)"
    rf"|[(（](?!\s*(?:{_YEAR_ARABIC}|{_YEAR_CHINESE})\s*年度?\s*[)）])[^()（）]*[)）])$",
    re.IGNORECASE,
)
# A title inside a longer line (a page fused onto one line): name, year, subject, report word, then a space.
_EMBEDDED_TITLE = re.compile(
    rf"(\S{{2,40}}?\s?(?:{_YEAR_ARABIC}|{_YEAR_CHINESE})\s*年度?\s*{_SUBJECTS}\S{{0,10}}?{_REPORT_WORDS})(?=\s|$)"
)
# Where a year stands before 年 (every position, overlapping): an embedded title's year starts at one of them.
_YEAR_AT = re.compile(rf"(?=(?:{_YEAR_ARABIC}|{_YEAR_CHINESE})\s*年)")
# How far before its year an embedded title may start: the 2–40 characters of its name and a space.
_EMBEDDED_NAME_REACH = 41
# A title ends with its report word, or with the year in brackets after it: …年度报告（2023年度）.
_TITLE_END = re.compile(rf"{_REPORT_WORDS}(?:\s*[(（]\s*(?:{_YEAR_ARABIC}|{_YEAR_CHINESE})\s*年度?\s*[)）])?$")
_PAGE_NUMBER = re.compile(r"^(?:[-—–－\s]*\d{1,3}[-—–－\s]*|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3})$")
# What a page number line starts with besides a digit (lines are normalized: no space first), what its second
# character is besides a digit or whitespace, and what it ends with besides a digit or whitespace.
PAGE_NUMBER_FIRST = frozenset("-—–－第")
_PAGE_NUMBER_SECOND = frozenset("-—–－/")
_PAGE_NUMBER_LAST = frozenset("-—–－页")
# Where page chrome or prose ends before a name; brackets belong to names (中国（福建）自由贸易试验区).
_NAME_SEPARATORS = re.compile(r"[\s:：>»›|/\\,，。、;；“”\"'\[\]【】《》<]+")
_NAME_CHARACTERS = re.compile(r"^[\u4e00-\u9fff（）()]+$")
_SHORT_LINE = 40  # a title piece is a short line; prose wraps at 30-60 characters but ends a sentence
_TITLE_MAX = 80
_TITLE_WINDOW = 7  # lines a split title may span (crawler text puts every text run on its own line)
_PARENT_MAX = 12  # characters before a name where its parent place may stand
_TITLE_SCAN = 400  # lines from the top where a title may stand (after a web page's chrome)
_TITLE_FIRST_LINES = 16  # most titles stand in the first lines: searched first, then 4× as many at a time
_PREFACE_LINES = 40  # lines from the top where a preface may name the body
_SIGNATURE_LINES = 8  # lines from the end where a signature may stand
# Characters that compose or reorder with nothing before them: starters that are never the second of a
# canonical pair (ASCII and Latin-1, general punctuation, CJK symbols before the tone marks, CJK ideographs,
# full-width forms). Lines NFKC'd one by one, each beginning with one of them, are NFKC'd joined as well.
_JOINS_AS_THEY_ARE = re.compile(r"[\x00-\u02ff\u2000-\u206f\u3000-\u3029\u3400-\u9fff\uff00-\uffef]*")
_FIRST_CHARACTER = itemgetter(slice(0, 1))
_DATE_TAIL_LINES = 6  # non-empty lines from the end where a date under the signature may stand

# Administrative units, longest suffixes first; a unit is at least two characters (房县).
_UNIT = re.compile(
    r"(.+?(?:特别行政区|自治区|自治州|自治县|自治旗|街道办事处|街道|苏木|省|市(?!场)|州|盟|地区|县|区|旗|镇|乡))"
)
# Common words that end like a place but are none (城市管理局 is a department, not 城市 + 管理局).
_NOT_PLACES = ("城乡", "城区", "社区", "园区", "辖区", "片区", "景区", "市区", "城市", "都市", "超市", "小区", "街区")
# Functional zones: run by a 管委会 or 管理局, not a level of government, so their level is unknown.
_ZONES = ("综合实验区", "实验区", "试验区", "开发区", "高新区", "示范区", "合作区", "保税区", "园区", "片区", "管理区")
# What a zone's governing body adds to the zone's name.
_ZONE_BODIES = ("党工委管委会", "管理委员会", "管委会")
_TOWNSHIP = ("镇", "乡", "街道", "街道办事处", "苏木")
_COUNTY = ("县", "区", "旗", "自治县", "自治旗")
_CITY = ("州", "自治州", "盟", "地区")
_PROVINCE = ("省", "自治区", "特别行政区")
_GOVERNMENT = "人民政府"
_UNIT_MAX = 12  # characters of one place unit (恩施土家族苗族自治州)
# Characters of a body's name that no place name holds.
_BODY_CHARACTERS = "局厅署委办"
# A place inside a name below the national level (市场 is no 市).
_LOCAL_PLACE = re.compile(r"[省县区镇乡旗]|市(?!场)")
_NATIONAL = re.compile(r"^(?:国家|中国|国务院|海关总署|审计署|[^县区市镇乡]{2,8}部$)")
# A local government's department (deadline 31 January); a government's 办公厅/办公室 counts as one.
_DEPARTMENT = re.compile(r"(?:局|委员会|委|办公室|办公厅|办|厅|部|署)$")
# Other bodies that publish reports, whose level the format does not fix.
_OTHER_BODY = re.compile(r"(?:管委会|管理委员会|中心|院|所|站|队|会|处|公司|集团)$")
_GENERIC_DEPARTMENTS = ("局", "委", "办", "厅", "部", "署", "管理局", "办公室", "委员会", *_ZONE_BODIES)

_DATE = re.compile(r"((?:19|20)\d{2})\s*(?:年|-|/|\.)\s*(\d{1,2})\s*(?:月|-|/|\.)\s*(\d{1,2})\s*日?")
_CHINESE_DIGITS = {
    "〇": 0,
    "零": 0,
    "○": 0,
    "O": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CHINESE_DATE = re.compile(
    r"([〇零○O一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,4})日"
)
_PERIOD = re.compile(
    r"((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日\s*(?:起)?\s*(?:至|到|-|—|~|～)\s*((?:19|20)\d{2})\s*年\s*12\s*月\s*31\s*日"
)
# What follows a period's first year: a pattern opening with a literal, which the regex engine finds by a fast
# scan (a search for `_PERIOD` itself tries a match at every digit 1 or 2, and table rows are full of them).
_PERIOD_FIRST_DAY = re.compile(r"年\s*1\s*月\s*1\s*日")
SELF_REFERENCE = {
    "township": ("我镇", "我乡", "本镇", "本乡", "全镇", "全乡", "我街道", "本街道"),
    "department": ("我局", "本局", "我委", "本委", "我办", "本办", "我厅", "本厅"),
    "county": ("我县", "全县", "本县", "我旗"),
}


def is_zone(unit: str) -> bool:
    """A functional zone's name (平潭综合实验区, 房县经济开发区), not an administrative unit's."""
    return unit.endswith(_ZONES) and unit not in _NOT_PLACES


def zone_of(name: str) -> str | None:
    """The zone a zone's governing body is named after (平潭综合实验区管委会 -> 平潭综合实验区), else None."""
    for body in _ZONE_BODIES:
        zone = name.removesuffix(body)
        if zone != name and is_zone(zone):
            return zone
    return None


def _units(place: str) -> list[str]:
    """`十堰市房县白鹤镇` -> [十堰市, 房县, 白鹤镇]; stops at the first piece that is not a place."""
    units: list[str] = []
    position = 0
    while position < len(place):
        match = _UNIT.match(place, position)
        unit = match.group(1) if match else ""
        # 和 joins two subjects of a department (住房和城乡建设局), never two places
        if not unit or not _placeable(unit) or is_zone(unit) or "和" in unit:
            break
        units.append(unit)
        position += len(unit)
    if units and place[position:].startswith(_ZONES):  # 福州 + 片区管理局: the place names the zone
        units.pop()
    return units


@lru_cache(maxsize=REMEMBERED_LINES)
def _placeable(unit: str) -> bool:
    """Whether a piece ending like a place may be one: not a common word (城市), not a body's name (国家税务总局房县)."""
    suffix = next((suffix for suffix, _ in _RANKS if unit.endswith(suffix)), "")
    proper = unit[: len(unit) - len(suffix)]
    return (
        unit not in _NOT_PLACES
        and len(unit) <= _UNIT_MAX
        and not any(character in proper for character in _BODY_CHARACTERS)
    )


# How high a unit ends up in the hierarchy: a chain of places descends (省 → 市/州 → 县/区 → 镇/乡/街道).
# A 市 is a city or a county-level city, so it may take either rank.
_RANKS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("特别行政区", (0,)),
    ("自治区", (0,)),
    ("省", (0,)),
    ("自治州", (1,)),
    ("州", (1,)),
    ("盟", (1,)),
    ("地区", (1,)),
    ("市", (1, 2)),
    ("自治县", (2,)),
    ("自治旗", (2,)),
    ("县", (2,)),
    ("区", (2,)),
    ("旗", (2,)),
    ("街道办事处", (3,)),
    ("街道", (3,)),
    ("苏木", (3,)),
    ("镇", (3,)),
    ("乡", (3,)),
)


# The last character of every unit's suffix: a piece ending with another character ranks nowhere (most of the
# pieces a name is cut into while it is split).
_RANKED_LAST = frozenset(suffix[-1] for suffix, _ in _RANKS)


@lru_cache(maxsize=REMEMBERED_LINES)
def _ranks(unit: str) -> tuple[int, ...]:
    return next((ranks for suffix, ranks in _RANKS if unit.endswith(suffix)), ())


def _split_places(place: str, above: int = -1) -> list[str] | None:
    """Split a string made only of place names into its units, each lower in the hierarchy than the one
    before; of the possible splits, the one with most units (会盟镇 is one unit; 丹江口市均州路街道办事处 is
    丹江口市 + 均州路街道办事处, since a 州 cannot sit below a 市)."""
    found = _place_units(place, above)
    return list(found) if found is not None else None


@lru_cache(maxsize=REMEMBERED_LINES)
def _place_units(place: str, above: int) -> tuple[str, ...] | None:
    """`_split_places` as a tuple, remembered: names and their tails are split again and again."""
    if not place:
        return ()
    best: tuple[str, ...] | None = None
    for end in range(2, len(place) + 1):
        if place[end - 1] not in _RANKED_LAST:
            continue  # `_ranks` gives nothing: no unit ends here
        unit = place[:end]
        rank = next((rank for rank in _ranks(unit) if rank > above), None)
        if rank is None or not _placeable(unit):
            continue
        rest = _place_units(place[end:], rank)
        if rest is not None and (best is None or _split_score((unit, *rest)) > _split_score(best)):
            best = (unit, *rest)
    return best


def _split_score(units: tuple[str, ...]) -> tuple[int, int]:
    """More units first; then fewer units opening with a unit's suffix (襄州区 + 红坪镇, not 襄州 + 区红坪镇)."""
    return len(units), -sum(bool(_ranks(unit[0])) for unit in units)


def _unit_level(unit: str, parent: str | None) -> Level:
    if unit.endswith(_TOWNSHIP):
        return "township"
    if is_zone(unit):
        return "unknown"
    if unit.endswith(_PROVINCE):
        return "province"
    if unit.endswith("市"):
        # A 市 under another 市/州/盟/地区 is a county-level city; otherwise a city (设区的市 or 直辖市).
        return "county" if parent and parent.endswith(("市", *_CITY)) else "city"
    if unit.endswith(_CITY):
        return "city"
    if unit.endswith(_COUNTY):
        return "county"
    return "unknown"


def _body_level(body: str, units: list[str]) -> Level:
    """The level of a body that is not a government of a place: a department of a local government (or of
    the State Council), else unknown — a zone's 管委会 or 管理局, a 中心, an institute."""
    if any(is_zone(unit) for unit in units) or any(zone in body for zone in _ZONES) or not _DEPARTMENT.search(body):
        return "unknown"
    if not units and _NATIONAL.match(body) and not _LOCAL_PLACE.search(body):
        return "national"
    return "department"


def organization_from_name(full_name: str) -> Organization:
    """Split a body's full name into its own name, the region qualifier before it, and its level.

    房县白鹤镇人民政府 -> 白鹤镇人民政府 / 房县 / township; 房县教育局 -> 教育局 / 房县 / department;
    十堰市房县人民政府 -> 房县人民政府 / 十堰市 / county; 莆田市城市管理局 -> 城市管理局 / 莆田市 / department;
    平潭综合实验区 -> 平潭综合实验区 / - / unknown.
    """
    name, region, level = _organization_fields(full_name)
    return Organization(name=name, region=region, level=level)


_OrganizationFields = tuple[str | None, str | None, Level]
# `organization_from_name`'s fields by the full name: the same names come in report after report (titles,
# signatures), and splitting one costs several times the `Organization` made from its fields (a new one each
# time: callers change it).
_ORGANIZATIONS: LineMemo[_OrganizationFields] = LineMemo()


def _organization_fields(full_name: str) -> _OrganizationFields:
    return _ORGANIZATIONS.get(full_name) or _ORGANIZATIONS.keep(full_name, _split_name(full_name))


def _split_name(full_name: str) -> _OrganizationFields:
    name = compact(full_name)
    if name.endswith(_GOVERNMENT):
        units = _split_places(name[: -len(_GOVERNMENT)])
        if units:
            parent = units[-2] if len(units) > 1 else None
            return units[-1] + _GOVERNMENT, parent, _unit_level(units[-1], parent)
    places = _split_places(name)
    if places:  # a bare place name: 白鹤镇
        parent = places[-2] if len(places) > 1 else None
        return places[-1], parent, _unit_level(places[-1], parent)
    units = _units(name)
    rest = name[len("".join(units)) :]
    if units and rest in _ZONE_BODIES:  # 浦东新区管委会: the body is named after its place
        rest = units.pop() + rest
    if rest and (_DEPARTMENT.search(rest) or _OTHER_BODY.search(rest)):
        return rest, units[-1] if units else None, _body_level(rest, units)
    return name or None, None, "unknown"


def organization_from_title(title: str) -> Organization:
    """The body a title names (an empty organization when it names none)."""
    candidate, _ = _name_before_key(title)
    return (_valid_name(candidate) if candidate else None) or Organization()


# Each self-reference word is a lead (我, 本, 全) and a unit's word that holds no lead: so no two words' occurrences
# overlap, and one search per lead, which scans for its lead in C, finds every word's occurrences (a search for all
# words at once tries each character; twenty `str.count`s scan the text twenty times).
_SELF_LEADS = "".join(dict.fromkeys(word[0] for words in SELF_REFERENCE.values() for word in words))
_SELF_WORD_SEARCHES = tuple(
    re.compile(
        lead
        + "(?:"
        + "|".join(
            sorted(
                dict.fromkeys(word[1:] for words in SELF_REFERENCE.values() for word in words if word[0] == lead),
                key=len,
                reverse=True,
            )
        )
        + ")"
    )
    for lead in _SELF_LEADS
)


def level_from_prose(text: str) -> Level:
    """A body's level from how it names itself (我镇, 我局, 我县) when nothing else says: the level named most
    often, the first in `SELF_REFERENCE`'s order on a tie."""
    found = Counter(chain.from_iterable(search.findall(text) for search in _SELF_WORD_SEARCHES))
    counts = {level: sum(map(found.get, words, repeat(0))) for level, words in SELF_REFERENCE.items()}
    level = max(counts, key=counts.__getitem__)
    return level if counts[level] else "unknown"  # type: ignore[return-value]


def _valid_date(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _chinese_number(text: str) -> int:
    """一 .. 三十一 as used in dates."""
    if "十" not in text:
        return _CHINESE_DIGITS.get(text, 0)
    tens, _, units = text.partition("十")
    return (_CHINESE_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CHINESE_DIGITS.get(units, 0) if units else 0)


def parse_date(text: str) -> str | None:
    """The first date in a piece of text, as ISO; Arabic or Chinese numerals (二〇二四年一月二十三日)."""
    match = _DATE.search(text)
    if match:
        return _valid_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _CHINESE_DATE.search(text)
    if match:
        year = int("".join(str(_CHINESE_DIGITS[c]) for c in match.group(1)))
        return _valid_date(year, _chinese_number(match.group(2)), _chinese_number(match.group(3)))
    return None


def _is_bare_date(text: str) -> bool:
    rest = _CHINESE_DATE.sub("", _DATE.sub("", text))
    return len(rest.strip(" ()（）:：")) == 0


def _date_at(text: str) -> str | None:
    """The date a piece of text starts with (after a label's colon), if any."""
    text = text.lstrip(" :：")
    match = _DATE.match(text) or _CHINESE_DATE.match(text)
    return parse_date(match.group(0)) if match else None


def published_dates(lines: list[str]) -> list[str]:
    """Every stated publication date, best first: labelled dates (撰写时间, 发布日期 …, the date right after
    the label or alone on the next line), then the date under the signature."""
    return _stated_dates([normalize(line) for line in lines])


def lines_holding(texts: list[str], words: tuple[str, ...]) -> list[int]:
    """The indices of the normalized lines (no line end inside) that hold one of `words`, in order: found
    with `str.find` in the lines joined, which scans in C, rather than by testing every line."""
    joined = "\n".join(texts)
    positions: list[int] = []
    for word in words:
        position = joined.find(word)
        while position >= 0:
            positions.append(position)
            line_end = joined.find("\n", position)  # a line counts once: on to the next one
            position = joined.find(word, line_end) if line_end >= 0 else -1
    found: list[int] = []
    line = counted = 0
    for position in sorted(positions):
        line += joined.count("\n", counted, position)
        counted = position
        if not found or found[-1] != line:
            found.append(line)
    return found


def _lines_holding_from_the_top(texts: list[str], words: tuple[str, ...]) -> Iterator[int]:
    """`lines_holding(texts, words)` a growing piece of the lines after the other: a reader that stops at one of
    the first lines has not joined and searched the rest."""
    start, size = 0, _TITLE_FIRST_LINES
    while start < len(texts):
        for index in lines_holding(texts[start : start + size], words):
            yield start + index
        start, size = start + size, size * 4


def _stated_dates(texts: list[str], whole_text: str | None = None) -> list[str]:
    """`published_dates` of normalized lines; `whole_text`, where the caller has it, is those lines joined by
    spaces: when it holds no date label's word, no line does (the words hold no space)."""
    found: list[str] = []
    labelled = whole_text is None or any(word in whole_text for word in _DATE_WORDS)
    for index in lines_holding(texts, _DATE_WORDS) if labelled else ():
        text = texts[index]
        for label in _DATE_LABEL.finditer(text):
            rest = text[label.end() :]
            stated = _date_at(rest)
            if stated is None and not rest.strip(" :：") and index + 1 < len(texts):
                stated = _date_at(texts[index + 1])  # the label alone on its line, the date on the next
            if stated:
                found.append(stated)
    for text in islice(filter(None, reversed(texts)), _DATE_TAIL_LINES):
        if len(text) <= 24 and _is_bare_date(text):
            stated = parse_date(text)
            if stated:
                found.append(stated)
                break
    return list(dict.fromkeys(found))


def find_published(lines: list[str]) -> str | None:
    """The stated publication date (the first of `published_dates`)."""
    dates = published_dates(lines)
    return dates[0] if dates else None


def choose_published(dates: list[str], year: int | None) -> tuple[str | None, str | None]:
    """The first stated date after the reporting period; a date that falls before the period ends is a
    template's placeholder, not a date: None and a problem when no other date is stated."""
    if year is None:
        return (dates[0] if dates else None), None
    after = [stated for stated in dates if stated > f"{year}-12-31"]
    if after or not dates:
        return (after[0] if after else None), None
    return None, f"发布日期 {dates[0]} 早于统计期结束（{year}年12月31日），应为占位日期，未作为发布日期"


def period_spans(text: str) -> list[tuple[int, int]]:
    """Statistics periods stated as 自X年1月1日至Y年12月31日, as (X, Y) in the order written, once each."""
    return periods_of(normalize(text))[1]


def period_years(text: str) -> list[int]:
    """Years of statistics periods stated as 自X年1月1日至Y年12月31日."""
    return periods_of(normalize(text))[0]


def periods_of(text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """`period_years` and `period_spans` of text already `normalize`d, in one scan."""
    spans = list(dict.fromkeys((int(a), int(b)) for a, b in (m.groups() for m in period_matches(text))))
    return sorted({year for span in spans for year in span}), spans


def period_matches(text: str) -> Iterator[re.Match[str]]:
    """`_PERIOD.finditer(text)`, tried only where a match can start: the four characters before the spaces
    before each 年1月1日 (its year, if it is one)."""
    searched = 0  # matches do not overlap: the next one starts after the last one's end
    for first_day in _PERIOD_FIRST_DAY.finditer(text):
        start = first_day.start()
        while start > searched and text[start - 1].isspace():  # `isspace` is what `\s` matches
            start -= 1
        start -= 4
        if start >= searched:
            match = _PERIOD.match(text, start)
            if match:
                searched = match.end()
                yield match


@dataclass
class Metadata:
    """What the text says about who wrote it and when; `problems` says what could not be read."""

    title: str | None = None
    organization: Organization = field(default_factory=Organization)
    title_year: int | None = None
    dates: list[str] = field(default_factory=list)  # stated publication dates, best first
    problems: list[str] = field(default_factory=list)


def _year_number(text: str) -> int:
    """2023 or 二〇二三 as a number."""
    if text.isdigit():
        return int(text)
    return int("".join(str(_CHINESE_DIGITS[character]) for character in text))


def _strip_title(text: str) -> str:
    """A title without a crawler's label before it and page chrome after it."""
    text = _TITLE_LABEL.sub("", text, count=1).rstrip("* ")
    # The tail cut by hand: `sub` with a group reference in its template costs ~10 µs a call.
    tail = _TITLE_CHROME_TAIL.search(text)
    return text[: tail.start()] + tail[1] + text[tail.end() :] if tail else text


def _is_title(text: str) -> bool:
    return (
        8 <= len(text) <= _TITLE_MAX
        and "《" not in text
        and not any(mark in text for mark in "。，,；;")
        and bool(_TITLE_END.search(text))
        and bool(_TITLE.search(text))
        and bool(_YEAR.search(text))
    )


def _is_piece(text: str) -> bool:
    """A line that may be part of a title split over lines."""
    return 0 < len(text) <= _SHORT_LINE and not text.endswith(("。", "；", ";", "，", ","))


def _title_windows(texts: list[str]) -> Iterator[tuple[int, str]]:
    """(first line, title text) of every title, in document order: a line, a run of short lines, or a
    title inside a long line. Lazily: the reader stops at the first title that names a body (most often the
    first line), and the rest of the candidates (every table row holding 举报) are never looked at."""
    # a title's last line holds (the end of) its report word
    for end in _lines_holding_from_the_top(texts[:_TITLE_SCAN], _REPORT_CHARACTERS):
        line = texts[end]
        whole = _title_in(line)
        if whole is not None:
            yield end, whole
            continue
        if len(line) > _TITLE_MAX:
            embedded = _embedded_title(line)
            if embedded and "《" not in embedded.group(1):
                yield end, embedded.group(1)
            continue
        if not _is_piece(line):
            continue
        for start in range(end - 1, max(-1, end - _TITLE_WINDOW), -1):
            if not _is_piece(texts[start]):
                break
            joined = _title_in("".join(texts[start : end + 1]))
            if joined is not None:
                yield start, joined
                break


def _title_in(text: str) -> str | None:
    """The title `text` is (`_strip_title`), or None when it is none (`_is_title`): remembered, as titles and the
    lines under them come in report after report."""
    found = _TITLES.get(text) or _TITLES.keep(text, (_whole_title(text),))
    return found[0]


def _whole_title(text: str) -> str | None:
    whole = _strip_title(text)
    return whole if _is_title(whole) else None


# `_title_in`'s answers by the text, in a 1-tuple (a memo's answers are never falsy).
_TITLES: LineMemo[tuple[str | None]] = LineMemo()


def _embedded_title(line: str) -> re.Match[str] | None:
    """`_EMBEDDED_TITLE.search(line)`, tried only where a match can start (a little before a year): a page
    fused onto one line is long, and trying every position of it costs milliseconds."""
    tried = -1
    for year in _YEAR_AT.finditer(line):
        for start in range(max(tried + 1, year.start() - _EMBEDDED_NAME_REACH), year.start() - 1):
            found = _EMBEDDED_TITLE.match(line, start)
            if found:
                return found
            tried = start
    return None


def _name_before_key(title: str) -> tuple[str, int | None]:
    """The text naming the body in a title (before the year, or between a leading year and the subject),
    and the title's year: remembered, as the same titles come in report after report."""
    return _NAMES_BEFORE_KEYS.get(title) or _NAMES_BEFORE_KEYS.keep(title, _split_title(title))


_NAMES_BEFORE_KEYS: LineMemo[tuple[str, int | None]] = LineMemo()


def _split_title(title: str) -> tuple[str, int | None]:
    text = normalize(title)
    year_match = _YEAR.search(text)
    year = _year_number(year_match.group(1)) if year_match else None
    # the subject after the year: breadcrumbs before a title hold 政务公开, 政府信息公开年报 …
    key = _TITLE_KEY.search(text, year_match.start() if year_match else 0) or _TITLE_KEY.search(text)
    if not key:
        return "", year
    before = text[: key.start()]
    if year_match and year_match.start() < key.start():
        head, tail = text[: year_match.start()], text[year_match.end() : key.start()]
        before = head if head.strip() else tail
    before = before.rstrip()
    if before.endswith("关于"):
        before = before[: -len("关于")]
    return _NAME_SEPARATORS.split(before.strip())[-1] if before.strip() else "", year


def _valid_name(candidate: str) -> Organization | None:
    """The organization a candidate names, or None when it is a fragment rather than a body's name."""
    found = _VALID_NAMES.get(candidate) or _VALID_NAMES.keep(candidate, (_valid_name_fields(candidate),))
    fields = found[0]
    if fields is None:
        return None
    name, region, level = fields
    return Organization(name=name, region=region, level=level)


# `_valid_name`'s answers by the candidate, as (name, region, level) or None in a 1-tuple (a memo's answers are
# never falsy): the same titles, prefaces and signatures come in report after report, and working a name out
# costs several times the `Organization` made from its fields (a new one each time: callers change it).
_VALID_NAMES: LineMemo[tuple[tuple[str, str | None, Level] | None]] = LineMemo()


def _valid_name_fields(candidate: str) -> tuple[str, str | None, Level] | None:
    name = compact(candidate)
    for word in (*_CHROME_WORDS, *_PREFACE_LEADS):
        name = name.removeprefix(word)
    if len(name) < 2 or not _NAME_CHARACTERS.match(name) or name.startswith(_SELF_WORDS):
        return None
    own, region, level = _organization_fields(name)
    if own is None or own in _GENERIC_DEPARTMENTS:
        return None
    own_place = own.removesuffix(_GOVERNMENT) if own.endswith(_GOVERNMENT) else ""
    if level == "unknown" and not (_OTHER_BODY.search(own) or is_zone(own) or _split_places(own_place)):
        return None
    return own, region, level


def compact_joined(texts: list[str]) -> str:
    """`compact("".join(texts))` of `normalize`d lines: the lines joined, their spaces dropped (the only
    whitespace they hold), when NFKC would leave the joined lines as they are; else NFKC'd again."""
    joined = "".join(texts)
    if _JOINS_AS_THEY_ARE.fullmatch("".join(map(_FIRST_CHARACTER, texts))):
        return joined.replace(" ", "")
    return compact(joined)


def _region_from_prose(organization: Organization, texts: list[str]) -> str | None:
    """The parent place the prose puts right before a government's name when the title gives none
    (洪泽区人民政府 titled alone, 本报告由淮安市洪泽区人民政府办公室… in the preface): the longest place that
    every such mention shares, read from at least two mentions."""
    name = organization.name or ""
    own = name.removesuffix(_GOVERNMENT)
    if organization.region or organization.level not in ("township", "county", "city") or len(own) < 2:
        return None
    text = compact_joined(texts)  # the whole text: made only here, where it is read
    mentions: list[set[str]] = []
    # Each mention, left to right, none overlapping (a regex of the name, compiled for each new name, costs more).
    mention = text.find(name)
    while mention >= 0:
        before = text[max(0, mention - _PARENT_MAX) : mention]
        mention = text.find(name, mention + len(name))
        pieces: set[str] = set()
        for start in range(len(before) - 2, -1, -1):
            piece = before[start:]
            if piece[0] in _PROSE_BOUNDARIES or not _NAME_CHARACTERS.match(piece):
                break
            if _split_places(piece + own) == [piece, own]:
                pieces.add(piece)
        if pieces:
            mentions.append(pieces)
    shared = set.intersection(*mentions) if len(mentions) >= 2 else set()
    return max(shared, key=len) if shared else None


# A preface naming the body after each lead, in `_PREFACE_LEADS`' order.
_PREFACES = tuple(
    re.compile(rf"{lead}([\u4e00-\u9fff（）()]{{2,40}}?)(?:{_YEAR_ARABIC}|{_YEAR_CHINESE})年度?{_SUBJECTS}")
    for lead in _PREFACE_LEADS
)


def _preface_name(texts: list[str]) -> Organization | None:
    """The body a preface names: 现公布XX2023年政府信息公开工作年度报告."""
    text = compact_joined(texts)
    for preface in _PREFACES:
        for match in preface.finditer(text):
            organization = _valid_name(match.group(1))
            if organization is not None:
                return organization
    return None


def _signature_name(texts: list[str]) -> Organization | None:
    """The body named by a line of its own among the last lines, beside the date (the signature).

    A government's 办公室 often signs the government's report: whose report it is stays open (level unknown),
    so that no deadline rests on a guess."""
    for text in reversed(texts[-_SIGNATURE_LINES:]):
        organization = _valid_name(text) if len(text) <= _SHORT_LINE else None
        if organization is not None:
            if (organization.name or "").startswith(_GOVERNMENT):
                organization.level = "unknown"
            return organization
    return None


def is_page_number(text: str) -> bool:
    """`_PAGE_NUMBER` on a normalized line, after cheap tests of its first, second and last characters
    (`isdigit` holds for every digit `\\d` matches, `isspace` for every character `\\s` does)."""
    first = text[0]
    if first not in PAGE_NUMBER_FIRST and not first.isdigit():
        return False  # most lines
    second, last = text[1:2], text[-1]
    return (
        (not second or second in _PAGE_NUMBER_SECOND or second.isdigit() or second.isspace())
        and (last in _PAGE_NUMBER_LAST or last.isdigit() or last.isspace())
        and bool(_PAGE_NUMBER.match(text))
    )


def read_metadata(lines: list[str]) -> Metadata:
    """Title, organization, title year and stated publication date of a report's lines."""
    return read_normalized_metadata([normalize(line) for line in lines])


def read_normalized_metadata(
    texts: list[str], content: list[str] | None = None, whole_text: str | None = None
) -> Metadata:
    """`read_metadata` of lines already `normalize`d. Where the caller has them, `content` holds those lines
    without the empty ones and the page numbers, and `whole_text` the lines joined by spaces."""
    metadata = Metadata(dates=_stated_dates(texts, whole_text))
    texts = content if content is not None else [text for text in texts if text and not is_page_number(text)]
    rejected: list[str] = []
    for start, title in _title_windows(texts):
        candidate, year = _name_before_key(title)
        organization = _valid_name(candidate) if candidate else None
        if organization is None and not candidate and start > 0:
            # a title split after the name: 洪泽区人民政府 / 2023 年政府信息公开工作年度报告
            organization = _valid_name(texts[start - 1])
            if organization is not None:
                title = texts[start - 1] + title
        if metadata.title is None:
            metadata.title, metadata.title_year = title, year
        if organization is not None:
            metadata.title, metadata.title_year, metadata.organization = title, year, organization
            break
        if candidate:
            rejected.append(candidate)
    if metadata.organization.name is None:
        found = _preface_name(texts[:_PREFACE_LINES]) or _signature_name(texts)
        if found is not None:
            metadata.organization = found
        elif rejected:
            metadata.problems.append(f"标题中“{rejected[0]}”不是可识别的机关名称，未作为机关名称使用")
    if metadata.organization.name is not None and metadata.organization.region is None:
        metadata.organization.region = _region_from_prose(metadata.organization, texts)
    return metadata

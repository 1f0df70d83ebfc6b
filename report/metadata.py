"""Who wrote the report, for which year, and when it was published — read from its own words."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from report.model import Level, Organization
from report.tokens import compact, normalize

_TITLE = re.compile(r"(?:政府信息公开|政务公开|信息公开).{0,8}(?:年度报告|年报)")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?:度)?")
_TITLE_TAIL = re.compile(r"(?:关于)?(?:政府信息公开|政务公开|信息公开).*$")

# Administrative units, longest suffixes first; a unit is at least two characters (房县).
_UNIT = re.compile(
    r"(.+?(?:特别行政区|自治区|自治州|自治县|自治旗|街道办事处|街道|苏木|省|市|州|盟|地区|县|区|旗|镇|乡))"
)
_UNIT_PREFIXES = re.compile(
    r"(?:特别行政区|自治区|自治州|自治县|自治旗|街道办事处|街道|苏木|省|市|州|盟|地区|县|区|旗|镇|乡)"
)
_NOT_PLACES = ("城乡", "城区", "社区", "园区", "辖区", "片区", "景区", "市区")
_TOWNSHIP = ("镇", "乡", "街道", "街道办事处", "苏木")
_COUNTY = ("县", "区", "旗", "自治县", "自治旗")
_CITY = ("州", "自治州", "盟", "地区")
_PROVINCE = ("省", "自治区", "特别行政区")
_GOVERNMENT = "人民政府"
_NATIONAL = re.compile(r"^(?:国家|中国|国务院|海关总署|审计署|[^县区市镇乡]{2,8}部$)")
_DEPARTMENT = re.compile(r"(?:局|委员会|委|办公室|办|厅|部|署|中心|院|所|站|队|会|处|公司)$")

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
_DATE_LABEL = re.compile(r"(?:撰写|发布|印发|成文|公开|生成|发文)(?:时间|日期)|^日期")
_PERIOD = re.compile(
    r"((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日\s*(?:起)?\s*(?:至|到|-|—|~|～)\s*((?:19|20)\d{2})\s*年\s*12\s*月\s*31\s*日"
)
SELF_REFERENCE = {
    "township": ("我镇", "我乡", "本镇", "本乡", "全镇", "全乡", "我街道", "本街道"),
    "department": ("我局", "本局", "我委", "本委", "我办", "本办", "我厅", "本厅"),
    "county": ("我县", "全县", "本县", "我旗"),
}


def find_title(lines: list[str]) -> str | None:
    """The first short line that names a 政府信息公开 annual report and a year."""
    for line in lines:
        text = normalize(line).lstrip("#* ").rstrip("* ")
        if 6 <= len(text) <= 80 and "《" not in text and _TITLE.search(text) and _YEAR.search(text):
            return text
    return None


def title_year(title: str) -> int | None:
    match = _YEAR.search(title)
    return int(match.group(1)) if match else None


def _units(place: str) -> list[str]:
    """`十堰市房县白鹤镇` -> [十堰市, 房县, 白鹤镇]; stops at the first piece that is not a place."""
    units: list[str] = []
    position = 0
    while position < len(place):
        match = _UNIT.match(place, position)
        if not match or match.group(1) in _NOT_PLACES or "和" in match.group(1) or len(match.group(1)) > 12:
            break
        units.append(match.group(1))
        position = match.end()
    return units


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


def _ranks(unit: str) -> tuple[int, ...]:
    return next((ranks for suffix, ranks in _RANKS if unit.endswith(suffix)), ())


def _split_places(place: str, above: int = -1) -> list[str] | None:
    """Split a string made only of place names into its units, each lower in the hierarchy than the one
    before; of the possible splits, the one with most units (会盟镇 is one unit; 丹江口市均州路街道办事处 is
    丹江口市 + 均州路街道办事处, since a 州 cannot sit below a 市)."""
    if not place:
        return []
    best: list[str] | None = None
    for end in range(2, len(place) + 1):
        unit = place[:end]
        rank = next((rank for rank in _ranks(unit) if rank > above), None)
        if rank is None or unit in _NOT_PLACES:
            continue
        rest = _split_places(place[end:], rank)
        if rest is not None and (best is None or len(rest) + 1 > len(best)):
            best = [unit, *rest]
    return best


def _unit_level(unit: str, parent: str | None) -> Level:
    if unit.endswith(_TOWNSHIP):
        return "township"
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


def organization_from_name(full_name: str) -> Organization:
    """Split a body's full name into its own name, the region qualifier before it, and its level.

    房县白鹤镇人民政府 -> 白鹤镇人民政府 / 房县 / township; 房县教育局 -> 教育局 / 房县 / department;
    十堰市房县人民政府 -> 房县人民政府 / 十堰市 / county.
    """
    name = compact(full_name)
    if name.endswith(_GOVERNMENT):
        units = _split_places(name[: -len(_GOVERNMENT)])
        if units:
            parent = units[-2] if len(units) > 1 else None
            return Organization(name=units[-1] + _GOVERNMENT, region=parent, level=_unit_level(units[-1], parent))
    places = _split_places(name)
    if places:  # a bare place name: 白鹤镇
        parent = places[-2] if len(places) > 1 else None
        return Organization(name=places[-1], region=parent, level=_unit_level(places[-1], parent))
    units = _units(name)
    rest = name[len("".join(units)) :]
    if rest and _DEPARTMENT.search(rest):
        if not units and _NATIONAL.match(rest):
            return Organization(name=rest, region=None, level="national")
        return Organization(name=rest, region=units[-1] if units else None, level="department")
    return Organization(name=name or None, region=None, level="unknown")


def organization_from_title(title: str) -> Organization:
    text = compact(title)
    text = _YEAR.sub("", text, count=1)
    text = _TITLE_TAIL.sub("", text)
    if not text:
        return Organization()
    return organization_from_name(text)


def level_from_prose(text: str) -> Level:
    """A body's level from how it names itself (我镇, 我局, 我县) when nothing else says."""
    counts = Counter({level: sum(text.count(word) for word in words) for level, words in SELF_REFERENCE.items()})
    level, count = counts.most_common(1)[0]
    return level if count else "unknown"  # type: ignore[return-value]


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


def find_published(lines: list[str]) -> str | None:
    """The stated publication date: a labelled date (撰写时间, 发布日期 …) or the date under the signature."""
    texts = [normalize(line) for line in lines]
    for index, text in enumerate(texts):
        label = _DATE_LABEL.search(text)
        if not label or len(text) > 40:
            continue
        found = parse_date(text[label.end() :])
        if found is None and index + 1 < len(texts):
            found = parse_date(texts[index + 1])
        if found:
            return found
    tail = [text for text in texts if text][-6:]
    for text in reversed(tail):
        if len(text) <= 24 and _is_bare_date(text):
            found = parse_date(text)
            if found:
                return found
    return None


def period_spans(text: str) -> list[tuple[int, int]]:
    """Statistics periods stated as 自X年1月1日至Y年12月31日, as (X, Y) in the order written, once each."""
    return list(dict.fromkeys((int(a), int(b)) for a, b in (m.groups() for m in _PERIOD.finditer(normalize(text)))))


def period_years(text: str) -> list[int]:
    """Years of statistics periods stated as 自X年1月1日至Y年12月31日."""
    return sorted({int(year) for match in _PERIOD.finditer(normalize(text)) for year in match.groups()})

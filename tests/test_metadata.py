"""Who wrote a report and when: names split into body and region, levels, years, publication dates."""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from pathlib import Path

import pytest

from report.document import lines_document
from report.identity import apply_folder_region, name_key, region_from_folder
from report.metadata import (
    _JOINS_AS_THEY_ARE,
    _PERIOD,
    _lines_holding_from_the_top,
    choose_published,
    compact_joined,
    find_published,
    lines_holding,
    organization_from_name,
    organization_from_title,
    parse_date,
    period_matches,
    published_dates,
    read_metadata,
)
from report.model import Organization, Source
from report.normalized import compact, normalize
from report.parse import parse_document


@pytest.mark.parametrize(
    ("full_name", "name", "region", "level"),
    [
        ("房县白鹤镇人民政府", "白鹤镇人民政府", "房县", "township"),
        ("加格达奇区白桦乡人民政府", "白桦乡人民政府", "加格达奇区", "township"),
        ("十堰市房县人民政府", "房县人民政府", "十堰市", "county"),
        ("房县人民政府", "房县人民政府", None, "county"),
        ("十堰市人民政府", "十堰市人民政府", None, "city"),
        ("十堰市丹江口市人民政府", "丹江口市人民政府", "十堰市", "county"),
        ("湖北省人民政府", "湖北省人民政府", None, "province"),
        ("恩施土家族苗族自治州人民政府", "恩施土家族苗族自治州人民政府", None, "city"),
        ("房县教育局", "教育局", "房县", "department"),
        ("房县住房和城乡建设局", "住房和城乡建设局", "房县", "department"),
        ("房县市场监督管理局", "市场监督管理局", "房县", "department"),
        ("十堰市房县卫生健康委员会", "卫生健康委员会", "房县", "department"),
        ("教育部", "教育部", None, "national"),
        ("国家统计局", "国家统计局", None, "national"),
        ("孟津区会盟镇人民政府", "会盟镇人民政府", "孟津区", "township"),
        ("尧都区屯里街道办事处", "屯里街道办事处", "尧都区", "township"),
        # the 市 of 城市管理局 is no place
        ("莆田市城市管理局", "城市管理局", "莆田市", "department"),
        ("房县城市管理局", "城市管理局", "房县", "department"),
        ("上海市科委", "科委", "上海市", "department"),
        ("三明市", "三明市", None, "city"),
        ("淮安市洪泽区人民政府", "洪泽区人民政府", "淮安市", "county"),
        # a government's 办公厅/办公室 counts as a department
        ("湖北省人民政府办公厅", "人民政府办公厅", "湖北省", "department"),
        ("房县人民政府办公室", "人民政府办公室", "房县", "department"),
        ("国务院办公厅", "国务院办公厅", None, "national"),
        # functional zones and their bodies: no level of government the format names
        ("平潭综合实验区", "平潭综合实验区", None, "unknown"),
        ("平潭综合实验区管委会", "平潭综合实验区管委会", None, "unknown"),
        ("房县经济开发区管理委员会", "经济开发区管理委员会", "房县", "unknown"),
        ("福州片区管理局", "福州片区管理局", None, "unknown"),
        ("上海市浦东新区管委会", "浦东新区管委会", "上海市", "unknown"),
        ("中国（福建）自由贸易试验区福州片区管理局", "中国(福建)自由贸易试验区福州片区管理局", None, "unknown"),
        # a national agency's local branch is no national body, nor its name a place
        ("国家税务总局房县税务局", "国家税务总局房县税务局", None, "department"),
        ("国家市场监督管理总局", "国家市场监督管理总局", None, "national"),
        ("天津市和平区人民政府", "和平区人民政府", "天津市", "county"),
        ("房县公共资源交易中心", "公共资源交易中心", "房县", "unknown"),
    ],
)
def test_organization_from_name(full_name: str, name: str, region: str | None, level: str) -> None:
    assert organization_from_name(full_name) == Organization(name=name, region=region, level=level)


@pytest.mark.parametrize(
    ("title", "name", "region"),
    [
        ("房县白鹤镇人民政府2023年政府信息公开工作年度报告", "白鹤镇人民政府", "房县"),
        ("2023年房县白鹤镇人民政府政府信息公开工作年度报告", "白鹤镇人民政府", "房县"),
        ("加格达奇区白桦乡人民政府 2022 年 政府信息公开工作年度报告", "白桦乡人民政府", "加格达奇区"),
        ("房县教育局2023年度政府信息公开工作年度报告", "教育局", "房县"),
        ("房县白鹤镇人民政府关于2022年度政府信息公开工作情况的报告", "白鹤镇人民政府", "房县"),
        ("襄州区红坪镇人民政府 2024 年政府信息公开工作年度报告", "红坪镇人民政府", "襄州区"),
        ("房县白鹤镇人民政府二〇二二年政府信息公开工作年度报告", "白鹤镇人民政府", "房县"),
        ("标题：莆田市城市管理局2022年度政府信息公开工作年度报告", "城市管理局", "莆田市"),
        ("沭阳县发展和改革局2023年政府信息公开年度报告-沭阳县发改局", "发展和改革局", "沭阳县"),
        ("首页 > 政府信息公开年报 > 房县教育局2023年政府信息公开工作年度报告", "教育局", "房县"),
        ("房县人民政府政府信息公开工作年度报告（2023年度）", "房县人民政府", None),
        ("2023年度房县教育局政府信息公开工作年度报告", "教育局", "房县"),
    ],
)
def test_organization_from_title(title: str, name: str, region: str) -> None:
    organization = organization_from_title(title)
    assert (organization.name, organization.region) == (name, region)


def test_title_is_a_short_line_not_a_citation() -> None:
    lines = [
        "按照《关于印发<中华人民共和国政府信息公开工作年度报告格式>的通知》（2021年）相关规定，现将工作报告如下：",
        "# 孟津区白鹤镇人民政府 2024 年政府信息公开工作年度报告",
    ]
    assert read_metadata(lines).title == "孟津区白鹤镇人民政府 2024 年政府信息公开工作年度报告"


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024年01月23日 16:12:21", "2024-01-23"),
        ("2024-1-5", "2024-01-05"),
        ("二〇二四年一月二十三日", "2024-01-23"),
        ("二〇二四年三月十日", "2024-03-10"),
        ("2024年2月30日", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


def test_published_from_label_or_signature_but_not_from_prose() -> None:
    assert find_published(["标题", "发布日期：2024-01-20", "正文"]) == "2024-01-20"
    assert find_published(["正文", "房县白鹤镇人民政府", "二〇二四年一月二十日"]) == "2024-01-20"
    assert find_published(["统计期限自2023年1月1日至2023年12月31日。", "六、其他需要报告的事项", "无"]) is None


def test_year_from_statistics_period_when_there_is_no_title() -> None:
    text = "一、总体情况\n我镇自2022年1月1日至2022年12月31日公开信息65条。\n"
    report = parse_document(lines_document(text), Source(path="a.txt", sha256="", format="txt"))
    assert report.year == 2022
    assert report.organization.level == "township"


def test_region_from_folder() -> None:
    assert region_from_folder(Path("/share/房县/白鹤镇/2023.pdf"), "白鹤镇人民政府") == "房县"
    assert region_from_folder(Path("/share/十堰市/房县/教育局/2023.pdf"), "教育局") == "房县"
    assert region_from_folder(Path("/share/inbox/2023.pdf"), "白鹤镇人民政府") is None
    assert region_from_folder(Path("/share/房县/2023.pdf"), "房县人民政府") is None


def test_folder_region_fills_only_a_missing_region() -> None:
    source = Source(path="/share/房县/白鹤镇/2023.txt", sha256="", format="txt")
    text = "白鹤镇人民政府2023年政府信息公开工作年度报告\n一、总体情况\n"
    report = parse_document(lines_document(text), source)
    assert report.organization.region is None
    apply_folder_region(report)
    assert report.organization.region == "房县"
    other = parse_document(lines_document("孟津区" + text), source)
    apply_folder_region(other)
    assert other.organization.region == "孟津区"


def _metadata(*lines: str) -> tuple[str | None, str | None, str, int | None]:
    metadata = read_metadata(list(lines))
    organization = metadata.organization
    return organization.name, organization.region, organization.level, metadata.title_year


_BODY = ["一、总体情况", "2023年，我区坚持以习近平新时代中国特色社会主义思想为指导。"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # a title split under a PDF page number
        (
            ["- 1 -", "洪泽区人民政府", "2023 年政府信息公开工作年度报告", *_BODY],
            ("洪泽区人民政府", None, "county", 2023),
        ),
        (
            ["第 1 页 共 9 页", "淮安市洪泽区人民政府", "2024 年政府信息公开工作年度报告"],
            ("洪泽区人民政府", "淮安市", "county", 2024),
        ),
        # split in the middle, after a crawler's 正文 label
        (["正文", "2024 年上海市科委政府信息公开工作", "年度报告", *_BODY], ("科委", "上海市", "department", 2024)),
        # every text run on its own line
        (
            ["莆田市水利局", "2023年", "度", "政府信息", "公开", "工作年度报告"],
            ("水利局", "莆田市", "department", 2023),
        ),
        # a crawler's header; the page's 来源 names another government
        (
            [
                "标题: 平潭综合实验区2021年度政府信息公开工作年度报告",
                "发布时间: 2022-02-08 16:34",
                "来源：平潭县人民政府",
            ],
            ("平潭综合实验区", None, "unknown", 2021),
        ),
        # the title inside a breadcrumb of a page fused onto one line
        (
            [
                "当前位置： 首页政务公开政府信息公开年报 平潭综合实验区2021年度政府信息公开工作年度报告 来源：平潭县人民政府"
                " 时间：2022-02-08 16:34 根据《中华人民共和国政府信息公开条例》要求，我区编制完成了本报告。" * 2
            ],
            ("平潭综合实验区", None, "unknown", 2021),
        ),
        # the parent place from the prose, when at least two mentions agree on it
        (
            [
                "洪泽区人民政府",
                "2023 年政府信息公开工作年度报告",
                "本报告由淮安市洪泽区人民政府办公室编制。如对本报告有疑问，请与淮安市洪",
                "泽区人民政府办公室联系（地址：淮安市洪泽区洪泽湖大道 90 号）。",
            ],
            ("洪泽区人民政府", "淮安市", "county", 2023),
        ),
        (
            ["洪泽区人民政府", "2023 年政府信息公开工作年度报告", "本报告由淮安市洪泽区人民政府办公室编制。"],
            ("洪泽区人民政府", None, "county", 2023),
        ),
        (
            [
                "白鹤镇人民政府2023年政府信息公开工作年度报告",
                "本报告由房县白鹤镇人民政府编制，请与孟津区白鹤镇人民政府联系。",
            ],
            ("白鹤镇人民政府", None, "township", 2023),
        ),
        # chrome after the title: a file name, a bracketed note
        (["房县教育局2023年政府信息公开工作年度报告.pdf"], ("教育局", "房县", "department", 2023)),
        (["房县教育局2023年政府信息公开工作年度报告（全文）"], ("教育局", "房县", "department", 2023)),
        (["房县教育局2023年政府信息公开工作年度报告（2024年1月修订）"], ("教育局", "房县", "department", 2023)),
        (["房县人民政府政府信息公开工作年度报告（二〇二三年度）"], ("房县人民政府", None, "county", 2023)),
        # a page title ending with the site's name
        (["房县教育局2023年政府信息公开工作年度报告_十堰市人民政府"], ("教育局", "房县", "department", 2023)),
        # the body only in the preface, or only in the signature
        (
            [
                "2023年政府信息公开工作年度报告",
                "根据《条例》规定，现公布房县白鹤镇人民政府2023年政府信息公开工作年度报告。",
            ],
            ("白鹤镇人民政府", "房县", "township", 2023),
        ),
        (
            ["2023年政府信息公开工作年度报告", *_BODY, "六、其他需要报告的事项", "无。", "房县教育局", "2024年1月20日"],
            ("教育局", "房县", "department", 2023),
        ),
        # a government's office signing: whose report it is stays open
        (
            ["2023年政府信息公开工作年度报告", *_BODY, "房县人民政府办公室", "2024年3月20日"],
            ("人民政府办公室", "房县", "unknown", 2023),
        ),
        # no body anywhere: no name; a self-reference or a fragment is none
        (
            ["2023年政府信息公开工作年度报告", "现公布我镇2023年政府信息公开工作年度报告。"],
            (None, None, "unknown", 2023),
        ),
        (["关于2022年度政府信息公开工作情况的报告", *_BODY], (None, None, "unknown", 2022)),
    ],
)
def test_read_metadata(lines: list[str], expected: tuple[str | None, str | None, str, int | None]) -> None:
    assert _metadata(*lines) == expected


@pytest.mark.parametrize(
    "fragment", ["人民政府", "区", "管理局", "工作", "我镇", "年报", "现公布", '=HYPERLINK("x",A1)', "A1,房县"]
)
def test_fragments_are_no_names(fragment: str) -> None:
    assert read_metadata([f"{fragment}2023年政府信息公开工作年度报告", *_BODY]).organization.name is None


def test_wrapped_prose_is_no_title() -> None:
    lines = ["根据《条例》要求，现公布房县白鹤镇人民政府", "2023年政府信息公开工作年度报告，报告如下"]
    assert read_metadata(lines).title is None


def test_a_fragment_is_no_name_and_says_so() -> None:
    metadata = read_metadata(["工作2023年政府信息公开工作年度报告", *_BODY])
    assert metadata.organization.name is None
    assert metadata.problems == ["标题中“工作”不是可识别的机关名称，未作为机关名称使用"]


@pytest.mark.parametrize(
    ("dates", "year", "published", "problem"),
    [
        (["2024-01-20"], 2023, "2024-01-20", False),
        (["2023-01-01", "2024-01-20"], 2023, "2024-01-20", False),  # a placeholder, then the signature
        (["2023-01-01"], 2023, None, True),
        (["2023-12-31"], 2023, None, True),
        ([], 2023, None, False),
        (["2023-06-01"], None, "2023-06-01", False),
    ],
)
def test_a_date_before_the_period_ends_is_a_placeholder(
    dates: list[str], year: int | None, published: str | None, problem: bool
) -> None:
    chosen, reason = choose_published(dates, year)
    assert chosen == published
    assert (reason is not None) == problem
    if reason:
        assert dates[0] in reason and f"{year}年12月31日" in reason


def test_page_chrome_dates_are_not_publication_dates() -> None:
    lines = ["采集时间：2025-12-30T21:37:37+08:00", "页面生成时间 2024-05-28", "公开日期", "2024-01-17", "正文"]
    assert published_dates(lines) == ["2024-01-17"]
    assert published_dates(["撰写时间", "2024年01月23日 16:12:21", "来源"]) == ["2024-01-23"]
    assert (
        find_published(["发布时间：2022-02-08 16:34 来源：平潭县人民政府 浏览次数：1234 微信 微博 QQ空间"])
        == "2022-02-08"
    )


def test_placeholder_date_in_a_parsed_report() -> None:
    text = "房县教育局2023年政府信息公开工作年度报告\n发布时间：2023-01-01\n一、总体情况\n我局全年公开信息。\n"
    report = parse_document(lines_document(text), Source(path="a.txt", sha256="", format="txt"))
    assert report.published is None
    assert any("占位" in problem for problem in report.problems)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("白鹤镇人民政府", "白鹤镇", True),
        ("房县人民政府", "房县", True),
        ("平潭综合实验区管委会", "平潭综合实验区", True),
        ("房县经济开发区管理委员会", "房县经济开发区", True),
        ("教育局", "教育", False),
        ("人民政府", "", False),
        ("城市管理局", "城市", False),
    ],
)
def test_name_key(first: str, second: str, same: bool) -> None:
    assert (name_key(first) == name_key(second)) is same


def test_lines_holding_finds_the_lines_a_line_by_line_test_finds() -> None:
    words = ("告", "报", "日期")
    pieces = ["报告", "年报", "日期", "日", "期", "工作", "", "告", "2023年"]
    rng = random.Random(15)
    for _ in range(500):
        lines = ["".join(rng.choices(pieces, k=rng.randint(0, 4))) for _ in range(rng.randint(0, 8))]
        assert lines_holding(lines, words) == [i for i, line in enumerate(lines) if any(w in line for w in words)]


def test_lines_holding_from_the_top_piece_by_piece_finds_them_all() -> None:
    rng = random.Random(15)
    for length in (0, 1, 15, 16, 17, 80, 81, 400):
        lines = [rng.choice(["报告", "", "正文", "日期 报", "告"]) for _ in range(length)]
        assert list(_lines_holding_from_the_top(lines, ("告", "报"))) == lines_holding(lines, ("告", "报"))


def test_period_matches_are_those_of_a_search_at_every_position() -> None:
    """The periods found from each 年1月1日 back are the regex's own matches, spans and years alike: with
    every kind of space, full-width digits, years run into other digits, pieces missing, periods back to back."""
    period = ["2023", "年", "1", "月", "1", "日", "起", "至", "2022", "年", "12", "月", "31", "日"]
    others = ["１９９９", "12023", "2031", "203", "年", "1", "12", "31", "x", "至", "-", "～"]
    spaces = ["", "", "", " ", "  ", "\u3000", "\t", "\x1c"]
    rng = random.Random(15)
    found = spaced = several = 0
    for _ in range(3000):
        text = rng.choice(spaces)
        for _ in range(rng.randint(1, 3)):
            for piece in period:
                roll = rng.random()
                text += (rng.choice(others) if roll < 0.04 else "" if roll < 0.06 else piece) + rng.choice(spaces)
            text += rng.choice(["", "x", "2", "12", "。", "日"])
        expected = [(match.span(), match.groups()) for match in _PERIOD.finditer(text)]
        assert [(match.span(), match.groups()) for match in period_matches(text)] == expected
        found += bool(expected)
        several += len(expected) > 1
        spaced += any(text[start + 4].isspace() for (start, _), _ in expected)
    assert 0 < found < 3000 and several and spaced  # each case was exercised


def test_lines_beginning_so_join_without_composing() -> None:
    """No character a line may begin with for `compact_joined` composes with or moves before the character
    before it: each is a starter, and none is the second of a canonical decomposition."""
    seconds = set()
    for code in range(0x30000):  # no character of a later plane has a decomposition
        decomposition = unicodedata.decomposition(chr(code)).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<"):
            seconds.add(chr(int(decomposition[1], 16)))
    every_character = "".join(map(chr, range(sys.maxunicode + 1)))
    allowed = re.findall(_JOINS_AS_THEY_ARE.pattern.removesuffix("*"), every_character)
    assert {"中", "a", "“", "（", "、"} <= set(allowed)
    assert not [c for c in allowed if unicodedata.combining(c) or c in seconds or "\u1100" <= c <= "\u11ff"]


def test_compact_joined_is_the_compact_of_the_lines_joined() -> None:
    pieces = [
        "白鹤镇",
        "人民政府",
        "报告 2023",
        "e",
        "\u0301",
        "\u3099",
        "か",
        "\u1100",
        "\u1161",
        "\u11a8",
        "ｶ",
        "\uff9e",
    ]
    pieces += ["（一）", "“", "。", " ", "\u3000", "é", "\u0915", "\u093c"]
    rng = random.Random(15)
    for _ in range(3000):
        lines = [normalize("".join(rng.choices(pieces, k=rng.randint(1, 4)))) for _ in range(rng.randint(0, 6))]
        assert compact_joined(lines) == compact("".join(lines))


def test_level_from_prose_counts_every_self_reference() -> None:
    """The level named most often (the first of `SELF_REFERENCE` on a tie), as counting each word says, over
    texts made of the words, their leads and their units in any order (one word's lead next to another's unit)."""
    from collections import Counter

    from report.metadata import SELF_REFERENCE, level_from_prose

    def counted(text: str) -> str:
        counts = Counter({level: sum(map(text.count, words)) for level, words in SELF_REFERENCE.items()})
        level, count = counts.most_common(1)[0]
        return level if count else "unknown"

    pieces = [*(word for words in SELF_REFERENCE.values() for word in words), *"我本全镇乡街道局委办厅县旗市", "街道办"]
    rng = random.Random(3)
    texts = [
        "",
        "我局本局全县",
        "全县我局",
        "本镇我县",
        *("".join(rng.choices(pieces, k=rng.randrange(12))) for _ in range(5000)),
    ]
    assert [level_from_prose(text) for text in texts] == [counted(text) for text in texts]
    assert level_from_prose("全县我局") == "department"  # a tie: department comes before county

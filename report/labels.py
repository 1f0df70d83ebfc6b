"""How the format's headings and row labels are recognised in text of any layout.

Matching is on `compact()` text (NFKC, no whitespace), so spacing, full/half-width punctuation and labels
wrapped over lines do not matter. Each row has a *core*: a phrase distinctive enough to find it without the
numbering (1. / 1、 / （一） / (一)) that reports write differently.
"""

from __future__ import annotations

import re

from report.normalized import normalize

# Section numeral -> phrases one of which its heading contains (国办公开办函〔2021〕30号 and variants).
SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "一": ("总体情况",),
    "二": ("主动公开",),
    "三": ("收到和处理", "申请情况"),
    "四": ("行政复议", "行政诉讼"),
    "五": ("存在的主要问题", "存在问题", "主要问题", "改进情况", "存在的不足", "不足及改进", "改进措施"),
    "六": ("其他需要报告", "其他需报告", "其他应说明", "其他需要说明", "其他事项"),
}
# Section numeral -> a pattern of its heading's words distinctive enough to place it whatever numeral it
# bears (a renumbered report, or a heading fused into the middle of a line).
SECTION_PHRASES: dict[str, str] = {
    "一": r"总体情况",
    "二": r"主动公开政[府务]信息情况",
    "三": r"收到和处理政[府务](?:信息)?公开申请(?:情况)?",
    # 行政复议、行政诉讼情况 and its variants (和/及, 提起, 的, even a stray character: 行政法复议).
    "四": r"行政.?复议[、和及与]?(?:提起)?行政诉讼的?情况",
    "五": r"(?:存在的主要问题|存在问题|主要问题)及(?:改进情况|下一步)",
    "六": r"其他(?:需要|需|应)(?:报告|说明)的?事项",
}
# A word each phrase holds whatever its variant: a title without it is not searched for the phrase.
SECTION_PHRASE_WORDS: dict[str, str] = {
    "一": "总体情况",
    "二": "主动公开政",
    "三": "收到和处理政",
    "四": "行政诉讼",
    "五": "问题及",
    "六": "事项",
}
# The phrases compiled once, in SECTION_PHRASES' order, each with its word.
_SECTION_PATTERNS = tuple(
    (numeral, SECTION_PHRASE_WORDS[numeral], re.compile(phrase)) for numeral, phrase in SECTION_PHRASES.items()
)
ARABIC_NUMERALS = {"1": "一", "2": "二", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七", "8": "八", "9": "九"}
# A heading inside a line: its numeral (not a sub-item's （一）, not a row label's digit), up to a few words
# (政府信息公开工作 …), then one of its phrases. Fused text carries the whole report on one line.
EMBEDDED_HEADING = re.compile(
    r"(?<![（(])(?P<numeral>[一二三四五六])\s*[、.．]\s*(?P<lead>[^。；，、\d（(]{0,14}?)(?P<phrase>"
    + "|".join(SECTION_PHRASES.values())
    + ")"
)
# A line holding only a section numeral: the heading's words are on the next line (PDF text layers).
BARE_NUMERAL = re.compile(r"^[#*\s]*[一二三四五六1-6]\s*[、.．]\s*$")
# Numerals up to 九: a report that inserted a part carries its last ones as 七、 or 八、 (renumbered_section).
# The title is 2 to 60 characters, the shortest that leaves only `*`, whitespace and colons after it: its first
# two characters, then (when there is one) up to its last character that is none of those. Written that way,
# the title is taken whole and given back from the end, rather than tried a character longer at a time
# (`.{2,60}?`, which matched the same: tests/test_normalized.py compares the two).
HEADING = re.compile(
    r"^[#*\s]*(?P<numeral>[一二三四五六七八九1-9])\s*[、.,:：]\s*(?P<title>..(?:.{0,57}[^*\s:：])?)[*\s:：]*$"
)

# A page number a PDF's text layer puts among the lines: - 4 -, — 6 —, 第 3 页 共 9 页, 共9页第3页, 3/9, Page 3.
PAGE_FOOTER = re.compile(
    r"^\s*(?:[-—–－~－]{1,2}\s*\d{1,4}\s*[-—–－~－]{1,2}"
    r"|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*[,，]?\s*第\s*\d{1,4}\s*页"
    r"|\d{1,4}\s*/\s*\d{1,4}"
    r"|[Pp]age\s*\d{1,4}(?:\s*of\s*\d{1,4})?)\s*$"
)
# Characters that make a number written against text part of the prose (2021年, 70件, 第3页), not a cell
# fused to its row label: a digit run followed by one of these stays in the text.
NUMBER_UNITS = (
    "年月日号时分秒件条个项次人家批期万元亿篇份部类天名余多位所届级倍场户座台辆套本册页章节款起宗例张封则组岁%"
)

# Table 三: row key -> cores (any one found in the label text places the row).
REQUEST_CORES: dict[str, tuple[str, ...]] = {
    "new": ("本年新收",),
    "carried_in": ("上年结转",),
    "granted": ("予以公开",),
    "partial": ("部分公开",),
    "denied_secret": ("国家秘密",),
    "denied_law": ("行政法规禁止公开", "法规禁止公开"),
    "denied_safety": ("三安全一稳定", "危及"),
    "denied_third_party": ("第三方合法权益",),
    "denied_internal": ("内部事务信息", "三类内部事务"),
    "denied_process": ("过程性信息",),
    "denied_enforcement": ("行政执法案卷",),
    "denied_query": ("行政查询事项",),
    "unavailable_not_held": ("不掌握",),
    "unavailable_needs_creation": ("另行制作",),
    "unavailable_unclear": ("仍不明确",),
    "rejected_petition": ("信访举报投诉",),
    "rejected_repeat": ("重复申请",),
    "rejected_publication": ("公开出版物",),
    "rejected_excessive": ("大量反复申请",),
    "rejected_confirmation": ("重新出具", "确认或重新"),
    "other_no_correction": ("逾期不补正",),
    "other_no_fee": ("收费通知", "缴纳费用"),
    "carried_out": ("结转下年度", "结转下年"),
}
# Rows whose label is a common word: they must be a whole cell, numbering aside.
REQUEST_EXACT: dict[str, tuple[str, ...]] = {
    "other_other": ("其他",),
    "total": ("总计", "合计"),
}
NUMBERING = re.compile(r"^(?:[(（]?[一二三四五六七八九十\d]{1,2}[)）]|[一二三四五六七八九十\d]{1,2}[、.,．])\s*")

# Table 二 rows: exact cell text -> (row, kind). `documents` rows carry 3 values, the others 1.
ACTIVE_LABELS: dict[str, str] = {
    "规章": "regulations",
    "行政规范性文件": "normative_documents",
    "规范性文件": "normative_documents",
    "行政许可": "licensing",
    "行政处罚": "penalty",
    "行政强制": "coercion",
    "行政事业性收费": "fees",
}

# Phrases only the 2019 trial template (国办公开办函〔2019〕60号) has.
OUTDATED_TEMPLATE_MARKERS: tuple[str, ...] = (
    "第二十条第(九)项",
    "政府集中采购",
    "采购总金额",
    "本年新制作数量",
    "本年新公开数量",
    "对外公开总数量",
    "其他对外管理服务事项",
    "上一年项目数量",
)
# Table 二's row of the 2019 trial template; the 2021 format says 行政规范性文件. Many 2021-format tables keep the
# old word, so as a marker it is weak: it is named with the others but does not make the finding on its own.
OUTDATED_ACTIVE_LABEL = "规范性文件"
OUTDATED_ACTIVE_MARKER = f"表二“{OUTDATED_ACTIVE_LABEL}”"


def strip_numbering(text: str) -> str:
    """`3.其他` -> `其他`, `(七)总计` -> `总计`; applied repeatedly (`(六)3.其他`)."""
    previous = None
    while previous != text:
        previous, text = text, NUMBERING.sub("", text, count=1)
    return text


def renumbered_section(text: str) -> tuple[str, str] | None:
    """(section by its words, numeral as written) for a heading line under another numeral (三、主动公开政府信息情况
    in a report that left out a part), else None. Only the distinctive phrases count: a narrative sub-head
    such as 三、主动公开工作情况 is not a heading."""
    return renumbered_section_normalized(normalize(text))


def renumbered_section_normalized(text: str) -> tuple[str, str] | None:
    """`renumbered_section` of a line already `normalize`d."""
    match = HEADING.match(text)
    return _renumbered(match["numeral"], match["title"].replace(" ", "")) if match else None


# Every section's keys and phrase words, spaces allowed between their characters: a title whose spaces taken out
# hold none of them is no section's heading (one search in C rather than a test of each key and word in turn,
# and no copy of the title without its spaces; table rows and numbered prose are most titles), and a line holding
# none of them holds no heading phrase's word either.
SECTION_WORD = re.compile(
    "|".join(
        " *".join(word)
        for word in sorted({*SECTION_PHRASE_WORDS.values(), *(key for keys in SECTION_KEYS.values() for key in keys)})
    )
)


def heading_sections(match: re.Match[str]) -> tuple[str | None, tuple[str, str] | None]:
    """(`heading_section`, `renumbered_section`) of a normalized line that `HEADING` matched (`match`)."""
    title = match["title"]
    if SECTION_WORD.search(title) is None:
        return None, None
    written, title = match["numeral"], title.replace(" ", "")
    return _section(written, title), _renumbered(written, title)


def _renumbered(written: str, title: str) -> tuple[str, str] | None:
    for numeral, word, pattern in _SECTION_PATTERNS:
        found = pattern.search(title) if word in title else None
        if found and (found.start() == 0 or found.end() == len(title)):
            return numeral, ARABIC_NUMERALS.get(written, written)
    return None


def _section(written: str, title: str) -> str | None:
    numeral = ARABIC_NUMERALS.get(written, written)
    if any(map(title.__contains__, SECTION_KEYS.get(numeral, ()))):
        return numeral
    return None


def heading_section(text: str) -> str | None:
    """The section numeral when the line is one of the six headings, else None.

    The numeral must agree with the heading's own words: table 三's row `四、结转下年度继续办理` and a
    narrative sub-head `三、2023年工作打算` are not headings.
    """
    return heading_section_normalized(normalize(text))


def heading_section_normalized(text: str) -> str | None:
    """`heading_section` of a line already `normalize`d."""
    match = HEADING.match(text)
    return _section(match["numeral"], match["title"].replace(" ", "")) if match else None

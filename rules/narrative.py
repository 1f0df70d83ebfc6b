"""Rules that read the report's prose: what it states, what it leaves out, and whether its dates agree.

These are written for precision: a statement is only compared when its wording is unambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from nianbao.settings import RuleSettings
from report.model import APPEAL_BLOCKS, AppealBlock, Report
from report.tokens import compact
from rules.base import Hit, ReviewerText, rule

_SENTENCE = re.compile(r"[。；;！!？?\n]")
# Comparisons with other years or running totals are not statements of this year's figure.
_OTHER_PERIOD = re.compile(r"上年|去年|同比|累计|以来|结转|历年|上一年")
# Counts of at most 15 digits (a longer run of digits is no count a sentence states; int() of 4,301+ fails).
_RECEIVED = re.compile(
    r"(?<!未)(?:共|总共|累计)?(?:收到|受理|接收|接到)[^。；;,，]{0,25}?(?<!\d)(\d{1,15})(?:件|条|个|份|次|宗)"
)
_NONE_RECEIVED = re.compile(r"未(?:收到|受理|接到|接收)[^。；;]{0,25}?申请")
_NONE_APPEALS = re.compile(
    r"未(?:发生|开展|产生|出现|收到|涉及|有)[^。；;]{0,12}?(行政复议|行政诉讼)(?:[及和、与](行政诉讼|行政复议))?"
)
_APPEAL_COUNT = re.compile(r"(行政复议|行政诉讼)(?:案件)?(?:共|总共)?(\d{1,15})(?:件|起|宗)")
# Words that show section 一 touches a topic. Loose enough for real reports' wording, but a mere channel
# ("通过门户网站发布") is not platform building and "管理" alone is not 政府信息管理.
TOPICS: dict[str, tuple[str, ...]] = {
    "主动公开": ("主动公开",),
    "依申请公开": ("依申请", "申请公开", "公开申请"),
    "政府信息管理": ("信息管理", "保密审查", "发布审核"),
    "政府信息公开平台建设": ("平台", "网站建设", "栏目建设", "专栏建设", "新媒体", "公众号"),
    "监督保障": ("监督", "考核", "保障", "责任追究"),
}


def _sentences(report: Report) -> Iterator[str]:
    for text in report.evidence.section_text.values():
        for sentence in _SENTENCE.split(compact(text)):
            if sentence and not _OTHER_PERIOD.search(sentence):
                yield sentence


def _appeal_total(report: Report, kind: str) -> int | None:
    appeals = report.tables.appeals
    if appeals is None:
        return None
    blocks = ["review"] if kind == "行政复议" else ["litigation_direct", "litigation_after_review"]
    totals = [getattr(appeals, block).total for block in blocks]
    return None if None in totals else sum(totals)


@rule(
    "narrative.contradicts_table",
    "warning",
    "正文陈述的数字与统计表不一致",
    "正文称“{sentence}”，即 {expected}，但表中 {location} 为 {actual}。",
    basis="《政府信息公开条例》第五十条：正文与统计表是同一份报告，数字不一致说明至少一处有误。",
    reviewer=ReviewerText(
        checks="正文中关于本年度数字的陈述——如“共收到政府信息公开申请12件”“未收到政府信息公开申请”“未发生行政复议”“行政复议2件”——是否与表三“本年新收”（总计列）和表四各块的总计一致。涉及上年、同比、累计的句子不比较。",
        why="正文和统计表是同一份报告（《政府信息公开条例》第五十条），两处数字不一致，至少有一处是错的；“发布内容不准确”也是督查通报中常见的问题。",
        example="第一部分写“本年度共收到政府信息公开申请12件”，表三“本年新收政府信息公开申请数量”总计却是 10 件。",
    ),
)
def contradicts_table(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Reads statements of this year's figures in the prose — 收到…申请N件, 未收到…申请, 未发生行政复议,
    行政复议N件 — and compares them with table 三's 本年新收 (总计 column) and table 四's totals. Sentences
    about other years (上年, 同比, 累计, 以来) are skipped.

    Why is this bad?
    The prose and the tables are one report (《政府信息公开条例》第五十条); when they disagree, at least one of
    them is wrong, and supervising offices criticise exactly this (发布内容不准确).

    Example
    Section 一 says “本年度共收到政府信息公开申请12件” while 本年新收 总计 is 10.
    """
    requests = report.tables.requests
    new_total = requests["new"][6] if requests is not None else None
    seen: set[tuple[str, int]] = set()
    for sentence in _sentences(report):
        if new_total is not None and "申请" in sentence:
            stated: int | None = None
            if _NONE_RECEIVED.search(sentence):
                stated = 0
            else:
                match = _RECEIVED.search(sentence)
                if match:
                    stated = int(match.group(1))
            if stated is not None and stated != new_total and ("new", stated) not in seen:
                seen.add(("new", stated))
                yield Hit(
                    location="三/一、本年新收政府信息公开申请数量/总计",
                    cells=["requests.new[6]"],
                    expected=stated,
                    actual=new_total,
                    fields={"sentence": sentence[:60]},
                )
        for kind, stated in _appeal_statements(sentence):
            actual = _appeal_total(report, kind)
            if actual is not None and actual != stated and (kind, stated) not in seen:
                seen.add((kind, stated))
                block = "review" if kind == "行政复议" else "litigation_direct"
                cells = (
                    ["appeals.review.total"]
                    if kind == "行政复议"
                    else ["appeals.litigation_direct.total", "appeals.litigation_after_review.total"]
                )
                yield Hit(
                    location=f"四/{APPEAL_BLOCKS[block].split('/')[0]}/总计",
                    cells=cells,
                    expected=stated,
                    actual=actual,
                    fields={"sentence": sentence[:60]},
                )


def _appeal_statements(sentence: str) -> Iterator[tuple[str, int]]:
    none = _NONE_APPEALS.search(sentence)
    if none:
        for kind in none.groups():
            if kind:
                yield kind, 0
        return
    for match in _APPEAL_COUNT.finditer(sentence):
        yield match.group(1), int(match.group(2))


@rule(
    "appeals.without_requests",
    "warning",
    "有行政复议或行政诉讼，却没有任何政府信息公开申请",
    "表四“{block}”总计 {actual} 件，但表三本年新收和上年结转的申请都是 0。",
    basis="国办公开办函〔2021〕30号 表四只统计因政府信息公开引起的复议、诉讼，它们源于公开申请；没有申请却有案件，值得复核。",
    reviewer=ReviewerText(
        checks="表四有行政复议或行政诉讼案件，而表三各列的“本年新收”和“上年结转”申请都是 0。",
        why="国办公开办函〔2021〕30号的表四只统计因政府信息公开引起的行政复议和行政诉讼，这类案件源于公开申请。没有任何申请却有案件，可能是往年申请引起的案件，但更常见的是把其他类型的案件计入了表四，或表格填错，值得审核人复核。",
        example="表三全部为 0；表四行政复议“结果纠正”1 件、总计 1 件。",
    ),
)
def without_requests(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when table 四 counts 行政复议 or 行政诉讼 cases while table 三 shows no application at all
    (本年新收 and 上年结转 are 0 in every column).

    Why is this bad?
    Table 四 counts only cases arising from disclosure work, which start from an application. With no
    application received or carried over, a case may stem from an older year's application, but more often
    the case is not a disclosure case or the tables are mistyped — worth a reviewer's look.

    Example
    Table 三 all zero; 行政复议 结果纠正 1, 总计 1.
    """
    requests, appeals = report.tables.requests, report.tables.appeals
    if requests is None or appeals is None:
        return
    cells = requests["new"] + requests["carried_in"]
    if requests["new"][6] is None or requests["carried_in"][6] is None or any(cell for cell in cells if cell):
        return
    for block, label in APPEAL_BLOCKS.items():
        counts: AppealBlock = getattr(appeals, block)
        if counts.total:
            yield Hit(
                location=f"四/{label}/总计",
                cells=[f"appeals.{block}.total", "requests.new[6]", "requests.carried_in[6]"],
                expected=0,
                actual=counts.total,
                fields={"block": label},
            )


@rule(
    "fees.statement_missing",
    "warning",
    "第六部分没有说明信息处理费收取情况",
    "第六部分“其他需要报告的事项”没有说明信息处理费的收取情况（即使未收取也应写明）。",
    basis="国办公开办函〔2021〕30号 第六部分须说明依据《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）收取信息处理费的情况，未收取也应写明。",
    reviewer=ReviewerText(
        checks="第六部分“其他需要报告的事项”是否说明了信息处理费的收取情况。",
        why="国办公开办函〔2021〕30号要求第六部分报告依据《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）收取信息处理费的情况，没有收取也应写明“未收取信息处理费”。表二的“行政事业性收费”是另一回事，不能代替这一说明。",
        example="第六部分只写了“无”，或只写了人大代表建议办理情况，没有一句话提到信息处理费。",
    ),
)
def fee_statement_missing(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when section 六 (其他需要报告的事项) is there but says nothing about 信息处理费.

    Why is this bad?
    The format (国办公开办函〔2021〕30号) asks section 六 to report the 信息处理费 collected under
    《政府信息公开信息处理费管理办法》 (国办函〔2020〕109号), including that none was collected. Table 二's
    行政事业性收费 is a different fee and does not answer it.

    Example
    Section 六 reads only “无”.
    """
    if "六" not in report.sections:
        return
    if "处理费" not in compact(report.evidence.section_text.get("六", "")):
        yield Hit(location="六", expected="信息处理费收取情况", actual=None)


@rule(
    "year.inconsistent",
    "warning",
    "标题年份、统计期限与发布日期不一致",
    "{what}：应为 {expected}，实际为 {actual}。",
    basis="《政府信息公开条例》第四十九条：年度报告说明上一年度的工作，于次年年初公布；年份不一致多为套用往年报告。",
    reviewer=ReviewerText(
        checks="标题中的年份、统计期限（“自X年1月1日起至X年12月31日止”）和发布日期是否相互一致：统计期限应是标题所写的年度，发布日期应在该年度的次年。",
        why="年度报告说明一个自然年度的工作，在次年年初公布（《政府信息公开条例》第四十九条）。年份对不上，多是套用往年报告时只改了一部分日期，报告中的数字也可能是往年的。",
        example="标题为“2023年政府信息公开工作年度报告”，正文却写“本报告中所列数据的统计期限自2022年1月1日起至2022年12月31日止”。",
    ),
)
def year_inconsistent(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Compares the year in the title, the statistics period (自X年1月1日至X年12月31日) and the publication date,
    which should fall in the year after the reporting year.

    Why is this bad?
    A report is about one calendar year and published early in the next (《政府信息公开条例》第四十九条).
    Disagreeing years are the mark of a report copied from another year with the dates half updated.

    Example
    Title “2023年政府信息公开工作年度报告”, statistics period 2022年1月1日至2022年12月31日.
    """
    evidence = report.evidence
    if evidence.title_year is not None:
        for year in evidence.period_years:
            if year != evidence.title_year:
                yield Hit(
                    location="六/统计期限",
                    expected=evidence.title_year,
                    actual=year,
                    fields={"what": "统计期限的年份与标题年份不一致"},
                )
    if report.year is not None and report.published is not None:
        published_year = int(report.published[:4])
        if published_year != report.year + 1:
            yield Hit(
                location="发布日期",
                expected=f"{report.year + 1} 年",
                actual=report.published,
                fields={"what": f"{report.year} 年度报告的发布日期应在次年"},
            )


@rule(
    "narrative.missing_topics",
    "info",
    "第一部分没有涉及格式要求的五个方面之一",
    "第一部分“总体情况”没有涉及“{expected}”。",
    basis="国办公开办函〔2021〕30号 要求第一部分总体情况涵盖主动公开、依申请公开、政府信息管理、平台建设、监督保障五个方面。",
    reviewer=ReviewerText(
        checks="第一部分“总体情况”是否涉及年度报告格式列出的五个方面：主动公开、依申请公开、政府信息管理、政府信息公开平台建设、监督保障。每缺一个方面提示一次。",
        why="国办公开办函〔2021〕30号要求第一部分总体情况涵盖这五个方面，《政府信息公开条例》第五十条要求全面报告本年度工作。这是提示，不一定是错误：有的机关把相关内容写在其他部分，请审核人判断。",
        example="第一部分只写了“（一）主动公开”和“（二）依申请公开”，没有提到信息管理、平台建设和监督保障。",
    ),
)
def missing_topics(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Checks that section 一 (总体情况) touches each of the five topics the format lists: 主动公开, 依申请公开,
    政府信息管理, 政府信息公开平台建设, 监督保障.

    Why is this bad?
    国办公开办函〔2021〕30号 asks section 一 to cover these five; 《政府信息公开条例》第五十条 wants the year's
    work reported without omissions. A section 一 about something else leaves the reader without the overview.

    Example
    A section 一 that only describes the township's 为民服务中心.
    """
    if "一" not in report.sections:
        return
    text = compact(report.evidence.section_text.get("一", ""))
    for topic, words in TOPICS.items():
        if not any(word in text for word in words):
            yield Hit(location="一", expected=topic, actual=None)

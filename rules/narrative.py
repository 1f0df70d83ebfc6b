"""Rules that read the report's prose: what it states, what it leaves out, and whether its dates agree.

These are written for precision: a statement is only compared when its wording is unambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from report.identity import name_key
from report.metadata import SELF_REFERENCE, organization_from_name
from report.model import (
    ACTIVE_DOCUMENT_FIELDS,
    ACTIVE_DOCUMENT_ROWS,
    APPEAL_BLOCKS,
    REQUEST_ROWS,
    SECTION_NUMERALS,
    ActiveTable,
    AppealBlock,
    Cell,
    Report,
)
from report.normalized import compact
from rules.base import Hit, ReviewerText, rule
from rules.settings import RuleSettings
from rules.structure import SECTION_TITLES
from rules.views import SENTENCE_END, Words, compact_sections, derived, one_sentence_end

# Comparisons with other years or running totals are not statements of this year's figure.
_OTHER_PERIOD = Words("上年", "去年", "同比", "累计", "以来", "结转", "历年", "上一年")
# Counts of at most 15 digits (a longer run of digits is no count a sentence states; int() of 4,301+ fails).
_RECEIVED = re.compile(
    r"(?<!未)(?:共|总共|累计)?(?:收到|受理|接收|接到)[^。；;,，]{0,25}?(?<!\d)(\d{1,15})(?:件|条|个|份|次|宗)"
)
# one of them is in every statement _RECEIVED or _NONE_RECEIVED reads
_RECEIVING = Words("收到", "受理", "接收", "接到")
_APPLICATION = Words("申请")
_NONE_RECEIVED = re.compile(r"未(?:收到|受理|接到|接收)[^。；;]{0,25}?申请")
_NONE_APPEALS = re.compile(
    r"未(?:发生|开展|产生|出现|收到|涉及|有)[^。；;]{0,12}?(行政复议|行政诉讼)(?:[及和、与](行政诉讼|行政复议))?"
)
_APPEAL_COUNT = re.compile(r"(行政复议|行政诉讼)(?:申请|案件)?(?:共|总共)?(\d{1,15})(?:件|起|宗)")
# Table 二 in prose: 制发/废止/现行有效 规章 or (行政)规范性文件 N件, in either order of verb and noun.
_DOCUMENT = r"(规章|(?:行政)?规范性文件)"
_COUNT = r"(?:共|总共|共计)?(\d{1,15})(?:件|个|份)"
# How a _DOCUMENT starts (行政规范性文件 too) and ends (规章, …规范性文件).
_DOCUMENT_STARTS = ("规", "行政规")
_DOCUMENT_ENDS = ("规章", "规范性文件")


def _joined(firsts: tuple[str, ...], seconds: tuple[str, ...]) -> Words:
    return Words(*(first + second for first in firsts for second in seconds))


# (field, the words one of which the statement holds where its verb meets its noun, the statement): a sentence
# without them is let go before the pattern runs — a table's header row (本年制发件数 … 现行有效件数) among them.
_DOCUMENT_STATEMENTS: tuple[tuple[str, Words, re.Pattern[str]], ...] = (
    (
        "issued",
        _joined(("制发", "制定", "出台", "印发"), _DOCUMENT_STARTS),
        re.compile(rf"(?:制发|制定|出台|印发){_DOCUMENT}{_COUNT}"),
    ),
    ("repealed", _joined(("废止",), _DOCUMENT_STARTS), re.compile(rf"废止{_DOCUMENT}{_COUNT}")),
    (
        "in_force",
        _joined(("现行有效", "现行有效的"), _DOCUMENT_STARTS),
        re.compile(rf"现行有效(?:的)?{_DOCUMENT}{_COUNT}"),
    ),
    (
        "in_force",
        _joined(_DOCUMENT_ENDS, ("现行有效", "中现行有效")),
        re.compile(rf"{_DOCUMENT}(?:中)?现行有效(?:的)?{_COUNT}"),
    ),
)
# every statement of table 二 names one of them
_DOCUMENT_WORDS = Words("规章", "规范性文件")
# every statement of table 四 names one of them
_APPEAL_WORDS = Words("行政复议", "行政诉讼")
_CARRY_OVER = Words("结转")
# Figures of others (the whole area's bodies) are not the reporting body's table.
_OTHER_BODIES = Words("各级", "各部门", "各单位", "下属", "所属", "全省", "指导")
# Carry-over in prose: 上年结转…N件 and N件结转下年度 / 结转下年度…N件.
_CARRIED_IN = re.compile(r"上年结转(?:的)?(?:政府信息公开)?(?:申请)?(?:共)?(\d{1,15})件")
_CARRIED_OUT = re.compile(
    r"(?:(\d{1,15})件(?:申请)?结转下(?:一)?年度|结转下(?:一)?年度(?:继续办理)?(?:的)?(?:申请)?(?:共)?(\d{1,15})件)"
)
# A 结转下年度 statement starts at most this far before its 结转下 (a count of 15 digits, 件, 申请): a sentence
# (a whole table of digits, in a text layout) is searched from there, not from every digit on.
_CARRIED_OUT_REACH = 18
# …and ends at most this far after its last 结转下 (结转下一年度继续办理的申请共, 15 digits, 件): the search stops
# there, where the rest of a sentence holds no statement.
_CARRIED_OUT_SPAN = 30
# Words that show section 一 touches a topic. Loose enough for real reports' wording, but a mere channel
# ("通过门户网站发布") is not platform building and "管理" alone is not 政府信息管理.
TOPICS: dict[str, tuple[str, ...]] = {
    "主动公开": ("主动公开",),
    "依申请公开": ("依申请", "申请公开", "公开申请"),
    "政府信息管理": ("信息管理", "保密审查", "发布审核"),
    "政府信息公开平台建设": ("平台", "网站建设", "栏目建设", "专栏建设", "新媒体", "公众号"),
    "监督保障": ("监督", "考核", "保障", "责任追究"),
}
_TOPIC_WORDS = {topic: Words(*words) for topic, words in TOPICS.items()}
_FEE = Words("处理费")
_SELF_WORDS = {level: Words(*words) for level, words in SELF_REFERENCE.items()}


def _split_sentences(text: str) -> list[str]:
    """A `compact`ed text's sentences (empty ones too, where two ends meet)."""
    return one_sentence_end(text).split(SENTENCE_END)


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
    行政复议N件, 上年结转N件, N件结转下年度, 制发/废止/现行有效 规章 or 行政规范性文件 N件 — and compares them
    with table 三's 本年新收, 上年结转 and 结转下年度 (总计 column), table 四's totals and table 二's document
    counts, quoting the sentence. Sentences about other years (上年, 同比, 累计, 以来) are skipped except for
    the carry-over, and so are sentences about other bodies (各部门, 下属, 全省).

    Why is this bad?
    The prose and the tables are one report (《政府信息公开条例》第五十条); when they disagree, at least one of
    them is wrong, and supervising offices criticise exactly this (发布内容不准确).

    Example
    Section 一 says “本年度共收到政府信息公开申请12件” while 本年新收 总计 is 10.
    """
    tables = report.tables
    requests, active = tables.requests, tables.active
    new_total = requests["new"][6] if requests is not None else None
    seen: set[tuple[str, int]] = set()
    asks, documents_read, carries = new_total is not None, active is not None, requests is not None
    # What the prose states depends on its text alone (and on which tables are there to compare with): worked out
    # once for a report's views.
    statements, carried = derived(report, _prose_statements, asks, documents_read, carries)
    for sentence, stated, appeals, documents in statements:
        if stated is not None and stated != new_total and ("new", stated) not in seen:
            seen.add(("new", stated))
            yield Hit(
                location="三/一、本年新收政府信息公开申请数量/总计",
                cells=["requests.new[6]"],
                expected=stated,
                actual=new_total,
                fields={"sentence": sentence[:60]},
            )
        for kind, stated in appeals:
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
        if active is not None and documents and not _OTHER_BODIES.any_in(sentence):
            yield from _document_contradictions(active, sentence, documents, seen)
    if requests is not None:
        yield from _carry_over_contradictions(requests, carried, seen)


_Statements = list[tuple[str, int | None, list[tuple[str, int]], list[tuple[str, str, int]]]]


def _prose_statements(
    text: str, asks: bool, documents: bool, carries: bool
) -> tuple[_Statements, list[tuple[str, list[tuple[str, int]]]]]:
    """The sentences of a `sentence_text` that state this year's figures, in order, each with what it states: the
    count of applications received (when `asks`), the appeals' counts, and table 二's counts (when `documents`);
    sentences about other years left out. And, when `carries`, its statements of carry-overs
    (`_carry_over_statements`)."""
    # Each statement names 申请 (with a verb of receiving), 行政复议/行政诉讼 or 规章/规范性文件, and is read only
    # when its table is there: the sentences naming them, by where each starts, and a sentence naming none is not
    # even cut out of the text. The verbs are rarer than 申请: the sentences holding one are found first.
    asking = (
        {start: sentence for start, sentence in _RECEIVING.sentences_at(text).items() if _APPLICATION.any_in(sentence)}
        if asks
        else {}
    )
    appealing = _APPEAL_WORDS.sentences_at(text)
    documenting = _DOCUMENT_WORDS.sentences_at(text) if documents else {}
    found: _Statements = []
    for start in sorted(asking.keys() | appealing.keys() | documenting.keys()):
        sentence = asking.get(start) or appealing.get(start) or documenting[start]
        # What the sentence states, found before asking whether it is about other years: most state nothing.
        stated = _stated_received(sentence) if start in asking else None
        appeals = [*_appeal_statements(sentence)] if start in appealing else []
        counts = _document_statements(sentence) if start in documenting else []
        if (stated is None and not appeals and not counts) or _OTHER_PERIOD.any_in(sentence):
            continue  # nothing stated, or about other years (only the carry-over below reads them)
        found.append((sentence, stated, appeals, counts))
    return found, _carry_over_statements(text) if carries else []


def _stated_received(sentence: str) -> int | None:
    """The count of applications received this year that a sentence naming 申请 states, if it states one."""
    if "未" in sentence and _NONE_RECEIVED.search(sentence):
        return 0
    if _RECEIVING.any_in(sentence):
        match = _RECEIVED.search(sentence)
        if match:
            return int(match.group(1))
    return None


def _document_statements(sentence: str) -> list[tuple[str, str, int]]:
    """(row, field, count) of each statement of table 二's counts in a sentence naming 规章 or 规范性文件 (every
    such statement does), in the order of `_DOCUMENT_STATEMENTS`."""
    found: list[tuple[str, str, int]] = []
    for field, words, pattern in _DOCUMENT_STATEMENTS:
        if not words.any_in(sentence):
            continue
        for match in pattern.finditer(sentence):
            row = "regulations" if match.group(1) == "规章" else "normative_documents"
            found.append((row, field, int(match.group(2))))
    return found


def _document_contradictions(
    active: ActiveTable, sentence: str, statements: list[tuple[str, str, int]], seen: set[tuple[str, int]]
) -> Iterator[Hit]:
    """The statements of table 二's counts in a sentence (`_document_statements`) that table 二 contradicts."""
    for row, field, stated in statements:
        actual = getattr(getattr(active, row), field)
        if actual is None or actual == stated or (f"{row}.{field}", stated) in seen:
            continue
        seen.add((f"{row}.{field}", stated))
        yield Hit(
            location=f"二/{ACTIVE_DOCUMENT_ROWS[row]}/{ACTIVE_DOCUMENT_FIELDS[field]}",
            cells=[f"active.{row}.{field}"],
            expected=stated,
            actual=actual,
            fields={"sentence": sentence[:60]},
        )


def _carry_over_contradictions(
    requests: dict[str, list[Cell]], statements: list[tuple[str, list[tuple[str, int]]]], seen: set[tuple[str, int]]
) -> Iterator[Hit]:
    """The statements of 上年结转 and 结转下年度 (`_carry_over_statements`) that table 三 contradicts."""
    for sentence, stated_rows in statements:
        for key, stated in stated_rows:
            actual = requests[key][6]
            if actual is None:
                continue
            if stated != actual and (key, stated) not in seen:
                seen.add((key, stated))
                yield Hit(
                    location=f"三/{REQUEST_ROWS[key]}/总计",
                    cells=[f"requests.{key}[6]"],
                    expected=stated,
                    actual=actual,
                    fields={"sentence": sentence[:60]},
                )


def _carry_over_statements(text: str) -> list[tuple[str, list[tuple[str, int]]]]:
    """The sentences of a `sentence_text` that state 上年结转 or 结转下年度, in order, each with the rows
    (carried_in, carried_out) it states and their counts; sentences about other bodies left out."""
    carrying = _CARRY_OVER.sentences_at(text)
    found: list[tuple[str, list[tuple[str, int]]]] = []
    for sentence in (carrying[start] for start in sorted(carrying)):
        if "件" not in sentence:
            continue  # every statement ends its count with 件: a table's rows (a text layout's) state none
        carried_in = sentence.find("上年结转")  # every 上年结转 statement starts with it
        carried_out = sentence.find("结转下")  # every 结转下年度 statement holds it
        statements = (
            ("carried_in", None if carried_in < 0 else _CARRIED_IN.search(sentence, carried_in)),
            (
                "carried_out",
                None
                if carried_out < 0
                else _CARRIED_OUT.search(
                    sentence,
                    max(0, carried_out - _CARRIED_OUT_REACH),
                    sentence.rfind("结转下") + _CARRIED_OUT_SPAN,
                ),
            ),
        )
        # asked only of a sentence that states a carry-over: most (a table's rows among them) state none
        if (statements[0][1] is None and statements[1][1] is None) or _OTHER_BODIES.any_in(sentence):
            continue
        found.append(
            (
                sentence,
                [
                    (key, int(next(group for group in match.groups() if group is not None)))
                    for key, match in statements
                    if match is not None
                ],
            )
        )
    return found


def _appeal_statements(sentence: str) -> Iterator[tuple[str, int]]:
    """(行政复议 or 行政诉讼, the count) stated in a sentence naming one of them (both patterns do)."""
    none = _NONE_APPEALS.search(sentence) if "未" in sentence else None
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
    tables = report.tables
    requests, appeals = tables.requests, tables.appeals
    if requests is None or appeals is None:
        return
    new, carried_in = requests["new"], requests["carried_in"]
    if new[6] is None or carried_in[6] is None or any(new) or any(carried_in):
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
    if not _FEE.any_in(compact_sections(report).get("六", "")):
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
    which should fall in the year after the reporting year. Also fires on a period whose end precedes its
    start, and on a report dated on or before the last day of its own period.

    Why is this bad?
    A report is about one calendar year and published early in the next (《政府信息公开条例》第四十九条).
    Disagreeing years are the mark of a report copied from another year with the dates half updated; a report
    dated before its period has ended cannot report that period.

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
    spans = evidence.period_spans
    for start, end in spans:
        if end < start:
            yield Hit(
                location="统计期限",
                expected=f"{start}年12月31日或以后",
                actual=f"自{start}年1月1日至{end}年12月31日",
                fields={"what": "统计期限的截止日期早于起始日期"},
            )
    published, report_year = report.published, report.year
    period_end = max((f"{end}-12-31" for _, end in spans), default=None)
    dated_too_early = published is not None and period_end is not None and published <= period_end
    if dated_too_early:
        yield Hit(
            location="发布日期",
            expected=f"{period_end} 以后",
            actual=published,
            fields={"what": "报告的发布日期不晚于统计期限的截止日期"},
        )
    if report_year is not None and published is not None and not dated_too_early:
        published_year = int(published[:4])
        if published_year != report_year + 1:
            yield Hit(
                location="发布日期",
                expected=f"{report_year + 1} 年",
                actual=published,
                fields={"what": f"{report_year} 年度报告的发布日期应在次年"},
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
    text = compact_sections(report).get("一", "")
    for topic, words in _TOPIC_WORDS.items():
        if not words.any_in(text):
            yield Hit(location="一", expected=topic, actual=None)


_PUNCTUATION = re.compile(r"[\W_]+")
_NOTHING = ("无", "暂无", "没有", "无其他需要报告的事项", "无需要报告的事项")
_LONGEST_NOTHING = max(map(len, _NOTHING))


@lru_cache(maxsize=8)
def _at_least_letters(count: int) -> re.Pattern[str]:
    """A pattern that matches a text holding at least `count` characters _PUNCTUATION leaves: it stops at the
    count-th, where removing the punctuation of a whole part costs a pass over all of it."""
    return re.compile(rf"(?:[\W_]*[^\W_]){{{count}}}")


@rule(
    "narrative.thin_section",
    "info",
    "第五或第六部分为空、只写“无”或过短",
    "第{part}部分“{title}”{what}（{actual}）。",
    basis="《政府信息公开条例》第五十条要求报告存在的主要问题及改进情况和其他需要报告的事项；国办公开办函〔2021〕30号 对这两部分有具体要求。",
    reviewer=ReviewerText(
        checks="第五部分“存在的主要问题及改进情况”或第六部分“其他需要报告的事项”只有标题、只写“无”，或不足设定字数（默认 10 字，标点不计）。第六部分没有提到信息处理费时由“第六部分没有说明信息处理费收取情况”一条提示，这里不重复。",
        why="《政府信息公开条例》第五十条要求如实报告存在的问题及改进情况；各地评估（如泉州鲤城区2020年度评分表）把“问题查摆不深、一笔带过”列为扣分项。只写“无”等于没有报告。",
        example="五、存在的主要问题及改进情况：无。",
    ),
)
def thin_section(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when part 五 (存在的主要问题及改进情况) or part 六 (其他需要报告的事项) is present but empty, only
    “无”, or shorter than the configured length (default 10 characters, punctuation aside). A part 六 without
    any word on 信息处理费 is left to fees.statement_missing.

    Why is this bad?
    《政府信息公开条例》第五十条 asks for the year's problems and improvements and the other matters to report;
    evaluators mark down parts that dispose of them in a word. “无” reports nothing.

    Example
    五、存在的主要问题及改进情况 — 无。
    """
    enough = _at_least_letters(max(settings.thin_section_chars, _LONGEST_NOTHING + 1))
    present = [part for part in ("五", "六") if part in report.sections]
    texts = compact_sections(report) if present else {}  # the view looked up once for both parts
    for part in present:
        text = texts.get(part, "")
        if enough.match(text):  # long enough, and longer than any way of saying nothing
            continue
        text = _PUNCTUATION.sub("", text)
        if part == "六" and not _FEE.any_in(text):
            continue
        if not text:
            what = "为空"
        elif text in _NOTHING:
            what = "只写了“无”"
        elif len(text) < settings.thin_section_chars:
            what = f"不足 {settings.thin_section_chars} 字"
        else:
            continue
        yield Hit(
            location=part,
            expected=f"至少 {settings.thin_section_chars} 字",
            actual=text or "空",
            fields={"part": part, "title": SECTION_TITLES[part].split("、", 1)[1], "what": what},
        )


# Words naming a problem, and words that announce a measure. A problem word inside "有待加强" etc. is not a
# measure: those phrases are removed before measures are looked for.
_PROBLEM_WORDS = Words("问题", "不足", "差距", "短板", "薄弱", "有待", "不够", "滞后", "欠缺")
_NOT_A_MEASURE = re.compile(
    r"(?:有待|还需|仍需|尚需|亟需|亟待|需要|需)(?:进一步)?(?:加强|提高|提升|完善|规范|改进|强化|健全)"
)
# one of them is in every phrase _NOT_A_MEASURE removes: a text without them keeps all its words
_NOT_A_MEASURE_MARKS = Words("需", "待")
_MEASURE_WORDS = Words(
    *("措施", "改进", "整改", "下一步", "今后", "将", "加强", "完善", "强化", "提升", "提高", "健全", "规范"),
    *("落实", "推进", "建立", "丰富", "充实", "拓宽", "坚持", "做好", "确保"),
)


@rule(
    "narrative.problems_without_measures",
    "info",
    "第五部分列了问题，却没有改进措施",
    "第五部分“存在的主要问题及改进情况”只列了问题（如“{actual}”），没有写改进措施。",
    basis="《政府信息公开条例》第五十条要求报告“存在的主要问题及改进情况”，问题与改进措施缺一不可。",
    reviewer=ReviewerText(
        checks="第五部分写了存在的问题（问题、不足、差距、薄弱、有待……），但没有任何改进措施的字眼（改进、整改、下一步、加强、完善、将……）。“有待加强”之类属于问题描述，不算措施。",
        why="条例第五十条要求报告的是“存在的主要问题及改进情况”；武威市（武政办发〔2025〕54号）等地的通报把“只谈问题不提措施”列为典型问题。",
        example="五、存在的主要问题及改进情况：信息公开的及时性有待提高，部分栏目更新滞后。（到此为止）",
    ),
)
def problems_without_measures(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when part 五 names problems (问题, 不足, 差距, 薄弱, 有待 …) and has no word of a measure (改进, 整改,
    下一步, 加强, 完善, 将 …). Phrases such as 有待加强 describe a problem and do not count as measures.

    Why is this bad?
    《政府信息公开条例》第五十条 asks for 存在的主要问题及改进情况: the problems and what is done about them.
    Supervising offices criticise parts that only list problems.

    Example
    五 reads “信息公开的及时性有待提高，部分栏目更新滞后。” and nothing more.
    """
    if "五" not in report.sections:
        return
    text = compact_sections(report).get("五", "")
    if not _PROBLEM_WORDS.any_in(text):
        return
    measures = _NOT_A_MEASURE.sub("", text) if _NOT_A_MEASURE_MARKS.any_in(text) else text
    if _MEASURE_WORDS.any_in(measures):
        return
    sentence = next((s for s in _split_sentences(text) if _PROBLEM_WORDS.any_in(s)), text)
    yield Hit(location="五", expected="改进措施", actual=sentence[:40])


_SIGNATURE_MAX = 30  # a signature line is a body's name alone
# Offices that draft a government's report in its name (县政府办, 政务公开办): not another body's signature.
_WRITING_OFFICE = re.compile(r"政府办|办公室|办公厅|政务公开|信息公开")
# A line with a figure, the report's own words or sentence punctuation is no name.
_NOT_A_NAME = re.compile(r"\d|年度报告|[，。：:]")


def _signature_bodies(report: Report) -> Iterator[tuple[str, str]]:
    """(where, line) of the lines that name a body alone: the last lines of the last part (the signature)
    and the first line of the preface."""
    texts = report.evidence.section_text
    last = next((texts[part] for part in reversed(SECTION_NUMERALS) if texts.get(part)), "")
    tail = [line for line in last.split("\n") if line.strip()][-3:]
    head = [line for line in texts.get("", "").split("\n") if line.strip()][:2]
    for where, lines in (("落款", tail), ("前言", head)):
        for line in lines:
            text = compact(line)
            if len(text) <= _SIGNATURE_MAX and not _NOT_A_NAME.search(text):
                yield where, text


@rule(
    "narrative.foreign_entity_name",
    "warning",
    "标题写的是一个机关，落款、前言或自称却是另一个机关",
    "标题中的机关是“{expected}”，但{where}写的是“{actual}”，疑为套用其他机关的报告。",
    basis="《政府信息公开条例》第四十八条、第五十条：各行政机关编制并公布本机关的年度报告；套用其他机关的报告不能反映本机关的工作。",
    reviewer=ReviewerText(
        checks="标题写明的机关与落款或标题下方署名的机关不同；或者标题是一个“局”，正文却通篇自称“本镇/我镇”（或反之），而本机关应有的自称一次都没有出现。",
        why="条例第四十八条、第五十条要求每个行政机关报告本机关的情况；落款或自称是别的机关，几乎总是照抄了其他机关的报告而没有改干净，第三方评估和各地通报都把“照搬照抄”列为问题。",
        example="标题“房县白鹤镇人民政府2023年政府信息公开工作年度报告”，落款“房县黄龙镇人民政府”。",
    ),
)
def foreign_entity_name(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when the title names one body and the signature (the last lines) or the line under the title names
    another body; or when the title names a township and the prose calls itself only 我局/本局 (or a 局 that
    calls itself only 我镇/本镇), at least twice and never by its own kind.

    Why is this bad?
    Each body reports its own work (《政府信息公开条例》第四十八条、第五十条). Another body's name in the
    signature or self-reference is the trace of a report copied from someone else and not fully edited.

    Example
    Title “房县白鹤镇人民政府2023年…年度报告”, signature “房县黄龙镇人民政府”.
    """
    own = report.organization
    if not report.evidence.title or not own.name or own.level not in ("township", "department", "county"):
        return
    own_key = name_key(own.name)
    for where, line in _signature_bodies(report):
        if own_key in line or _WRITING_OFFICE.search(line):
            continue  # its own name, or the office that drafts in its name: no other body (asked before the costly split)
        other = organization_from_name(line)
        if other.name is None or other.level not in ("township", "county", "department"):
            continue
        if name_key(other.name) in compact(report.evidence.title):
            continue
        yield Hit(location=where, expected=f"{own.region or ''}{own.name}", actual=line, fields={"where": where})
        return
    if own.level not in ("township", "department"):
        return
    # the parts' compact texts joined: `compact` never reaches across the line end that joined the parts
    prose = "".join(text for part, text in compact_sections(report).items() if part)
    if _SELF_WORDS[own.level].any_in(prose):
        return  # it calls itself by its own kind (most do): the other kind is not counted
    for level in ("township", "department"):
        count = _SELF_WORDS[level].count_in(prose) if level != own.level else 0
        if count >= 2:
            word = _SELF_WORDS[level].first_in(prose)
            yield Hit(
                location="正文",
                expected=f"{own.region or ''}{own.name}",
                actual=word,
                fields={"where": f"正文自称“{word}”共 {count} 次，"},
            )

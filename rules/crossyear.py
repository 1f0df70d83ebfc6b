"""Rules that compare a report with the same organization's report of the year before."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

from report.model import ACTIVE_DOCUMENT_ROWS, APPLICANT_COLUMNS, REQUEST_KEYS, REQUEST_ROWS, Report
from report.normalized import compact
from rules.base import Hit, ReviewerText, rule
from rules.settings import RuleSettings
from rules.views import compact_sections


def last_year(report: Report, earlier: Sequence[Report]) -> Report | None:
    """The earlier report of exactly the year before, if stored."""
    if report.year is None:
        return None
    return next((previous for previous in earlier if previous.year == report.year - 1), None)


@rule(
    "requests.carry_over_continuity",
    "error",
    "本年“上年结转”应等于上年报告的“结转下年度继续办理”",
    "表三“{column}”列：本年上年结转 {actual} 件，但 {year} 年报告的结转下年度继续办理为 {expected} 件。",
    basis="国办公开办函〔2021〕30号 表三：上年“结转下年度继续办理”的申请，即本年“上年结转”的申请。",
    reviewer=ReviewerText(
        checks="本年表三“二、上年结转政府信息公开申请数量”的每一列，是否等于上一年度报告表三“四、结转下年度继续办理”的同一列（已入库上一年度报告时才检查）。",
        why="国办公开办函〔2021〕30号表三中，上一年结转下年度继续办理的申请，就是本年的上年结转申请。两年数字不同，说明有申请在年度之间丢失，或两份报告之一填错。",
        example="2022 年度报告“结转下年度继续办理”总计 2 件，2023 年度报告“上年结转政府信息公开申请数量”总计却是 0 件。",
    ),
    needs_earlier=True,
)
def carry_over_continuity(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    For every column of table 三, checks that this year's 二、上年结转政府信息公开申请数量 equals last year's
    四、结转下年度继续办理, when last year's report is stored.

    Why is this bad?
    Applications carried out of one year are exactly those carried into the next (国办公开办函〔2021〕30号,
    table 三). A difference means applications were lost between years or one of the two reports is wrong.

    Example
    2022: 结转下年度 总计 2. 2023: 上年结转 总计 0.
    """
    previous = last_year(report, earlier)
    if previous is None:
        return
    requests, previous_requests = report.tables.requests, previous.tables.requests
    if requests is None or previous_requests is None:
        return
    carried_in_row, carried_out_row = requests["carried_in"], previous_requests["carried_out"]
    for column, name in enumerate(APPLICANT_COLUMNS):
        carried_in, carried_out = carried_in_row[column], carried_out_row[column]
        if carried_in is None or carried_out is None or carried_in == carried_out:
            continue
        yield Hit(
            location=f"三/{REQUEST_ROWS['carried_in']}/{name}",
            cells=[f"requests.carried_in[{column}]"],
            expected=carried_out,
            actual=carried_in,
            fields={"column": name, "year": previous.year},
        )


@rule(
    "regulations.in_force_continuity",
    "warning",
    "现行有效件数应等于上年现行有效 + 本年制发 − 本年废止",
    "表二“{row}”：上年现行有效 {last_in_force} + 本年制发 {issued} − 本年废止 {repealed} = {expected}，"
    "但本年现行有效件数为 {actual}。",
    basis="国办公开办函〔2021〕30号 表二：现行有效件数只随本年制发、废止而变（文件到期失效或机构调整时可能例外，故为警告）。",
    reviewer=ReviewerText(
        checks="表二中“规章”和“行政规范性文件”分别检查：本年“现行有效件数”是否等于上一年度报告的现行有效件数，加本年“本年制发件数”，减本年“本年废止件数”。",
        why="国办公开办函〔2021〕30号表二的现行有效件数只随制发、废止变化。文件有效期届满自动失效、机构调整等情况下可能合理地对不上，所以只作警告，请审核人结合说明判断；否则说明两年中有一年填错。",
        example="2022 年行政规范性文件现行有效 5 件；2023 年本年制发 2 件、本年废止 1 件，现行有效却填 9 件（应为 6 件）。",
    ),
    needs_earlier=True,
)
def in_force_continuity(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    For 规章 and 行政规范性文件 separately, checks in_force = last year's in_force + issued − repealed.

    Why is this bad?
    The count in force moves only by what was issued and repealed. A break is legitimate after documents lapse
    at the end of their validity or a reorganisation, which is why this is a warning; otherwise one of the two
    years is misreported.

    Example
    2022: 行政规范性文件 现行有效 5. 2023: 制发 2, 废止 1, 现行有效 9 (expected 6).
    """
    previous = last_year(report, earlier)
    if previous is None:
        return
    active, previous_active = report.tables.active, previous.tables.active
    if active is None or previous_active is None:
        return
    for row, label in ACTIVE_DOCUMENT_ROWS.items():
        now, before = getattr(active, row), getattr(previous_active, row)
        last_in_force, issued, repealed, in_force = before.in_force, now.issued, now.repealed, now.in_force
        if last_in_force is None or issued is None or repealed is None or in_force is None:
            continue
        expected = last_in_force + issued - repealed
        if expected != in_force:
            yield Hit(
                location=f"二/{label}/现行有效件数",
                cells=[f"active.{row}.in_force"],
                expected=expected,
                actual=in_force,
                fields={"row": label, "last_in_force": last_in_force, "issued": issued, "repealed": repealed},
            )


def similarity(first: str, second: str) -> float:
    """How alike two texts are, 0..1, ignoring whitespace and punctuation width."""
    return SequenceMatcher(None, compact(first), compact(second), autojunk=False).ratio()


def similarity_reaching(first: str, second: str, threshold: float) -> float | None:
    """`similarity` rounded to 3 places when that reaches `threshold`, else None."""
    return compacted_similarity_reaching(compact(first), compact(second), threshold)


def compacted_similarity_reaching(first: str, second: str, threshold: float) -> float | None:
    """`similarity_reaching` of two texts already compacted (`compact`): a pair `bound_reaching` lets go is let
    go without the quadratic matching (0.1 ms instead of up to 100 ms on long parts)."""
    if bound_reaching(first, second, threshold) is None:
        return None
    ratio = round(_ratio(first, second), 3)
    return ratio if ratio >= threshold else None


def bound_reaching(first: str, second: str, threshold: float) -> float | None:
    """An upper bound of `similarity` of two compacted texts, rounded to 3 places, when it reaches `threshold`,
    else None — found without matching, so that most pairs are let go cheaply.

    The ratio is 2·M/T, M the characters the matching pairs up and T the two lengths together. M is at most the
    characters the texts have in common counted with multiplicity, which is at most the shorter length: these
    are difflib's `quick_ratio` and `real_quick_ratio`, computed here as difflib does (the same floats), the
    lengths first, and each text's character counts remembered (a text is compared with many). Rounding keeps
    the order, so a pair whose bound misses the threshold has a ratio that misses it too."""
    length = len(first) + len(second)
    if not length:
        return 1.0  # two empty texts: difflib's ratio is 1
    if round(2.0 * min(len(first), len(second)) / length, 3) < threshold:
        return None
    common = _in_common(_characters(first), _characters(second))
    bound = round(2.0 * common / length, 3)
    return bound if bound >= threshold else None


# Remembered: a worker compares one report's parts with many peers', and the same stored peers come back for
# report after report (a shared template makes many bodies each other's peers). A few kB a part (12 bytes a
# distinct character): 40 MB at most.
@lru_cache(maxsize=1024)
def _characters(text: str) -> tuple[Any, Any]:
    """The text's distinct characters (code points, ascending) and how often each occurs: counted by numpy, at
    about half the cost of a `Counter`, which makes every character a string of its own."""
    import numpy as np

    return np.unique(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32), return_counts=True)


def _in_common(first: tuple[Any, Any], second: tuple[Any, Any]) -> int:
    """How many characters two texts (`_characters`) have in common, counted with multiplicity: the sum over the
    characters of the smaller of their two counts."""
    import numpy as np

    (codes, counts), (other_codes, other_counts) = first, second
    if not len(codes) or not len(other_codes):
        return 0
    at = np.searchsorted(other_codes, codes)  # where each of the first's characters is, or would be, in the second's
    np.minimum(at, len(other_codes) - 1, out=at)
    shared = other_codes[at] == codes
    return int(np.minimum(counts[shared], other_counts[at[shared]]).sum())


def _ratio(first: str, second: str) -> float:
    if first == second:  # one matching block, the whole text: 2·n / 2n (a copy with only names and figures changed)
        return 1.0
    return SequenceMatcher(None, first, second, autojunk=False).ratio()


# The prose parts compared with last year's, with the names reviewers know them by.
PROSE_PARTS = {"一": "总体情况", "五": "存在的主要问题及改进情况", "六": "其他需要报告的事项"}


@rule(
    "narrative.copied_from_prior_year",
    "warning",
    "第一、五或六部分与上年报告几乎相同",
    "第{part}部分“{title}”与 {year} 年报告的相似度为 {actual}，达到抄袭阈值 {expected}。",
    basis="《政府信息公开条例》第五十条要求报告当年的工作情况、存在的主要问题及改进情况；内容与上年雷同是督查通报中常见的问题（条例第四十七条）。",
    reviewer=ReviewerText(
        checks="把第一部分（总体情况）、第五部分（存在的主要问题及改进情况）、第六部分（其他需要报告的事项）分别与本机关上一年度报告的同一部分比较，几乎相同（默认相似度 ≥ 0.9）即提示，并指出是哪一部分。“无”之类很短的内容不比较。",
        why="《政府信息公开条例》第五十条要求每年报告当年的情况；各地政务公开办通报（如怀化市对2021年度报告的通报）和第三方评估都把“内容与上年雷同、照搬照抄”列为常见问题。",
        example="某局2023年报告的第五部分与2022年报告只改了年份，其余一字未改。",
    ),
    needs_earlier=True,
)
def copied_from_prior_year(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Compares each prose part — 一 (总体情况), 五 (存在的主要问题及改进情况) and 六 (其他需要报告的事项) — with
    the same part of last year's report and fires, naming the part, when they are at least as similar as the
    configured threshold (default 0.9). Very short texts (“无”) are not compared, nor a part 六 of only a few
    fixed statements (fees, period, contact), which repeat legitimately.

    Why is this bad?
    《政府信息公开条例》第五十条 asks each year for that year's work, problems and improvements; supervising
    offices (条例 第四十七条) criticise 内容雷同 reports. A copied part says nothing about the year.

    Example
    The 2023 part 五 repeats the 2022 one with only the year changed.
    """
    previous = last_year(report, earlier)
    if previous is None:
        return
    sections = compact_sections(report)  # the view the narrative rules read: made once per report
    for part, title in PROSE_PARTS.items():
        now, before = sections.get(part, ""), compact(previous.evidence.section_text.get(part, ""))
        shortest = settings.copy_min_chars_part_six if part == "六" else settings.copy_min_chars
        if min(len(now), len(before)) < shortest:
            continue
        ratio = compacted_similarity_reaching(now, before, settings.copy_similarity)
        if ratio is not None:
            yield Hit(
                location=part,
                expected=settings.copy_similarity,
                actual=ratio,
                fields={"part": part, "title": title, "year": previous.year},
            )


# A row a model lacks: its cells are blank (`Report.cell_values`).
_NO_ROW = [None] * len(APPLICANT_COLUMNS)


@rule(
    "tables.copied_from_prior_year",
    "warning",
    "统计表二至四与上年报告完全相同",
    "表二、表三、表四的 {actual} 个单元格与 {year} 年报告逐格相同（且并非全为 0），疑为照搬上年数据。",
    basis="《政府信息公开条例》第五十条要求报告当年的统计数据；国办公开办函〔2021〕30号 表二至表四按年度统计，逐格与上年相同几乎不可能。",
    reviewer=ReviewerText(
        checks="表二、表三、表四的每一个单元格都与本机关上一年度报告相同，而且不全是 0。全为 0 的表格年年相同是正常的，不提示。",
        why="统计表按年度填报（国办公开办函〔2021〕30号），许可、处罚、申请件数等逐格与上年一致几乎不可能，通常是复制了上年报告而没有更新数据；第三方评估和媒体报道（如东莞市统计局连续三年报告雷同）都把这种情况作为典型问题。",
        example="某镇2023年报告表二行政许可 35、行政处罚 12，表三本年新收 4 件……与2022年报告完全一样。",
    ),
    needs_earlier=True,
)
def tables_copied(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when tables 二, 三 and 四 are all present in this and last year's report, every cell is equal, and
    not every cell is zero or blank.

    Why is this bad?
    The tables count one year's documents, decisions, applications and cases (国办公开办函〔2021〕30号);
    hundreds of identical figures two years running mean last year's tables were pasted in. All-zero tables
    repeat legitimately, so they are not judged.

    Example
    2023: 行政许可 35, 行政处罚 12, 本年新收 4 … exactly as in 2022.
    """
    previous = last_year(report, earlier)
    if previous is None:
        return
    now_tables, previous_tables = report.tables, previous.tables
    tables = (now_tables.active, now_tables.requests, now_tables.appeals)
    before = (previous_tables.active, previous_tables.requests, previous_tables.appeals)
    requests, previous_requests = tables[1], before[1]
    if None in tables or None in before or requests is None or previous_requests is None:
        return
    # A row of table 三 that differs makes a cell that differs (a row's cells are its values by column): most
    # years are let go here, before every cell's path is made.
    if any(requests.get(key, _NO_ROW) != previous_requests.get(key, _NO_ROW) for key in REQUEST_KEYS):
        return
    now, then = report.cell_values(), previous.cell_values()
    if now == then and any(value for value in now.values()):
        yield Hit(location="二、三、四", actual=len(now), fields={"year": previous.year})


@rule(
    "report.revised_after_publication",
    "info",
    "同一机关同一年度收到了内容不同的第二份报告",
    "本报告是 {year} 年度报告的另一版本，与此前收到的版本（{before}）内容不同，两个版本均已保存。",
    basis="《政府信息公开条例》第四十九条要求按期公布年度报告；公布后改动内容应有说明，审核人员需核对改了什么。",
    reviewer=ReviewerText(
        checks="同一机关、同一年度此前已收到一份报告，这次收到的文件内容不同（不是同一文件的重复投递）。两个版本都保留，网页上可对比改动。",
        why="年度报告公布后又被替换，可能是更正错误，也可能是事后修改数据；按《政府信息公开条例》第四十九条按期公布的应是定稿，审核人员应核对两个版本的差异。",
        example="房县白鹤镇人民政府2023年度报告1月20日收到一版，2月5日又收到一版，表三本年新收由 4 件改为 6 件。",
    ),
    needs_earlier=True,
)
def revised_after_publication(report: Report, earlier: Sequence[Report], settings: RuleSettings) -> Iterator[Hit]:
    """What it does
    Fires when an earlier version of the same body's report for the same year, with different content, is
    known (stored, or given in the same check).

    Why is this bad?
    A published report that is replaced may be a correction or a quiet change of figures; either way the
    reviewer should look at what changed (《政府信息公开条例》第四十九条 wants the report published on time, not
    rewritten afterwards without a word).

    Example
    房县白鹤镇人民政府's 2023 report received on 20 January, and another file with other figures on 5 February.
    """
    for other in earlier:
        if other.year == report.year and other.source.sha256 != report.source.sha256:
            yield Hit(  # `expected` stays the same across versions: the finding is one, carried forward
                location="报告版本",
                expected="同一年度只有一个公布版本",
                actual=f"另有内容不同的版本（{other.source.sha256[:12]}）",
                fields={"year": report.year, "before": other.published or other.source.sha256[:12]},
            )
            return

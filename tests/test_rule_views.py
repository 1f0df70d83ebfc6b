"""The rules' cheap paths answer as the plain ones: compacted views, word searches, table 三's sums."""

from __future__ import annotations

import random

from report.model import REQUEST_ROWS, Report, describe_cell
from report.normalized import compact, normalize
from rules import evaluate
from rules.engine import find_rule
from rules.settings import RuleSettings
from rules.views import SENTENCE_END, Words, _compact_lines, compact_sections, sentence_text
from tests.factories import clean_report

# Characters that put each path of `_compact_lines` to work: CJK and ASCII, the whitespace the parser keeps
# (space, line end) and what it never keeps (tab, CR, line separator, ogham space, ideographic space, NBSP, NEL,
# ZWSP), full-width forms NFKC changes, and a combining accent that composes with a preceding "e" only once a
# space between is gone.
_POOL = "申请行政复议规章件年度报告 \n\n\t\r\u2028\u1680\u3000\u00a0\u0085\u200b０１ｎ；e\u0301a,。"


def test_compacted_view_is_compact_of_any_text() -> None:
    rng = random.Random(15)
    for _ in range(3000):
        text = "".join(rng.choice(_POOL) for _ in range(rng.randint(0, 30)))
        assert _compact_lines(text) == compact(text), repr(text)


def test_views_of_any_section_texts_are_compact_of_each() -> None:
    """The texts checked once, joined (`_viewed`), give each text's `compact` and their sentence text, whatever
    the texts hold: whitespace the parser never keeps, text NFKC changes, an accent at a text's start."""
    rng = random.Random(16)
    report = clean_report()
    for _ in range(1500):
        texts = {
            part: "".join(
                rng.choice(_POOL if rng.random() < 0.3 else "申请规章件 \n") for _ in range(rng.randint(0, 12))
            )
            for part in rng.sample(["", "一", "三", "五", "六"], rng.randint(1, 5))
        }
        report.evidence.section_text = texts
        assert compact_sections(report) == {part: compact(text) for part, text in texts.items()}, repr(texts)
        assert sentence_text(report).split(SENTENCE_END) == [
            piece for text in texts.values() for piece in _split_ends(compact(text))
        ], repr(texts)


def test_compacted_view_of_normalized_lines_needs_no_normalizing() -> None:
    """The parser's lines: normalized, joined by line ends; an accent split from its letter by a space stays
    apart, as `compact` leaves it."""
    lines = [normalize(line) for line in ("本机关\u3000２０２３年", "公开 信息", "e \u0301")]
    text = "\n".join(lines)
    assert _compact_lines(text) == compact(text) == "本机关2023年公开信息e\u0301"


def test_views_follow_section_texts_changed_in_place() -> None:
    """A report's views are found again by its section texts' dict, and made anew once that dict's texts change,
    however they change: a text replaced, a part added or removed."""
    report = clean_report()
    sections = report.evidence.section_text
    for change in (
        lambda: sections.update({"五": sections.get("五", "") + "另有 一句。"}),
        lambda: sections.update({"七": "多出 一部分"}),
        lambda: sections.pop("七"),
    ):
        assert compact_sections(report) == {part: compact(text) for part, text in sections.items()}
        change()
        assert compact_sections(report) == {part: compact(text) for part, text in sections.items()}
        assert sentence_text(report).split(SENTENCE_END) == [
            piece for text in sections.values() for piece in _split_ends(compact(text))
        ]


def test_views_of_reports_of_one_file_follow_their_own_texts() -> None:
    """Views remembered by the source file's SHA-256 serve only a report whose texts are those, in their order."""
    first, second, third = clean_report(), clean_report(), clean_report()  # one SHA-256
    second.evidence.section_text = {**first.evidence.section_text, "五": "另一份 报告的第五部分。"}
    third.evidence.section_text = dict(reversed(first.evidence.section_text.items()))
    for report in (first, third, second, first):
        sections = report.evidence.section_text
        assert compact_sections(report) == {part: compact(text) for part, text in sections.items()}
        assert list(compact_sections(report)) == list(sections)
        assert sentence_text(report).split(SENTENCE_END) == [
            piece for text in sections.values() for piece in _split_ends(compact(text))
        ]


def _split_ends(text: str) -> list[str]:
    for end in (";", "!", "?"):
        text = text.replace(end, SENTENCE_END)
    return text.split(SENTENCE_END)


def test_words_answer_as_plain_searches() -> None:
    rng = random.Random(12)
    alphabet = "申请行政复议诉讼规章范性文件的公开"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        words = tuple("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(3))
        found = Words(*words)
        assert found.any_in(text) == any(word in text for word in words)
        assert found.first_in(text) == next((word for word in words if word in text), None)
        assert found.count_in(text) == sum(text.count(word) for word in words)


def plain_sentences_at(text: str, words: tuple[str, ...]) -> dict[int, str]:
    """The sentences holding one of the words, by where each starts, from `split`: the reference."""
    found: dict[int, str] = {}
    start = 0
    for sentence in text.split(SENTENCE_END):
        if any(word in sentence for word in words):
            found[start] = sentence
        start += len(sentence) + 1
    return found


def test_sentences_holding_words_are_those_split_finds() -> None:
    """Words repeat their own characters and each other's, so a least common character stands where the word
    does not, and words overlap and meet sentence ends."""
    rng = random.Random(24)
    alphabet = "申请行政复议诉讼的。。"
    for _ in range(4000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        words = tuple("".join(rng.choice(alphabet[:-2]) for _ in range(rng.randint(1, 4))) for _ in range(3))
        found = Words(*words).sentences_at(text)
        assert found == plain_sentences_at(text, words), (text, words)


def test_table_three_sums_still_skip_blanks_and_name_mismatches() -> None:
    """A blank cell leaves its column (or row) unchecked while a mismatch elsewhere is still named."""
    report = clean_report()
    requests = report.tables.requests
    assert requests is not None
    assert evaluate(report, [], RuleSettings()) == []
    requests["denied_secret"][1] = None  # 商业企业's column and the row hold a blank
    requests["granted"][0] = 3  # 自然人: outcomes 4, 总计 3; the row's 总计 2 ≠ 3
    rules = {finding.rule: finding for finding in evaluate(report, [], RuleSettings())}
    assert rules["requests.total_row"].location == "三/（七）总计/自然人"
    assert rules["requests.total_column"].location == "三/（一）予以公开/总计"
    requests["carried_out"][2] = None  # 科研机构's balance is not checked; 自然人's still is
    requests["new"][0] = 4
    balance = [finding for finding in evaluate(report, [], RuleSettings()) if finding.rule == "requests.balance"]
    assert [finding.location for finding in balance] == ["三/（七）总计/自然人"]


def test_negative_cells_are_found_with_blanks_in_table_three_and_without() -> None:
    """`value.invalid` names every negative cell: table 三 without a blank is read in one `min`, with one (or an
    emptied row) cell by cell; a negative cell of table 二 is found either way."""
    rng = random.Random(25)
    invalid = find_rule("value.invalid")
    assert invalid is not None
    fired = 0
    for _ in range(400):
        report = clean_report()
        requests, active = report.tables.requests, report.tables.active
        assert requests is not None and active is not None
        keys = list(requests)
        for _ in range(rng.randint(0, 3)):
            row = requests[rng.choice(keys)]
            if row and rng.random() < 0.1:
                row.clear()
            elif row:
                row[rng.randrange(len(row))] = rng.choice([None, -1, -7, 0, 3])
        if rng.random() < 0.2:
            active.penalty = -2
        expected = {
            describe_cell(path) for path, value in report.cell_values().items() if value is not None and value < 0
        }
        found = {finding.location for finding in invalid.findings(report, [], RuleSettings())}
        assert found == expected
        fired += bool(found)
    assert 50 < fired < 350


def test_total_column_is_checked_row_by_row_among_rows_of_zeros() -> None:
    """`requests.total_column` lets rows of zeros go unsummed: its findings are still those of summing every row."""
    rng = random.Random(26)
    total_column = find_rule("requests.total_column")
    assert total_column is not None
    fired = 0
    for _ in range(300):
        report = clean_report()
        requests = report.tables.requests
        assert requests is not None
        for row in requests.values():
            row[:] = [0] * len(row)
        for _ in range(rng.randint(0, 4)):
            requests[rng.choice(list(requests))][rng.randrange(7)] = rng.choice([None, 0, 1, 2, -1])
        expected = [
            f"三/{REQUEST_ROWS[key]}/总计"
            for key, cells in requests.items()
            if cells[6] is not None and None not in cells[:6] and sum(cells[:6]) != cells[6]  # type: ignore[arg-type]
        ]
        found = [finding.location for finding in total_column.findings(report, [], RuleSettings())]
        assert found == expected
        fired += bool(found)
    assert 50 < fired < 250


def test_prose_statements_follow_the_texts_and_the_tables() -> None:
    """What `contradicts_table` reads from the prose is kept with the report's views (`derived`): judged again it
    gives the same findings; with its texts changed in place it reads the new text; and with a table gone it reads
    only the statements left to compare (the tables there are part of what is kept)."""
    rule = find_rule("narrative.contradicts_table")
    assert rule is not None

    def found(report: Report) -> list[tuple[str, object, object]]:
        return [(f.location, f.expected, f.actual) for f in rule.findings(report, [], RuleSettings())]

    report = clean_report()
    sections = report.evidence.section_text
    sections["一"] += "本年度共收到政府信息公开申请12件。本年度未发生行政复议。"
    stated = [("三/一、本年新收政府信息公开申请数量/总计", 12, 3), ("四/行政复议/总计", 0, 1)]
    assert found(report) == found(report) == stated
    sections["一"] = sections["一"].replace("12件", "7件")
    assert found(report) == [("三/一、本年新收政府信息公开申请数量/总计", 7, 3), stated[1]]
    copy = report.model_copy(deep=True)  # one file judged again: its views found by its SHA-256
    copy.tables.requests = None
    assert found(copy) == [stated[1]]
    assert found(report) == [("三/一、本年新收政府信息公开申请数量/总计", 7, 3), stated[1]]

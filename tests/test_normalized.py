"""The fast paths of issue 15 give exactly what the plain definitions give."""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from itertools import combinations, pairwise

import pytest

from report import normalized
from report.labels import (
    BARE_NUMERAL,
    HEADING,
    SECTION_PHRASE_WORDS,
    SECTION_PHRASES,
    SECTION_WORD,
    heading_section_normalized,
    renumbered_section_normalized,
)
from report.metadata import (
    _EMBEDDED_TITLE,
    _PAGE_NUMBER,
    _embedded_title,
    is_page_number,
    period_spans,
    period_years,
    periods_of,
)
from report.model import Report, Source
from report.normalized import REMEMBERED_LENGTH, LineMemo, Memo, _nfkc_lines, compact, nfkc, normalize, normalize_new
from report.parse import _fused_pieces, _line_facts, _LineFacts
from report.tables import _joins
from rules.crossyear import similarity, similarity_reaching
from rules.views import compact_sections

_WHITESPACE = re.compile(r"\s+")


def _normalize_by_definition(text: str) -> str:
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def _compact_by_definition(text: str) -> str:
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


def test_normalize_and_compact_agree_with_the_regex_definition() -> None:
    """Where the two ways could part: ASCII (NFKC skipped), whatever `str.split` or the regex `\\s` counts as
    whitespace, and a sample of the rest."""
    characters = [chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code < 0xE000]
    spaces = [c for c in characters if c.isspace() or _WHITESPACE.match(c) or c.isascii()]
    wrong = []
    for character in [*spaces, *random.Random(15).sample(characters, 5000)]:
        for text in (character, f"a{character}b", f" {character}{character} 1"):
            if normalize(text) != _normalize_by_definition(text) or compact(text) != _compact_by_definition(text):
                wrong.append(hex(ord(character)))
    assert wrong == []


def test_nfkc_is_unicodedata_nfkc() -> None:
    """The characters replaced before the check, next to what composes with them or with what they become
    (combining marks, half-width kana and their voicing marks, Hangul jamo), and text NFKC leaves alone."""
    pool = (
        "，：；（）？！％／－．\u3000\u00a0０１２３４５６７８９"
        "ａＡ①㈠½e\u0301\u0308\u0338=<\uff76\uff9e\uff9f\u1100\u1161\u11a8가\u00b4\u02dc一年 \t、。“”《》…—"
    )
    rng = random.Random(15)
    texts = ["".join(rng.choices(pool, k=rng.randint(0, 10))) for _ in range(50_000)]
    wrong = [text for text in texts if nfkc(text) != unicodedata.normalize("NFKC", text)]
    assert wrong == []
    assert any(nfkc(text) != text for text in texts) and any(nfkc(text) == text for text in texts)


@pytest.mark.parametrize("length", [REMEMBERED_LENGTH - 1, REMEMBERED_LENGTH + 1])
def test_long_and_short_lines_alike(length: int) -> None:
    text = ("（一）予以公开\u3000１２\xa0" * length)[:length]
    assert normalize(text) == _normalize_by_definition(text)
    assert normalize(text) == normalize(text)  # the remembered answer is the same
    assert compact(text) == _compact_by_definition(text)


def test_similarity_reaching_is_the_rounded_ratio_against_the_threshold() -> None:
    rng = random.Random(15)
    words = ["本机关", "公开", "政府信息", "申请", "2023年", "，", "。", "进一步", "加强", "规范"]
    reached = 0
    for _ in range(400):
        first = "".join(rng.choices(words, k=rng.randint(1, 40)))
        second = list(first)
        for _ in range(rng.randint(0, 12)):
            second.insert(rng.randint(0, len(second)), rng.choice("年度改进问题措施"))
        threshold = rng.choice([0.5, 0.8, 0.9])
        expected = round(similarity(first, "".join(second)), 3)
        got = similarity_reaching(first, "".join(second), threshold)
        assert got == (expected if expected >= threshold else None)
        reached += got is not None
    assert 0 < reached < 400  # both outcomes were exercised


def test_embedded_title_is_the_first_match_anywhere() -> None:
    """Trying only the positions a little before a year finds the match a scan of every position finds."""
    rng = random.Random(15)
    pieces = [
        "房县白鹤镇人民政府",
        "2023年",
        "二〇二三年度",
        " ",
        "政府信息公开工作年度报告",
        "年报",
        "报告",
        "。",
        "x",
    ]
    matched = 0
    for _ in range(3000):
        line = "".join(rng.choices(pieces, k=rng.randint(1, 14)))
        expected = _EMBEDDED_TITLE.search(line)
        got = _embedded_title(line)
        assert (got and (got.span(), got.group(1))) == (expected and (expected.span(), expected.group(1)))
        matched += expected is not None
    assert 0 < matched < 3000  # both outcomes were exercised


def test_whole_text_views_from_normalized_lines() -> None:
    """The periods read from the normalized lines joined are those of the whole text normalized."""
    lines = ["统计期自２０２３年１月１日", "至2023年12月31日止。", "", "\u3000自2022年1月1日至2021年12月31日"]
    joined = " ".join(filter(None, map(normalize, lines)))
    assert joined == normalize("\n".join(lines))
    assert periods_of(joined) == (period_years("\n".join(lines)), period_spans("\n".join(lines)))
    assert periods_of(joined) == ([2021, 2022, 2023], [(2023, 2023), (2022, 2021)])


def test_damaged_row_joins_in_the_order_of_their_cuts() -> None:
    """The joins of a row split over lines: every way, in the order of the cut positions, none with a
    leading zero, each checked."""
    texts = ["1", "0", "2", "3", "0", "5"]
    expected = []
    for kept in combinations(range(1, len(texts)), 2):
        edges = [0, *kept, len(texts)]
        pieces = ["".join(texts[a:b]) for a, b in pairwise(edges)]
        if not any(len(piece) > 1 and piece[0] == "0" for piece in pieces):
            expected.append(tuple(int(piece) for piece in pieces))
    assert _joins(texts, 3, lambda cells: True) == expected
    assert _joins(texts, 3, lambda cells: cells[0] + cells[1] == cells[2]) == [
        cells for cells in expected if cells[0] + cells[1] == cells[2]
    ]


def test_compact_sections_follow_the_section_text() -> None:
    """The rules' shared view is the sections compacted, and a changed section gives a changed view."""
    report = Report(source=Source(path="a.txt", sha256="", format="txt"))
    report.evidence.section_text = {"": "前言", "一": "本机关\u3000２０２３年\n公开 信息"}
    assert compact_sections(report) == {"": "前言", "一": "本机关2023年公开信息"}
    report.evidence.section_text["一"] = "无 。"
    assert compact_sections(report) == {"": "前言", "一": "无。"}


def _expansions(pattern: str) -> list[str]:
    """Every string a section phrase matches: its syntax is literals, `[…]`, `(?:…|…)` and `?`, with `.` taken
    as one sample character."""

    def alternatives(at: int) -> tuple[list[str], int]:
        found, at = sequence(at)
        while at < len(pattern) and pattern[at] == "|":
            more, at = sequence(at + 1)
            found += more
        return found, at

    def sequence(at: int) -> tuple[list[str], int]:
        found = [""]
        while at < len(pattern) and pattern[at] not in "|)":
            if pattern.startswith("(?:", at):
                options, at = alternatives(at + 3)
                at += 1  # the closing bracket
            elif pattern[at] == "[":
                end = pattern.index("]", at)
                options, at = list(pattern[at + 1 : end]), end + 1
            else:
                options, at = ["法" if pattern[at] == "." else pattern[at]], at + 1
            if at < len(pattern) and pattern[at] == "?":
                options, at = [*options, ""], at + 1
            found = [head + option for head in found for option in options]
        return found, at

    return alternatives(0)[0]


def test_every_section_phrase_holds_its_word() -> None:
    """A title without a phrase's word is not searched for the phrase (`labels._renumbered`), nor a line for
    a fused heading (`parse._fused_pieces`): every variant of the phrase holds the word."""
    for numeral, phrase in SECTION_PHRASES.items():
        variants = _expansions(phrase)
        assert len(variants) > 1 or numeral == "一"
        assert all(re.fullmatch(phrase, variant) for variant in variants)
        assert [variant for variant in variants if SECTION_PHRASE_WORDS[numeral] not in variant] == []


def test_nfkc_never_reaches_across_a_line_end() -> None:
    """What `normalized._nfkc_lines` rests on: no character becomes a line end, and a line end next to any
    character changes neither."""
    wrong = []
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code < 0xE000:
            continue
        character = chr(code)
        alone = unicodedata.normalize("NFKC", character)
        if (
            ("\n" in alone and character != "\n")
            or unicodedata.normalize("NFKC", "\n" + character) != "\n" + alone
            or unicodedata.normalize("NFKC", character + "\n") != alone + "\n"
        ):
            wrong.append(hex(code))
    assert wrong == []


# Characters for lines NFKC changes in every way: those replaced before the check, full-width digits, what
# composes or reorders (combining marks, kana voicing, jamo), what only NFKC itself maps (①, ﬁ), and the rest.
_NFKC_POOL = (
    "，：；（）？！％／－．\u3000\u00a0０１２３４５６７８９"
    "ａ①㈠½e\u0301\u0308\u0338\uff76\uff9e\u1100\u1161ﬁ一年 \t、。“”…—"
)


def test_new_lines_normalized_together_as_one_by_one() -> None:
    """Lines NFKC'd joined by line ends are each line's NFKC, whether the joined text's replacements leave it
    NFKC (most reports) or not (a line only NFKC itself mends); and `normalize` then gives what the definition
    gives, for lines long and short, repeated, or holding a line end."""
    rng = random.Random(24)
    fast = "，（）：；０１２３４５６７８９一年 、。“”\u3000\u00a0"
    mended = 0
    for _ in range(400):
        pool = rng.choice((fast, _NFKC_POOL))
        lines = ["".join(rng.choices(pool, k=rng.randint(0, 30))) for _ in range(rng.randint(1, 40))]
        assert _nfkc_lines(lines) == [unicodedata.normalize("NFKC", line) for line in lines]
        mended += pool is _NFKC_POOL
    assert mended > 50
    lines = ["".join(rng.choices(_NFKC_POOL, k=rng.randint(0, 40))) + f"第{index}行" for index in range(300)]
    lines += ["标题\n２０２３", "（一）" * 120, lines[0], ""]
    normalize_new(lines)
    assert [normalize(line) for line in lines] == [_normalize_by_definition(line) for line in lines]


def test_memo_answers_with_work_prepared_before() -> None:
    """`before` is handed every key not met before (once each, in order), and the answers are those worked out one by one, with
    repeated keys worked out once; also while the memo forgets everything when full."""
    keys = ["a", "b", "a", "c", "b", "d", "e", "c"]
    memo: LineMemo[tuple[str]] = LineMemo()
    memo.keep("b", ("B",))
    handed: list[list[str]] = []
    worked: list[str] = []

    def work(key: str) -> tuple[str]:
        worked.append(key)
        return (key.upper(),)

    assert memo.answers(keys, work, handed.append) == [(key.upper(),) for key in keys]
    assert handed == [["a", "c", "d", "e"]] and worked == ["a", "c", "d", "e"]
    assert memo.answers(keys, work, handed.append) == [(key.upper(),) for key in keys] and len(handed) == 1


def test_memo_answers_while_it_forgets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalized, "REMEMBERED_LINES", 3)
    memo: LineMemo[tuple[str]] = LineMemo()
    keys = [str(index % 5) for index in range(12)]
    for _ in range(3):
        assert memo.answers(keys, lambda key: (key * 2,), lambda new: None) == [(key * 2,) for key in keys]
        assert len(memo) <= 3


def test_memo_answers_worked_out_together_keep_the_short_keys() -> None:
    """`together` is handed the new keys at once and sizes them: a key it sizes beyond REMEMBERED_LENGTH is answered
    but not kept, whatever its length; with `work`, a key is sized by its length."""
    memo: Memo[str, tuple[str]] = Memo()
    memo["b"] = ("B",)
    handed: list[list[str]] = []

    def together(new: list[str]) -> tuple[list[tuple[str]], list[int]]:
        handed.append(new)
        return [(key.upper(),) for key in new], [REMEMBERED_LENGTH + 1 if key == "big" else 1 for key in new]

    keys = ["b", "big", "a", "b", "big", "c"]
    assert memo.answers(keys, together=together) == [(key.upper(),) for key in keys]
    assert handed == [["big", "a", "c"]] and set(memo) == {"a", "b", "c"}
    assert memo.answers(keys, together=together) == [(key.upper(),) for key in keys] and handed[1:] == [["big"]]
    long_key = "x" * (REMEMBERED_LENGTH + 1)
    assert memo.answers(["a", long_key, "d"], lambda key: (key,)) == [("A",), (long_key,), ("d",)]
    assert set(memo) == {"a", "b", "c", "d"}


def test_heading_takes_the_shortest_title() -> None:
    """`HEADING`'s title, taken whole and given back from its end, is the title the lazy `.{2,60}?` took:
    around the 60 characters, titles of two characters forced onto colons and spaces, line ends anywhere."""
    lazy = re.compile(r"^[#*\s]*(?P<numeral>[一二三四五六七八九1-9])\s*[、.,:：]\s*(?P<title>.{2,60}?)[*\s:：]*$")
    rng = random.Random(24)
    lead = "一三九17、.,:：*# \t"
    pool = [*lead, "\n", "\u3000", "a", "总", "**", "情况"]
    matched = 0
    for _ in range(30_000):
        length = rng.choice((rng.randint(0, 6), rng.randint(55, 66)))
        text = "".join(rng.choices(lead, k=rng.randint(0, 4))) + "".join(rng.choices(pool, k=length))
        expected, got = lazy.match(text), HEADING.match(text)
        assert (got and (got.span(), got.groupdict())) == (expected and (expected.span(), expected.groupdict()))
        matched += expected is not None
    assert 300 < matched < 29_700  # both outcomes were exercised, and often


def test_page_number_by_its_pattern() -> None:
    """The tests of a normalized line's first, second and last characters before `_PAGE_NUMBER` turn no page
    number away."""
    rng = random.Random(24)
    pool = "0123456789-—–－ /第页共a年。\u3000"
    found = 0
    for _ in range(30_000):
        text = normalize("".join(rng.choices(pool, k=rng.randint(1, 8)))) or "-"
        assert is_page_number(text) == bool(_PAGE_NUMBER.match(text))
        found += is_page_number(text)
    assert found > 300


def test_line_facts_agree_with_their_definitions() -> None:
    """Each fact of a line, worked out with its shortcuts, is what the patterns it stands for say, on lines
    mixing numerals, separators, heading words, page numbers, tabs and odd spaces."""
    rng = random.Random(24)
    pieces = [
        *"一二三四五六七1１6、.．,:：#* \t\u3000（(。，页第-/5",
        "总体情况",
        "主动公开政府信息情况",
        "收到和处理政府信息公开申请情况",
        "行政复议、行政诉讼情况",
        "存在的主要问题及改进情况",
        "其他需要报告的事项",
        "本年新收",
        " 0 3 12",
        "总体情\ufa71",  # NFKC makes the compatibility ideograph 况: the section word is only in the normalized line
    ]
    kinds = {"heading": 0, "bare": 0, "pieces": 0, "page": 0}
    for _ in range(30_000):
        raw = "".join(rng.choices(pieces, k=rng.randint(0, 12)))
        facts = _LineFacts._make(_line_facts(raw))
        text = normalize(raw)
        tabbed = "\t" in raw.strip()
        heading = None if tabbed or not text else HEADING.match(text)
        bare = not tabbed and bool(BARE_NUMERAL.match(raw))
        pieces_of = None if tabbed or bare else _fused_pieces(raw)
        page = bool(text) and is_page_number(text)
        assert facts.text == text and facts.page_number == page and facts.content == (bool(text) and not page)
        heading = heading if heading is not None and SECTION_WORD.search(text) else None
        assert facts.heading_like == (heading is not None) and facts.bare == bare and facts.pieces == pieces_of
        assert facts.changes == (bare or pieces_of is not None)
        assert facts.notable == (facts.heading_like or facts.changes)
        if not tabbed:  # a candidate's sections, and none for a line that is none (no section's words)
            assert facts.section == heading_section_normalized(text)
            assert facts.renumbered == renumbered_section_normalized(text)
        else:
            assert facts.section is None and facts.renumbered is None
        kinds["heading"] += heading is not None
        kinds["bare"] += bare
        kinds["pieces"] += pieces_of is not None
        kinds["page"] += page
    assert min(kinds.values()) > 30, kinds

"""The HTML, docx and PDF readers: text and grids as a reader sees them, and hostile files refused."""

from __future__ import annotations

import codecs
import io
import os
import random
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from report.document import Document, Grid, TextLine, UnreadableFile
from report.extract import extract
from report.formats import docx as docx_format
from report.formats import html, pdf
from tests import generator

pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def lines(document: Document) -> list[str]:
    return [block.text for block in document.blocks if isinstance(block, TextLine)]


def grids(document: Document) -> list[tuple[tuple[str | None, ...], ...]]:
    return [block.rows for block in document.blocks if isinstance(block, Grid)]


def read_html(markup: str, encoding: str = "utf-8") -> Document:
    return html.read(markup.encode(encoding))


# HTML


def slot_layout(rows: list[tuple[int, list[tuple[int, int, str]]]], cells_left: int) -> tuple[tuple, bool]:
    """The grid as the HTML table model places it, slot by slot in one dictionary: what `html.layout` must give."""
    slots: dict[tuple[int, int], str | None] = {}
    width, cut, placed = 0, False, len(rows)
    ends = [next((e for e in range(i + 1, len(rows)) if rows[e][0] != rows[i][0]), len(rows)) for i in range(len(rows))]
    for index, (_, cells) in enumerate(rows):
        if len(slots) > cells_left:
            placed, cut = index, True
            break
        column = 0
        for rowspan, colspan, text in cells:
            while (index, column) in slots:
                column += 1
            if column + colspan > html.MAX_TABLE_WIDTH:
                cut = True
                break
            last_row = ends[index] if rowspan == 0 else min(index + rowspan, ends[index])
            for covered_row in range(index, last_row):
                for covered_column in range(column, column + colspan):
                    slots.setdefault((covered_row, covered_column), None)
            slots[(index, column)] = text
            column += colspan
            width = max(width, column)
    grid: list[tuple[str | None, ...]] = []
    for index, (_, cells) in enumerate(rows[:placed]):
        row = tuple(slots.get((index, column), "") for column in range(width))
        if not cells and all(cell == "" for cell in row):
            continue
        if cells_left < width:
            return tuple(grid), True
        cells_left -= width
        grid.append(row)
    return tuple(grid), cut


SPANNED_ROWS = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.lists(st.tuples(st.sampled_from([1, 1, 1, 0, 2, 3]), st.sampled_from([1, 1, 1, 2, 3, 999]), st.just("x"))),
    ),
    max_size=8,
).map(
    lambda rows: [
        (group, [(r, c, f"{i}.{j}") for j, (r, c, _) in enumerate(cells)])
        for i, (group, cells) in enumerate(sorted(rows, key=lambda row: row[0]))
    ]
)


@settings(max_examples=300, deadline=None)
@given(SPANNED_ROWS, st.integers(0, 60))
def test_html_layout_places_cells_as_the_table_model_does(rows: list, cells_left: int) -> None:
    assert html.layout(layout_rows(rows), cells_left) == slot_layout(rows, cells_left)


def layout_rows(rows: list[tuple[int, list[tuple[int, int, str]]]]) -> list:
    """Rows of (rowspan, colspan, text) cells as `html.layout` takes them."""
    return [
        html._row_cells(group, [cell[2] for cell in cells], [cell[0] for cell in cells], [cell[1] for cell in cells])
        for group, cells in rows
    ]


@settings(max_examples=300, deadline=None)
@given(SPANNED_ROWS, st.integers(0, 60))
def test_html_layout_cuts_wide_rows_where_the_table_model_does(rows: list, cells_left: int) -> None:
    """Rows of merged cells wider than the cap, their cells placed whole or not at all."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(html, "MAX_TABLE_WIDTH", 5)
        assert html.layout(layout_rows(rows), cells_left) == slot_layout(rows, cells_left)


@settings(max_examples=300, deadline=None)
@given(SPANNED_ROWS, st.integers(0, 60))
def test_html_a_table_plan_gives_the_layout_wherever_the_grid_fits(rows: list, cells_left: int) -> None:
    """A table's plan (made once for its shape, whatever is left of MAX_GRID_CELLS) lays it out as `layout` does
    with any budget the grid fits in; a table `layout` cuts has none."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(html, "MAX_GRID_CELLS", 40)
        groups = [[len(cells) for group, cells in rows if group == number] for number in range(3)]
        cells = [cell for _, row_cells in rows for cell in row_cells]
        merged = tuple((place, r, c) for place, (r, c, _) in enumerate(cells) if (r, c) != (1, 1))
        plan = html._table_plan((tuple(map(tuple, groups)), merged))
        grid, cut = html.layout(layout_rows(rows), cells_left)
        if plan is None:
            assert cut or not grid or html.layout(layout_rows(rows), 40)[1]
        elif plan.cells <= cells_left:
            assert (plan.grid([cell[2] for cell in cells] + [None, ""]), False) == (grid, cut)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["x", "", "12"]), max_size=7), max_size=8), st.integers(0, 40))
def test_html_a_table_without_merged_cells_is_laid_out_as_any_table(rows: list[list[str]], cells_left: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(html, "MAX_TABLE_WIDTH", 5)
        spanned = [(0, texts, []) for texts in rows]
        assert html._plain_layout(rows, cells_left) == html.layout(spanned, cells_left)


def test_html_rowspan_and_colspan_give_the_grid_a_reader_sees() -> None:
    document = read_html(
        """<table>
        <tr><th rowspan="3">（本列数据的勾稽关系）</th><th colspan="3">申请人情况</th></tr>
        <tr><td rowspan="2">自然人</td><td colspan="2">法人或其他组织</td></tr>
        <tr><td>商业企业</td><td></td></tr>
        <tr><td>一、本年新收</td><td>5</td><td>1</td><td>0</td></tr>
        </table>"""
    )
    assert grids(document) == [
        (
            ("（本列数据的勾稽关系）", "申请人情况", None, None),
            (None, "自然人", "法人或其他组织", None),
            (None, None, "商业企业", ""),
            ("一、本年新收", "5", "1", "0"),
        )
    ]


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (
            '<table><tbody><tr><td rowspan="2">乙</td><td>1</td><td>3</td></tr><tr><td>2</td><td>4</td></tr>'
            "</tbody></table>",
            (("乙", "1", "3"), (None, "2", "4")),
        ),
        (
            '<table><thead><tr><th colspan="2">甲</th></tr></thead><tbody><tr><td rowspan="2">乙</td><td>1</td>'
            "</tr><tr><td>2</td></tr></tbody></table>",
            (("甲", None), ("乙", "1"), (None, "2")),
        ),
    ],
)
def test_html_a_table_met_again_is_read_by_its_plan_as_it_was_read_first(markup: str, expected: tuple) -> None:
    assert [grids(read_html(markup)) for _ in range(3)] == [[expected]] * 3


def test_html_bad_span_values_are_read_as_browsers_read_them() -> None:
    document = read_html(
        """<table>
        <tr><td colspan="0">a</td><td colspan="abc">b</td><td rowspan="99999999999999999999">c</td></tr>
        <tr><td colspan="2px">d</td></tr>
        <tr><td colspan="100000">e</td></tr>
        </table>"""
    )
    [rows] = grids(document)
    assert rows[0][:3] == ("a", "b", "c")
    assert rows[1][:3] == ("d", None, None)  # "2px" is 2; the huge rowspan covers column 2 to the table's end
    assert rows[2][:3] == ("e", None, None)
    assert len(rows[2]) == html.MAX_COLSPAN  # the huge colspan is capped
    assert {len(row) for row in rows} == {len(rows[0])}


@pytest.mark.parametrize(
    "value",
    [None, "", "0", "1", "2", "007", " 3", "+2", "2px", "-1", "abc", "٢", "２", "200", "201", "1000", "1001", "99999"],
)
def test_html_span_table_reads_each_value_as_the_html_rules_do(value: str | None) -> None:
    # The table of plain values must agree with `_span` everywhere, at the caps too; None is an absent attribute.
    assert html._rowspan(value) == (1 if value is None else html._span(value, html.MAX_ROWSPAN))
    assert html._colspan(value) == (1 if value is None else max(html._span(value, html.MAX_COLSPAN), 1))


def test_html_span_table_holds_only_what_span_gives() -> None:
    assert all(span == html._span(value, html.MAX_ROWSPAN) for value, span in html._ROWSPANS.items() if value)
    assert all(span == max(html._span(value, html.MAX_COLSPAN), 1) for value, span in html._COLSPANS.items() if value)
    assert html._ROWSPANS["0"] == 0 and html._COLSPANS["0"] == 1


def test_html_rowspan_stops_at_its_row_group_and_zero_runs_to_its_end() -> None:
    document = read_html(
        """<table>
        <thead><tr><td rowspan="5">head</td><td>h</td></tr></thead>
        <tbody><tr><td rowspan="0">body</td><td>1</td></tr><tr><td>2</td></tr><tr><td>3</td></tr></tbody>
        </table>"""
    )
    assert grids(document) == [(("head", "h"), ("body", "1"), (None, "2"), (None, "3"))]


def test_html_ragged_rows_are_padded_and_empty_rows_dropped() -> None:
    document = read_html("<table><tr><td>a</td><td>b</td><td>c</td></tr><tr></tr><tr><td>d</td></tr></table>")
    assert grids(document) == [(("a", "b", "c"), ("d", "", ""))]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
@pytest.mark.parametrize(
    "declaration", ['<?xml version="1.0" encoding="utf-8"?>', "<?xml version='1.0' encoding='gb2312'?>"]
)
def test_html_an_xhtml_page_declaring_its_encoding_is_read(declaration: str, encoding: str) -> None:
    # lxml refuses a string starting with such a declaration; the reader used to fail with lxml's English message.
    body = "<html><body><p>一、总体情况</p><table><tr><td>规章</td><td>0</td></tr></table></body></html>"
    document = html.read(f"{declaration}\n{body}".encode(encoding))
    assert document.lines[0] == "一、总体情况" and list(document.grids.values()) == [Grid(rows=(("规章", "0"),))]


def test_html_block_elements_are_lines_and_inline_elements_are_not() -> None:
    document = read_html(
        """<html><body><h1>某镇2023年政府信息
        公开工作年度报告</h1>
        <div>一、总体情况<p>本机关<b>主动</b>公开<span>信息</span>12条。<br>第二行</p></div>
        <ul><li>甲</li><li>乙</li></ul></body></html>"""
    )
    assert lines(document) == [
        "某镇2023年政府信息公开工作年度报告",  # a source line break between CJK characters is no space
        "一、总体情况",
        "本机关主动公开信息12条。",
        "第二行",
        "甲",
        "乙",
    ]


def test_html_runs_of_spaces_in_running_text_are_one_space_and_single_spaces_stay() -> None:
    document = read_html("<p>一、 总体情况</p><p>本年度  共收到 12 件</p><p>a b</p>")
    assert lines(document) == ["一、 总体情况", "本年度 共收到 12 件", "a b"]


def test_html_cell_text_joins_its_lines_as_a_reader_reads_them() -> None:
    document = read_html(
        "<table><tr><td><p>（三）不予公开</p><p>1.属于国家秘密</p></td><td>规章<br>（件）</td>"
        "<td>\n  12\n </td></tr></table>"
    )
    assert grids(document) == [(("（三）不予公开 1.属于国家秘密", "规章（件）", "12"),)]


def test_html_entities_and_nbsp_are_kept_and_script_style_head_skipped() -> None:
    document = read_html(
        """<!DOCTYPE html><html><head><title>标题不算正文</title><style>p { color: red }</style>
        <script>document.write("<p>脚本</p>")</script></head>
        <body><p>&nbsp;&nbsp;甲&amp;乙 &lt;丙&gt; &#x4e2d;&#25991; &copy;</p>
        <table><tr><td>&nbsp;</td><td>1&nbsp;2</td></tr></table>
        <noscript>请启用脚本</noscript></body></html>"""
    )
    assert lines(document) == ["\xa0\xa0甲&乙 <丙> 中文 ©"]
    assert grids(document) == [(("\xa0", "1\xa02"),)]


def test_html_head_without_end_tag_ends_at_the_first_body_content() -> None:
    document = read_html("<html><head><meta charset='utf-8'><title>t</title><p>正文</p>")
    assert lines(document) == ["正文"]


@pytest.mark.parametrize(
    "declaration",
    [
        '<meta charset="gb18030">',
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
        "<META CHARSET=GBK>",
        "",  # undeclared: strict UTF-8 fails, GB18030 is detected
    ],
)
def test_html_gb_pages_decode(declaration: str) -> None:
    markup = f"<html><head>{declaration}</head><body><p>政府信息公开工作年度报告（二〇二三年）</p></body></html>"
    assert lines(html.read(markup.encode("gb18030"))) == ["政府信息公开工作年度报告（二〇二三年）"]


def test_html_page_labelled_gb2312_but_written_in_utf8_is_read_as_utf8() -> None:
    markup = '<meta charset="gb2312"><p>行政复议</p>'
    assert lines(html.read(markup.encode("utf-8"))) == ["行政复议"]


def test_html_page_labelled_big5_is_read_as_big5() -> None:
    markup = '<meta charset="big5"><p>政府資訊公開</p>'
    assert lines(html.read(markup.encode("big5"))) == ["政府資訊公開"]


def test_html_table_holding_tables_is_layout_read_as_text_with_the_inner_table() -> None:
    document = read_html(
        """<table width="100%"><tr><td>
        <p>二、主动公开政府信息情况</p>
        <table><tr><td>信息内容</td><td>本年制发件数</td></tr><tr><td>规章</td><td>0</td></tr></table>
        <p>三、收到和处理政府信息公开申请情况</p>
        </td></tr></table>"""
    )
    assert document.blocks == [
        TextLine("二、主动公开政府信息情况"),
        Grid((("信息内容", "本年制发件数"), ("规章", "0"))),
        TextLine("三、收到和处理政府信息公开申请情况"),
    ]


def test_html_caption_and_stray_text_in_a_table_come_before_its_grid() -> None:
    document = read_html("<p>前</p><table><caption>表一</caption><tr><td>1</td></tr></table><p>后</p>")
    assert document.blocks == [TextLine("前"), TextLine("表一"), Grid((("1",),)), TextLine("后")]


def test_html_cells_outside_a_table_are_tab_separated_and_pre_keeps_its_lines() -> None:
    document = read_html("<tr><td>予以公开</td><td>3</td></tr><pre>  甲\t1\n  乙\t2</pre>")
    assert lines(document) == ["予以公开\t3", "  甲\t1", "  乙\t2"]


def test_html_unclosed_and_deeply_nested_tables_do_not_break_reading() -> None:
    document = html.read(b"<table>" * 200 + b"<tr><td>deep</td></tr><p>tail")
    assert "deep" in lines(document) or any("deep" in str(rows) for rows in grids(document))


def test_html_nesting_past_the_parser_limit_keeps_what_came_before_and_says_so() -> None:
    document = html.read("<p>前言</p>".encode() + b"<div>" * 5000 + "正文".encode())
    assert lines(document) == ["前言"]
    assert any("嵌套过深" in problem for problem in document.problems)
    with pytest.raises(UnreadableFile, match="嵌套过深"):
        html.read(b"<table>" * 5000 + b"<tr><td>deep</td></tr>")


def test_html_page_past_the_size_cap_is_cut_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html, "MAX_PAGE_CHARS", 40)
    document = read_html("<p>第一段</p><p>第二段</p>" + "<p>之后</p>" * 10)  # 22 characters, then 9 each
    assert lines(document) == ["第一段", "第二段", "之后", "之后"]
    assert any("只解析了前 40 字" in problem for problem in document.problems)


def test_html_page_over_the_cap_because_of_inlined_images_is_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html, "MAX_PAGE_CHARS", 2000)
    image = '<img src="data:image/png;base64,' + "A" * 5000 + '">'
    document = read_html(f"<p>第一段</p>{image}<p>第二段</p>")
    assert lines(document) == ["第一段", "第二段"]
    assert document.problems == []


def test_html_entities_are_not_declared_by_the_page_and_nothing_is_fetched() -> None:
    page = (
        '<!DOCTYPE html [<!ENTITY lol "lol"><!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<p>&lol;&x;</p><img src="http://127.0.0.1:9/x.png"><iframe src="file:///etc/passwd"></iframe>'
    )
    text = "".join(lines(read_html(page)))
    assert "&lol;&x;" in text and "root:" not in text


@pytest.mark.parametrize("markup", ["", "   \n", "<html><head><script>load()</script></head><body></body></html>"])
def test_html_without_visible_text_is_unreadable(markup: str) -> None:
    with pytest.raises(UnreadableFile):
        read_html(markup)


TAG_SOUP = [
    "<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th colspan=3>", '<td rowspan="2">',
    '<td rowspan="0" colspan=0>', "<tbody>", "</thead>", "<p>", "<br>", "<script>", "</script>", "<head>",
    "<caption>", "文字", "12", " ", "\n", "&nbsp;", "&", "<", "<!--", "-->", "<pre>", "<noscript>", "</noscript>",
    '<td colspan=" 2px" rowspan="">', '<td style="width:5" rowspan="2">', '<th class="a">', "<colgroup><col>",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TAG_SOUP), max_size=60))
def test_html_the_flattened_page_reads_as_the_walk_reads_it(pieces: list[str]) -> None:
    """Pages libxslt flattens in one pass give the blocks the element walk gives (others are walked), and both
    ways of reading the merged cells give the same."""
    page = "".join(pieces)
    root, _ = html._tree(page)
    if root is None:
        return
    assert html._merged_cells(root, styled=True) == html._merged_cells(root, styled=False)
    flat = html._flatten(root)
    if flat is None:
        return
    walked = html._Reader()
    walked.read(root)
    flattened = html._flat_document(flat)
    assert (flattened.blocks, flattened.problems) == (walked.blocks, walked.problems)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TAG_SOUP), max_size=60))
def test_html_any_tag_soup_gives_rectangular_grids_or_a_reason(pieces: list[str]) -> None:
    try:
        document = html.read("".join(pieces).encode())
    except UnreadableFile as error:
        assert str(error)
        return
    for rows in grids(document):
        assert rows and len({len(row) for row in rows}) == 1
        assert all(isinstance(cell, str) or cell is None for row in rows for cell in row)


# DOCX


def docx_bytes(build: Callable[[docx.document.Document], None]) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def raw_docx(body: str, prolog: str = "") -> bytes:
    """A minimal docx around hand-written body XML."""
    return generator.docx_around(f'{prolog}<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>')


def paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def test_docx_paragraphs_in_order_with_cjk_and_merged_cells_as_the_grid() -> None:
    def build(document: docx.document.Document) -> None:
        document.add_paragraph("某镇人民政府2023年政府信息公开工作年度报告")
        document.add_paragraph("一、总体情况")
        table = document.add_table(rows=4, cols=4)
        for row_index, row in enumerate(table.rows):
            for column_index, cell in enumerate(row.cells):
                cell.text = f"格{row_index}{column_index}"
        table.cell(0, 0).merge(table.cell(0, 2)).text = "申请人情况"  # horizontal: gridSpan
        table.cell(1, 0).merge(table.cell(3, 0)).text = "三、本年度办理结果"  # vertical: vMerge
        table.cell(2, 2).merge(table.cell(3, 3)).text = "块"  # both
        table.cell(1, 1).text = ""
        document.add_paragraph("二、主动公开政府信息情况")

    document = docx_format.read(docx_bytes(build))
    assert lines(document) == ["某镇人民政府2023年政府信息公开工作年度报告", "一、总体情况", "二、主动公开政府信息情况"]
    assert grids(document) == [
        (
            ("申请人情况", None, None, "格03"),
            ("三、本年度办理结果", "", "格12", "格13"),
            (None, "格21", "块", None),
            (None, "格31", None, None),
        )
    ]
    assert isinstance(document.blocks[2], Grid)  # the table sits between the paragraphs around it
    assert document.problems == []


def test_docx_and_html_text_holding_the_flattening_markers_is_read_whole() -> None:
    """Text may hold any character, the noncharacters the flattening marks its pieces with included."""
    marked = "甲\ufdd0\ufdd4乙"
    page = html.read(f"<p>{marked}</p><table><tr><td>{marked}</td><td>&#xfdd3;3</td></tr></table>".encode())
    assert lines(page) == [marked] and grids(page) == [((marked, "\ufdd33"),)]
    document = docx_format.read(raw_docx(f"<w:p><w:r><w:t>{marked}</w:t></w:r></w:p>"))
    assert lines(document) == [marked]


@pytest.mark.parametrize("marker", [*html._MARKERS, "\ufdc0", "\ufdf2"])
def test_html_each_flattening_marker_and_its_neighbours_in_a_utf8_page_are_read_whole(marker: str) -> None:
    page = html.read(f"<p>甲{marker}乙</p><table><tr><td>格{marker}</td><td>1</td></tr></table>".encode())
    assert lines(page) == [f"甲{marker}乙"] and grids(page) == [((f"格{marker}", "1"),)]


@pytest.mark.parametrize(
    "data",
    [
        "<p>本年度共收到申请12件</p>".encode() + b"\xff",
        "<p>本年度共收到申请12件</p>".encode()[:-6],  # cut inside a character
        b"<p>\xed\xa0\x80</p>",  # a surrogate
        "<p>本年度共收到申请12件</p>".encode("gb18030"),
        b"\xef\xbb\xbf" + "<p>甲</p><p>乙</p><br><td>".encode(),  # a BOM, and errors libxml2 reports
    ],
)
def test_html_a_page_read_from_its_bytes_reads_as_its_decoded_text(data: bytes) -> None:
    """Bytes libxml2 reads straight (valid UTF-8) or refuses give the document `decode_page`'s text gives."""
    page, problems = html.decode_page(data)
    root, cut = html._tree(html._without_unterminated_markup(page))
    walked = html._Reader()
    walked.read(root)
    document = html.read(data)
    assert (document.blocks, document.problems) == (walked.blocks, problems + cut + walked.problems)


@pytest.mark.parametrize("reference", ["&#xfdd2;", "&#XFDD2;", "&#64978;", "&#x0000FdD2;", "&#00064978"])
def test_html_character_references_to_the_flattening_markers_are_read_whole(reference: str) -> None:
    page = html.read(f"<p>甲{reference}乙</p><table><tr><td>格{reference}</td><td>1</td></tr></table>".encode())
    assert lines(page) == ["甲\ufdd2乙"] and grids(page) == [(("格\ufdd2", "1"),)]


@pytest.mark.parametrize("ampersands", [0, 1, html._AMPERSANDS_TRIED - 1, html._AMPERSANDS_TRIED, 200])
@pytest.mark.parametrize("reference", ["", "&#xfdd2;", "&#64978;", "&#xfdd8;", "&#64984;", "\ufdd7", "#"])
def test_html_marker_references_are_found_past_any_number_of_ampersands(ampersands: int, reference: str) -> None:
    """`_may_hold_markers` answers as one search through the whole page would, wherever the reference stands."""
    for page in (f"{'&amp; ' * ampersands}<p>{reference}</p>", f"<p>{reference}</p>{'&nbsp;' * ampersands}#"):
        expected = any(marker in page for marker in html._MARKERS) or html._MARKER_REFERENCE.search(page) is not None
        assert html._may_hold_markers(page) == expected


PAGE_BODIES = [
    '<meta charset="gb2312"><p>第一段 文字</p><table><tr><td rowspan=2>甲</td><td>1</td></tr><tr><td>2</td></tr></table>',
    "<p>é ü</p>",  # characters lxml would hand over as Latin-1
    "<pre>甲\r\n  乙</pre>" + "<div>" * 300 + "深",
    '<?xml version="1.0" encoding="utf-8"?><p>声明</p>',
    "<p>末尾</p><t",
]
PAGE_STARTS = [b"", codecs.BOM_UTF8, codecs.BOM_UTF8 * 2, codecs.BOM_UTF16_LE, b"\x00", b"x" * 9000 + b"\x00"]


@pytest.mark.parametrize("start", PAGE_STARTS)
@pytest.mark.parametrize("body", PAGE_BODIES)
@pytest.mark.parametrize("end", [b"", "中".encode()[:2]])
def test_html_a_page_read_from_its_own_bytes_is_read_as_its_text(start: bytes, body: str, end: bytes) -> None:
    """libxml2 reads a UTF-8 page's bytes only when they are the decoded page; the tree and the document are
    then those the page's text gives, and a page lxml refuses as text is refused the same way."""
    data = start + body.encode() + end
    try:
        page, problems = html.decode_page(data)
    except UnreadableFile:
        with pytest.raises(UnreadableFile):
            html._page_and_source(data)
        return
    same_page, same_problems, source = html._page_and_source(data)
    assert (same_page, same_problems) == (page, problems)
    if source is None:
        assert start not in (b"", codecs.BOM_UTF8) or end or "\x00" in page
        return
    assert source.decode("utf-8") == page and not page.startswith("\ufeff")
    try:
        expected = html._tree(page)
    except ValueError as refused:  # an XML declaration naming an encoding, in a string
        with pytest.raises(ValueError, match=str(refused)[:30]):
            html._tree(page, source)
        return
    root, cut = html._tree(page, source)
    assert etree.tostring(root) == etree.tostring(expected[0]) and cut == expected[1]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "gb18030"])  # utf-16-le: no byte order mark
@pytest.mark.parametrize("text", ["甲\ufdd0\ufdd4乙", "甲&#xFDD4;乙", "甲&#64980;乙"])
def test_docx_markers_in_a_part_of_any_encoding_are_read_whole(encoding: str, text: str) -> None:
    """The markers are looked for in the part's bytes when they are UTF-8, else in the text libxml2 gives."""
    body = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    xml = f'<?xml version="1.0" encoding="{encoding}"?><w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", xml.encode(encoding))
    document = docx_format.read(buffer.getvalue())
    assert lines(document) == ["甲\ufdd0\ufdd4乙" if "\ufdd0" in text else "甲\ufdd4乙"]
    assert grids(document) == [((lines(document)[0],),)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "gb18030"])
def test_docx_markers_in_a_merge_value_are_read_whole(encoding: str) -> None:
    """A marker in an attribute (here a gridSpan's w:val, which is then no number) is found in any encoding."""
    spanned = '<w:tc><w:tcPr><w:gridSpan w:val="2\ufdd3"/></w:tcPr><w:p><w:r><w:t>甲</w:t></w:r></w:p></w:tc>'
    body = f"<w:tbl><w:tr>{spanned}<w:tc><w:p><w:r><w:t>乙</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    xml = f'<?xml version="1.0" encoding="{encoding}"?><w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", xml.encode(encoding))
    assert grids(docx_format.read(buffer.getvalue())) == [(("甲", "乙"),)]


@pytest.mark.parametrize("declared", ['xmlns:w="{W}" xmlns:q="a:~"', 'xmlns:w="{W}"'])
def test_docx_word_namespace_read_under_its_short_name_reads_the_same(declared: str) -> None:
    """A part is read with Word's namespace under a short name (a:~) only when no namespace of its own is that
    one: here a q:val in a:~ is no w:val (the span stays 1) whether the part is read under the short name or not.
    The marker has the part read from the tree."""
    spanned = '<w:tc><w:tcPr><w:gridSpan q:val="3"/></w:tcPr><w:p><w:r><w:t>甲\ufdd0</w:t></w:r></w:p></w:tc>'
    body = f"<w:tbl><w:tr>{spanned}<w:tc><w:p><w:r><w:t>乙</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    xml = f'<w:document {declared.format(W=W)} xmlns:q="urn:q"><w:body>{body}</w:body></w:document>'
    part = xml.replace('xmlns:q="urn:q"', "") if "a:~" in declared else xml
    assert (docx_format._shortened(part.encode()) is None) == ("a:~" in declared)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", part.encode())
    assert grids(docx_format.read(buffer.getvalue())) == [(("甲\ufdd0", "乙"),)]


WIDTH = '<w:tcW w:type="dxa" w:w="2160"/>'


def width_cell(text: str, properties: str = WIDTH, after: str = "") -> str:
    return f"<w:tc><w:tcPr>{properties}</w:tcPr>{after}<w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"


@pytest.mark.parametrize(
    "cell",
    [
        width_cell("甲"),
        width_cell("甲", '<w:tcW w:w="864" w:type="pct"/>'),
        width_cell("甲", WIDTH + WIDTH + '<w:gridSpan w:val="2"/>'),
        width_cell("甲", WIDTH + "文字"),
        width_cell("甲", ""),
        width_cell("甲", WIDTH, after="尾"),
        width_cell("甲", '<w:tcW w:type="dxa" w:w="1" w:w="2"/>'),
        width_cell("甲", '<w:tcW w:type="dxa" q:w="1"/>'),
        width_cell("甲", '<w:tcW w:type="dxa" w:w="1">'),
        f"<w:tc><w:p><w:r><w:t><w:tcPr>{WIDTH}</w:tcPr>乙</w:t></w:r></w:p><w:tcPr>{WIDTH}</w:tcPr></w:tc>",
        f"<w:tc><w:p><w:r><w:t><![CDATA[<w:tc><w:tcPr>{WIDTH}</w:tcPr>]]></w:t></w:r></w:p></w:tc>",
        f'<w:tc xmlns:w="urn:other"><w:tcPr>{WIDTH}</w:tcPr><w:p><w:r><w:t>甲</w:t></w:r></w:p></w:tc>',
    ],
    ids=["width", "order", "merge", "text", "empty", "after", "twice", "unbound", "open", "in-text", "cdata", "other"],
)
def test_docx_cell_widths_taken_out_before_parsing_read_as_the_part_itself(cell: str) -> None:
    """Cell widths are taken out of the bytes before libxml2 reads them: the reading, or the reason a part is
    refused, is that of the part as it stands (read here by hand through the same steps)."""
    xml = (
        f'<w:document xmlns:w="{W}"><w:body><w:tbl><w:tr>{cell}{width_cell("乙")}</w:tr></w:tbl></w:body></w:document>'
    )
    part = xml.encode()
    assert docx_format._trimmed(part) != part

    def as_it_stands() -> Document:
        body = docx_format._xml(part, "word/document.xml")[0]
        etree.strip_tags(body, *docx_format._WRAPPERS)
        flat = None if docx_format._holds_markers(body, part) else docx_format._flatten(body)
        if flat is not None:
            return docx_format._flat_document(flat, docx_format._Reading())
        walked = docx_format._scan(body)
        return Document(list(docx_format._blocks(body, walked)), walked.problems)

    data = raw_docx_part(part)
    try:
        expected = as_it_stands()
    except UnreadableFile as error:
        with pytest.raises(UnreadableFile) as refused:
            docx_format.read(data)
        assert str(refused.value) == str(error)
        return
    document = docx_format.read(data)
    assert (document.blocks, document.problems) == (expected.blocks, expected.problems)


@pytest.mark.parametrize(("wrappers", "refused"), [(249, False), (250, True)])
def test_docx_a_cell_width_past_libxml2_depth_limit_is_refused_as_without_trimming(
    wrappers: int, refused: bool
) -> None:
    """libxml2 reads 256 levels: a width at level 256 is read, one at 257 refuses the part (the trimmed part
    is padded so that taking the width out cannot make it readable)."""
    table = f"<w:tbl><w:tr><w:tc><w:tcPr>{WIDTH}</w:tcPr></w:tc></w:tr></w:tbl>"  # the width: 2 + wrappers + 5
    body = paragraph("顶") + "<w:sdt>" * wrappers + table + "</w:sdt>" * wrappers
    data = raw_docx_part(f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'.encode())
    if refused:
        with pytest.raises(UnreadableFile, match="Excessive depth"):
            docx_format.read(data)
    else:
        document = docx_format.read(data)
        assert lines(document) == ["顶"] and grids(document) == [(("",),)]


def raw_docx_part(part: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", part)
    return buffer.getvalue()


def test_docx_breaks_split_lines_and_tabs_are_kept() -> None:
    def build(document: docx.document.Document) -> None:
        runs = document.add_paragraph("（一）予以公开")
        runs.add_run().add_break()
        runs.add_run("自然人\t3")

    assert lines(docx_format.read(docx_bytes(build))) == ["（一）予以公开", "自然人\t3"]


def test_docx_content_controls_revisions_and_alternate_content_are_read_as_shown() -> None:
    body = (
        f"<w:sdt><w:sdtPr/><w:sdtContent>{paragraph('控件里的段落')}</w:sdtContent></w:sdt>"
        "<w:p><w:r><w:t>保留</w:t></w:r><w:del><w:r><w:delText>删除</w:delText></w:r></w:del>"
        "<w:ins><w:r><w:t>插入</w:t></w:r></w:ins></w:p>"
        '<w:p xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:r><mc:AlternateContent>'
        "<mc:Choice><w:t>选择</w:t></mc:Choice><mc:Fallback><w:t>后备</w:t></mc:Fallback></mc:AlternateContent>"
        "</w:r></w:p>"
        "<w:p><w:pPr><w:tabs><w:tab w:val='left' w:pos='720'/></w:tabs></w:pPr><w:r><w:t>无制表符</w:t></w:r></w:p>"
    )
    assert lines(docx_format.read(raw_docx(body))) == ["控件里的段落", "保留插入", "选择", "无制表符"]


def test_docx_text_box_paragraphs_are_lines_of_the_paragraph_holding_them() -> None:
    box = (
        "<w:r><w:pict><w:txbxContent>"
        f"{paragraph('框一')}<w:p><w:del><w:r><w:t>删</w:t></w:r></w:del><w:r><w:t>框二</w:t></w:r></w:p>"
        f"<w:tbl><w:tr><w:tc>{paragraph('格')}</w:tc></w:tr></w:tbl>"
        "</w:txbxContent></w:pict></w:r>"
    )
    body = (
        f"<w:p><w:r><w:t>前</w:t></w:r>{box}<w:r><w:t>后</w:t></w:r></w:p>"
        f"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>甲</w:t></w:r>{box}</w:p></w:tc></w:tr></w:tbl>"
    )
    assert docx_format.read(raw_docx(body)).blocks == [
        TextLine("前"),
        TextLine("框一"),
        TextLine("框二"),
        TextLine("格后"),  # the box's table is text of the paragraph, not a table of the body
        Grid((("甲框一框二格",),)),  # a cell's lines join as a reader reads them
    ]


def test_docx_vmerge_and_gridspan_by_hand() -> None:
    def cell(text: str, properties: str = "") -> str:
        return f"<w:tc><w:tcPr>{properties}</w:tcPr>{paragraph(text) if text else '<w:p/>'}</w:tc>"

    restart, merged = "<w:vMerge w:val='restart'/>", "<w:vMerge/>"
    two, junk = "<w:gridSpan w:val='2'/>", "<w:gridSpan w:val='junk'/>"
    body = (
        "<w:tbl>"
        f"<w:tr>{cell('甲', restart)}{cell('乙', two)}</w:tr>"
        f"<w:tr>{cell('', merged)}{cell('1')}{cell('2')}</w:tr>"
        f"<w:tr><w:trPr><w:gridBefore w:val='1'/></w:trPr>{cell('3')}</w:tr>"
        f"<w:sdt><w:sdtContent><w:tr>{cell('丙')}{cell('x', junk)}</w:tr></w:sdtContent></w:sdt>"
        "</w:tbl>"
    )
    assert grids(docx_format.read(raw_docx(body))) == [
        (("甲", "乙", None), (None, "1", "2"), ("", "3", ""), ("丙", "x", ""))
    ]


def flat_and_walked(body: str) -> tuple[Document, list[object]]:
    """The document the flattening gives for a body, and the blocks the tree walk gives."""
    part = f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'.encode()
    root = docx_format._xml(part, "d")
    etree.strip_tags(root[0], *docx_format._WRAPPERS)
    flat = docx_format._flatten(root[0])
    assert flat is not None
    return docx_format._flat_document(flat, docx_format._Reading()), list(
        docx_format._blocks(root[0], docx_format._scan(root[0]))
    )


def word_cell(properties: str, *texts: str) -> str:
    paragraphs = "".join(f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>' for text in texts)
    return f"<w:tc><w:tcPr>{properties}</w:tcPr>{paragraphs}</w:tc>"


@pytest.mark.parametrize(
    "padding",
    [("", ""), (" ", ""), ("", "\u3000"), ("\xa0", " ")],
    ids=["bare", "space", "ideographic", "mixed"],
)
def test_docx_flattened_table_reads_as_the_tree_walk_with_or_without_whitespace(padding: tuple[str, str]) -> None:
    """Cells without whitespace, with it at their ends, or inside only one cell of one row read the same through
    the flattening (which trims a whole table at once when it can) as through the tree walk; merges repeated
    with other texts, or written after the cell's paragraphs, too."""
    before, after = padding
    span, down, first = '<w:gridSpan w:val="2"/>', "<w:vMerge/>", '<w:vMerge w:val="restart"/>'
    rows = [
        word_cell(first, "甲") + word_cell(span, f"{before}1{after}"),
        word_cell(down, "") + word_cell("", f"{before}2{after}") + word_cell("", "三", "四"),
        word_cell(first + span, "a", "b") + word_cell("", f"{before}5{after}"),
        f"<w:tc><w:p><w:r><w:t>乙</w:t></w:r></w:p><w:tcPr>{span}</w:tcPr></w:tc>" + word_cell("", "六"),
        f"<w:trPr><w:gridBefore w:val='1'/></w:trPr>{word_cell(span, '7')}",
    ]
    table = "<w:tbl>" + "".join(f"<w:tr>{row}</w:tr>" for row in rows) + "</w:tbl>"
    flattened, walked = flat_and_walked(table)
    n = lambda value: f"{before}{value}{after}".strip(" ")  # noqa: E731  (collapse trims ASCII spaces only)
    assert (
        flattened.blocks
        == walked
        == [
            Grid(
                (
                    ("甲", n(1), None),
                    (None, n(2), "三四"),
                    ("a b", None, n(5)),
                    ("乙", None, "六"),
                    ("", "7", None),
                )
            )
        ]
    )
    spaced, walked = flat_and_walked(table.replace(">甲<", ">甲  乙<"))  # whitespace inside one cell
    assert spaced.blocks == walked and spaced.blocks[0].rows[0][0] == "甲 乙"  # type: ignore[union-attr]
    long, walked = flat_and_walked(table.replace(">乙<", f">{'乙' * 120}<"))  # a merge read without its memo
    assert long.blocks == walked and long.blocks[0].rows[3][:2] == ("乙" * 120, None)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "widths", [(2, docx_format.MAX_GRID_COLUMNS + 1, 3), (600, 600), (docx_format.MAX_GRID_COLUMNS,)]
)
def test_docx_wide_tables_read_flattened_and_plain_as_the_tree_walk_reads_them(widths: tuple[int, ...]) -> None:
    """A row past MAX_GRID_COLUMNS cells is cut as the tree walk cuts it, and rows holding more cells together
    than one row may are not, whether the table is flattened by libxslt or read plain."""
    table = (
        "<w:tbl>"
        + "".join(
            "<w:tr>" + "".join(f"<w:tc>{paragraph(f' {row}.{column} ')}</w:tc>" for column in range(width)) + "</w:tr>"
            for row, width in enumerate(widths)
        )
        + "</w:tbl>"
    )
    flattened, walked = flat_and_walked(table)
    assert flattened.blocks == walked
    assert docx_format._plain_reading(plain_part(table)) is not None
    assert docx_format.read(raw_docx_part(plain_part(table))).blocks == walked
    rows = walked[0].rows  # type: ignore[attr-defined]
    assert len(rows[0]) == min(max(widths), docx_format.MAX_GRID_COLUMNS) and rows[-1][0] == f"{len(widths) - 1}.0"


@pytest.mark.parametrize(
    ("text", "holds"),
    [("甲乙", False), ("\ufdf2", False), ("&#x41;&#20013;", False), ("\ufdd3", True), ("&#xFDD3;", True)],
    ids=["plain", "other-fd", "other-reference", "marker", "marker-reference"],
)
def test_docx_only_a_marker_or_a_reference_to_one_holds_a_marker_in_a_utf8_part(text: str, holds: bool) -> None:
    """U+FDF2 shares its first two UTF-8 bytes with the markers, &#20013; is a reference to another character:
    neither is one."""
    part = f'<w:document xmlns:w="{W}"><w:body>{paragraph(text)}</w:body></w:document>'.encode()
    root = docx_format._xml(part, "d")
    assert docx_format._holds_markers(root[0], part) is holds


def test_docx_table_holding_a_table_is_layout_read_as_text_with_the_inner_table() -> None:
    inner = f"<w:tbl><w:tr><w:tc>{paragraph('规章')}</w:tc><w:tc>{paragraph('0')}</w:tc></w:tr></w:tbl>"
    body = f"<w:tbl><w:tr><w:tc>{paragraph('二、主动公开政府信息情况')}{inner}{paragraph('三、')}</w:tc></w:tr></w:tbl>"
    assert docx_format.read(raw_docx(body)).blocks == [
        TextLine("二、主动公开政府信息情况"),
        Grid((("规章", "0"),)),
        TextLine("三、"),
    ]


def bomb(size: int) -> bytes:
    """A docx whose document.xml is `size` bytes of zeros, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                member.write(chunk)
    return buffer.getvalue()


WORD_LEAVES = [
    "文字", "12", " ", "\t", "a b", "<w:tab/>", "<w:br/>", "<w:cr/>", "<w:noBreakHyphen/>", "<w:ptab/>", "<w:t>字</w:t>",
    "<w:t> 3 </w:t>", "<w:t/>", "<a:t>图</a:t>", "<x:t>x</x:t>", "<w:altChunk/>", "<w:tab><w:t>in</w:t></w:tab>",
    '<w:gridSpan w:val="2"/>', '<w:gridSpan w:val="x"/>', "<w:gridSpan/>", '<w:gridSpan s:val="3"/>', "<w:vMerge/>",
    '<w:vMerge w:val="restart"/>', "<w:hMerge/>", '<w:gridBefore w:val="1"/>', '<x:gridSpan w:val="2"/>', "<w:tcW/>",
    "<v:t>v</v:t>", '<v:gridSpan v:val="2"/>', '<w:vMerge v:val="restart"/>',
]  # fmt: skip
WORD_CONTAINERS = [
    "w:p", "w:p", "w:r", "w:r", "w:t", "w:tbl", "w:tbl", "w:tr", "w:tr", "w:tc", "w:tc", "w:tcPr", "w:trPr", "w:pPr",
    "w:rPr", "w:tabs", "w:del", "w:ins", "w:hyperlink", "w:sdt", "w:sdtContent", "mc:AlternateContent", "mc:Choice",
    "mc:Fallback", "a:p", "x:tc", "x:tr", "x:tbl", "x:p", "x:tcPr", "w:txbxContent", "w:fooPr", "w:moveFrom", "x:wrap",
    "v:p", "v:r", "v:tc", "v:tcPr",
]  # fmt: skip
WORD_SOUP = st.recursive(
    st.sampled_from(WORD_LEAVES),
    lambda children: st.tuples(st.sampled_from(WORD_CONTAINERS), st.lists(children, max_size=5)).map(
        lambda element: f"<{element[0]}>{''.join(element[1])}</{element[0]}>"
    ),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WORD_SOUP, max_size=6), st.one_of(st.just(docx_format.MAX_GRID_CELLS), st.integers(0, 24)))
def test_docx_the_flattened_body_reads_as_the_tree_walk_reads_it(blocks: list[str], cells_left: int) -> None:
    """Bodies libxslt flattens in one pass give the blocks and problems the tree walk gives (others are walked),
    tables cut where the cells a document may hold run out as well."""
    namespaces = (
        f'xmlns:w="{W}" xmlns:v="{W}" xmlns:s="http://purl.oclc.org/ooxml/wordprocessingml/main" xmlns:x="urn:x" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    )
    part = f"<w:document {namespaces}><w:body>{''.join(blocks)}</w:body></w:document>".encode()
    shortened = docx_format._shortened(part)
    assert shortened is not None
    for data, short in ((part, False), (shortened, True)):  # Word's namespace as declared, and under its short name
        body = docx_format._xml(data, "d")[0]
        etree.strip_tags(body, *docx_format._WRAPPERS)
        flat = docx_format._flatten(body, shortened=short)
        if flat is None:
            continue
        walked = docx_format._scan(body, shortened=short)
        walked.cells_left = cells_left
        walked_blocks = list(docx_format._blocks(body, walked))
        flattened = docx_format._flat_document(flat, docx_format._Reading(cells_left=cells_left))
        assert (flattened.blocks, flattened.problems) == (walked_blocks, walked.problems)


def libxslt_flattening(part: bytes) -> str | None:
    """The flattened body as the parsing path gives it (None: read from the tree); raises as it refuses."""
    docx_format._xml(part, "word/document.xml")  # the reason as the part itself gives it
    shortened = docx_format._shortened(part)
    body = docx_format._xml(part if shortened is None else shortened, "word/document.xml")[0]
    etree.strip_tags(body, *docx_format._WRAPPERS)
    if docx_format._holds_markers(body, part):
        return None
    return docx_format._flatten(body, shortened=shortened is not None)


def libxslt_reading(part: bytes) -> tuple[str, list[str]] | None:
    """The flattened body as the parsing path reads it: bare, and its tables' skeletons (None: read from the
    tree); raises as it refuses."""
    flat = libxslt_flattening(part)
    if flat is None:
        return None
    tables = [piece.split(docx_format._TABLE_END, 1)[0] for piece in flat.split(docx_format._TABLE_START)[1:]]
    return docx_format._bare(flat), ["".join(docx_format._SKELETON.findall(table)) for table in tables]


def plain_reading(part: bytes) -> tuple[str, list[str]] | None:
    """The plain reading as `libxslt_reading` gives it: its skeletons without the paragraph starts, tabs and
    breaks between their marks (None: not plain)."""
    reading = docx_format._plain_reading(part)
    if reading is None:
        return None
    text, skeletons = reading
    return text, ["".join(docx_format._SKELETON.findall(skeleton)) for skeleton in skeletons]


def plain_part(body: str, section: str = '<w:sectPr w:rsidR="1"><w:pgSz w:w="1" w:h="2"/></w:sectPr>') -> bytes:
    prolog = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    return f'{prolog}<w:document xmlns:w="{W}" xmlns:r="urn:r"><w:body>{body}{section}</w:body></w:document>'.encode()


W14 = "http://schemas.microsoft.com/office/word/2010/wordml"


def word_part(body: str, w14: str = W14) -> bytes:
    """A plain part whose root binds w14 as Word's does."""
    return plain_part(body).replace(b'xmlns:r="urn:r"', f'xmlns:r="urn:r" xmlns:w14="{w14}"'.encode())


# Word's own markup around paragraphs and rows: revision and paragraph ids, proofing marks, bookmarks, the place a
# page broke, row properties (a gridBefore among them).
WORD_PARAGRAPH = (
    '<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3" w14:paraId="1A2B3C4D" w14:textId="77777777"><w:pPr>'
    '<w:rPr><w:rFonts w:hint="eastAsia"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr></w:pPr>'
    '<w:bookmarkStart w:id="0" w:name="_GoBack"/><w:bookmarkEnd w:id="0"/><w:proofErr w:type="spellStart"/>'
    '<w:r w:rsidRPr="00D4E5F6"><w:rPr><w:lang w:eastAsia="zh-CN"/></w:rPr><w:lastRenderedPageBreak/>'
    '<w:t>一、总体</w:t></w:r><w:proofErr w:type="spellEnd"/><w:r><w:t xml:space="preserve">情况 </w:t></w:r></w:p>'
)
WORD_ROW = (
    '<w:tr w:rsidR="00A1B2C3" w14:paraId="0ABCDEF1" w14:textId="77777777"><w:trPr><w:trHeight w:val="567"/>'
    '<w:gridBefore w:val="1"/><w:jc w:val="center"/></w:trPr><w:bookmarkStart w:id="1" w:name="表一"/>'
    f'<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>{WORD_PARAGRAPH}</w:tc><w:bookmarkEnd w:id="1"/></w:tr>'
)
WORD_TABLE = f'<w:tbl><w:proofErr w:type="gramStart"/><w:tr><w:tc>{paragraph("上")}</w:tc></w:tr>{WORD_ROW}</w:tbl>'

PLAIN_CELL = '<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="9"/><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>格</w:t></w:r></w:p></w:tc>'
PLAIN_TABLE = f'<w:tbl><w:tblPr><w:tblW w:type="auto" w:w="0"/></w:tblPr><w:tr>{PLAIN_CELL}</w:tr></w:tbl>'


@pytest.mark.parametrize(
    "body",
    [
        paragraph("正文") + PLAIN_TABLE + paragraph("尾"),
        '<w:p><w:pPr><w:jc w:val="center"/><w:rPr><w:b/></w:rPr></w:pPr><w:r><w:rPr><w:b/></w:rPr>'
        '<w:t xml:space="preserve"> 一、 </w:t><w:tab/><w:t>甲</w:t><w:br/><w:t/></w:r><w:r/></w:p><w:p/>',
        '<w:tbl><w:tr><w:tc><w:tcPr><w:vMerge/><w:hMerge w:val="x"/></w:tcPr><w:p/><w:p><w:r><w:t>二</w:t></w:r>'
        "</w:p></w:tc><w:tc/></w:tr><w:tr/></w:tbl><w:tbl/>",
        paragraph("a &amp; b &lt;c&gt; &quot;d&apos;") + paragraph("&amp;lt;"),
        '<w:tbl><w:tr><w:tc><w:tcPr><w:tcBorders><w:gridSpan w:val="7"/></w:tcBorders></w:tcPr>'
        "<w:p><w:r><w:t>边</w:t></w:r></w:p></w:tc></w:tr></w:tbl>",
        '<w:tbl><w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr><w:tc>' + paragraph("前") + "</w:tc></w:tr></w:tbl>",
        '<w:bookmarkStart w:id="2" w:name="_Toc1"/>' + WORD_PARAGRAPH + WORD_TABLE + '<w:bookmarkEnd w:id="2"/>',
    ],
    ids=["report", "runs", "merges", "entities", "nested-property", "grid-before", "word"],
)
def test_docx_a_plain_part_is_read_from_its_bytes_as_libxslt_flattens_it(body: str) -> None:
    part = word_part(body)
    assert plain_reading(part) is not None
    assert plain_reading(part) == libxslt_reading(part)


def test_docx_a_generated_report_is_read_plain() -> None:
    """python-docx's markup is plain: the reports the generator writes are read without parsing the part."""
    rng = random.Random(3)
    data = generator.render_docx(generator.make_truth(rng), rng)
    part = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    assert plain_reading(part) is not None
    assert plain_reading(part) == libxslt_reading(part)


def test_docx_the_plain_reading_gives_the_skeletons_of_its_tables() -> None:
    """The skeletons the plain reading takes from its markup are those `_SKELETON` finds in the tables libxslt
    flattens with paragraph starts between them, and give the same layouts."""
    rng = random.Random(5)
    data = generator.render_docx(generator.make_truth(rng), rng)
    part = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    reading, flattened = docx_format._plain_reading(part), libxslt_reading(part)
    assert reading is not None and flattened is not None
    skeletons, found = reading[1], flattened[1]
    assert len(skeletons) == len(found) > 0
    assert [skeleton.replace(docx_format._PARAGRAPH_START, "") for skeleton in skeletons] == found
    assert any(docx_format._PARAGRAPH_START in skeleton for skeleton in skeletons)

    def layout(skeleton: str) -> tuple[object, ...]:
        plan = docx_format._table_plan(skeleton)
        return plan.rows, plan.cells, plan.width

    assert list(map(layout, skeletons)) == list(map(layout, found))


def test_docx_a_plain_package_is_read_without_zipfile_and_a_damaged_one_by_it() -> None:
    """A generated package's main part is read without zipfile, the same as zipfile reads it; one whose member
    fails its CRC-32 is left to zipfile, which refuses it as before."""
    rng = random.Random(6)
    data = generator.render_docx(generator.make_truth(rng), rng)
    assert docx_format._plain_part(data) is not None
    assert docx_format._plain_part(data) == docx_format._zipped_part(data)
    central = data.find(b"word/document.xml", zipfile.ZipFile(io.BytesIO(data)).start_dir) - 46  # its record
    assert data[central : central + 4] == b"PK\x01\x02"
    damaged = bytearray(data)
    damaged[central + 16] ^= 0xFF  # the central record's CRC-32
    assert docx_format._plain_part(bytes(damaged)) is None
    with pytest.raises(UnreadableFile, match="Bad CRC-32"):
        docx_format.read(bytes(damaged))


@pytest.mark.parametrize("seed", range(4))
def test_docx_a_report_in_words_own_markup_is_read_plain_as_the_report_it_came_from(seed: int) -> None:
    """Word adds revision and paragraph ids, proofing marks, bookmarks, row heights … (`wordlike_docx`): such a
    part is read plain, as libxslt flattens it, and gives the lines and grids of the python-docx report."""
    rng = random.Random(seed)
    data = generator.render_docx(generator.make_truth(rng), rng)
    word = generator.wordlike_docx(data, rng)
    part = zipfile.ZipFile(io.BytesIO(word)).read("word/document.xml")
    assert b"w14:paraId" in part and b"<w:proofErr" in part and b"<w:trPr>" in part
    assert plain_reading(part) is not None
    assert plain_reading(part) == libxslt_reading(part)
    original, document = docx_format.read(data), docx_format.read(word)
    assert (document.blocks, document.problems) == (original.blocks, original.problems)


def test_docx_package_relationships_name_each_files_main_part_and_a_refusal_is_given_each_time() -> None:
    """What the package relationships name is remembered by their bytes: files with the same relationships read
    their own main part, and relationships that are refused are refused again, for the same reason."""
    relationships = (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Target="/word/main.xml" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument"/></Relationships>'
    )

    def package(rels: str, text: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("_rels/.rels", rels)
            archive.writestr("word/main.xml", plain_part(paragraph(text)))
        return buffer.getvalue()

    assert [docx_format.read(package(relationships, text)).lines for text in ("甲", "乙")] == [["甲"], ["乙"]]
    refused = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]>' + relationships.removeprefix(
        '<?xml version="1.0"?>'
    )
    for _ in range(2):
        with pytest.raises(UnreadableFile, match=r"_rels/\.rels 含有 XML 实体或文档类型声明"):
            docx_format.read(package(refused, "丙"))


def test_docx_long_pieces_of_markup_are_read_plain_and_not_remembered() -> None:
    """The plain reading remembers pieces of markup from file to file: a piece longer than it keeps (here 12 KB of
    empty paragraphs before a text, then 6 KB after it) is worked out each time, and read the same."""
    body = "<w:p/>" * 2000 + paragraph("正文") + "<w:p/>" * 1000
    part = plain_part(body)
    assert plain_reading(part) == libxslt_reading(part)
    assert plain_reading(part) == libxslt_reading(part)  # and alike the second time
    heads, ends = list(docx_format._PLAIN_HEADS), list(docx_format._PLAIN_ENDS)
    assert not any(b"<w:p/>" * 1000 in head for head in heads)  # the 12 KB piece is not remembered
    assert not any(b"<w:p/>" * 1000 in end for end in ends)  # nor the 6 KB one
    assert max(map(len, heads + ends), default=0) <= 2048


NOT_PLAIN_BODIES = [
    paragraph("a &#65; b"), paragraph("&am") + paragraph("p;"), paragraph("a > b"), paragraph("a\rb"),
    paragraph("x\x01"), paragraph("标\ufdd0"), paragraph("\ufffe"), paragraph("a &foo; b"), paragraph("]]>"),
    '<w:p><w:r><w:t xml:space="default">x</w:t></w:r></w:p>', '<w:p><w:r><w:t >x</w:t></w:r></w:p>',
    '<w:p><w:r><w:t>x</w:t ></w:r></w:p>', '<w:p><w:pPr><w:jc w:val="a" w:val="b"/></w:pPr></w:p>',
    '<w:p><w:r w:x="1" w:x="1"><w:t>x</w:t></w:r></w:p>', '<w:p><w:r><w:t>x</w:t><w:t>y</w:t></w:r></w:p><w:p>',
    "<w:p><w:r><w:t>x</w:t></w:p></w:r>", "<w:p><w:r><w:t>x<w:t>y</w:t></w:t></w:r></w:p>",
    "<w:sdt><w:sdtContent>" + paragraph("控") + "</w:sdtContent></w:sdt>", '<w:p xmlns:w="urn:x"><w:r><w:t>x</w:t></w:r></w:p>',
    "<w:tbl><w:tr><w:tc><w:tbl><w:tr><w:tc>" + paragraph("套") + "</w:tc></w:tr></w:tbl></w:tc></w:tr></w:tbl>",
    '<w:tbl><w:tr><w:trPr w:rsidR="00A1B2C3"><w:gridBefore w:val="1"/></w:trPr><w:tc>' + paragraph("前") + "</w:tc></w:tr></w:tbl>",
    '<w:p><w:bookmarkStart w:id="0"></w:bookmarkStart></w:p>', "<w:p><w:r><w:proofErr/><w:t>x</w:t></w:r></w:p>",
    "<w:p><w:lastRenderedPageBreak/></w:p>", '<w:p w15:x="1"><w:r><w:t>x</w:t></w:r></w:p>',
    '<w:p w14:paraId="1A2B3C4D" w14:paraId="1A2B3C4E"><w:r><w:t>x</w:t></w:r></w:p>',
    '<w:p w:rsidR="00A1B2C3" w:rsidR="00A1B2C3"><w:r><w:t>x</w:t></w:r></w:p>',
    paragraph("x") + "<?pi x?>", paragraph("x") + " ", "<w:p><w:r><w:t>x</w:t></w:r><w:t>y</w:t></w:p>",
    '<w:p><w:r><w:t xml:lang="zh">x</w:t></w:r></w:p>', paragraph("x") + "<w:altChunk/>",
    "<w:p><w:r><w:rPr>" + "<w:b>" * 60 + "</w:b>" * 60 + "</w:rPr><w:t>深</w:t></w:r></w:p>",
    "<w:p><w:r><w:rPr>" + "<w:b>" * 300 + "</w:b>" * 300 + "</w:rPr><w:t>深</w:t></w:r></w:p>",
    '<w:p><w:r><w:t>x</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="&amp;"/></w:tcPr></w:tc></w:tr></w:tbl>',
    paragraph("x") + paragraph("{not-utf-8}"),
]  # fmt: skip


@pytest.mark.parametrize("body", NOT_PLAIN_BODIES)
def test_docx_a_part_not_plain_is_parsed_and_read_or_refused_as_before(body: str) -> None:
    """Anything the plain reading cannot vouch for (references, characters libxml2 rewrites or refuses, odd
    tags, wrappers, nesting) is parsed: the reading, or the reason, is that of the parsing path."""
    part = word_part(body).replace(b"{not-utf-8}", b"\x80")
    assert docx_format._plain_reading(part) is None
    try:
        libxslt_flattening(part)
    except UnreadableFile as error:
        with pytest.raises(UnreadableFile) as refused:
            docx_format.read(raw_docx_part(part))
        assert str(refused.value) == str(error)


@pytest.mark.parametrize(
    "part",
    [
        plain_part(paragraph("x"), section="<w:sectPr/>"),
        plain_part(paragraph("x"), section="<w:sectPr></w:sectPr>" + paragraph("后")),
        plain_part(paragraph("x"), section="<w:sectPrX></w:sectPrX>"),
        plain_part(paragraph("x")).replace(b"<w:body>", b"<w:body >"),
        plain_part(paragraph("x")).replace(b'xmlns:r="urn:r"', b'xmlns:r="urn:r" a="&#xFDD0;"'),
        plain_part(paragraph("x")).replace(b'xmlns:r="urn:r"', b'xmlns:r="urn:r" a="\xef\xb7\x90"'),
        plain_part(paragraph("x")).replace(b'xmlns:r="urn:r"', f'xmlns:w="{W}"'.encode()),
        plain_part(paragraph("x")).replace(b"UTF-8", b"GB18030"),
        plain_part(paragraph("x")).replace(W.encode(), b"http://purl.oclc.org/ooxml/wordprocessingml/main"),
        plain_part(paragraph("x")) + b"<w:p/>",
        plain_part(paragraph("x")) + b"<!-- c -->",
        plain_part(paragraph("x")).replace(b"<w:pgSz", b"<w:pgSz &bad;"),
        plain_part(paragraph("x\u2028")).replace(b"version='1.0'", b"version='1.1'"),
        plain_part(WORD_PARAGRAPH),
        word_part(WORD_PARAGRAPH, w14="urn:w14"),
        word_part(WORD_PARAGRAPH, w14=W),
    ],
    ids=["empty-section", "after-section", "other-name", "body-attribute", "reference", "marker", "twice",
         "encoding", "strict", "trailing", "comment", "section-damaged", "xml-1.1", "w14-unbound", "w14-other",
         "w14-as-w"],
)  # fmt: skip
def test_docx_a_part_whose_rest_is_not_plain_is_parsed(part: bytes) -> None:
    """The plain reading needs the part around the blocks to be one libxml2 reads, in UTF-8, with Word's
    namespace declared once, no marker, and one section's properties at the end; else the part is parsed."""
    assert docx_format._plain_reading(part) is None


PLAIN_PIECES = [
    paragraph("文"), paragraph(" a\tb "), paragraph("&amp;"), "<w:p/>", "<w:p><w:r/></w:p>", "<w:p></w:p>",
    '<w:p><w:r><w:t xml:space="preserve">  </w:t><w:tab/><w:br/></w:r></w:p>', PLAIN_TABLE, "<w:tbl/>",
    "<w:tbl><w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc>" + paragraph("乙") + paragraph("丙") + "</w:tc></w:tr></w:tbl>",
    "<w:tbl><w:tr><w:tc/></w:tr><w:tr></w:tr></w:tbl>", "</w:p>", "<w:p>", "<w:t>", "</w:tc>", "<w:tr>", "x", "&",
    WORD_PARAGRAPH, WORD_ROW, WORD_TABLE, '<w:p w:rsidR="00A1B2C3" w14:paraId="1A2B3C4D">', "<w:trPr>", "</w:trPr>",
    '<w:proofErr w:type="spellStart"/>', '<w:bookmarkStart w:id="0" w:name="_GoBack"/>', "<w:lastRenderedPageBreak/>",
    '<w:gridBefore w:val="2"/>', '<w:r w:rsidRPr="00D4E5F6">', "</w:r>",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PLAIN_PIECES), max_size=8))
def test_docx_any_part_read_plain_is_read_as_libxslt_flattens_it(pieces: list[str]) -> None:
    """Plain pieces and broken ones in any order: the plain reading gives what the parsing path flattens, or
    leaves the part to it (which may refuse it)."""
    part = word_part("".join(pieces))
    reading = plain_reading(part)
    if reading is None:
        return
    assert reading == libxslt_reading(part)


@pytest.mark.parametrize(("size", "reason"), [(300 << 20, "超过上限"), (20 << 20, "压缩炸弹")])
def test_docx_zip_bomb_is_refused_before_decompressing(size: int, reason: str) -> None:
    data = bomb(size)
    assert len(data) < size // 200
    started = time.perf_counter()
    with pytest.raises(UnreadableFile, match=reason):
        docx_format.read(data)
    assert time.perf_counter() - started < 1.0


def test_docx_billion_laughs_is_refused() -> None:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    laughs = f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(entities)}]>'
    with pytest.raises(UnreadableFile, match="实体"):
        docx_format.read(raw_docx("<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", prolog=laughs))


def test_docx_external_entity_is_refused() -> None:
    prolog = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    with pytest.raises(UnreadableFile, match="实体"):
        docx_format.read(raw_docx("<w:p><w:r><w:t>&x;</w:t></w:r></w:p>", prolog=prolog))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (os.urandom(4096), "不是 zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), r"\.doc"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le") + bytes(512), "密码"),
        (b"", "为空"),
    ],
    ids=["random", "doc", "encrypted", "empty"],
)
def test_docx_that_is_not_a_docx_says_what_it_is(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason):
        docx_format.read(data)


def test_docx_zip_without_a_word_document_or_text_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UnreadableFile, match="没有 Word 正文"):
        docx_format.read(buffer.getvalue())
    with pytest.raises(UnreadableFile, match="没有文字"):
        docx_format.read(raw_docx("<w:p/><w:p><w:r><w:drawing/></w:r></w:p>"))


def test_docx_damaged_member_is_unreadable() -> None:
    data = bytearray(raw_docx(paragraph("正文" * 200)))
    start = data.index(b"word/document.xml") + len("word/document.xml")
    data[start + 10 : start + 40] = bytes(30)  # deflate stream of the first local file
    with pytest.raises(UnreadableFile):
        docx_format.read(bytes(data))


# PDF


def pdf_bytes(*pages: Callable[[Canvas], None], password: str | None = None, algorithm: str = "RC4-128") -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for draw in pages:
        draw(canvas)
        canvas.showPage()
    canvas.save()
    if password is None:
        return buffer.getvalue()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    writer.encrypt(password, "owner-secret", algorithm=algorithm)
    encrypted = io.BytesIO()
    writer.write(encrypted)
    return encrypted.getvalue()


def text_page(*texts: str) -> Callable[[Canvas], None]:
    def draw(canvas: Canvas) -> None:
        canvas.setFont("STSong-Light", 12)
        for index, text in enumerate(texts):
            canvas.drawString(72, 780 - 20 * index, text)

    return draw


def drawing_page(canvas: Canvas) -> None:
    canvas.rect(100, 100, 300, 400, fill=1)


REPORT_PAGE = text_page("某镇2023年政府信息公开工作年度报告", "一、总体情况", "（一）予以公开 12 3 0 0 0 0 15")


def test_pdf_chinese_text_layer_comes_back_as_lines() -> None:
    document = pdf.read(pdf_bytes(REPORT_PAGE, text_page("二、主动公开政府信息情况")))
    assert lines(document) == [
        "某镇2023年政府信息公开工作年度报告",
        "一、总体情况",
        "（一）予以公开 12 3 0 0 0 0 15",
        "二、主动公开政府信息情况",
    ]
    assert document.problems == []


def test_pdf_with_a_user_password_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match="密码"):
        pdf.read(pdf_bytes(REPORT_PAGE, password="secret"))


def test_pdf_with_only_an_owner_password_is_read() -> None:
    assert lines(pdf.read(pdf_bytes(REPORT_PAGE, password="")))[1] == "一、总体情况"


def test_pdf_aes_encrypted_with_an_empty_user_password_is_read() -> None:
    assert lines(pdf.read(pdf_bytes(REPORT_PAGE, password="", algorithm="AES-256")))[1] == "一、总体情况"


def test_pdf_without_a_text_layer_asks_for_ocr() -> None:
    with pytest.raises(UnreadableFile, match="OCR"):
        pdf.read(pdf_bytes(drawing_page, drawing_page))


def test_pdf_scanned_pages_among_text_pages_are_named() -> None:
    document = pdf.read(pdf_bytes(REPORT_PAGE, drawing_page))
    assert lines(document)[0] == "某镇2023年政府信息公开工作年度报告"
    assert document.problems == ["PDF 第 2 页没有文本层（可能是扫描页），这些页的内容未检查"]


def test_pdf_page_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "MAX_PAGES", 1)
    document = pdf.read(pdf_bytes(REPORT_PAGE, text_page("第二页")))
    assert "第二页" not in lines(document)
    assert document.problems == ["PDF 共 2 页，只读取了前 1 页"]


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_pdf_truncated_is_unreadable(fraction: float) -> None:
    data = pdf_bytes(REPORT_PAGE)
    with pytest.raises(UnreadableFile, match="PDF"):
        pdf.read(data[: int(len(data) * fraction)])


@pytest.mark.parametrize("data", [b"%PDF-1.7\n" + os.urandom(2048), os.urandom(2048), b"%PDF-1.4\n%%EOF"])
def test_pdf_garbage_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableFile):
        pdf.read(data)


# Damaged files: whatever the damage, a document or a reason, never another exception.


def merged_table(document: docx.document.Document) -> None:
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(1, 1)).text = "5"


SMALL_DOCX = docx_bytes(merged_table)
SMALL_PDF = pdf_bytes(REPORT_PAGE, drawing_page)


def damage(data: bytes, changes: list[tuple[int, int]], keep: float) -> bytes:
    damaged = bytearray(data)
    for position, value in changes:
        damaged[position % len(damaged)] = value
    return bytes(damaged[: max(1, int(len(damaged) * keep))])


CHANGES = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=20)
KEEP = st.sampled_from([1.0, 1.0, 0.9, 0.5])


@pytest.mark.parametrize(
    ("reader", "data"), [(docx_format.read, SMALL_DOCX), (pdf.read, SMALL_PDF)], ids=["docx", "pdf"]
)
@settings(max_examples=150, deadline=None)
@given(changes=CHANGES, keep=KEEP)
def test_damaged_files_give_a_document_or_a_reason(
    reader: Callable[[bytes], Document], data: bytes, changes: list[tuple[int, int]], keep: float
) -> None:
    try:
        reader(damage(data, changes, keep))
    except UnreadableFile as error:
        assert str(error)


# Through extract(): one file of each format, good and bad, never raising.


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_extract_reads_each_format_and_never_raises(tmp_path: Path) -> None:
    good = {
        "report.html": ("html", "<p>一、总体情况</p><table><tr><td>1</td></tr></table>".encode()),
        "report.docx": ("docx", docx_bytes(lambda document: document.add_paragraph("一、总体情况"))),
        "report.pdf": ("pdf", pdf_bytes(REPORT_PAGE)),
        "no-suffix-pdf": ("pdf", pdf_bytes(REPORT_PAGE)),
    }
    for name, (expected_format, data) in good.items():
        fmt, sha256, document = extract(write(tmp_path, name, data))
        assert (fmt, len(sha256), document.problems) == (expected_format, 64, []), name
        assert any("一、总体情况" in line for line in lines(document)), name

    bad = {
        "bomb.docx": bomb(300 << 20),
        "random.docx": os.urandom(1000),
        "scan.pdf": pdf_bytes(drawing_page),
        "locked.pdf": pdf_bytes(REPORT_PAGE, password="secret"),
        "empty.html": b"<html><body><script>x()</script></body></html>",
    }
    for name, data in bad.items():
        fmt, _, document = extract(write(tmp_path, name, data))
        assert document.blocks == [] and len(document.problems) == 1, name
        assert fmt == name.rsplit(".", 1)[1]

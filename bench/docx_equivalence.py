"""Same reading as a baseline tree's DOCX reader: `report.formats.docx.read` of this tree and of a baseline
checkout, both loaded in one process, over generated, mutated, hostile and python-docx inputs.

    .venv/bin/python bench/docx_equivalence.py --baseline /work/base24 --seeds 1-6 --count 2400

Inputs, in turn: generated reports (`tests.generator`), the same in Word's own markup (`generator.wordlike_docx`:
rsid and w14 ids, proofing marks, bookmarks, row properties, split runs), text and byte mutations of the
`word/document.xml` of both
(snippets of markup, entities, references, markers, control characters, CDATA, PIs, rebound prefixes, a BOM,
another encoding, trailing junk), bodies built from random tags, bodies mostly of the shapes the plain reading
takes (mutated and not), and python-docx documents (runs with fonts, breaks, tabs, headings, lists, merged cells).
Then packages, generated, repacked and with their zip structure damaged (`mutate_package`), for the reading of a
plain package without zipfile. Compared: the document's lines, grids and problems, or the exception's type and
message. Prints the first
differing inputs, a count per seed of the inputs and of those read plain (`_plain_reading`), and exits 1 when any
differs. Made for the plain reading (issue 15); any change to the DOCX reader can be proved with it.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import random
import struct
import sys
import warnings
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

TREE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TREE))
from tests import generator  # noqa: E402


def load(tree: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, tree / "report" / "formats" / "docx.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
WORD_MARKS = (b"w14:", b"<w:proofErr", b"<w:bookmark", b"<w:trPr", b"<w:lastRenderedPageBreak")
WORD_ROOTS = [  # roots binding w14 as Word does, to another namespace, or not at all
    f'<w:document xmlns:w="{W}" xmlns:w14="{W14}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'mc:Ignorable="w14">',
    f'<w:document xmlns:w14="{W14}" xmlns:w="{W}">',
    f'<w:document xmlns:w="{W}" xmlns:w14="urn:other">',
    f'<w:document xmlns:w="{W}" xmlns:w14="{W}">',
    f'<w:document xmlns:w="{W}">',
]


def outcome(module: ModuleType, data: bytes) -> tuple[Any, ...]:
    try:
        document = module.read(data)
    except Exception as error:  # any exception is an outcome to compare
        return ("error", type(error).__name__, str(error))
    return ("ok", document.lines, {k: v.rows for k, v in document.grids.items()}, document.problems)


def rezip(original, part, name="word/document.xml"):
    source = zipfile.ZipFile(io.BytesIO(original))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, part if info.filename == name else source.read(info))
    return buffer.getvalue()


def raw(body, prolog='<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', root=None):
    root = root or f'<w:document xmlns:w="{W}">'
    return generator.docx_around(prolog + root + "<w:body>" + body + "</w:body></w:document>")


SNIPPETS = [
    "<w:tab/>", "<w:br/>", "<w:cr/>", "<w:t/>", "<w:p/>", "<w:tbl/>", "<w:tc/>", "<w:tr/>", "<w:r/>", "&amp;", "&lt;",
    "&gt;", "&quot;", "&apos;", "&#65;", "&#xFDD0;", "&#64976;", "&foo;", "&", "]]>", "\r", "\r\n", "\x01", "\x0b",
    "\ufdd0", "\ufdd3", "\ufffe", "\uffff", "\ud800", "<", ">", '"', "'", " ", "\t", "\n", "<w:sdt>", "</w:sdt>",
    "<w:sdtContent>", "<w:customXml>", '<w:t xml:space="preserve">', '<w:t xml:space="default">', "<w:t >",
    "</w:t >", "</w:t>", "<w:t>", '<w:gridSpan w:val="2"/>', '<w:vMerge w:val="restart"/>', "<w:vMerge/>",
    "<w:hMerge/>", '<w:gridBefore w:val="1"/>', "<w:trPr>", "</w:trPr>", "<w:tcPr>", "</w:tcPr>", "<w:pPr>",
    "</w:pPr>", "<w:rPr>", "</w:rPr>", "<w:b/>", '<w:b w:val="1" w:val="0"/>', '<w:jc w:val="center"/>',
    "<x:p>", "</x:p>", '<w:p xmlns:w="urn:x">', "<w:altChunk/>", "<w:sectPr/>", "<w:sectPr>", "</w:sectPr>",
    "<?pi x?>", "<!-- c -->", "<![CDATA[x]]>", "<w:del><w:r><w:t>d</w:t></w:r></w:del>", "<w:ins>", "</w:ins>",
    "<w:hyperlink>", "</w:hyperlink>", "<w:bookmarkStart/>", '<w:tcW w:w="1" w:type="dxa"/>', "<w:tblPr>",
    "</w:tblPr>", "<w:tblGrid>", "</w:tblGrid>", '<w:gridCol w:w="1"/>', "<w:noBreakHyphen/>", "<w:ptab/>",
    "<w:tbl>", "</w:tbl>", "<w:tr>", "</w:tr>", "<w:tc>", "</w:tc>", "<w:p>", "</w:p>", "<w:r>", "</w:r>",
    '<w:gridSpan w:val=" 2"/>', '<w:gridSpan w:val="2\t"/>', '<w:gridSpan w:val="&amp;"/>', '<w:vMerge w:val=""/>',
    "文字", "０", "\u3000", "\xa0", '<w:p w:rsidR="00A1">', '<w:t xml:lang="zh">', "<w:body>", "</w:body>",
    "<w:document>", "</w:document>", '<w:r xml:space="preserve">', "<w:tcPr/>", "<w:pPr/>", "<W:p>", "<w:P>",
    '<w:t w:x="1" w:x="2">', "<w:t/ >", "<w:tab>", "</w:tab>", '<w:gridSpan w:val="2"></w:gridSpan>',
    '<w:p w14:paraId="1A2B3C4D" w14:textId="77777777">', '<w:p w14:paraId="1A2B3C4D" w14:paraId="1A2B3C4E">',
    '<w:p w:rsidR="00A1B2C3" w:rsidR="00A1B2C3">', '<w:r w:rsidRPr="00a1b2c3">', '<w:r w:rsidRPr="00A1B2C">',
    '<w:p w15:paraId="1A2B3C4D">', ' w14:paraId="1A2B3C4D"', ' w:rsidR="00A1B2C3"', '="00A1B2C3"',
    '<w:proofErr w:type="spellStart"/>', "<w:proofErr/>", "<w:proofErr>", "</w:proofErr>", "<w:lastRenderedPageBreak/>",
    '<w:bookmarkStart w:id="0" w:name="_GoBack"/>', '<w:bookmarkEnd w:id="0"/>', "<w:bookmarkStart>",
    "</w:bookmarkStart>", '<w:trHeight w:val="567"/>', "<w:trPr/>", '<w:trPr w:rsidR="00A1B2C3">',
    "<w:tblPrEx>", "</w:tblPrEx>", '<w:gridBefore w:val="2"/>', "<w:gridBefore/>", '<w:gridAfter w:val="1"/>',
]  # fmt: skip


def mutate_text(rng, part):
    text = part.decode("utf-8")
    start = text.find("<w:body>")
    end = text.rfind("</w:body>")
    kind = rng.randrange(9)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        position = rng.randrange(max(start, 0), max(end, 1) + 1)
        if kind <= 2:  # insert a snippet
            text = text[:position] + rng.choice(SNIPPETS) + text[position:]
        elif kind == 3:  # delete a range
            text = text[:position] + text[position + rng.randrange(1, 12) :]
        elif kind == 4:  # delete one whole tag
            tag = text.find("<", position)
            close = text.find(">", tag)
            if tag >= 0 and close >= 0:
                text = text[:tag] + text[close + 1 :]
        elif kind == 5:  # duplicate one whole tag
            tag = text.find("<", position)
            close = text.find(">", tag)
            if tag >= 0 and close >= 0:
                text = text[: close + 1] + text[tag : close + 1] + text[close + 1 :]
        elif kind == 6:  # swap two tags
            a = text.find("<", position)
            b = text.find("<", a + 1)
            ae, be = text.find(">", a), text.find(">", b)
            if a >= 0 and b > ae >= 0 and be > b:
                text = text[:a] + text[b : be + 1] + text[ae + 1 : b] + text[a : ae + 1] + text[be + 1 :]
        elif kind == 7:  # a snippet replacing a tag
            tag = text.find("<", position)
            close = text.find(">", tag)
            if tag >= 0 and close >= 0:
                text = text[:tag] + rng.choice(SNIPPETS) + text[close + 1 :]
        else:  # the prolog or the end
            choice = rng.randrange(8)
            if choice == 0:
                text = text.replace(f'xmlns:w="{W}"', f'xmlns:w="{W}" xmlns:w="{W}"', 1)
            elif choice == 1:
                text = "\ufeff" + text
            elif choice == 2:
                text = text.replace("encoding='UTF-8'", "encoding='GB18030'", 1)
            elif choice == 3:
                text = text + rng.choice(("\n", " <!-- x -->", "<w:p/>", "x", "<?pi?>"))
            elif choice == 4:
                text = text.replace("<w:body>", "<w:body >", 1)
            elif choice == 5:
                text = text.replace("</w:body>", rng.choice(SNIPPETS) + "</w:body>", 1)
            elif choice == 6:
                text = text.replace("<w:document ", '<w:document a="&#xFDD0;" ', 1)
            else:
                text = text.replace("xmlns:w=", "xmlns:v=", 1)
    return text.encode("utf-8", "surrogatepass")


def mutate_bytes(rng, part):
    data = bytearray(part)
    for _ in range(rng.randrange(1, 4)):
        position = rng.randrange(len(data))
        choice = rng.randrange(3)
        if choice == 0:
            data[position] = rng.randrange(256)
        elif choice == 1:
            del data[position]
        else:
            data.insert(position, rng.choice(b"<>&/\"' \r\n\x00\xef\xb7\x90w:t"))
    return bytes(data)


LEAVES = [
    "文字", "12", " ", "\t", "a b", "<w:tab/>", "<w:br/>", "<w:cr/>", "<w:t>字</w:t>", "<w:t> 3 </w:t>", "<w:t/>",
    '<w:t xml:space="preserve"> x </w:t>', "<w:t>&amp;&lt;</w:t>", '<w:gridSpan w:val="2"/>', '<w:gridSpan w:val="x"/>',
    "<w:gridSpan/>", "<w:vMerge/>", '<w:vMerge w:val="restart"/>', '<w:vMerge w:val="continue"/>', "<w:hMerge/>",
    '<w:gridBefore w:val="1"/>', '<w:tcW w:type="dxa" w:w="10"/>', "<w:b/>", '<w:jc w:val="left"/>', "<w:altChunk/>",
    "<x:t>x</x:t>", '<w:gridSpan w:val="3"></w:gridSpan>', '<w:proofErr w:type="gramStart"/>', "<w:lastRenderedPageBreak/>",
    '<w:bookmarkStart w:id="1" w:name="表"/>', '<w:bookmarkEnd w:id="1"/>',
]  # fmt: skip
CONTAINERS = [
    "w:p", "w:p", "w:p", "w:r", "w:r", "w:r", "w:t", "w:tbl", "w:tbl", "w:tr", "w:tr", "w:tc", "w:tc", "w:tcPr",
    "w:tcPr", "w:trPr", "w:pPr", "w:rPr", "w:tblPr", "w:tblGrid", "w:tabs", "w:del", "w:ins", "w:sdt",
    "w:sdtContent", "w:tcBorders", "x:p", "x:tc", "w:bookmarkStart", "w:proofErr", 'w:p w14:paraId="0000000A"',
]  # fmt: skip


def soup(rng, depth=0):
    if depth > 4 or rng.random() < 0.3:
        return rng.choice(LEAVES)
    name = rng.choice(CONTAINERS)
    return f"<{name}>{''.join(soup(rng, depth + 1) for _ in range(rng.randrange(0, 4)))}</{name.split()[0]}>"


def plain_soup(rng, depth=0):
    """Bodies mostly of the plain shapes."""

    def run():
        pieces = []
        for _ in range(rng.randrange(0, 3)):
            pieces.append(
                rng.choice(
                    [
                        "<w:t>文</w:t>",
                        '<w:t xml:space="preserve"> a </w:t>',
                        "<w:tab/>",
                        "<w:br/>",
                        "<w:t/>",
                        "<w:t>x&amp;y</w:t>",
                        "<w:t></w:t>",
                        "<w:t>\n</w:t>",
                        "<w:lastRenderedPageBreak/>",
                    ]
                )
            )
        props = rng.choice(
            ["", "<w:rPr><w:b/></w:rPr>", "<w:rPr/>", '<w:rPr><w:rFonts w:ascii="宋体" w:eastAsia="宋体"/></w:rPr>']
        )
        start = rng.choice(["<w:r>", "<w:r>", '<w:r w:rsidRPr="00A1B2C3">', '<w:r w:rsidR="00D4E5F6" w14:textId="0"'])
        return rng.choice([start + props + "".join(pieces) + "</w:r>", "<w:r/>"])

    def silent():
        return rng.choice(
            [
                "",
                "",
                "",
                '<w:proofErr w:type="spellStart"/>',
                '<w:bookmarkStart w:id="0" w:name="_GoBack"/>',
                '<w:bookmarkEnd w:id="0"/>',
                "<w:proofErr></w:proofErr>",
            ]
        )

    def para():
        props = rng.choice(
            ["", '<w:pPr><w:jc w:val="center"/></w:pPr>', "<w:pPr><w:rPr><w:b/></w:rPr></w:pPr>", "<w:pPr/>"]
        )
        start = rng.choice(
            [
                "<w:p>",
                "<w:p>",
                f'<w:p w:rsidR="00A1B2C3" w14:paraId="{rng.randrange(1 << 31):08X}" w14:textId="77777777">',
            ]
        )
        runs = "".join(run() + silent() for _ in range(rng.randrange(0, 3)))
        return rng.choice([start + props + silent() + runs + "</w:p>", "<w:p/>"])

    def cell():
        merges = "".join(
            rng.choice(
                [
                    '<w:gridSpan w:val="2"/>',
                    "<w:vMerge/>",
                    '<w:vMerge w:val="restart"/>',
                    "<w:hMerge/>",
                    '<w:hMerge w:val="continue"/>',
                    '<w:gridSpan w:val="0"/>',
                    '<w:gridSpan w:val="abc"/>',
                    '<w:tcBorders><w:top w:val="single"/><w:gridSpan w:val="5"/></w:tcBorders>',
                ]
            )
            for _ in range(rng.randrange(0, 3))
        )
        width = rng.choice(["", '<w:tcW w:type="dxa" w:w="100"/>', '<w:tcW w:w="100" w:type="dxa"/>'])
        props = rng.choice(["", f"<w:tcPr>{width}{merges}</w:tcPr>", "<w:tcPr/>"])
        return "<w:tc>" + props + silent() + "".join(para() for _ in range(rng.randrange(0, 3))) + "</w:tc>"

    def table():
        rows = "".join(
            rng.choice(["<w:tr>", '<w:tr w:rsidR="00A1B2C3" w14:paraId="0ABCDEF1">'])
            + rng.choice(
                [
                    "",
                    "",
                    '<w:trPr><w:trHeight w:val="567"/></w:trPr>',
                    '<w:trPr><w:gridBefore w:val="1"/><w:jc w:val="center"/></w:trPr>',
                    '<w:trPr><w:trHeight w:val="1"/><w:gridBefore w:val="x"/></w:trPr>',
                    "<w:trPr/>",
                ]
            )
            + silent()
            + "".join(cell() for _ in range(rng.randrange(0, 4)))
            + "</w:tr>"
            for _ in range(rng.randrange(0, 4))
        )
        return (
            "<w:tbl>"
            + rng.choice(["", '<w:tblPr><w:tblStyle w:val="T"/></w:tblPr>'])
            + rng.choice(["", '<w:tblGrid><w:gridCol w:w="1"/></w:tblGrid>'])
            + rows
            + "</w:tbl>"
        )

    body = "".join(rng.choice([para, para, table, silent])() for _ in range(rng.randrange(0, 6)))
    section = rng.choice(
        ["", '<w:sectPr w:rsidR="1"><w:pgSz w:w="1" w:h="2"/></w:sectPr>', "<w:sectPr/>", "<w:sectPr></w:sectPr>"]
    )
    return body + section


def pydocx(rng):
    import docx
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt

    document = docx.Document()
    for _ in range(rng.randrange(1, 8)):
        choice = rng.randrange(6)
        if choice == 0:
            document.add_paragraph(rng.choice(["一、总体情况", "a & b < c > d", " 空格 ", "", "tab\there", "x\ny"]))
        elif choice == 1:
            paragraph = document.add_paragraph()
            for _ in range(rng.randrange(1, 4)):
                run = paragraph.add_run(rng.choice(["甲", "乙 ", "\t", "1,234", "&amp;"]))
                run.bold = rng.random() < 0.5
                run.italic = rng.random() < 0.3
                if rng.random() < 0.3:
                    run.font.size = Pt(12)
                if rng.random() < 0.3:
                    run.font.name = "宋体"
                if rng.random() < 0.2:
                    run.add_break(rng.choice([WD_BREAK.LINE, WD_BREAK.PAGE]))
                if rng.random() < 0.2:
                    run.add_tab()
        elif choice == 2:
            document.add_heading(rng.choice(["标题", "二、主动公开"]), level=rng.randrange(0, 3))
        elif choice == 3:
            rows, cols = rng.randrange(1, 4), rng.randrange(1, 4)
            table = document.add_table(rows=rows, cols=cols)
            for row in table.rows:
                for cell in row.cells:
                    cell.text = rng.choice(["", "1", "项目", "a b", "x\ny"])
            if rows > 1 and cols > 1 and rng.random() < 0.5:
                table.cell(0, 0).merge(table.cell(rng.randrange(rows), rng.randrange(cols)))
            if rng.random() < 0.3:
                table.style = "Table Grid"
        elif choice == 4:
            document.add_page_break()
        else:
            document.add_paragraph(rng.choice(["项目符号", "编号"]), style=rng.choice(["List Bullet", "List Number"]))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def repacked(rng, data):
    """The package written again by zipfile: members in another order, stored or deflated, maybe a comment, maybe
    a second, cut main part."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as target:
        infos = source.infolist()
        rng.shuffle(infos)
        for info in infos:
            target.writestr(info.filename, source.read(info))
        if rng.random() < 0.3:
            target.comment = b"c" * rng.randint(1, 5)
        if rng.random() < 0.2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a duplicate name, as a hostile package may hold
                target.writestr("word/document.xml", source.read("word/document.xml")[: rng.randrange(5000)])
    return buffer.getvalue()


def records(data):
    """The offsets of the central records and of their local headers, and the names, as far as they can be
    found."""
    directory = struct.unpack_from("<L", data, len(data) - 6)[0]  # the end record's offset of the directory
    found, position = [], directory
    while position + 46 <= len(data) and data[position : position + 4] == b"PK\x01\x02":
        name, extra, comment = struct.unpack_from("<3H", data, position + 28)
        named = data[position + 46 : position + 46 + name]
        found.append((position, struct.unpack_from("<L", data, position + 42)[0], named))
        position += 46 + name + extra + comment
    return directory, found


READ_MEMBERS = (b"_rels/.rels", b"word/document.xml")


def mutate_package(rng, data):
    """The package's zip structure damaged or made unusual: bytes of the central directory, a central record, a
    local header or a member's data changed; flags, sizes, CRC-32, compression, extra and comment lengths, names;
    cut, with bytes before or after it."""
    data = bytearray(data)
    directory, found = records(bytes(data))
    kind = rng.randrange(12) if found else 3
    read = [record for record in found if record[2] in READ_MEMBERS]  # the members the reader reads, mostly
    position, header, _ = rng.choice(read if read and rng.random() < 0.7 else found) if found else (0, 0, b"")
    if kind == 0:
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(directory, len(data))] = rng.randrange(256)
    elif kind == 1:
        data[position + rng.randrange(46)] = rng.randrange(256)
    elif kind == 2:
        data[min(len(data) - 1, header + rng.randrange(40))] = rng.randrange(256)
    elif kind == 3:
        del data[rng.randrange(len(data)) :]
    elif kind == 4:
        data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    elif kind == 5:
        data[:0] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    elif kind == 6:
        data[min(len(data) - 1, header + 30 + rng.randrange(200))] ^= 1 << rng.randrange(8)
    elif kind == 7:
        field = position + 8 if rng.random() < 0.5 else header + 6
        flags = struct.unpack_from("<H", data, field)[0] | 1 << rng.choice([0, 3, 5, 6, 11])
        struct.pack_into("<H", data, field, flags)
    elif kind == 8:
        field = position + rng.choice([16, 20, 24])
        value = struct.unpack_from("<L", data, field)[0] + rng.choice([-1, 1, 7, -100, 10**6, 2**31])
        struct.pack_into("<L", data, field, value % 2**32)
    elif kind == 9:
        struct.pack_into("<H", data, position + 10, rng.choice([0, 1, 9, 12, 14, 99]))
    elif kind == 10:
        struct.pack_into("<H", data, position + rng.choice([30, 32]), rng.randint(1, 8))
    else:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        data[position + 46 + rng.randrange(max(name_length, 1))] = rng.choice([0, 0x2F, 0xE4, ord("x"), 0x80])
    return bytes(data)


def compare_packages(old: ModuleType, new: ModuleType, seed: int, count: int) -> int:
    """Compare the two readers over `count` generated packages, repacked or damaged (`mutate_package`); the
    number that differ."""
    rng = random.Random(seed)
    bases = [generator.LAYOUTS["docx"](generator.make_truth(rng), rng) for _ in range(6)]
    bases += [generator.wordlike_docx(base, rng) for base in bases[:3]]
    differ = unzipped = 0
    for index in range(count):
        data = rng.choice(bases)
        if rng.random() < 0.3:
            data = repacked(rng, data)
        if rng.random() < 0.9:
            data = mutate_package(rng, data)
        try:
            unzipped += new._plain_part(data) is not None
        except Exception:  # refused without zipfile
            unzipped += 1
        before, after = outcome(old, data), outcome(new, data)
        if before != after:
            differ += 1
            if differ <= 5:
                print(f"differ: seed {seed}, package {index}\n  before {before!r:.300}\n  after  {after!r:.300}")
    print(f"seed {seed}: {count} packages, {differ} differ, {unzipped} read or refused without zipfile")
    return differ


def compare(old: ModuleType, new: ModuleType, seed: int, count: int) -> int:
    """Compare the two readers over `count` inputs drawn with `seed`; the number that differ."""
    rng = random.Random(seed)
    bases = [generator.LAYOUTS["docx"](generator.make_truth(rng), rng) for _ in range(12)]
    bases += [generator.wordlike_docx(base, rng) for base in bases[:8]]
    differ = plain = word = word_plain = 0
    for index in range(count):
        kind = index % 7
        if kind == 0 and index % 12 == 0:
            data = generator.LAYOUTS["docx"](generator.make_truth(rng), rng)
            if index % 24 == 0:
                data = generator.wordlike_docx(data, rng)
        elif kind in (0, 1, 2):
            base = rng.choice(bases)
            part = zipfile.ZipFile(io.BytesIO(base)).read("word/document.xml")
            part = mutate_text(rng, part) if kind != 2 else mutate_bytes(rng, part)
            data = rezip(base, part)
        elif kind == 6:
            data = pydocx(rng)
        elif kind == 3:
            data = raw("".join(soup(rng) for _ in range(rng.randrange(1, 5))), root=rng.choice([None, *WORD_ROOTS]))
        else:
            body = plain_soup(rng)
            if kind == 5:
                body = mutate_text(rng, ("<w:body>" + body + "</w:body>").encode())[8:-9].decode("utf-8", "replace")
            data = raw(body, root=rng.choice([None, None, *WORD_ROOTS]))
        part = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
        read_plain = new._plain_reading(part) is not None
        plain += read_plain
        if any(mark in part for mark in WORD_MARKS):
            word += 1
            word_plain += read_plain
        before, after = outcome(old, data), outcome(new, data)
        if before != after:
            differ += 1
            if differ <= 5:
                print(
                    f"differ: seed {seed}, input {index} (kind {kind})\n  before {before!r:.300}\n  after  {after!r:.300}"
                )
    print(
        f"seed {seed}: {count} inputs, {differ} differ, {plain} read plain; {word} hold Word's own markup, "
        f"{word_plain} of them read plain"
    )
    return differ


def seeds(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the tree to compare with")
    parser.add_argument("--seeds", type=seeds, default=seeds("1-3"), help="a seed or a range of them (default 1-3)")
    parser.add_argument("--count", type=int, default=2000, help="inputs per seed")
    arguments = parser.parse_args()
    old, new = load(arguments.baseline.resolve(), "baseline_docx"), load(TREE, "this_docx")
    differ = sum(compare(old, new, seed, arguments.count) for seed in arguments.seeds)
    differ += sum(compare_packages(old, new, seed, arguments.count // 4) for seed in arguments.seeds)
    print(f"{differ} differ in all")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()

"""This tree's HTML reader against a baseline checkout's, over thousands of pages: the same lines, grids, problems
and refusals (their Chinese reasons) or the first difference.

    .venv/bin/python bench/html_equivalence.py --baseline /work/base25 --n 3000 --extra ../shared/corpus/real

Pages: generated reports (`tests.generator.render_html`, encoded as the generator encodes them); the same pages
mutated (markup pieces that change how libxml2 builds the tree inserted, ranges deleted or doubled: stray and
nested tables, cells and rows outside tables, `<pre>`, script and noscript, comments, entities and markers,
odd span values, form feeds and CRs, cut-off tags); tag soup made of those pieces alone; the extra folder's
`.html` files, whole and mutated. Both readers are loaded side by side (`bench.reader_ab.reader_module`).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.reader_ab import ROOT, reader_module
from tests import generator

PIECES = (
    "<td>", "</td>", "<th>", "</th>", "<tr>", "</tr>", "<table>", "</table>", "<tbody>", "</tbody>", "<thead>",
    "<tfoot>", "<caption>说明</caption>", "<p>", "</p>", "<br>", "<div>", "</div>", "<span>", "</span>",
    "<pre>一 二\n  三\r\n四</pre>", "<pre>", "</pre>", "<script>var a='<td>';</script>", "<style>td{}</style>",
    "<noscript><td>藏</td></noscript>", "<noscript><table><tr><td>1</td></tr></table></noscript>",
    "<title>题</title>", "<template><td>x</td></template>", "<!-- 注释 <td> -->", "<?php echo 1 ?>",
    "&nbsp;", "&amp;", "&lt;td&gt;", "&#12288;", "&#xFDD0;", "&#64977;", "\ufdd0", "\ufdd3", "&bogus;", "&#0;",
    "<td rowspan=\"2\">合</td>", "<td colspan=\"3\">并</td>", "<td rowspan=\"0\">零</td>", "<td colspan=\"0\">零</td>",
    "<td rowspan=\"3px\">三</td>", "<td colspan=\"+2\">加</td>", "<td rowspan=\"99999\">大</td>",
    "<td rowspan=\"x\">坏</td>", "<td colspan=\" 2\">空</td>", "<td rowspan=\"002\">前</td>",
    "<table><tr><td>内</td><td>表</td></tr></table>", "<table>外<tr><td>a</td></tr></table>",
    "<tr><td>行</td></tr>", "<td>格</td>", "<li>项", "<h3>标题</h3>", "<o:p></o:p>", "<font>字</font>",
    "\n", "\r\n", "\r", "\t", "\f", " ", "\u3000", "\u00a0", "中文", "12", "，", "<", "</", "<a", ">", "\"", "'",
    "<meta charset=\"gbk\">", "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<html>", "<body>", "</body>",
    "<head>", "</head>", "<hr>", "<img src=\"data:,\">", "<b>粗</b>", "<select><option>选</option></select>",
    "<colgroup><col width=\"9\"></colgroup>", "<caption></caption>", "<caption> </caption>", "<form>", "</form>",
    "<input type=\"hidden\">", "<span> </span>", "<div>\n</div>", "<p>\f</p>", "<br/>", "<div/>", "<td/>",
    "<tr><br><td>间</td></tr>", "<tbody><tr></tr></tbody>", "<thead></thead>", "<style></style>", "<script></script>",
    "<noscript> </noscript>", "<template></template>", "<o:p> </o:p>", "<wbr>", "<label>标</label>",
    "  ", "一  二", "a  b", "\ufdf2", "\ufdc0", "&#x27;", "&#39;",
)  # fmt: skip


NOT_UTF8 = (b"\x80", b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe4\xb8", "中文".encode("gbk"))


def mutate(page: str, rng: random.Random) -> str:
    """The page with one to five random edits."""
    for _ in range(rng.randint(1, 5)):
        place = rng.randrange(len(page) + 1)
        kind = rng.random()
        if kind < 0.6:
            page = page[:place] + rng.choice(PIECES) + page[place:]
        elif kind < 0.8:
            page = page[:place] + page[place + rng.randint(1, 200) :]
        else:
            end = min(len(page), place + rng.randint(1, 300))
            page = page[:end] + page[place:end] + page[end:]
    return page


def soup(rng: random.Random) -> str:
    """A page of pieces alone, around a table sometimes."""
    pieces = [rng.choice(PIECES) for _ in range(rng.randint(1, 60))]
    if rng.random() < 0.5:
        pieces = ["<table>", *pieces, "</table>"]
    return "".join(pieces)


def encoded(page: str, rng: random.Random) -> bytes:
    """The page's bytes: mostly UTF-8, sometimes as the generator encodes reports (GB18030, BOMs …)."""
    if rng.random() < 0.7:
        data = page.encode("utf-8", "surrogatepass")
        if rng.random() < 0.2:  # bytes that are not UTF-8 somewhere (a page cut mid-character, a stray GBK word)
            place = rng.randrange(len(data) + 1)
            data = data[:place] + rng.choice(NOT_UTF8) + data[place:]
        return data
    return generator.encode(page, rng)


def outcome(read: Callable[[bytes], object], data: bytes) -> object:
    """What a reader gives for the bytes: its document's lines, grids and problems, or its refusal."""
    try:
        document = read(data)
    except Exception as error:  # any failure is an outcome to compare
        return (type(error).__name__, str(error))
    return (document.lines, sorted(document.grids.items()), document.problems)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the tree to compare with")
    parser.add_argument("--n", type=int, default=1000, help="generated pages (as many mutated, a third as soup)")
    parser.add_argument("--extra", type=Path, help="a folder of real .html files (each mutated --n/10 times too)")
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    before = reader_module(args.baseline, "html", "baseline_html").read
    after = reader_module(ROOT, "html", "tree_html").read
    real = [path.read_text("utf-8") for path in sorted(args.extra.glob("*.html"))] if args.extra else []
    kinds = {"generated": 0, "mutated": 0, "soup": 0, "real": 0, "real mutated": 0}
    differences = 0

    def compare(kind: str, data: bytes) -> None:
        nonlocal differences
        kinds[kind] += 1
        old, new = outcome(before, data), outcome(after, data)
        if old != new:
            differences += 1
            if differences <= 3:
                path = Path(f"/tmp/html-difference-{differences}.html")
                path.write_bytes(data)
                print(f"DIFFERENT ({kind}, saved as {path}):\n  baseline  {old!r:.600}\n  this tree {new!r:.600}")

    for _ in range(args.n):
        page = generator.render_html(generator.make_truth(rng), rng)
        compare("generated", encoded(page, rng))
        compare("mutated", encoded(mutate(page, rng), rng))
        if rng.random() < 0.34:
            compare("soup", encoded(soup(rng), rng))
    for page in real:
        compare("real", page.encode("utf-8"))
        for _ in range(max(1, args.n // 10)):
            compare("real mutated", encoded(mutate(page, rng), rng))
    counts = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    print(f"{sum(kinds.values())} pages ({counts}): {differences} different")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()

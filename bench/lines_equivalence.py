"""Same answers as a baseline checkout, function by function, for the parser's line work: `normalize` (one line at
a time and a report's new lines together), `nfkc`, `compact`, the parser's line facts, `Memo.answers`, what the
tokenizer makes of each line (`tokens._analyse`), the metadata reader and its name splitting, over many lines;
whether each document's repeated lines were collapsed (`tokens.collapsed_lines`).

    .venv/bin/python bench/lines_equivalence.py --baseline /work/base25 --n 40 --extra ../shared/corpus/real

The lines are those of N generated reports per text layout (and N damaged renderings per layout), of the files in
each --extra folder, and variants of them (cut, joined, respaced with every kind of whitespace, full-width digits,
circled and parenthesised numerals, headings fused into prose). Each tree works the same inputs out in a process
of its own (`--dump`, on that tree's PYTHONPATH, the same interpreter) and the answers are compared; prints every
function whose answers differ, with a few of the inputs, and exits 1 when any does. bench/parse_equivalence.py
compares whole reports; this compares the functions one by one over many more lines.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Characters mixed into the variants: every kind of whitespace `str.split` knows, what NFKC changes, numerals.
_SPICE = (
    " ",
    "  ",
    "\t",
    "\u3000",
    "\u00a0",
    "\u2002",
    "\u200b",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x85",
    "\u1680",
    "\u2028",
    "\r",
    "，",
    "（",
    "）",
    "：",
    "；",
    "．",
    "、",
    "１",
    "２",
    "０",
    "⒈",
    "⑵",
    "㈠",
    "ﬁ",
    "㍻",
    "e\u0301",
    "\u0301",
    "가",
    "\u1100\u1161",
    "一、",
    "二、",
    "三、",
    "六.",
    "4.",
    "# ",
    "**",
    "第3页",
    "- 4 -",
    "总体情况",
    "主动公开政府信息情况",
    "行政复议、行政诉讼情况",
    "其他需要报告的事项",
    "存在的主要问题及改进情况",
    "收到和处理政府信息公开申请情况",
    "人民政府",
    "镇",
    "市",
    "县",
    "区",
    "街道办事处",
    "2023年",
    "年度报告",
    "政府信息公开工作年度报告",
)


def _variants(lines: list[str], rng: random.Random, count: int) -> list[str]:
    made: list[str] = []
    for _ in range(count):
        line = rng.choice(lines)
        kind = rng.randrange(6)
        if kind == 0 and line:
            a, b = sorted(rng.randrange(len(line) + 1) for _ in range(2))
            made.append(line[a:b])
        elif kind == 1:
            made.append(line + rng.choice(_SPICE) + rng.choice(lines))
        elif kind == 2:
            at = rng.randrange(len(line) + 1)
            made.append(line[:at] + rng.choice(_SPICE) + line[at:])
        elif kind == 3:
            made.append("".join(rng.choice(_SPICE) for _ in range(rng.randrange(1, 6))))
        elif kind == 4:
            made.append(rng.choice(_SPICE) + line + rng.choice(_SPICE))
        else:
            made.append(line.replace(" ", rng.choice(_SPICE)))
    return made


def _documents(n: int, seed: int, extra: list[Path]) -> list[list[str]]:
    """Each document's lines: generated reports of every text layout, damaged ones, and the extra files'."""
    sys.path.insert(0, str(ROOT))
    from report.extract import extract
    from tests import generator

    rng = random.Random(seed)
    documents: list[list[str]] = []
    for layout in generator.LAYOUTS:
        for _ in range(n):
            rendered = generator.LAYOUTS[layout](generator.make_truth(rng), rng)
            if isinstance(rendered, str):
                documents.append(rendered.splitlines())
            lines, _kinds = generator.damage(generator.rendered_lines(layout, generator.make_truth(rng), rng), rng)
            documents.append(lines)
    for folder in extra:
        for path in sorted(folder.iterdir()):
            if path.suffix in {".txt", ".md", ".html", ".docx", ".pdf"}:
                document = extract(path, 50_000_000, None, None)[2]
                documents.append(list(document.lines))
    variant_rng = random.Random(seed + 1)
    all_lines = [line for lines in documents for line in lines] or [""]
    for _ in range(n * 4):
        documents.append(_variants(all_lines, variant_rng, variant_rng.randrange(5, 80)))
    return documents


# The line facts compared by name (a tree may hold others, or in another order).
_FACT_NAMES = ("text", "section", "renumbered", "content", "bare", "pieces", "changes", "page_number")


def _facts_answer(fields: tuple[str, ...], facts: tuple[object, ...]) -> tuple[object, ...]:
    """A line's facts as every tree gives them: a heading candidate counts when it names a section (one that
    names none, `parse._find_headings` passes over: a tree may leave it out of the candidates), and so does
    whether the line is notable."""
    named = dict(zip(fields, facts, strict=True))
    candidate = bool(named["heading_like"]) and (named["section"] is not None or named["renumbered"] is not None)
    return (*map(named.__getitem__, _FACT_NAMES), candidate, bool(named["changes"]) or candidate)


def dump(inputs: Path, output: Path) -> None:
    """The answers of the tree on sys.path (the current directory) for the inputs, pickled."""
    sys.path.insert(0, str(Path.cwd()))
    from report import metadata, normalized, parse, tokens

    documents: list[list[str]] = pickle.loads(inputs.read_bytes())
    answers: dict[str, list[object]] = {}

    def record(name: str, value: object) -> None:
        answers.setdefault(name, []).append(value)

    for lines in documents:
        # A report's new lines normalized together, then each looked up; and each alone in a fresh memo.
        normalized.normalize_new(lines)
        record("normalize (after normalize_new)", [normalized.normalize(line) for line in lines])
        record("nfkc", [normalized.nfkc(line) for line in lines])
        record("compact", [normalized.compact(line) for line in lines])
        # The facts the parser keeps of each line, worked out new (memo emptied) and through `answers`.
        fields = parse._LineFacts._fields
        parse._FACTS.clear()
        record("_line_facts", [_facts_answer(fields, parse._line_facts(line)) for line in lines])
        parse._FACTS.clear()
        record(
            "Memo.answers", [_facts_answer(fields, facts) for facts in parse._FACTS.answers(lines, parse._line_facts)]
        )
        record(
            "Memo.answers (with before)",
            [
                _facts_answer(fields, facts)
                for facts in parse._FACTS.answers(lines, parse._line_facts, normalized.normalize_new)
            ],
        )
        for fusable in (False, True):
            # What the tokenizer makes of each line (its tokens' kinds as text: the answers are unpickled where
            # the tree is not importable).
            analysed = [tokens._analyse(line, fusable) for line in lines]
            record(
                f"tokens._analyse (fusable={fusable})",
                [(*line[:5], [(str(token[0]), *token[1:]) for token in line[5]], *line[6:]) for line in analysed],
            )
        unfused = parse._unfuse(parse.Document(lines=list(lines)))
        answered = [_facts_answer(fields, facts) for facts in unfused.facts]
        # The candidates that name a section (`_facts_answer`).
        candidates = [index for index in unfused.candidates if answered[index][-2]]
        record("_unfuse", (unfused.document.lines, answered, candidates))
        texts = [normalized.normalize(line) for line in lines]
        meta = metadata.read_normalized_metadata(texts)
        record("read_normalized_metadata", (meta.title, meta.organization.model_dump(), meta.title_year, meta.dates))
        record("problems", meta.problems)
        joined = " ".join(filter(None, texts))
        record("periods_of", metadata.periods_of(joined))
        record("level_from_prose", metadata.level_from_prose(joined.replace(" ", "")))
        for text in texts[:60]:
            if len(text) <= 40:
                record("organization_from_name", metadata.organization_from_name(text).model_dump())
                record("_split_places", metadata._split_places(normalized.compact(text)))
        normalized._NORMALIZED.clear()
        record("normalize (alone)", [normalized.normalize(line) for line in lines])
        # Whether a crawler collapsed the repeated lines: of the document, and of it with its repeats dropped.
        record("collapsed_lines", tokens.collapsed_lines(parse.Document(lines=list(lines))))
        kept = [line for index, line in enumerate(lines) if not index or line.strip() != lines[index - 1].strip()]
        record("collapsed_lines (repeats dropped)", tokens.collapsed_lines(parse.Document(lines=kept)))
    output.write_bytes(pickle.dumps(answers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="a checkout of the tree to compare with")
    parser.add_argument("--n", type=int, default=40, help="reports per layout (and as many damaged ones)")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--extra", type=Path, action="append", default=[], help="a folder of more report files")
    parser.add_argument("--dump", nargs=2, type=Path, metavar=("INPUTS", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dump:
        dump(*args.dump)
        return
    if args.baseline is None:
        parser.error("--baseline is required")
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        inputs = Path(folder) / "inputs.pickle"
        documents = _documents(args.n, args.seed, args.extra)
        inputs.write_bytes(pickle.dumps(documents))
        results = {}
        for name, tree in (("baseline", args.baseline.resolve()), ("tree", ROOT)):
            output = Path(folder) / f"{name}.pickle"
            subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--dump", str(inputs), str(output)],
                cwd=tree,
                env={**os.environ, "PYTHONPATH": str(tree)},
                check=True,
            )
            results[name] = pickle.loads(output.read_bytes())
    old, new = results["baseline"], results["tree"]
    differing = 0
    for name in old:
        bad = [i for i, (a, b) in enumerate(zip(old[name], new.get(name, []), strict=False)) if a != b]
        if len(old[name]) != len(new.get(name, [])):
            bad.append(-1)
        checked = len(old[name])
        print(f"{name}: {checked} answers, {len(bad)} differ")
        for index in bad[:3]:
            print(f"  DIFFERS answer {index}: {str(old[name][index])[:300]} -> {str(new[name][index])[:300]}")
        differing += bool(bad)
    lines = sum(map(len, documents))
    print(f"{len(documents)} documents, {lines} lines; {differing} functions differ (baseline {args.baseline})")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()

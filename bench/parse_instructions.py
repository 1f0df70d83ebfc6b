"""Instructions of parse + rules per report, for callgrind: deterministic where CPU times on this machine move by
up to 50 % between runs a minute apart.

    valgrind --tool=callgrind --toggle-collect=_operator_call --callgrind-out-file=/tmp/spaces-first.out \
        .venv/bin/python bench/parse_instructions.py spaces first
    grep ^summary /tmp/spaces-first.out    # instructions of the 30 reports; divide by 30

100 generated reports of the layout are parsed and judged first (`report.parse.parse_file`, `rules.evaluate`),
so the line memos hold what 100 reports hold; then 30 new ones are, inside `operator.call` (the only call
callgrind collects): `first` counts a report's first parse, what a worker pays; `again` parses the same 30 once
before the count, so it counts re-parses. The garbage collector is off inside the window: a full collection
(~20–30 M instructions) lands about once per 100 first parses and would decide the figure. Run the same command in
two trees (`cd <tree> && <this tree's python> <this file> …`) for an A/B: the files are the same (seed 11).

`real` counts the report files of a folder instead (`--folder`, by default ../shared/corpus/real: its `.txt`
and `.md` files, SOURCES.md aside), after the same 100 generated `spaces` reports: the summary ÷ the number of
files (printed) is a file's cost. Real files are crawler output with damaged rows, which generated ones seldom are.

    valgrind --tool=callgrind --toggle-collect=_operator_call --callgrind-out-file=/tmp/real-again.out \
        .venv/bin/python bench/parse_instructions.py real again

`--toggle-collect` needs an interpreter whose symbols callgrind reads; a stripped one (Debian's /usr/bin/python3)
gives `summary: 0`. To compare interpreters, count whole runs instead (no `--toggle-collect`) with `--rounds 1` and
`--rounds 3` of `again`: the difference of their totals ÷ 60 is a report's parse again.
"""

from __future__ import annotations

import argparse
import gc
import operator
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))  # the tree measured is the one the command runs in
from report.parse import parse_file
from rules import evaluate
from rules.settings import RuleSettings
from tests import generator

WARM, COUNTED = 100, 30
REAL_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"
REAL_LAYOUT = "spaces"  # the generated layout `real` warms the memos with


def real_reports(folder: Path) -> list[Path]:
    """The text report files of a folder, by name: its .txt and .md files but SOURCES.md (which lists them)."""
    return sorted(path for path in folder.iterdir() if path.suffix in (".txt", ".md") and path.name != "SOURCES.md")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("layout", choices=[*sorted(generator.LAYOUTS), "real"])
    parser.add_argument("mode", choices=["first", "again"])
    parser.add_argument("--rounds", type=int, default=1, help="times the counted reports are judged inside the count")
    parser.add_argument("--folder", type=Path, default=REAL_FOLDER, help="where `real` takes its report files")
    arguments = parser.parse_args()
    real = arguments.layout == "real"
    layout = REAL_LAYOUT if real else arguments.layout
    rng = random.Random(11)
    folder = Path(tempfile.mkdtemp(prefix="parse-instructions-"))
    paths = []
    for number in range(WARM if real else WARM + COUNTED):
        rendered = generator.LAYOUTS[layout](generator.make_truth(rng), rng)
        path = folder / f"{number}.{generator.FILE_SUFFIX[layout]}"
        path.write_bytes(generator.encode(rendered, rng) if isinstance(rendered, str) else rendered)
        paths.append(path)
    if real:
        paths += real_reports(arguments.folder)
        print(f"counted: {len(paths) - WARM} files of {arguments.folder}")
    settings = RuleSettings()

    def judge(batch: list[Path]) -> None:
        for path in batch:
            evaluate(parse_file(path), [], settings)

    judge(paths[:WARM])
    counted = paths[WARM:]
    if arguments.mode == "again":
        judge(counted)
    gc.collect()
    gc.disable()
    for _ in range(arguments.rounds):
        operator.call(judge, counted)


if __name__ == "__main__":
    main()

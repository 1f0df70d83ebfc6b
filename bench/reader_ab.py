"""The HTML and docx readers of this tree against those of a baseline checkout, interleaved in one process.

    .venv/bin/python bench/reader_ab.py --baseline /work/base16 --n 100 --rounds 7
    .venv/bin/python bench/reader_ab.py --baseline /tmp/main-copy --layouts html --extra ../shared/corpus/real

The generator renders N reports per layout (--extra adds a folder's files of the same suffix); each round reads
every file with the baseline's reader, then with this tree's (`report/formats/<layout>.py` of each tree, loaded
side by side), so load from other processes falls on both alike. Prints the CPU time per file (this process's, as
`parse_bench.py --clock cpu`), median and best of the rounds, and the ratio of the medians. The readers' output is
compared by bench/parse_equivalence.py, not here.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.parse_bench import write_reports

ROOT = Path(__file__).resolve().parents[1]


def reader_module(tree: Path, layout: str, name: str) -> ModuleType:
    """`report/formats/<layout>.py` of a tree, loaded under its own module name (it imports the rest of `report`
    from this tree's path: the formats modules only share `report.document` and `html.collapse`)."""
    spec = importlib.util.spec_from_file_location(name, tree / "report" / "formats" / f"{layout}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def per_file(read: Callable[[bytes], object], files: list[bytes]) -> float:
    started = time.process_time()
    for data in files:
        read(data)
    return (time.process_time() - started) / len(files) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the tree to compare with")
    parser.add_argument("--n", type=int, default=100, help="reports per layout")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--layouts", default="html,docx", help="comma-separated: html, docx")
    parser.add_argument("--extra", type=Path, help="a folder of real report files")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"Command: bench/reader_ab.py {' '.join(sys.argv[1:])}  (CPU ms per file; median and best of the rounds)")
    with tempfile.TemporaryDirectory() as folder:
        for layout in args.layouts.split(","):
            paths = write_reports(layout, args.n, Path(folder), rng)
            if args.extra:
                paths += sorted(args.extra.glob(f"*.{layout}"))
            files = [path.read_bytes() for path in paths]
            before = reader_module(args.baseline, layout, f"baseline_{layout}").read
            after = reader_module(ROOT, layout, f"tree_{layout}").read
            times: dict[str, list[float]] = {"baseline": [], "this tree": []}
            for _ in range(args.rounds):
                times["baseline"].append(per_file(before, files))
                times["this tree"].append(per_file(after, files))
            medians = {name: statistics.median(values) for name, values in times.items()}
            for name, values in times.items():
                print(f"{layout:5} {name:10} {len(files):4} files  median {medians[name]:.3f}  best {min(values):.3f}")
            print(f"{layout:5} this tree ÷ baseline: {medians['this tree'] / medians['baseline']:.2f}")


if __name__ == "__main__":
    main()

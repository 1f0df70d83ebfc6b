"""Parse and rule-evaluation time per report, per format, next to the floor of reading and decoding the bytes.

    .venv/bin/python bench/parse_bench.py --n 2000            # a few thousand generated reports per format
    .venv/bin/python bench/parse_bench.py --n 200 --formats txt,html

For every format the generator renders N reports into a temporary folder, then three passes run over the
same files: the floor (read the bytes and decode them: UTF-8/GB18030 text, or for docx/pdf just the bytes),
the parse (`report.parse.parse_file`), and the rules (`rules.evaluate` on the parsed report). Peak memory is
tracemalloc's peak while parsing one report, the largest over a sample of 50.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report.formats.text import decode
from report.parse import parse_file
from rules import evaluate
from rules.settings import RuleSettings
from tests import generator

TEXT_FORMATS = {"txt", "md", "html"}


def write_reports(layout: str, n: int, folder: Path, rng: random.Random) -> list[Path]:
    paths = []
    for index in range(n):
        truth = generator.make_truth(rng)
        rendered = generator.LAYOUTS[layout](truth, rng)
        data = generator.encode(rendered, rng) if isinstance(rendered, str) else rendered
        path = folder / f"{layout}-{index}.{generator.FILE_SUFFIX[layout]}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def timed(paths: list[Path], work: Callable[[Path], object]) -> list[float]:
    times = []
    for path in paths:
        start = time.perf_counter()
        work(path)
        times.append(time.perf_counter() - start)
    return times


def floor(path: Path) -> object:
    data = path.read_bytes()
    return decode(data) if path.suffix.lstrip(".") in TEXT_FORMATS else data


def peak_memory(paths: list[Path]) -> int:
    peak = 0
    for path in paths[:50]:
        tracemalloc.start()
        parse_file(path)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return peak


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="reports per layout")
    parser.add_argument("--layouts", default=",".join(generator.LAYOUTS), help="comma-separated generator layouts")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    settings = RuleSettings()
    print(f"command: {' '.join(sys.argv)}")
    header = (
        f"{'layout':18} {'n':>6} {'floor med ms':>12} {'parse med ms':>12} {'parse p95 ms':>12} "
        f"{'ratio':>7} {'rules med ms':>12} {'peak KiB':>9}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as folder:
        for layout in args.layouts.split(","):
            paths = write_reports(layout, args.n, Path(folder), rng)
            floor_times = timed(paths, floor)
            parse_times = timed(paths, parse_file)
            rule_times = []
            for report in map(parse_file, paths):
                start = time.perf_counter()
                evaluate(report, [], settings)
                rule_times.append(time.perf_counter() - start)
            floor_median, parse_median = statistics.median(floor_times), statistics.median(parse_times)
            print(
                f"{layout:18} {len(paths):>6} {floor_median * 1e3:>12.3f} {parse_median * 1e3:>12.3f} "
                f"{p95(parse_times) * 1e3:>12.3f} {parse_median / floor_median:>6.0f}x "
                f"{statistics.median(rule_times) * 1e3:>12.3f} {peak_memory(paths) / 1024:>9.0f}"
            )
            for path in paths:
                path.unlink()


if __name__ == "__main__":
    main()

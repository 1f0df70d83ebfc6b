"""Parse and rule-evaluation time per report, per layout, next to the floor of reading and decoding the bytes
and, for PDFs, next to pypdfium2's bare text extraction of the same files.

    .venv/bin/python bench/parse_bench.py --n 300 --rounds 3
    .venv/bin/python bench/parse_bench.py --n 100 --layouts spaces,pdf --extra ../shared/corpus/real

For every layout the generator renders N reports into a temporary folder (and --extra adds the report files
of a folder but its SOURCES.md, grouped by suffix as `real-pdf`, `real-txt` …). The measurements are interleaved: each round
walks the files once and, file by file, times the floor (read the bytes and decode them: UTF-8/GB18030 text,
or for docx/pdf just the bytes), the reader alone (`report.extract.extract`: bytes → lines and grids), the
parse (`report.parse.parse_file`, reader included), the rules (`rules.evaluate` on that parse) and, for PDFs, the bare text extraction by pypdfium2 (every page's text, nothing else; when the
package is installed) — so load from other processes on a shared machine falls on all of them alike.
Figures are medians over all rounds and files, so they are mostly files parsed again, whose lines the parser's
memos already hold; `1st p+r` is parse + rules over the first round alone, each file met for the first time after
the ones before it (what a worker sees: the lines every report shares are remembered, a report's own are not). Peak memory is tracemalloc's peak while parsing one report,
the largest over a sample of 50. With `--clock cpu` every time is this process's CPU time instead of wall time:
on a machine other processes load, a wall time holds the waits for a core, which fall unevenly on long and short
measurements and so skew the ratios. `host` is the median time of a fixed pure-Python loop (a hundred thousand
additions), timed once at the start of every round: this machine's speed moves by up to 2× from one minute to the
next, and a millisecond figure means little without the speed of the minute it was taken in.

The process is set up as a worker's pool process is: before anything is measured it parses --warm reports of every
generated layout asked for (another seed's, never measured), so the first layout does not meet memos emptier than
the later ones do, and then tunes the garbage collector as `worker.tasks.tune_collector` does (freeze what start-up
built, collect the young generation less often). `--collector default` keeps Python's default collector instead.
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

from report.extract import extract
from report.formats.text import decode
from report.parse import parse_file
from rules import evaluate
from rules.settings import RuleSettings
from tests import generator
from worker.tasks import tune_collector

TEXT_FORMATS = {"txt", "md", "html"}
REPORT_SUFFIXES = {".txt", ".md", ".html", ".docx", ".pdf"}


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


def floor(path: Path) -> object:
    data = path.read_bytes()
    return decode(data) if path.suffix.lstrip(".") in TEXT_FORMATS else data


def pdfium_text() -> Callable[[Path], str] | None:
    """pypdfium2's bare text extraction of every page, or None when pypdfium2 is not installed."""
    try:
        import pypdfium2
    except ImportError:
        return None

    def extract(path: Path) -> str:
        document = pypdfium2.PdfDocument(path.read_bytes())
        try:
            return "\n".join(page.get_textpage().get_text_range() for page in document)
        finally:
            document.close()

    return extract


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def host_speed() -> int:
    """A fixed pure-Python workload, timed to tell how fast the host runs at this moment."""
    total = 0
    for number in range(100_000):
        total += number
    return total


def elapsed(work: Callable[[], object]) -> tuple[float, object]:
    start = clock()
    result = work()
    return clock() - start, result


def measure(paths: list[Path], rounds: int, settings: RuleSettings, bare: Callable[[Path], str] | None) -> dict:
    times: dict[str, list[float]] = {
        "floor": [], "read": [], "parse": [], "rules": [], "both": [], "first": [], "bare": [], "host": [],
    }  # fmt: skip
    for round_index in range(rounds):
        times["host"].append(elapsed(host_speed)[0])
        for path in paths:
            times["floor"].append(elapsed(lambda path=path: floor(path))[0])
            times["read"].append(elapsed(lambda path=path: extract(path))[0])
            parse_time, report = elapsed(lambda path=path: parse_file(path))
            rules_time, _ = elapsed(lambda report=report: evaluate(report, [], settings))
            times["parse"].append(parse_time)
            times["rules"].append(rules_time)
            times["both"].append(parse_time + rules_time)
            if round_index == 0:
                times["first"].append(parse_time + rules_time)
            if bare is not None and path.suffix == ".pdf":
                times["bare"].append(elapsed(lambda path=path: bare(path))[0])
    return times


def warm_up(layouts: str, count: int, folder: Path, rng: random.Random, settings: RuleSettings) -> None:
    """Parse and judge `count` reports of each layout, as a worker has judged others before the files measured."""
    for layout in filter(None, layouts.split(",")):
        for path in write_reports(layout, count, folder, rng):
            evaluate(parse_file(path), [], settings)
            path.unlink()


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


def ms(value: float) -> str:
    return f"{value * 1e3:.3f}"


# The list of a corpus folder's files (../shared/corpus/real/SOURCES.md), not a report.
SOURCES = "SOURCES.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300, help="reports per layout")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved passes over the files")
    parser.add_argument("--layouts", default=",".join(generator.LAYOUTS), help="comma-separated generator layouts")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="a folder of real report files")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="wall time or this process's CPU time")
    parser.add_argument("--warm", type=int, default=30, help="reports of each layout parsed before measuring")
    parser.add_argument(
        "--collector", choices=("worker", "default"), default="worker", help="a pool process's collector or Python's"
    )
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    rng = random.Random(args.seed)
    settings = RuleSettings()
    bare = pdfium_text()
    print(
        f"command: {' '.join(sys.argv)}  (medians of {args.rounds} interleaved rounds; {args.clock} times in ms; "
        f"{args.warm} reports of each layout parsed first; {args.collector} collector)"
    )
    # The interpreter's build moves every figure (README, "Measured"): say which one ran.
    print(f"python: {sys.executable} -> {Path(sys.executable).resolve()} {sys.version.split()[0]}")
    print(
        f"{'layout':18} {'files':>5} {'floor':>7} {'read':>7} {'parse':>7} {'p95':>7} {'rules':>7} {'parse+rules':>11} "
        f"{'÷floor':>7} {'1st p+r':>7} {'pdfium':>7} {'÷pdfium':>7} {'peak KiB':>8} {'host':>6}"
    )
    with tempfile.TemporaryDirectory() as folder:
        warm_up(args.layouts, args.warm, Path(folder), random.Random(args.seed + 1), settings)
        if args.collector == "worker":
            tune_collector()
        groups = [
            (layout, lambda layout=layout: write_reports(layout, args.n, Path(folder), rng))
            for layout in args.layouts.split(",")
            if layout
        ]
        for extra in args.extra:
            for suffix in sorted(REPORT_SUFFIXES):
                found = sorted(path for path in extra.iterdir() if path.suffix == suffix and path.name != SOURCES)
                if found:
                    groups.append((f"real-{suffix[1:]}", lambda found=found: found))
        for name, make in groups:
            paths = make()
            for path in paths[:3]:  # imports and first-call caches are not what is measured
                evaluate(parse_file(path), [], settings)
            times = measure(paths, args.rounds, settings, bare)
            median = {key: statistics.median(values) for key, values in times.items() if values}
            pdfium = (
                f"{ms(median['bare']):>7} {median['both'] / median['bare']:>6.2f}x"
                if "bare" in median
                else (f"{'-':>7} {'-':>7}")
            )
            print(
                f"{name:18} {len(paths):>5} {ms(median['floor']):>7} {ms(median['read']):>7} {ms(median['parse']):>7} "
                f"{ms(p95(times['parse'])):>7} {ms(median['rules']):>7} {ms(median['both']):>11} "
                f"{median['both'] / median['floor']:>6.0f}x {ms(median['first']):>7} {pdfium} {peak_memory(paths) / 1024:>8.0f} {ms(median['host']):>6}"
            )
            if not name.startswith("real-"):
                for path in paths:
                    path.unlink()


if __name__ == "__main__":
    main()

"""What the worst text costs the parser: files of short table-like lines (`本年新收 0 1 2 3 4 5 6 7`, the shape that
costs the most per byte) of growing size, parsed in a child process each, with wall time and peak resident memory.

    .venv/bin/python bench/bound_bench.py                      # 0.1, 1, 5 and 50 MB
    .venv/bin/python bench/bound_bench.py --sizes 0.1,50

The parse reads at most `report.document.MAX_TEXT_CHARS` characters, so time and memory stop growing with the
file beyond that; the baseline is the same child reading and decoding the file's bytes only.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE = "本年新收 0 1 2 3 4 5 6 7\n"
CHILD = {
    "baseline": "from pathlib import Path; import sys; Path(sys.argv[1]).read_bytes().decode('utf-8')",
    "parse": "import sys; from report.parse import parse_file; parse_file(sys.argv[1])",
}


def measure(code: str, path: Path) -> tuple[float, float]:
    """(seconds, peak resident MiB) of a child process running `code` on `path`."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT)
    _, _, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.1,1,5,50", help="file sizes in MB, comma-separated")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    print("| size | lines | baseline s | baseline MiB | parse s | parse MiB |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for size in (float(value) for value in args.sizes.split(",")):
            lines = int(size * 1e6 / len(LINE.encode()))
            path = Path(folder) / f"{size}MB.txt"
            path.write_text(LINE * lines, encoding="utf-8")
            base_time, base_memory = measure(CHILD["baseline"], path)
            parse_time, parse_memory = measure(CHILD["parse"], path)
            print(
                f"| {size:g} MB | {lines:,} | {base_time:.2f} | {base_memory:.0f} | {parse_time:.2f} | {parse_memory:.0f} |"
            )


if __name__ == "__main__":
    main()

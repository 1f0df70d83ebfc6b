"""`nianbao ingest` of a folder, this tree against a baseline checkout: wall time and reports per second.

    .venv/bin/python bench/ingest_bench.py --baseline /work/main --n 300 --rounds 3

Renders N generated reports (N/3 townships × 2022–2024, each year with a planted defect, so earlier years are
read and the cross-year rules run) into one folder, then, round by round and alternating which goes first, runs
`python -m nianbao ingest FOLDER --db <fresh SQLite>` of each tree (each on its own PYTHONPATH, the same
interpreter) and times it. Prints the median per tree and the ratio, and the findings (body, year, rule, location,
open or not) that only one tree stored, counted by rule.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import generator  # noqa: E402

KINDS = ("requests.total_row", "requests.balance", "fees.statement_missing")


def render_share(folder: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    for body in range(n // 3):
        series = generator.make_series(rng, (2022, 2023, 2024), level="township")
        for truth in series:
            planted, _ = generator.plant(truth, rng.choice(KINDS), rng)
            (folder / f"{body:05d}-{truth.year}.txt").write_bytes(generator.render("spaces", planted, rng))


def ingest(tree: Path, share: Path, database: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree), "NIANBAO_DATA_DIR": str(database.parent / "data")}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "nianbao", "ingest", str(share), "--db", f"sqlite:///{database}"],
        cwd=tree,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def stored_findings(database: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return sorted(
            connection.execute(
                "SELECT o.name, f.year, f.rule, f.location, f.resolved_at IS NULL FROM findings f "
                "LEFT JOIN organizations o ON o.id = f.organization_id"
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the tree to compare with")
    parser.add_argument("--n", type=int, default=300, help="reports (a multiple of 3)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    trees = {"this tree": ROOT, "baseline": args.baseline.resolve()}
    times: dict[str, list[float]] = {name: [] for name in trees}
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as scratch:
        share = Path(scratch) / "share"
        share.mkdir()
        render_share(share, args.n, args.seed)
        findings: dict[str, list[tuple[object, ...]]] = {}
        for round_number in range(args.rounds):
            order = list(trees.items()) if round_number % 2 == 0 else list(reversed(trees.items()))
            for name, tree in order:
                database = Path(scratch) / f"{round_number}-{name.replace(' ', '-')}" / "nianbao.db"
                database.parent.mkdir()
                times[name].append(ingest(tree, share, database))
                findings[name] = stored_findings(database)
    reports = args.n // 3 * 3
    for name, measured in times.items():
        median = statistics.median(measured)
        print(f"{name:10} median {median:7.2f} s  {reports / median:6.1f} reports/s  rounds {measured}")
    ratio = statistics.median(times["baseline"]) / statistics.median(times["this tree"])
    print(f"this tree is {ratio:.2f}× the baseline's speed")
    mine, theirs = Counter(findings["this tree"]), Counter(findings["baseline"])
    for name, only in (("this tree", mine - theirs), ("baseline", theirs - mine)):
        by_rule = Counter(rule for _, _, rule, _, _ in only.elements())
        print(f"findings only {name} stored: {only.total()} {dict(by_rule)}")


if __name__ == "__main__":
    main()

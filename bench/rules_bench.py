"""Time of the rules, this tree's against a baseline's, loaded in one process and timed report by report.

    .venv/bin/python bench/rules_bench.py --baseline /work/base20 --n 150 --rounds 3 --clock cpu

Both trees' `rules` (`bench.rules_equivalence.load_rules`) judge the same parsed reports, each tree its own deep
copy, in turns whose order alternates report by report (so caches the trees share, such as `compact`'s, favour
neither). N bodies, each with a three-year series rendered in the generator's layouts in turn and with four
other bodies' reports of the last year as peers, read back as storage reads them for the worker
(`rules_equivalence.prose_only`; every fifth body's part 五 is a copy of its first peer's). Scenarios, each
timed on every body's last year:
  alone    `evaluate(report, [], settings)` (what bench/parse_bench.py's `rules` column times);
  earlier  with its two earlier years;
  peers    with its earlier years and its peers (what the worker runs, `nianbao.judge.judge` without `compare`);
  judge    `compare` and `evaluate` with both, as `judge` runs them.
N ≥ 100 keeps the per-report views (`rules.views`, 64 remembered) from being met again in later rounds: every
report is judged as the first time, as a worker judges it. Medians and first-round medians in µs; the ratio is
this tree's over the baseline's.
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.rules_equivalence import Rules, load_rules, parsed, prose_only
from report.model import Report
from tests import generator

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
PEERS = 4
SCENARIOS = ("alone", "earlier", "peers", "judge")


def bodies(n: int, seed: int) -> list[tuple[Report, list[Report], list[Report]]]:
    """(last year, earlier years newest first, peers) of N bodies."""
    rng = random.Random(seed)
    layouts = list(generator.LAYOUTS)
    serieses = []
    for index in range(n):
        series = generator.make_series(rng, (2021, 2022, 2023))
        if index % 5 == 4 and serieses:  # a copy of another body's part 五: the peer rule finds it
            series[-1], _ = generator.plant_peer_copy(series[-1], serieses[-1][-1], rng)
        serieses.append(series)
    reports = [
        [
            parsed(layouts[(index + step) % len(layouts)], truth, rng, f"{index}-{truth.year}")
            for step, truth in enumerate(series)
        ]
        for index, series in enumerate(serieses)
    ]
    read_back = [prose_only(years[-1]) for years in reports]
    return [
        (years[-1], years[-2::-1], [read_back[(index - step) % n] for step in range(1, PEERS + 1)])
        for index, years in enumerate(reports)
    ]


def work(tree: Rules, scenario: str, report: Report, earlier: list[Report], peers: list[Report]) -> Callable[[], Any]:
    settings = tree.settings()
    if scenario == "alone":
        return lambda: tree.evaluate(report, [], settings)
    if scenario == "earlier":
        return lambda: tree.evaluate(report, earlier, settings)
    if scenario == "peers":
        return lambda: tree.evaluate(report, earlier, settings, peers)
    return lambda: (tree.compare(report, earlier), tree.evaluate(report, earlier, settings, peers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the tree to compare with")
    parser.add_argument("--n", type=int, default=150, help="bodies (each with three years and four peers)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    trees = load_rules(args.baseline.resolve())
    cases = bodies(args.n, args.seed)
    # each tree its own copies: nothing one tree remembers on a report object serves the other
    copies = [copy.deepcopy(cases) for _ in trees]
    for tree, own in zip(trees, copies, strict=True):  # imports and first-call caches are not what is measured
        for report, earlier, peers in own[:3]:
            for scenario in SCENARIOS:
                work(tree, scenario, report, earlier, peers)()
    print(f"command: {' '.join(sys.argv)}  ({args.clock} times in µs; this tree / baseline {args.baseline})")
    print(
        f"{'scenario':10} {'this tree':>10} {'baseline':>10} {'ratio':>6} {'1st this':>10} {'1st base':>10} {'ratio':>6}"
    )
    for scenario in SCENARIOS:
        times: list[list[float]] = [[] for _ in trees]
        first: list[list[float]] = [[] for _ in trees]
        for round_index in range(args.rounds):
            for position in range(len(cases)):
                order = (0, 1) if (position + round_index) % 2 else (1, 0)
                for which in order:
                    report, earlier, peers = copies[which][position]
                    run = work(trees[which], scenario, report, earlier, peers)
                    start = clock()
                    run()
                    spent = clock() - start
                    times[which].append(spent)
                    if round_index == 0:
                        first[which].append(spent)
        mine, base = (statistics.median(values) * 1e6 for values in times)
        mine_first, base_first = (statistics.median(values) * 1e6 for values in first)
        print(
            f"{scenario:10} {mine:>10.1f} {base:>10.1f} {mine / base:>6.2f} "
            f"{mine_first:>10.1f} {base_first:>10.1f} {mine_first / base_first:>6.2f}"
        )


if __name__ == "__main__":
    main()

"""How alike the generator's prose is across bodies: peers per report and narrative.copied_from_peer firings.

    .venv/bin/python bench/prose_peers.py --n 3000

Writes the reports `bench/pipeline_bench.py` drops (N of N/3 townships × 2022–2024, same seed, same layouts),
parses them, and for each year does what the store does for a report (storage/peers.py): the LSH bands of its
parts 一 and 五, bands found in more than `COMMON_BAND_VERSIONS` reports of the year are boilerplate, and its
peers are the other bodies' reports sharing a band, at most 20, most shared bands first. Two views: every other
report of the year (what a report checked after the whole burst sees) and only the reports dropped before it
(what the bench's burst sees). Then narrative.copied_from_peer runs on each report with its peers: firings,
and the CPU time the rule takes per report. Also: masked similarity (`rules.crossyear.similarity`) and 5-character
shingle Jaccard of random pairs of different bodies' parts, and of a body's consecutive years (unmasked, as
narrative.copied_from_prior_year compares them).
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pipeline_bench import PEER_COPY_EVERY, make_series_reports
from report.identity import identity
from report.model import Report
from report.parse import parse_file
from rules.copying import copied_from_peer
from rules.crossyear import similarity
from rules.settings import RuleSettings
from rules.similarity import PEER_PARTS, SHINGLE, masked, names_of, report_bands
from storage.peers import COMMON_BAND_VERSIONS

PEER_LIMIT = 20


def jaccard(first: str, second: str) -> float:
    def shingles(text: str) -> set[str]:
        return {text[i : i + SHINGLE] for i in range(max(1, len(text) - SHINGLE + 1))}

    a, b = shingles(first), shingles(second)
    return len(a & b) / len(a | b) if a | b else 0.0


def peers_by_year(reports: list[Report], earlier_only: bool) -> list[list[Report]]:
    """Each report's peers as storage/peers.py ranks them (the reports in drop order)."""
    bands = [sorted({key for _, key in report_bands(report)}) for report in reports]
    postings: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    for index, (report, keys) in enumerate(zip(reports, bands, strict=True)):
        for key in keys:
            postings[(report.year, key)].append(index)
    found: list[list[Report]] = []
    for index, (report, keys) in enumerate(zip(reports, bands, strict=True)):
        shared: Counter[int] = Counter()
        for key in keys:
            posted = [i for i in postings[(report.year, key)] if not earlier_only or i < index]
            if len(posted) > COMMON_BAND_VERSIONS:
                continue
            shared.update(i for i in posted if i != index and identity(reports[i]) != identity(report))
        ranked = sorted(shared, key=lambda i: (-shared[i], i))[:PEER_LIMIT]
        found.append([reports[i] for i in ranked])
    return found


def pair_figures(pairs: list[tuple[Report, Report]], part: str, mask: bool) -> tuple[list[float], list[float]]:
    ratios, jaccards = [], []
    for first, second in pairs:
        names = [*names_of(first), *names_of(second)] if mask else []
        a = masked(first.evidence.section_text.get(part, ""), names)
        b = masked(second.evidence.section_text.get(part, ""), names)
        if mask and min(len(a), len(b)) < 80:
            continue
        if not mask:
            a, b = first.evidence.section_text.get(part, ""), second.evidence.section_text.get(part, "")
        ratios.append(similarity(a, b))
        jaccards.append(jaccard(a, b))
    return ratios, jaccards


def shown(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"mean {statistics.fmean(values):.3f}, median {statistics.median(values):.3f}, "
        f"p95 {sorted(values)[int(0.95 * (len(values) - 1))]:.3f}, max {max(values):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pairs", type=int, default=400, help="random pairs of different bodies to compare")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="prose-peers-") as work:
        started = time.process_time()
        paths = make_series_reports(args.n, Path(work), seed=args.seed)
        written = time.process_time() - started
        reports = [parse_file(path) for path in paths]
        parsed = time.process_time() - started - written
    print(f"{len(reports)} reports (written in {written:.1f} s, parsed in {parsed:.1f} s CPU)")
    lengths = {
        part: [len(masked(r.evidence.section_text.get(part, ""), names_of(r))) for r in reports] for part in PEER_PARTS
    }
    for part, values in lengths.items():
        print(f"part {part} masked length: mean {statistics.fmean(values):.0f}, min {min(values)}, max {max(values)}")

    series = -(-args.n // 3)
    print(f"planted copies of another body's part 五: {len(range(PEER_COPY_EVERY - 1, series, PEER_COPY_EVERY))}")
    settings = RuleSettings()
    for earlier_only in (False, True):
        peers = peers_by_year(reports, earlier_only)
        counts = [len(found) for found in peers]
        started = time.process_time()
        fired = [
            (report, finding)
            for report, found in zip(reports, peers, strict=True)
            for finding in copied_from_peer.findings(report, [], settings, found)
        ]
        rule_ms = (time.process_time() - started) * 1000 / len(reports)
        view = "dropped before it" if earlier_only else "whole year"
        print(
            f"peers ({view}): mean {statistics.fmean(counts):.2f}, median {statistics.median(counts):g}, "
            f"max {max(counts)}, reports with any {sum(1 for c in counts if c)}; copied_from_peer fired "
            f"{len(fired)} times on {len({id(r) for r, _ in fired})} reports, {rule_ms:.2f} ms CPU per report"
        )
        for report, finding in fired[:5]:
            print(f"    {report.organization.region}{report.organization.name} {report.year}: {finding.message}")

    rng = random.Random(args.seed)
    bodies: dict[object, list[Report]] = defaultdict(list)
    for report in reports:
        bodies[identity(report)].append(report)
    by_year: dict[int | None, list[Report]] = defaultdict(list)
    for report in reports:
        by_year[report.year].append(report)
    years = [year for year, group in by_year.items() if len(group) > 1]
    pairs: list[tuple[Report, Report]] = []
    while len(pairs) < args.pairs:
        first, second = rng.sample(by_year[rng.choice(years)], 2)
        if identity(first) != identity(second):
            pairs.append((first, second))
    series_pairs = [
        pair for group in bodies.values() for pair in itertools.pairwise(sorted(group, key=lambda r: r.year or 0))
    ]
    for part in PEER_PARTS:
        ratios, jaccards = pair_figures(pairs, part, mask=True)
        print(f"part {part}, different bodies (masked): similarity {shown(ratios)}; Jaccard {shown(jaccards)}")
    for part in (*PEER_PARTS, "六"):
        ratios, _ = pair_figures(series_pairs[: args.pairs], part, mask=False)
        print(f"part {part}, one body's consecutive years (unmasked): similarity {shown(ratios)}")


if __name__ == "__main__":
    main()

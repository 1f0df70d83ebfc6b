"""The near-duplicate index of narrative.copied_from_peer: brute force against MinHash/LSH, by the numbers.

    .venv/bin/python bench/peer_bench.py --n 100000 --queries 200

N reports of one year (generated bodies, their parts 一 and 五 as the generator writes them) are indexed; then
`--queries` new reports are checked: half are copies of a random indexed body's part 五 with the name, the
self-reference and the figures changed and one sentence added, half are fresh reports. Brute force compares a
query with every indexed report (the exact comparison the rule makes, on masked text); it is timed on the first
`--brute` indexed reports and scaled to N. The index looks up the query's LSH band keys, in memory
(`rules.similarity.PeerIndex`) and in SQLite (the `prose_bands` table and its (year, band_key) index), then
compares with the candidates only. Reported: time per query, candidates per query, recall of the copies (found
by the index and at or above the rule's threshold), and false alarms among the fresh queries.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, select
from sqlmodel import SQLModel

from report.model import Evidence, Organization, Report, Source
from rules import similarity as similarity_module
from rules.crossyear import similarity
from rules.settings import RuleSettings
from rules.similarity import PeerIndex, masked, names_of, report_bands
from storage.tables import ProseBandRecord
from tests import generator

YEAR = 2023


def make_report(rng: random.Random, index: int, five: list[str] | None = None) -> tuple[Report, list[str]]:
    org = generator.make_organization(rng)
    org = dataclasses.replace(org, region=org.region or f"第{index}区")
    truth = generator.make_truth(rng, organization=org, year=YEAR)
    paragraphs = five if five is not None else truth.sections["五"]
    report = Report(
        source=Source(path=f"/bench/{index}.txt", sha256=f"{index:064d}", format="txt"),
        organization=Organization(name=f"{org.name}{index}", region=org.region, level=org.level),  # type: ignore[arg-type]
        year=YEAR,
        evidence=Evidence(section_text={"一": "\n".join(truth.sections["一"]), "五": "\n".join(paragraphs)}),
    )
    return report, paragraphs


def copy_of(rng: random.Random, original: Report, index: int) -> Report:
    own = original.organization.name or ""
    five = original.evidence.section_text["五"]
    text = five.replace(own, f"某镇{index}") + "下一步将持续抓好整改落实。"
    text = "".join(str(rng.randint(1, 9)) if char.isdigit() else char for char in text)
    report, _ = make_report(rng, index)
    report.evidence.section_text["五"] = text
    return report


def best(query: Report, candidates: list[Report], part: str = "五") -> float:
    scores = [0.0]
    for other in candidates:
        names = [*names_of(query), *names_of(other)]
        mine, theirs = (
            masked(query.evidence.section_text[part], names),
            masked(other.evidence.section_text[part], names),
        )
        scores.append(similarity(mine, theirs))
    return max(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--brute", type=int, default=2000, help="indexed reports brute force is timed on")
    parser.add_argument("--rows", type=int, default=similarity_module.ROWS_PER_BAND, help="MinHash rows per LSH band")
    args = parser.parse_args()
    similarity_module.ROWS_PER_BAND = args.rows
    threshold = RuleSettings().peer_similarity
    rng = random.Random(13)

    started = time.perf_counter()
    indexed = [make_report(rng, i)[0] for i in range(args.n)]
    print(f"generated {args.n} reports in {time.perf_counter() - started:.0f} s")

    memory = PeerIndex()
    started = time.perf_counter()
    bands = []
    for report in indexed:
        memory.add(report)
        bands.append(report_bands(report))
    signing = (time.perf_counter() - started) / args.n
    print(f"signatures + in-memory index: {signing * 1000:.2f} ms per report")

    folder = tempfile.mkdtemp()
    engine = create_engine(f"sqlite:///{folder}/bands.db")
    SQLModel.metadata.create_all(engine, tables=[ProseBandRecord.__table__])  # type: ignore[list-item]
    with engine.begin() as connection:
        rows = [
            {"version_id": i, "year": YEAR, "part": part, "band_key": key}
            for i, report_bands_ in enumerate(bands)
            for part, key in report_bands_
        ]
        for start in range(0, len(rows), 50000):
            connection.execute(insert(ProseBandRecord), rows[start : start + 50000])
    print(f"prose_bands rows: {len(rows)}")

    queries = []
    for q in range(args.queries):
        if q % 2 == 0:
            queries.append((copy_of(rng, indexed[rng.randrange(args.n)], args.n + q), True))
        else:
            queries.append((make_report(rng, args.n + q)[0], False))

    brute_times, index_times, sql_times, candidates = [], [], [], []
    found = alarms = copies = fresh = 0
    sample = indexed[: args.brute]
    for query, is_copy in queries:
        started = time.perf_counter()
        best(query, sample)
        brute_times.append((time.perf_counter() - started) * args.n / len(sample))
        started = time.perf_counter()
        peers = memory.candidates(query)
        score = best(query, peers)
        index_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        keys = sorted({key for _, key in report_bands(query)})
        with engine.connect() as connection:
            connection.execute(
                select(ProseBandRecord.version_id)
                .where(ProseBandRecord.year == YEAR, ProseBandRecord.band_key.in_(keys))  # type: ignore[attr-defined]
                .distinct()
            ).all()
        sql_times.append(time.perf_counter() - started)
        candidates.append(len(peers))
        if is_copy:
            copies += 1
            found += score >= threshold
        else:
            fresh += 1
            alarms += score >= threshold

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.1f} / {sorted(values)[int(len(values) * 0.95) - 1] * 1000:.1f} ms"

    print(f"N = {args.n}, {args.queries} queries ({copies} copies, {fresh} fresh), threshold {threshold}, "
          f"{similarity_module.PERMUTATIONS // args.rows} bands of {args.rows} rows")  # fmt: skip
    print(f"brute force (scaled from {len(sample)}): median / p95 {ms(brute_times)}")
    print(f"index in memory + exact check on candidates: {ms(index_times)}")
    print(f"index in SQLite (band lookup only): {ms(sql_times)}")
    print(f"candidates per query: median {statistics.median(candidates):.0f}, max {max(candidates)}")
    print(f"copies found: {found}/{copies}; fresh reports flagged: {alarms}/{fresh}")


if __name__ == "__main__":
    main()

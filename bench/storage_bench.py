"""Storage at scale: ingest N generated reports, then time the `history` and `findings` queries.

    .venv/bin/python bench/storage_bench.py --n 100000                 # SQLite, and PostgreSQL when installed
    .venv/bin/python bench/storage_bench.py --n 20000 --no-postgres
    .venv/bin/python bench/storage_bench.py --n 20000 --postgres postgresql+psycopg2://user@host/db
    .venv/bin/python bench/storage_bench.py --n 100000 --existing sqlite:////tmp/100k.db   # queries only

Reports are clones of a parsed seed (白鹤镇, seed 002) with their own body, region, year and table cells: one body
in N/5 reports a year from 2020 to 2024, 100 bodies per region, about 5% of reports followed by a corrected
version, and planted defects (unbalanced table 三, regulations issued by a township, a missing topic). Each is
ingested as the pipeline does it: the stored earlier years are read, the rules judge the report, the store saves
it (years in order, so the cross-year rules see the year before). PostgreSQL is started from the installed
binaries in a temporary directory (as the fixture of the tests does, but with fsync on) unless a URL is given.

Printed per backend: ingest rate (reports/s, all steps) and save rate (the `Store.save` call alone), then the
median and 95th percentile of 200 random `history(name, region)` queries and of 200 random `findings(...)`
queries of each of three shapes (a region; a region's open findings of a year; one rule in a region), and the
time of the overview's overdue list asked once and then after each of 20 new versions (those are stored).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from nianbao.judge import judge
from nianbao.settings import Settings
from report.model import Report
from report.parse import parse_file
from rules import all_rules
from storage import Store
from storage.registry import overdue
from tests.pg_server import running_postgres, server_binaries

R = TypeVar("R")
SEED = next((Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seeds").glob("002_*.txt"))
YEARS = (2020, 2021, 2022, 2023, 2024)
BODIES_PER_REGION = 100
CORRECTED_SHARE = 0.05


def body_name(body: int) -> str:
    return f"第{body}镇人民政府"


def region_name(body: int) -> str:
    return f"第{body // BODIES_PER_REGION}县"


def generate(n: int, rng: random.Random) -> Iterator[Report]:
    """N reports, year by year; each year every body's report, some followed by a corrected version."""
    base = parse_file(SEED)
    bodies = max(1, round(n / len(YEARS) / (1 + CORRECTED_SHARE)))
    made = 0
    for year in YEARS:
        for body in range(bodies):
            for edition in range(2 if rng.random() < CORRECTED_SHARE else 1):
                if made == n:
                    return
                made += 1
                yield clone(base, body, year, edition, rng)


def clone(base: Report, body: int, year: int, edition: int, rng: random.Random) -> Report:
    report = base.model_copy(deep=True)
    report.source.sha256 = f"{body:012d}{year:04d}{edition:02d}".ljust(64, "0")
    report.source.path = f"/share/{region_name(body)}/{body_name(body)}/{year}-{edition}.txt"
    report.organization.name, report.organization.region = body_name(body), region_name(body)
    report.year, report.published = year, f"{year + 1}-01-{rng.randint(10, 28)}"
    report.evidence.title_year, report.evidence.period_years = year, [year]
    active, requests = report.tables.active, report.tables.requests
    assert active is not None and requests is not None
    granted, carried_out = rng.randint(0, 30), rng.randint(0, 3)
    for key in ("new", "granted", "total", "carried_out"):
        requests[key] = [0] * 7
    requests["new"][0] = requests["new"][6] = granted + carried_out
    requests["granted"][0] = requests["granted"][6] = granted
    requests["total"][0] = requests["total"][6] = granted
    requests["carried_out"][0] = requests["carried_out"][6] = carried_out
    if rng.random() < 0.3:  # table 三 does not add up: requests.balance and requests.total_row
        requests["total"][6] += rng.randint(1, 3)
    regulations = 1 if rng.random() < 0.15 else 0  # a township issuing 规章: regulations.ineligible_issuer
    active.regulations.issued = active.regulations.in_force = regulations
    if rng.random() < 0.5:
        report.evidence.section_text["一"] += "主动公开、依申请公开、政府信息管理、平台建设、监督保障。"
    return report


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms"


def timed(samples: list[float], call: Callable[[], R]) -> R:
    start = time.perf_counter()
    result = call()
    samples.append(time.perf_counter() - start)
    return result


def run(label: str, url: str, n: int, queries: int, seed: int) -> None:
    store = Store.open(url)
    settings = Settings()
    rng = random.Random(seed)
    saves: list[float] = []
    findings_total = ingested = 0
    started = time.perf_counter()
    for ingested, report in enumerate(generate(n, rng), start=1):
        judge(report, store.earlier_reports(report), settings)
        findings_total += len(report.findings)
        timed(saves, lambda report=report: store.save(report))  # type: ignore[misc]
        if ingested % 5000 == 0:
            print(f"  {label}: {ingested} reports, {ingested / (time.perf_counter() - started):.0f}/s", flush=True)
    elapsed = time.perf_counter() - started
    print(f"{label}: ingested {ingested} reports ({findings_total} findings) in {elapsed:.1f} s")
    print(f"  ingest (read earlier years + judge + save): {ingested / elapsed:8.1f} reports/s")
    print(f"  Store.save alone:                           {ingested / sum(saves):8.1f} reports/s")
    query(label, store, n, queries, rng)


def query(label: str, store: Store, n: int, queries: int, rng: random.Random) -> None:
    """Time random `history` and `findings` queries over a database loaded with `generate(n)`."""
    bodies = max(1, round(n / len(YEARS) / (1 + CORRECTED_SHARE)))
    regions = sorted({region_name(body) for body in range(bodies)})
    rule_ids = [item.id for item in all_rules()]
    history_times: list[float] = []
    for _ in range(queries):
        body = rng.randrange(bodies)
        timed(history_times, lambda body=body: store.history(body_name(body), region_name(body)))  # type: ignore[misc]
    print(f"  history(name, region), {queries} random bodies:        {percentiles(history_times)}")
    shapes: dict[str, Callable[[], dict[str, object]]] = {
        "findings(region)": lambda: {"region": rng.choice(regions)},
        "findings(region, year, open_only)": lambda: {
            "region": rng.choice(regions),
            "year": rng.choice(YEARS),
            "open_only": True,
        },
        "findings(rule, region)": lambda: {"rule": rng.choice(rule_ids), "region": rng.choice(regions)},
    }
    for shape, make_filters in shapes.items():
        times: list[float] = []
        rows = 0
        for _ in range(queries):
            filters = make_filters()
            rows += len(timed(times, lambda filters=filters: store.findings(**filters)))  # type: ignore[arg-type]
        print(f"  {shape + ',':35} {queries} random: {percentiles(times)}   ({rows / queries:.0f} rows each)")
    overdue_timings(store, n, queries, rng)
    print(f"  database size: {database_size(store) / 2**20:.0f} MiB")
    store.dispose()


def overdue_timings(store: Store, n: int, queries: int, rng: random.Random) -> None:
    """Time the overview's overdue list (every body is overdue for the year after the last generated one) asked
    once, then again after each of `queries // 10` corrected versions of a random body's last report: what the
    overview asks for while reports come in. Adds those versions to the database."""
    year, as_of, rules = YEARS[-1] + 1, date(YEARS[-1] + 2, 6, 1), Settings().rules
    bodies = max(1, round(n / len(YEARS) / (1 + CORRECTED_SHARE)))
    base = parse_file(SEED)
    first: list[float] = []
    listed = len(timed(first, lambda: overdue(store, year, as_of, rules)))
    times: list[float] = []
    for _ in range(max(1, queries // 10)):
        corrected = clone(base, rng.randrange(bodies), YEARS[-1], 2, rng)
        corrected.source.sha256 = uuid.uuid4().hex * 2  # new content on every run, also over an existing database
        store.save(corrected)
        timed(times, lambda: overdue(store, year, as_of, rules))
    print(f"  overdue({year}), {listed} bodies: first {first[0] * 1000:.0f} ms; after each new version, "
          f"{len(times)} times: {percentiles(times)}")  # fmt: skip


def database_size(store: Store) -> int:
    if store.sqlite_path:
        return sum(path.stat().st_size for path in store.sqlite_path.parent.glob(store.sqlite_path.name + "*"))
    with store.engine.connect() as connection:
        return connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()


def fresh_postgres_database(server_url: str, stack: ExitStack) -> str:
    """A new database on the server; dropped at the end."""
    name = f"nianbao_bench_{int(time.time())}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    stack.callback(drop)
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="reports to ingest (default 100000)")
    parser.add_argument("--queries", type=int, default=200, help="random queries of each kind (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to use (a new database is made on it)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--existing", metavar="URL", help="only time the queries, on a database already loaded with the same --n"
    )
    args = parser.parse_args()
    if args.existing:
        query("existing", Store(args.existing), args.n, args.queries, random.Random(args.seed))
        return
    with ExitStack() as stack:
        if not args.no_sqlite:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nianbao-bench-")))
            run("SQLite", f"sqlite:///{folder / 'nianbao.db'}", args.n, args.queries, args.seed)
        if args.no_postgres:
            return
        server = args.postgres
        if server is None:
            if server_binaries() is None:
                print("PostgreSQL: not installed, skipped (give --postgres URL)")
                return
            server = stack.enter_context(running_postgres(durable=True))
        run("PostgreSQL", fresh_postgres_database(server, stack), args.n, args.queries, args.seed)


if __name__ == "__main__":
    main()

"""The web pages at scale: load N generated reports, serve them with `nianbao serve`, time each main page.

    .venv/bin/python bench/web_bench.py --n 100000 --db /var/tmp/web-bench.db   # keep the database for reruns
    .venv/bin/python bench/web_bench.py --n 20000                                # a temporary database

The reports are storage_bench.py's (clones of seed 002: 100 bodies a region, years 2020–2024, planted defects, 5%
corrected), ingested as the pipeline does it (earlier years read, rules judged, stored); an existing database
given with --db is used as it is. The server runs in its own process (`nianbao serve` on 127.0.0.1: uvicorn, one
worker), and this process sends the requests one at a time with randomly drawn parameters (bodies, regions, rules,
years, findings), --requests of each kind after one warm-up request. Printed per page: the time of that first
request (nothing cached yet: the web app keeps its costly counts until a new version or triage decision is
stored), then the median, 95th percentile and mean size of the timed ones, and the median as a multiple of the
baseline measured first in the same run: the sign-in page, which the same server renders without the database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import func, select
from storage_bench import generate

from nianbao.judge import judge
from nianbao.settings import Settings
from storage import Store
from storage.tables import FindingRecord, OrganizationRecord, ReportRecord
from tests.services import free_port, wait_for

PROJECT = Path(__file__).resolve().parents[1]


def load(store: Store, n: int, seed: int) -> None:
    settings = Settings()
    started = time.perf_counter()
    for count, report in enumerate(generate(n, random.Random(seed)), start=1):
        judge(report, store.earlier_reports(report), settings)
        store.save(report)
        if count % 5000 == 0:
            print(f"  loaded {count} reports, {count / (time.perf_counter() - started):.0f}/s", flush=True)
    print(f"loaded {n} reports in {time.perf_counter() - started:.0f} s", flush=True)


def sizes(store: Store) -> list[int]:
    """The number of reports, bodies and findings."""
    with store.engine.connect() as connection:
        return [
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (ReportRecord, OrganizationRecord, FindingRecord)
        ]


def samples(store: Store, rng: random.Random) -> dict[str, Callable[[], str]]:
    """Page kind -> a function that draws the path of one request of that kind."""
    with store.engine.connect() as connection:
        bodies = connection.execute(select(OrganizationRecord.id, OrganizationRecord.name)).all()
        regions = list(connection.execute(select(OrganizationRecord.region_key).distinct()).scalars())
        years = list(connection.execute(select(ReportRecord.year).distinct()).scalars())
        rules = list(connection.execute(select(FindingRecord.rule).distinct()).scalars())
        last_finding = connection.execute(select(func.max(FindingRecord.id))).scalar_one()
        several_years = list(
            connection.execute(
                select(ReportRecord.organization_id)
                .where(ReportRecord.organization_id.is_not(None))  # type: ignore[union-attr]
                .group_by(ReportRecord.organization_id)
                .having(func.count() > 1)
            ).scalars()
        )
    years = [year for year in years if year is not None]
    return {
        "overview": lambda: "/",
        "overview ?year": lambda: f"/?year={rng.choice(years)}",
        "overview ?rule&severity": lambda: f"/?rule={rng.choice(rules)}&severity=error",
        "overview ?region": lambda: f"/?region={quote(rng.choice(regions) or '-')}",
        "overview ?q (search)": lambda: f"/?q={quote(rng.choice(bodies).name[:4])}&show=all",
        "overview page 50": lambda: "/?page=50",
        "findings (all open)": lambda: "/findings",
        "findings ?region&year": lambda: (
            f"/findings?region={quote(rng.choice(regions) or '-')}&year={rng.choice(years)}"
        ),
        "findings ?org": lambda: f"/findings?org={rng.choice(bodies).id}&status=all",
        "finding page": lambda: f"/findings/{rng.randint(1, last_finding)}",
        "organization page": lambda: f"/org/{rng.choice(bodies).id}",
        "two-year comparison": lambda: f"/org/{rng.choice(several_years)}/compare",
        "rule page": lambda: f"/rules/{rng.choice(rules)}",
        "region roll-up": lambda: "/regions",
        "region roll-up ?year": lambda: f"/regions?year={rng.choice(years)}&severity=all",
    }


def get(base: str, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    with urllib.request.urlopen(base + path, timeout=60) as response:
        body = response.read()
        assert response.status == 200, (path, response.status)
    return time.perf_counter() - started, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="reports to load into a new database (default 100000)")
    parser.add_argument("--db", type=Path, help="SQLite file to use (loaded first when it does not exist)")
    parser.add_argument("--requests", type=int, default=40, help="timed requests of each kind (default 40)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nianbao-web-bench-") as folder:
        path = args.db or Path(folder) / "nianbao.db"
        fresh = not path.exists()
        url = f"sqlite:///{path.resolve()}"
        store = Store.open(url)
        if fresh:
            load(store, args.n, args.seed)
        reports, bodies, findings = sizes(store)
        print(
            f"database: {reports} reports, {bodies} bodies, {findings} findings ({path.stat().st_size / 2**20:.0f} MiB)"
        )
        draws = samples(store, random.Random(args.seed))
        store.dispose()
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "nianbao", "serve", "--port", str(port), "--db", url],
            cwd=PROJECT,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(lambda: _answers(base), 60, "nianbao serve")
            # The baseline: the sign-in page, a template rendered without touching the database, through the same
            # server and client. What a page costs beyond it is its queries and its size.
            baseline = statistics.median(get(base, "/login")[0] for _ in range(args.requests))
            print(f"baseline /login (no database): median {baseline * 1000:.1f} ms")
            print(
                f"{'page':28} {'first':>10} {'median':>10} {'p95':>10} {'× base':>8} {'mean size':>10}"
                f"   ({args.requests} requests each)"
            )
            medians = []
            for kind, draw in draws.items():
                first, _ = get(base, draw())  # the warm-up: aggregates not yet cached, the database's pages not read
                timings, lengths = zip(*(get(base, draw()) for _ in range(args.requests)), strict=True)
                ordered = sorted(timings)
                p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
                medians.append(statistics.median(ordered))
                print(
                    f"{kind:28} {first * 1000:8.1f}ms {statistics.median(ordered) * 1000:8.1f}ms {p95 * 1000:8.1f}ms "
                    f"{statistics.median(ordered) / baseline:7.0f}× {statistics.mean(lengths) / 1024:8.0f}KiB"
                )
            print(f"slowest median: {max(medians) * 1000:.1f} ms")
        finally:
            server.terminate()
            server.wait(10)


def _answers(base: str) -> bool:
    try:
        return get(base, "/login")[1] > 0
    except OSError:
        return False


if __name__ == "__main__":
    main()

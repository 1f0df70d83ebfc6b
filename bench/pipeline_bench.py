"""Pipeline throughput and drop-to-alert latency, next to a no-op Celery task on the same broker.

    .venv/bin/python bench/pipeline_bench.py --n 1000
    .venv/bin/python bench/pipeline_bench.py --n 10000 --setups embedded:2,redis:1,redis:2

A setup is `<broker>:<worker processes>`; broker is `embedded` (the default SQLite broker; `nianbao run`),
`filesystem` (kombu's filesystem transport, the alternative embedded broker), `redis` (a local redis-server;
`nianbao watch` plus that many `celery -A worker worker -c 1` processes) or `postgres` (the same on Redis, with
the database on a local PostgreSQL server instead of SQLite). For each setup, in the same run:

1. baseline — N no-op tasks published straight to the broker and run by the same number of worker processes:
   what the broker and Celery cost by themselves;
2. pipeline — N generated reports of N/3 bodies, three consecutive years each (2022–2024; each year with a
   planted defect, so each report has a new finding to alert about, the last year's a cross-year one, so the
   earlier years are looked up and the cross-year rules run), dropped into the watched folder at once, year by
   year (written beside it, then renamed in). "stored" is the time from the first drop to the last ledger
   entry `stored`, and throughput is N over it; "alerted" is the time to the last alert received at a local
   HTTP receiver (Apprise `json://`, one message per report and target: the alerts before digests), and
   latency is a file's drop to the arrival of its alert, median and 95th percentile;
3. idle latency — before the burst, `--idle` reports dropped one at a time, each after the previous alert
   arrived: what one reviewer dropping one file waits, next to the no-op task's own latency.

The ratio columns put the pipeline next to the baseline. The watcher's stability wait (`--stable`, 0.5 s by
default here, 2 s in production) is part of every latency. The peak resident memory (VmHWM) of every process
of the pipeline is sampled each second: the largest per role (watcher, Celery main process, pool process) is
shown. The receiver runs in the bench's own process, on the same two cores; the load average is printed
before and after each setup (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from nianbao.cli.pipeline import worker_argv  # noqa: E402
from nianbao.settings import Settings  # noqa: E402
from storage import Store  # noqa: E402
from storage.tables import LedgerRecord, OutboxRecord  # noqa: E402
from tests import generator  # noqa: E402
from tests.pg_server import running_postgres  # noqa: E402
from tests.services import Receiver, receiving, running_redis, wait_for  # noqa: E402
from worker.app import app, make_app  # noqa: E402

NOOP = "nianbao.bench.noop"
BIN = Path(sys.executable).parent
PLANTS = ("requests.total_row", "fees.statement_missing", "regulations.ineligible_issuer", "narrative.missing_topics")
# Defects that keep the body's name (ineligible_issuer renames it): the years of a series stay one body's.
SERIES_PLANTS = tuple(kind for kind in PLANTS if kind != "regulations.ineligible_issuer")
PLACE_CHARACTERS = "安平和兴东西南北新青石金龙凤泉山河桥松柏"
LAYOUTS = ("spaces", "cell_lines_tabs", "tsv_shifted", "markdown", "html")


@app.task(name=NOOP)
def noop(sent_at: float, done_file: str) -> None:
    """The baseline task: record when it ran."""
    with open(done_file, "a", encoding="ascii") as done:
        done.write(f"{sent_at} {time.time()}\n")


# -- reports ----------------------------------------------------------------------------------------------------


def make_series_reports(n: int, folder: Path, seed: int = 7, years: tuple[int, ...] = (2022, 2023, 2024)) -> list[Path]:
    """N generated reports: series of consecutive years of different bodies, each year with one planted defect
    and the last year's a cross-year one (so each report queues one alert, and the last year is judged against
    the earlier ones). Ordered year by year, as a province's folder of several years would be copied: most
    earlier years are in storage by the time their next year is processed."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    series_list: list[list[generator.GroundTruth]] = []
    while sum(map(len, series_list)) < n:
        organization = generator.make_organization(rng, "township")
        if organization.region is None or organization.name in seen:
            organization = _invented_township(rng)
        if organization.name in seen:
            continue
        seen.add(organization.name)
        series = generator.make_series(rng, years, organization=organization)
        planted = [_with_a_defect(truth, rng, SERIES_PLANTS) for truth in series[:-1]]
        for kind in rng.sample(generator.SERIES_KINDS, len(generator.SERIES_KINDS)):
            try:
                last = generator.plant_series([*planted, series[-1]], kind, rng)[0][-1]
                break
            except ValueError:
                continue
        else:
            last = _with_a_defect(series[-1], rng, SERIES_PLANTS)
        series_list.append([*planted, last][: n - sum(map(len, series_list))])
    paths = []
    for position in range(len(years)):
        for number, series in enumerate(series_list):
            if position >= len(series):
                continue
            layout = LAYOUTS[(number + position) % len(LAYOUTS)]
            path = folder / f"report-{len(paths):05d}.{generator.FILE_SUFFIX[layout]}"
            path.write_bytes(generator.render(layout, series[position], rng))
            paths.append(path)
    return paths


def _with_a_defect(
    truth: generator.GroundTruth, rng: random.Random, plants: tuple[str, ...] = PLANTS
) -> generator.GroundTruth:
    for kind in rng.sample(plants, len(plants)):
        try:
            return generator.plant(truth, kind, rng)[0]
        except ValueError:  # this kind cannot be planted in this report
            continue
    raise ValueError("no defect of PLANTS fits this report")


def _invented_township(rng: random.Random) -> generator.Organization:
    """A township with a made-up name: the generator knows about 1,500 (body, year), fewer than N."""
    county = generator.make_organization(rng, "township")
    while county.region is None:
        county = generator.make_organization(rng, "township")
    name = "".join(rng.sample(PLACE_CHARACTERS, rng.choice((2, 3)))) + "镇人民政府"
    return replace(county, title_name=f"{county.region}{name}", name=name, self_name="我镇")


# -- processes --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    broker: str  # embedded, filesystem, redis
    workers: int

    @property
    def name(self) -> str:
        return f"{self.broker}:{self.workers}"

    @property
    def redis(self) -> bool:
        return self.broker in ("redis", "postgres")

    @property
    def broker_url(self) -> str | None:
        """The broker URL for the embedded kinds (None: the default, SQLite); Redis URLs come per run."""
        return "filesystem://" if self.broker == "filesystem" else None


def database(env: dict[str, str]) -> str:
    return env.get("NIANBAO_DATABASE_URL") or f"sqlite:///{Path(env['NIANBAO_DATA_DIR']) / 'nianbao.db'}"


def environment(work: Path, broker_url: str | None, receiver: Receiver, stable: float) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NIANBAO_CONFIG": str(work / "none.toml"),
        "NIANBAO_DATA_DIR": str(work / "data"),
        "NIANBAO_NOTIFY_URLS": json.dumps([receiver.url]),
        "NIANBAO_WATCH_STABLE_SECONDS": str(stable),
        "NIANBAO_RECONCILE_INTERVAL": "5",
        "NIANBAO_RECONCILE_AFTER": "3600",
    }
    env.pop("NIANBAO_BROKER_URL", None)
    if broker_url:
        env["NIANBAO_BROKER_URL"] = broker_url
    return env


@contextmanager
def started(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as output:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker_commands(setup: Setup, app_module: str) -> list[list[str]]:
    """The Celery worker processes of a setup: on the embedded brokers one prefork worker with `workers` pool
    processes (what `nianbao run -c N` starts), on Redis `workers` prefork workers with one pool process each."""
    settings = Settings(broker_url="redis://" if setup.redis else setup.broker_url)
    if setup.redis:
        shapes = [1] * setup.workers
    else:
        shapes = [setup.workers]
    commands = []
    for index, concurrency in enumerate(shapes):
        argv = worker_argv(settings, concurrency, "prefork", "warning")
        argv[1] = app_module
        commands.append([str(BIN / "celery"), *argv, "--hostname", f"bench{index}@%h"])
    return commands


# -- measurements -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    rate: float  # per second
    median: float  # seconds
    p95: float
    idle_median: float = float("nan")  # seconds, one file at a time (pipeline only)
    idle_p95: float = float("nan")
    stored: float = float("nan")  # seconds from the first drop to the last stored (pipeline only)
    alerted: float = float("nan")  # seconds from the first drop to the last alert received
    memory: dict[str, float] = field(default_factory=dict)  # role -> largest peak RSS, MiB
    cpu: dict[str, float] = field(default_factory=dict)  # role -> CPU seconds over the whole run, all its processes


class MemorySampler:
    """Samples the peak resident memory (VmHWM) and the CPU time of every descendant of the bench each second,
    by role."""

    def __init__(self) -> None:
        self.peaks: dict[int, tuple[str, float]] = {}
        self.cpu: dict[int, float] = {}  # CPU seconds of each process at its last sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def sample(self) -> None:
        parents: dict[int, int] = {}
        ticks: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    parents[int(entry.name)] = int(fields[1])
                    ticks[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime
                except (OSError, IndexError, ValueError):
                    continue
        ours = {os.getpid()}
        for _ in range(4):  # bench -> nianbao run -> celery main -> pool process
            ours |= {pid for pid, parent in parents.items() if parent in ours}
        for pid in ours - {os.getpid()}:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            peak = re.search(r"VmHWM:\s+(\d+) kB", status)
            if peak is None or "redis-server" in command:
                continue
            if "celery" not in command:
                role = "watcher"
            elif "celery" in Path(f"/proc/{parents.get(pid, 0)}/cmdline").read_bytes().decode(errors="replace"):
                role = "pool process"
            else:
                role = "celery main"
            self.peaks[pid] = (role, int(peak[1]) / 1024)
            self.cpu[pid] = ticks.get(pid, 0) / os.sysconf("SC_CLK_TCK")

    def by_role(self) -> dict[str, float]:
        roles: dict[str, float] = {}
        for role, mib in self.peaks.values():
            roles[role] = max(roles.get(role, 0.0), mib)
        return roles

    def cpu_by_role(self) -> dict[str, float]:
        roles: dict[str, float] = {}
        for pid, seconds in self.cpu.items():
            role = self.peaks[pid][0]
            roles[role] = roles.get(role, 0.0) + seconds
        return roles


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_baseline(setup: Setup, env: dict[str, str], work: Path, n: int) -> Result:
    """N no-op tasks through the broker to the setup's worker processes."""
    done, warmup = work / "noop.txt", work / "warmup.txt"
    settings = Settings(data_dir=work / "data", broker_url=env.get("NIANBAO_BROKER_URL"))
    publisher = make_app(settings)
    with ExitStack() as stack:
        for argv in worker_commands(setup, "bench.pipeline_bench"):
            stack.enter_context(started(argv, env, work / "baseline.log"))
        # Warm up: every worker process has started and run a task before the clock starts.
        for _ in range(setup.workers * 2):
            publisher.send_task(NOOP, (time.time(), str(warmup)))
        wait_for(lambda: _lines(warmup) >= setup.workers * 2, 120, "the baseline workers")
        start = time.time()
        for _ in range(n):
            publisher.send_task(NOOP, (time.time(), str(done)))
        wait_for(lambda: _lines(done) >= n, 60 + n / 20, f"{n} no-op tasks", interval=0.2)
    rows = [tuple(map(float, line.split())) for line in done.read_text().splitlines()]
    latencies = [finished - sent for sent, finished in rows]
    return Result(n / (max(finished for _, finished in rows) - start), statistics.median(latencies),
                  percentile(latencies, 0.95))  # fmt: skip


def _lines(path: Path) -> int:
    try:
        return path.read_text().count("\n")
    except FileNotFoundError:
        return 0


def run_pipeline(
    setup: Setup, env: dict[str, str], work: Path, reports: list[Path], idle: int, receiver: Receiver
) -> Result:
    """Drop the reports (the first one is a warm-up, not measured; the next `idle` one at a time) and wait for
    every report and alert."""
    share, staging = work / "share", work / "staging"
    share.mkdir()
    staging.mkdir()
    store = Store.open(database(env))
    log = work / "pipeline.log"
    nianbao = str(BIN / "nianbao")
    warmup, one_by_one, measured = reports[0], reports[1 : 1 + idle], reports[1 + idle :]
    with ExitStack() as stack:
        memory = stack.enter_context(MemorySampler())
        if setup.redis:
            stack.enter_context(started([nianbao, "watch", str(share), "--loglevel", "warning"], env, log))
            for argv in worker_commands(setup, "worker"):
                stack.enter_context(started(argv, env, log))
        else:
            argv = [nianbao, "run", "--watch", str(share), "-c", str(setup.workers), "--loglevel", "warning"]
            stack.enter_context(started(argv, env, log))
        receiver.accepted.clear()
        shutil.copy(warmup, share / warmup.name)
        wait_for(lambda: receiver.accepted, 180, "the pipeline to alert about a first report")
        idle_latencies = []
        for report in one_by_one:
            receiver.accepted.clear()
            shutil.copy(report, staging / report.name)
            os.rename(staging / report.name, share / report.name)
            dropped_at = time.time()
            wait_for(lambda: receiver.accepted, 120, f"the alert about {report.name}", interval=0.01)
            idle_latencies.append(receiver.accepted[0].at - dropped_at)
        queued_before = _outbox(store)
        receiver.accepted.clear()
        for report in measured:
            shutil.copy(report, staging / report.name)
        dropped: dict[str, float] = {}
        for report in measured:
            os.rename(staging / report.name, share / report.name)
            dropped[str(share / report.name)] = time.time()
        start = min(dropped.values())
        wait_for(lambda: _stored(store) >= len(reports), 120 + len(reports) / 5, "every report stored", interval=0.2)
        expected = _outbox(store) - queued_before
        wait_for(lambda: len(receiver.accepted) >= expected, 120 + expected / 20, "every alert", interval=0.2)
        memory.sample()
        with Session(store.engine) as session:
            last = max(row.updated_at for row in session.exec(select(LedgerRecord)))
    latencies = []
    for delivery in receiver.accepted:
        match = re.search(r"文件：(\S+)", delivery.body.get("message", ""))
        if match and match[1] in dropped:
            latencies.append(delivery.at - dropped[match[1]])
    store.dispose()
    stored = last.timestamp() - start
    alerted = max(delivery.at for delivery in receiver.accepted) - start
    idle_median = statistics.median(idle_latencies) if idle_latencies else float("nan")
    idle_p95 = percentile(idle_latencies, 0.95) if idle_latencies else float("nan")
    return Result(len(measured) / stored, statistics.median(latencies), percentile(latencies, 0.95), idle_median,
                  idle_p95, stored, alerted, memory.by_role(), memory.cpu_by_role())  # fmt: skip


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _stored(store: Store) -> int:
    with Session(store.engine) as session:
        return len(session.exec(select(LedgerRecord.id).where(LedgerRecord.state == "stored")).all())


def _outbox(store: Store) -> int:
    with Session(store.engine) as session:
        return len(session.exec(select(OutboxRecord.id)).all())


# -- main -------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--setups", default="embedded:1,embedded:2,filesystem:2,redis:1,redis:2")
    parser.add_argument("--idle", type=int, default=20, help="reports dropped one at a time before the burst")
    parser.add_argument("--stable", type=float, default=0.5, help="the watcher's stability wait, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the working folders (logs, databases)")
    args = parser.parse_args()
    setups = [Setup(broker, int(workers)) for broker, _, workers in (s.partition(":") for s in args.setups.split(","))]
    base = Path(tempfile.mkdtemp(prefix="nianbao-pipeline-bench-"))
    print(f"generating {args.n} reports in {base} …", flush=True)
    reports = make_series_reports(1 + args.idle + args.n, base / "reports")
    results: list[tuple[Setup, Result, Result]] = []
    with receiving() as receiver:
        for setup in setups:
            work = base / setup.name.replace(":", "-")
            work.mkdir()
            with ExitStack() as stack:
                url = stack.enter_context(running_redis()).url if setup.redis else setup.broker_url
                env = environment(work, url, receiver, args.stable)
                if setup.broker == "postgres":
                    env["NIANBAO_DATABASE_URL"] = stack.enter_context(running_postgres())
                Store.open(database(env)).dispose()
                print(f"{setup.name}: baseline … (load {_load()})", flush=True)
                baseline = run_baseline(setup, env, work, args.n)
                print(f"{setup.name}: pipeline …", flush=True)
                pipeline = run_pipeline(setup, env, work, reports, args.idle, receiver)
            results.append((setup, baseline, pipeline))
            memory = ", ".join(f"{role} {mib:.0f} MiB" for role, mib in sorted(pipeline.memory.items()))
            cpu = ", ".join(f"{role} {seconds:.0f} s" for role, seconds in sorted(pipeline.cpu.items()))
            print(f"{setup.name}: no-op {baseline.rate:.0f}/s; pipeline {pipeline.rate:.1f} reports/s, all stored in "
                  f"{pipeline.stored:.1f} s, last alert at {pipeline.alerted:.1f} s, drop-to-alert median "
                  f"{pipeline.median:.2f} s, p95 {pipeline.p95:.2f} s, one at a time {pipeline.idle_median:.2f} s; "
                  f"peak memory {memory}; CPU time (whole run, idle part included) {cpu}; load {_load()}",
                  flush=True)  # fmt: skip
    print()
    print(f"$ {' '.join([Path(sys.executable).name, *sys.argv])}   (N = {args.n}, stability wait {args.stable} s, "
          f"{args.idle} one at a time first, {os.cpu_count()} CPUs)")  # fmt: skip
    header = (f"{'setup':14} {'no-op/s':>9} {'no-op p50':>10} {'reports/s':>10} {'% of no-op':>11} {'stored':>8} "
              f"{'alerted':>8} {'alert p50':>10} {'alert p95':>10} {'1-by-1 p50':>11} {'1-by-1 p95':>11}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for setup, baseline, pipeline in results:
        print(f"{setup.name:14} {baseline.rate:9.0f} {baseline.median * 1000:8.0f}ms {pipeline.rate:10.1f} "
              f"{pipeline.rate / baseline.rate:10.1%} {pipeline.stored:7.1f}s {pipeline.alerted:7.1f}s "
              f"{pipeline.median:9.2f}s {pipeline.p95:9.2f}s {pipeline.idle_median:10.2f}s "
              f"{pipeline.idle_p95:10.2f}s")  # fmt: skip
    if args.keep:
        print(f"\nworking folders kept in {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

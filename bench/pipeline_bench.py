"""Pipeline throughput, alert digests and CPU per process kind, next to a no-op Celery task on the same broker.

    .venv/bin/python bench/pipeline_bench.py --n 10000                  # embedded, redis:1, redis:2, postgres:2
    .venv/bin/python bench/pipeline_bench.py --n 2000 --setups embedded  # while developing

A setup is `<broker>[:<worker processes>]`:

- `embedded` — `nianbao run --watch DIR` on its defaults: SQLite, the embedded broker, the worker's default
  number of pool processes (one per CPU); `embedded:N` adds `-c N`;
- `redis:N` — a local redis-server, `nianbao watch DIR` and N `celery -A worker worker -c 1` processes;
- `postgres:N` — the same with the database on a local PostgreSQL 15 server instead of SQLite.

For each setup, in the same run:

1. baseline — N no-op tasks, one per report, published straight to the broker and run by the same worker
   processes: what the broker and Celery cost by themselves (tasks/s);
2. one at a time — a junk file first (failed, not an annual report: every process has started and taken a
   task), then `--idle` reports dropped one at a time, each once the previous one is stored: drop → stored, and
   for the first one, whose alert goes to a quiet target, drop → alert (the group wait is part of it);
3. the burst — N generated reports of N/3 bodies × three consecutive years (2022–2024; each year with a planted
   defect, the last year's a cross-year one, so earlier years are looked up and the cross-year rules run; one
   body in `PEER_COPY_EVERY` copies another's part 五 of the same year, so the peer look-up finds something),
   dropped into the watched folder at once, year by year (written beside it, then renamed in). "stored" is the
   first drop → the last ledger entry `stored`; reports/s is N over it; "÷ no-op" puts that next to the
   baseline. Every report must be stored once (ledger entries `stored` = versions = reports dropped, none
   doubled). "last alert" is the first drop → the arrival of the last outbox item in a digest (Apprise
   `json://`; a digest's JSON names its items in `items`), which comes at most `notify_group_interval` (60 s)
   after the last report stored; every item must arrive, once.

The watcher's stability wait (`--stable`, 0.5 s here, 2 s by default) is part of every latency. The alert
receiver is a process of its own (its CPU is shown apart, not in the pipeline's). Every second the bench samples
each process's CPU time and peak resident memory (VmHWM) from /proc: CPU-seconds are summed per process kind
from the first drop to the last report stored (and, apart, from then to the last alert), peak memory is the
largest process of each kind. CPU-seconds barely
depend on what else runs on the machine, wall times do: the load average is printed before and after. Process
kinds: the watcher (`nianbao run`/`nianbao watch`: watching, hashing, the ledger, publishing, reconciliation),
the Celery worker's main process (fetching and acknowledging tasks), its pool processes (the tasks), the broker
(redis-server; the embedded broker has no process: its work is in the watcher and the worker's main process),
the database (the PostgreSQL server's processes; SQLite has none).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from nianbao.cli.pipeline import worker_argv  # noqa: E402
from nianbao.settings import Settings  # noqa: E402
from storage import Store  # noqa: E402
from storage.tables import LedgerRecord, OutboxRecord, VersionRecord  # noqa: E402
from tests import generator  # noqa: E402
from tests.pg_server import running_postgres  # noqa: E402
from tests.services import running_redis, wait_for  # noqa: E402
from worker.app import app, make_app  # noqa: E402

NOOP = "nianbao.bench.noop"
BIN = Path(sys.executable).parent
PLANTS = ("requests.total_row", "fees.statement_missing", "regulations.ineligible_issuer", "narrative.missing_topics")
# Defects that keep the body's name (ineligible_issuer renames it): the years of a series stay one body's.
SERIES_PLANTS = tuple(kind for kind in PLANTS if kind != "regulations.ineligible_issuer")
PLACE_CHARACTERS = "安平和兴东西南北新青石金龙凤泉山河桥松柏"
# One body in this many copies part 五 of another body's report of the same year (narrative.copied_from_peer).
PEER_COPY_EVERY = 50
LAYOUTS = ("spaces", "cell_lines_tabs", "tsv_shifted", "markdown", "html")
DEFAULT_SETUPS = "embedded,redis:1,redis:2,postgres:2"
JUNK = "这不是年度报告，只是一份会议通知。\n".encode() * 20
# Process kinds, in the order shown.
KINDS = ("watcher", "worker main", "pool process", "broker", "database", "receiver", "bench")
PIPELINE_KINDS = KINDS[:5]


@app.task(name=NOOP)
def noop(sent_at: float, done_file: str) -> None:
    """The baseline task: record when it ran."""
    with open(done_file, "a", encoding="ascii") as done:
        done.write(f"{sent_at} {time.time()}\n")


# -- reports ----------------------------------------------------------------------------------------------------


def make_series_reports(n: int, folder: Path, seed: int = 7, years: tuple[int, ...] = (2022, 2023, 2024)) -> list[Path]:
    """N generated reports: series of consecutive years of different bodies, each year with one planted defect
    and the last year's a cross-year one (so each report queues one alert, and the last year is judged against
    the earlier ones); every `PEER_COPY_EVERY`-th body's second year copies part 五 of the body before it. Ordered year by year, as a province's folder of several years would be copied: most
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
    for number in range(PEER_COPY_EVERY - 1, len(series_list), PEER_COPY_EVERY):  # part 五 of another body's year
        copier, source = series_list[number], series_list[number - 1]
        position = min(1, len(copier) - 1, len(source) - 1)
        copier[position] = generator.plant_peer_copy(copier[position], source[position], rng)[0]
    paths: list[Path] = []
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


# -- the alert receiver, a process of its own --------------------------------------------------------------------


def serve_receiver(record: Path) -> None:
    """Accept every JSON POST (answering as a chat bot that took it) and append one line per message to
    `record`: arrival time, the digest's key and items. The port is written to `record`.port."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            line = json.dumps({"at": time.time(), "id": body.get("id"), "items": body.get("items", []),
                               "title": body.get("title", "")}, ensure_ascii=False)  # fmt: skip
            with lock, open(record, "a", encoding="utf-8") as output:
                output.write(line + "\n")
            answer = b'{"errcode": 0, "errmsg": "ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:
            pass

    lock = threading.Lock()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Path(f"{record}.port").write_text(str(server.server_address[1]))
    server.serve_forever()


@dataclass(frozen=True)
class Message:
    at: float  # time.time() of its arrival
    key: str
    items: tuple[int, ...]


class Receiver:
    """The receiver process's record, read back."""

    def __init__(self, record: Path, port: int) -> None:
        self.record = record
        self.url = f"json://127.0.0.1:{port}/"

    def messages(self) -> list[Message]:
        try:
            lines = self.record.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        rows = [json.loads(line) for line in lines if line.endswith("}")]
        return [Message(row["at"], row["id"] or "", tuple(row["items"])) for row in rows]


@contextmanager
def receiving(folder: Path) -> Iterator[Receiver]:
    record = folder / "alerts.jsonl"
    argv = [sys.executable, str(Path(__file__).resolve()), "--receiver", str(record)]
    process = subprocess.Popen(argv, cwd=ROOT)
    try:
        port = wait_for(lambda: _read(Path(f"{record}.port")), 30, "the alert receiver to listen")
        yield Receiver(record, int(port))
    finally:
        process.terminate()
        process.wait(10)


def _read(path: Path) -> str | None:
    try:
        return path.read_text() or None
    except FileNotFoundError:
        return None


# -- processes --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    broker: str  # embedded, redis, postgres
    workers: int | None  # None: the default of `nianbao run` (one pool process per CPU)

    @property
    def name(self) -> str:
        return self.broker if self.workers is None else f"{self.broker}:{self.workers}"

    @property
    def redis(self) -> bool:
        return self.broker in ("redis", "postgres")

    @property
    def processes(self) -> int:
        """Worker pool processes in all."""
        return self.workers or os.cpu_count() or 1

    @property
    def shown(self) -> str:
        if self.redis:
            database = "PostgreSQL" if self.broker == "postgres" else "SQLite"
            return f"Redis + {database}, `nianbao watch` + {self.workers} × `celery worker -c 1`"
        concurrency = f" -c {self.workers}" if self.workers else ""
        return f"embedded broker + SQLite, `nianbao run{concurrency}` ({self.processes} pool processes)"


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
        "NIANBAO_RECONCILE_AFTER": "3600",  # a slow run on a busy machine does not enqueue its backlog again
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
    """The Celery worker processes of a setup: on the embedded broker one prefork worker with the setup's pool
    processes (what `nianbao run` starts), on Redis `workers` prefork workers with one pool process each."""
    settings = Settings(broker_url="redis://" if setup.redis else None)
    shapes: list[int | None] = [1] * setup.processes if setup.redis else [setup.workers]
    commands = []
    for index, concurrency in enumerate(shapes):
        argv = worker_argv(settings, concurrency, "prefork", "warning")
        argv[1] = app_module
        commands.append([str(BIN / "celery"), *argv, "--hostname", f"bench{index}@%h"])
    return commands


# -- measurements -----------------------------------------------------------------------------------------------


@dataclass
class _Sampled:
    kind: str
    cpu: float  # CPU-seconds (user + system) at the last sample
    cpu_at_mark: float  # at the last `mark()` (0 for a process started after it)
    peak_mib: float  # VmHWM
    # Seconds the process's main thread was running or waiting for a CPU (/proc/PID/schedstat), at the last sample
    # and at `mark()`, and when those were: the rest of the time it slept (blocked on a disk, a lock, a pipe, or
    # waiting for a task), which no load on the machine explains.
    awake: float = 0.0
    awake_at_mark: float = 0.0
    sampled_at: float = 0.0
    marked_at: float = 0.0


class ProcessMeter:
    """Samples, each second, the CPU time and peak resident memory of every process of the run from /proc: the
    bench's descendants (the pipeline, redis-server, the receiver) and the PostgreSQL server's processes."""

    def __init__(self, postgres_port: int | None = None) -> None:
        self.postgres_port = postgres_port
        self.processes: dict[int, _Sampled] = {}
        self._tick = os.sysconf("SC_CLK_TCK")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ProcessMeter:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def mark(self) -> None:
        """Start counting CPU-seconds from now."""
        self.sample()
        with self._lock:
            for process in self.processes.values():
                process.cpu_at_mark, process.awake_at_mark = process.cpu, process.awake
                process.marked_at = process.sampled_at

    def sample(self) -> None:
        table: dict[int, tuple[int, float, str]] = {}  # pid -> (parent, CPU seconds, command line)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError):
                continue
            table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / self._tick, command)
        database = set()
        if self.postgres_port is not None:  # the postmaster (started by pg_ctl, not our child) and its backends
            database = {pid for pid, (_, _, command) in table.items() if f"port={self.postgres_port}" in command}
            database |= {pid for pid, (parent, _, _) in table.items() if parent in database}
        ours = {os.getpid()}
        for _ in range(5):  # bench -> nianbao run -> celery main -> pool process
            ours |= {pid for pid, (parent, _, _) in table.items() if parent in ours}
        for pid in ours | database:
            parent, cpu, command = table[pid]
            kind = "database" if pid in database else _kind(command, table.get(parent, (0, 0.0, ""))[2], pid)
            if kind is None:
                continue
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                peak = int(status.split("VmHWM:", 1)[1].split()[0]) / 1024
                running, runnable = Path(f"/proc/{pid}/schedstat").read_text().split()[:2]
            except (OSError, IndexError, ValueError):
                continue
            awake, now = (int(running) + int(runnable)) / 1e9, time.monotonic()
            with self._lock:
                known = self.processes.get(pid)
                if known is None:
                    self.processes[pid] = _Sampled(kind, cpu, 0.0, peak, awake, 0.0, now, now)
                else:
                    known.cpu, known.peak_mib = cpu, max(known.peak_mib, peak)
                    known.awake, known.sampled_at = awake, now

    def cpu(self) -> dict[str, float]:
        """CPU-seconds per process kind since `mark()`."""
        kinds: dict[str, float] = {}
        with self._lock:
            for process in self.processes.values():
                kinds[process.kind] = kinds.get(process.kind, 0.0) + process.cpu - process.cpu_at_mark
        return kinds

    def peaks(self) -> dict[str, float]:
        """The largest peak resident memory (MiB) of a process of each kind."""
        kinds: dict[str, float] = {}
        with self._lock:
            for process in self.processes.values():
                kinds[process.kind] = max(kinds.get(process.kind, 0.0), process.peak_mib)
        return kinds

    def asleep(self, kind: str) -> list[float]:
        """The share of the time since `mark()` each process of a kind slept (its main thread)."""
        with self._lock:
            return [
                1 - (p.awake - p.awake_at_mark) / (p.sampled_at - p.marked_at)
                for p in self.processes.values()
                if p.kind == kind and p.sampled_at > p.marked_at
            ]

    def pids(self, kinds: tuple[str, ...]) -> dict[int, str]:
        """The processes of these kinds seen so far: pid -> kind."""
        with self._lock:
            return {pid: p.kind for pid, p in self.processes.items() if p.kind in kinds}

    def each(self, kind: str) -> list[float]:
        """CPU-seconds since `mark()` of each process of a kind, largest first."""
        with self._lock:
            seconds = [p.cpu - p.cpu_at_mark for p in self.processes.values() if p.kind == kind]
        return sorted(seconds, reverse=True)


def _kind(command: str, parent_command: str, pid: int) -> str | None:
    if pid == os.getpid():
        return "bench"
    if "redis-server" in command:
        return "broker"
    if "--receiver" in command:
        return "receiver"
    if "celery" in command:
        return "pool process" if "celery" in parent_command else "worker main"
    if "nianbao run" in command or "nianbao watch" in command:
        return "watcher"
    return None


@dataclass(frozen=True)
class Baseline:
    rate: float  # no-op tasks per second
    median: float  # seconds from publishing to running


@dataclass
class Result:
    n: int
    stored: float  # seconds, first drop -> last report stored
    alerted: float  # seconds, first drop -> last outbox item received in a digest
    stored_p50: float  # seconds, a file's drop -> its ledger entry stored
    stored_p95: float
    alert_p50: float  # seconds, a file's drop -> the digest carrying its alert
    alert_p95: float
    alone_stored: float  # seconds: one file dropped into an idle pipeline -> stored
    alone_alerted: float  # -> its alert received (a quiet target: the group wait, not the interval)
    one_by_one_p50: float  # seconds, drop -> stored, files dropped one at a time
    one_by_one_p95: float
    versions: int
    ledger_stored: int
    expected_reports: int
    items: int  # outbox items queued
    received: int  # distinct items received
    doubled: int  # items received more than once
    messages: int  # messages (digests or lone alerts) received during the burst
    cpu: dict[str, float] = field(default_factory=dict)  # kind -> CPU-seconds, first drop -> last stored
    cpu_alerts: dict[str, float] = field(default_factory=dict)  # kind -> CPU-seconds, last stored -> last alert
    peaks: dict[str, float] = field(default_factory=dict)  # kind -> MiB
    pool_processes: list[float] = field(default_factory=list)  # CPU-seconds of each, first drop -> last stored
    pool_asleep: list[float] = field(default_factory=list)  # share of that time each slept

    @property
    def rate(self) -> float:
        return self.n / self.stored

    @property
    def pipeline_cpu(self) -> float:
        return sum(self.cpu.get(kind, 0.0) for kind in PIPELINE_KINDS)

    @property
    def alerts_cpu(self) -> float:
        return sum(self.cpu_alerts.get(kind, 0.0) for kind in PIPELINE_KINDS)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run_baseline(setup: Setup, env: dict[str, str], work: Path, n: int) -> Baseline:
    """N no-op tasks through the broker to the setup's worker processes."""
    done, warmup = work / "noop.txt", work / "warmup.txt"
    settings = Settings(data_dir=work / "data", broker_url=env.get("NIANBAO_BROKER_URL"))
    publisher = make_app(settings)
    with ExitStack() as stack:
        for argv in worker_commands(setup, "bench.pipeline_bench"):
            stack.enter_context(started(argv, env, work / "baseline.log"))
        # Warm up: every worker process has started and run a task before the clock starts.
        for _ in range(setup.processes * 2):
            publisher.send_task(NOOP, (time.time(), str(warmup)))
        wait_for(lambda: _lines(warmup) >= setup.processes * 2, 180, "the baseline workers")
        start = time.time()
        for _ in range(n):
            publisher.send_task(NOOP, (time.time(), str(done)))
        wait_for(lambda: _lines(done) >= n, 120 + n / 5, f"{n} no-op tasks", interval=0.2)
    rows = [tuple(map(float, line.split())) for line in done.read_text().splitlines()]
    latencies = [finished - sent for sent, finished in rows]
    return Baseline(n / (max(finished for _, finished in rows) - start), statistics.median(latencies))


def _lines(path: Path) -> int:
    try:
        return path.read_text().count("\n")
    except FileNotFoundError:
        return 0


def _timestamp(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _drop(report: Path, staging: Path, share: Path) -> tuple[str, float]:
    """Copy a report in the way a network copy does (written beside the folder, renamed in); (path, when)."""
    shutil.copy(report, staging / report.name)
    os.rename(staging / report.name, share / report.name)
    return str(share / report.name), time.time()


def run_pipeline(
    setup: Setup,
    env: dict[str, str],
    work: Path,
    reports: list[Path],
    idle: int,
    receiver: Receiver,
    postgres_port: int | None,
    profile: Path | None = None,
) -> Result:
    """The junk warm-up, `idle` reports one at a time, then the burst; wait for every report and alert."""
    share, staging = work / "share", work / "staging"
    share.mkdir()
    staging.mkdir()
    store = Store.open(database(env))
    log = work / "pipeline.log"
    nianbao = str(BIN / "nianbao")
    one_by_one, measured = reports[:idle], reports[idle:]
    interval = Settings().notify_group_interval
    with ExitStack() as stack:
        meter = stack.enter_context(ProcessMeter(postgres_port))
        if setup.redis:
            stack.enter_context(started([nianbao, "watch", str(share), "--loglevel", "warning"], env, log))
            for argv in worker_commands(setup, "worker"):
                stack.enter_context(started(argv, env, log))
        else:
            concurrency = ["-c", str(setup.workers)] if setup.workers else []
            argv = [nianbao, "run", "--watch", str(share), *concurrency, "--loglevel", "warning"]
            stack.enter_context(started(argv, env, log))
        (staging / "junk.txt").write_bytes(JUNK)
        os.rename(staging / "junk.txt", share / "junk.txt")
        wait_for(lambda: _state(store, str(share / "junk.txt")), 300, "the pipeline to take a first file")
        stored_times: list[float] = []
        alone_alerted = float("nan")
        for number, report in enumerate(one_by_one):
            path, dropped_at = _drop(report, staging, share)
            wait_for(lambda: _state(store, path) == "stored", 120, f"{report.name} stored", interval=0.02)  # noqa: B023
            stored_times.append(_stored_at(store, path) - dropped_at)
            if number == 0:
                arrived = wait_for(lambda: receiver.messages(), 120, "the first alert", interval=0.02)
                alone_alerted = arrived[0].at - dropped_at
        messages_before = len(receiver.messages())
        for report in measured:
            shutil.copy(report, staging / report.name)
        meter.mark()
        profilers = stack.enter_context(ExitStack())
        if profile is not None:
            profilers.enter_context(profiling(profile / setup.name.replace(":", "-"), meter.pids(PIPELINE_KINDS)))
        dropped: dict[str, float] = {}
        for report in measured:
            os.rename(staging / report.name, share / report.name)
            dropped[str(share / report.name)] = time.time()
        start = min(dropped.values())
        wait_for(lambda: _count_stored(store) >= len(reports), 300 + len(reports) / 2, "every report stored",
                 interval=0.25)  # fmt: skip
        meter.sample()
        profilers.close()  # py-spy stops and writes its profiles
        cpu_stored = meter.cpu()
        pool_stored, pool_asleep = meter.each("pool process"), meter.asleep("pool process")
        items = _items(store)
        wait_for(lambda: _received(receiver) >= set(items), 3 * interval + 300, "every alert", interval=0.25)
        meter.sample()
        cpu, peaks = meter.cpu(), meter.peaks()
    with Session(store.engine) as session:
        ledger = session.exec(select(LedgerRecord).where(LedgerRecord.state == "stored")).all()
        versions = session.exec(select(func.count()).select_from(VersionRecord)).one()
    store.dispose()
    stored_at = {row.path: _timestamp(row.updated_at) for row in ledger}
    messages = receiver.messages()
    arrival: dict[int, float] = {}
    times_received: dict[int, int] = {}
    for message in messages:
        for item in message.items:
            arrival.setdefault(item, message.at)
            times_received[item] = times_received.get(item, 0) + 1
    measured_items = {item: path for item, path in items.items() if path in dropped}
    stored_latency = [stored_at[path] - at for path, at in dropped.items() if path in stored_at]
    alert_latency = [arrival[item] - dropped[path] for item, path in measured_items.items() if item in arrival]
    return Result(
        n=len(measured),
        stored=max(stored_at[path] for path in dropped) - start,
        alerted=max(arrival[item] for item in measured_items) - start,
        stored_p50=statistics.median(stored_latency),
        stored_p95=percentile(stored_latency, 0.95),
        alert_p50=statistics.median(alert_latency),
        alert_p95=percentile(alert_latency, 0.95),
        alone_stored=stored_times[0] if stored_times else float("nan"),
        alone_alerted=alone_alerted,
        one_by_one_p50=statistics.median(stored_times) if stored_times else float("nan"),
        one_by_one_p95=percentile(stored_times, 0.95),
        versions=versions,
        ledger_stored=len(ledger),
        expected_reports=len(reports),
        items=len(items),
        received=len(set(items) & set(arrival)),
        doubled=sum(1 for count in times_received.values() if count > 1),
        messages=len(messages) - messages_before,
        cpu=cpu_stored,
        cpu_alerts={kind: seconds - cpu_stored.get(kind, 0.0) for kind, seconds in cpu.items()},
        peaks=peaks,
        pool_processes=pool_stored,
        pool_asleep=pool_asleep,
    )


@contextmanager
def profiling(folder: Path, pids: dict[int, str]) -> Iterator[None]:
    """py-spy records each of these processes (raw folded stacks, `<kind>-<pid>.txt` in `folder`) until the
    context ends."""
    folder.mkdir(parents=True, exist_ok=True)
    spies = []
    for pid, kind in pids.items():
        output = folder / f"{kind.replace(' ', '-')}-{pid}.txt"
        argv = [str(BIN / "py-spy"), "record", "--pid", str(pid), "--gil", "--format", "raw", "--rate", "100",
                "--output", str(output)]  # fmt: skip
        spies.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            spy.wait(60)


def _state(store: Store, path: str) -> str | None:
    entry = store.ledger_entry(path)
    return entry.state if entry is not None and entry.state in ("stored", "failed") else None


def _stored_at(store: Store, path: str) -> float:
    entry = store.ledger_entry(path)
    assert entry is not None
    with Session(store.engine) as session:
        row = session.exec(select(LedgerRecord).where(LedgerRecord.id == entry.id)).one()
        return _timestamp(row.updated_at)


def _count_stored(store: Store) -> int:
    with Session(store.engine) as session:
        query = select(func.count()).select_from(LedgerRecord).where(LedgerRecord.state == "stored")
        return session.exec(query).one()


def _items(store: Store) -> dict[int, str]:
    """Every outbox item about a report (the bench has one target) -> the path of its report's file."""
    with Session(store.engine) as session:
        rows = session.exec(
            select(OutboxRecord.id, LedgerRecord.path)
            .join(LedgerRecord, col(LedgerRecord.version_id) == OutboxRecord.version_id)
            .where(LedgerRecord.state == "stored")
        ).all()
    return {item: path for item, path in rows if item is not None}


def _received(receiver: Receiver) -> set[int]:
    return {item for message in receiver.messages() for item in message.items}


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


# -- output -----------------------------------------------------------------------------------------------------


def describe(setup: Setup, baseline: Baseline, result: Result, load: tuple[str, str]) -> str:
    """The whole result of one setup, in words."""
    checks = "OK" if (
        result.ledger_stored == result.versions == result.expected_reports
        and result.received == result.items and not result.doubled
    ) else "NOT OK"  # fmt: skip
    cpu = ", ".join(f"{kind} {result.cpu.get(kind, 0.0):.1f}" for kind in KINDS if kind in result.cpu)
    memory = ", ".join(f"{kind} {result.peaks[kind]:.0f}" for kind in KINDS if kind in result.peaks)
    interval = Settings().notify_group_interval
    return "\n".join([
        f"== {setup.name}: {setup.shown}",
        f"   baseline: {baseline.rate:.0f} no-op tasks/s (publish -> run median {baseline.median * 1000:.0f} ms)",
        f"   burst of {result.n}: all stored in {result.stored:.1f} s = {result.rate:.1f} reports/s "
        f"= {result.rate / baseline.rate:.0%} of the no-op rate; drop -> stored median {result.stored_p50:.1f} s, "
        f"p95 {result.stored_p95:.1f} s",
        f"   checks {checks}: ledger stored {result.ledger_stored}, versions {result.versions}, reports dropped "
        f"{result.expected_reports}; alert items queued {result.items}, received {result.received}, "
        f"received twice {result.doubled}",
        f"   alerts: last item at {result.alerted:.1f} s ({result.alerted - result.stored:.1f} s after the last "
        f"stored; group interval {interval:.0f} s) in {result.messages} messages; drop -> alert median "
        f"{result.alert_p50:.1f} s, p95 {result.alert_p95:.1f} s",
        f"   one file alone: stored {result.alone_stored:.2f} s, alerted {result.alone_alerted:.2f} s after its "
        f"drop; one at a time: stored median {result.one_by_one_p50:.2f} s, p95 {result.one_by_one_p95:.2f} s",
        f"   CPU-seconds from the first drop to the last stored: {cpu}; pipeline {result.pipeline_cpu:.1f} s = "
        f"{result.pipeline_cpu / result.n * 1000:.1f} ms per report; each pool process "
        f"{' + '.join(f'{seconds:.1f}' for seconds in result.pool_processes)} s, asleep "
        f"{' / '.join(f'{share:.0%}' for share in result.pool_asleep)} of the time; "
        f"from then to the last alert: pipeline {result.alerts_cpu:.1f} s",
        f"   peak memory (VmHWM of the largest process of each kind, MiB): {memory}",
        f"   load average before {load[0]}, after {load[1]}",
    ])  # fmt: skip


def table(results: list[tuple[Setup, Baseline, Result, tuple[str, str]]]) -> list[str]:
    """The README's table: one row per setup."""
    lines = [
        "| setup | no-op tasks/s | stored in | reports/s | ÷ no-op | last alert (after last stored) | "
        "1 alone: stored / alerted | 1 by 1 stored p50 | CPU-s watcher / main / pool / broker / db | "
        "CPU ms per report | pool processes asleep | peak MiB watcher / main / pool | load before → after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for setup, baseline, result, load in results:
        cpu = " / ".join(f"{result.cpu.get(kind, 0.0):.1f}" for kind in PIPELINE_KINDS)
        memory = " / ".join(f"{result.peaks.get(kind, 0.0):.0f}" for kind in KINDS[:3])
        lines.append(
            f"| {setup.name} | {baseline.rate:.0f} | {result.stored:.1f} s | {result.rate:.1f} | "
            f"{result.rate / baseline.rate:.0%} | {result.alerted:.1f} s ({result.alerted - result.stored:+.1f} s) | "
            f"{result.alone_stored:.2f} / {result.alone_alerted:.2f} s | {result.one_by_one_p50:.2f} s | {cpu} | "
            f"{result.pipeline_cpu / result.n * 1000:.1f} | {' / '.join(f'{a:.0%}' for a in result.pool_asleep)} | "
            f"{memory} | {load[0].split()[0]} → {load[1].split()[0]} |"
        )
    return lines


# -- main -------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="reports in the burst (and no-op tasks)")
    parser.add_argument("--setups", default=DEFAULT_SETUPS, help=f"comma-separated (default {DEFAULT_SETUPS})")
    parser.add_argument("--idle", type=int, default=5, help="reports dropped one at a time before the burst")
    parser.add_argument("--stable", type=float, default=0.5, help="the watcher's stability wait, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the working folders (logs, databases)")
    parser.add_argument(
        "--py-spy",
        type=Path,
        dest="profile",
        help="record each pipeline process with py-spy (pip install py-spy) during the burst into this folder",
    )
    parser.add_argument("--receiver", type=Path, help=argparse.SUPPRESS)  # the receiver process
    args = parser.parse_args()
    if args.receiver:
        serve_receiver(args.receiver)
        return
    setups = []
    for spec in args.setups.split(","):
        broker, _, workers = spec.strip().partition(":")
        if broker not in ("embedded", "redis", "postgres") or (broker != "embedded" and not workers):
            parser.error(f"unknown setup {spec!r}: embedded[:N], redis:N or postgres:N")
        setups.append(Setup(broker, int(workers) if workers else None))
    base = Path(tempfile.mkdtemp(prefix="nianbao-pipeline-bench-"))
    command = " ".join(["bench/pipeline_bench.py", *sys.argv[1:]])
    print(f"$ {command}\n  {os.cpu_count()} CPUs, load {_load()}; generating {args.n + args.idle} reports in {base} …",
          flush=True)  # fmt: skip
    reports = make_series_reports(args.idle + args.n, base / "reports")
    results: list[tuple[Setup, Baseline, Result, tuple[str, str]]] = []
    for setup in setups:
        work = base / setup.name.replace(":", "-")
        work.mkdir()
        with ExitStack() as stack:
            receiver = stack.enter_context(receiving(work))
            url = stack.enter_context(running_redis()).url if setup.redis else None
            env = environment(work, url, receiver, args.stable)
            postgres_port = None
            if setup.broker == "postgres":
                env["NIANBAO_DATABASE_URL"] = stack.enter_context(running_postgres(durable=True))
                postgres_port = int(env["NIANBAO_DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
            Store.open(database(env)).dispose()
            before = _load()
            print(f"{setup.name}: baseline … (load {before})", flush=True)
            baseline = run_baseline(setup, env, work, args.n)
            print(f"{setup.name}: pipeline …", flush=True)
            result = run_pipeline(setup, env, work, reports, args.idle, receiver, postgres_port, args.profile)
        results.append((setup, baseline, result, (before, _load())))
        print(describe(*results[-1]), flush=True)
    print()
    print(f"$ {command}   (N = {args.n}, stability wait {args.stable} s, {args.idle} one at a time first, "
          f"{os.cpu_count()} CPUs; CPU-seconds from the first drop to the last report stored)")  # fmt: skip
    print("\n".join(table(results)))
    if args.keep:
        print(f"\nworking folders kept in {base}")
    else:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

"""SQL statements and commits per report in a worker, counted by SQLAlchemy events on the store's engine.

    .venv/bin/python bench/sql_count.py --series 20

Generates `--series` bodies with three consecutive years each (2022–2024, each year with a planted defect, the
last year a cross-year one), drops them into a folder, and processes them the way a worker does, against a fresh
SQLite database with one alert target: one file per call (`process`: a batch of one) and one batch per call
(`process_batch`, `--batch` files, what a task runs). The watcher's ledger steps are counted apart (`Intake`:
the files taken in batches of the same size). Also the CPU time per report of each step of a batch (read and
parse, judge with its two look-ups, the database calls), measured on the processing thread by wrapping them, and
the CPU of the other threads (the evidence copies). `--pool` starts as a worker's pool process does (the
collector tuned, `worker.tasks.tune_collector`); without it the figures compare with earlier releases'.
`--replay-saves N` then saves the same judged batches again into N fresh databases: the CPU of `save_batch` alone,
the least of the N (the other steps' CPU varies by tens of percent between minutes on a shared machine).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

import worker.tasks  # noqa: E402
from bench.pipeline_bench import make_series_reports  # noqa: E402
from nianbao.settings import Settings  # noqa: E402
from report.extract import sha256_of  # noqa: E402
from storage import Store  # noqa: E402
from watcher.intake import Intake  # noqa: E402
from worker.notify import load_targets  # noqa: E402
from worker.tasks import process, process_batch  # noqa: E402

TARGET = "json://127.0.0.1:9/"  # never contacted: alerts are only queued in the outbox here


@dataclass
class Counts:
    statements: int = 0
    commits: int = 0
    seconds: float = 0.0  # CPU time of this process
    thread_seconds: float = 0.0  # of this thread (the rest: the evidence copies' threads)


class Phases:
    """CPU time of this thread spent in named functions: each is replaced by a timing wrapper on its owner (a
    bench only)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, owner: object, name: str, label: str) -> None:
        function = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.thread_time() - start

        setattr(owner, name, timed)


@contextmanager
def counting(store: Store) -> Iterator[Counts]:
    counts = Counts()

    def statement(*_: object) -> None:
        counts.statements += 1

    def commit(*_: object) -> None:
        counts.commits += 1

    event.listen(store.engine, "before_cursor_execute", statement)
    event.listen(store.engine, "commit", commit)
    start, thread_start = time.process_time(), time.thread_time()
    try:
        yield counts
    finally:
        counts.seconds = time.process_time() - start
        counts.thread_seconds = time.thread_time() - thread_start
        event.remove(store.engine, "before_cursor_execute", statement)
        event.remove(store.engine, "commit", commit)


def _recording(store: Store, saves: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Record the arguments of every `save_batch` call of `store` into `saves` (and return it)."""
    save_batch = store.save_batch

    def recorded(*args: Any) -> Any:
        saves.append(args)
        return save_batch(*args)

    store.save_batch = recorded  # type: ignore[method-assign]
    return saves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=20, help="bodies, three years each")
    parser.add_argument("--batch", type=int, default=50, help="files per batch")
    parser.add_argument("--batches-only", action="store_true", help="skip the one-file-per-call run")
    parser.add_argument("--pool", action="store_true", help="tune the collector as a worker's pool process does")
    parser.add_argument(
        "--replay-saves",
        type=int,
        default=0,
        metavar="N",
        help="then save the batches' judged reports again into N fresh databases (`save_batch` alone; the least "
        "CPU of the N, steadier than a step of the whole run on a busy machine)",
    )
    args = parser.parse_args()
    if args.pool:
        worker.tasks.tune_collector()
    base = Path(tempfile.mkdtemp(prefix="nianbao-sql-count-"))
    try:
        paths = make_series_reports(args.series * 3, base / "share")
        settings = Settings(data_dir=base / "data", notify_urls=[TARGET])
        targets = load_targets(settings)
        share = str(base / "share")
        phases = Phases()
        saves: list[tuple[Any, ...]] = []
        for name in ("one batch per call",) if args.batches_only else ("one file per call", "one batch per call"):
            store = Store.open(f"sqlite:///{base / name.replace(' ', '-')}.db")
            if name == "one batch per call":
                recorded = _recording(store, saves)
                phases.wrap(worker.tasks, "read_report", "read and parse")
                phases.wrap(worker.tasks, "judge_batch", "judge (earlier years, peers, rules)")
                for method in ("ledger_claim", "earlier_reports_of", "peer_reports_of", "save_batch"):
                    phases.wrap(store, method, method)
            items = [(str(path), sha256_of(path)) for path in paths]
            intake = Intake(store, base / "share", lambda _batch, _root: None)  # no broker: counted apart
            with counting(store) as ledger:
                for start in range(0, len(paths), args.batch):
                    intake(paths[start : start + args.batch])
            with counting(store) as work:
                if name == "one file per call":
                    outcomes = [process(store, settings, targets, path, sha, share) for path, sha in items]
                else:
                    outcomes = []
                    for start in range(0, len(items), args.batch):
                        outcomes += process_batch(store, settings, targets, items[start : start + args.batch], share)
            stored = sum(outcome.state == "stored" for outcome in outcomes)
            alerts = sum(outcome.alerts for outcome in outcomes)
            n = len(paths)
            print(
                f"{name:20} {n} files, {stored} stored, {alerts} alerts queued: "
                f"{work.statements / n:.1f} statements and {work.commits / n:.2f} commits per report in the worker "
                f"({work.seconds / n * 1000:.1f} ms CPU per report, parsing included); watcher intake: "
                f"{ledger.statements / n:.1f} statements, {ledger.commits / n:.2f} commits, "
                f"{ledger.seconds / n * 1000:.2f} ms CPU per file"
            )
            store.dispose()
        shown = ", ".join(f"{label} {seconds / n * 1000:.2f}" for label, seconds in phases.seconds.items())
        print(f"CPU ms per report in a batch: {shown}; the evidence copies' threads "
              f"{(work.seconds - work.thread_seconds) / n * 1000:.2f}")  # fmt: skip
        if args.replay_saves:
            spent = []
            for round_ in range(args.replay_saves):
                store = Store.open(f"sqlite:///{base / f'replay-{round_}.db'}")
                for start in range(0, len(paths), args.batch):
                    Intake(store, base / "share", lambda _batch, _root: None)(paths[start : start + args.batch])
                started = time.thread_time()
                for call in recorded:
                    store.save_batch(*call)
                spent.append(time.thread_time() - started)
                store.dispose()
            print(f"save_batch replayed {args.replay_saves} times: least {min(spent) / n * 1000:.3f} ms CPU per report")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    random.seed(0)
    main()

"""The pipeline's commands: `nianbao run --watch DIR` (all in one, embedded broker), and for a distributed
setup `nianbao watch DIR`, `nianbao worker` and `nianbao reconcile`."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from nianbao.settings import Settings, get_settings

log = logging.getLogger("nianbao")

# How long a stopping worker may finish its current task before it is killed.
WORKER_STOP_TIMEOUT = 60.0
# The watcher touches data_dir/HEARTBEAT every HEARTBEAT_INTERVAL seconds while it is watching (not while the
# share is away): a container healthcheck tests its age.
HEARTBEAT = "watcher.heartbeat"
HEARTBEAT_INTERVAL = 10.0


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT/SIGTERM (Ctrl-C, `docker stop`), the previous handlers restored afterwards."""
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _watch_loop(settings: Settings, root: Path, stop: threading.Event, worker: _WorkerProcess | None = None) -> None:
    """Watch `root` and reconcile every `reconcile_interval` until `stop`; keep `worker` running if given."""
    from storage import Store
    from watcher.intake import Intake
    from watcher.watch import Watcher
    from worker.notify import load_targets
    from worker.startup import summary
    from worker.tasks import enqueue_files, overdue_once, reconcile_once

    store = Store.open(settings.database)
    watcher = Watcher(
        root,
        Intake(store, root, enqueue_files),
        mode=settings.watch_mode,
        stable_seconds=settings.watch_stable_seconds,
        poll_interval=settings.watch_poll_interval,
        ignore=settings.watch_ignore,
        rescan_interval=settings.watch_rescan_interval,
        exclude=_own_folders(settings, root),
        batch_size=settings.watch_batch_size,
        batch_wait=settings.watch_batch_wait,
    )
    for line in summary(settings, root, settings.watch_mode):
        log.info(line)
    heartbeat = settings.data_dir / HEARTBEAT
    heartbeat.parent.mkdir(parents=True, exist_ok=True)
    next_pass = next_beat = next_overdue = time.monotonic()
    targets = load_targets(settings)
    with watcher:
        while not stop.wait(0.2):
            if worker is not None:
                worker.keep_alive()
            if time.monotonic() >= next_beat and watcher.watching:
                next_beat = time.monotonic() + HEARTBEAT_INTERVAL
                heartbeat.touch()
            if time.monotonic() >= next_pass:
                next_pass = time.monotonic() + settings.reconcile_interval
                try:
                    reconcile_once(store, settings, watcher.root)
                except Exception:
                    log.exception("reconciliation failed; trying again in %.0f s", settings.reconcile_interval)
            if settings.overdue_interval and time.monotonic() >= next_overdue:
                next_overdue = time.monotonic() + settings.overdue_interval
                try:
                    overdue_once(store, settings, targets)
                except Exception:
                    log.exception("overdue check failed; trying again in %.0f s", settings.overdue_interval)


def _own_folders(settings: Settings, root: Path) -> list[Path]:
    """nianbao's data folder and database folder, when they lie inside the watched tree (never take them)."""
    from storage import Store

    folders = [settings.data_dir.resolve()]
    database = Store(settings.database).sqlite_path
    if database is not None:
        folders.append(database.parent)
    inside = [folder for folder in folders if folder.is_relative_to(root)]
    for folder in inside:
        log.warning("%s lies inside the watched folder: its files are not taken as reports", folder)
    return inside


class _WorkerProcess:
    """A `celery -A worker worker` child process, started again if it dies."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._next_start = 0.0

    def start(self) -> None:
        # Its own session: Ctrl-C reaches this process only, which then stops the worker warmly (see stop).
        self.process = subprocess.Popen(self.argv, start_new_session=True)
        log.info("worker started (pid %d): %s", self.process.pid, " ".join(self.argv[1:]))

    def keep_alive(self) -> None:
        if self.process is None or self.process.poll() is None or time.monotonic() < self._next_start:
            return
        log.error("worker exited with status %s; starting it again", self.process.returncode)
        self.restarts += 1
        self._next_start = time.monotonic() + min(2.0**self.restarts, 60.0)
        self.start()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # warm shutdown: the current task finishes
        try:
            self.process.wait(WORKER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def worker_argv(settings: Settings, concurrency: int | None, pool: str, loglevel: str) -> list[str]:
    """The arguments of `celery -A worker worker` for these settings (after the program name)."""
    from worker.app import QUEUE

    argv = ["-A", "worker", "worker", "--pool", pool, "--loglevel", loglevel.upper(), "--queues", QUEUE]
    workers = concurrency or settings.worker_concurrency
    if workers:
        argv += ["--concurrency", str(workers)]
    if settings.embedded_broker:
        # No fanout on the embedded broker: no worker-to-worker gossip, start-up sync or event heartbeats.
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return argv


_concurrency = click.option(
    "--concurrency", "-c", type=int, default=None, help="Worker processes (default: setting, else one per CPU)."
)
_pool = click.option(
    "--pool", type=click.Choice(["prefork", "solo", "threads"]), default="prefork", show_default=True,
    help="Celery execution pool.",
)  # fmt: skip
_loglevel = click.option("--loglevel", default="info", show_default=True)
_root = click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))


@click.command()
@click.option(
    "--watch", "directory", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The folder (tree) to watch.",
)  # fmt: skip
@_concurrency
@_pool
@_loglevel
def run(directory: Path, concurrency: int | None, pool: str, loglevel: str) -> None:
    """Watch DIRECTORY and process every report dropped in it: watcher, Celery worker and reconciliation in
    one command, on the configured broker (default: embedded, no Redis). Ctrl-C stops both."""
    from storage import Store

    _logging(loglevel)
    settings = get_settings()
    Store.open(settings.database).dispose()  # migrate before the worker starts
    worker = _WorkerProcess([sys.executable, "-m", "celery", *worker_argv(settings, concurrency, pool, loglevel)])
    with _stop_on_signals() as stop:
        worker.start()
        try:
            _watch_loop(settings, directory.resolve(), stop, worker)
        finally:
            worker.stop()


@click.command()
@_root
@click.option("--mode", type=click.Choice(["native", "polling"]), default=None, help="Default: the watch_mode setting.")
@_loglevel
def watch(directory: Path, mode: str | None, loglevel: str) -> None:
    """Watch DIRECTORY and enqueue each new or changed report for the workers (`nianbao worker`), reconciling
    the ledger every `reconcile_interval`. Use --mode polling for SMB/NFS shares."""
    _logging(loglevel)
    settings = get_settings()
    if mode:
        settings = settings.model_copy(update={"watch_mode": mode})
    with _stop_on_signals() as stop:
        _watch_loop(settings, directory.resolve(), stop)


@click.command()
@_concurrency
@_pool
@_loglevel
def worker(concurrency: int | None, pool: str, loglevel: str) -> None:
    """Run a Celery worker for the configured broker (the same as `celery -A worker worker`)."""
    from worker.app import app

    app.worker_main(["worker", *worker_argv(get_settings(), concurrency, pool, loglevel)[3:]])


@click.command()
@click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The watched folder (folder names below it can name the region).",
)  # fmt: skip
def reconcile(root: Path | None) -> None:
    """One reconciliation pass: enqueue again what was seen but not stored in time, fail what was tried too
    often, request delivery of due notifications."""
    from storage import Store
    from worker.tasks import reconcile_once

    settings = get_settings()
    result = reconcile_once(Store.open(settings.database), settings, root.resolve() if root else None)
    click.echo(f"enqueued again: {result.requeued}, given up: {result.failed}, broker messages purged: {result.purged}")

"""How many alerts are sent twice when the sending process is killed at random moments (docs/pipeline.md, "What
can still be sent twice").

    .venv/bin/python bench/alert_doubles.py --items 2000 --kills 60

A sender process runs delivery passes (`worker.notify.deliver_due`) against a SQLite store and a local JSON
receiver while this script queues alerts one at a time (every `--writer-pause` s, `--items` in all); the sender is killed with SIGKILL after a
random 0–`--max-delay` s from the moment it is ready, `--kills` times, and started again each time. After each
kill the claims it held are ended at once (as the 5-minute lease would), so what it was sending is due again.
At the end every item must have reached the receiver; a message received more than once has the same key each
time. Printed first: the median time of the record of an answer (`Store.digest_mark`) next to a transaction of
one UPDATE on the same store. Then: kills, messages received, distinct keys, messages doubled, items delivered (and doubled items), and
the window each message spent between the receiver's acceptance and the commit of its record (the sender's
clock and the receiver's are the same machine's). `--writer-pause` sets the time between two alerts the script
writes while the sender runs: SQLite has one writer at a time, so the record waits for the script's writes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nianbao.settings import Settings  # noqa: E402
from report.model import Finding, Organization, Report, Source  # noqa: E402
from storage import Store  # noqa: E402
from storage.tables import DigestRecord, OutboxRecord, utcnow  # noqa: E402
from tests.services import receiving, wait_for  # noqa: E402
from worker.notify import load_targets, new_findings_message, queue_alerts  # noqa: E402

SENDER = """
import sys, time
from nianbao.settings import Settings
from storage import Store
from worker import notify
from worker.notify import deliver_due, load_targets
mark = notify._mark
def timed_mark(store, digest, sent, error):
    mark(store, digest, sent, error)
    print(digest.key, time.time(), flush=True)  # when the record of the answer committed
notify._mark = timed_mark
settings = Settings()
store = Store(settings.database)
targets = load_targets(settings)
print("ready", flush=True)
while True:
    deliver_due(store, targets, settings, 1.0)
    time.sleep(0.005)
"""


def report(index: int) -> Report:
    finding = Finding(rule="requests.balance", severity="error", message="不平衡", location="三/（七）总计/总计")
    return Report(
        source=Source(path=f"/share/镇{index}/2023.txt", sha256=f"{index:064x}", format="txt"),
        organization=Organization(name=f"镇{index}人民政府", region="房县", level="township"),
        year=2023,
        findings=[finding],
    )


def record_times(work: Path, runs: int = 40) -> tuple[float, float]:
    """Median seconds of `Store.digest_mark` (the record of an answer) and of a transaction of one UPDATE, on a
    fresh SQLite store with no other writer."""
    store = Store.open(f"sqlite:///{work / 'record.db'}")
    store.alert_targets_add(["t"])
    marks, floor = [], []
    for index in range(2 * runs):
        version_id = store.save(report(index)).version_id
        store.outbox_add(version_id, "t", "b", [], kind="new:t")
        digest = store.digest_claim({"t": timedelta(0)}, timedelta(0))
        assert digest is not None
        started = time.perf_counter()
        if index % 2:
            store.digest_mark(digest.id, sent=True)
            marks.append(time.perf_counter() - started)
        else:
            statement = update(DigestRecord).where(DigestRecord.id == digest.id).values(state="sent")
            store._write(lambda session, statement=statement: session.connection().execute(statement))
            floor.append(time.perf_counter() - started)
    store.dispose()
    return statistics.median(marks), statistics.median(floor)


def _records(output: bytes) -> dict[str, str]:
    """The sender's "KEY TIME" lines (its first line is "ready")."""
    return dict(line.split() for line in output.decode().splitlines() if len(line.split()) == 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--max-delay", type=float, default=1.0)
    parser.add_argument("--writer-pause", type=float, default=0.01)
    args = parser.parse_args()
    rng = random.Random(12)
    with tempfile.TemporaryDirectory(prefix="nianbao-record-") as work:
        mark, floor = record_times(Path(work))
    print(f"record of an answer (Store.digest_mark): median {mark * 1000:.2f} ms; "
          f"a transaction of one UPDATE: {floor * 1000:.2f} ms")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="nianbao-doubles-") as work, receiving() as receiver:
        url = f"sqlite:///{Path(work) / 'nianbao.db'}"
        env = {
            **os.environ,
            "NIANBAO_CONFIG": str(Path(work) / "none.toml"),
            "NIANBAO_DATABASE_URL": url,
            "NIANBAO_NOTIFY_URLS": json.dumps([receiver.url]),
            "NIANBAO_NOTIFY_GROUP_WAIT": "0",
            "NIANBAO_NOTIFY_GROUP_INTERVAL": "0",
            "PYTHONPATH": str(ROOT),
        }
        store = Store.open(url)
        targets = load_targets(Settings(notify_urls=[receiver.url]))
        queued = 0
        recorded: dict[str, str] = {}  # key → time.time() its record committed

        def queue(count: int) -> None:
            nonlocal queued
            for _ in range(count):
                if queued < args.items:
                    item = report(queued)
                    version_id = store.save(item).version_id
                    queue_alerts(store, [new_findings_message(item, item.findings)], version_id, targets)
                    queued += 1

        for _ in range(args.kills):
            sender = subprocess.Popen(
                [sys.executable, "-c", SENDER], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
            assert sender.stdout is not None and sender.stdout.readline().strip() == b"ready"
            kill_at = time.monotonic() + rng.uniform(0, args.max_delay)
            while time.monotonic() < kill_at:  # alerts keep coming while it sends
                queue(1)
                time.sleep(args.writer_pause)
            sender.send_signal(signal.SIGKILL)
            sender.wait()
            recorded.update(_records(sender.stdout.read()))
            with Session(store.engine) as session:  # the lease of whatever it held ends now
                session.execute(
                    update(DigestRecord).where(DigestRecord.state != "sent").values(next_attempt_at=utcnow())
                )
                session.commit()
        queue(args.items)
        sender = subprocess.Popen([sys.executable, "-c", SENDER], env=env, cwd=ROOT, stdout=subprocess.PIPE)
        try:

            def delivered() -> bool:
                with Session(store.engine) as session:
                    states = session.exec(OutboxRecord.__table__.select()).all()  # type: ignore[attr-defined]
                return len(states) == args.items and all(row.state == "sent" for row in states)

            wait_for(delivered, 120, "every item delivered", interval=0.2)
        finally:
            sender.kill()
            sender.wait()
        recorded.update(_records(sender.stdout.read()))  # type: ignore[union-attr]
        store.dispose()
        messages = receiver.messages()
        received = {delivery.body["id"]: delivery.at for delivery in reversed(receiver.accepted)}  # first arrival
    keys = Counter(message["id"] for message in messages)
    items = Counter(item for message in messages for item in message["items"])
    once = [key for key, count in keys.items() if count == 1 and key in recorded]  # a doubled one's record is later
    windows = sorted(float(recorded[key]) - received[key] for key in once)
    print(f"kills {args.kills}, items {args.items}, messages received {len(messages)}, distinct keys {len(keys)}, "
          f"messages doubled {len(messages) - len(keys)}, items delivered {len(items)}, "
          f"item deliveries {sum(items.values())} (doubled {sum(items.values()) - len(items)})")  # fmt: skip
    if windows:
        print(f"from the receiver's acceptance to the commit of its record ({len(windows)} messages): median "
              f"{statistics.median(windows) * 1000:.1f} ms, p95 {windows[int(0.95 * (len(windows) - 1))] * 1000:.1f} ms, "
              f"max {windows[-1] * 1000:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()

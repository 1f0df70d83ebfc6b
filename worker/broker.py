"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, tuned for one machine.

`nianbao+sqlite:////abs/path/broker.db` selects it (registered as the kombu transport alias `nianbao`). It is the
stock `sqla` transport with three changes:

- the SQLite file runs in write-ahead-log mode with a 30 s busy timeout, so the watcher publishing and the
  worker fetching do not fail each other with "database is locked";
- the worker polls every `BUSY_POLLING` seconds while messages keep coming and every `IDLE_POLLING` seconds
  once the queue has been quiet for `BUSY_WINDOW` (kombu polls every 1 s always, which caps a worker process
  at about one task a second; a constant 0.02 s would cost an idle worker some 12 % of a CPU). The stock
  transport hands its options to `create_engine`, which rejects `polling_interval`, so it is set here;
- `purge_delivered` deletes delivered messages, which the stock transport keeps forever (hidden, not deleted).

Like every kombu virtual transport it loses the message a worker holds when that worker is killed (`kill -9`):
the ledger's reconciliation enqueues the file again (worker/tasks.py: reconcile).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as sqla
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from storage import use_write_ahead_log

ALIAS = "nianbao"
BUSY_POLLING = 0.02
IDLE_POLLING = 0.5
BUSY_WINDOW = 5.0
BUSY_TIMEOUT_S = 30


def _configure(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    use_write_ahead_log(cursor, BUSY_TIMEOUT_S)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _configure)
    return engine


class Channel(sqla.Channel):
    def _engine_from_config(self) -> Engine:
        return sqlite_engine(self.connection.client.hostname)


class Transport(sqla.Transport):
    Channel = Channel
    _last_delivery = 0.0

    @property
    def polling_interval(self) -> float:  # type: ignore[override]
        """Read by kombu at the start of every wait for a message."""
        return BUSY_POLLING if monotonic() - self._last_delivery < BUSY_WINDOW else IDLE_POLLING

    def _deliver(self, message: Any, queue: str) -> None:
        self._last_delivery = monotonic()
        super()._deliver(message, queue)


TRANSPORT_ALIASES[ALIAS] = f"{__name__}:Transport"


def purge_delivered(broker_url: str, older_than: timedelta) -> int:
    """Delete the messages delivered more than `older_than` ago from an embedded broker; how many went."""
    database = broker_url.split("+", 1)[1]
    engine = sqlite_engine(database)
    # kombu stamps a message with the local time when it is delivered (the column is `timestamp`).
    cutoff = (datetime.now() - older_than).strftime("%Y-%m-%d %H:%M:%S.%f")
    try:
        with engine.begin() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kombu_message'")
            ).first()
            if exists is None:
                return 0
            result = connection.execute(
                text("DELETE FROM kombu_message WHERE visible = 0 AND timestamp < :cutoff"), {"cutoff": cutoff}
            )
            return result.rowcount
    finally:
        engine.dispose()

"""The database connection: engine setup (SQLite pragmas, write-ahead log, immediate write transactions),
Alembic migrations, and `StoreBase` — sessions, schema check, the write transaction with its retries and
SQLite's writer turn, and INSERT … ON CONFLICT DO NOTHING — on which every part of the `Store` is built.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, Self, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Connection,
    Dialect,
    Engine,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, SQLModel

from storage.errors import SchemaNotCurrent, StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_ATTEMPTS = 6
# pg_advisory_xact_lock key that serializes concurrent `upgrade()` calls on one PostgreSQL database.
MIGRATION_LOCK_KEY = 0x6E69616E62616F
# SQLite's messages of errors that clear (permissions given back, space freed) but not on the connection that met them.
STUCK_ERRORS = ("readonly database", "disk is full", "disk i/o error", "unable to open database file")

T = TypeVar("T")

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy timeout alone orders the writers
    fcntl = None  # type: ignore[assignment]


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code: the migrations shipped in this package, run on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


# Chinese as UTF-8: half the size of \uXXXX escapes. One encoder for every value: `json.dumps` with an option
# builds one per call, about half the time of encoding a cell list.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


def _create_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, json_serializer=_json)
    engine = create_engine(url, json_serializer=_json, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver emits no BEGIN; `begin` below does
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        use_write_ahead_log(cursor, SQLITE_BUSY_TIMEOUT_MS / 1000)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection: Connection) -> None:
        # A write transaction takes the write lock up front: two deferred transactions that both read and then
        # write would deadlock on the lock upgrade, and one of them would fail instead of waiting.
        writing = connection.get_execution_options().get("nianbao_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


def use_write_ahead_log(cursor: sqlite3.Cursor, timeout: float) -> None:
    """Switch a new SQLite file to WAL (a file already in WAL stays so). Several processes opening a new file at
    once (workers starting together) contend for it, and SQLite may answer "locked" at once instead of waiting
    out the busy timeout, so the switch is tried again for up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _retryable(error: IntegrityError | OperationalError) -> bool:
    if isinstance(error, IntegrityError):
        return True  # a concurrent writer stored the same row first; the retry reads it
    code = getattr(error.orig, "pgcode", None)
    return code in ("40001", "40P01", "55P03") or "locked" in str(error.orig).lower()


def _stuck(error: OperationalError) -> bool:
    """Whether the error may stay with the pooled connections after its cause has cleared: SQLite opens a file it
    may not write read-only for good, and a connection that met a full disk or an I/O error is best reopened."""
    code = getattr(error.orig, "pgcode", None)
    message = str(error.orig).lower()
    return code in ("53100", "25006") or any(part in message for part in STUCK_ERRORS)


class StoreBase:
    """The connection every part of the `Store` shares: engine, sessions, migrations, retried writes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self._writer = self.engine.execution_options(nianbao_write=True)
        self._pid = os.getpid()
        self._schema_current = False
        self._writer_lock: tuple[int, Any] | None = None  # (pid, open lock file) for SQLite files

    @classmethod
    def open(cls, url: str) -> Self:
        """A store whose database has been upgraded to the latest schema."""
        store = cls(url)
        store.upgrade()
        return store

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, for SQLite; None for a server database or an in-memory one."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            return None
        return Path(parsed.database).resolve()

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to `revision` (what `nianbao db upgrade` runs)."""
        self._after_fork()
        if self.sqlite_path:
            self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        with self._writer.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection), revision)
        self._schema_current = revision == "head"

    def revision(self) -> str | None:
        """The database's migration revision (None when it has never been upgraded)."""
        self._after_fork()
        if self.sqlite_path and not self.sqlite_path.exists():
            return None
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    # -- sessions -----------------------------------------------------------------------------------------

    def _after_fork(self) -> None:
        if os.getpid() != self._pid:
            self.engine.dispose(close=False)  # the parent's connections are the parent's: never touch them
            self._pid = os.getpid()

    def _session(self, *, write: bool = False) -> Session:
        self._after_fork()
        if not self._schema_current:
            current, head = self.revision(), head_revision()
            if current != head:
                raise SchemaNotCurrent(
                    f"数据库（{self._shown_url()}）的表结构版本是 {current or '空'}，本程序需要 {head}："
                    "请先运行 nianbao db upgrade"
                )
            self._schema_current = True
        return Session(self._writer if write else self.engine, expire_on_commit=False)

    def _shown_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """For a SQLite file: hold the exclusive lock on `<db>.writer` (processes queue on it; see the module
        doc). Elsewhere nothing: PostgreSQL has row locks."""
        if fcntl is None or self.sqlite_path is None:
            yield
            return
        if self._writer_lock is None or self._writer_lock[0] != os.getpid():
            handle = open(f"{self.sqlite_path}.writer", "a+b")  # open for the life of the process
            self._writer_lock = (os.getpid(), handle)
        handle = self._writer_lock[1]
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one write transaction, again from the start when a concurrent writer got in the way."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._writer_turn(), self._session(write=True) as session, session.begin():
                    return work(session)
            except (IntegrityError, OperationalError) as error:
                if isinstance(error, OperationalError) and _stuck(error):
                    self.engine.dispose()  # the caller's retry opens new connections, which work once it has cleared
                if attempt == WRITE_ATTEMPTS - 1 or not _retryable(error):
                    raise
                time.sleep(0.02 * 2**attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _insert_ignore(session: Session, record: type[SQLModel], conflict: list[str], **values: Any) -> int:
        """INSERT … ON CONFLICT DO NOTHING: the row exists afterwards, whoever inserted it. Returns 1 when this
        call inserted it, 0 when it was there."""
        dialect = session.get_bind().dialect.name
        inserts: dict[str, Callable[[type[SQLModel]], postgresql.Insert | sqlite.Insert]] = {
            "postgresql": postgresql.insert,
            "sqlite": sqlite.insert,
        }
        insert = inserts.get(dialect)
        if insert is None:
            raise StoreError(f"不支持的数据库类型 {dialect}：请使用 SQLite 或 PostgreSQL")
        statement = insert(record).values(**values).on_conflict_do_nothing(index_elements=conflict)
        return session.connection().execute(statement).rowcount

    @staticmethod
    def _insert_many_ignore(
        session: Session, record: type[SQLModel], conflict: list[str], rows: list[dict[str, Any]]
    ) -> None:
        """INSERT … ON CONFLICT DO NOTHING of many rows in one call."""
        if not rows:
            return
        session.connection().execute(insert_ignoring(session, record, conflict), rows)


def insert_ignoring(session: Session, record: type[SQLModel], conflict: list[str]) -> Executable:
    """INSERT … ON CONFLICT (conflict) DO NOTHING into record's table, in the session's SQL dialect."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(record).on_conflict_do_nothing(index_elements=conflict)
    if dialect == "sqlite":
        return sqlite.insert(record).on_conflict_do_nothing(index_elements=conflict)
    raise StoreError(f"不支持的数据库类型 {dialect}：请使用 SQLite 或 PostgreSQL")


# Rows of one multi-row INSERT on PostgreSQL (the driver sends an executemany row by row): within its limit of
# 65,535 bound parameters for the widest table written in bulk.
ROWS_PER_INSERT = 1000


def insert_rows(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str] = ()
) -> None:
    """INSERT many rows (all with the first row's keys) in one call, `ON CONFLICT (conflict) DO NOTHING` when given.

    The statement goes to the driver as it is (SQLite: one executemany; PostgreSQL: multi-row VALUES), each value
    through its column's own bind processing, so the stored values are what `connection.execute(insert(table),
    rows)` stores; what it saves is SQLAlchemy's per-row bookkeeping around that, most of a bulk insert's CPU (the
    prose bands and findings of every report a worker stores)."""
    if not rows:
        return
    columns = tuple(rows[0])
    dialect = connection.dialect
    processed = [
        (index, _memoized(process) if memo else process)
        for index, process, memo in _processors(dialect, table, columns)
    ]
    values: list[tuple[Any, ...]]
    if len(columns) == 1:
        values = [(row[columns[0]],) for row in rows]
    else:
        get = itemgetter(*columns)
        values = [get(row) for row in rows]
    if processed:
        values = [_processed(value, processed) for value in values]
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) VALUES "
    tail = f" ON CONFLICT ({', '.join(map(quote, conflict))}) DO NOTHING" if conflict else ""
    if dialect.name == "sqlite":
        connection.exec_driver_sql(head + "(" + ", ".join("?" * len(columns)) + ")" + tail, values)
        return
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(values), ROWS_PER_INSERT):
        page = values[start : start + ROWS_PER_INSERT]
        parameters = tuple(value for row in page for value in row)
        connection.exec_driver_sql(head + ", ".join([one] * len(page)) + tail, parameters)


def _processed(value: tuple[Any, ...], processed: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    row = list(value)
    for index, process in processed:
        row[index] = process(row[index])
    return tuple(row)


@lru_cache(maxsize=64)
def _processors(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> tuple[tuple[int, Callable[[Any], Any], bool], ...]:
    """(index, bind processor, whether its values are hashable: not JSON) of each column whose values SQLAlchemy
    processes before the driver gets them."""
    found = []
    for index, column in enumerate(columns):
        kind = table.c[column].type
        process = kind._cached_bind_processor(dialect)
        if process is not None:
            found.append((index, process, not isinstance(kind, JSON)))
    return tuple(found)


def _memoized(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`process` remembering its results for one call's rows (times repeat in them: a report's, the batch's)."""
    seen: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return remembered

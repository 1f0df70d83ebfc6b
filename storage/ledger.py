"""The watcher's ledger: one entry per (path, content) seen on the share, and its state from `new` through
`queued` and `processing` to `stored` or `failed`, with the attempts spent and the last error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    or_,
    update,
)
from sqlmodel import Session, col, select

from storage.engine import StoreBase, insert_ignoring
from storage.rows import LedgerEntry
from storage.tables import (
    LedgerRecord,
    utcnow,
)

LEDGER = LedgerRecord.__table__  # type: ignore[attr-defined]
LEDGER_STATES = ("new", "queued", "processing", "stored", "failed")
LEDGER_PENDING = ("new", "queued", "processing")


class LedgerStore(StoreBase):
    """The watcher's ledger: what was seen on the share and how far each file got."""

    def ledger_seen(self, path: str, sha256: str, size: int | None) -> LedgerEntry:
        """Record that the watcher saw this content at `path`; the entry is `new` unless seen before."""

        def work(session: Session) -> LedgerEntry:
            now = utcnow()
            self._insert_ignore(
                session,
                LedgerRecord,
                ["path", "sha256"],
                path=path,
                sha256=sha256,
                size=size,
                state="new",
                attempts=0,
                seen_at=now,
                updated_at=now,
            )
            return _ledger_entry(self._ledger_row(session, path, sha256))

        return self._write(work)

    def ledger_mark(
        self, path: str, sha256: str, state: str, *, error: str | None = None, version_id: int | None = None
    ) -> LedgerEntry:
        """Move an entry to `state` (recording it if the watcher never did); `processing` counts an attempt.
        `error` replaces the last error (None clears it); `version_id` is kept unless a new one is given."""
        if state not in LEDGER_STATES:
            raise ValueError(f"ledger state {state!r} is not one of {LEDGER_STATES}")

        def work(session: Session) -> LedgerEntry:
            now = utcnow()
            self._insert_ignore(
                session,
                LedgerRecord,
                ["path", "sha256"],
                path=path,
                sha256=sha256,
                size=None,
                state=state,
                attempts=0,
                seen_at=now,
                updated_at=now,
            )
            row = self._ledger_row(session, path, sha256)
            row.state, row.error, row.updated_at = state, error, now
            row.attempts += state == "processing"
            if version_id is not None:
                row.version_id = version_id
            session.add(row)
            session.flush()
            return _ledger_entry(row)

        return self._write(work)

    def ledger_take(
        self, files: Sequence[tuple[str, str, int | None]], unreadable: Sequence[tuple[str, str, str]] = ()
    ) -> list[tuple[str, str]]:
        """The watcher's batch, in one transaction: record each (path, sha256, size) seen and move those that are
        `new` to `queued`; record each (path, key, reason) of `unreadable` as `failed`. Returns the (path, sha256)
        now queued, in the order given: content seen before at its path is not queued again."""

        def work(session: Session) -> list[tuple[str, str]]:
            now = utcnow()
            rows = [
                {"path": path, "sha256": sha, "size": size, "state": "new", "attempts": 0, "seen_at": now,
                 "updated_at": now}
                for path, sha, size in files
            ]  # fmt: skip
            rows += [
                {"path": path, "sha256": key, "size": None, "state": "failed", "attempts": 0, "seen_at": now,
                 "updated_at": now}
                for path, key, _ in unreadable
            ]  # fmt: skip
            self._insert_ledger(session, rows)
            self._ledger_update(
                session, [{"path": p, "sha256": k, "state": "failed", "error": why} for p, k, why in unreadable], now
            )
            states = self._ledger_states(session, [(path, sha) for path, sha, _ in files])
            queued = [(path, sha) for path, sha, _ in files if states[(path, sha)] == "new"]
            self._ledger_update(session, [{"path": p, "sha256": k, "state": "queued"} for p, k in queued], now)
            return list(dict.fromkeys(queued))

        return self._write(work)

    def ledger_claim(
        self, items: Sequence[tuple[str, str]], max_attempts: int, recent: timedelta = timedelta(0)
    ) -> list[LedgerEntry]:
        """A worker's claim on a batch, in one transaction: each (path, sha256) not yet `stored` or `failed`
        becomes `processing` with one more attempt, or `failed` when it already had `max_attempts` (it crashed
        or hung its workers each time). An entry claimed less than `recent` ago is claimed again without an
        attempt: a duplicate delivery or a retry after a transient error, not a worker that died on it.
        Returns the entries as they are afterwards, in the order given; on PostgreSQL, rows another worker is
        claiming at this moment are skipped (`FOR UPDATE SKIP LOCKED`) and left out of the result."""

        def work(session: Session) -> list[LedgerEntry]:
            now = utcnow()
            rows = self._ledger_rows(session, items, skip_locked=True)
            # The watcher recorded the batch's entries before it published it: only entries it did not (a message
            # sent by hand, a ledger restored from a backup) are inserted here, and read again.
            missing = list(dict.fromkeys(key for key in items if key not in rows))
            if missing:
                self._insert_ledger(
                    session,
                    [{"path": path, "sha256": sha, "size": None, "state": "new", "attempts": 0, "seen_at": now,
                      "updated_at": now} for path, sha in missing],
                )  # fmt: skip
                rows |= self._ledger_rows(session, missing, skip_locked=True)
            claimed: list[LedgerEntry] = []
            changes: list[dict[str, Any]] = []
            for key in dict.fromkeys(items):
                row = rows.get(key)
                if row is None:
                    continue
                entry = _ledger_entry(row)
                if row.state == "processing" and row.updated_at > now - recent:
                    pass  # claimed a moment ago: processed again (idempotent), no attempt spent
                elif row.state not in ("stored", "failed"):
                    if row.attempts >= max_attempts:
                        error = f"已尝试处理 {row.attempts} 次均未完成（处理时进程崩溃、被终止或超时），不再重试"
                        entry = replace(entry, state="failed", error=error, updated_at=now)
                    else:
                        entry = replace(
                            entry, state="processing", error=None, attempts=row.attempts + 1, updated_at=now
                        )
                    changes.append(
                        {"b_id": entry.id, "b_state": entry.state, "b_error": entry.error, "b_attempts": entry.attempts}
                    )
                claimed.append(entry)
            if changes:
                table = LedgerRecord.__table__  # type: ignore[attr-defined]
                session.connection().execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"))
                    .values(
                        state=bindparam("b_state"), error=bindparam("b_error"), attempts=bindparam("b_attempts"),
                        updated_at=now,
                    ),
                    changes,
                )  # fmt: skip
            return claimed

        return self._write(work)

    @classmethod
    def _insert_ledger(cls, session: Session, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        session.connection().execute(insert_ignoring(session, LedgerRecord, ["path", "sha256"]), rows)

    @staticmethod
    def _ledger_rows(
        session: Session, keys: Sequence[tuple[str, str]], *, skip_locked: bool = False
    ) -> dict[tuple[str, str], Any]:
        """The ledger rows (all columns, as rows: no records to track) of (path, sha256) keys, locked (PostgreSQL;
        SQLite's write transaction is exclusive)."""
        found: dict[tuple[str, str], Any] = {}
        paths = sorted({path for path, _ in keys})
        wanted = set(keys)
        table = LedgerRecord.__table__  # type: ignore[attr-defined]
        for start in range(0, len(paths), 500):
            query = (
                select(table)
                .where(table.c.path.in_(paths[start : start + 500]))
                .order_by(table.c.id)
                .with_for_update(skip_locked=skip_locked)
            )
            for row in session.connection().execute(query):
                if (row.path, row.sha256) in wanted:
                    found[(row.path, row.sha256)] = row
        return found

    @staticmethod
    def _ledger_states(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The state of the ledger rows of (path, sha256) keys (rows, not records: the watcher reads no more)."""
        found: dict[tuple[str, str], str] = {}
        paths = sorted({path for path, _ in keys})
        wanted = set(keys)
        table = LedgerRecord.__table__  # type: ignore[attr-defined]
        for start in range(0, len(paths), 500):
            query = select(table.c.path, table.c.sha256, table.c.state).where(
                table.c.path.in_(paths[start : start + 500])
            )
            for path, sha256, state in session.connection().execute(query):
                if (path, sha256) in wanted:
                    found[(path, sha256)] = state
        return found

    @staticmethod
    def _ledger_update(session: Session, changes: list[dict[str, Any]], now: datetime) -> None:
        """Set `state` (and `error`, `version_id` when a change has them) of ledger rows by (path, sha256)."""
        if not changes:
            return
        table = LedgerRecord.__table__  # type: ignore[attr-defined]
        for columns in sorted({tuple(sorted(change)) for change in changes}):
            group = [{f"b_{k}": v for k, v in change.items()} for change in changes if tuple(sorted(change)) == columns]
            values: dict[str, Any] = {
                column: bindparam(f"b_{column}") for column in columns if column not in ("path", "sha256")
            }
            if "error" not in values:
                values["error"] = None
            session.connection().execute(
                update(table)
                .where(table.c.path == bindparam("b_path"), table.c.sha256 == bindparam("b_sha256"))
                .values(**values, updated_at=now),
                group,
            )

    def ledger_stale(
        self, older_than: timedelta, max_attempts: int, claims_older_than: timedelta | None = None
    ) -> list[LedgerEntry]:
        """Entries still `new` or `queued` after `older_than`, or `processing` after `claims_older_than` as well
        (a younger claim may be a task still running), with attempts left: oldest first."""
        query = _stale(utcnow(), older_than, claims_older_than).where(LEDGER.c.attempts < max_attempts)
        with self._session() as session:
            return [_ledger_entry(row) for row in session.connection().execute(query)]

    def ledger_requeue(
        self,
        older_than: timedelta,
        claims_older_than: timedelta,
        max_attempts: int,
        given_up: Callable[[int], str],
    ) -> tuple[list[LedgerEntry], list[LedgerEntry]]:
        """Reconciliation's pass, in one transaction: every stale entry (`ledger_stale`) goes back to `queued`, or
        to `failed` when it had `max_attempts` (the reason: `given_up(attempts)`); (queued, failed) as they were
        found, oldest first. Read and written together, so a claim a worker makes meanwhile is never turned back
        to `queued` (to be claimed again, an attempt counted twice); on PostgreSQL, rows a worker is claiming at
        this moment are left to it (`SKIP LOCKED`)."""

        def work(session: Session) -> tuple[list[LedgerEntry], list[LedgerEntry]]:
            now = utcnow()
            query = _stale(now, older_than, claims_older_than).with_for_update(skip_locked=True)
            entries = [_ledger_entry(row) for row in session.connection().execute(query)]
            queued = [entry for entry in entries if entry.attempts < max_attempts]
            failed = [entry for entry in entries if entry.attempts >= max_attempts]
            changes = [{"b_id": entry.id, "b_state": "queued", "b_error": None} for entry in queued]
            changes += [
                {"b_id": entry.id, "b_state": "failed", "b_error": given_up(entry.attempts)} for entry in failed
            ]
            if changes:
                session.connection().execute(
                    update(LEDGER)
                    .where(LEDGER.c.id == bindparam("b_id"))
                    .values(state=bindparam("b_state"), error=bindparam("b_error"), updated_at=now),
                    changes,
                )
            return queued, failed

        return self._write(work)

    def ledger_entry(self, path: str) -> LedgerEntry | None:
        """The most recently updated entry for a path."""
        query = (
            select(LedgerRecord)
            .where(LedgerRecord.path == path)
            .order_by(col(LedgerRecord.updated_at).desc(), col(LedgerRecord.id).desc())
        )
        with self._session() as session:
            row = session.exec(query).first()
            return _ledger_entry(row) if row else None

    def ledger_files(self, state: str | None = None, limit: int = 100) -> list[LedgerEntry]:
        """The newest entry of each path, most recently updated first; only those in `state` when given (what
        `nianbao files` lists: which files failed and why)."""
        query = select(LedgerRecord).order_by(col(LedgerRecord.updated_at).desc(), col(LedgerRecord.id).desc())
        newest: dict[str, LedgerEntry] = {}
        with self._session() as session:
            for row in session.exec(query):
                if row.path not in newest:
                    newest[row.path] = _ledger_entry(row)
        return [entry for entry in newest.values() if state in (None, entry.state)][:limit]

    @staticmethod
    def _ledger_row(session: Session, path: str, sha256: str) -> LedgerRecord:
        return session.exec(
            select(LedgerRecord).where(LedgerRecord.path == path, LedgerRecord.sha256 == sha256).with_for_update()
        ).one()


def _stale(now: datetime, older_than: timedelta, claims_older_than: timedelta | None) -> Select[Any]:
    """The ledger rows `new` or `queued` since before `older_than`, or `processing` (claimed) since before
    `claims_older_than` and `older_than`: oldest first."""
    claims = max(older_than, claims_older_than or older_than)
    return (
        select(LEDGER)
        .where(
            or_(
                and_(LEDGER.c.state.in_(("new", "queued")), LEDGER.c.updated_at < now - older_than),
                and_(LEDGER.c.state == "processing", LEDGER.c.updated_at < now - claims),
            )
        )
        .order_by(LEDGER.c.updated_at, LEDGER.c.id)
    )


def _ledger_entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,  # type: ignore[arg-type]
        path=row.path,
        sha256=row.sha256,
        size=row.size,
        state=row.state,
        attempts=row.attempts,
        error=row.error,
        version_id=row.version_id,
        seen_at=row.seen_at,
        updated_at=row.updated_at,
    )

"""The notification outbox: alerts queued with the versions they are about, grouped per target into digests
(a first wait, then at most one message per interval), each delivery attempt recorded, a refusal retried with
backoff until the attempts run out.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Text,
    bindparam,
    func,
    insert,
    update,
)
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, col, select

from storage.engine import StoreBase
from storage.rows import Digest, DigestDue, OutboxItem
from storage.tables import (
    AlertTargetRecord,
    DigestRecord,
    FindingRecord,
    NotificationRecord,
    OutboxRecord,
    UTCDateTime,
    utcnow,
)

OUTBOX_MAX_ATTEMPTS = 10
OUTBOX_FIRST_BACKOFF = timedelta(seconds=30)
OUTBOX_MAX_BACKOFF = timedelta(hours=6)
OUTBOX_LEASE = timedelta(minutes=5)
# States of a digest still to be sent: a target with one gets no new digest until it is sent or abandoned.
DIGEST_OPEN = ("pending", "failed")


class OutboxStore(StoreBase):
    """Alerts queued, grouped into digests per target, and their delivery attempts."""

    def outbox_add(
        self, version_id: int | None, title: str, body: str, tags: Sequence[str], *, kind: str = "new_findings"
    ) -> int:
        """Queue a notification about a version; the same (version, kind) again returns the queued item's id.
        Without a version (a report that never arrived) the caller makes sure it queues the item once."""

        def work(session: Session) -> int:
            now = utcnow()
            if version_id is None:
                return session.connection().execute(
                    insert(OutboxRecord).values(
                        version_id=None, kind=kind, title=title, body=body, tags=list(tags), state="pending",
                        attempts=0, created_at=now, next_attempt_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]  # fmt: skip
            self._insert_ignore(
                session,
                OutboxRecord,
                ["version_id", "kind"],
                version_id=version_id,
                kind=kind,
                title=title,
                body=body,
                tags=list(tags),
                state="pending",
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
            item_id = session.exec(
                select(OutboxRecord.id).where(OutboxRecord.version_id == version_id, OutboxRecord.kind == kind)
            ).one()
            return item_id  # type: ignore[return-value]

        return self._write(work)

    def alert_targets_add(self, targets: Iterable[str]) -> list[str]:
        """Record the configured targets; those seen for the first time (a target configured later)."""

        def work(session: Session) -> list[str]:
            now = utcnow()
            return [
                target
                for target in targets
                if self._insert_ignore(
                    session, AlertTargetRecord, ["target"], target=target, first_seen_at=now, next_message_at=now
                )
            ]

        return self._write(work)

    def versions_never_alerted(self, *, resolved: bool) -> list[int]:
        """Versions with findings first seen in them (or, with `resolved`, findings they resolved) about which no
        outbox item exists: stored while no target (or none that wanted them) was configured. Oldest first."""
        no_item = ~select(OutboxRecord.id).where(OutboxRecord.version_id == FindingRecord.first_version_id).exists()
        first_seen = select(FindingRecord.first_version_id).where(no_item)
        query: Executable = first_seen
        if resolved:
            no_item_resolved = (
                ~select(OutboxRecord.id).where(OutboxRecord.version_id == FindingRecord.resolved_version_id).exists()
            )
            query = first_seen.union(
                select(FindingRecord.resolved_version_id).where(
                    col(FindingRecord.resolved_version_id).is_not(None), no_item_resolved
                )
            )
        with self._session() as session:
            return sorted({version_id for (version_id,) in session.connection().execute(query)})

    def digest_claim(
        self, spacing: Mapping[str, timedelta], group_wait: timedelta, *, lease: timedelta = OUTBOX_LEASE
    ) -> Digest | None:
        """The next message to send to one of the targets in `spacing` (target → least time between two of its
        messages), claimed for `lease` so that concurrent senders do not send it twice: a digest that is due again
        (refused before, or its sender died before `digest_mark`), else a new digest of every item waiting for a
        target that may receive a message now, once its oldest item has waited `group_wait`. None when nothing
        is due. A target with an unsent digest gets no new one: its items wait for that one to go out."""

        def work(session: Session) -> Digest | None:
            now = utcnow()
            ready = (
                select(AlertTargetRecord.target)
                .where(col(AlertTargetRecord.target).in_(list(spacing)), AlertTargetRecord.next_message_at <= now)
                .order_by(AlertTargetRecord.next_message_at)
                .with_for_update(skip_locked=True)
            )
            targets = list(session.exec(ready))
            if not targets:
                return None
            again = session.exec(
                select(DigestRecord)
                .where(col(DigestRecord.target).in_(targets), col(DigestRecord.state).in_(DIGEST_OPEN))
                .where(DigestRecord.next_attempt_at <= now)
                .order_by(DigestRecord.next_attempt_at, DigestRecord.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if again is not None:
                again.next_attempt_at = now + lease
                session.add(again)
                session.connection().execute(
                    update(AlertTargetRecord)
                    .where(AlertTargetRecord.target == again.target)
                    .values(next_message_at=now + spacing[again.target])
                )
                return self._digest(session, again)
            busy = set(
                session.exec(
                    select(DigestRecord.target).where(
                        col(DigestRecord.target).in_(targets), col(DigestRecord.state).in_(DIGEST_OPEN)
                    )
                )
            )
            for target in targets:
                if target in busy:
                    continue
                waiting = _waiting_for(target)
                oldest = session.exec(select(func.min(OutboxRecord.created_at)).where(*waiting)).one()
                if oldest is None or _aware(oldest) > now - group_wait:
                    continue
                digest = DigestRecord(
                    key=uuid.uuid4().hex, target=target, state="pending", attempts=0, created_at=now,
                    next_attempt_at=now + lease,
                )  # fmt: skip
                session.add(digest)
                session.flush()
                session.connection().execute(update(OutboxRecord).where(*waiting).values(digest_id=digest.id))
                session.connection().execute(
                    update(AlertTargetRecord)
                    .where(AlertTargetRecord.target == target)
                    .values(next_message_at=now + spacing[target])
                )
                return self._digest(session, digest)
            return None

        return self._write(work)

    def digest_next_due(self, targets: Collection[str], group_wait: timedelta) -> DigestDue | None:
        """The next message `digest_claim` will have for one of `targets` (read only); None when nothing waits
        for them."""
        due: list[DigestDue] = []
        with self._session() as session:
            limits = session.exec(
                select(AlertTargetRecord).where(col(AlertTargetRecord.target).in_(list(targets)))
            ).all()
            for limit in limits:
                retry = session.exec(
                    select(func.min(DigestRecord.next_attempt_at)).where(
                        DigestRecord.target == limit.target, col(DigestRecord.state).in_(DIGEST_OPEN)
                    )
                ).one()
                if retry is None:
                    waiting = _waiting_for(limit.target)
                    oldest = session.exec(select(func.min(OutboxRecord.created_at)).where(*waiting)).one()
                    if oldest is None:
                        continue
                    retry = _aware(oldest) + group_wait
                when = max(_aware(retry), _aware(limit.next_message_at))
                due.append(DigestDue(limit.target, when, limit.wake_at))
        return min(due, key=lambda item: item.when, default=None)

    def digest_wake(self, target: str, when: datetime) -> bool:
        """Whether the caller should schedule a delivery pass for `target` at `when`: True unless one is already
        scheduled between now and then (recorded here), so a burst of passes schedules one follow-up, not one
        each. A scheduled pass that was lost only delays the next one until `when` has passed."""

        def work(session: Session) -> bool:
            now = utcnow()
            scheduled = col(AlertTargetRecord.wake_at)
            statement = (
                update(AlertTargetRecord)
                .where(AlertTargetRecord.target == target)
                .where(scheduled.is_(None) | (scheduled < now) | (scheduled > when))
                .values(wake_at=when)
            )
            return session.connection().execute(statement).rowcount == 1

        return self._write(work)

    def digest_mark(
        self,
        digest_id: int,
        *,
        sent: bool,
        error: str | None = None,
        first_backoff: timedelta = OUTBOX_FIRST_BACKOFF,
        max_backoff: timedelta = OUTBOX_MAX_BACKOFF,
    ) -> None:
        """Record one attempt to send a digest, for it and each of its items, in one transaction of prepared
        statements (it is the window in which a message the channel accepted is not yet recorded). A refusal is
        retried after a backoff that doubles from `first_backoff` up to `max_backoff` (settings
        outbox_first_backoff, outbox_max_backoff); after OUTBOX_MAX_ATTEMPTS the digest and its items are
        `abandoned`."""

        def work(session: Session) -> None:
            now = utcnow()
            connection = session.connection()
            attempts = 1 + connection.execute(_DIGEST_ATTEMPTS, {"mark_digest": digest_id}).scalar_one()
            if sent:
                state, next_attempt_at = "sent", now
            else:
                state = "abandoned" if attempts >= OUTBOX_MAX_ATTEMPTS else "failed"
                next_attempt_at = now + min(first_backoff * 2 ** (attempts - 1), max_backoff)
            outcome = {
                "mark_digest": digest_id, "new_state": state, "new_error": error, "new_sent_at": now if sent else None,
                "new_next": next_attempt_at, "now": now, "sent": sent,
            }  # fmt: skip
            connection.execute(_MARK_DIGEST, {**outcome, "new_attempts": attempts})
            connection.execute(_MARK_ITEMS, outcome)
            connection.execute(_RECORD_ATTEMPTS, outcome)

        self._write(work)

    def digest(self, digest_id: int) -> Digest | None:
        with self._session() as session:
            row = session.get(DigestRecord, digest_id)
            return self._digest(session, row) if row else None

    @staticmethod
    def _digest(session: Session, row: DigestRecord) -> Digest:
        items = session.exec(select(OutboxRecord).where(OutboxRecord.digest_id == row.id).order_by(OutboxRecord.id))
        return Digest(
            id=row.id,  # type: ignore[arg-type]
            key=row.key,
            target=row.target,
            state=row.state,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
            items=[_outbox_item(item) for item in items],
        )

    def outbox_item(self, item_id: int) -> OutboxItem | None:
        with self._session() as session:
            row = session.get(OutboxRecord, item_id)
            return _outbox_item(row) if row else None

    def outbox_for(self, version_id: int) -> list[OutboxItem]:
        """Every outbox item about a version (one per message kind and target), in the order queued."""
        query = select(OutboxRecord).where(OutboxRecord.version_id == version_id).order_by(OutboxRecord.id)
        with self._session() as session:
            return [_outbox_item(row) for row in session.exec(query)]

    def notifications(self, item_id: int) -> list[tuple[datetime, bool, str | None]]:
        """(attempted at, sent, error) of every delivery attempt of an outbox item, in order."""
        query = (
            select(NotificationRecord).where(NotificationRecord.outbox_id == item_id).order_by(NotificationRecord.id)
        )
        with self._session() as session:
            return [(row.attempted_at, row.sent, row.error) for row in session.exec(query)]


def _outbox_item(row: OutboxRecord) -> OutboxItem:
    return OutboxItem(
        id=row.id,  # type: ignore[arg-type]
        version_id=row.version_id,
        kind=row.kind,
        title=row.title,
        body=row.body,
        tags=list(row.tags),
        state=row.state,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at,
        digest_id=row.digest_id,
    )


def _waiting_for(target: str) -> list[Any]:
    """The conditions of an outbox item waiting for its first digest to `target` (its kind ends in `:target`)."""
    return [
        col(OutboxRecord.digest_id).is_(None),
        col(OutboxRecord.state).in_(("pending", "failed")),
        col(OutboxRecord.kind).endswith(f":{target}", autoescape=True),
    ]


def _aware(moment: datetime) -> datetime:
    """SQLite's aggregates return the stored text's naive datetime; every time in the store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# The statements of `Store.digest_mark`, built once: between a channel's answer and its record only their execution
# runs (building and caching them anew took most of the ~5 ms the record took).
_DIGESTS = DigestRecord.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxRecord.__table__  # type: ignore[attr-defined]
_DIGEST_ATTEMPTS = select(_DIGESTS.c.attempts).where(_DIGESTS.c.id == bindparam("mark_digest")).with_for_update()
_OUTCOME = {
    "state": bindparam("new_state"),
    "last_error": bindparam("new_error", type_=Text()),
    "sent_at": bindparam("new_sent_at", type_=UTCDateTime()),
    "next_attempt_at": bindparam("new_next", type_=UTCDateTime()),
}
_MARK_DIGEST = (
    update(_DIGESTS)
    .where(_DIGESTS.c.id == bindparam("mark_digest"))
    .values(attempts=bindparam("new_attempts"), **_OUTCOME)
)
_MARK_ITEMS = (
    update(_OUTBOX)
    .where(_OUTBOX.c.digest_id == bindparam("mark_digest"))
    .values(attempts=_OUTBOX.c.attempts + 1, **_OUTCOME)
)
_RECORD_ATTEMPTS = insert(NotificationRecord.__table__).from_select(  # type: ignore[attr-defined]
    ["outbox_id", "attempted_at", "sent", "error"],
    select(
        _OUTBOX.c.id,
        bindparam("now", type_=UTCDateTime()),
        bindparam("sent", type_=Boolean()),
        bindparam("new_error", type_=Text()),
    ).where(_OUTBOX.c.digest_id == bindparam("mark_digest")),
)

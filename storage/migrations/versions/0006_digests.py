"""Alert digests: the messages that carry outbox items to a target (one item alone, or several grouped), each
with a stable key sent along; the targets' next allowed message time; the outbox item's digest.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _time(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        _time("created_at"),
        _time("next_attempt_at"),
        _time("sent_at", nullable=True),
        sa.UniqueConstraint("key", name="uq_digests_key"),
    )
    op.create_index("ix_digests_target_state", "digests", ["target", "state"])
    op.create_table(
        "alert_targets",
        sa.Column("target", sa.String(64), primary_key=True),
        _time("first_seen_at"),
        _time("next_message_at"),
        _time("wake_at", nullable=True),
    )
    op.add_column("outbox", sa.Column("digest_id", sa.Integer, nullable=True))
    op.create_index("ix_outbox_digest_id", "outbox", ["digest_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_digest_id", "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("digest_id")
    op.drop_index("ix_digests_target_state", "digests")
    op.drop_table("alert_targets")
    op.drop_table("digests")

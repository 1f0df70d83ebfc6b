"""Near-duplicate index and reports that never arrive: the LSH band keys of each version's prose parts
(narrative.copied_from_peer); the registry of bodies (parent, registered_at); overdue notices; outbox items
about a report that has no version yet (report.overdue).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _time(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "prose_bands",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("report_versions.id"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("part", sa.String(4), nullable=False),
        sa.Column("band_key", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_prose_bands_year_key", "prose_bands", ["year", "band_key"])
    op.create_index("ix_prose_bands_version", "prose_bands", ["version_id"])
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("parent", sa.Text, nullable=True))
        batch.add_column(_time("registered_at", nullable=True))
    op.create_table(
        "overdue_notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("deadline", sa.String(10), nullable=False),
        _time("alerted_at"),
        _time("received_at", nullable=True),
        sa.Column("received_version_id", sa.Integer, sa.ForeignKey("report_versions.id"), nullable=True),
        sa.UniqueConstraint("organization_id", "year", name="uq_overdue_notices_body_year"),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("version_id", existing_type=sa.Integer, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE version_id IS NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("version_id", existing_type=sa.Integer, nullable=False)
    op.drop_table("overdue_notices")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("registered_at")
        batch.drop_column("parent")
    op.drop_table("prose_bands")

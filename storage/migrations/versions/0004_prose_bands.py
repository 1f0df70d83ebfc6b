"""Near-duplicate index: the LSH band keys of each version's prose parts (narrative.copied_from_peer).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


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


def downgrade() -> None:
    op.drop_table("prose_bands")

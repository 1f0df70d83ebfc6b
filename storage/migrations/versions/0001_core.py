"""Core tables: organizations, reports, report versions, findings.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _time(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_key", sa.Text, nullable=False),
        sa.Column("region", sa.Text, nullable=True),
        sa.Column("region_key", sa.Text, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.UniqueConstraint("name_key", "region_key", name="uq_organizations_identity"),
    )
    op.create_index("ix_organizations_region_key", "organizations", ["region_key"])
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=True),
        sa.Column("year", sa.Integer, nullable=True),
        sa.UniqueConstraint("key", name="uq_reports_key"),
    )
    op.create_index("ix_reports_organization_year", "reports", ["organization_id", "year"])
    op.create_table(
        "report_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        _time("received_at"),
        sa.Column("contract", JSON, nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("superseded_by", sa.Integer, sa.ForeignKey("report_versions.id"), nullable=True),
        sa.UniqueConstraint("sha256", name="uq_report_versions_sha256"),
    )
    op.create_index("ix_report_versions_report", "report_versions", ["report_id"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=True),
        sa.Column("year", sa.Integer, nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("rule_version", sa.Integer, nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("cells", JSON, nullable=False),
        sa.Column("expected", JSON, nullable=True),
        sa.Column("actual", JSON, nullable=True),
        _time("first_seen"),
        _time("last_seen"),
        _time("resolved_at", nullable=True),
        sa.Column("first_version_id", sa.Integer, sa.ForeignKey("report_versions.id"), nullable=False),
        sa.Column("last_version_id", sa.Integer, sa.ForeignKey("report_versions.id"), nullable=False),
        sa.Column("resolved_version_id", sa.Integer, sa.ForeignKey("report_versions.id"), nullable=True),
        sa.UniqueConstraint("report_id", "fingerprint", name="uq_findings_report_fingerprint"),
    )
    op.create_index("ix_findings_rule_year", "findings", ["rule", "year"])
    op.create_index("ix_findings_organization_year", "findings", ["organization_id", "year"])
    op.create_index("ix_findings_organization_rule", "findings", ["organization_id", "rule"])


def downgrade() -> None:
    for table in ("findings", "report_versions", "reports", "organizations"):
        op.drop_table(table)

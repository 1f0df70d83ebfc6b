"""Triage: reviewer accounts and their decisions on findings (confirmed, or dismissed as a false alarm); the
findings' (rule, year) index widened to cover the web pages' counts.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COVERING_RULE_YEAR = ["rule", "year", "organization_id", "report_id", "resolved_at", "severity"]


def _time(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reviewers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        _time("created_at"),
        sa.UniqueConstraint("name", name="uq_reviewers_name"),
    )
    op.create_table(
        "triage",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("report_id", sa.Integer, sa.ForeignKey("reports.id"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=False),
        _time("decided_at"),
    )
    op.create_index("ix_triage_report_fingerprint", "triage", ["report_id", "fingerprint"])
    op.drop_index("ix_findings_rule_year", "findings")
    op.create_index("ix_findings_rule_year", "findings", COVERING_RULE_YEAR)


def downgrade() -> None:
    op.drop_index("ix_findings_rule_year", "findings")
    op.create_index("ix_findings_rule_year", "findings", ["rule", "year"])
    for table in ("triage", "reviewers"):
        op.drop_table(table)

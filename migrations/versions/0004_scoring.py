"""Scoring: evidence for indicators the data cannot show, its attachments, score snapshots.

Revision ID: 0004_scoring
Revises: 0002_access
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_scoring"
down_revision = "0002_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "score_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_score_evidence_park_id_parks"), nullable=False),
        sa.Column("indicator_id", sa.String(80), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("level", sa.String(200)),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_score_evidence"),
        sa.UniqueConstraint("park_id", "indicator_id", name="uq_score_evidence_park_id_indicator_id"),
        sa.CheckConstraint("points >= 0", name="ck_score_evidence_points"),
    )
    op.create_table(
        "score_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), sa.ForeignKey("score_evidence.id", ondelete="CASCADE", name="fk_score_attachments_evidence_id_score_evidence"), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("stored_path", sa.String(500), nullable=False),
        sa.Column("content_type", sa.String(200)),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_score_attachments"),
    )
    op.create_index("ix_score_attachments_evidence_id", "score_attachments", ["evidence_id"])
    op.create_table(
        "score_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_score_snapshots_park_id_parks"), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("trigger", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("rubric_edition", sa.String(20), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("max_total", sa.Float(), nullable=False),
        sa.Column("dimensions", postgresql.JSONB(), nullable=False),
        sa.Column("indicators", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_score_snapshots"),
        sa.CheckConstraint("trigger IN ('auto','manual')", name="ck_score_snapshots_trigger"),
    )
    op.create_index("ix_score_snapshots_park_id_taken_at", "score_snapshots", ["park_id", "taken_at"])
    op.create_index("uq_score_snapshots_auto_day", "score_snapshots", ["park_id", "day"], unique=True,
                    postgresql_where=sa.text("trigger = 'auto'"))


def downgrade() -> None:
    op.drop_table("score_snapshots")
    op.drop_table("score_attachments")
    op.drop_table("score_evidence")

"""Scoring: administrators' evidence for indicators the data cannot show, its attachments, and score snapshots."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base, Timestamps


class ScoreEvidence(Timestamps, Base):
    """A self-assessment of one indicator in one park: the points claimed, a note, who entered it."""

    __tablename__ = "score_evidence"
    __table_args__ = (UniqueConstraint("park_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    indicator_id: Mapped[str] = mapped_column(String(80))
    points: Mapped[float] = mapped_column(Float)
    level: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(200))


class ScoreAttachment(Base):
    """A file supporting an evidence entry, stored under settings.data_dir (path relative to it)."""

    __tablename__ = "score_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("score_evidence.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    stored_path: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ScoreSnapshot(Base):
    """A park's score at one moment (total, per dimension, per indicator) for the trend chart."""

    __tablename__ = "score_snapshots"
    __table_args__ = (
        Index("ix_score_snapshots_park_id_taken_at", "park_id", "taken_at"),
        # At most one automatic snapshot per park and day (China time): concurrent scorings race safely.
        Index("uq_score_snapshots_auto_day", "park_id", "day", unique=True, postgresql_where=text("trigger = 'auto'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(server_default=func.now())
    day: Mapped[date]
    trigger: Mapped[str] = mapped_column(String(10))  # auto | manual
    created_by: Mapped[str | None] = mapped_column(String(200))
    rubric_edition: Mapped[str] = mapped_column(String(20))
    total: Mapped[float] = mapped_column(Float)
    max_total: Mapped[float] = mapped_column(Float)
    dimensions: Mapped[dict[str, Any]]  # {dimension id: points}
    indicators: Mapped[dict[str, Any]]  # {indicator id: points}

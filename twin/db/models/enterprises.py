"""Tenant enterprises of the park (scored for cloud use, certificates, digital workshops...)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base, Timestamps


class Enterprise(Timestamps, Base):
    __tablename__ = "enterprises"
    __table_args__ = (UniqueConstraint("park_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    building_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("features.id", ondelete="SET NULL"), index=True
    )
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)

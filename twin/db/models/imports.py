"""One record per import into a park: what came in, from which CRS, and its report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base


class ImportRecord(Base):
    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    layer_id: Mapped[int | None] = mapped_column(ForeignKey("layers.id", ondelete="SET NULL"))
    source_kind: Mapped[str] = mapped_column(String(20))  # demo | gis | ifc | assets
    source_name: Mapped[str] = mapped_column(String(500))
    source_crs: Mapped[str | None] = mapped_column(String(200))
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

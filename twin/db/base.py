"""Declarative base with a naming convention, so migrations name constraints predictably."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, MetaData, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Marks a constraint (in its `info`) that the database enforces with triggers instead: the schema has
# no such constraint, so autogenerate must not add it (migrations/env.py).
TRIGGER_ENFORCED = "parktwin_trigger_enforced"


def referrer_index(table: str, column: str) -> Index:
    """An index on the referring side of a nullable foreign key, over the rows that refer only: deleting
    the referenced row finds its referrers without scanning the table, and rows without one cost nothing."""
    return Index(f"ix_{table}_{column}", column, postgresql_where=text(f"{column} IS NOT NULL"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONB, list[Any]: JSONB, datetime: DateTime(timezone=True)}


class Timestamps:
    """created_at / updated_at maintained by the database clock."""

    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())

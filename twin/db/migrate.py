"""Run Alembic migrations from code, so `twin db upgrade` needs no alembic.ini."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from twin.db.base import TRIGGER_ENFORCED, Base
from twin.settings import REPO_ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at migrations/ and the given database."""
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """What autogenerate compares: GeoAlchemy2's filter, minus constraints that triggers enforce in the database."""
    from geoalchemy2 import alembic_helpers

    if type_ == "foreign_key_constraint" and getattr(obj, "info", {}).get(TRIGGER_ENFORCED):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def schema_drift(database_url: str) -> list:
    """How the database's schema differs from the models (alembic autogenerate's diffs; empty when they agree)."""
    from sqlalchemy import create_engine, pool

    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from twin.db import models  # noqa: F401  (registers every table)

    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return compare_metadata(MigrationContext.configure(connection, opts={"include_object": include_object}), Base.metadata)
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Migrate the database up to `revision` (default: every head)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database down to `revision` ("base" empties it)."""
    command.downgrade(alembic_config(database_url), revision)


def current_heads(database_url: str) -> set[str]:
    """The revisions the database is at."""
    from sqlalchemy import create_engine, pool

    from alembic.runtime.migration import MigrationContext

    engine = create_engine(database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())

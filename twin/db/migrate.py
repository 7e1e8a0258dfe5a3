"""Run Alembic migrations from code, so `twin db upgrade` needs no alembic.ini."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from twin.settings import REPO_ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at migrations/ and the given database."""
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


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

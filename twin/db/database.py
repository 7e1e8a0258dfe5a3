"""Create the service's database on the local server when it does not exist yet."""

from __future__ import annotations

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url


def ensure_database(database_url: str) -> bool:
    """Create the database named in the URL if missing; True when it was created."""
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
        if not exists:
            # Identifiers cannot be bound parameters; quote it through the dialect.
            name = admin.dialect.identifier_preparer.quote(url.database)
            connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return not exists


def drop_database(database_url: str) -> None:
    """Drop the database named in the URL (tests use it for scratch databases)."""
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        name = admin.dialect.identifier_preparer.quote(url.database)
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()

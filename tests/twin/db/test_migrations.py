"""The migrations build the whole schema on an empty database and take it down again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, pool, text

from tests.conftest import scratch_url
from twin.db import database, migrate

CORE_TABLES = {"parks", "layers", "features", "assets", "enterprises", "imports"}


@pytest.fixture()
def empty_url() -> Iterator[str]:
    url = scratch_url("migrations")
    database.drop_database(url)
    database.ensure_database(url)
    yield url
    database.drop_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_postgis_and_schema(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    assert CORE_TABLES <= _tables(empty_url)
    engine = create_engine(empty_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT extname FROM pg_extension WHERE extname = 'postgis'")) == "postgis"
        srid = connection.scalar(text("SELECT srid FROM geometry_columns WHERE f_table_name = 'features'"))
        gist = connection.scalar(text("SELECT count(*) FROM pg_indexes WHERE tablename = 'features' AND indexdef ~* 'USING (sp)?gist \\(geom\\)'"))
    engine.dispose()
    assert srid == 4326
    assert gist == 1, "exactly one spatial index on features.geom"


def test_downgrade_to_base_and_up_again(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    assert not (CORE_TABLES & _tables(empty_url))
    migrate.upgrade(empty_url)
    assert CORE_TABLES <= _tables(empty_url)
    assert migrate.current_heads(empty_url), "alembic_version records the heads"


def test_single_head_per_branch_is_reachable(empty_url: str) -> None:
    """Every revision file is reachable: upgrading to 'heads' leaves no revision unapplied."""
    from alembic.script import ScriptDirectory

    migrate.upgrade(empty_url)
    script = ScriptDirectory.from_config(migrate.alembic_config(empty_url))
    assert migrate.current_heads(empty_url) == set(script.get_heads())


def test_the_migrated_schema_is_what_the_models_say(empty_url: str) -> None:
    """Models and migrations agree (autogenerate finds nothing to do), so a new revision starts from the truth."""
    migrate.upgrade(empty_url)
    assert migrate.schema_drift(empty_url) == []

"""What several benchmarks share: a database of their own, and the app served against it."""

from __future__ import annotations

import os
from typing import Any


def bench_database(name: str) -> str:
    """The URL of database `name` (or TWIN_BENCH_DATABASE_URL), created and migrated if needed."""
    from twin.db import database, migrate

    url = os.environ.get("TWIN_BENCH_DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    database.ensure_database(url)
    migrate.upgrade(url)
    return url


def bench_app(url: str) -> Any:
    """The FastAPI app against `url`, quiet, without the MQTT consumer and the job runner."""
    from twin.main import create_app
    from twin.settings import get_settings

    settings = get_settings().model_copy(update={"database_url": url, "log_level": "WARNING", "mqtt_enabled": False, "jobs_enabled": False})
    return create_app(settings)

"""Fixtures for the GIS import → PostGIS → tiles path: an empty park per test."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from twin.db.models import Park
from twin.db.queries import parks


@pytest.fixture()
def park(db: Session) -> Park:
    """An empty park near the Xi'an fixture (rolled back after the test)."""
    return parks.create(db, slug="gis-test", name="导入测试园区", center=(108.90, 34.23))


def resolver(session: Session, park: Park, slug: str):  # type: ignore[no-untyped-def]
    """check_tileset's resolve(uri) over the service's blob store."""
    from twin.db.queries import tilesets

    def resolve(uri: str) -> bytes | None:
        try:
            return tilesets.get_blob(session, park=park, slug=slug, name=uri.removeprefix("content/"))
        except Exception:  # noqa: BLE001 — unresolvable is what the checker reports
            return None

    return resolve

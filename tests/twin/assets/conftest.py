"""Fixtures for the asset registry tests: the demo park, role headers, a token of another park."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import bearer
from twin.access.tokens import create_token
from twin.db.models import Park


@pytest.fixture()
def park(demo_park: str, db: Session) -> Park:
    """The demo park, read through the per-test session."""
    return db.scalars(select(Park).where(Park.slug == demo_park)).one()


@pytest.fixture()
def as_role(tokens: dict[str, str]):  # type: ignore[no-untyped-def]
    """Headers acting as a global token of a role: as_role("integrator")."""
    return lambda role: bearer(tokens[role])


@pytest.fixture()
def other_park_integrator(db: Session) -> dict[str, str]:
    """Headers of an integrator token scoped to another park (rolled back with the test)."""
    other = Park(slug="other-park", name="另一个园区", name_en="Another park")
    db.add(other)
    db.flush()
    _, secret = create_token(db, name="other park integrator", role="integrator", park_id=other.id)
    return bearer(secret)

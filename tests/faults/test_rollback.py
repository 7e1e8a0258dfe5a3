"""A request that fails after its ingest did some work (a database restart mid-request) must leave nothing behind
that later requests trust: the default FeatureOfInterest it created is gone with its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from tests.faults.world import FaultWorld
from tests.twin.ingest.factory import SensingPark, make_sensing_park
from twin.db.models import Park
from twin.integration.ingest import fill_default_features, insert_observations

SLUG = "faults-rollback"


@pytest.fixture()
def fresh_park(world: FaultWorld) -> Iterator[SensingPark]:
    """A park whose datastreams have never had a FeatureOfInterest."""
    with Session(world.engine) as session, session.begin():
        park = make_sensing_park(session, SLUG, devices=2)
    yield park
    with Session(world.engine) as session, session.begin():
        session.execute(delete(Park).where(Park.slug == SLUG))


def _ingest(factory: sessionmaker[Session], datastream: int, minute: int) -> list:  # type: ignore[type-arg]
    rows = [{"datastream_id": datastream, "phenomenon_time": datetime(2026, 5, 1, 8, minute, tzinfo=UTC), "result": 1.0}]
    with factory() as session, session.begin():
        fill_default_features(session, rows)
        return insert_observations(session, rows).rejected


@pytest.mark.parametrize("how", ["rollback", "savepoint then rollback"])
def test_a_rolled_back_ingest_does_not_poison_later_batches(world: FaultWorld, fresh_park: SensingPark, how: str) -> None:
    factory = sessionmaker(bind=world.engine, expire_on_commit=False)
    datastream = list(fresh_park.datastreams.values())[0 if how == "rollback" else 1]
    rows = [{"datastream_id": datastream, "phenomenon_time": datetime(2026, 5, 1, 8, 0, tzinfo=UTC), "result": 1.0}]
    with factory() as session:
        session.begin()
        if how == "rollback":
            fill_default_features(session, rows)  # makes the Thing's Location and its FeatureOfInterest
        else:
            with session.begin_nested():
                fill_default_features(session, rows)
        assert rows[0]["feature_of_interest_id"] is not None
        session.rollback()  # e.g. the database went away before the commit
    assert _ingest(factory, datastream, 1) == [], "a valid reading was rejected after a rolled-back request"

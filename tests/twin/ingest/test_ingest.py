"""insert_observations against a real PostGIS: idempotence, per-row rejection, latest-only-forward, hooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.twin.ingest.factory import SensingPark
from twin.db.models import DatastreamLatest, Observation
from twin.integration import ingest
from twin.integration.ingest import insert_observations

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture()
def factory(committed_factory: sessionmaker[Session], sensing_park: SensingPark, other_park: SensingPark) -> sessionmaker[Session]:
    """Committed sessions, with the test parks' observations removed before the test."""
    ids = [*sensing_park.datastreams.values(), *other_park.datastreams.values()]
    with committed_factory() as session, session.begin():
        session.execute(delete(Observation).where(Observation.datastream_id.in_(ids)))
        session.execute(delete(DatastreamLatest).where(DatastreamLatest.datastream_id.in_(ids)))
    return committed_factory


def _store(factory: sessionmaker[Session], rows: list[dict[str, Any]], **kwargs: Any) -> ingest.InsertResult:
    with factory() as session, session.begin():
        return insert_observations(session, rows, **kwargs)


def _count(factory: sessionmaker[Session], datastream_id: int) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).where(Observation.datastream_id == datastream_id)) or 0


def test_repeated_observations_are_stored_once_and_answer_the_stored_id(factory, sensing_park: SensingPark) -> None:  # type: ignore[no-untyped-def]
    ds = list(sensing_park.datastreams.values())
    rows = [{"datastream_id": ds[0], "phenomenon_time": T0 + timedelta(minutes=i), "result": float(i)} for i in range(50)]
    # The same instant written another way within the batch is a duplicate too.
    rows.append({"datastream_id": ds[0], "phenomenon_time": "2025-03-01T16:00:00+08:00", "result": 99.0})
    first = _store(factory, rows)
    assert len(first.accepted) == 50 and first.duplicates == [50] and first.rejected == []
    assert first[50] == first[0]
    again = _store(factory, rows)
    assert again.accepted == [] and len(again.duplicates) == 51
    assert list(again) == list(first)
    assert _count(factory, ds[0]) == 50
    with factory() as session:
        stored = session.scalar(select(Observation.result_number).where(Observation.id == first[0]))
    assert stored == 0.0  # the first write wins; the repeat did not overwrite it


def test_bad_rows_are_rejected_with_reasons_and_the_rest_stored(factory, sensing_park: SensingPark, other_park: SensingPark) -> None:  # type: ignore[no-untyped-def]
    ds = list(sensing_park.datastreams.values())
    foreign = next(iter(other_park.datastreams.values()))
    rows: list[Any] = [
        {"datastream_id": ds[1], "phenomenon_time": T0, "result": 1.5},
        {"datastream_id": 987654321, "phenomenon_time": T0, "result": 1},
        {"datastream_id": ds[1], "phenomenon_time": "2025-03-01T08:00:00", "result": 1},
        {"datastream_id": ds[1], "phenomenon_time": T0 + timedelta(seconds=1), "result": float("nan")},
        {"datastream_id": ds[1], "phenomenon_time": T0 + timedelta(seconds=2), "result": float("inf")},
        {"datastream_id": ds[1], "phenomenon_time": T0 + timedelta(seconds=3)},
        {"datastream_id": ds[1], "phenomenon_time": "yesterday", "result": 2},
        {"datastream_id": "abc", "phenomenon_time": T0, "result": 2},
        "not an object",
        {"datastream_id": foreign, "phenomenon_time": T0, "result": 3},
        {"datastream_id": ds[1], "phenomenon_time": T0 + timedelta(seconds=4), "result": {"text": "a\u0000b"}},
        {"datastream_id": ds[1], "phenomenon_time": T0 + timedelta(seconds=5), "result": "ok", "feature_of_interest_id": 987654321},
        {"datastream_id": ds[1], "phenomenon_time": "2025-03-01T08:00:10Z/2025-03-01T08:15:00Z", "result": True,
         "parameters": {"source": "test"}, "result_time": "2025-03-01T08:16:00Z"},
    ]
    result = _store(factory, rows, park_id=sensing_park.park_id)
    reasons = dict(result.rejected)
    assert sorted(reasons) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "does not exist" in reasons[1]
    assert "timezone" in reasons[2]
    assert "finite" in reasons[3] and "finite" in reasons[4]
    assert "result is missing" in reasons[5]
    assert "ISO 8601" in reasons[6]
    assert "integer id" in reasons[7]
    assert "JSON object" in reasons[8]
    assert "in this park" in reasons[9]  # a datastream of another park, through a park-scoped call
    assert "NUL" in reasons[10]
    assert "FeatureOfInterest" in reasons[11]
    assert result[1] is None and result[0] is not None and result[12] is not None
    assert _count(factory, ds[1]) == 2
    with factory() as session:
        interval = session.get(Observation, result[12])
    assert interval is not None and interval.result_json is True and interval.result_number is None
    assert interval.phenomenon_time_end == datetime(2025, 3, 1, 8, 15, tzinfo=UTC)
    assert interval.parameters == {"source": "test"}


def test_latest_only_moves_forward(factory, sensing_park: SensingPark) -> None:  # type: ignore[no-untyped-def]
    ds = list(sensing_park.datastreams.values())[2]

    def latest() -> tuple[datetime, float | None]:
        with factory() as session:
            row = session.get(DatastreamLatest, ds)
            assert row is not None
            return row.phenomenon_time, row.result_number

    _store(factory, [{"datastream_id": ds, "phenomenon_time": T0 + timedelta(hours=1), "result": 10.0},
                     {"datastream_id": ds, "phenomenon_time": T0, "result": 5.0}])
    assert latest() == (T0 + timedelta(hours=1), 10.0)
    _store(factory, [{"datastream_id": ds, "phenomenon_time": T0 + timedelta(minutes=30), "result": 7.0}])  # late arrival
    assert latest() == (T0 + timedelta(hours=1), 10.0)
    _store(factory, [{"datastream_id": ds, "phenomenon_time": T0 + timedelta(hours=1), "result": 99.0}])  # a repeat
    assert latest() == (T0 + timedelta(hours=1), 10.0)
    _store(factory, [{"datastream_id": ds, "phenomenon_time": T0 + timedelta(hours=2), "result": 12.0}])
    assert latest() == (T0 + timedelta(hours=2), 12.0)


def test_hooks_run_after_commit_only(factory, sensing_park: SensingPark, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    ds = list(sensing_park.datastreams.values())[3]
    seen: list[tuple[list[int], int]] = []

    def hook(session_factory: sessionmaker[Session], accepted: list[ingest.AcceptedObservation]) -> None:
        with session_factory() as session:  # the observations are visible to a new transaction
            visible = session.scalar(select(func.count()).where(Observation.id.in_([a.id for a in accepted])))
        seen.append(([a.id for a in accepted], visible or 0))

    def broken_hook(session_factory: sessionmaker[Session], accepted: list[ingest.AcceptedObservation]) -> None:
        raise RuntimeError("a hook failing must not undo the ingest")

    monkeypatch.setattr(ingest, "after_commit_hooks", [broken_hook, hook])
    with factory() as session, session.begin():
        result = insert_observations(session, [{"datastream_id": ds, "phenomenon_time": T0, "result": 1.0}])
        assert seen == []  # not yet committed
    assert seen == [(list(result), 1)]
    with factory() as session:
        with session.begin():
            insert_observations(session, [{"datastream_id": ds, "phenomenon_time": T0 + timedelta(seconds=1), "result": 2.0}])
            session.rollback()
    assert len(seen) == 1 and _count(factory, ds) == 1  # rolled back: no hook, nothing stored
    _store(factory, [{"datastream_id": ds, "phenomenon_time": T0, "result": 1.0}])
    assert len(seen) == 1  # a pure duplicate stores nothing new: no hook call

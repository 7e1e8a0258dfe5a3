"""Rules evaluated on ingest (threshold with hysteresis, state, geofence) and by the no-data sweep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.twin.alarms.conftest import T0
from tests.twin.alarms.world import World
from twin.db.models import Alarm, Event
from twin.integration.alarms import evaluation, nodata


def _alarms(db: Session, world: World, **where: Any) -> list[Alarm]:
    stmt = select(Alarm).where(Alarm.park_id == world.park.id).order_by(Alarm.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Alarm, key) == value)
    db.expire_all()
    return list(db.scalars(stmt))


def test_threshold_verdicts_follow_the_hysteresis_band() -> None:
    params = {"high": 75, "high_clear": 60}
    assert evaluation.threshold_verdict(params, is_open=False, value=76) == "raise"
    assert evaluation.threshold_verdict(params, is_open=False, value=75) is None  # strictly above
    assert evaluation.threshold_verdict(params, is_open=True, value=70) is None  # in the band: stays
    assert evaluation.threshold_verdict(params, is_open=True, value=59.9) == "clear"
    assert evaluation.threshold_verdict(params, is_open=False, value=40) is None
    assert evaluation.threshold_verdict(params, is_open=True, value="high") is None
    assert evaluation.threshold_verdict(params, is_open=True, value=True) is None  # a bool is not a number
    ph = {"high": 9, "high_clear": 8.8, "low": 6, "low_clear": 6.2}
    assert evaluation.threshold_verdict(ph, is_open=False, value=5.9) == "raise"
    assert evaluation.threshold_verdict(ph, is_open=True, value=6.1) is None
    assert evaluation.threshold_verdict(ph, is_open=True, value=7.0) == "clear"


def test_threshold_rule_raises_above_high_stays_in_band_and_clears_below_low(
        db: Session, world: World, add_rule: Callable[..., dict[str, Any]], ingest: Callable[..., None]) -> None:
    rule = add_rule(kind="threshold", name="PM2.5 超标", name_en="PM2.5 high", severity="major", asset_kinds=["air_quality_sensor"],
                    observed_property="pm2.5", params={"high": 75, "high_clear": 60})
    ingest("AQ-1/pm25", [50, 74.9])
    assert _alarms(db, world) == []
    ingest("AQ-1/pm25", [80], start=T0 + timedelta(minutes=5))
    [alarm] = _alarms(db, world)
    assert (alarm.state, alarm.severity, alarm.kind, alarm.rule_id, alarm.count) == ("active", "major", "threshold", rule["id"], 1)
    assert alarm.details["value"] == 80 and alarm.title == "PM2.5 超标" and "80" in alarm.message
    ingest("AQ-1/pm25", [70, 61], start=T0 + timedelta(minutes=6))  # between low and high: still active
    [alarm] = _alarms(db, world)
    assert alarm.state == "active" and alarm.count == 1
    ingest("AQ-1/pm25", [59], start=T0 + timedelta(minutes=8))
    [alarm] = _alarms(db, world)
    assert alarm.state == "cleared" and alarm.cleared_by == "system" and alarm.cleared_at is not None
    types = [e.type for e in db.scalars(select(Event).where(Event.alarm_id == alarm.id).order_by(Event.id))]
    assert types == ["raised", "cleared"]
    # The other sensor's readings (same rule, other datastream) open their own alarm.
    ingest("AQ-2/pm25", [90])
    assert [a.datastream_id for a in _alarms(db, world, state="active")] == [world.datastreams["AQ-2/pm25"]]


def test_repeats_are_deduplicated_into_the_open_alarm(
        db: Session, world: World, add_rule: Callable[..., dict[str, Any]], ingest: Callable[..., None]) -> None:
    add_rule(kind="threshold", datastream=world.datastreams["AQ-1/pm25"], params={"high": 75, "high_clear": 60})
    ingest("AQ-1/pm25", [80, 85, 90])  # one batch: one alarm, three occurrences
    ingest("AQ-1/pm25", [95], start=T0 + timedelta(minutes=10))  # another batch
    [alarm] = _alarms(db, world)
    assert alarm.count == 4 and alarm.details["value"] == 95
    assert alarm.observed_at == T0 + timedelta(minutes=10)
    # A late reading (older than what the alarm has seen) cannot clear it.
    ingest("AQ-1/pm25", [10], start=T0 + timedelta(minutes=5))
    assert _alarms(db, world)[0].state == "active"
    # Running the same evaluation twice (as two workers might) does not open a second alarm.
    assert db.scalar(text("SELECT count(*) FROM alarms WHERE park_id = :p AND state <> 'cleared'"), {"p": world.park.id}) == 1


def test_state_rule_raises_on_fault_and_clears_on_recovery(
        db: Session, world: World, add_rule: Callable[..., dict[str, Any]], ingest: Callable[..., None]) -> None:
    add_rule(kind="state", severity="major", asset_kinds=["elevator"], observed_property="elevator-state", params={"values": ["fault", 1]})
    ingest("ELV-1/state", ["running", "FAULT ", "fault"])
    [alarm] = _alarms(db, world)
    assert alarm.state == "active" and alarm.count == 2 and alarm.asset_id == world.assets["ELV-1"]
    ingest("ELV-1/state", ["idle"], start=T0 + timedelta(minutes=3))
    assert _alarms(db, world)[0].state == "cleared"


def test_geofence_exit_raises_when_the_tracked_robot_leaves_and_clears_on_return(
        db: Session, world: World, add_rule: Callable[..., dict[str, Any]], ingest: Callable[..., None]) -> None:
    add_rule(kind="geofence", name="离开指定范围", severity="critical", asset_kinds=["robot"], geofence="GF-T", params={"mode": "exit"})
    lon, lat = 104.0645 + 0.004, 30.5404 + 0.0001  # inside GF-T
    ingest("ROB-1/location", [{"type": "Point", "coordinates": [lon, lat]}, {"type": "Point", "coordinates": [lon + 0.00001, lat]}])
    assert _alarms(db, world) == []
    outside = [lon + 0.002, lat]
    ingest("ROB-1/location", [{"type": "Point", "coordinates": outside}], start=T0 + timedelta(minutes=2))
    [alarm] = _alarms(db, world)
    assert (alarm.kind, alarm.severity, alarm.state) == ("geofence", "critical", "active")
    assert db.scalar(select(text("ST_X(geom)")).select_from(Alarm).where(Alarm.id == alarm.id)) == outside[0]  # placed where it was seen
    assert alarm.details["geofence"] == "GF-T" and alarm.details["mode"] == "exit"
    ingest("ROB-1/location", [{"type": "Point", "coordinates": [lon, lat]}], start=T0 + timedelta(minutes=3))
    assert _alarms(db, world)[0].state == "cleared"


def test_geofence_enter_mode_and_results_that_are_not_points(
        db: Session, world: World, add_rule: Callable[..., dict[str, Any]], ingest: Callable[..., None]) -> None:
    add_rule(kind="geofence", asset_codes=["ROB-1"], geofence="GF-T", params={"mode": "enter"})
    ingest("ROB-1/location", ["somewhere", {"type": "Point", "coordinates": [200, 0]}, {"type": "Point", "coordinates": [104.0, 30.0]}])
    assert _alarms(db, world) == []
    ingest("ROB-1/location", [{"type": "Point", "coordinates": [104.0685, 30.5405]}], start=T0 + timedelta(minutes=5))
    assert [a.state for a in _alarms(db, world)] == ["active"]


def test_no_data_rule_with_a_fake_clock(db: Session, world: World, add_rule: Callable[..., dict[str, Any]], ingest: Callable[..., None]) -> None:
    rule = add_rule(kind="no_data", name="计量表离线", asset_kinds=["meter"], params={"minutes": 15})
    ingest("MTR-1/power", [10.0])  # at T0; MTR-2 never reported (ignored by default)
    assert nodata.sweep(db, now=T0 + timedelta(minutes=14)) == {"raised": 0, "cleared": 0}
    assert nodata.sweep(db, now=T0 + timedelta(minutes=16)) == {"raised": 1, "cleared": 0}
    assert nodata.sweep(db, now=T0 + timedelta(minutes=17)) == {"raised": 0, "cleared": 0}  # already open: no second alarm
    [alarm] = _alarms(db, world)
    assert (alarm.kind, alarm.asset_id, alarm.rule_id, alarm.state) == ("no_data", world.assets["MTR-1"], rule["id"], "active")
    assert alarm.datastream_id == world.datastreams["MTR-1/power"] and alarm.details["minutes"] == 15
    # A reading ends the silence at once (ingest clears it) ...
    ingest("MTR-1/power", [11.0], start=T0 + timedelta(minutes=18))
    assert _alarms(db, world)[0].state == "cleared"
    # ... and the sweep raises it again after another silence, and clears it when data shows up.
    assert nodata.sweep(db, now=T0 + timedelta(minutes=40)) == {"raised": 1, "cleared": 0}
    db.execute(text("UPDATE datastream_latest SET phenomenon_time = :t WHERE datastream_id = :d"),
               {"t": T0 + timedelta(minutes=39), "d": world.datastreams["MTR-1/power"]})
    assert nodata.sweep(db, now=T0 + timedelta(minutes=41)) == {"raised": 0, "cleared": 1}
    # include_never_reported also watches MTR-2.
    add_rule(kind="no_data", code="never", asset_codes=["MTR-2"], params={"minutes": 5, "include_never_reported": True})
    assert nodata.sweep(db, now=T0 + timedelta(minutes=42))["raised"] == 1


def test_disabled_rules_do_not_evaluate_and_disabling_clears(
        db: Session, world: World, add_rule: Callable[..., dict[str, Any]], ingest: Callable[..., None]) -> None:
    from twin.integration.alarms import rules

    rule = add_rule(kind="threshold", asset_kinds=["air_quality_sensor"], params={"high": 75})
    ingest("AQ-1/pm25", [80])
    rules.update(db, park=world.park, rule_id=rule["id"], changes={"enabled": False}, actor="test")
    assert [a.state for a in _alarms(db, world)] == ["cleared"]
    ingest("AQ-1/pm25", [90], start=T0 + timedelta(minutes=5))
    assert [a.state for a in _alarms(db, world)] == ["cleared"]


def test_python_and_sql_spell_the_open_alarm_key_alike(db: Session) -> None:
    from twin.integration.alarms.selectors import DEDUP_KEY_SQL, dedup_key

    for kind in ("threshold", "state", "geofence", "no_data"):
        spelled = db.scalar(text(f"SELECT {DEDUP_KEY_SQL} FROM (SELECT 7 AS id, CAST(:kind AS text) AS kind) r, (SELECT 11 AS id) d, (SELECT 13 AS id) a"),
                            {"kind": kind})
        assert spelled == dedup_key(rule_id=7, kind=kind, datastream_id=11, asset_id=13)

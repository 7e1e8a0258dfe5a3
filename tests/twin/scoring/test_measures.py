"""Computed indicators on small parks built by hand; every expected score is worked out in the comments.

Grid positions are metres east (x) and north (y) of 104.0°E 30.5°N (see conftest.py).
Partial credit is the default: linear interpolation across a range, rounded down.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import LineString, box
from sqlalchemy.orm import Session

from twin.db.models import Park
from twin.scoring import evidence as evidence_service
from twin.scoring.service import get_score
from twin.settings import Settings

from tests.twin.scoring.conftest import ORIGIN_LAT, ORIGIN_LON, ParkBuilder

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def scored(db: Session, park: Park, settings: Settings, *ids: str, now: datetime = NOW) -> dict[str, dict[str, Any]]:
    """The named indicators of the park, as the detail API serves them."""
    result = get_score(db, park=park, settings=settings, indicator_ids=set(ids), now=now, with_geometry=True)
    return {i.indicator.id: i.public(detail=True) for i in result.indicators}


# ── camera coverage, with road junctions derived from the road network ──────────────────────────

def test_camera_coverage_counts_junctions_derived_from_roads(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("cam-roads")
    p.road("R1", (-100, 0), (100, 0))  # east–west
    p.road("R2", (0, -100), (0, 100))  # crosses R1 at (0, 0): 2 + 2 = 4 arms → junction
    p.road("R3", (50, 0), (50, 80))  # starts on R1 at (50, 0): 2 + 1 = 3 arms → T-junction
    p.road("R4", (0, 100), (60, 140))  # continues R2 from its end: 1 + 1 = 2 arms → a bend, not a junction
    p.road("R5", (-50, 0.4), (-50, 60))  # stops 0.4 m short of R1 (within the 1 m tolerance) → T-junction at (-50, 0)
    p.key_location("KL-X", "road_intersection", 1, 1)  # 1.4 m from the (0, 0) junction: stands for it
    p.key_location("KL-G", "park_entrance", -100, 0)
    p.key_location("KL-L", "lobby", 200, 200)
    p.key_location("KL-O", "office", 0, 0)  # not a key-location category of the rubric: ignored
    p.camera("C1", -10, -10, heading=45, fov=90, range_m=30)  # KL-X at 15.6 m, bearing 45° → seen
    p.camera("C2", 50, -20, heading=0, fov=60, range_m=25)  # junction (50, 0) at 20 m due north → seen
    p.camera("C3", -100, -20, heading=0, fov=30, range_m=10)  # KL-G is 20 m away, beyond 10 m → not seen
    # Targets: KL-G, KL-L, KL-X (for junction R1×R2), junction:R1+R3, junction:R1+R5 = 5.
    # Seen: KL-X, junction:R1+R3 = 2/5 = 40 % < 70 % → 0 points.
    # Advice: 70 % needs 4/5 = 80 % → 1 + 1·10/20 = 1.5 → 1 point (2 more); 3 points need 5/5 (3 more).
    result = scored(db, p.park, settings, "ops.camera_coverage")["ops.camera_coverage"]
    assert result["points"] == 0 and result["value"] == 40
    assert result["evidence"]["derived_junctions"] == ["junction:R1+R3", "junction:R1+R5"]
    assert result["map"]["layer"] == "key_locations"
    assert result["map"]["highlight"] == {"ok": ["KL-X", "junction:R1+R3"], "missing": ["KL-G", "KL-L", "junction:R1+R5"]}
    assert "3个关键位置不在任何摄像机视野内" in result["gap"]["zh"] and "KL-G" in result["gap"]["en"]
    assert [(a["gain"], len(a["codes"])) for a in result["advice"]] == [(1, 2), (3, 3)]
    details = {d["code"]: d for d in result["evidence"]["details"]}
    assert details["KL-X"]["cameras"] == ["C1"] and details["junction:R1+R3"]["cameras"] == ["C2"]
    roles = [f["properties"]["role"] for f in result["map"]["geometries"]["features"]]
    assert roles.count("camera_view") == 3 and roles.count("key_location") == 5
    junction = next(f for f in result["map"]["geometries"]["features"] if f["properties"].get("code") == "junction:R1+R5")
    lon, lat = junction["geometry"]["coordinates"]
    assert abs(lat - ORIGIN_LAT) < 2e-6 and abs(lon - (ORIGIN_LON - 50 / 96_000)) < 2e-5  # at (-50, 0)


@pytest.mark.parametrize(("range_m", "seen", "points"), [
    (100.5, 10, 3),  # 100 %
    (90.5, 9, 3),  # exactly 90 %（含） → 3
    (80.5, 8, 1),  # 80 %: 1 + 1·10/20 = 1.5 → 1
    (70.5, 7, 1),  # exactly 70 %（含） → 1
    (60.5, 6, 0),  # 60 % < 70 % → 0
])
def test_camera_coverage_range_edges(db: Session, build, settings: Settings, range_m: float, seen: int, points: int) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("cam-edges")
    for k in range(1, 11):  # ten lobbies 10 m apart due east of the camera
        p.key_location(f"KL-{k:02d}", "lobby", 10 * k, 0)
    p.camera("C1", 0, 0, heading=90, fov=10, range_m=range_m)
    result = scored(db, p.park, settings, "ops.camera_coverage")["ops.camera_coverage"]
    assert (result["evidence"]["counted"], result["evidence"]["total"]) == (seen, 10)
    assert result["points"] == points


# ── roads, buildings, 3D model ──────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("with_conduit", "points"), [
    (2, 0),  # 40 %
    (3, 2),  # exactly 60 %（含） → 2
    (4, 3),  # 80 %: 2 + 2·20/30 = 3.33 → 3
    (5, 5),  # 100 %
])
def test_road_conduit_share_by_length(db: Session, build, settings: Settings, with_conduit: int, points: int) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("roads")
    # Five main roads along meridians with the same latitude span: identical geodesic lengths, so
    # k roads with conduit are exactly k/5 of the length.
    for k in range(5):
        lon = 104.0 + 0.001 * k
        p.feature(f"R{k}", "road", LineString([(lon, 30.5), (lon, 30.501)]), wgs84=True, road_class="main",
                  telecom_conduit=k < with_conduit)
    p.road("F1", (0, -50), (300, -50), road_class="fire_lane", telecom_conduit=False)  # not a main road: ignored
    result = scored(db, p.park, settings, "infra.conduit_roads")["infra.conduit_roads"]
    assert result["value"] == 20 * with_conduit
    assert result["points"] == points
    assert result["map"]["highlight"]["missing"] == [f"R{k}" for k in range(with_conduit, 5)]
    if points < 5:
        # Laying conduit on the longest missing roads first: 90 % needs 5 of 5 roads → +5 − points.
        assert result["advice"][-1]["gain"] == 5 - points
        assert result["advice"][-1]["codes"] == [f"R{k}" for k in range(with_conduit, 5)]


def test_building_flags_and_3d_model_share(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("buildings")
    for k in range(5):
        p.building(f"B{k}", 40 * k, 0, 40 * k + 20, 20, riser_shaft=k < 3, all_optical=True,
                   height_source="default" if k == 4 else "storeys")
    result = scored(db, p.park, settings, "infra.riser_shafts", "infra.all_optical", "infra.gis_3d")
    assert result["infra.riser_shafts"]["points"] == 2  # 3/5 = 60 %（含） → 2
    assert result["infra.riser_shafts"]["map"]["highlight"] == {"ok": ["B0", "B1", "B2"], "missing": ["B3", "B4"]}
    assert result["infra.all_optical"]["points"] == 5  # 5/5
    assert result["infra.gis_3d"]["points"] == 3  # 4/5 measured heights = 80 % in (0, 100): 2 + 2·0.8 = 3.6 → 3
    assert result["infra.gis_3d"]["map"]["highlight"]["missing"] == ["B4"]


# ── parking, poles, meters ──────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("chargers", "points", "gains"), [
    (0, 0, [2, 5]),  # 0 %; 3 % needs 1 charger (3.3 %) → 2; 10 % needs 3 → 5
    (1, 2, [1, 3]),  # 3.3 %: 2 + 2·0.33/7 = 2.1 → 2; 6.5 % (→3) needs 2 (6.7 %); 10 % needs 3
    (2, 3, [2]),  # 6.7 %: 2 + 2·3.67/7 = 3.05 → 3; 4 is only approached below 10 %, so next is 5
    (3, 5, []),  # exactly 10 %（含） → 5
])
def test_ev_chargers_per_parking_space(db: Session, build, settings: Settings, chargers: int, points: int, gains: list[int]) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("ev")
    p.feature("P1", "parking_lot", box(0, 0, 90, 12))
    for k in range(30):
        p.feature(f"P1-S{k:02d}", "parking_space", box(3 * k, 0, 3 * k + 2.5, 5), parent="P1")
    p.point("P9", "parking_lot", 200, 0, spaces_mapped=False, capacity=100)  # unmapped spaces are not counted by default
    for k in range(chargers):
        p.asset(f"EVC-{k}", "ev_charger", 3 * k + 1, 0.5, feature=f"P1-S{k:02d}", parking_space=f"P1-S{k:02d}")
    result = scored(db, p.park, settings, "ops.ev_charging")["ops.ev_charging"]
    assert result["points"] == points
    assert [a["gain"] for a in result["advice"]] == gains
    assert result["evidence"]["unmapped_lots"] == {"P9": 100} and result["evidence"]["unmapped_capacity_counted"] is False
    assert result["map"]["highlight"]["ok"] == [f"P1-S{k:02d}" for k in range(chargers)]
    if chargers == 1:
        assert result["advice"][-1]["en"].startswith("add 2 chargers to reach 10.0% of 30 spaces (3/30 = 10.0%)")


def test_smart_pole_function_categories(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("poles")
    p.asset("SP-1", "smart_pole", 0, 0, functions=["lighting", "camera"])
    p.asset("SP-2", "smart_pole", 30, 0, functions=["广播", "通信基站"])  # Chinese names count too
    p.asset("SP-3", "smart_pole", 60, 0, functions=["camera"])
    # lighting, broadcast, base_station = exactly 3 categories（含） → 2 points
    result = scored(db, p.park, settings, "ops.smart_poles")["ops.smart_poles"]
    assert result["points"] == 2 and result["value"] == 3
    assert "应急报警" in result["gap"]["zh"] and "数据采集" in result["gap"]["zh"]
    assert result["map"]["highlight"] == {"ok": ["SP-1", "SP-2"], "missing": ["SP-3"]}
    # 4 categories: 2 + 2·1/2 = 3 (first advice); all 5 → 5 (second)
    assert [a["gain"] for a in result["advice"]] == [1, 3]
    p.asset("SP-4", "smart_pole", 90, 0, functions=["emergency_alarm", "data_collection"])
    assert scored(db, p.park, settings, "ops.smart_poles")["ops.smart_poles"]["points"] == 5


def test_smart_meter_share_and_live_categories(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("meters")
    for k in range(10):  # 6 of 10 meters smart = exactly 60 %（含） → 1
        kind = ("electricity", "water", "gas")[k % 3]
        p.asset(f"M{k}", "meter", 5 * k, 0, meter_type=kind, smart=k < 6)
    p.reading("M0", NOW - timedelta(minutes=1))  # electricity, live
    p.reading("M1", NOW - timedelta(hours=2))  # water, stale; gas (M2…) never reported
    result = scored(db, p.park, settings, "ops.remote_metering", "ops.energy_monitoring")
    assert result["ops.remote_metering"]["points"] == 1
    energy = result["ops.energy_monitoring"]
    assert energy["points"] == 2  # 1 live category of 3: band [1, 3) → 2
    assert energy["evidence"]["counted"] == ["electricity"]
    assert "水" in energy["gap"]["zh"] and "燃气" in energy["gap"]["zh"]
    assert energy["map"]["highlight"]["ok"] == ["M0"]


# ── live data: elevators and environment ─────────────────────────────────────────────────────────

def test_elevators_count_only_when_they_reported_within_the_window(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("lifts")
    for k in range(4):
        p.asset(f"E{k}", "elevator", 5 * k, 0)
    for k in range(3):
        p.reading(f"E{k}", NOW - timedelta(minutes=5))
    p.reading("E3", NOW - timedelta(minutes=20))
    # 15-minute window: 3/4 = 75 % in (0, 100) → 1 + 1·0.75 = 1.75 → 1
    lifts = scored(db, p.park, settings, "ops.elevator_safety")["ops.elevator_safety"]
    assert lifts["points"] == 1 and lifts["map"]["highlight"]["missing"] == ["E3"]
    # A 30-minute window (configurable): 4/4 → 3
    wide = settings.model_copy(update={"score_live_window_min": 30})
    assert scored(db, p.park, wide, "ops.elevator_safety")["ops.elevator_safety"]["points"] == 3
    # An hour later nothing is live: 0
    later = scored(db, p.park, settings, "ops.elevator_safety", now=NOW + timedelta(hours=1))["ops.elevator_safety"]
    assert later["points"] == 0


def test_environment_monitoring_needs_air_water_and_noise_live(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("env")
    for code, kind in (("AQ", "air_quality_sensor"), ("WQ", "water_quality_sensor"), ("NS", "noise_sensor")):
        p.asset(code, kind, 0, 0)
        p.reading(code, NOW - timedelta(minutes=3))
    assert scored(db, p.park, settings, "ops.environment_monitoring")["ops.environment_monitoring"]["points"] == 5
    later = scored(db, p.park, settings, "ops.environment_monitoring", now=NOW + timedelta(minutes=13))
    assert later["ops.environment_monitoring"]["points"] == 0  # 16 min old > 15: all stale


# ── radio coverage: discs on geography intersected with target areas ────────────────────────────

def test_wifi_coverage_of_crowded_areas(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("wifi")
    p.building("B-CANTEEN", 0, 0, 20, 20, use="canteen")  # 400 m²
    p.building("B-OFFICE", 60, 0, 90, 20, use="office")
    p.feature("B-OFFICE-F1", "storey", box(60, 0, 90, 20), parent="B-OFFICE")
    p.room("R-MEET", 100, 0, 110, 10, use="meeting")  # 100 m² (outside any building: fine for the test)
    p.asset("AP1", "wifi_ap", 10, 10, radius_m=30)  # the canteen's far corner is 14.1 m away: fully covered
    # 400 of 500 m² = 80 % < 85 % → 0
    first = scored(db, p.park, settings, "infra.wifi")["infra.wifi"]
    assert first["points"] == 0 and first["value"] == pytest.approx(80, abs=0.2)
    assert first["map"]["highlight"] == {"ok": ["B-CANTEEN"], "missing": ["R-MEET"]}
    p.asset("AP2", "wifi_ap", 105, 5, radius_m=10)  # the room's corners are 7.1 m away
    assert scored(db, p.park, settings, "infra.wifi")["infra.wifi"]["points"] == 5


def test_5g_and_mobile_coverage_of_the_park_area(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("cells")
    p.boundary(box(0, 0, 200, 100))  # 20,000 m²
    p.building("B1", 10, 10, 40, 40)
    p.building("B2", 160, 10, 190, 40)
    p.asset("BTS-4G", "cell_5g", 100, 50, generation="4G", radius_m=500)  # covers the whole park
    p.asset("BTS-5G", "cell_5g", 0, 50, generation="5G", radius_m=120)  # west part only
    result = scored(db, p.park, settings, "infra.mobile_coverage", "infra.coverage_5g")
    assert result["infra.mobile_coverage"]["points"] == 5
    five_g = result["infra.coverage_5g"]
    # The 5G disc (x ≤ 120 at the centre line, ≈ 112 at the corners) covers ~57 % of the park → 0
    assert five_g["points"] == 0 and 50 < five_g["value"] < 60
    assert five_g["map"]["highlight"] == {"ok": ["B1"], "missing": ["B2"]}
    roles = {f["properties"].get("role") for f in five_g["map"]["geometries"]["features"]}
    assert {"covered", "uncovered"} <= roles
    assert five_g["advice"][-1]["gain"] == 5 and "90.0%" in five_g["advice"][-1]["en"]


# ── rooms, displays, declared facts ──────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("width", "points"), [(10.4, 5), (6.0, 3), (None, 0)])
def test_monitoring_centre_area_from_the_room_polygon(db: Session, build, settings: Settings, width: float | None, points: int) -> None:  # type: ignore[no-untyped-def]
    # 10.4 × 5 = 52 m² ≥ 50 → 5; 6 × 5 = 30 m² → 2 + 2·30/50 = 3.2 → 3; no room → 0
    p: ParkBuilder = build("centre")
    if width:
        p.room("MC", 0, 0, width, 5, use="monitoring_centre")
    result = scored(db, p.park, settings, "infra.monitoring_centre_area")["infra.monitoring_centre_area"]
    assert result["points"] == points
    if width:
        assert result["value"] == pytest.approx(width * 5, abs=0.05)


def test_displays_near_entrances_and_lobbies(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("displays")
    for k in range(4):
        p.key_location(f"KL-{k}", "park_entrance" if k < 2 else "lobby", 100 * k, 0)
    for k in range(3):
        p.asset(f"DSP-{k}", "display_screen", 100 * k, 10)  # 10 m away: within 15 m
    p.asset("DSP-FAR", "display_screen", 300, 20)  # 20 m from KL-3: too far
    # 3/4 = 75 % in [70, 90) → 2 + 2·5/20 = 2.5 → 2
    result = scored(db, p.park, settings, "infra.display_coverage")["infra.display_coverage"]
    assert result["points"] == 2 and result["map"]["highlight"]["missing"] == ["KL-3"]


def test_declared_services_room_and_video_functions(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("declared", wired_services=["broadband", "vpn", "fixed_phone"], telecom_room="shared",
                           video_functions=["playback"], research_institutions=["T1", "T2", "T3"])
    p.building("B1", 0, 0, 20, 20)
    for code in ("T1", "T2", "T3"):
        p.tenant(code, "B1")
    result = scored(db, p.park, settings, "infra.wired_services", "infra.telecom_room", "ops.video_functions",
                    "service.research_institutions")
    wired = result["infra.wired_services"]
    assert wired["points"] == 3  # 5 − 1 × 2 missing (leased line, private data line)
    assert [a["gain"] for a in wired["advice"]] == [1, 1]
    assert result["infra.telecom_room"]["points"] == 5  # non-independent room
    assert result["ops.video_functions"]["points"] == 1  # 1 of 3 functions: band [1, 3) → 1
    assert result["service.research_institutions"]["points"] == 10  # 3 × 5 = 15, capped at 10
    assert result["service.research_institutions"]["map"]["highlight"]["ok"] == ["B1"]


# ── tenants ──────────────────────────────────────────────────────────────────────────────────────

def test_enterprise_counts_with_caps(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("tenants", cloud_service="provider")
    p.building("B1", 0, 0, 20, 20, fiber_to_desk=True)
    p.building("B2", 40, 0, 60, 20)
    for k in range(11):  # 11 certified × 3 = 33 → capped at 30
        p.tenant(f"L{k}", "B2", lianghua_certified=True)
    p.tenant("T1", "B1", digital_workshop=True, smart_factory=True, cloud_star=3, uses_cloud=True, fiber_to_desk=True)
    p.tenant("T2", "B2", digital_workshop=True, cloud_star=4, uses_cloud=True, fiber_to_desk=True)
    p.tenant("T3", "B2", smart_factory="是", cloud_star=5, uses_cloud=True)
    p.tenant("T4", "B2", cloud_star=2, uses_cloud=True)
    p.tenant("T5", None, uses_cloud=True)
    result = scored(db, p.park, settings, "industry.lianghua", "industry.digital_factories", "industry.cloud_stars",
                    "infra.fiber_to_desk", "infra.cloud_enterprises")
    assert result["industry.lianghua"]["points"] == 30
    assert result["industry.digital_factories"]["points"] == 15  # T1 (both titles, counted once), T2, T3 → 3 × 5
    assert result["industry.cloud_stars"]["points"] == 12  # 3 + 4 + 5; two stars count nothing
    assert result["industry.cloud_stars"]["evidence"]["by_level"] == {"3": 1, "4": 1, "5": 1}
    # Pilots: building B1, plus T2 in B2 (T1 sits in B1, already counted) = 2 → 1~2 range: 2 → 4
    assert result["infra.fiber_to_desk"]["points"] == 4
    assert result["infra.fiber_to_desk"]["evidence"]["enterprises"] == ["T2"]
    assert result["infra.cloud_enterprises"]["points"] == 5  # 5 tenants use cloud: 5（含）~9 → 5


def test_cloud_users_do_not_count_without_a_park_cloud_service(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("no-cloud")
    for k in range(12):
        p.tenant(f"T{k}", uses_cloud=True)
    result = scored(db, p.park, settings, "infra.cloud_enterprises")["infra.cloud_enterprises"]
    assert result["points"] == 0 and "cloud_service" in result["gap"]["en"]


# ── cameras' quality, amenities, robots, IoT ────────────────────────────────────────────────────

def test_camera_quality_and_retention(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("quality", video_retention_days=90)
    p.camera("C1", 0, 0, heading=0, fov=90, range_m=30, resolution="4K", hd=True, retention_days=30)
    p.camera("C2", 10, 0, heading=0, fov=90, range_m=30, resolution="720p", hd=False, retention_days=15)
    result = scored(db, p.park, settings, "ops.camera_hd", "ops.video_retention")
    assert result["ops.camera_hd"]["points"] == 1  # not all HD, none below SD → 1
    assert result["ops.camera_hd"]["advice"][0]["codes"] == ["C2"]
    assert result["ops.video_retention"]["points"] == 1  # shortest is 15 days: [5, 30) → 1
    assert result["ops.video_retention"]["map"]["highlight"]["missing"] == ["C2"]
    p.camera("C3", 20, 0, heading=0, fov=90, range_m=30, resolution="CIF", retention_days=4)
    result = scored(db, p.park, settings, "ops.camera_hd", "ops.video_retention")
    assert result["ops.camera_hd"]["points"] == 0  # a camera below SD
    assert result["ops.video_retention"]["points"] == 0  # 4 days < 5


def test_amenities_robots_and_iot_pilots(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("amenities")
    p.building("B1", 0, 0, 30, 30, use="office")
    p.building("B2", 500, 0, 530, 30, use="research")
    p.building("B3", 1000, 0, 1030, 30, use="warehouse")  # not a main office building
    p.asset("RTL-1", "unmanned_retail", 15, 15, feature="B1")
    p.asset("LKR-1", "smart_locker", 600, 15)  # 70 m east of B2: within 150 m
    p.asset("LKR-2", "smart_locker", 200, 15)  # 170 m from B1, 300 m from B2: neither
    p.asset("ROB-1", "robot", 0, 0, robot_type="patrol")
    p.asset("ROB-2", "robot", 0, 0, robot_type="cleaning")
    p.asset("GW-1", "iot_gateway", 0, 0, protocol="NB-IoT")
    p.asset("GW-2", "iot_gateway", 0, 0, protocol="LoRa")
    p.asset("GW-3", "iot_gateway", 0, 0, protocol="Zigbee")  # not a low-power wide-area network
    result = scored(db, p.park, settings, "service.unmanned_retail", "service.smart_lockers", "service.delivery_robots",
                    "ops.service_robots", "infra.iot_pilots")
    assert result["service.unmanned_retail"]["points"] == 3  # 1/2 offices = 50 % in (0, 100) → 2 + 2·0.5 = 3
    assert result["service.smart_lockers"]["map"]["highlight"] == {"ok": ["B2"], "missing": ["B1"]}
    assert result["service.delivery_robots"]["points"] == 0  # no delivery robot
    assert result["ops.service_robots"]["points"] == 1  # patrol + cleaning = 2 of 5: 1 + 1·1/4 → 1
    assert result["infra.iot_pilots"]["points"] == 4  # 2 pilots: the 1~2 range reaches 4 at 2


# ── evidence indicators ─────────────────────────────────────────────────────────────────────────

def test_evidence_indicators_are_not_assessed_until_an_admin_enters_points(db: Session, build, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    p: ParkBuilder = build("evidence")
    before = scored(db, p.park, settings, "org.rules")["org.rules"]
    assert before["source"] == "not_assessed" and before["points"] == 0 and before["gap"]
    evidence_service.update_evidence(db, park=p.park, indicator_id="org.rules", points=15, note="制度汇编 v3", level=None,
                                     updated_by="admin")
    after = scored(db, p.park, settings, "org.rules")["org.rules"]
    assert after["source"] == "evidence" and after["points"] == 15
    assert after["evidence"]["level"] == "较完善" and after["evidence"]["updated_by"] == "admin"
    assert after["advice"][0]["gain"] == 5

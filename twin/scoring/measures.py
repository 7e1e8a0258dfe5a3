"""Measures: how each computed indicator is read from the twin and turned into points, gap and advice.

A measure takes the park's inputs (twin/scoring/inputs.py), the rubric indicator (with its params) and
the run's context, and applies the pure rules of twin/scoring/rules.py. MEASURES maps the rubric's
`measure` names to these functions.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from pyproj import Geod
from shapely.geometry import Point, mapping

from twin.scoring.inputs import Device, ParkInputs
from twin.scoring.outcomes import (
    add_advice,
    additions_needed,
    as_list,
    collection,
    count_outcome,
    device_categories,
    flag,
    gain_text,
    listing,
    num,
    pct,
    per_item_outcome,
    place_name,
    point_feature,
    ratio_outcome,
    score,
    threshold_rule,
)
from twin.scoring.results import Advice, Context, MapBlock, Outcome, Text, bilingual
from twin.scoring.rubric import DeductionRule, Indicator, LevelsRule, PerItemRule
from twin.scoring.rules import as_number, exact, percent, points_after_deduction, value_needed
from twin.spatial.camera import sees, view_polygon_of

Measure = Callable[[ParkInputs, Indicator, Context], Outcome]
_GEOD = Geod(ellps="WGS84")
HD_RESOLUTIONS = {"720p", "960p", "1080p", "2K", "3MP", "4MP", "5MP", "4K", "8MP", "12MP"}
BELOW_SD_RESOLUTIONS = {"CIF", "QCIF", "QVGA"}
DEFAULT_RADIUS_M = {"wifi_ap": 30.0, "cell_5g": 300.0}
SMART_POLE_ALIASES = {"照明": "lighting", "广播": "broadcast", "通信基站": "base_station", "基站": "base_station",
                      "5g": "base_station", "应急报警": "emergency_alarm", "一键报警": "emergency_alarm",
                      "数据采集": "data_collection", "环境监测": "data_collection"}


# ── infrastructure ──────────────────────────────────────────────────────────────────────────────

def road_conduit(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Share of main-road length (geodesic) with a telecom conduit; advice lays conduit on the longest roads first."""
    rule = threshold_rule(indicator)
    roads = data.features("road")
    classes = set(indicator.params.get("road_classes") or [])
    if classes and any(r.properties.get("road_class") for r in roads):
        roads = [r for r in roads if r.properties.get("road_class") in classes]
    ok = [r for r in roads if flag(r.properties.get("telecom_conduit"))]
    missing = sorted((r for r in roads if not flag(r.properties.get("telecom_conduit"))), key=lambda r: -r.length_m)
    total = sum(exact(round(r.length_m, 2)) for r in roads)
    done = sum(exact(round(r.length_m, 2)) for r in ok)
    value = percent(done, total)
    points = score(rule, value, ctx)
    outcome = Outcome(
        points=points, value=value,
        value_text=bilingual(f"{num(done)} m / {num(total)} m = {pct(value)}", f"{num(done)} m of {num(total)} m = {pct(value)}"),
        evidence={"length_m": as_number(total), "with_conduit_m": as_number(done),
                  "roads": [{"code": r.code, "name": r.name, "road_class": r.properties.get("road_class"),
                             "length_m": round(r.length_m, 1), "telecom_conduit": r in ok} for r in roads]},
        map=MapBlock("roads", [r.code for r in ok], [r.code for r in missing]))
    if points >= indicator.max:
        return outcome
    if not roads:
        outcome.gap = bilingual("孪生中没有主要道路", "the twin holds no main roads")
        return outcome
    zh = listing([f"{r.code}（{r.length_m:.0f} m）" for r in missing])[0]
    en = listing([f"{r.code} ({r.length_m:.0f} m)" for r in missing])[1]
    outcome.gap = bilingual(f"{len(missing)}条道路未建通信管网：{zh}", f"{len(missing)} roads without telecom conduit: {en}")

    def step(target: Fraction) -> tuple[str, str, Sequence[str]] | None:
        added, chosen = done, []
        for road in missing:  # longest first: fewest roads to dig
            if score(rule, percent(added, total), ctx) >= target:
                break
            added += exact(round(road.length_m, 2))
            chosen.append(road)
        if score(rule, percent(added, total), ctx) < target or not chosen:
            return None
        codes = [r.code for r in chosen]
        metres, reached = sum(r.length_m for r in chosen), pct(percent(added, total))
        return (f"在{'、'.join(codes)}敷设通信管网（{metres:.0f} m），达到{reached}",
                f"lay telecom conduit along {', '.join(codes)} ({metres:.0f} m) to reach {reached}", codes)

    add_advice(outcome, rule, ctx, step)
    return outcome


def building_flag(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Share of buildings whose property `flag` is true (riser shafts, all-optical access)."""
    key = indicator.params["flag"]
    buildings = data.features("building")
    labels = {"riser_shaft": (bilingual("未设引上孔井/钢管", "lack a riser shaft"), bilingual("设置引上孔井", "fit a riser shaft in")),
              "all_optical": (bilingual("未实现全光网络接入", "lack all-optical access"), bilingual("实现全光接入", "bring all-optical access to"))}
    lacking, fix = labels.get(key, (bilingual(f"缺少{key}", f"lack {key}"), bilingual(f"补充{key}", f"add {key} to")))
    return ratio_outcome(indicator, ctx, ok=[b.code for b in buildings if flag(b.properties.get(key))],
                         missing=[b.code for b in buildings if not flag(b.properties.get(key))],
                         noun=bilingual("建筑", "buildings"), lacking=lacking, fix=fix, layer="buildings", unit="栋")


def fiber_to_desk(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Fibre-to-the-desk pilots: buildings flagged, plus tenants flagged in buildings not already counted."""
    buildings = [b.code for b in data.features("building") if flag(b.properties.get("fiber_to_desk"))]
    tenants = [t for t in data.tenants() if flag(t.properties.get("fiber_to_desk")) and t.building_code not in buildings]
    pilots = buildings + [t.code for t in tenants]
    highlight = sorted(set(buildings) | {t.building_code for t in tenants if t.building_code})
    return count_outcome(indicator, ctx, counted=pilots, noun=bilingual("光纤到桌面试点", "fibre-to-desk pilots"), more=bilingual("再开展", "run"),
                         layer="buildings", ok_codes=highlight,
                         evidence={"buildings": buildings, "enterprises": [t.code for t in tenants]})


def wired_services(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Wired services offered (park property `wired_services`); 1 point off per missing kind."""
    rule = indicator.rule
    assert isinstance(rule, DeductionRule)
    present = set(as_list(data.properties.get("wired_services")))
    points = points_after_deduction(rule, present, full=rule.full or indicator.max)
    missing = [item for item in rule.items if item.code not in present]
    offered = [item for item in rule.items if item.code in present]
    outcome = Outcome(points=points, value=Fraction(len(offered)),
                      value_text=bilingual(f"{len(offered)}/{len(rule.items)}类服务", f"{len(offered)} of {len(rule.items)} services"),
                      evidence={"offered": [i.code for i in offered], "missing": [i.code for i in missing],
                                "declared_in": "park.properties.wired_services"})
    if missing:
        outcome.gap = bilingual("未提供：" + "、".join(i.name for i in missing), "not offered: " + ", ".join(i.name_en for i in missing))
        for item in missing:
            if points + rule.per_missing <= indicator.max:
                zh, en = gain_text(Fraction(rule.per_missing))
                outcome.advice.append(Advice(zh=f"开通{item.name}：{zh}", en=f"offer {item.name_en}: {en}",
                                             gain=Fraction(rule.per_missing)))
    return outcome


def radio_coverage(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Share of a target area inside the union of radio discs (cells or Wi-Fi APs), geodesic m²."""
    params = indicator.params
    rule = threshold_rule(indicator)
    kinds = params["kinds"]
    generation = params.get("generation")
    emitters_devices = [d for d in data.devices(*kinds)
                        if generation is None or str(d.properties.get("generation", "")).upper() == str(generation).upper()]
    emitters = [(d.lon, d.lat, float(d.properties.get("radius_m") or DEFAULT_RADIUS_M.get(d.kind, 30.0))) for d in emitters_devices]
    if params.get("target") == "park_area":
        target_ids = data.park_area_ids()
        noun = bilingual("园区范围", "the park area")
        if not target_ids:  # no boundary mapped: the buildings stand in for the park
            target_ids = [b.id for b in data.features("building")]
            noun = bilingual("建筑", "building footprints")
        detail_ids = [b.id for b in data.features("building")]
        layer = "buildings"
    else:
        buildings = [b for b in data.features("building") if b.properties.get("use") in set(params.get("building_uses", []))]
        spaces = data.spaces(params.get("space_uses", []))
        target_ids = [p.id for p in buildings + spaces]
        detail_ids = target_ids
        noun = bilingual("目标区域", "target areas")
        layer = "spaces" if spaces and not buildings else "buildings" if buildings and not spaces else "features"
    parts, covered_geo, uncovered_geo = data.disc_coverage(emitters, target_ids, with_geometry=ctx.with_geometry)
    area = sum(exact(round(p.area_m2, 2)) for p in parts)
    covered = sum(exact(round(p.covered_m2, 2)) for p in parts)
    value = percent(covered, area)
    points = score(rule, value, ctx)
    details, _, _ = data.disc_coverage(emitters, detail_ids, with_geometry=False) if detail_ids != target_ids else (parts, None, None)
    full = [p.code for p in details if p.area_m2 > 0 and p.covered_m2 / p.area_m2 >= 0.995]
    partial = [p.code for p in details if p.code not in full]
    geometries = None
    if ctx.with_geometry:
        features = [point_feature(d.lon, d.lat, code=d.code, kind=d.kind, radius_m=r) for d, (_, _, r) in zip(emitters_devices, emitters, strict=True)]
        if covered_geo:
            features.append({"type": "Feature", "geometry": covered_geo, "properties": {"role": "covered"}})
        if uncovered_geo:
            features.append({"type": "Feature", "geometry": uncovered_geo, "properties": {"role": "uncovered"}})
        geometries = collection(features)
    outcome = Outcome(
        points=points, value=value,
        value_text=bilingual(f"{num(covered)} / {num(area)} m² = {pct(value)}", f"{num(covered)} of {num(area)} m² = {pct(value)}"),
        evidence={"area_m2": as_number(area), "covered_m2": as_number(covered), "emitters": [d.code for d in emitters_devices],
                  "parts": [{"code": p.code, "name": p.name, "area_m2": round(p.area_m2, 1),
                             "covered_pct": round(100 * p.covered_m2 / p.area_m2, 1) if p.area_m2 else None} for p in details]},
        map=MapBlock(layer, full, partial, geometries))
    if points >= indicator.max:
        return outcome
    if area == 0:
        outcome.gap = bilingual(f"孪生中没有{noun['zh']}", f"the twin holds no {noun['en']}")
        return outcome
    zh, en = listing(partial)
    outcome.gap = bilingual(f"{noun['zh']}覆盖率{pct(value)}；未完全覆盖：{zh or '—'}",
                            f"{pct(value)} of {noun['en']} covered; not fully covered: {en or '—'}")

    def step(target: Fraction) -> tuple[str, str, Sequence[str]] | None:
        needed = value_needed(rule, target, policy=ctx.policy, granularity=ctx.granularity)
        if needed is None:
            return None
        extra = num(max(needed * area / 100 - covered, Fraction(0)))
        return (f"覆盖率提高到{pct(needed)}（约再覆盖{extra} m²，优先 {zh or '未覆盖区域'}）",
                f"raise coverage to {pct(needed)} (about {extra} m² more, starting with {en or 'the uncovered area'})", partial)

    add_advice(outcome, rule, ctx, step)
    return outcome


def iot_pilots(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """LPWAN pilots: IoT gateways speaking NB-IoT, LoRa or similar."""
    protocols = {p.lower() for p in indicator.params.get("protocols", [])}
    gateways = [d for d in data.devices("iot_gateway") if not protocols or str(d.properties.get("protocol", "")).lower() in protocols]
    return count_outcome(indicator, ctx, counted=[g.code for g in gateways], noun=bilingual("物联网试点", "LPWAN pilots"),
                         more=bilingual("再铺设", "deploy"), layer="assets:iot_gateway",
                         evidence={"protocols": sorted({str(g.properties.get("protocol")) for g in gateways})})


def telecom_room(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Telecom room level declared on the park (`telecom_room`: independent | shared | none), else found as a room."""
    rule = indicator.rule
    assert isinstance(rule, LevelsRule)
    declared = data.properties.get("telecom_room")
    space_code = data.properties.get("telecom_room_space")
    rooms = data.spaces(["telecom_room"])
    if declared is None and rooms:
        declared, space_code = "independent", rooms[0].code
    key = declared if declared in {lv.key for lv in rule.levels} else "none"
    level = rule.level(key)
    points = Fraction(level.top)
    outcome = Outcome(points=points, value=None, value_text=bilingual(level.name, level.name_en),
                      evidence={"level": key, "space": space_code, "declared_in": "park.properties.telecom_room"},
                      map=MapBlock("spaces", [space_code] if space_code else [], []))
    if points < indicator.max:
        best = rule.levels[0]
        zh, en = gain_text(Fraction(best.top) - points)
        outcome.gap = bilingual(f"现状：{level.name}", f"now: {level.name_en}")
        outcome.advice.append(Advice(zh=f"设置{best.name}：{zh}", en=f"provide an {best.name_en}: {en}", gain=Fraction(best.top) - points))
    return outcome


def monitoring_centre_area(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Floor area of the monitoring-centre room, ST_Area on geography of its polygon (m²)."""
    rule = threshold_rule(indicator)
    rooms = sorted(data.spaces([indicator.params.get("space_use", "monitoring_centre")]), key=lambda r: -r.area_m2)
    room = rooms[0] if rooms else None
    area = exact(round(room.area_m2, 2)) if room else Fraction(0)
    points = score(rule, area, ctx)
    outcome = Outcome(points=points, value=area,
                      value_text=bilingual(f"{num(area)} m²（{room.code}）" if room else "未设置", f"{num(area)} m² ({room.code})" if room else "none"),
                      evidence={"space": room.code if room else None, "area_m2": as_number(area),
                                "rooms": [{"code": r.code, "name": r.name, "area_m2": round(r.area_m2, 1)} for r in rooms]},
                      map=MapBlock("spaces", [room.code] if room else [], []))
    if points < indicator.max:
        needed = Fraction(rule.bands[0].min)
        zh, en = gain_text(Fraction(indicator.max) - points)
        if room:
            outcome.gap = bilingual(f"监控中心面积{num(area)} m²，不足{num(needed)} m²", f"the centre has {num(area)} m², under {num(needed)} m²")
            outcome.advice.append(Advice(zh=f"将监控中心扩大到{num(needed)} m²以上：{zh}", en=f"enlarge the centre to {num(needed)} m² or more: {en}",
                                         gain=Fraction(indicator.max) - points, codes=(room.code,)))
        else:
            outcome.gap = bilingual("未独立设置监控中心（无 use=monitoring_centre 的房间）", "no independent monitoring centre (no room with use monitoring_centre)")
            outcome.advice.append(Advice(zh=f"设置不小于{num(needed)} m²的独立监控中心：{zh}",
                                         en=f"set up an independent monitoring centre of {num(needed)} m² or more: {en}", gain=Fraction(indicator.max) - points))
    return outcome


def cloud_enterprises(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Tenants using cloud services, counted only when the park offers a cloud service (`cloud_service`)."""
    service = data.properties.get("cloud_service")
    users = [t for t in data.tenants() if flag(t.properties.get("uses_cloud"))]
    outcome = count_outcome(indicator, ctx, counted=[t.code for t in users], noun=bilingual("上云企业", "tenants using cloud services"),
                            more=bilingual("再推动上云", "win"), unit="家", layer="buildings",
                            ok_codes=sorted({t.building_code for t in users if t.building_code}),
                            evidence={"cloud_service": service})
    if not service:
        outcome.points = Fraction(0)
        outcome.gap = bilingual("园区未提供云服务（park.properties.cloud_service 为空）", "the park offers no cloud service (park.properties.cloud_service is empty)")
        outcome.advice = [Advice(zh="建设数据资源中心或与云服务商合作提供云服务", en="offer a cloud service (own data centre or a provider)",
                                 gain=Fraction(0))]
    return outcome


def gis_3d(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Share of buildings modelled in 3D from a measured height or storey count (not the default height)."""
    buildings = data.features("building")
    measured = [b.code for b in buildings if b.top_height and b.height_source not in (None, "default")]
    return ratio_outcome(indicator, ctx, ok=measured, missing=[b.code for b in buildings if b.code not in measured],
                         noun=bilingual("建筑", "buildings"), lacking=bilingual("缺少实测高度/层数", "lack a measured height"),
                         fix=bilingual("补充高度或BIM模型", "add heights or a BIM model for"), layer="buildings", unit="栋")


def display_coverage(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Share of entrances and lobbies with a display screen within `radius_m` (geodesic)."""
    places = data.key_locations(indicator.params["categories"])
    near = data.devices_near([p.id for p in places], "display_screen", float(indicator.params.get("radius_m", 15)))
    return ratio_outcome(indicator, ctx, ok=[p.code for p in places if near.get(p.id)], missing=[p.code for p in places if not near.get(p.id)],
                         noun=bilingual("出入口/门厅", "entrances and lobbies"), lacking=bilingual("没有电子显示设备", "have no display"),
                         fix=bilingual("设置显示屏", "put a display at"), layer="key_locations",
                         evidence={"screens": {p.code: near.get(p.id, []) for p in places}})


# ── operations ──────────────────────────────────────────────────────────────────────────────────

def camera_coverage(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Share of key locations inside some camera's field of view (twin.spatial.camera.sees).

    Road intersections are the junctions derived from the road network in PostGIS; a key-location
    point of category road_intersection within `junction_match_m` of a junction stands for it (its
    code is used), and junctions without one are scored as `junction:<roads>` with their geometry.
    """
    params = indicator.params
    categories = params["categories"]
    places = data.key_locations(categories)
    cameras = data.devices("camera")
    targets: list[tuple[str, str, float, float, str, str]] = [(p.code, p.properties.get("category", ""), p.lon, p.lat, *place_name(p)) for p in places]
    derived: list[str] = []
    if "road_intersection" in categories:
        marked = [p for p in places if p.properties.get("category") == "road_intersection"]
        match_m = float(params.get("junction_match_m", 15.0))
        for junction in sorted(data.junctions(float(params.get("junction_tolerance_m", 1.0))), key=lambda j: j.code):
            if any(_GEOD.inv(junction.lon, junction.lat, p.lon, p.lat)[2] <= match_m for p in marked):
                continue
            derived.append(junction.code)
            names = " × ".join(junction.roads)
            targets.append((junction.code, "road_intersection", junction.lon, junction.lat, f"道路交叉口 {names}", f"junction {names}"))
    seen_by = dict(zip([t[0] for t in targets], cameras_seeing(cameras, [(t[2], t[3]) for t in targets]), strict=True))
    ok = [t[0] for t in targets if seen_by[t[0]]]
    missing = [t[0] for t in targets if not seen_by[t[0]]]
    geometries = None
    if ctx.with_geometry:
        features = [{"type": "Feature", "geometry": mapping(view_polygon_of(c.properties, Point(c.lon, c.lat))),
                     "properties": {"role": "camera_view", "code": c.code}} for c in cameras]
        features += [point_feature(lon, lat, role="key_location", code=code, category=cat, covered=bool(seen_by[code]), derived=code in derived)
                     for code, cat, lon, lat, _, _ in targets]
        geometries = collection(features)
    details = [{"code": code, "category": cat, "name": zh, "name_en": en, "cameras": seen_by[code], "derived": code in derived}
               for code, cat, _, _, zh, en in targets]
    return ratio_outcome(indicator, ctx, ok=ok, missing=missing, noun=bilingual("关键位置", "key locations"),
                         lacking=bilingual("不在任何摄像机视野内", "are in no camera's view"),
                         fix=bilingual("增设或调整摄像机覆盖", "add or aim cameras at"), layer="key_locations",
                         evidence={"cameras": len(cameras), "derived_junctions": derived,
                                   "by_category": dict(Counter(t[1] for t in targets)), "details": details},
                         geometries=geometries)


def cameras_seeing(cameras: Sequence[Device], targets: Sequence[tuple[float, float]]) -> list[list[str]]:
    """For each (lon, lat) target, the codes of the cameras whose field of view holds it.

    The test itself is twin.spatial.camera.sees (one piece of camera geometry for the whole twin), with
    the same property defaults as view_polygon_of so the drawn view and the count agree. A vectorised
    flat-earth distance check (1 % + 1 m slack) first discards the cameras that are out of range.
    """
    def number(camera: Device, key: str, default: float) -> float:
        value = camera.properties.get(key, default)
        return float(value) if isinstance(value, int | float) and math.isfinite(value) else default

    lons = np.array([c.lon for c in cameras])
    lats = np.array([c.lat for c in cameras])
    views = [(number(c, "heading_deg", 0.0), number(c, "fov_deg", 90.0), number(c, "range_m", 30.0)) for c in cameras]
    reach = np.array([v[2] for v in views]) * 1.01 + 1.0
    seen: list[list[str]] = []
    for lon, lat in targets:
        dx = (lon - lons) * 111_320.0 * math.cos(math.radians(lat))
        dy = (lat - lats) * 110_574.0
        near = np.nonzero(np.hypot(dx, dy) <= reach)[0]
        seen.append([cameras[i].code for i in near
                     if sees(cameras[i].lon, cameras[i].lat, heading_deg=views[i][0], fov_deg=views[i][1], range_m=views[i][2],
                             target_lon=lon, target_lat=lat)])
    return seen


def camera_hd(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """All cameras HD → top level; standard definition → middle; any below SD (or none) → 0."""
    rule = indicator.rule
    assert isinstance(rule, LevelsRule)
    cameras = data.devices("camera")
    hd = [c.code for c in cameras if (flag(c.properties["hd"]) if "hd" in c.properties else c.properties.get("resolution") in HD_RESOLUTIONS)]
    low = [c.code for c in cameras if c.properties.get("resolution") in BELOW_SD_RESOLUTIONS]
    sd = [c.code for c in cameras if c.code not in hd and c.code not in low]
    key = "below_sd" if not cameras or low else "all_hd" if len(hd) == len(cameras) else "sd"
    level = rule.level(key)
    points = Fraction(level.top)
    value = percent(len(hd), len(cameras))
    outcome = Outcome(points=points, value=value,
                      value_text=bilingual(f"高清{len(hd)}/{len(cameras)} = {pct(value)}", f"HD {len(hd)}/{len(cameras)} = {pct(value)}"),
                      evidence={"level": key, "hd": hd, "sd": sd, "below_sd": low},
                      map=MapBlock("assets:camera", hd, sd + low))
    if points < indicator.max:
        if not cameras:
            outcome.gap = bilingual("孪生中没有摄像机", "the twin holds no cameras")
            return outcome
        zh, en = listing(sd + low)
        outcome.gap = bilingual(f"{len(sd) + len(low)}台摄像机未达到高清：{zh}", f"{len(sd) + len(low)} cameras are not HD: {en}")
        gain_zh, gain_en = gain_text(Fraction(indicator.max) - points)
        outcome.advice.append(Advice(zh=f"将这{len(sd) + len(low)}台摄像机升级为高清：{gain_zh}",
                                     en=f"upgrade these {len(sd) + len(low)} cameras to HD: {gain_en}",
                                     gain=Fraction(indicator.max) - points, codes=tuple(sd + low)))
    return outcome


def video_retention(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """The shortest video retention of any camera (days), else the park's declared `video_retention_days`."""
    rule = threshold_rule(indicator)
    cameras = data.devices("camera")
    days = {c.code: c.properties["retention_days"] for c in cameras if isinstance(c.properties.get("retention_days"), int | float)}
    declared = data.properties.get("video_retention_days")
    value = Fraction(min(days.values())) if days else (exact(declared) if isinstance(declared, int | float) else None)
    points = score(rule, value, ctx)
    full_days = Fraction(rule.bands[0].min)
    short = sorted((code for code, d in days.items() if d < full_days), key=lambda code: days[code])
    outcome = Outcome(points=points, value=value,
                      value_text=bilingual(f"最短{num(value)}天" if value is not None else "未知", f"shortest {num(value)} days" if value is not None else "unknown"),
                      evidence={"shortest_days": as_number(value) if value is not None else None, "declared_days": declared,
                                "below_full_marks": {code: days[code] for code in short}},
                      map=MapBlock("assets:camera", [c for c in days if c not in short], short))
    if points < indicator.max:
        zh, en = listing(short)
        gain_zh, gain_en = gain_text(Fraction(indicator.max) - points)
        if value is None:
            outcome.gap = bilingual("摄像机未记录存储天数（retention_days）", "no camera records its retention (retention_days)")
        else:
            outcome.gap = bilingual(f"{len(short)}台摄像机存储不足{num(full_days)}天：{zh}", f"{len(short)} cameras keep video under {num(full_days)} days: {en}")
            outcome.advice.append(Advice(zh=f"将这些摄像机的存储时间提高到{num(full_days)}天以上：{gain_zh}",
                                         en=f"keep their video for {num(full_days)} days or more: {gain_en}",
                                         gain=Fraction(indicator.max) - points, codes=tuple(short)))
    return outcome


_VIDEO_FUNCTION_NAMES = {"view_switching": ("画面切换", "view switching"), "ptz_control": ("摄像头控制", "camera control"),
                         "playback": ("录像回放", "playback")}


def video_functions(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Video-system functions declared on the park (`video_functions`)."""
    wanted = indicator.params["functions"]
    present = set(as_list(data.properties.get("video_functions")))
    have = [f for f in wanted if f in present]
    missing = [bilingual(*_VIDEO_FUNCTION_NAMES.get(f, (f, f))) for f in wanted if f not in present]
    return count_outcome(indicator, ctx, counted=have, noun=bilingual("功能", "functions"), more=bilingual("实现", "add"), unit="项",
                         missing_names=missing, evidence={"declared_in": "park.properties.video_functions"})


def live_categories(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Categories (energy types, environment media) with at least one device reporting within the live window."""
    params = indicator.params
    since = ctx.now - ctx.live_window
    counted: list[str] = []
    missing: list[Text] = []
    reasons: list[Text] = []
    fresh_codes: list[str] = []
    stale_codes: list[str] = []
    per_category: list[dict[str, Any]] = []
    kinds = sorted({c.get("kind") or params["kind"] for c in params["categories"]})
    layer = f"assets:{kinds[0]}" if len(kinds) == 1 else "assets:" + ",".join(kinds)
    for category in params["categories"]:
        kind = category.get("kind") or params["kind"]
        prop = params.get("category_property")
        devices = [d for d in data.devices(kind) if prop is None or d.properties.get(prop) == category["code"]]
        latest = data.latest_report_times([d.id for d in devices])
        fresh = [d.code for d in devices if d.id in latest and latest[d.id] >= since]
        stale = [d.code for d in devices if d.code not in fresh]
        fresh_codes += fresh
        stale_codes += stale
        newest = max((latest[d.id] for d in devices if d.id in latest), default=None)
        per_category.append({"code": category["code"], "devices": len(devices), "reporting": len(fresh),
                             "last_report": newest.isoformat() if newest else None})
        if fresh:
            counted.append(category["code"])
        else:
            why = ("无设备", "no device") if not devices else (f"{len(devices)}台设备均无实时数据", f"none of {len(devices)} devices live")
            missing.append(bilingual(category["name"], category["name_en"]))
            reasons.append(bilingual(f"{category['name']}（{why[0]}）", f"{category['name_en']} ({why[1]})"))
    window_min = int(ctx.live_window.total_seconds() // 60)
    outcome = count_outcome(indicator, ctx, counted=counted, noun=bilingual("实时监测", "categories monitored live"), unit="类",
                            more=bilingual("接入实时数据：", "bring live data for"), missing_names=missing,
                            layer=layer, ok_codes=fresh_codes, missing_codes=stale_codes,
                            evidence={"window_minutes": window_min, "since": since.isoformat(), "categories": per_category})
    if outcome.gap is not None:
        outcome.gap = bilingual(f"{window_min}分钟内未上报：" + "、".join(r["zh"] for r in reasons),
                                f"nothing reported in the last {window_min} min: " + ", ".join(r["en"] for r in reasons))
    return outcome


def smart_pole_functions(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Rubric function categories present on at least one smart pole (`functions`, English or Chinese names)."""
    def names(pole: Device) -> set[str]:
        return {SMART_POLE_ALIASES.get(n.strip().lower(), SMART_POLE_ALIASES.get(n.strip(), n.strip().lower()))
                for n in as_list(pole.properties.get("functions"))}

    return device_categories(indicator, ctx, data.devices("smart_pole"), names, noun=bilingual("功能", "function categories"),
                             more=bilingual("在灯杆上集成", "integrate on the poles:"), layer="assets:smart_pole")


def ev_charging(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """EV chargers as a share of parking spaces (mapped spaces; lots' unmapped capacity only if configured)."""
    rule = threshold_rule(indicator)
    chargers = data.devices("ev_charger")
    spaces = data.features("parking_space")
    unmapped = [lot for lot in data.features("parking_lot") if lot.properties.get("spaces_mapped") is False
                and isinstance(lot.properties.get("capacity"), int)]
    extra = sum(lot.properties["capacity"] for lot in unmapped) if indicator.params.get("include_unmapped_capacity") else 0
    total = len(spaces) + extra
    n = min(len(chargers), total)
    value = percent(n, total)
    points = score(rule, value, ctx)
    space_codes = {s.code for s in spaces}
    served = sorted({c.properties.get("parking_space") or c.feature_code for c in chargers} & space_codes)
    outcome = Outcome(points=points, value=value,
                      value_text=bilingual(f"{len(chargers)}个充电桩 / {total}个车位 = {pct(value)}", f"{len(chargers)} chargers / {total} spaces = {pct(value)}"),
                      evidence={"chargers": [c.code for c in chargers], "spaces": len(spaces),
                                "unmapped_lots": {lot.code: lot.properties["capacity"] for lot in unmapped},
                                "unmapped_capacity_counted": bool(extra)},
                      map=MapBlock("parking", served, []))
    if points >= indicator.max:
        return outcome
    if total == 0:
        outcome.gap = bilingual("孪生中没有停车位", "the twin holds no parking spaces")
        return outcome
    outcome.gap = bilingual(f"充电桩占车位{pct(value)}", f"chargers serve {pct(value)} of spaces")

    def step(target: Fraction) -> tuple[str, str, Sequence[str]] | None:
        k = additions_needed(rule, ctx, n=n, total=total, target=target, limit=total - n)
        if k is None:
            return None
        needed = pct(value_needed(rule, target, policy=ctx.policy, granularity=ctx.granularity))
        reached = f"{n + k}/{total} = {pct(percent(n + k, total))}"
        return f"增设{k}个充电桩，达到{total}个车位的{needed}（{reached}）", f"add {k} chargers to reach {needed} of {total} spaces ({reached})", ()

    add_advice(outcome, rule, ctx, step)
    return outcome


def smart_meters(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Share of meters read remotely (property smart)."""
    meters = data.devices("meter")
    return ratio_outcome(indicator, ctx, ok=[m.code for m in meters if flag(m.properties.get("smart"))],
                         missing=[m.code for m in meters if not flag(m.properties.get("smart"))],
                         noun=bilingual("表计", "meters"), lacking=bilingual("不能远程抄表", "are not read remotely"),
                         fix=bilingual("更换智能表", "fit smart meters in place of"), layer="assets:meter", unit="台",
                         evidence={"by_type": dict(Counter(str(m.properties.get("meter_type")) for m in meters))})


def live_share(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Share of devices of a kind (elevators) that reported within the live window."""
    kind = indicator.params["kind"]
    devices = data.devices(kind)
    latest = data.latest_report_times([d.id for d in devices])
    since = ctx.now - ctx.live_window
    fresh = [d.code for d in devices if d.id in latest and latest[d.id] >= since]
    window_min = int(ctx.live_window.total_seconds() // 60)
    return ratio_outcome(indicator, ctx, ok=fresh, missing=[d.code for d in devices if d.code not in fresh],
                         noun=bilingual("电梯" if kind == "elevator" else "设备", "elevators" if kind == "elevator" else "devices"),
                         unit="部" if kind == "elevator" else "台",
                         lacking=bilingual(f"{window_min}分钟内无运行数据", f"sent no status in the last {window_min} min"),
                         fix=bilingual("接入实时监控", "connect live monitoring for"), layer=f"assets:{kind}",
                         evidence={"window_minutes": window_min, "since": since.isoformat(),
                                   "last_report": {d.code: latest[d.id].isoformat() for d in devices if d.id in latest}})


# ── services and industry ───────────────────────────────────────────────────────────────────────

def research_institutions(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Institutions established in the park (park property `research_institutions`: tenant codes or names)."""
    declared = as_list(data.properties.get("research_institutions"))
    tenants = {t.code: t for t in data.tenants()}
    buildings = sorted({tenants[c].building_code for c in declared if c in tenants and tenants[c].building_code})
    return per_item_outcome(indicator, counts=len(declared), counted=declared, noun=bilingual("产学研机构", "institutions"),
                            layer="buildings", ok_codes=buildings, evidence={"declared_in": "park.properties.research_institutions"})


def amenity_reach(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Share of main office buildings with an amenity (unmanned shop, smart locker) within `radius_m`."""
    params = indicator.params
    uses = set(params["building_uses"])
    offices = [b for b in data.features("building") if b.properties.get("use") in uses]
    near = data.devices_near([b.id for b in offices], params["kind"], float(params.get("radius_m", 150)))
    noun = {"unmanned_retail": bilingual("无人零售", "unmanned shop"), "smart_locker": bilingual("智能寄存柜", "smart locker")}.get(
        params["kind"], bilingual(params["kind"], params["kind"]))
    radius = num(float(params.get("radius_m", 150)))
    return ratio_outcome(indicator, ctx, ok=[b.code for b in offices if near.get(b.id)], missing=[b.code for b in offices if not near.get(b.id)],
                         noun=bilingual("主要办公建筑", "main office buildings"), unit="栋",
                         lacking=bilingual(f"{radius} m内没有{noun['zh']}", f"have no {noun['en']} within {radius} m"),
                         fix=bilingual(f"配置{noun['zh']}", f"place a {noun['en']} near"), layer="buildings",
                         evidence={"near": {b.code: near.get(b.id, []) for b in offices}})


_ROBOT_TYPES = {"patrol": "patrol", "security": "patrol", "reception": "voice_qa", "guide": "voice_qa",
                "video": "video_interaction", "temperature": "temperature", "disinfection": "temperature",
                "cleaning": "cleaning", "delivery": "delivery"}


def robot_functions(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Robot function categories piloted (robot_type, or a `functions` list)."""
    def names(robot: Device) -> set[str]:
        given = {str(robot.properties.get("robot_type", ""))} | set(as_list(robot.properties.get("functions")))
        return {_ROBOT_TYPES.get(n, n) for n in given}

    return device_categories(indicator, ctx, data.devices("robot"), names, noun=bilingual("功能", "functions"),
                             more=bilingual("试点", "pilot"), layer="assets:robot")


def enterprise_count(data: ParkInputs, indicator: Indicator, ctx: Context) -> Outcome:
    """Tenants counted by a property: a star level (weights) or flags (any of them true)."""
    rule = indicator.rule
    assert isinstance(rule, PerItemRule)
    prop = indicator.params["property"]
    tenants = data.tenants()
    if rule.weights is not None:
        stars = {t.code: str(t.properties.get(prop)) for t in tenants if str(t.properties.get(prop)) in rule.weights}
        counted = sorted(stars)
        counts: dict[str, int] | int = dict(Counter(stars.values()))
        evidence: dict[str, Any] = {"by_level": counts, "levels": stars}
        noun = bilingual("星级上云企业", "star-rated tenants")
    else:
        props = prop if isinstance(prop, list) else [prop]
        counted = [t.code for t in tenants if any(flag(t.properties.get(p)) for p in props)]
        counts = len(counted)
        evidence = {"properties": props}
        noun = {"lianghua_certified": bilingual("贯标企业", "certified tenants")}.get(str(prop), bilingual("企业", "tenants"))
    by_code = {t.code: t for t in tenants}
    buildings = sorted({by_code[c].building_code for c in counted if by_code[c].building_code})
    return per_item_outcome(indicator, counts=counts, counted=counted, noun=noun, layer="buildings", ok_codes=buildings,
                            evidence=evidence)


MEASURES: dict[str, Measure] = {
    "road_conduit": road_conduit,
    "building_flag": building_flag,
    "fiber_to_desk": fiber_to_desk,
    "wired_services": wired_services,
    "radio_coverage": radio_coverage,
    "iot_pilots": iot_pilots,
    "telecom_room": telecom_room,
    "monitoring_centre_area": monitoring_centre_area,
    "cloud_enterprises": cloud_enterprises,
    "gis_3d": gis_3d,
    "display_coverage": display_coverage,
    "camera_coverage": camera_coverage,
    "camera_hd": camera_hd,
    "video_retention": video_retention,
    "video_functions": video_functions,
    "live_categories": live_categories,
    "smart_pole_functions": smart_pole_functions,
    "ev_charging": ev_charging,
    "smart_meters": smart_meters,
    "live_share": live_share,
    "research_institutions": research_institutions,
    "amenity_reach": amenity_reach,
    "robot_functions": robot_functions,
    "enterprise_count": enterprise_count,
}

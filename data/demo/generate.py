#!/usr/bin/env python3
"""Generate the invented demo park 天府智造产业园（演示） as GeoJSON/CSV files in EPSG:4326.

Everything is laid out on a park grid in metres (u east-ish, v north-ish, rotated
GRID_ROTATION_DEG counter-clockwise from east/north), then projected through a local
transverse Mercator centred on the park to WGS84 lon/lat rounded to 7 decimals.
The output is deterministic: same script, same PROJ → byte-identical files.

Usage:
    python data/demo/generate.py            # write the files next to this script
    python data/demo/generate.py --check    # regenerate in memory, fail if the files differ
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon, box, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.ops import nearest_points, unary_union

OUT_DIR = Path(__file__).resolve().parent
PARK_SLUG = "tianfu-demo"
CENTER_LON, CENTER_LAT = 104.0655, 30.5390
GROUND_ELEVATION_M = 495.0
GRID_ROTATION_DEG = 12.0  # park grid rotated counter-clockwise from east/north
COORD_DECIMALS = 7  # ≈ 1 cm at this latitude
FZK_MODEL = "../shared/fixtures/ifc/AC20-FZK-Haus.ifc"  # relative to the repo root
MODEL_BUILDING = "B04"  # the 12 × 10 m pavilion that hosts the FZK-Haus model


# ---------------------------------------------------------------------------
# Coordinate frame
# ---------------------------------------------------------------------------


class Frame:
    """Park grid (u, v metres) ↔ local TM metres (x east, y north) ↔ WGS84 lon/lat (EPSG:4326)."""

    def __init__(self) -> None:
        tm = (
            f"+proj=tmerc +lat_0={CENTER_LAT} +lon_0={CENTER_LON} +k=1 +x_0=0 +y_0=0 "
            "+ellps=WGS84 +units=m +no_defs"
        )
        self._to_lonlat = Transformer.from_crs(tm, "EPSG:4326", always_xy=True)
        self._to_tm = Transformer.from_crs("EPSG:4326", tm, always_xy=True)
        theta = math.radians(GRID_ROTATION_DEG)
        self._cos, self._sin = math.cos(theta), math.sin(theta)

    def grid_to_lonlat(self, uv: np.ndarray) -> np.ndarray:
        """Grid metres (N, 2) → lon/lat degrees (N, 2), rounded to COORD_DECIMALS."""
        u, v = uv[:, 0], uv[:, 1]
        x = self._cos * u - self._sin * v
        y = self._sin * u + self._cos * v
        lon, lat = self._to_lonlat.transform(x, y)
        return np.round(np.column_stack([lon, lat]), COORD_DECIMALS)

    def lonlat_to_grid(self, lonlat: np.ndarray) -> np.ndarray:
        """Lon/lat degrees (N, 2) → grid metres (N, 2); used to re-check rounded output."""
        x, y = self._to_tm.transform(lonlat[:, 0], lonlat[:, 1])
        x, y = np.asarray(x), np.asarray(y)
        return np.column_stack([self._cos * x + self._sin * y, -self._sin * x + self._cos * y])

    def bearing_deg(self, du: float, dv: float) -> float:
        """Heading of a grid direction in degrees, 0 = true north, clockwise.

        TM meridian convergence across 700 m is ~0.002°, so TM north is taken as true north.
        """
        x = self._cos * du - self._sin * dv
        y = self._sin * du + self._cos * dv
        return round(math.degrees(math.atan2(x, y)) % 360.0, 1)

    def to_lonlat_geom(self, geom: BaseGeometry) -> BaseGeometry:
        """Project a grid geometry to rounded lon/lat with CCW exterior rings (RFC 7946)."""
        out = shapely.transform(geom, self.grid_to_lonlat)
        if isinstance(out, Polygon):
            return orient(out, 1.0)
        if out.geom_type == "MultiPolygon":
            return shapely.MultiPolygon([orient(p, 1.0) for p in out.geoms])
        return out

    def to_grid_geom(self, geom: BaseGeometry) -> BaseGeometry:
        """Inverse of to_lonlat_geom (without rounding)."""
        return shapely.transform(geom, self.lonlat_to_grid)


FRAME = Frame()


# ---------------------------------------------------------------------------
# Data holders
# ---------------------------------------------------------------------------


@dataclass
class Feature:
    """A layer feature in grid metres; props hold everything but the geometry."""

    layer: str
    geom: BaseGeometry
    props: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.props["id"])

    @property
    def kind(self) -> str:
        return str(self.props["kind"])


@dataclass
class Asset:
    """A device point: grid position (u, v), height above ground (m), bound feature id."""

    id: str
    kind: str
    name: str
    name_en: str
    uv: tuple[float, float]
    z: float
    feature: str
    props: dict[str, Any] = field(default_factory=dict)


def r2(value: float) -> float:
    """Round a metric value to centimetres for output."""
    return round(float(value), 2)


# ---------------------------------------------------------------------------
# Boundary, gates, roads
# ---------------------------------------------------------------------------

BOUNDARY = Polygon([(-350, -225), (350, -225), (350, 180), (305, 225), (-350, 225)])

# code, name, name_en, gate grid point, inward unit direction, gate role
GATES = [
    ("G-W", "西门（主入口）", "West Gate (main entrance)", (-350.0, 0.0), (1.0, 0.0), "main"),
    ("G-N", "北门", "North Gate", (-120.0, 225.0), (0.0, -1.0), "pedestrian_and_car"),
    ("G-S", "南门（物流）", "South Gate (logistics)", (100.0, -225.0), (0.0, 1.0), "logistics"),
    ("G-E", "东门（货运）", "East Gate (freight)", (350.0, 0.0), (-1.0, 0.0), "freight"),
]

# id, name, name_en, vertices, width_m, road_class, telecom_conduit
ROADS: list[tuple[str, str, str, list[tuple[float, float]], float, str, bool]] = [
    ("R-main-1", "智造大道", "Zhizao Avenue", [(-350, 0), (350, 0)], 14.0, "main", True),
    ("R-ring-1", "园区环路北段", "Ring Road (north)", [(-315, 190), (315, 190)], 12.0, "main", True),
    ("R-ring-2", "园区环路东段", "Ring Road (east)", [(315, 190), (315, -190)], 12.0, "main", True),
    ("R-ring-3", "园区环路南段", "Ring Road (south)", [(315, -190), (-315, -190)], 12.0, "main", False),
    ("R-ring-4", "园区环路西段", "Ring Road (west)", [(-315, -190), (-315, 190)], 12.0, "main", True),
    ("R-sec-1", "创新路", "Chuangxin Road", [(-120, -190), (-120, 225)], 9.0, "secondary", True),
    ("R-sec-2", "协同路", "Xietong Road", [(100, -225), (100, 190)], 9.0, "secondary", True),
    ("R-sec-3", "科研路", "Keyan Road", [(-315, 110), (-120, 110)], 8.0, "secondary", True),
    ("R-sec-4", "物流路", "Wuliu Road", [(100, -100), (315, -100)], 9.0, "secondary", False),
    ("R-fire-1", "1号消防车道", "Fire Lane 1", [(-120, -100), (100, -100)], 4.5, "fire_lane", True),
    ("R-fire-2", "2号消防车道", "Fire Lane 2", [(210, 0), (210, 190)], 4.5, "fire_lane", False),
    ("R-fire-3", "3号消防车道", "Fire Lane 3", [(-315, -125), (-165, -125), (-165, 0)], 4.5, "fire_lane", True),
    ("R-fire-4", "4号消防车道", "Fire Lane 4", [(-120, 128), (100, 128)], 4.5, "fire_lane", False),
]


def _snap(pt: tuple[float, float]) -> tuple[float, float]:
    """Round a grid point to the millimetre so shared junction vertices are identical tuples."""
    return (round(pt[0], 3) + 0.0, round(pt[1], 3) + 0.0)


def node_roads(lines: dict[str, list[tuple[float, float]]]) -> dict[str, list[tuple[float, float]]]:
    """Insert every road-road intersection as a vertex of both roads (shared exact vertices)."""
    geoms = {rid: LineString(coords) for rid, coords in lines.items()}
    extra: dict[str, set[tuple[float, float]]] = defaultdict(set)
    ids = list(lines)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            inter = geoms[a].intersection(geoms[b])
            for part in getattr(inter, "geoms", [inter]):
                if part.is_empty or part.geom_type != "Point":
                    continue
                extra[a].add(_snap((part.x, part.y)))
                extra[b].add(_snap((part.x, part.y)))
    noded: dict[str, list[tuple[float, float]]] = {}
    for rid, coords in lines.items():
        line = geoms[rid]
        pts = {_snap(c) for c in coords} | extra[rid]
        noded[rid] = sorted(pts, key=lambda p: line.project(Point(p)))
    return noded


def junctions(noded: dict[str, list[tuple[float, float]]]) -> list[tuple[tuple[float, float], list[str]]]:
    """Road junctions: graph nodes where three or more road edges meet, with the roads there."""
    degree: Counter[tuple[float, float]] = Counter()
    roads_at: dict[tuple[float, float], list[str]] = defaultdict(list)
    for rid, coords in noded.items():
        for k, pt in enumerate(coords):
            degree[pt] += (k > 0) + (k < len(coords) - 1)
            if rid not in roads_at[pt]:
                roads_at[pt].append(rid)
    nodes = [(pt, roads_at[pt]) for pt, deg in degree.items() if deg >= 3]
    return sorted(nodes, key=lambda n: (-n[0][1], n[0][0]))


# ---------------------------------------------------------------------------
# Buildings
# ---------------------------------------------------------------------------


def l_shape(a: tuple[float, ...], b: tuple[float, ...]) -> Polygon:
    """Union of two touching rectangles, collinear vertices removed."""
    return unary_union([box(*a), box(*b)]).simplify(0.0)


def u_shape(outer: tuple[float, ...], notch: tuple[float, ...]) -> Polygon:
    """Rectangle with a notch cut from one side."""
    return box(*outer).difference(box(*notch)).simplify(0.0)


def courtyard(outer: tuple[float, ...], hole: tuple[float, ...]) -> Polygon:
    """Rectangle with an inner courtyard (a polygon hole)."""
    return Polygon(box(*outer).exterior.coords, [box(*hole).exterior.coords])


@dataclass(frozen=True)
class BuildingSpec:
    code: str
    name: str
    name_en: str
    use: str
    shape: Polygon
    storeys: int
    height_m: float
    height_mode: str  # both | storeys | height | height_text_m ("24 m") | height_text ("24.5")
    entrances: tuple[Any, ...]  # side letters or (u, v, side) door points on the facade
    riser_shaft: bool = True
    all_optical: bool = True
    fiber_to_desk: bool = False
    indoor_5g: bool = False
    lift_passenger: int = 0
    lift_freight: int = 0


BUILDINGS: list[BuildingSpec] = [
    BuildingSpec("B01", "综合管理楼（运营指挥中心）", "Administration & Operations Building", "administration",
                 box(-298, 22, -238, 42), 5, 20.1, "both", ("S", "N"), indoor_5g=True, lift_passenger=2),
    BuildingSpec("B02", "天府智造大厦", "Tianfu Zhizao Tower", "office",
                 box(-185, 40, -145, 72), 20, 80.0, "both", ("E", "W"), fiber_to_desk=True, indoor_5g=True,
                 lift_passenger=5, lift_freight=1),
    BuildingSpec("B03", "研发楼A座", "R&D Building A", "research",
                 l_shape((-298, 128, -228, 150), (-298, 150, -276, 172)), 6, 24.0, "height_text_m", ("S",),
                 indoor_5g=True, lift_passenger=2),
    BuildingSpec("B04", "园区展示馆（BIM示范）", "Park Exhibition Pavilion (BIM demo)", "exhibition",
                 box(-160, 150, -148, 160), 2, 6.3, "both", ("S",)),
    BuildingSpec("B05", "众创空间", "Maker Space", "office",
                 box(-215, 132, -175, 166), 4, 16.8, "storeys", ("S",), lift_passenger=2),
    BuildingSpec("B06", "创业孵化中心", "Startup Incubation Centre", "office",
                 box(-100, 18, -60, 36), 5, 21.0, "both", ("S",), indoor_5g=True, lift_passenger=2),
    BuildingSpec("B07", "研发楼B座", "R&D Building B", "research",
                 box(40, 18, 84, 38), 6, 24.5, "height_text", ("S",), lift_passenger=2),
    BuildingSpec("B08", "研发中心（回字楼）", "R&D Centre (courtyard building)", "research",
                 courtyard((-100, 136, -50, 172), (-85, 146, -65, 162)), 5, 22.0, "storeys", ("S", "N"),
                 fiber_to_desk=True, indoor_5g=True, lift_passenger=3),
    BuildingSpec("B09", "软件园E座", "Software Building E", "office",
                 u_shape((20, 136, 80, 174), (35, 152, 65, 174)), 7, 28.0, "height", ("S",),
                 indoor_5g=True, lift_passenger=2),
    BuildingSpec("B10", "员工餐厅", "Staff Canteen", "canteen",
                 box(118, 18, 168, 42), 2, 10.5, "both", ("S", "W"), indoor_5g=True, lift_freight=1),
    BuildingSpec("B11", "人才公寓1号楼", "Talent Apartments No. 1", "dormitory",
                 box(118, 58, 198, 72), 10, 33.0, "storeys", ("S",), lift_passenger=2),
    BuildingSpec("B12", "人才公寓2号楼", "Talent Apartments No. 2", "dormitory",
                 box(118, 96, 198, 110), 10, 33.0, "storeys", ("S",), lift_passenger=2),
    BuildingSpec("B13", "人才公寓3号楼", "Talent Apartments No. 3", "dormitory",
                 box(118, 134, 198, 148), 10, 33.0, "storeys", ("S",), lift_passenger=2),
    BuildingSpec("B14", "活动中心", "Activity & Fitness Centre", "service",
                 box(228, 20, 272, 50), 2, 12.0, "both", ("S",), lift_passenger=1),
    BuildingSpec("B15", "数据中心", "Data Centre", "data_centre",
                 box(-290, -70, -240, -34), 3, 18.0, "both", ("N", "S"), indoor_5g=True,
                 lift_passenger=1, lift_freight=1),
    BuildingSpec("B16", "园区变电站", "Park Substation", "substation",
                 box(-225, -60, -199, -44), 1, 9.0, "height_text_m", ("N",), all_optical=False),
    BuildingSpec("B17", "水泵房", "Pump House", "pump_house",
                 box(-152, -60, -140, -52), 1, 5.5, "height", ("W",), riser_shaft=False, all_optical=False),
    BuildingSpec("B18", "中试车间", "Pilot Workshop", "industrial",
                 box(-290, -172, -230, -142), 2, 14.0, "storeys", ("N",), all_optical=False, lift_freight=1),
    BuildingSpec("B19", "危化品仓库", "Hazardous Materials Store", "warehouse",
                 box(-185, -165, -163, -151), 1, 6.0, "height", ("N",), riser_shaft=False, all_optical=False),
    BuildingSpec("B20", "智能装备厂房1号", "Smart Equipment Plant 1", "industrial",
                 box(-105, -55, -15, -18), 2, 15.0, "both", ("N", "S"), indoor_5g=True, lift_freight=1),
    BuildingSpec("B21", "精密加工厂房2号", "Precision Machining Plant 2", "industrial",
                 u_shape((5, -90, 85, -18), (25, -90, 65, -50)), 3, 18.0, "storeys", ("N", (45.0, -50.0, "S")),
                 indoor_5g=True, lift_passenger=1, lift_freight=1),
    BuildingSpec("B22", "精密制造车间", "Precision Manufacturing Workshop", "industrial",
                 box(-105, -160, -35, -124), 2, 16.0, "height_text_m", ("N", "S"), lift_freight=1),
    BuildingSpec("B23", "电子装配车间", "Electronics Assembly Workshop", "industrial",
                 l_shape((-15, -170, 85, -140), (55, -140, 85, -112)), 2, 12.5, "height_text",
                 ((20.0, -140.0, "N"),)),
    BuildingSpec("B24", "新能源电池Pack车间", "New-Energy Battery Pack Workshop", "industrial",
                 box(115, -72, 195, -30), 2, 15.5, "both", ("N", "S"), indoor_5g=True, lift_freight=1),
    BuildingSpec("B25", "智能传感器工厂", "Smart Sensor Factory", "industrial",
                 box(215, -72, 285, -30), 3, 19.0, "storeys", ("N", "S"), indoor_5g=True,
                 lift_passenger=1, lift_freight=1),
    BuildingSpec("B26", "智能仓储物流中心", "Smart Warehouse & Logistics Centre", "warehouse",
                 box(115, -168, 205, -124), 1, 18.0, "height_text_m", ("N", "S"), lift_freight=2),
    BuildingSpec("B27", "物流调度楼", "Logistics Dispatch Office", "office",
                 box(225, -150, 255, -134), 3, 12.0, "storeys", ("N",), lift_passenger=1),
    BuildingSpec("B28", "西门门卫室", "West Gate Guardhouse", "guardhouse",
                 box(-342, 10, -334, 15), 1, 4.2, "both", ("S",)),
    BuildingSpec("B29", "北门门卫室", "North Gate Guardhouse", "guardhouse",
                 box(-110, 204, -102, 209), 1, 4.2, "storeys", ("W",), riser_shaft=False, all_optical=False),
    BuildingSpec("B30", "南门门卫室", "South Gate Guardhouse", "guardhouse",
                 box(108, -209, 116, -204), 1, 4.2, "storeys", ("W",), riser_shaft=False, all_optical=False),
    BuildingSpec("B31", "东门门卫室", "East Gate Guardhouse", "guardhouse",
                 box(334, -15, 342, -10), 1, 4.2, "height", ("N",), riser_shaft=False),
]

SIDE_NORMALS = {"S": (0.0, -1.0), "N": (0.0, 1.0), "E": (1.0, 0.0), "W": (-1.0, 0.0)}


@dataclass(frozen=True)
class Door:
    """A building door on the facade: point, outward unit normal, facade tangent, facade length."""

    building: str
    door: tuple[float, float]
    normal: tuple[float, float]
    tangent: tuple[float, float]
    facade_len: float
    main: bool

    def outside(self, d: float, lateral: float = 0.0) -> tuple[float, float]:
        """Point d metres out from the door (negative d = inside), shifted along the facade."""
        return (
            self.door[0] + self.normal[0] * d + self.tangent[0] * lateral,
            self.door[1] + self.normal[1] * d + self.tangent[1] * lateral,
        )


def building_doors(spec: BuildingSpec) -> list[Door]:
    """Doors of a building: bbox-side midpoints snapped to the facade, or explicit door points."""
    u0, v0, u1, v1 = spec.shape.bounds
    doors: list[Door] = []
    for k, entry in enumerate(spec.entrances):
        if isinstance(entry, str):
            side = entry
            mid = {"S": ((u0 + u1) / 2, v0), "N": ((u0 + u1) / 2, v1),
                   "E": (u1, (v0 + v1) / 2), "W": (u0, (v0 + v1) / 2)}[side]
            snapped = nearest_points(spec.shape.exterior, Point(mid))[0]
            door = (snapped.x, snapped.y)
        else:
            door, side = (entry[0], entry[1]), entry[2]
        normal = SIDE_NORMALS[side]
        tangent = (-normal[1], normal[0])
        facade_len = (u1 - u0) if side in "NS" else (v1 - v0)
        doors.append(Door(spec.code, door, normal, tangent, facade_len, main=(k == 0)))
    return doors


def inside_point(shape: Polygon, candidate: tuple[float, float]) -> tuple[float, float]:
    """The candidate if it lies inside the footprint, else the nearest interior point."""
    if shape.buffer(-0.3).contains(Point(candidate)):
        return candidate
    inner = shape.buffer(-1.0)
    p = nearest_points(inner, Point(candidate))[0]
    return (p.x, p.y)


def height_props(spec: BuildingSpec) -> dict[str, Any]:
    """Building height fields in the mix the loader must parse (storeys, number, or text)."""
    h = spec.height_m
    return {
        "both": {"storeys": spec.storeys, "height": h},
        "storeys": {"storeys": spec.storeys},
        "height": {"height": h},
        "height_text_m": {"height": f"{h:g} m"},
        "height_text": {"height": f"{h:g}"},
    }[spec.height_mode]


# ---------------------------------------------------------------------------
# Storeys and rooms of the three detailed buildings
# ---------------------------------------------------------------------------

# (x0, y0, x1, y1) in metres from the footprint's south-west corner; use; name; name_en
Room = tuple[float, float, float, float, str, str, str]

B01_ROOMS: dict[int, list[Room]] = {
    1: [
        (23, 0.3, 37, 11.5, "lobby", "门厅", "Lobby"),
        (23, 11.5, 31, 19.7, "elevator_hall", "电梯厅", "Elevator hall"),
        (43, 11.5, 53, 19.7, "machine_room", "通信机房", "Telecom room"),
        (37, 0.3, 45, 8.5, "duty_room", "消防控制室", "Fire control room"),
        (0.3, 0.3, 23, 8.5, "service_hall", "企业服务大厅", "Enterprise service hall"),
        (0.3, 11.5, 12, 19.7, "meeting", "接待会议室", "Reception meeting room"),
        (12, 11.5, 23, 19.7, "office", "物业办公室", "Property management office"),
        (45, 0.3, 59.7, 8.5, "office", "安保办公室", "Security office"),
        (53, 11.5, 59.7, 19.7, "equipment", "配电间", "Electrical room"),
    ],
    2: [
        (23, 11.5, 31, 19.7, "elevator_hall", "电梯厅", "Elevator hall"),
        (22, 0.3, 37.2, 8.5, "monitoring_centre", "运营指挥中心", "Park operations & monitoring centre"),
        (37.2, 0.3, 43, 8.5, "equipment", "指挥中心设备间", "Monitoring centre equipment room"),
        (31, 11.5, 43, 19.7, "meeting", "会商室", "Consultation room"),
        (0.3, 0.3, 22, 8.5, "office", "运营部办公室", "Operations office"),
        (0.3, 11.5, 23, 19.7, "office", "信息化服务部", "IT services office"),
        (43, 0.3, 59.7, 8.5, "office", "招商部办公室", "Investment promotion office"),
        (43, 11.5, 59.7, 19.7, "office", "财务部办公室", "Finance office"),
    ],
}
_B01_UPPER: list[Room] = [
    (23, 11.5, 31, 19.7, "elevator_hall", "电梯厅", "Elevator hall"),
    (0.3, 0.3, 20, 8.5, "office", "办公室A", "Office A"),
    (20, 0.3, 40, 8.5, "office", "办公室B", "Office B"),
    (40, 0.3, 59.7, 8.5, "office", "办公室C", "Office C"),
    (0.3, 11.5, 23, 19.7, "office", "办公室D", "Office D"),
    (31, 11.5, 43, 19.7, "meeting", "会议室", "Meeting room"),
    (43, 11.5, 59.7, 19.7, "office", "办公室E", "Office E"),
]
for _level in (3, 4, 5):
    B01_ROOMS[_level] = _B01_UPPER

_B02_TYPICAL: list[Room] = [
    (14, 10, 26, 22, "elevator_hall", "电梯厅", "Elevator hall"),
    (0.3, 0.3, 39.7, 10, "office", "南侧办公区", "South open office"),
    (0.3, 22, 39.7, 31.7, "office", "北侧办公区", "North open office"),
    (0.3, 10, 14, 22, "office", "西侧办公室", "West office"),
    (26, 10, 39.7, 22, "meeting", "会议室", "Meeting room"),
]
B02_ROOMS: dict[int, list[Room]] = {
    1: [
        (26, 0.3, 39.7, 31.7, "lobby", "大堂", "Main lobby"),
        (14, 10, 26, 22, "elevator_hall", "电梯厅", "Elevator hall"),
        (0.3, 0.3, 10, 8, "machine_room", "弱电机房", "Low-voltage equipment room"),
        (0.3, 22, 14, 31.7, "retail", "便利店与咖啡吧", "Convenience store & café"),
        (0.3, 8, 14, 22, "meeting", "多功能厅", "Multi-function hall"),
        (10, 0.3, 26, 10, "office", "物业服务中心", "Property service centre"),
    ],
    **{level: _B02_TYPICAL for level in range(2, 21)},
}

B15_ROOMS: dict[int, list[Room]] = {
    1: [
        (19, 26, 31, 35.7, "lobby", "门厅", "Lobby"),
        (31, 26, 38, 35.7, "elevator_hall", "电梯厅", "Elevator hall"),
        (0.3, 0.3, 49.7, 24, "machine_room", "数据机房A", "Data hall A"),
        (38, 26, 49.7, 35.7, "equipment", "配电与UPS室", "Power & UPS room"),
        (0.3, 26, 19, 35.7, "duty_room", "运维值班室", "Operations duty room"),
    ],
    2: [
        (31, 26, 38, 35.7, "elevator_hall", "电梯厅", "Elevator hall"),
        (0.3, 0.3, 24.5, 24, "machine_room", "数据机房B", "Data hall B"),
        (25.5, 0.3, 49.7, 24, "machine_room", "数据机房C", "Data hall C"),
        (38, 26, 49.7, 35.7, "equipment", "电池室", "Battery room"),
        (0.3, 26, 31, 35.7, "office", "运维办公室", "Operations office"),
    ],
    3: [
        (31, 26, 38, 35.7, "elevator_hall", "电梯厅", "Elevator hall"),
        (0.3, 0.3, 24.5, 24, "machine_room", "网络核心机房", "Core network room"),
        (25.5, 0.3, 49.7, 24, "office", "网络运营中心", "Network operations centre"),
        (0.3, 26, 31, 35.7, "meeting", "会议室", "Meeting room"),
        (38, 26, 49.7, 35.7, "equipment", "空调机房", "HVAC plant room"),
    ],
}

# building → (storey heights bottom-up in metres, rooms per level)
DETAILED: dict[str, tuple[list[float], dict[int, list[Room]]]] = {
    "B01": ([4.5, 3.9, 3.9, 3.9, 3.9], B01_ROOMS),
    "B02": ([5.9] + [3.9] * 19, B02_ROOMS),
    "B15": ([6.0, 6.0, 6.0], B15_ROOMS),
}
PARTITION_HALF_M = 0.1  # half the partition thickness, so rooms never touch each other


# ---------------------------------------------------------------------------
# Parking
# ---------------------------------------------------------------------------

SPACE_W, SPACE_D, AISLE_W, ISLAND_W, LOT_MARGIN, ACCESS_W = 2.5, 5.3, 6.0, 1.0, 1.5, 6.0


@dataclass(frozen=True)
class LotSpec:
    code: str
    name: str
    name_en: str
    origin: tuple[float, float]  # south-west corner of the first space
    rows_along: str  # "u": spaces side by side along u; "v": along v
    per_row: int
    modules: int  # double rows (row, aisle, row)
    access_side: str  # side of the cross aisle: S/N/E/W
    ev_spaces: tuple[int, ...]


LOTS = [
    LotSpec("P1", "P1 行政区停车场", "P1 Administration car park", (-230, 26), "v", 12, 2, "S", (1, 2, 3, 4, 5, 6)),
    LotSpec("P2", "P2 数据中心停车场", "P2 Data Centre car park", (-288, -110), "u", 16, 1, "E", ()),
    LotSpec("P3", "P3 孵化区停车场", "P3 Incubator car park", (-45, 20), "u", 14, 1, "W", (1, 2, 3)),
    LotSpec("P4", "P4 生活区停车场", "P4 Living-quarter car park", (230, 68), "v", 10, 2, "S", (1, 2, 3, 4)),
    LotSpec("P5", "P5 厂房区停车场", "P5 Plant car park", (-103, -90), "u", 18, 1, "E", ()),
    LotSpec("P6", "P6 物流区停车场", "P6 Logistics car park", (272, -168), "v", 14, 1, "N", (1, 2)),
]
UNDERGROUND_ENTRANCE = (-135.0, 80.0)
BARRIER_LOTS = ("P1", "P4", "P6")  # surface lots with a barrier and an overview camera


def lot_spaces(lot: LotSpec) -> list[Polygon]:
    """Space rectangles of a lot (grid metres), numbered row by row."""
    spaces: list[Polygon] = []
    ou, ov = lot.origin
    for m in range(lot.modules):
        base = m * (2 * SPACE_D + AISLE_W + ISLAND_W)
        for row_off in (base, base + SPACE_D + AISLE_W):
            for i in range(lot.per_row):
                a, b = i * SPACE_W, row_off
                if lot.rows_along == "u":
                    spaces.append(box(ou + a, ov + b, ou + a + SPACE_W, ov + b + SPACE_D))
                else:
                    spaces.append(box(ou + b, ov + a, ou + b + SPACE_D, ov + a + SPACE_W))
    return spaces


def lot_polygon(lot: LotSpec, spaces: list[Polygon]) -> Polygon:
    """Lot outline: the spaces' extent plus a margin and a cross aisle on the access side."""
    u0, v0, u1, v1 = unary_union(spaces).bounds
    u0, v0, u1, v1 = u0 - LOT_MARGIN, v0 - LOT_MARGIN, u1 + LOT_MARGIN, v1 + LOT_MARGIN
    if lot.access_side == "S":
        v0 -= ACCESS_W
    elif lot.access_side == "N":
        v1 += ACCESS_W
    elif lot.access_side == "W":
        u0 -= ACCESS_W
    else:
        u1 += ACCESS_W
    return box(u0, v0, u1, v1)


def lot_entrance(lot_poly: Polygon, side: str) -> tuple[float, float]:
    """Midpoint of the lot's access-side edge (where a barrier would stand)."""
    u0, v0, u1, v1 = lot_poly.bounds
    return {"S": ((u0 + u1) / 2, v0), "N": ((u0 + u1) / 2, v1),
            "W": (u0, (v0 + v1) / 2), "E": (u1, (v0 + v1) / 2)}[side]


# ---------------------------------------------------------------------------
# Green, water, zones
# ---------------------------------------------------------------------------


def pond_polygon() -> Polygon:
    """An irregular oval pond (deterministic wobble)."""
    cu, cv, a, b = -10.0, 85.0, 32.0, 13.0
    pts = []
    for k in range(28):
        t = 2 * math.pi * k / 28
        wobble = 1.0 + 0.06 * math.sin(3 * t) + 0.04 * math.cos(5 * t)
        pts.append((round(cu + a * wobble * math.cos(t), 2), round(cv + b * wobble * math.sin(t), 2)))
    return Polygon(pts)


POND = pond_polygon()
CANAL = LineString([(POND.bounds[2] - 0.5, 85.0), (45.0, 92.0), (72.0, 100.0)])

GREENS: list[tuple[str, str, str, Polygon]] = [
    ("G01", "中央公园", "Central Park", box(-100, 50, 80, 118).difference(POND)),
    ("G02", "西侧绿化带（北）", "West green belt (north)", box(-345, 20, -325, 220)),
    ("G03", "西侧绿化带（南）", "West green belt (south)", box(-345, -220, -325, -12)),
    ("G04", "北侧绿化带（西）", "North green belt (west)", box(-325, 200, -128, 220)),
    ("G05", "北侧绿化带（东）", "North green belt (east)", box(-96, 200, 290, 220)),
    ("G06", "东侧绿化带（北）", "East green belt (north)", box(325, 12, 345, 178)),
    ("G07", "东侧绿化带（南）", "East green belt (south)", box(325, -220, 345, -22)),
    ("G08", "南侧绿化带（西）", "South green belt (west)", box(-325, -220, 92, -200)),
    ("G09", "南侧绿化带（东）", "South green belt (east)", box(124, -220, 325, -200)),
    ("G10", "行政楼北侧绿地", "Green north of the Administration Building", box(-298, 55, -240, 98)),
    ("G11", "研发区口袋公园", "R&D pocket park", box(-40, 138, 8, 174)),
    ("G12", "运动草坪", "Sports lawn", box(232, 110, 300, 174)),
    ("G13", "公寓庭院（南）", "Apartment courtyard (south)", box(118, 78, 198, 90)),
    ("G14", "公寓庭院（北）", "Apartment courtyard (north)", box(118, 116, 198, 128)),
    ("G15", "泵房旁绿地", "Green by the pump house", box(-157, -115, -130, -68)),
]

ZONES: list[tuple[str, str, str, str, Polygon]] = [
    ("Z-office", "办公研发区", "Office & R&D zone", "office", BOUNDARY.intersection(box(-350, 0, 100, 225))),
    ("Z-production", "生产制造区", "Production zone", "production", BOUNDARY.intersection(box(-350, -225, 350, 0))),
    ("Z-living", "生活配套区", "Living zone", "living", BOUNDARY.intersection(box(100, 0, 350, 225))),
]
GEOFENCE = box(-296, -76, -194, -28)  # data centre + substation yard


# ---------------------------------------------------------------------------
# Enterprises (invented names)
# ---------------------------------------------------------------------------

# id, name, name_en, building, industry, employees, uses_cloud, cloud_star, lianghua, digital_ws, smart_factory, ftd
ENTERPRISES: list[tuple[str, str, str, str, str, int, bool, int, bool, bool, bool, bool]] = [
    ("E01", "成都芯澜微电子有限公司", "Chengdu Xinlan Microelectronics Co., Ltd.", "B02", "集成电路设计", 320, True, 4, False, False, False, False),
    ("E02", "成都数衡智能科技有限公司", "Chengdu Shuheng Intelligent Technology Co., Ltd.", "B02", "工业软件", 210, True, 5, True, False, False, False),
    ("E03", "四川锦程工业软件有限公司", "Sichuan Jincheng Industrial Software Co., Ltd.", "B02", "工业软件", 180, True, 3, False, False, False, False),
    ("E04", "成都蓉岫信息技术有限公司", "Chengdu Rongxiu Information Technology Co., Ltd.", "B02", "信息技术服务", 95, False, 0, False, False, False, False),
    ("E05", "成都翎图空间信息有限公司", "Chengdu Lingtu Geo-information Co., Ltd.", "B02", "地理信息", 60, False, 0, False, False, False, False),
    ("E06", "成都溪石网络安全技术有限公司", "Chengdu Xishi Cybersecurity Technology Co., Ltd.", "B02", "网络安全", 140, True, 3, False, False, False, False),
    ("E07", "成都衡川医疗软件有限公司", "Chengdu Hengchuan Medical Software Co., Ltd.", "B02", "医疗器械软件", 45, False, 0, False, False, False, False),
    ("E08", "成都知渠人工智能科技有限公司", "Chengdu Zhiqu Artificial Intelligence Co., Ltd.", "B02", "人工智能", 75, False, 0, False, False, False, True),
    ("E09", "成都砚溪工业互联网有限公司", "Chengdu Yanxi Industrial Internet Co., Ltd.", "B02", "工业互联网平台", 130, True, 0, False, False, False, False),
    ("E10", "四川岷峰航空电子有限公司", "Sichuan Minfeng Avionics Co., Ltd.", "B02", "航空电子", 160, False, 0, True, False, False, False),
    ("E11", "成都青衍新材料研究院有限公司", "Chengdu Qingyan New Materials Institute Co., Ltd.", "B03", "新材料研发", 88, False, 0, False, False, False, False),
    ("E12", "成都镜湖光电技术有限公司", "Chengdu Jinghu Optoelectronics Co., Ltd.", "B03", "光电子", 120, False, 0, False, False, False, False),
    ("E13", "成都阑珊智能装备研究所有限公司", "Chengdu Lanshan Smart Equipment Research Co., Ltd.", "B03", "智能装备研发", 52, False, 0, False, False, False, False),
    ("E14", "成都拾光视觉科技有限公司", "Chengdu Shiguang Machine Vision Co., Ltd.", "B05", "机器视觉", 18, False, 0, False, False, False, False),
    ("E15", "成都禾屿物联科技有限公司", "Chengdu Heyu IoT Technology Co., Ltd.", "B05", "物联网", 16, False, 0, False, False, False, False),
    ("E16", "成都微澜机器人科技有限公司", "Chengdu Weilan Robotics Co., Ltd.", "B05", "机器人", 25, False, 0, False, False, False, False),
    ("E17", "成都声屿声学科技有限公司", "Chengdu Shengyu Acoustics Co., Ltd.", "B05", "声学器件", 12, False, 0, False, False, False, False),
    ("E18", "成都栈桥数据科技有限公司", "Chengdu Zhanqiao Data Technology Co., Ltd.", "B05", "大数据服务", 15, False, 0, False, False, False, False),
    ("E19", "成都雁阵无人机科技有限公司", "Chengdu Yanzhen UAV Technology Co., Ltd.", "B06", "无人机", 40, False, 0, False, False, False, False),
    ("E20", "成都澄江储能技术有限公司", "Chengdu Chengjiang Energy Storage Co., Ltd.", "B06", "储能", 35, False, 0, False, False, False, False),
    ("E21", "成都若木生物医疗器械有限公司", "Chengdu Ruomu Biomedical Devices Co., Ltd.", "B06", "医疗器械", 28, False, 0, False, False, False, False),
    ("E22", "成都鹭洲传感技术有限公司", "Chengdu Luzhou Sensing Technology Co., Ltd.", "B06", "传感器", 22, False, 0, False, False, False, False),
    ("E23", "成都沐川智造咨询有限公司", "Chengdu Muchuan Manufacturing Consulting Co., Ltd.", "B06", "智能制造咨询", 10, False, 0, False, False, False, False),
    ("E24", "四川峨岭智能控制技术有限公司", "Sichuan Eling Intelligent Control Co., Ltd.", "B07", "工业控制", 150, False, 0, True, False, False, False),
    ("E25", "成都蜀衡精密测量技术有限公司", "Chengdu Shuheng Precision Metrology Co., Ltd.", "B07", "精密测量", 70, False, 0, False, False, False, False),
    ("E26", "成都天府智造产业技术研究院有限公司", "Chengdu Tianfu Smart Manufacturing Industrial Technology Institute Co., Ltd.", "B08", "产业技术研究院", 90, False, 0, False, False, False, True),
    ("E27", "成都鸿渐半导体装备有限公司", "Chengdu Hongjian Semiconductor Equipment Co., Ltd.", "B08", "半导体装备", 210, True, 3, True, False, False, False),
    ("E28", "成都岚山汽车电子有限公司", "Chengdu Lanshan Automotive Electronics Co., Ltd.", "B08", "汽车电子", 180, False, 0, False, False, False, False),
    ("E29", "成都北纬三十度软件有限公司", "Chengdu 30°N Software Co., Ltd.", "B09", "软件开发", 85, False, 0, False, False, False, False),
    ("E30", "成都可塑工业设计有限公司", "Chengdu Kesu Industrial Design Co., Ltd.", "B09", "工业设计", 40, False, 0, False, False, False, False),
    ("E31", "成都柒号云计算服务有限公司", "Chengdu Qihao Cloud Computing Services Co., Ltd.", "B09", "云计算服务", 60, True, 2, False, False, False, False),
    ("E32", "成都天府算力数据服务有限公司", "Chengdu Tianfu Computing Data Services Co., Ltd.", "B15", "数据中心运营", 45, True, 0, False, False, False, False),
    ("E33", "成都新锐中试技术服务有限公司", "Chengdu Xinrui Pilot Production Services Co., Ltd.", "B18", "中试服务", 65, False, 0, False, False, False, False),
    ("E34", "成都精工智能装备制造有限公司", "Chengdu Jinggong Smart Equipment Manufacturing Co., Ltd.", "B20", "智能装备制造", 420, False, 0, True, True, False, False),
    ("E35", "成都铂锐精密机械有限公司", "Chengdu Borui Precision Machinery Co., Ltd.", "B21", "精密机械加工", 380, False, 0, True, False, True, False),
    ("E36", "成都晶研精密制造有限公司", "Chengdu Jingyan Precision Manufacturing Co., Ltd.", "B22", "精密制造", 260, False, 0, False, True, False, False),
    ("E37", "成都迅联电子装配有限公司", "Chengdu Xunlian Electronics Assembly Co., Ltd.", "B23", "电子装配", 540, False, 0, False, False, False, False),
    ("E38", "成都澜能新能源科技有限公司", "Chengdu Lanneng New Energy Technology Co., Ltd.", "B24", "动力电池Pack", 600, False, 0, False, False, False, False),
    ("E39", "成都感微传感器有限公司", "Chengdu Ganwei Sensors Co., Ltd.", "B25", "传感器制造", 310, False, 0, False, False, False, False),
    ("E40", "成都畅岭智慧物流有限公司", "Chengdu Changling Smart Logistics Co., Ltd.", "B26", "智慧物流", 150, False, 0, False, False, False, False),
]
ENTERPRISE_HEADER = ["id", "name", "name_en", "building", "industry", "employees", "uses_cloud", "cloud_star",
                     "lianghua_certified", "digital_workshop", "smart_factory", "fiber_to_desk"]


# ---------------------------------------------------------------------------
# The park model
# ---------------------------------------------------------------------------


@dataclass
class Park:
    """All features and assets of the demo park, in grid metres until written."""

    features: list[Feature] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    doors: dict[str, list[Door]] = field(default_factory=dict)
    shapes: dict[str, Polygon] = field(default_factory=dict)  # building code → footprint
    storey_base: dict[str, float] = field(default_factory=dict)  # storey/space id → base height
    noded_roads: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    road_specs: dict[str, tuple[str, str, float, str, bool]] = field(default_factory=dict)
    nodes: list[tuple[tuple[float, float], list[str]]] = field(default_factory=list)
    _counters: Counter[str] = field(default_factory=Counter)

    def by_id(self, fid: str) -> Feature:
        for f in self.features:
            if f.id == fid:
                return f
        raise KeyError(fid)

    def of_kind(self, kind: str) -> list[Feature]:
        return [f for f in self.features if f.kind == kind]

    def next_id(self, prefix: str, width: int = 3) -> str:
        self._counters[prefix] += 1
        return f"{prefix}-{self._counters[prefix]:0{width}d}"

    def add_asset(self, prefix: str, kind: str, name: str, name_en: str, uv: tuple[float, float],
                  z: float, feature: str, **props: Any) -> Asset:
        asset = Asset(self.next_id(prefix), kind, name, name_en, (float(uv[0]), float(uv[1])), r2(z), feature, props)
        self.assets.append(asset)
        return asset


def build_roads(park: Park) -> None:
    """Roads as noded LineStrings and the junction list."""
    park.noded_roads = node_roads({r[0]: r[3] for r in ROADS})
    for rid, name, name_en, _coords, width, klass, conduit in ROADS:
        park.road_specs[rid] = (name, name_en, width, klass, conduit)
        park.features.append(Feature("roads", LineString(park.noded_roads[rid]), {
            "id": rid, "kind": "road", "name": name, "name_en": name_en,
            "width_m": width, "road_class": klass, "telecom_conduit": conduit,
            "length_m": r2(LineString(park.noded_roads[rid]).length),
        }))
    park.nodes = junctions(park.noded_roads)


def build_buildings(park: Park) -> None:
    """Building footprints with height fields and telecom flags; doors for later placement."""
    tenants = Counter(e[3] for e in ENTERPRISES)
    for spec in BUILDINGS:
        park.shapes[spec.code] = spec.shape
        park.doors[spec.code] = building_doors(spec)
        props: dict[str, Any] = {
            "id": spec.code, "kind": "building", "name": spec.name, "name_en": spec.name_en,
            "use": spec.use, "base_height": 0.0, **height_props(spec),
            "riser_shaft": spec.riser_shaft, "all_optical": spec.all_optical,
            "fiber_to_desk": spec.fiber_to_desk, "indoor_5g": spec.indoor_5g,
            "enterprise_count": tenants.get(spec.code, 0),
            "footprint_m2": r2(spec.shape.area),
        }
        park.features.append(Feature("buildings", spec.shape, props))


def build_storeys_and_spaces(park: Park) -> None:
    """Storeys (footprint, base/top) and rooms for the admin building, the tower and the data centre."""
    specs = {b.code: b for b in BUILDINGS}
    for code, (heights, rooms) in DETAILED.items():
        spec = specs[code]
        u0, v0, _, _ = spec.shape.bounds
        base = 0.0
        for level, h in enumerate(heights, start=1):
            sid = f"{code}-F{level:02d}"
            top = base + h
            park.storey_base[sid] = base
            park.features.append(Feature("storeys", spec.shape, {
                "id": sid, "kind": "storey", "name": f"{spec.name} {level}F", "name_en": f"{spec.name_en} floor {level}",
                "parent": code, "level": level, "base_height": r2(base), "height": r2(top),
            }))
            for k, (x0, y0, x1, y1, use, name, name_en) in enumerate(rooms[level], start=1):
                rid = f"{sid}-R{k:02d}"
                geom = box(u0 + x0 + PARTITION_HALF_M, v0 + y0 + PARTITION_HALF_M,
                           u0 + x1 - PARTITION_HALF_M, v0 + y1 - PARTITION_HALF_M)
                park.storey_base[rid] = base
                park.features.append(Feature("spaces", geom, {
                    "id": rid, "kind": "space", "name": f"{level}F {name}", "name_en": f"Floor {level} {name_en}",
                    "parent": sid, "use": use, "area_m2": round(geom.area, 1),
                    "base_height": r2(base), "height": r2(top),
                }))
            base = top
        building = park.by_id(code)
        assert abs(base - spec.height_m) < 0.05, f"{code}: storeys sum to {base}, height {spec.height_m}"
        building.props.setdefault("storeys", len(heights))


def build_parking(park: Park) -> dict[str, Polygon]:
    """Surface lots with numbered spaces, and the tower's underground garage entrance."""
    lot_polys: dict[str, Polygon] = {}
    for lot in LOTS:
        spaces = lot_spaces(lot)
        poly = lot_polygon(lot, spaces)
        lot_polys[lot.code] = poly
        park.features.append(Feature("parking", poly, {
            "id": lot.code, "kind": "parking_lot", "name": lot.name, "name_en": lot.name_en,
            "lot_type": "surface", "capacity": len(spaces), "ev_spaces": len(lot.ev_spaces),
        }))
        for n, geom in enumerate(spaces, start=1):
            park.features.append(Feature("parking", geom, {
                "id": f"{lot.code}-S{n:03d}", "kind": "parking_space",
                "name": f"{lot.code}停车场 {n:03d}号车位", "name_en": f"{lot.code} space {n:03d}",
                "parent": lot.code, "number": n, "ev_charger": n in lot.ev_spaces,
            }))
    park.features.append(Feature("parking", Point(UNDERGROUND_ENTRANCE), {
        "id": "P7", "kind": "parking_lot", "name": "天府智造大厦地下车库入口", "name_en": "Tianfu Zhizao Tower underground garage entrance",
        "lot_type": "underground_entrance", "building": "B02", "capacity": 160, "spaces_mapped": False,
    }))
    return lot_polys


def build_green_water_zones(park: Park) -> None:
    """Green areas, the pond and canal, functional zones, the geofence and the park boundary."""
    for gid, name, name_en, geom in GREENS:
        park.features.append(Feature("green", geom, {"id": gid, "kind": "green", "name": name, "name_en": name_en,
                                                     "area_m2": round(geom.area, 1)}))
    park.features.append(Feature("water", POND, {"id": "W01", "kind": "water", "name": "镜湖", "name_en": "Mirror Pond",
                                                 "water_type": "pond", "area_m2": round(POND.area, 1)}))
    park.features.append(Feature("water", CANAL, {"id": "W02", "kind": "water", "name": "镜湖引水渠", "name_en": "Mirror Pond canal",
                                                  "water_type": "canal", "width_m": 2.0}))
    for zid, name, name_en, ztype, geom in ZONES:
        park.features.append(Feature("zones", geom, {"id": zid, "kind": "zone", "name": name, "name_en": name_en,
                                                     "zone_type": ztype, "area_m2": round(geom.area, 1)}))
    park.features.append(Feature("zones", GEOFENCE, {
        "id": "GF-01", "kind": "geofence", "name": "贵重资产区", "name_en": "Valuable assets area",
        "geofence_type": "valuable_assets", "alarms": ["leave_zone", "tag_detached", "signal_lost", "intrusion"],
    }))
    park.features.append(Feature("zones", BOUNDARY, {
        "id": "BND-01", "kind": "park_boundary", "name": "园区红线（围墙）", "name_en": "Park boundary (fence)",
        "fence_type": "steel_palisade", "fence_height_m": 2.4, "area_m2": round(BOUNDARY.area, 1),
    }))


# ---------------------------------------------------------------------------
# Key locations
# ---------------------------------------------------------------------------


def space_of(park: Park, building: str, level: int, use: str, nth: int = 0) -> Feature:
    """The nth space with a given use on a storey of a detailed building."""
    sid = f"{building}-F{level:02d}"
    found = [f for f in park.of_kind("space") if f.props["parent"] == sid and f.props["use"] == use]
    return found[nth]


def add_key_location(park: Park, category: str, uv: tuple[float, float], name: str, name_en: str,
                     parent: str | None = None, base: float = 0.0, **extra: Any) -> Feature:
    props: dict[str, Any] = {"id": park.next_id("KL"), "kind": "key_location", "name": name, "name_en": name_en,
                             "category": category}
    if parent:
        props["parent"] = parent
    props["base_height"] = r2(base)
    props.update(extra)
    f = Feature("key-locations", Point(uv), props)
    park.features.append(f)
    return f


INDOOR_CATEGORIES = {"lobby", "elevator", "machine_room", "canteen"}
LOBBY_BUILDINGS = ["B03", "B05", "B06", "B07", "B08", "B09", "B11", "B12", "B13", "B14", "B27"]
ELEVATOR_BUILDINGS = ["B03", "B05", "B06", "B07", "B08", "B09", "B11", "B12", "B13"]


def build_key_locations(park: Park) -> None:
    """Gates, road junctions, building entrances, fire-lane points and indoor key places."""
    specs = {b.code: b for b in BUILDINGS}
    for code, name, name_en, pt, _inward, role in GATES:
        add_key_location(park, "park_entrance", pt, name, name_en, gate=code, gate_role=role)
    for pt, rids in park.nodes:
        names = [park.road_specs[r][0] for r in rids]
        names_en = [park.road_specs[r][1] for r in rids]
        add_key_location(park, "road_intersection", pt, "与".join(names) + "交叉口",
                         " / ".join(names_en) + " junction", roads=rids)
    for spec in BUILDINGS:
        for door in park.doors[spec.code]:
            label, label_en = ("主入口", "main entrance") if door.main else ("次入口", "side entrance")
            add_key_location(park, "building_entrance", door.outside(1.5), f"{spec.name}{label}",
                             f"{spec.name_en} {label_en}", parent=spec.code, main=door.main)
    node_pts = [Point(pt) for pt, _ in park.nodes]
    for rid, name, name_en, _c, _w, klass, _t in ROADS:
        if klass != "fire_lane":
            continue
        line = LineString(park.noded_roads[rid])
        for chainage in np.arange(20.0, line.length, 40.0):
            p = line.interpolate(float(chainage))
            if min(p.distance(n) for n in node_pts) < 12.0:
                continue
            add_key_location(park, "fire_lane", (p.x, p.y), f"{name} {int(chainage)}米处",
                             f"{name_en} at {int(chainage)} m", road=rid)
    # indoor places of the detailed buildings (at the room centroid, on its floor)
    indoor = [("lobby", "B01", 1, "lobby", 0), ("elevator", "B01", 1, "elevator_hall", 0),
              ("machine_room", "B01", 1, "machine_room", 0),
              ("lobby", "B02", 1, "lobby", 0), ("elevator", "B02", 1, "elevator_hall", 0),
              ("machine_room", "B02", 1, "machine_room", 0),
              ("lobby", "B15", 1, "lobby", 0), ("elevator", "B15", 1, "elevator_hall", 0),
              ("machine_room", "B15", 1, "machine_room", 0), ("machine_room", "B15", 2, "machine_room", 0)]
    for category, code, level, use, nth in indoor:
        room = space_of(park, code, level, use, nth)
        c = room.geom.centroid
        add_key_location(park, category, (c.x, c.y), f"{specs[code].name}{room.props['name']}",
                         f"{specs[code].name_en} {room.props['name_en']}", parent=code,
                         base=park.storey_base[room.id], storey=room.props["parent"], space=room.id)
    # indoor places of the other buildings (positions derived from the main door)
    for code in LOBBY_BUILDINGS:
        door = park.doors[code][0]
        uv = inside_point(park.shapes[code], door.outside(-6.0))
        add_key_location(park, "lobby", uv, f"{specs[code].name}门厅", f"{specs[code].name_en} lobby", parent=code)
    for code in ELEVATOR_BUILDINGS:
        door = park.doors[code][0]
        uv = inside_point(park.shapes[code], door.outside(-12.0, 4.0))
        add_key_location(park, "elevator", uv, f"{specs[code].name}电梯厅", f"{specs[code].name_en} elevator hall",
                         parent=code)
    sub = park.shapes["B16"].centroid
    add_key_location(park, "machine_room", (sub.x, sub.y), "园区变电站开关室", "Park Substation switch room", parent="B16")
    canteen = park.shapes["B10"].centroid
    add_key_location(park, "canteen", (canteen.x - 10, canteen.y), "员工餐厅一层餐厅", "Staff Canteen ground-floor dining hall",
                     parent="B10")
    add_key_location(park, "canteen", (canteen.x + 10, canteen.y), "员工餐厅二层餐厅", "Staff Canteen first-floor dining hall",
                     parent="B10", base=5.0)


# ---------------------------------------------------------------------------
# Cameras and coverage
# ---------------------------------------------------------------------------


def camera_covers(cam: Asset, pt: tuple[float, float]) -> bool:
    """True if a point lies in the camera's horizontal field of view (sector, range_m)."""
    du, dv = pt[0] - cam.uv[0], pt[1] - cam.uv[1]
    dist = math.hypot(du, dv)
    if dist > cam.props["range_m"] or dist < 0.5:
        return False
    diff = (FRAME.bearing_deg(du, dv) - cam.props["heading_deg"] + 540.0) % 360.0 - 180.0
    return abs(diff) <= cam.props["fov_deg"] / 2.0


def obstacles(park: Park, lot_polys: dict[str, Polygon]) -> BaseGeometry:
    """Everything an outdoor pole must not stand in: buildings, lots, the pond, road carriageways."""
    parts: list[BaseGeometry] = [s.buffer(0.5) for s in park.shapes.values()]
    parts += list(lot_polys.values()) + [POND]
    for rid, (_n, _ne, width, _k, _t) in park.road_specs.items():
        parts.append(LineString(park.noded_roads[rid]).buffer(width / 2.0, cap_style="flat"))
    return unary_union(parts)


def free_spot(blocked: BaseGeometry, candidates: list[tuple[float, float]]) -> tuple[float, float]:
    """First candidate point that is inside the park and not blocked."""
    inner = BOUNDARY.buffer(-1.0)
    for c in candidates:
        p = Point(c)
        if inner.contains(p) and not blocked.contains(p):
            return c
    raise RuntimeError(f"no free spot among {candidates}")


# key locations deliberately left without a camera (so coverage has a gap)
UNWATCHED = {
    ("building_entrance", "B17", True), ("building_entrance", "B20", False), ("building_entrance", "B22", False),
    ("building_entrance", "B24", False), ("building_entrance", "B26", False), ("building_entrance", "B30", True),
    ("elevator", "B11", None), ("elevator", "B12", None), ("elevator", "B13", None), ("lobby", "B14", None),
    ("lobby", "B27", None),
}


def is_unwatched(kl: Feature, fire_index: int) -> bool:
    """Deterministic choice of key locations that get no camera of their own."""
    cat = kl.props["category"]
    if cat == "fire_lane":
        return fire_index % 3 == 2
    if cat == "road_intersection":
        return set(kl.props["roads"]) in ({"R-ring-1", "R-fire-2"}, {"R-sec-2", "R-fire-4"})
    key = (cat, kl.props.get("parent"), kl.props.get("main") if cat == "building_entrance" else None)
    return key in UNWATCHED


def place_cameras(park: Park, blocked: BaseGeometry) -> None:
    """Cameras aimed at key locations (greedy), then perimeter and car-park cameras."""
    cams: list[Asset] = []
    main_roads = {rid for rid, s in park.road_specs.items() if s[3] == "main"}
    fire_index = 0

    def add(uv: tuple[float, float], target: tuple[float, float], name: str, name_en: str, *, z: float,
            fov: float, rng: float, res: str, ptz: bool, feature: str, retention: int = 30,
            base: float = 0.0, **extra: Any) -> Asset:
        heading = FRAME.bearing_deg(target[0] - uv[0], target[1] - uv[1])
        cam = park.add_asset("CAM", "camera", name, name_en, uv, base + z, feature,
                             heading_deg=heading, fov_deg=fov, range_m=rng, resolution=res,
                             hd=res != "720p", ptz=ptz, retention_days=retention, mount_height_m=z, **extra)
        cams.append(cam)
        return cam

    for kl in park.of_kind("key_location"):
        cat = kl.props["category"]
        pt = (kl.geom.x, kl.geom.y)
        unwatched = is_unwatched(kl, fire_index)
        if cat == "fire_lane":
            fire_index += 1
        if unwatched or any(camera_covers(c, pt) for c in cams):
            continue
        name, name_en = f"{kl.props['name']}摄像机", f"{kl.props['name_en']} camera"
        if cat == "park_entrance":
            gate = next(g for g in GATES if g[0] == kl.props["gate"])
            iu, iv = gate[4]
            cands = [(pt[0] + iu * 18 + iv * 10 * s, pt[1] + iv * 18 + iu * 10 * s) for s in (1, -1)]
            uv = free_spot(blocked, cands)
            res = "4K" if gate[5] == "main" else "1080p"
            add(uv, pt, name, name_en, z=6.0, fov=70.0, rng=50.0, res=res, ptz=False, feature=PARK_SLUG, retention=90)
        elif cat == "road_intersection":
            cands = [(pt[0] + su * 9, pt[1] + sv * 9) for su, sv in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
            uv = free_spot(blocked, cands)
            on_main = bool(main_roads & set(kl.props["roads"]))
            add(uv, pt, name, name_en, z=6.0, fov=90.0, rng=60.0, res="1080p", ptz=on_main, feature=PARK_SLUG)
        elif cat == "fire_lane":
            line = LineString(park.noded_roads[kl.props["road"]])
            d = line.project(kl.geom)
            a, b = line.interpolate(max(d - 1, 0)), line.interpolate(min(d + 1, line.length))
            tu, tv = (b.x - a.x) / math.hypot(b.x - a.x, b.y - a.y), (b.y - a.y) / math.hypot(b.x - a.x, b.y - a.y)
            cands = [(pt[0] - tu * 12 + tv * s * 5, pt[1] - tv * 12 - tu * s * 5) for s in (1, -1)]
            uv = free_spot(blocked, cands)
            res = "720p" if fire_index % 4 == 1 else "1080p"
            add(uv, pt, name, name_en, z=5.0, fov=60.0, rng=50.0, res=res, ptz=False, feature=PARK_SLUG,
                retention=15 if res == "720p" else 30)
        elif cat == "building_entrance":
            door = next(d for d in park.doors[kl.props["parent"]] if d.outside(1.5) == pt)
            lateral = min(5.0, door.facade_len / 2.0 - 0.5)
            uv = door.outside(0.3, lateral)
            critical = kl.props["parent"] in ("B15", "B16", "B19")
            res = "4K" if critical else ("720p" if kl.props["parent"] in ("B18", "B23") else "1080p")
            add(uv, pt, name, name_en, z=3.5, fov=90.0, rng=25.0, res=res, ptz=False, feature=kl.props["parent"],
                retention=90 if critical else 30)
        else:  # indoor: lobby, elevator, machine_room, canteen
            base = float(kl.props.get("base_height", 0.0))
            if "space" in kl.props:
                room = park.by_id(kl.props["space"])
                x0, y0, _, _ = room.geom.bounds
                uv = (x0 + 0.5, y0 + 0.5)
                feature = room.id
            else:
                code = kl.props["parent"]
                door = park.doors[code][0]
                uv = inside_point(park.shapes[code], (pt[0] - door.normal[0] * 4 + door.tangent[0] * 3,
                                                      pt[1] - door.normal[1] * 4 + door.tangent[1] * 3))
                feature = code
            # range reaches the room centre even in the large data halls
            rng = max(40.0 if cat in ("lobby", "canteen") else 20.0, math.ceil(math.dist(uv, pt) + 5.0))
            res = "4K" if cat == "machine_room" else "1080p"
            add(uv, pt, name, name_en, z=2.8, fov=90.0, rng=rng, res=res, ptz=False, feature=feature,
                retention=90 if cat == "machine_room" else 30, base=base)

    # perimeter cameras at fence corners and mid-sides, looking along the fence
    corners = list(BOUNDARY.exterior.coords)[:-1]
    for k, (cu, cv) in enumerate(corners):
        nu, nv = corners[(k + 1) % len(corners)]
        length = math.hypot(nu - cu, nv - cv)
        tu, tv = (nu - cu) / length, (nv - cv) / length
        for frac in (0.0, 0.5):
            start = (cu + tu * length * frac, cv + tv * length * frac)
            if frac == 0.5 and length < 600:
                continue
            inward = (-tv, tu)  # boundary is CCW in grid coords, so left is inside
            uv = (start[0] + inward[0] * 3 + tu * 3, start[1] + inward[1] * 3 + tv * 3)
            target = (start[0] + tu * 60, start[1] + tv * 60)
            res = "720p" if k == 2 and frac == 0.5 else "1080p"
            add(uv, target, f"周界摄像机{len(cams) + 1:03d}", f"Perimeter camera {len(cams) + 1:03d}", z=4.5,
                fov=40.0, rng=120.0, res=res, ptz=False, feature=PARK_SLUG, retention=15 if res == "720p" else 30)
    # an overview camera over each barrier-controlled car park, at the access aisle
    for lot in park.of_kind("parking_lot"):
        if lot.id not in BARRIER_LOTS:
            continue
        spec = next(s for s in LOTS if s.code == lot.id)
        gate = lot_entrance(lot.geom, spec.access_side)
        c = lot.geom.centroid
        uv = (gate[0] + (c.x - gate[0]) * 0.1, gate[1] + (c.y - gate[1]) * 0.1)
        add(uv, (c.x, c.y), f"{lot.props['name']}全景摄像机", f"{lot.props['name_en']} overview camera", z=6.0,
            fov=100.0, rng=60.0, res="1080p", ptz=True, feature=PARK_SLUG, parking_lot=lot.id)


def coverage(park: Park) -> tuple[int, int, list[str]]:
    """Key locations inside some camera's field of view: (covered, total, ids not covered)."""
    cams = [a for a in park.assets if a.kind == "camera"]
    kls = park.of_kind("key_location")
    missing = [k.id for k in kls if not any(camera_covers(c, (k.geom.x, k.geom.y)) for c in cams)]
    return len(kls) - len(missing), len(kls), missing


# ---------------------------------------------------------------------------
# Other devices
# ---------------------------------------------------------------------------


def along(line: LineString, start: float, step: float, offset: float, skip: list[Point], skip_r: float
          ) -> list[tuple[float, float, float]]:
    """Points every `step` m along a line, offset to its left (+) or right (−); (u, v, chainage)."""
    out = []
    for d in np.arange(start, line.length - 5.0, step):
        p = line.interpolate(float(d))
        if any(p.distance(s) < skip_r for s in skip):
            continue
        a, b = line.interpolate(max(float(d) - 1, 0)), line.interpolate(min(float(d) + 1, line.length))
        n = math.hypot(b.x - a.x, b.y - a.y)
        tu, tv = (b.x - a.x) / n, (b.y - a.y) / n
        out.append((p.x - tv * offset, p.y + tu * offset, float(d)))
    return out


def place_road_devices(park: Park, blocked: BaseGeometry) -> None:
    """Street lamps, smart poles on the avenue, hydrants, broadcast speakers along roads."""
    skip = [Point(pt) for pt, _ in park.nodes] + [Point(g[3]) for g in GATES]
    pole_functions = [
        ["lighting", "camera", "broadcast", "data_collection"],
        ["lighting", "base_station", "display"],
        ["lighting", "broadcast", "data_collection"],
        ["lighting", "base_station", "data_collection", "ev_charging"],
    ]
    smart_lamp_roads = {"R-ring-1", "R-ring-4", "R-sec-1", "R-sec-3", "R-sec-2"}
    inner = BOUNDARY.buffer(-1.0)
    for rid, (name, name_en, width, klass, _t) in park.road_specs.items():
        line = LineString(park.noded_roads[rid])
        if rid == "R-main-1":
            for k, (u, v, d) in enumerate(along(line, 50.0, 36.0, width / 2 + 2.0, skip, 12.0)):
                funcs = pole_functions[k % len(pole_functions)]
                park.add_asset("SP", "smart_pole", f"{name}智慧灯杆{k + 1:02d}", f"{name_en} smart pole {k + 1:02d}",
                               (u, v), 10.0, PARK_SLUG, functions=funcs, power_w=150, height_m=10.0)
        elif klass != "fire_lane":
            for u, v, d in along(line, 20.0, 40.0, width / 2 + 1.5, skip, 10.0):
                if not inner.contains(Point(u, v)) or blocked.contains(Point(u, v)):
                    continue
                smart = rid in smart_lamp_roads
                park.add_asset("LMP", "street_lamp", f"{name}路灯{int(d):03d}", f"{name_en} street lamp at {int(d)} m",
                               (u, v), 10.0 if klass == "main" else 8.0, PARK_SLUG, smart=smart,
                               power_w=120 if klass == "main" else 90, lamp_type="LED",
                               fiware_type="Streetlight")
        step = 60.0 if klass == "fire_lane" else 120.0
        for u, v, d in along(line, 30.0, step, -(width / 2 + 1.0), skip, 10.0):
            if not inner.contains(Point(u, v)) or blocked.contains(Point(u, v)):
                continue
            park.add_asset("FE-HYD", "fire_equipment", f"{name}室外消火栓{int(d):03d}", f"{name_en} hydrant at {int(d)} m",
                           (u, v), 0.8, PARK_SLUG, subtype="hydrant")
    speaker_spots = [((-200, 9), "智造大道西段"), ((-40, 9), "智造大道中段"), ((160, 9), "智造大道东段"),
                     ((-60, 60), "中央公园西"), ((40, 60), "中央公园东"), ((150, 82), "公寓庭院南"),
                     ((150, 122), "公寓庭院北"), ((-60, -105), "1号消防车道西"), ((50, -105), "1号消防车道东"),
                     ((160, -105), "物流路西段"), ((260, -105), "物流路东段"), ((-330, 30), "西门内"),
                     ((330, 30), "东门内"), ((-240, 100), "行政楼北侧绿地")]
    for (u, v), label in speaker_spots:
        park.add_asset("SPK", "broadcast_speaker", f"{label}广播音柱", f"Broadcast speaker, {label}", (u, v), 3.0,
                       PARK_SLUG, power_w=60, emergency=True)


def place_perimeter_devices(park: Park) -> None:
    """Perimeter intrusion detectors every ~80 m along the fence (not across the gates)."""
    ring = BOUNDARY.exterior
    gates = [Point(g[3]) for g in GATES]
    for d in np.arange(40.0, ring.length, 80.0):
        p = ring.interpolate(float(d))
        if min(p.distance(g) for g in gates) < 20.0:
            continue
        c = nearest_points(BOUNDARY.buffer(-1.0).exterior, p)[0]
        park.add_asset("IDS", "intrusion_detector", f"周界入侵探测器（围墙{int(d)}米）",
                       f"Perimeter intrusion detector (fence at {int(d)} m)", (c.x, c.y), 2.4, PARK_SLUG,
                       detector_type="infrared_beam" if int(d / 80) % 2 == 0 else "vibration_cable",
                       segment_length_m=80.0)


def place_gate_devices(park: Park) -> None:
    """Access gates, barriers, alarm buttons, displays and noise sensors at the four park gates."""
    for code, name, name_en, (gu, gv), (iu, iv), role in GATES:
        lanes = 2 if role in ("main", "freight") else 1
        half = 7.0 if role == "main" else 4.5
        for k in range(lanes):
            side = (-1) ** k
            lane = (gu + iu * 4 + iv * side * half / 2, gv + iv * 4 + iu * side * half / 2)
            direction = "in" if k == 0 else "out"
            park.add_asset("BAR", "parking_barrier", f"{name}车辆道闸（{'入' if k == 0 else '出'}）",
                           f"{name_en} vehicle barrier ({direction})", lane, 1.0, PARK_SLUG,
                           direction=direction, plate_recognition=True)
            if role != "pedestrian_and_car" or k == 0:
                park.add_asset("ACG", "access_gate", f"{name}车行门禁{k + 1}", f"{name_en} vehicle gate {k + 1}",
                               (lane[0] + iu * 2, lane[1] + iv * 2), 1.2, PARK_SLUG, gate_type="vehicle",
                               face_recognition=False, plate_recognition=True)
        ped = (gu + iu * 6 + iv * (half + 3), gv + iv * 6 + iu * (half + 3))
        park.add_asset("ACG", "access_gate", f"{name}人行闸机", f"{name_en} pedestrian turnstile", ped, 1.2,
                       PARK_SLUG, gate_type="pedestrian", face_recognition=True)
        if role == "main":
            park.add_asset("ACG", "access_gate", f"{name}人行闸机2", f"{name_en} pedestrian turnstile 2",
                           (ped[0] + iu * 2, ped[1] + iv * 2), 1.2, PARK_SLUG, gate_type="pedestrian",
                           face_recognition=True)
        park.add_asset("ALM", "alarm_button", f"{name}一键报警柱", f"{name_en} emergency call point",
                       (gu + iu * 10 - iv * (half + 4), gv + iv * 10 - iu * (half + 4)), 1.4, PARK_SLUG)
        if code != "G-N":  # the north gate has no screen: a display gap at a main entrance
            park.add_asset("DSP", "display_screen", f"{name}LED信息屏", f"{name_en} LED information screen",
                           (gu + iu * 8 + iv * (half + 3), gv + iv * 8 + iu * (half + 3)), 4.0, PARK_SLUG,
                           publishing="sync", size_in=200 if role == "main" else 138, outdoor=True)
        park.add_asset("NS", "noise_sensor", f"{name}噪声监测点", f"{name_en} noise monitor",
                       (gu + iu * 14 - iv * (half + 6), gv + iv * 14 - iu * (half + 6)), 3.5, PARK_SLUG,
                       fiware_type="NoiseLevelObserved")


def place_parking_devices(park: Park, lot_polys: dict[str, Polygon]) -> None:
    """EV chargers at EV spaces, space sensors in two lots, lot barriers."""
    sensor_lots = {"P1", "P4"}
    dc_spaces = {"P1-S001", "P1-S002", "P4-S001", "P6-S001"}
    for space in park.of_kind("parking_space"):
        c = space.geom.centroid
        if space.props["ev_charger"]:
            u0, v0, u1, v1 = space.geom.bounds
            head = (c.x, v0 + 0.4) if (u1 - u0) < (v1 - v0) else (u0 + 0.4, c.y)
            dc = space.id in dc_spaces
            park.add_asset("EVC", "ev_charger", f"{space.props['name']}充电桩", f"{space.props['name_en']} EV charger",
                           head, 1.5, space.id, power_kw=120 if dc else 7, connector="GB/T DC" if dc else "GB/T AC",
                           parking_space=space.id, fiware_type="EVChargingStation")
        if space.props["parent"] in sensor_lots:
            park.add_asset("PKS", "parking_sensor", f"{space.props['name']}车位检测器",
                           f"{space.props['name_en']} occupancy sensor", (c.x, c.y), 0.0, space.id,
                           parking_space=space.id, sensor_type="geomagnetic", fiware_type="ParkingSpot")
    for code in BARRIER_LOTS:
        spec = next(s for s in LOTS if s.code == code)
        park.add_asset("BAR", "parking_barrier", f"{spec.name}道闸", f"{spec.name_en} barrier",
                       lot_entrance(lot_polys[code], spec.access_side), 1.0, PARK_SLUG, parking_lot=code, direction="in_out",
                       plate_recognition=True)
    for k, label in enumerate(("入", "出")):
        park.add_asset("BAR", "parking_barrier", f"地下车库道闸（{label}）",
                       f"Underground garage barrier ({'in' if k == 0 else 'out'})",
                       (UNDERGROUND_ENTRANCE[0] + 2 * k - 1, UNDERGROUND_ENTRANCE[1]), 1.0, PARK_SLUG, parking_lot="P7",
                       direction="in" if k == 0 else "out", plate_recognition=True)


def room_point(room: Feature, fx: float, fy: float) -> tuple[float, float]:
    """A point at fractions (fx, fy) of a room's bounding box."""
    x0, y0, x1, y1 = room.geom.bounds
    return (x0 + (x1 - x0) * fx, y0 + (y1 - y0) * fy)


def place_detailed_building_devices(park: Park) -> None:
    """Room-level devices in the admin building, the tower and the data centre."""
    smoke_levels = {"B01": {1, 2}, "B02": {1, 2}, "B15": {1, 2, 3}}
    ap_uses = {"lobby", "meeting", "monitoring_centre", "service_hall", "retail"}
    for space in park.of_kind("space"):
        code = space.props["parent"][:3]
        level = park.by_id(space.props["parent"]).props["level"]
        base = park.storey_base[space.id]
        use = space.props["use"]
        label, label_en = space.props["name"], space.props["name_en"]
        if level in smoke_levels[code]:
            park.add_asset("FE-SMK", "fire_equipment", f"{label}烟感", f"{label_en} smoke detector",
                           room_point(space, 0.5, 0.5), base + 2.9, space.id, subtype="smoke_detector")
        if use in ap_uses or (code == "B02" and use == "meeting") or (code != "B02" and use == "elevator_hall"):
            radius = 25.0 if use in ("lobby", "monitoring_centre") else 18.0
            park.add_asset("AP", "wifi_ap", f"{label}无线AP", f"{label_en} Wi-Fi AP", room_point(space, 0.6, 0.6),
                           base + 2.8, space.id, radius_m=radius, indoor=True)
        if use == "elevator_hall" and level == 1:
            spec = next(b for b in BUILDINGS if b.code == code)
            for k in range(spec.lift_passenger + spec.lift_freight):
                freight = k >= spec.lift_passenger
                park.add_asset("ELV", "elevator", f"{spec.name}{k + 1}号{'货梯' if freight else '客梯'}",
                               f"{spec.name_en} {'freight' if freight else 'passenger'} elevator {k + 1}",
                               room_point(space, (k + 0.5) / (spec.lift_passenger + spec.lift_freight), 0.9), base,
                               space.id, building=code, monitored=True, capacity_kg=2000 if freight else 1350)
        if use == "lobby":
            park.add_asset("ALM", "alarm_button", f"{label}一键报警", f"{label_en} emergency button",
                           room_point(space, 0.1, 0.9), base + 1.4, space.id)
            park.add_asset("DSP", "display_screen", f"{label}信息发布屏", f"{label_en} information screen",
                           room_point(space, 0.8, 0.9), base + 2.0, space.id, publishing="sync", size_in=86,
                           outdoor=False)
            park.add_asset("FE-EXT", "fire_equipment", f"{label}灭火器箱", f"{label_en} extinguisher cabinet",
                           room_point(space, 0.9, 0.1), base + 0.5, space.id, subtype="extinguisher")
        if use == "monitoring_centre":
            park.add_asset("DSP", "display_screen", "运营指挥中心大屏", "Monitoring centre video wall",
                           room_point(space, 0.5, 0.95), base + 1.5, space.id, publishing="sync", size_in=300,
                           outdoor=False)
        if use == "duty_room" and code == "B01":
            park.add_asset("FE-PNL", "fire_equipment", "消防控制室火灾报警控制器", "Fire alarm control panel (fire control room)",
                           room_point(space, 0.5, 0.8), base + 1.5, space.id, subtype="fire_panel")
        if use == "elevator_hall" and level > 1 and code in ("B01", "B15"):
            park.add_asset("FE-EXT", "fire_equipment", f"{label}灭火器箱", f"{label_en} extinguisher cabinet",
                           room_point(space, 0.1, 0.1), base + 0.5, space.id, subtype="extinguisher")
        if use == "retail":
            park.add_asset("RTL", "unmanned_retail", "大厦无人便利店", "Tower unmanned convenience store",
                           room_point(space, 0.5, 0.5), base, space.id, payment=["face", "qr_code"])
    # tenant sub-meters every 5 floors of the tower, UPS meters in the data centre
    for level in (5, 10, 15, 20):
        park.add_asset("MTR-E", "meter", f"天府智造大厦{level}F分户电表", f"Tower floor {level} sub-meter",
                       room_point(space_of(park, "B02", level, "elevator_hall"), 0.9, 0.1),
                       park.storey_base[f"B02-F{level:02d}"] + 1.2, f"B02-F{level:02d}", meter_type="electricity",
                       smart=True, building="B02")
    for k, tag in enumerate(("A", "B")):
        park.add_asset("MTR-E", "meter", f"数据中心UPS-{tag}路电表", f"Data centre UPS feed {tag} meter",
                       room_point(space_of(park, "B15", 1, "equipment"), 0.3 + 0.4 * k, 0.5), 1.2,
                       space_of(park, "B15", 1, "equipment").id, meter_type="electricity", smart=True, building="B15")
    mc = space_of(park, "B01", 2, "monitoring_centre")
    park.add_asset("CAM", "camera", "运营指挥中心室内摄像机", "Monitoring centre indoor camera",
                   room_point(mc, 0.05, 0.1), park.storey_base[mc.id] + 2.8, mc.id,
                   heading_deg=FRAME.bearing_deg(1, 1), fov_deg=90.0, range_m=20.0, resolution="1080p",
                   hd=True, ptz=False, retention_days=30, mount_height_m=2.8)


NON_SMART_METERS = {("electricity", "B28"), ("electricity", "B29"), ("electricity", "B30"), ("electricity", "B31"),
                    ("water", "B18"), ("water", "B19"), ("water", "B22"), ("water", "B26"), ("gas", "B18"),
                    ("gas", "B22")}
GAS_BUILDINGS = {"B10", "B18", "B22", "B24"}
NO_WATER = {"B16", "B28", "B29", "B30", "B31"}
UNMONITORED_LIFTS = {("B13", 0), ("B13", 1), ("B18", 0), ("B22", 0), ("B26", 0), ("B26", 1)}


def place_building_devices(park: Park) -> None:
    """Meters, elevators, fire panels, sprinkler valves, APs and lobby devices in every building."""
    detailed = set(DETAILED)
    for spec in BUILDINGS:
        shape = park.shapes[spec.code]
        door = park.doors[spec.code][0]
        u0, v0, u1, v1 = shape.bounds
        corner = inside_point(shape, (u0 + 1.5, v0 + 1.5))
        for k, (mtype, prefix, label) in enumerate((("electricity", "MTR-E", "电表"), ("water", "MTR-W", "水表"),
                                                     ("gas", "MTR-G", "燃气表"))):
            if (mtype == "water" and spec.code in NO_WATER) or (mtype == "gas" and spec.code not in GAS_BUILDINGS):
                continue
            park.add_asset(prefix, "meter", f"{spec.name}总{label}", f"{spec.name_en} main {mtype} meter",
                           (corner[0] + 1.0 * k, corner[1]), 1.2, spec.code, meter_type=mtype,
                           smart=(mtype, spec.code) not in NON_SMART_METERS, building=spec.code)
        if spec.code not in detailed:
            lifts = spec.lift_passenger + spec.lift_freight
            hall = inside_point(shape, door.outside(-12.0, 4.0))
            for k in range(lifts):
                freight = k >= spec.lift_passenger
                park.add_asset("ELV", "elevator", f"{spec.name}{k + 1}号{'货梯' if freight else '客梯'}",
                               f"{spec.name_en} {'freight' if freight else 'passenger'} elevator {k + 1}",
                               inside_point(shape, (hall[0] + door.tangent[0] * 2.5 * k, hall[1] + door.tangent[1] * 2.5 * k)),
                               0.0, spec.code, building=spec.code, monitored=(spec.code, k) not in UNMONITORED_LIFTS,
                               capacity_kg=3000 if freight and spec.use in ("industrial", "warehouse")
                               else (2000 if freight else 1000))
            if spec.use != "guardhouse" and spec.code not in ("B17",):
                park.add_asset("FE-PNL", "fire_equipment", f"{spec.name}火灾报警控制器", f"{spec.name_en} fire alarm panel",
                               inside_point(shape, door.outside(-3.0, -3.0)), 1.5, spec.code, subtype="fire_panel")
        if spec.use in ("industrial", "warehouse") or spec.code == "B02":
            park.add_asset("FE-SPV", "fire_equipment", f"{spec.name}喷淋报警阀", f"{spec.name_en} sprinkler alarm valve",
                           inside_point(shape, (u1 - 2.0, v0 + 2.0)), 1.0, spec.code, subtype="sprinkler_valve")
        if spec.use in ("substation", "pump_house", "warehouse"):
            park.add_asset("FE-EXT", "fire_equipment", f"{spec.name}灭火器箱", f"{spec.name_en} extinguisher cabinet",
                           inside_point(shape, door.outside(-1.5, 2.0)), 0.5, spec.code, subtype="extinguisher")
    # lobby devices of the other buildings
    lobby_screens = {"B03": "async", "B05": "sync", "B06": "async", "B08": "sync", "B09": "sync", "B11": "async",
                     "B12": "sync"}
    lobby_aps = ["B03", "B05", "B06", "B07", "B08", "B09", "B11", "B12", "B13", "B14", "B27"]
    for code in LOBBY_BUILDINGS:
        spec = next(b for b in BUILDINGS if b.code == code)
        door = park.doors[code][0]
        shape = park.shapes[code]
        if code in lobby_screens:
            park.add_asset("DSP", "display_screen", f"{spec.name}门厅信息屏", f"{spec.name_en} lobby screen",
                           inside_point(shape, door.outside(-4.0, 3.0)), 2.0, code, publishing=lobby_screens[code],
                           size_in=75, outdoor=False)
        if code in lobby_aps:
            park.add_asset("AP", "wifi_ap", f"{spec.name}门厅无线AP", f"{spec.name_en} lobby Wi-Fi AP",
                           inside_point(shape, door.outside(-7.0, -2.0)), 2.8, code, radius_m=25.0, indoor=True)
    # canteen: small-cell APs that leave the hall's east end uncovered (a deliberate Wi-Fi gap)
    canteen = park.shapes["B10"]
    c = canteen.centroid
    for k, (du, floor_base) in enumerate(((-14.0, 0.0), (4.0, 0.0), (-5.0, 5.0))):
        park.add_asset("AP", "wifi_ap", f"员工餐厅无线AP{k + 1}", f"Staff Canteen Wi-Fi AP {k + 1}", (c.x + du, c.y),
                       floor_base + 2.8, "B10", radius_m=12.0, indoor=True)
    park.add_asset("DSP", "display_screen", "员工餐厅菜单信息屏", "Staff Canteen menu screen", (c.x - 20, c.y - 8), 2.0,
                   "B10", publishing="async", size_in=65, outdoor=False)


def place_site_devices(park: Park) -> None:
    """Environment sensors, cells, IoT gateways, outdoor APs, lockers, retail, robots, alarm columns."""
    for k, ((u, v), label) in enumerate((((-20, 60), "中央公园"), ((-270, 90), "行政楼北侧绿地"), ((265, 140), "运动草坪"),
                                        ((250, -110), "物流区"), ((-200, -95), "数据中心东侧"))):
        park.add_asset("AQS", "air_quality_sensor", f"{label}空气质量监测站", f"Air quality station, {label}", (u, v), 3.0,
                       PARK_SLUG, measures=["pm25", "pm10", "no2", "o3", "temperature", "humidity"],
                       fiware_type="AirQualityObserved")
    park.add_asset("NS", "noise_sensor", "厂房区噪声监测点", "Noise monitor, plant area", (-10, -105), 3.5, PARK_SLUG,
                   fiware_type="NoiseLevelObserved")
    east = POND.bounds[2]
    park.add_asset("WQS", "water_quality_sensor", "镜湖水质监测浮标", "Mirror Pond water quality buoy", (-10.0, 85.0), 0.0,
                   PARK_SLUG, water_body="W01", measures=["ph", "dissolved_oxygen", "turbidity", "conductivity", "temperature"],
                   fiware_type="WaterQualityObserved")
    park.add_asset("WQS", "water_quality_sensor", "引水渠水质监测点", "Canal water quality probe", (east + 8.0, 87.5), 0.0,
                   PARK_SLUG, water_body="W02", measures=["ph", "turbidity"], fiware_type="WaterQualityObserved")
    heights = {b.code: b.height_m for b in BUILDINGS}
    # 5G radii chosen so the park is ~87 % covered (the rubric wants 90 %: a deliberate gap)
    cells = [("B02", "5G", 230.0), ("B21", "5G", 165.0), ("B11", "5G", 160.0), ("B26", "5G", 170.0),
             ("B03", "5G", 160.0), ("B01", "4G", 450.0), ("B25", "4G", 450.0)]
    for code, gen, radius in cells:
        c = park.shapes[code].representative_point()
        park.add_asset("BTS", "cell_5g", f"{next(b.name for b in BUILDINGS if b.code == code)}楼顶{gen}基站",
                       f"{gen} rooftop cell on {code}", (c.x, c.y), heights[code] + 3.0, code, radius_m=radius,
                       generation=gen, operator=["中国移动", "中国电信", "中国联通"][len(gen) % 3])
    for code, proto, radius in (("B24", "NB-IoT", 1000.0), ("B12", "LoRa", 800.0)):
        c = park.shapes[code].representative_point()
        park.add_asset("GW", "iot_gateway", f"{code}楼顶{proto}网关", f"{proto} gateway on {code}", (c.x, c.y),
                       heights[code] + 2.0, code, protocol=proto, radius_m=radius)
    for (u, v), label in (((-60, 45), "中央公园西"), ((40, 45), "中央公园东"), ((-320, 40), "西门广场")):
        park.add_asset("AP", "wifi_ap", f"{label}室外无线AP", f"Outdoor Wi-Fi AP, {label}", (u, v), 4.0, PARK_SLUG,
                       radius_m=60.0, indoor=False)
    lockers = [("B01", space_of(park, "B01", 1, "lobby").id), ("B02", space_of(park, "B02", 1, "lobby").id),
               ("B06", "B06"), ("B09", "B09"), ("B11", "B11"), ("B12", "B12")]
    for code, feature in lockers:
        spec = next(b for b in BUILDINGS if b.code == code)
        if feature != code:
            room = park.by_id(feature)
            uv = room_point(room, 0.3, 0.1)
        else:
            uv = inside_point(park.shapes[code], park.doors[code][0].outside(-3.0, -5.0))
        park.add_asset("LKR", "smart_locker", f"{spec.name}智能快递柜", f"{spec.name_en} smart parcel locker", uv, 0.0,
                       feature, compartments=60)
    c = park.shapes["B10"].centroid
    park.add_asset("RTL", "unmanned_retail", "员工餐厅无人超市", "Staff Canteen unmanned store", (c.x + 20, c.y - 8), 0.0,
                   "B10", payment=["face", "qr_code"])
    park.add_asset("RTL", "unmanned_retail", "人才公寓无人便利店", "Talent Apartments unmanned store",
                   inside_point(park.shapes["B11"], park.doors["B11"][0].outside(-3.0, 12.0)), 0.0, "B11",
                   payment=["qr_code"])
    lobby02 = space_of(park, "B02", 1, "lobby")
    robots = [("patrol", "安保巡逻机器人1号", "Security patrol robot 1", (-268.0, 12.0), PARK_SLUG, 0.0),
              ("patrol", "安保巡逻机器人2号", "Security patrol robot 2", (-10.0, 55.0), PARK_SLUG, 0.0),
              ("delivery", "快递配送机器人1号", "Parcel delivery robot 1", room_point(lobby02, 0.5, 0.2), lobby02.id, 0.0),
              ("delivery", "快递配送机器人2号", "Parcel delivery robot 2", (c.x - 5, c.y - 9), "B10", 0.0),
              ("cleaning", "大堂清洁机器人", "Lobby cleaning robot", room_point(lobby02, 0.5, 0.7), lobby02.id, 0.0)]
    for rtype, name, name_en, uv, feature, z in robots:
        park.add_asset("ROB", "robot", name, name_en, uv, z, feature, robot_type=rtype)
    for pt, rids in park.nodes:
        if {"R-main-1"} & set(rids) and ("R-sec-1" in rids or "R-sec-2" in rids):
            park.add_asset("ALM", "alarm_button", "路口一键报警柱", "Junction emergency call point", (pt[0] - 9, pt[1] - 9),
                           1.4, PARK_SLUG)
    for code in ("B10", "B11", "B12", "B13", "B06"):
        spec = next(b for b in BUILDINGS if b.code == code)
        park.add_asset("ALM", "alarm_button", f"{spec.name}一键报警", f"{spec.name_en} emergency button",
                       inside_point(park.shapes[code], park.doors[code][0].outside(-2.0, 4.0)), 1.4, code)
    for code in ("B01", "B02", "B03", "B05", "B06", "B08", "B09", "B11", "B12", "B13", "B15"):
        spec = next(b for b in BUILDINGS if b.code == code)
        for door in park.doors[code][: 3 if code == "B02" else 1]:
            for k in range(3 if code == "B02" and door.main else 1):
                park.add_asset("ACG", "access_gate", f"{spec.name}{'主' if door.main else '次'}入口闸机{k + 1}",
                               f"{spec.name_en} {'main' if door.main else 'side'} entrance turnstile {k + 1}",
                               door.outside(-1.5, (k - 1) * 1.2 if code == "B02" and door.main else 0.0), 1.2, code,
                               gate_type="pedestrian", face_recognition=code not in ("B05", "B13"))


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

ASSET_KINDS = ["camera", "alarm_button", "intrusion_detector", "access_gate", "parking_barrier", "fire_equipment",
               "elevator", "meter", "street_lamp", "smart_pole", "ev_charger", "parking_sensor", "air_quality_sensor",
               "water_quality_sensor", "noise_sensor", "display_screen", "broadcast_speaker", "wifi_ap", "cell_5g",
               "iot_gateway", "smart_locker", "unmanned_retail", "robot"]
REQUIRED_ASSET_PROPS: dict[str, set[str]] = {
    "camera": {"heading_deg", "fov_deg", "range_m", "resolution", "hd", "ptz", "retention_days", "mount_height_m"},
    "access_gate": {"gate_type", "face_recognition"},
    "fire_equipment": {"subtype"},
    "elevator": {"building", "monitored", "capacity_kg"},
    "meter": {"meter_type", "smart", "building"},
    "street_lamp": {"smart", "power_w"},
    "smart_pole": {"functions"},
    "ev_charger": {"power_kw", "connector", "parking_space"},
    "parking_sensor": {"parking_space"},
    "display_screen": {"publishing", "size_in"},
    "wifi_ap": {"radius_m", "indoor"},
    "cell_5g": {"radius_m", "generation"},
    "iot_gateway": {"protocol", "radius_m"},
    "robot": {"robot_type"},
}


def check(park: Park, written: dict[str, BaseGeometry]) -> list[str]:
    """Consistency checks on the rounded lon/lat output; returns a list of problems."""
    problems: list[str] = []
    ids = [f.id for f in park.features] + [a.id for a in park.assets] + [PARK_SLUG]
    for fid, n in Counter(ids).items():
        if n > 1:
            problems.append(f"duplicate id {fid} ({n}×)")
    known = {f.id for f in park.features}
    grid = {fid: FRAME.to_grid_geom(g) for fid, g in written.items()}
    for f in park.features:
        g = written[f.id]
        if g.geom_type in ("Polygon", "MultiPolygon"):
            if not g.is_valid:
                problems.append(f"{f.id}: invalid polygon ({shapely.is_valid_reason(g)})")
            polys = [g] if g.geom_type == "Polygon" else list(g.geoms)
            if any(not p.exterior.is_ccw for p in polys):
                problems.append(f"{f.id}: exterior ring is not CCW")
        parent = f.props.get("parent")
        if parent is not None and parent not in known:
            problems.append(f"{f.id}: parent {parent} does not exist")
    for f in park.of_kind("space"):
        storey = park.by_id(f.props["parent"])
        if not grid[storey.props["parent"]].contains(grid[f.id]):
            problems.append(f"{f.id}: space not inside building {storey.props['parent']}")
    for f in park.of_kind("parking_space"):
        if not grid[f.props["parent"]].contains(grid[f.id]):
            problems.append(f"{f.id}: parking space not inside lot {f.props['parent']}")
    buildings = park.of_kind("building")
    for i, a in enumerate(buildings):
        for b in buildings[i + 1 :]:
            if grid[a.id].intersects(grid[b.id]):
                problems.append(f"buildings {a.id} and {b.id} overlap")
    hard = unary_union([grid[b.id] for b in buildings] + [grid[p.id] for p in park.of_kind("parking_lot")
                                                          if grid[p.id].geom_type == "Polygon"] + [grid["W01"]])
    for r in park.of_kind("road"):
        if grid[r.id].buffer(r.props["width_m"] / 2, cap_style="flat").intersects(hard):
            problems.append(f"road {r.id} runs over a building, car park or the pond")
    for g in park.of_kind("green"):
        if grid[g.id].intersection(hard).area > 0.01:
            problems.append(f"green {g.id} overlaps a building, car park or the pond")
    if not all(BOUNDARY.buffer(0.01).contains(grid[f.id]) for f in park.features if f.kind != "park_boundary"):
        problems.append("some feature leaves the park boundary")
    for a in park.assets:
        if a.feature != PARK_SLUG and a.feature not in known:
            problems.append(f"{a.id}: feature {a.feature} does not exist")
        missing = REQUIRED_ASSET_PROPS.get(a.kind, set()) - set(a.props)
        if missing:
            problems.append(f"{a.id}: missing {sorted(missing)}")
        if a.kind == "ev_charger" and not park.by_id(a.props["parking_space"]).props["ev_charger"]:
            problems.append(f"{a.id}: charger on a non-EV space")
        feat = park.by_id(a.feature) if a.feature in known else None
        if feat is not None and feat.kind in ("building", "space", "storey", "parking_space"):
            target = grid[feat.id] if feat.kind != "storey" else grid[feat.props["parent"]]
            if not target.buffer(0.6).contains(Point(a.uv)):
                problems.append(f"{a.id}: point lies outside its feature {a.feature}")
    all_buildings = unary_union([grid[b.id] for b in buildings])
    for kl in park.of_kind("key_location"):
        pt = grid[kl.id]
        if kl.props["category"] in INDOOR_CATEGORIES:
            if not grid[kl.props["parent"]].contains(pt):
                problems.append(f"{kl.id}: indoor key location outside its building")
        elif all_buildings.contains(pt):
            problems.append(f"{kl.id}: outdoor key location inside a building")
    for kind in ASSET_KINDS:
        if not any(a.kind == kind for a in park.assets):
            problems.append(f"no asset of kind {kind}")
    tenants = Counter(e[3] for e in ENTERPRISES)
    for b in buildings:
        if b.props["enterprise_count"] != tenants.get(b.id, 0):
            problems.append(f"{b.id}: enterprise_count mismatch")
    for e in ENTERPRISES:
        if e[3] not in known:
            problems.append(f"enterprise {e[0]}: unknown building {e[3]}")
    return problems


# ---------------------------------------------------------------------------
# Figures printed for the README and the scoring engine's expectations
# ---------------------------------------------------------------------------


def figures(park: Park) -> dict[str, Any]:
    """Rubric-relevant measurements of the generated park (for the summary and README)."""
    covered, total, missing = coverage(park)
    cams = [a for a in park.assets if a.kind == "camera"]
    roads = park.of_kind("road")
    main_len = sum(r.props["length_m"] for r in roads if r.props["road_class"] == "main")
    main_conduit = sum(r.props["length_m"] for r in roads if r.props["road_class"] == "main" and r.props["telecom_conduit"])
    all_len = sum(r.props["length_m"] for r in roads)
    all_conduit = sum(r.props["length_m"] for r in roads if r.props["telecom_conduit"])
    spaces = park.of_kind("parking_space")
    buildings = park.of_kind("building")
    meters = [a for a in park.assets if a.kind == "meter"]
    lifts = [a for a in park.assets if a.kind == "elevator"]
    cells5g = [a for a in park.assets if a.kind == "cell_5g" and a.props["generation"] == "5G"]
    cover5g = unary_union([Point(a.uv).buffer(a.props["radius_m"], 64) for a in cells5g]).intersection(BOUNDARY)
    pole_cats = sorted({f for a in park.assets if a.kind == "smart_pole" for f in a.props["functions"]}
                       & {"lighting", "broadcast", "base_station", "emergency_alarm", "data_collection"})
    mc = space_of(park, "B01", 2, "monitoring_centre")
    lamps = [a for a in park.assets if a.kind == "street_lamp"]
    # Wi-Fi: crowded places = canteen footprint, lobbies, meeting rooms, service hall, monitoring centre
    crowded = unary_union([park.shapes["B10"]] + [s.geom for s in park.of_kind("space") if s.props["use"] in
                                                  ("lobby", "meeting", "service_hall", "monitoring_centre")])
    aps = unary_union([Point(a.uv).buffer(a.props["radius_m"], 32) for a in park.assets if a.kind == "wifi_ap"])
    # displays: gates and lobbies with a screen within 15 m
    screens = [Point(a.uv) for a in park.assets if a.kind == "display_screen"]
    showcase = [k for k in park.of_kind("key_location") if k.props["category"] in ("park_entrance", "lobby")]
    shown = sum(any(k.geom.distance(s) <= 15.0 for s in screens) for k in showcase)
    return {
        "key_locations_covered": f"{covered}/{total} = {covered / total:.1%}",
        "key_locations_uncovered": missing,
        "cameras_hd": f"{sum(a.props['hd'] for a in cams)}/{len(cams)}",
        "camera_retention_days_min": min(a.props["retention_days"] for a in cams),
        "main_road_conduit": f"{main_conduit:.0f}/{main_len:.0f} m = {main_conduit / main_len:.1%}",
        "all_road_conduit": f"{all_conduit:.0f}/{all_len:.0f} m = {all_conduit / all_len:.1%}",
        "riser_shaft_buildings": f"{sum(b.props['riser_shaft'] for b in buildings)}/{len(buildings)}",
        "all_optical_buildings": f"{sum(b.props['all_optical'] for b in buildings)}/{len(buildings)}",
        "fiber_to_desk_buildings": sum(b.props["fiber_to_desk"] for b in buildings),
        "ev_spaces": f"{sum(s.props['ev_charger'] for s in spaces)}/{len(spaces)} = "
                     f"{sum(s.props['ev_charger'] for s in spaces) / len(spaces):.1%}",
        "smart_meters": f"{sum(m.props['smart'] for m in meters)}/{len(meters)} = "
                        f"{sum(m.props['smart'] for m in meters) / len(meters):.1%}",
        "monitored_elevators": f"{sum(e.props['monitored'] for e in lifts)}/{len(lifts)}",
        "5g_area_coverage": f"{cover5g.area / BOUNDARY.area:.1%}",
        "smart_pole_rubric_categories": pole_cats,
        "smart_street_lamps": f"{sum(a.props['smart'] for a in lamps)}/{len(lamps)}",
        "wifi_crowded_area_coverage": f"{crowded.intersection(aps).area / crowded.area:.1%}",
        "gates_and_lobbies_with_screen_15m": f"{shown}/{len(showcase)}",
        "monitoring_centre_m2": mc.props["area_m2"],
        "iot_pilots": sum(a.kind == "iot_gateway" for a in park.assets),
        "enterprises_on_cloud": sum(e[6] for e in ENTERPRISES),
        "cloud_star_points": sum(e[7] for e in ENTERPRISES if e[7] >= 3),
        "lianghua_certified": sum(e[8] for e in ENTERPRISES),
        "digital_workshop_or_smart_factory": sum(e[9] or e[10] for e in ENTERPRISES),
    }


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

LAYERS = [
    ("buildings", "建筑", "Buildings", "buildings"),
    ("storeys", "楼层", "Storeys", "storeys"),
    ("spaces", "房间", "Spaces (rooms)", "spaces"),
    ("roads", "道路", "Roads", "roads"),
    ("parking", "停车场", "Parking", "parking"),
    ("green", "绿地", "Green areas", "green"),
    ("water", "水系", "Water", "water"),
    ("zones", "功能分区", "Zones", "zones"),
    ("key-locations", "关键位置", "Key locations", "key_locations"),
]


def _coords_lists(obj: Any) -> Any:
    """Tuples → lists, recursively, for JSON output."""
    if isinstance(obj, (list, tuple)):
        return [_coords_lists(x) for x in obj]
    return obj


def feature_collection(name: str, features: list[dict[str, Any]]) -> str:
    """A FeatureCollection with one feature per line (small diffs, easy hand edits)."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    body = ",\n".join(lines)
    return f'{{"type":"FeatureCollection","name":"{name}","features":[\n{body}\n]}}\n'


def render(park: Park) -> tuple[dict[str, str], dict[str, BaseGeometry]]:
    """All output files as text, keyed by path relative to OUT_DIR; plus the written geometries."""
    files: dict[str, str] = {}
    written: dict[str, BaseGeometry] = {}
    for slug, _n, _ne, _c in LAYERS:
        feats = []
        for f in park.features:
            if f.layer != slug:
                continue
            g = FRAME.to_lonlat_geom(f.geom)
            written[f.id] = g
            feats.append({"type": "Feature", "id": f.id, "geometry": _coords_lists(mapping(g)), "properties": f.props})
        files[f"layers/{slug}.geojson"] = feature_collection(slug, feats)
    asset_feats = []
    for a in park.assets:
        lonlat = FRAME.grid_to_lonlat(np.array([a.uv]))[0]
        asset_feats.append({
            "type": "Feature", "id": a.id,
            "geometry": {"type": "Point", "coordinates": [float(lonlat[0]), float(lonlat[1]), a.z]},
            "properties": {"id": a.id, "kind": a.kind, "name": a.name, "name_en": a.name_en, "feature": a.feature,
                           **a.props},
        })
    files["assets.geojson"] = feature_collection("assets", asset_feats)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(ENTERPRISE_HEADER)
    for e in ENTERPRISES:
        writer.writerow([*e[:6], *("true" if x else "false" for x in e[6:7]), e[7],
                         *("true" if x else "false" for x in e[8:])])
    files["enterprises.csv"] = buf.getvalue()
    center = FRAME.grid_to_lonlat(np.array([[0.0, 0.0]]))[0]
    model_spec = next(b for b in BUILDINGS if b.code == MODEL_BUILDING)
    mu0, mv0, _, _ = model_spec.shape.bounds
    anchor = FRAME.grid_to_lonlat(np.array([[mu0, mv0]]))[0]
    mc = space_of(park, "B01", 2, "monitoring_centre")
    park_doc = {
        "slug": PARK_SLUG,
        "name": "天府智造产业园（演示）",
        "name_en": "Tianfu Smart Manufacturing Park (demo)",
        "city": "成都",
        "center": [float(center[0]), float(center[1])],
        "ground_elevation_m": GROUND_ELEVATION_M,
        "source_crs": "EPSG:4326",
        "properties": {
            "invented": True,
            "district": "成都高新区（虚构园区）",
            "operator": "天府智造园区运营管理有限公司（虚构）",
            "established_year": 2016,
            "area_m2": round(BOUNDARY.area, 1),
            "grid_rotation_deg": GRID_ROTATION_DEG,
            "video_retention_days": 30,
            "video_functions": ["view_switching", "ptz_control", "playback"],
            "telecom_room": "independent",
            "telecom_room_space": space_of(park, "B01", 1, "machine_room").id,
            "monitoring_centre_space": mc.id,
            "monitoring_centre_area_m2": mc.props["area_m2"],
            "wired_services": ["broadband", "internet_leased_line", "private_data_line", "vpn"],
            "cloud_service": "park_data_centre",
            "research_institutions": ["E26"],
        },
        "layers": [{"slug": s, "name": n, "name_en": ne, "category": c, "file": f"layers/{s}.geojson"}
                   for s, n, ne, c in LAYERS],
        "assets": "assets.geojson",
        "enterprises": "enterprises.csv",
        "models": [{
            "file": FZK_MODEL, "name": "FZK 示范楼 BIM", "building": MODEL_BUILDING,
            "anchor": [float(anchor[0]), float(anchor[1]), 0.0, GRID_ROTATION_DEG],
        }],
    }
    files["park.json"] = json.dumps(park_doc, ensure_ascii=False, indent=2) + "\n"
    return files, written


def build() -> Park:
    """Lay out the whole park in grid metres."""
    park = Park()
    build_roads(park)
    build_buildings(park)
    build_storeys_and_spaces(park)
    lot_polys = build_parking(park)
    build_green_water_zones(park)
    build_key_locations(park)
    blocked = obstacles(park, lot_polys)
    place_cameras(park, blocked)
    place_road_devices(park, blocked)
    place_perimeter_devices(park)
    place_gate_devices(park)
    place_parking_devices(park, lot_polys)
    place_detailed_building_devices(park)
    place_building_devices(park)
    place_site_devices(park)
    return park


def summary(park: Park, files: dict[str, str]) -> str:
    """Counts per feature kind, per asset kind, file sizes and rubric figures."""
    out = ["features by kind:"]
    out += [f"  {k:16s} {n}" for k, n in sorted(Counter(f.kind for f in park.features).items())]
    out.append("key locations by category:")
    out += [f"  {k:16s} {n}" for k, n in sorted(Counter(f.props["category"] for f in park.of_kind("key_location")).items())]
    out.append(f"assets by kind ({len(park.assets)}):")
    out += [f"  {k:20s} {n}" for k, n in sorted(Counter(a.kind for a in park.assets).items())]
    fe = Counter(a.props["subtype"] for a in park.assets if a.kind == "fire_equipment")
    out.append("  fire_equipment subtypes: " + ", ".join(f"{k} {n}" for k, n in sorted(fe.items())))
    out.append(f"enterprises: {len(ENTERPRISES)}")
    out.append("files:")
    total = 0
    for path, text in sorted(files.items()):
        size = len(text.encode("utf-8"))
        total += size
        out.append(f"  {path:32s} {size / 1024:8.1f} KiB")
    out.append(f"  {'total':32s} {total / 1024:8.1f} KiB")
    out.append("rubric figures:")
    out += [f"  {k}: {v}" for k, v in figures(park).items()]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the files on disk differ from a fresh run")
    parser.add_argument("--quiet", action="store_true", help="print nothing but problems")
    args = parser.parse_args(argv)
    park = build()
    files, written = render(park)
    problems = check(park, written)
    if problems:
        print("\n".join(f"PROBLEM: {p}" for p in problems), file=sys.stderr)
        return 1
    if args.check:
        stale = [p for p, text in files.items() if not (OUT_DIR / p).is_file()
                 or (OUT_DIR / p).read_text(encoding="utf-8") != text]
        if stale:
            print("out of date: " + ", ".join(sorted(stale)), file=sys.stderr)
            return 1
    else:
        for path, text in files.items():
            target = OUT_DIR / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    if not args.quiet:
        print(summary(park, files))
    return 0


if __name__ == "__main__":
    sys.exit(main())

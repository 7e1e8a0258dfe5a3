"""The SensorThings entity types over the ORM tables: properties, navigation links and park scope.

Each entity type says how each STA property is read (SQL columns + a JSON encoder), how it is
filtered (a typed SQL expression), and how each navigation property links two tables. The query,
filter and write modules are generic over these descriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Float, Text, case, cast, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased

from twin.db.models import (
    Asset,
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    HistoricalLocationLocation,
    Location,
    Observation,
    ObservedProperty,
    Sensor,
    ThingLocation,
)

# STA value kinds the filter compiler reasons about.
NUMBER, STRING, BOOL, DATETIME, GEOMETRY, JSON, RESULT, NULL, DURATION, DATE, TIME = (
    "number", "string", "boolean", "datetime", "geometry", "json", "result", "null", "duration", "date", "time",
)


@dataclass(frozen=True, slots=True)
class Typed:
    """A SQL expression with the STA kind of its value (JSON values are coerced when compared)."""

    sql: Any
    kind: str
    # RESULT: the JSON column next to the numeric one; a string literal: its Python value.
    extra: Any = None


def json_text(value: Any) -> ColumnElement[str]:
    """The text of a JSONB value (`value #>> '{}'`): strings unquoted, numbers and booleans as written."""
    return value.op("#>>")(cast(literal("{}"), ARRAY(Text)))


def json_number(value: Any) -> ColumnElement[float]:
    """A JSONB value as double precision when it is a JSON number, else NULL (never a cast error)."""
    return case((func.jsonb_typeof(value) == "number", cast(json_text(value), Float)), else_=None)


def iso(value: datetime | None) -> str | None:
    """An ISO 8601 UTC timestamp with a Z, as STA responses carry them."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def interval(start: datetime | None, end: datetime | None) -> str | None:
    """An STA time: an instant, or an ISO 8601 interval `start/end` when the end differs."""
    if start is None:
        return None
    if end is None or end == start:
        return iso(start)
    return f"{iso(start)}/{iso(end)}"


@dataclass(frozen=True, slots=True)
class Prop:
    """One STA property of an entity type."""

    name: str
    kind: str
    # entity (ORM class or alias) → filter/order expression
    expr: Callable[[Any], Typed]
    # entity → {label: SQL column} needed to encode the property
    columns: Callable[[Any], dict[str, Any]]
    # row mapping → JSON value
    encode: Callable[[Mapping[str, Any]], Any]
    # entity, ["a", "b"] → expression for `prop/a/b` in filters (JSON properties)
    subpath: Callable[[Any, list[str]], Typed] | None = None


@dataclass(frozen=True, slots=True)
class Nav:
    """A navigation property: rows of `link` join source (`src`) to target (`dst`) ids."""

    name: str
    target: str  # entity set name
    many: bool
    link: Any  # ORM class holding both ids
    src: str  # attribute of link holding the source id
    dst: str  # attribute of link holding the target id
    # link table (or alias) → SQL for the target id when it is more than the dst column
    target_id: Callable[[Any], Any] | None = None


def nav_target(nav: Nav, link: Any) -> Any:
    """The SQL expression of the target id on a row of the link table (or an alias of it)."""
    return nav.target_id(link) if nav.target_id is not None else getattr(link, nav.dst)


@dataclass(frozen=True, slots=True)
class EntityType:
    """One STA entity type: its set name, ORM class, properties, navigation properties and scope."""

    name: str
    set_name: str
    model: Any
    props: dict[str, Prop]
    navs: dict[str, Nav]
    # (entity, park id) → condition restricting rows to the park (park-scoped tokens)
    scope: Callable[[Any, int], ColumnElement[bool]]
    # Columns always read (ids used by navigation and writes)
    key_columns: tuple[str, ...] = field(default=("id",))

    def prop(self, name: str) -> Prop:
        """The property, or KeyError."""
        return self.props[name]


# --- property helpers -------------------------------------------------------------------------------

def _column(name: str, attr: str, kind: str, *, encoder: Callable[[Any], Any] | None = None) -> Prop:
    convert = encoder or (iso if kind == DATETIME else (lambda v: v))
    return Prop(
        name=name,
        kind=kind,
        expr=lambda t: Typed(getattr(t, attr), kind),
        columns=lambda t: {name: getattr(t, attr)},
        encode=lambda row: convert(row[name]),
    )


def _json(name: str, attr: str, *, default: Any = None) -> Prop:
    def subpath(t: Any, path: list[str]) -> Typed:
        return Typed(getattr(t, attr)[tuple(path)], JSON)

    return Prop(
        name=name,
        kind=JSON,
        expr=lambda t: Typed(getattr(t, attr), JSON),
        columns=lambda t: {name: getattr(t, attr)},
        encode=lambda row: row[name] if row[name] is not None else default,
        subpath=subpath,
    )


def _geometry(name: str, attr: str) -> Prop:
    label = f"{name}__geojson"
    return Prop(
        name=name,
        kind=GEOMETRY,
        expr=lambda t: Typed(getattr(t, attr), GEOMETRY),
        columns=lambda t: {label: func.ST_AsGeoJSON(getattr(t, attr), 9)},
        encode=lambda row: orjson.loads(row[label]) if row[label] else None,
    )


def _id() -> Prop:
    return _column("id", "id", NUMBER)


def _properties_prop(attr: str = "properties") -> Prop:
    return _json("properties", attr, default={})


def _described(*, encoding: bool = False) -> dict[str, Prop]:
    """id, name, description (and encodingType): what most entity types start with."""
    props = {"id": _id(), "name": _column("name", "name", STRING), "description": _column("description", "description", STRING)}
    if encoding:
        props["encodingType"] = _column("encodingType", "encoding_type", STRING)
    return props


# --- Thing (an asset) ---------------------------------------------------------------------------------

# Asset columns that appear inside a Thing's `properties` (filterable as properties/kind etc.).
THING_OWN_PROPERTIES = ("kind", "code", "name_en")


def _thing_description(t: Any) -> Any:
    return func.coalesce(t.properties["description"].astext, t.name_en, "")


def _thing_properties_subpath(t: Any, path: list[str]) -> Typed:
    if len(path) == 1 and path[0] in THING_OWN_PROPERTIES:
        return Typed(getattr(t, path[0]), STRING)
    return Typed(t.properties[tuple(path)], JSON)


def _thing_properties_encode(row: Mapping[str, Any]) -> dict[str, Any]:
    extra = {k: v for k, v in (row["properties"] or {}).items() if k != "description"}
    own = {"kind": row["thing_kind"], "code": row["thing_code"]}
    if row["thing_name_en"]:
        own["name_en"] = row["thing_name_en"]
    return {**own, **extra}


THING = EntityType(
    name="Thing",
    set_name="Things",
    model=Asset,
    props={
        "id": _id(),
        "name": _column("name", "name", STRING),
        "description": Prop(
            "description", STRING,
            expr=lambda t: Typed(_thing_description(t), STRING),
            columns=lambda t: {"description": _thing_description(t)},
            encode=lambda row: row["description"],
        ),
        "properties": Prop(
            "properties", JSON,
            expr=lambda t: Typed(t.properties, JSON),
            columns=lambda t: {"properties": t.properties, "thing_kind": t.kind, "thing_code": t.code, "thing_name_en": t.name_en},
            encode=_thing_properties_encode,
            subpath=_thing_properties_subpath,
        ),
    },
    navs={
        "Locations": Nav("Locations", "Locations", True, ThingLocation, "thing_id", "location_id"),
        "HistoricalLocations": Nav("HistoricalLocations", "HistoricalLocations", True, HistoricalLocation, "thing_id", "id"),
        "Datastreams": Nav("Datastreams", "Datastreams", True, Datastream, "thing_id", "id"),
    },
    scope=lambda t, park_id: t.park_id == park_id,
)


# --- Location -----------------------------------------------------------------------------------------

def _location_encode(row: Mapping[str, Any]) -> Any:
    geometry = orjson.loads(row["location__geojson"]) if row["location__geojson"] else None
    # Heights (m above the park's ground) travel as the third coordinate of a Point.
    if geometry and geometry.get("type") == "Point" and row["location_height"] is not None:
        geometry["coordinates"] = [*geometry["coordinates"][:2], row["location_height"]]
    return geometry


def _things_in_park(park_id: int) -> Any:
    return select(Asset.id).where(Asset.park_id == park_id)


def _datastreams_in_park(park_id: int) -> Any:
    return select(Datastream.id).join(Asset, Asset.id == Datastream.thing_id).where(Asset.park_id == park_id)


LOCATION = EntityType(
    name="Location",
    set_name="Locations",
    model=Location,
    props={
        **_described(encoding=True),
        "location": Prop(
            "location", GEOMETRY,
            expr=lambda t: Typed(t.geom, GEOMETRY),
            columns=lambda t: {"location__geojson": func.ST_AsGeoJSON(t.geom, 9), "location_height": t.height},
            encode=_location_encode,
        ),
        "properties": _properties_prop(),
    },
    navs={
        "Things": Nav("Things", "Things", True, ThingLocation, "location_id", "thing_id"),
        "HistoricalLocations": Nav("HistoricalLocations", "HistoricalLocations", True, HistoricalLocationLocation, "location_id", "historical_location_id"),
    },
    scope=lambda t, park_id: or_(
        t.park_id == park_id,
        exists().where(ThingLocation.location_id == t.id, ThingLocation.thing_id.in_(_things_in_park(park_id))),
    ),
)


HISTORICAL_LOCATION = EntityType(
    name="HistoricalLocation",
    set_name="HistoricalLocations",
    model=HistoricalLocation,
    props={"id": _id(), "time": _column("time", "time", DATETIME)},
    navs={
        "Thing": Nav("Thing", "Things", False, HistoricalLocation, "id", "thing_id"),
        "Locations": Nav("Locations", "Locations", True, HistoricalLocationLocation, "historical_location_id", "location_id"),
    },
    scope=lambda t, park_id: t.thing_id.in_(_things_in_park(park_id)),
    key_columns=("id", "thing_id"),
)


def _used_by_park(t: Any, park_id: int, fk: str) -> ColumnElement[bool]:
    """Free-standing entities: created for the park, or linked from one of its Datastreams."""
    return or_(
        t.park_id == park_id,
        exists().where(getattr(Datastream, fk) == t.id, Datastream.thing_id.in_(_things_in_park(park_id))),
    )


SENSOR = EntityType(
    name="Sensor",
    set_name="Sensors",
    model=Sensor,
    props={
        **_described(encoding=True),
        "metadata": _json("metadata", "metadata_"),
        "properties": _properties_prop(),
    },
    navs={"Datastreams": Nav("Datastreams", "Datastreams", True, Datastream, "sensor_id", "id")},
    scope=lambda t, park_id: _used_by_park(t, park_id, "sensor_id"),
)


OBSERVED_PROPERTY = EntityType(
    name="ObservedProperty",
    set_name="ObservedProperties",
    model=ObservedProperty,
    props={
        **_described(),
        "definition": _column("definition", "definition", STRING),
        "properties": _properties_prop(),
    },
    navs={"Datastreams": Nav("Datastreams", "Datastreams", True, Datastream, "observed_property_id", "id")},
    scope=lambda t, park_id: _used_by_park(t, park_id, "observed_property_id"),
)


# --- Datastream: phenomenonTime / resultTime derived from its observations ----------------------------

def _first_observation(t: Any, column: Callable[[Any], Any], *, last: bool) -> Any:
    """A column of the datastream's first or last observation in phenomenon-time order (index scan).

    The observations table is aliased so the subquery never correlates to an enclosing query that
    reads observations itself (e.g. Observations?$expand=Datastream).
    """
    o = aliased(Observation)
    order = o.phenomenon_time.desc() if last else o.phenomenon_time.asc()
    return select(column(o)).where(o.datastream_id == t.id).order_by(order).limit(1).scalar_subquery()


def _time_range_prop(name: str, start_column: Callable[[Any], Any], end_column: Callable[[Any], Any]) -> Prop:
    # Served from the first and last observation by phenomenonTime (two index probes): exact for
    # phenomenonTime, and for resultTime whenever results are reported in order (see README).
    start_label, end_label = f"{name}__start", f"{name}__end"
    return Prop(
        name, DATETIME,
        expr=lambda t: Typed(_first_observation(t, start_column, last=False), DATETIME),
        columns=lambda t: {
            start_label: _first_observation(t, start_column, last=False),
            end_label: _first_observation(t, end_column, last=True),
        },
        encode=lambda row: interval(row[start_label], row[end_label]),
    )


DATASTREAM = EntityType(
    name="Datastream",
    set_name="Datastreams",
    model=Datastream,
    props={
        **_described(),
        "unitOfMeasurement": _json("unitOfMeasurement", "unit_of_measurement", default={}),
        "observationType": _column("observationType", "observation_type", STRING),
        "observedArea": _geometry("observedArea", "observed_area"),
        "phenomenonTime": _time_range_prop(
            "phenomenonTime", lambda o: o.phenomenon_time, lambda o: func.coalesce(o.phenomenon_time_end, o.phenomenon_time),
        ),
        "resultTime": _time_range_prop("resultTime", lambda o: o.result_time, lambda o: o.result_time),
        "properties": _properties_prop(),
    },
    navs={
        "Thing": Nav("Thing", "Things", False, Datastream, "id", "thing_id"),
        "Sensor": Nav("Sensor", "Sensors", False, Datastream, "id", "sensor_id"),
        "ObservedProperty": Nav("ObservedProperty", "ObservedProperties", False, Datastream, "id", "observed_property_id"),
        "Observations": Nav("Observations", "Observations", True, Observation, "datastream_id", "id"),
    },
    scope=lambda t, park_id: t.thing_id.in_(_things_in_park(park_id)),
    key_columns=("id", "thing_id", "sensor_id", "observed_property_id"),
)


# --- Observation -----------------------------------------------------------------------------------------

def number_value(number: float | None) -> float | int | None:
    """Integral doubles as JSON integers (a count reads 3, not 3.0)."""
    if number is not None and number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def _result_encode(row: Mapping[str, Any]) -> Any:
    number = row["result_number"]
    return number_value(number) if number is not None else row["result_json"]


def _valid_time_encode(row: Mapping[str, Any]) -> str | None:
    value = row["validTime"]
    if value is None or value.isempty:
        return None
    return interval(value.lower, value.upper)


def _default_feature(datastream_id: Any) -> Any:
    """The FeatureOfInterest made from the Datastream's Thing Location, for observations stored without one."""
    feature, link, datastream = aliased(FeatureOfInterest), aliased(ThingLocation), aliased(Datastream)
    return (
        select(feature.id)
        .join(link, link.location_id == feature.location_id)
        .join(datastream, datastream.thing_id == link.thing_id)
        .where(datastream.id == datastream_id)
        .order_by(link.location_id)
        .limit(1)
        .scalar_subquery()
    )


OBSERVATION = EntityType(
    name="Observation",
    set_name="Observations",
    model=Observation,
    props={
        "id": _id(),
        "phenomenonTime": Prop(
            "phenomenonTime", DATETIME,
            expr=lambda t: Typed(t.phenomenon_time, DATETIME),
            columns=lambda t: {"phenomenon_time": t.phenomenon_time, "phenomenon_time_end": t.phenomenon_time_end},
            encode=lambda row: interval(row["phenomenon_time"], row["phenomenon_time_end"]),
        ),
        "resultTime": _column("resultTime", "result_time", DATETIME),
        "result": Prop(
            "result", RESULT,
            expr=lambda t: Typed(t.result_number, RESULT, extra=t.result_json),
            columns=lambda t: {"result_number": t.result_number, "result_json": t.result_json},
            encode=_result_encode,
            subpath=lambda t, path: Typed(t.result_json[tuple(path)], JSON),
        ),
        "resultQuality": _json("resultQuality", "result_quality"),
        "validTime": Prop(
            "validTime", DATETIME,
            expr=lambda t: Typed(func.lower(t.valid_time), DATETIME),
            columns=lambda t: {"validTime": t.valid_time},
            encode=_valid_time_encode,
        ),
        "parameters": _json("parameters", "parameters"),
    },
    navs={
        "Datastream": Nav("Datastream", "Datastreams", False, Observation, "id", "datastream_id"),
        "FeatureOfInterest": Nav(
            "FeatureOfInterest", "FeaturesOfInterest", False, Observation, "id", "feature_of_interest_id",
            target_id=lambda o: func.coalesce(o.feature_of_interest_id, _default_feature(o.datastream_id)),
        ),
    },
    scope=lambda t, park_id: t.datastream_id.in_(_datastreams_in_park(park_id)),
    key_columns=("id", "datastream_id", "feature_of_interest_id"),
)


FEATURE_OF_INTEREST = EntityType(
    name="FeatureOfInterest",
    set_name="FeaturesOfInterest",
    model=FeatureOfInterest,
    props={
        **_described(encoding=True),
        "feature": _geometry("feature", "feature"),
        "properties": _properties_prop(),
    },
    navs={"Observations": Nav("Observations", "Observations", True, Observation, "feature_of_interest_id", "id")},
    # Features made from a Thing's Location carry its park; no scan of the observations here.
    scope=lambda t, park_id: t.park_id == park_id,
)


ENTITY_TYPES: tuple[EntityType, ...] = (
    THING, LOCATION, HISTORICAL_LOCATION, DATASTREAM, SENSOR, OBSERVED_PROPERTY, OBSERVATION, FEATURE_OF_INTEREST,
)
BY_SET: dict[str, EntityType] = {t.set_name: t for t in ENTITY_TYPES}
BY_NAME: dict[str, EntityType] = {t.name: t for t in ENTITY_TYPES}


def target_of(nav: Nav) -> EntityType:
    """The entity type a navigation property leads to."""
    return BY_SET[nav.target]


def link_condition(nav: Nav, source: Any, target: Any, link: Any | None = None) -> list[ColumnElement[bool]]:
    """Conditions joining a source entity (class or alias) to a target through `nav`.

    `link` is an alias of the link table when it is neither the source's nor the target's own table.
    """
    target_type = target_of(nav)
    if nav.link is target_type.model and nav.dst == "id":  # the target holds the foreign key
        return [getattr(target, nav.src) == source.id]
    if nav.src == "id" and nav.link is not target_type.model:  # the source holds the foreign key
        return [target.id == nav_target(nav, source)]
    assert link is not None, f"{nav.name} needs an alias of its link table"
    return [getattr(link, nav.src) == source.id, getattr(link, nav.dst) == target.id]


def needs_link_table(nav: Nav, source_model: Any) -> bool:
    """True when `nav` goes through a separate link table (many-to-many)."""
    target_model = target_of(nav).model
    return not ((nav.link is target_model and nav.dst == "id") or (nav.src == "id" and nav.link is source_model))


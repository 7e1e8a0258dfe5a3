"""STA Create-Update-Delete (OGC 18-088 §10): POST with deep insert and linking, PATCH, PUT, DELETE, $ref.

Everything runs in the caller's transaction (flush only): a deep insert that fails anywhere raises
and the request edge rolls back all of it. A Thing is an asset: creating one registers the asset
through the asset registry's validation (kind, attributes, bound feature) at its Location.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely import force_2d
from shapely.errors import ShapelyError
from shapely.geometry import shape
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from twin.db.models import (
    Asset,
    Datastream,
    FeatureOfInterest,
    HistoricalLocation,
    HistoricalLocationLocation,
    Location,
    Observation,
    ObservedProperty,
    Park,
    Sensor,
    ThingLocation,
)
from twin.errors import Conflict, InvalidInput
from twin.integration import ingest
from twin.integration.assets import registry
from twin.integration.assets.binding import Binder
from twin.integration.assets.spec import AssetSpec
from twin.integration.sta.model import BY_SET, EntityType, Nav, target_of
from twin.integration.sta.observations import default_features_of_interest, refresh_latest, split_result
from twin.integration.sta.reading import Context

GEOJSON_TYPES = ("application/geo+json", "application/vnd.geo+json")
DEFAULT_THING_KIND = "iot_gateway"  # a Thing posted without properties.kind
THING_OWN = ("kind", "code", "name_en", "park")
# Mandatory properties per entity type (OGC 18-088 §8.2).
MANDATORY: dict[str, tuple[str, ...]] = {
    "Things": ("name", "description"),
    "Locations": ("name", "description", "encodingType", "location"),
    "HistoricalLocations": ("time",),
    "Sensors": ("name", "description", "encodingType", "metadata"),
    "ObservedProperties": ("name", "definition", "description"),
    "Datastreams": ("name", "description", "unitOfMeasurement", "observationType"),
    "Observations": ("result",),
    "FeaturesOfInterest": ("name", "description", "encodingType", "feature"),
}
# Properties the server derives: ignored when a client sends them on create, refused on update.
DERIVED: dict[str, tuple[str, ...]] = {"Datastreams": ("phenomenonTime", "resultTime")}


class Writer:
    """Create, update and delete STA entities for one request (scope = the caller's park, if any)."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session = session
        self.ctx = ctx

    # --- visibility -------------------------------------------------------------------------------------

    def exists(self, entity: EntityType, entity_id: Any) -> int:
        """The id of a visible entity referenced in a body, or InvalidInput."""
        if isinstance(entity_id, bool) or not isinstance(entity_id, (int, str)) or not str(entity_id).isdigit():
            raise InvalidInput(f"{entity.name} @iot.id must be a positive integer, not {entity_id!r}")
        table = entity.model
        conditions = [table.id == int(entity_id)]
        scope = self.ctx.scope(entity)
        if scope is not None:
            conditions.append(scope)
        if self.session.scalar(select(table.id).where(*conditions)) is None:
            raise InvalidInput(f"{entity.name} {entity_id} (linked by @iot.id) does not exist")
        return int(entity_id)

    # --- create ----------------------------------------------------------------------------------------

    def create(self, entity: EntityType, body: Any, *, implied: dict[str, int] | None = None, park_id: int | None = None) -> int:
        """Create (or link, for `{"@iot.id": n}`) an entity with its nested entities; returns its id."""
        if not isinstance(body, dict):
            raise InvalidInput(f"a {entity.name} must be a JSON object")
        if "@iot.id" in body:
            return self.exists(entity, body["@iot.id"])
        body = {k: v for k, v in body.items() if k not in DERIVED.get(entity.set_name, ())}
        _check_keys(entity, body)
        missing = [p for p in MANDATORY[entity.set_name] if body.get(p) is None]
        if missing:
            raise InvalidInput(f"{entity.name} is missing mandatory {', '.join(missing)}")
        park = park_id if park_id is not None else self.ctx.park_id
        creator: Callable[..., int] = getattr(self, f"_create_{entity.set_name}")
        return creator(body, implied or {}, park)

    def _create_Things(self, body: dict[str, Any], implied: dict[str, int], park_id: int | None) -> int:
        location_ids = [self.create(BY_SET["Locations"], b, park_id=park_id) for b in _list(body, "Locations")]
        location_ids += [implied["Locations"]] if "Locations" in implied else []
        properties = dict(_object(body, "properties") or {})
        park = self._thing_park(properties, park_id, location_ids)
        position, height = self._position(location_ids, park)
        spec = _asset_spec(body, properties, position, height, code=_new_code())
        values = registry.row_values(park, spec, binder=Binder(self.session, park=park))
        if body.get("description"):
            values["properties"] = {**values["properties"], "description": body["description"]}
        if self.session.scalar(select(Asset.id).where(Asset.park_id == park.id, Asset.code == spec.code)) is not None:
            raise Conflict(f"a Thing (asset) with code '{spec.code}' already exists in park '{park.slug}'")
        asset = Asset(**values)
        self.session.add(asset)
        self.session.flush()
        for location_id in location_ids:
            self.session.execute(update(Location).where(Location.id == location_id, Location.park_id.is_(None)).values(park_id=park.id))
        if location_ids:
            self.set_thing_locations(asset.id, location_ids)
        for nested in _list(body, "Datastreams"):
            self.create(BY_SET["Datastreams"], nested, implied={"Thing": asset.id}, park_id=park.id)
        for nested in _list(body, "HistoricalLocations"):
            self.create(BY_SET["HistoricalLocations"], nested, implied={"Thing": asset.id}, park_id=park.id)
        return asset.id

    def _create_Locations(self, body: dict[str, Any], implied: dict[str, int], park_id: int | None) -> int:
        geom, height = _geometry(body, "location")
        location = Location(
            park_id=park_id, name=_text(body, "name"), description=_text(body, "description"),
            encoding_type=_encoding(body), geom=geom, height=height, properties=_object(body, "properties"),
        )
        self.session.add(location)
        self.session.flush()
        linked = [implied["Things"]] if "Things" in implied else []
        for nested in _list(body, "Things"):
            if isinstance(nested, dict) and "@iot.id" in nested:
                linked.append(self.exists(BY_SET["Things"], nested["@iot.id"]))
            else:  # a new Thing is linked to this Location while it is created
                self.create(BY_SET["Things"], nested, implied={"Locations": location.id}, park_id=park_id)
        for thing_id in linked:
            self.set_thing_locations(thing_id, [location.id])
        if "HistoricalLocations" in implied:  # POST HistoricalLocations(n)/Locations
            self.session.add(HistoricalLocationLocation(historical_location_id=implied["HistoricalLocations"], location_id=location.id))
            self.session.flush()
        return location.id

    def _create_HistoricalLocations(self, body: dict[str, Any], implied: dict[str, int], park_id: int | None) -> int:
        thing_id = self._required_link(body, implied, "Thing", "Things", park_id)
        row = HistoricalLocation(thing_id=thing_id, time=_time(body["time"], "time"))
        self.session.add(row)
        self.session.flush()
        location_ids = [self.create(BY_SET["Locations"], b, park_id=park_id) for b in _list(body, "Locations")]
        location_ids += [implied["Locations"]] if "Locations" in implied else []
        for location_id in dict.fromkeys(location_ids):
            self.session.add(HistoricalLocationLocation(historical_location_id=row.id, location_id=location_id))
        self.session.flush()
        return row.id

    def _create_Sensors(self, body: dict[str, Any], implied: dict[str, int], park_id: int | None) -> int:
        sensor = Sensor(
            park_id=park_id, name=_text(body, "name"), description=_text(body, "description"),
            encoding_type=_text(body, "encodingType"), metadata_=body["metadata"], properties=_object(body, "properties"),
        )
        return self._insert(sensor, body, "Datastreams", "Sensor", park_id)

    def _create_ObservedProperties(self, body: dict[str, Any], implied: dict[str, int], park_id: int | None) -> int:
        observed = ObservedProperty(
            park_id=park_id, name=_text(body, "name"), definition=_text(body, "definition"),
            description=_text(body, "description"), properties=_object(body, "properties"),
        )
        return self._insert(observed, body, "Datastreams", "ObservedProperty", park_id)

    def _create_Datastreams(self, body: dict[str, Any], implied: dict[str, int], park_id: int | None) -> int:
        unit = _unit(body["unitOfMeasurement"])
        thing_id = self._required_link(body, implied, "Thing", "Things", park_id)
        thing_park = self.session.scalar(select(Asset.park_id).where(Asset.id == thing_id))
        sensor_id = self._required_link(body, implied, "Sensor", "Sensors", thing_park)
        observed_id = self._required_link(body, implied, "ObservedProperty", "ObservedProperties", thing_park)
        area = _geometry(body, "observedArea")[0] if body.get("observedArea") is not None else None
        datastream = Datastream(
            thing_id=thing_id, sensor_id=sensor_id, observed_property_id=observed_id,
            name=_text(body, "name"), description=_text(body, "description"),
            observation_type=_text(body, "observationType"), unit_of_measurement=unit,
            observed_area=area, properties=_object(body, "properties"),
        )
        self.session.add(datastream)
        self.session.flush()
        default_features_of_interest(self.session, [datastream.id])  # for readings ingested without one
        return self._insert(datastream, body, "Observations", "Datastream", thing_park)

    def _create_FeaturesOfInterest(self, body: dict[str, Any], implied: dict[str, int], park_id: int | None) -> int:
        geom, _ = _geometry(body, "feature")
        feature = FeatureOfInterest(
            park_id=park_id, name=_text(body, "name"), description=_text(body, "description"),
            encoding_type=_encoding(body), feature=geom, properties=_object(body, "properties"),
        )
        return self._insert(feature, body, "Observations", "FeatureOfInterest", park_id)

    def _create_Observations(self, body: dict[str, Any], implied: dict[str, int], park_id: int | None) -> int:
        datastream_id = self._required_link(body, implied, "Datastream", "Datastreams", park_id)
        foi_body = body.get("FeatureOfInterest")
        if "FeatureOfInterest" in implied:
            foi_id = implied["FeatureOfInterest"]
        elif foi_body is not None:
            foi_park = self.session.scalar(select(Asset.park_id).join(Datastream, Datastream.thing_id == Asset.id).where(Datastream.id == datastream_id))
            foi_id = self.create(BY_SET["FeaturesOfInterest"], foi_body, park_id=foi_park)
        else:
            foi_id = default_features_of_interest(self.session, [datastream_id])[datastream_id]
        row = observation_row(body, datastream_id=datastream_id, foi_id=foi_id)
        outcome = ingest.insert_observations(self.session, [row], park_id=self.ctx.park_id)
        if outcome.rejected:
            raise InvalidInput(f"Observation rejected: {outcome.rejected[0][1]}")
        observation_id = outcome[0]
        if outcome.duplicates:
            stored = self.session.execute(
                select(Observation.result_number, Observation.result_json).where(Observation.id == observation_id)
            ).one()
            if tuple(stored) != split_result(row["result"]):
                raise Conflict(
                    f"Datastream {datastream_id} already has an Observation at phenomenonTime "
                    f"{row['phenomenon_time']} with another result: {self.ctx.self_link(BY_SET['Observations'], observation_id)}"
                )
        return observation_id

    # --- helpers for create ----------------------------------------------------------------------

    def _insert(self, row: Any, body: dict[str, Any], children: str, back: str, park_id: int | None) -> int:
        """Store a new row, then create (or link) the children nested under `children` pointing back to it."""
        self.session.add(row)
        self.session.flush()
        for nested in _list(body, children):
            self.create(BY_SET[children], nested, implied={back: row.id}, park_id=park_id)
        return int(row.id)

    def _required_link(self, body: dict[str, Any], implied: dict[str, int], nav: str, set_name: str, park_id: int | None) -> int:
        if nav in implied:
            if body.get(nav) is not None:
                raise InvalidInput(f"{nav} is given by the URL; do not repeat it in the body")
            return implied[nav]
        if body.get(nav) is None:
            raise InvalidInput(f"missing mandatory navigation property {nav} (an object, e.g. {{\"@iot.id\": 1}})")
        return self.create(BY_SET[set_name], body[nav], park_id=park_id)

    def _thing_park(self, properties: dict[str, Any], park_id: int | None, location_ids: list[int]) -> Park:
        slug = properties.get("park")
        if park_id is not None:
            park = self.session.get(Park, park_id)
            if park is None or (slug is not None and slug != park.slug):
                raise InvalidInput("properties.park must be the park of your credential")
            return park
        if slug is not None:
            park = self.session.scalar(select(Park).where(Park.slug == slug))
            if park is None:
                raise InvalidInput(f"properties.park: park '{slug}' not found")
            return park
        if location_ids:
            owner = self.session.scalar(select(Location.park_id).where(Location.id.in_(location_ids), Location.park_id.is_not(None)).limit(1))
            if owner is not None:
                return self.session.get(Park, owner)  # type: ignore[return-value]
        parks = list(self.session.scalars(select(Park).limit(2)))
        if len(parks) == 1:
            return parks[0]
        raise InvalidInput("name the Thing's park in properties.park (its slug)")

    def _position(self, location_ids: list[int], park: Park) -> tuple[tuple[float, float], float]:
        """The asset position: the first Location's point (or centroid) and height, else the park centre."""
        if location_ids:
            row = self.session.execute(
                select(Location.geom.ST_PointOnSurface().ST_X(), Location.geom.ST_PointOnSurface().ST_Y(), Location.height)
                .where(Location.id == location_ids[0])
            ).one()
            return (row[0], row[1]), row[2] or 0.0
        if park.center is not None:
            center = self.session.execute(select(Park.center.ST_X(), Park.center.ST_Y()).where(Park.id == park.id)).one()
            return (center[0], center[1]), 0.0
        raise InvalidInput("a Thing needs a Location (it is the asset's position)")

    def set_thing_locations(self, thing_id: int, location_ids: list[int]) -> None:
        """Make these the Thing's current Locations, record a HistoricalLocation, move the asset."""
        self.session.execute(delete(ThingLocation).where(ThingLocation.thing_id == thing_id))
        unique = list(dict.fromkeys(location_ids))
        self.session.execute(insert(ThingLocation), [{"thing_id": thing_id, "location_id": lid} for lid in unique])
        history = HistoricalLocation(thing_id=thing_id, time=datetime.now(UTC))
        self.session.add(history)
        self.session.flush()
        self.session.execute(
            insert(HistoricalLocationLocation), [{"historical_location_id": history.id, "location_id": lid} for lid in unique]
        )
        self._move_asset(thing_id, unique[0])

    def _move_asset(self, thing_id: int, location_id: int) -> None:
        point = select(Location.geom.ST_PointOnSurface()).where(Location.id == location_id).scalar_subquery()
        height = select(Location.height).where(Location.id == location_id).scalar_subquery()
        self.session.execute(update(Asset).where(Asset.id == thing_id).values(geom=point, height=func.coalesce(height, Asset.height)))

    # --- update --------------------------------------------------------------------------------------------

    def update(self, entity: EntityType, entity_id: int, body: Any, *, replace: bool) -> None:
        """PATCH (only the given properties) or PUT (every property; missing optional ones are cleared)."""
        if not isinstance(body, dict):
            raise InvalidInput(f"a {entity.name} must be a JSON object")
        body = {k: v for k, v in body.items() if k != "@iot.id" and "@iot." not in k}
        _check_keys(entity, body)
        if replace:
            missing = [p for p in MANDATORY[entity.set_name] if body.get(p) is None]
            if missing:
                raise InvalidInput(f"PUT replaces the whole {entity.name}: missing {', '.join(missing)}")
        navs = {k: v for k, v in body.items() if k in entity.navs}
        props = {k: v for k, v in body.items() if k in entity.props}
        updater: Callable[..., None] = getattr(self, f"_update_{entity.set_name}")
        updater(entity_id, props, replace)
        for name, value in navs.items():
            self._update_nav(entity, entity_id, entity.navs[name], value)
        self.session.flush()

    def _apply(self, table: Any, entity_id: int, values: dict[str, Any]) -> None:
        if values:
            self.session.execute(update(table).where(table.id == entity_id).values(**values))

    def _update_Things(self, entity_id: int, props: dict[str, Any], replace: bool) -> None:
        asset = self.session.get(Asset, entity_id)
        assert asset is not None
        park = self.session.get(Park, asset.park_id)
        assert park is not None
        name = _text(props, "name") if "name" in props else asset.name
        attributes = dict(asset.properties or {})
        description = props["description"] if "description" in props else attributes.get("description")
        kind, name_en, code = asset.kind, asset.name_en, asset.code
        if "properties" in props or replace:
            given = dict(_object(props, "properties") or {})
            code = given.pop("code", asset.code)
            if code != asset.code:
                raise InvalidInput(f"properties.code cannot be changed (Thing {entity_id} is asset '{asset.code}')")
            given.pop("park", None)
            kind = given.pop("kind", asset.kind)
            name_en = given.pop("name_en", None if replace else asset.name_en)
            attributes = given
        attributes.pop("description", None)
        lon, lat = self.session.execute(select(Asset.geom.ST_X(), Asset.geom.ST_Y()).where(Asset.id == entity_id)).one()
        spec = _validated_spec(code=asset.code, kind=kind, name=name, name_en=name_en, lon=lon, lat=lat, height=asset.height, attributes=attributes)
        values = registry.row_values(park, spec, binder=Binder(self.session, park=park))
        if description:
            values["properties"] = {**values["properties"], "description": description}
        for key in ("name", "name_en", "kind", "properties"):
            setattr(asset, key, values[key])

    def _update_Locations(self, entity_id: int, props: dict[str, Any], replace: bool) -> None:
        values = self._common(props, replace, ("name", "description"))
        if "encodingType" in props:
            values["encoding_type"] = _encoding(props)
        if "location" in props:
            values["geom"], values["height"] = _geometry(props, "location")
        if "properties" in props or replace:
            values["properties"] = _object(props, "properties")
        self._apply(Location, entity_id, values)
        if "location" in props:  # the Things standing there move with it
            for thing_id in self.session.scalars(select(ThingLocation.thing_id).where(ThingLocation.location_id == entity_id)):
                self._move_asset(thing_id, entity_id)

    def _update_HistoricalLocations(self, entity_id: int, props: dict[str, Any], replace: bool) -> None:
        if "time" in props:
            self._apply(HistoricalLocation, entity_id, {"time": _time(props["time"], "time")})

    def _update_Sensors(self, entity_id: int, props: dict[str, Any], replace: bool) -> None:
        values = self._common(props, replace, ("name", "description"))
        if "encodingType" in props:
            values["encoding_type"] = _text(props, "encodingType")
        if "metadata" in props:
            values["metadata_"] = props["metadata"]
        if "properties" in props or replace:
            values["properties"] = _object(props, "properties")
        self._apply(Sensor, entity_id, values)

    def _update_ObservedProperties(self, entity_id: int, props: dict[str, Any], replace: bool) -> None:
        values = self._common(props, replace, ("name", "description", "definition"))
        if "properties" in props or replace:
            values["properties"] = _object(props, "properties")
        self._apply(ObservedProperty, entity_id, values)

    def _update_Datastreams(self, entity_id: int, props: dict[str, Any], replace: bool) -> None:
        for derived in ("phenomenonTime", "resultTime"):
            if derived in props:
                raise InvalidInput(f"Datastream {derived} is derived from its Observations and cannot be set")
        values = self._common(props, replace, ("name", "description"))
        if "observationType" in props:
            values["observation_type"] = _text(props, "observationType")
        if "unitOfMeasurement" in props:
            values["unit_of_measurement"] = _unit(props["unitOfMeasurement"])
        if "observedArea" in props or replace:
            values["observed_area"] = _geometry(props, "observedArea")[0] if props.get("observedArea") is not None else None
        if "properties" in props or replace:
            values["properties"] = _object(props, "properties")
        self._apply(Datastream, entity_id, values)

    def _update_FeaturesOfInterest(self, entity_id: int, props: dict[str, Any], replace: bool) -> None:
        values = self._common(props, replace, ("name", "description"))
        if "encodingType" in props:
            values["encoding_type"] = _encoding(props)
        if "feature" in props:
            values["feature"] = _geometry(props, "feature")[0]
        if "properties" in props or replace:
            values["properties"] = _object(props, "properties")
        self._apply(FeatureOfInterest, entity_id, values)

    def _update_Observations(self, entity_id: int, props: dict[str, Any], replace: bool) -> None:
        values: dict[str, Any] = {}
        if "result" in props:
            values["result_number"], values["result_json"] = split_result(props["result"])
        if "phenomenonTime" in props:
            values["phenomenon_time"], values["phenomenon_time_end"] = _interval(props["phenomenonTime"], "phenomenonTime")
        if "resultTime" in props or replace:
            values["result_time"] = _time(props["resultTime"], "resultTime") if props.get("resultTime") is not None else None
        if "validTime" in props or replace:
            values["valid_time"] = _range(props.get("validTime"))
        for key, column in (("resultQuality", "result_quality"), ("parameters", "parameters")):
            if key in props or replace:
                values[column] = props.get(key)
        if values.get("parameters") is not None and not isinstance(values["parameters"], dict):
            raise InvalidInput("parameters must be a JSON object")
        datastream_id = self.session.scalar(select(Observation.datastream_id).where(Observation.id == entity_id))
        if "phenomenon_time" in values:
            clash = self.session.scalar(
                select(Observation.id).where(
                    Observation.datastream_id == datastream_id, Observation.phenomenon_time == values["phenomenon_time"], Observation.id != entity_id
                )
            )
            if clash is not None:
                raise Conflict(f"Datastream {datastream_id} already has an Observation at that phenomenonTime (Observations({clash}))")
        self._apply(Observation, entity_id, values)
        self.session.flush()
        refresh_latest(self.session, [datastream_id])

    def _common(self, props: dict[str, Any], replace: bool, names: tuple[str, ...]) -> dict[str, Any]:
        return {name: _text(props, name) for name in names if name in props}

    def _update_nav(self, entity: EntityType, entity_id: int, nav: Nav, value: Any) -> None:
        target = target_of(nav)
        if entity.set_name == "Things" and nav.name == "Locations":
            ids = [self.create(target, b) for b in _as_list(value, nav.name)]
            if ids:
                self.set_thing_locations(entity_id, ids)
            return
        if not nav.many and nav.link is entity.model:  # a foreign key on this entity
            target_id = self.create(target, value)
            self._apply(entity.model, entity_id, {nav.dst: target_id})
            if entity.set_name == "Observations" and nav.name == "Datastream":
                refresh_latest(self.session, self._observation_streams(entity_id, target_id))
            return
        raise InvalidInput(f"{entity.name}.{nav.name} cannot be changed with PATCH/PUT; use POST {entity.set_name}(id)/{nav.name}/$ref")

    def _observation_streams(self, observation_id: int, new_datastream: int) -> list[int]:
        return [new_datastream, *self.session.scalars(select(Observation.datastream_id).where(Observation.id == observation_id))]

    # --- delete and $ref -----------------------------------------------------------------------------------

    def delete(self, entity: EntityType, entity_id: int) -> None:
        """Delete an entity; the database cascades to what depends on it (OGC 18-088 §10.4)."""
        table = entity.model
        streams: list[int] = []
        if entity.set_name == "Observations":
            streams = list(self.session.scalars(select(Observation.datastream_id).where(Observation.id == entity_id)))
        self.session.execute(delete(table).where(table.id == entity_id))
        refresh_latest(self.session, streams)
        self.session.flush()

    def add_ref(self, entity: EntityType, entity_id: int, nav: Nav, body: Any) -> None:
        """POST Things(1)/Locations/$ref {"@iot.id": 2}: link an existing entity."""
        target = target_of(nav)
        target_id = self.exists(target, (body or {}).get("@iot.id") if isinstance(body, dict) else None)
        if entity.set_name == "Things" and nav.name == "Locations":
            current = list(self.session.scalars(select(ThingLocation.location_id).where(ThingLocation.thing_id == entity_id)))
            self.set_thing_locations(entity_id, [*current, target_id])
        elif entity.set_name == "Locations" and nav.name == "Things":
            current = list(self.session.scalars(select(ThingLocation.location_id).where(ThingLocation.thing_id == target_id)))
            self.set_thing_locations(target_id, [*current, entity_id])
        elif nav.link is target.model and nav.dst == "id":  # the target holds the foreign key
            self._apply(target.model, target_id, {nav.src: entity_id})
            if target.set_name == "Observations":
                refresh_latest(self.session, [entity_id])
        elif nav.link not in (entity.model, target.model):  # a link table
            self.session.execute(
                pg_insert(nav.link).values({nav.src: entity_id, nav.dst: target_id}).on_conflict_do_nothing()
            )
        else:
            raise InvalidInput(f"{entity.name}.{nav.name} is a single entity: use PUT {entity.set_name}({entity_id})/{nav.name}/$ref")
        self.session.flush()

    def set_ref(self, entity: EntityType, entity_id: int, nav: Nav, body: Any) -> None:
        """PUT Datastreams(1)/Sensor/$ref {"@iot.id": 2}: point a single-entity link elsewhere."""
        if nav.many:
            raise InvalidInput(f"{nav.name} is a collection: use POST .../{nav.name}/$ref to add a link")
        self._update_nav(entity, entity_id, nav, body)
        self.session.flush()

    def remove_ref(self, entity: EntityType, entity_id: int, nav: Nav, target_id: int) -> None:
        """DELETE Things(1)/Locations(2)/$ref: unlink (only links that are optional)."""
        if nav.link in (entity.model, target_of(nav).model):
            raise InvalidInput(f"the link {entity.name}.{nav.name} is mandatory; link another entity instead of removing it")
        self.session.execute(delete(nav.link).where(getattr(nav.link, nav.src) == entity_id, getattr(nav.link, nav.dst) == target_id))
        self.session.flush()


# --- body validation helpers ------------------------------------------------------------------------------------

def _new_code() -> str:
    """A code for a Thing posted without properties.code (unique with overwhelming probability)."""
    return f"STA-{uuid.uuid4().hex[:10].upper()}"


def _check_keys(entity: EntityType, body: dict[str, Any]) -> None:
    for key in body:
        if "@iot." in key:
            continue  # annotations (selfLink, navigationLink) are ignored
        if key == "id":
            raise InvalidInput(f"{entity.name} ids are set by the server")
        if key not in entity.props and key not in entity.navs:
            raise InvalidInput(f"{entity.name} has no property '{key}'; known: {', '.join([*entity.props, *entity.navs])}")


def _text(body: dict[str, Any], key: str, *, max_length: int = 10_000) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string")
    if len(value) > max_length:
        raise InvalidInput(f"{key} is longer than {max_length} characters")
    if "\x00" in value:
        raise InvalidInput(f"{key} contains a NUL character")
    return value


def _object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise InvalidInput(f"{key} must be a JSON object")
    return value


def _list(body: dict[str, Any], key: str) -> list[Any]:
    return _as_list(body.get(key), key) if body.get(key) is not None else []


def _as_list(value: Any, key: str) -> list[Any]:
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise InvalidInput(f"{key} must be a list of entities")
    return value


def _encoding(body: dict[str, Any]) -> str:
    encoding = _text(body, "encodingType")
    if encoding not in GEOJSON_TYPES:
        raise InvalidInput(f"encodingType must be one of {', '.join(GEOJSON_TYPES)} (GeoJSON), not '{encoding}'")
    return encoding


def _unit(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput("unitOfMeasurement must be an object with name, symbol and definition")
    unknown = set(value) - {"name", "symbol", "definition"}
    if unknown:
        raise InvalidInput(f"unitOfMeasurement has unknown keys: {', '.join(sorted(unknown))}")
    return value


def _geometry(body: dict[str, Any], key: str) -> tuple[Any, float | None]:
    """A GeoJSON geometry (or Feature) in WGS84 → (geometry column value, height from a Point's 3rd coordinate)."""
    value = body.get(key)
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or "type" not in value:
        raise InvalidInput(f"{key} must be a GeoJSON geometry")
    try:
        geometry = shape(value)
    except (ShapelyError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise InvalidInput(f"{key} is not a valid GeoJSON geometry") from None
    if geometry.is_empty:
        raise InvalidInput(f"{key} is empty")
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput(f"{key} is outside WGS84 longitude/latitude bounds")
    height = float(value["coordinates"][2]) if value["type"] == "Point" and len(value.get("coordinates", [])) > 2 else None
    return from_shape(force_2d(geometry), srid=4326), height


def _time(value: Any, what: str) -> datetime:
    try:
        return ingest.parse_time(value, what)
    except ingest.RowError as exc:
        raise InvalidInput(str(exc)) from None


def _interval(value: Any, what: str) -> tuple[datetime, datetime | None]:
    try:
        return ingest.parse_interval(value, what)
    except ingest.RowError as exc:
        raise InvalidInput(str(exc)) from None


def _range(value: Any) -> Any:
    if value is None:
        return None
    from sqlalchemy.dialects.postgresql import Range

    start, end = _interval(value, "validTime")
    return Range(start, end or start, bounds="[]")


def observation_row(body: dict[str, Any], *, datastream_id: int, foi_id: int | None) -> dict[str, Any]:
    """An Observation body as an ingest row (phenomenonTime defaults to now, OGC 18-088 §8.2.7)."""
    phenomenon = body.get("phenomenonTime") or datetime.now(UTC).isoformat()
    parameters = body.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise InvalidInput("parameters must be a JSON object")
    return {
        "datastream_id": datastream_id,
        "phenomenon_time": phenomenon,
        "result": body.get("result"),
        "result_time": body.get("resultTime"),
        "result_quality": body.get("resultQuality"),
        "valid_time": body.get("validTime"),
        "parameters": parameters,
        "feature_of_interest_id": foi_id,
    }


def _asset_spec(body: dict[str, Any], properties: dict[str, Any], position: tuple[float, float], height: float, *, code: str) -> AssetSpec:
    own = {k: properties.pop(k) for k in THING_OWN if k in properties}
    properties.pop("description", None)
    return _validated_spec(
        code=own.get("code") or code, kind=own.get("kind") or DEFAULT_THING_KIND, name=_text(body, "name", max_length=300),
        name_en=own.get("name_en"), lon=position[0], lat=position[1], height=height, attributes=properties,
    )


def _validated_spec(**fields: Any) -> AssetSpec:
    from pydantic import ValidationError

    try:
        return AssetSpec.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(f"Thing: {registry.validation_message(exc)}") from None


"""Where OGC API – Features collections come from: a small registry of providers.

A provider names a park's collections (`{park}-{suffix}`) and builds one on demand: a base query
whose rows carry a GeoJSON geometry, the queryable properties, and a row → GeoJSON Feature
function. A new table plugs in with one entry in PROVIDERS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, defer

from twin.db.models import Asset, BimElement, BimModel, BimModelVersion, Feature, Park
from twin.db.queries import assets as asset_queries
from twin.db.queries import features as feature_queries
from twin.integration.assets import kinds as asset_kinds
from twin.integration.assets.attributes import attribute_schema
from twin.integration.assets.registry import kinds_present
from twin.ogc.cql import Queryable


@dataclass(frozen=True)
class Collection:
    """One OGC collection of one park: metadata, base query and how to read its rows."""

    id: str
    park: Park
    title: str
    title_en: str
    description: str
    select: Select[Any]  # rows with a `geojson` column; already limited to the park and kind
    geom: Any  # the geometry column (bbox, spatial filters, extent)
    key: Any  # the column holding the feature id (unique in the collection)
    order: Any
    queryables: dict[str, Queryable]
    to_feature: Callable[[Any], dict[str, Any]]
    keywords: tuple[str, ...] = field(default=())


class Provider(Protocol):
    def names(self, session: Session, park: Park) -> list[str]:
        """The ids of the collections this provider offers for the park (cheap: no statements built)."""
        ...

    def build(self, park: Park, collection_id: str) -> Collection:
        """The collection with one of the ids `names` returned."""
        ...


# JSON Schema type → how to read a JSONB property as that SQL type.
JSON_CASTS: dict[str, Callable[[Any], Any]] = {
    "number": lambda e: e.as_float(),
    "integer": lambda e: e.as_integer(),
    "boolean": lambda e: e.as_boolean(),
    "string": lambda e: e.as_string(),
}


@dataclass(frozen=True)
class FeatureKindProvider:
    """Spatial features of some kinds (buildings, storeys...), with heights and parent code."""

    suffix: str
    kinds: tuple[str, ...]
    title: str
    title_en: str

    def names(self, session: Session, park: Park) -> list[str]:
        return [f"{park.slug}-{self.suffix}"]

    def build(self, park: Park, collection_id: str) -> Collection:
        # The geometry arrives as GeoJSON text; loading the WKB column too would only cost time.
        stmt = feature_queries.filtered(park, feature_queries.FeatureFilter(kinds=self.kinds)).options(defer(Feature.geom))
        columns = stmt.selected_columns
        queryables = {
            "code": Queryable(Feature.code, "string", "stable id"),
            "kind": Queryable(Feature.kind, "string"),
            "name": Queryable(Feature.name, "string", "名称"),
            "name_en": Queryable(Feature.name_en, "string", "English name"),
            "layer": Queryable(columns.layer_slug, "string"),
            "parent": Queryable(columns.parent_code, "string", "code of the parent feature"),
            "base_height": Queryable(Feature.base_height, "number", "m above the park's ground"),
            "top_height": Queryable(Feature.top_height, "number", "m above the park's ground"),
            "storeys": Queryable(Feature.storeys, "integer"),
            "height_source": Queryable(Feature.height_source, "string"),
            "updated": Queryable(Feature.updated_at, "datetime", "last change of the record"),
            "geometry": Queryable(Feature.geom, "geometry"),
        }
        return Collection(
            id=collection_id, park=park, title=f"{park.name} · {self.title}", title_en=f"{park.name_en or park.slug} · {self.title_en}",
            description=f"{self.title_en} ({', '.join(self.kinds)}) of {park.name_en or park.slug}; heights in metres above the park's ground",
            select=stmt, geom=Feature.geom, key=Feature.code, order=Feature.id, queryables=queryables,
            to_feature=lambda row: feature_queries.to_geojson(row.Feature, row.layer_slug, row.parent_code, row.geojson),
            keywords=self.kinds,
        )


@dataclass(frozen=True)
class AssetKindProvider:
    """One collection per asset kind present in the park; kind attributes are queryable."""

    suffix: str = "assets"

    def names(self, session: Session, park: Park) -> list[str]:
        return [f"{park.slug}-{self.suffix}-{code}" for code in kinds_present(session, park=park)]

    def build(self, park: Park, collection_id: str) -> Collection:
        code = collection_id.removeprefix(f"{park.slug}-{self.suffix}-")
        kind = asset_kinds.KINDS_BY_CODE.get(code)
        stmt = asset_queries.filtered(park, asset_queries.AssetFilter(kinds=(code,))).options(defer(Asset.geom))
        return Collection(
            id=collection_id, park=park,
            title=f"{park.name} · {kind.zh if kind else code}", title_en=f"{park.name_en or park.slug} · {kind.en if kind else code}",
            description=f"{kind.en if kind else code} devices (FIWARE {kind.fiware_type if kind and kind.fiware_type else 'n/a'}); points with height in metres above the park's ground",
            select=stmt, geom=Asset.geom, key=Asset.code, order=Asset.id, queryables=self._queryables(stmt, code),
            to_feature=lambda row: asset_queries.to_geojson(row.Asset, row.feature_code, row.geojson),
            keywords=(code, kind.fiware_type) if kind and kind.fiware_type else (code,),
        )

    @staticmethod
    def _queryables(stmt: Select[Any], code: str) -> dict[str, Queryable]:
        queryables = {
            "code": Queryable(Asset.code, "string", "stable id"),
            "kind": Queryable(Asset.kind, "string"),
            "name": Queryable(Asset.name, "string", "名称"),
            "name_en": Queryable(Asset.name_en, "string", "English name"),
            "feature": Queryable(stmt.selected_columns.feature_code, "string", "code of the bound feature"),
            "height": Queryable(Asset.height, "number", "m above the park's ground"),
            "updated": Queryable(Asset.updated_at, "datetime", "last change of the record"),
            "geometry": Queryable(Asset.geom, "geometry"),
        }
        kind = asset_kinds.KINDS_BY_CODE.get(code)
        if kind is None:
            return queryables
        for name, schema in attribute_schema(kind.attributes).get("properties", {}).items():
            json_type = next((s.get("type") for s in schema.get("anyOf", [schema]) if s.get("type") != "null"), None)
            if json_type in JSON_CASTS and name not in queryables:
                queryables[name] = Queryable(JSON_CASTS[json_type](Asset.properties[name]), json_type, schema.get("description"))
        return queryables


@dataclass(frozen=True)
class BimElementProvider:
    """IFC elements of the park's published BIM model versions, as footprints with a z-range."""

    suffix: str = "bim-elements"

    def names(self, session: Session, park: Park) -> list[str]:
        return [f"{park.slug}-{self.suffix}"]

    def build(self, park: Park, collection_id: str) -> Collection:
        stmt = (
            select(BimElement, BimModel.name.label("model_name"), func.ST_AsGeoJSON(BimElement.footprint, 7).label("geojson"))
            .join(BimModelVersion, BimModelVersion.id == BimElement.version_id)
            .join(BimModel, BimModel.id == BimModelVersion.model_id)
            .where(BimModel.park_id == park.id, BimModelVersion.state == "published", BimElement.footprint.is_not(None))
            .options(defer(BimElement.footprint))
        )
        queryables = {
            "global_id": Queryable(BimElement.global_id, "string", "IFC GlobalId"),
            "ifc_class": Queryable(BimElement.ifc_class, "string"),
            "name": Queryable(BimElement.name, "string"),
            "storey": Queryable(BimElement.storey, "string"),
            "model": Queryable(BimModel.name, "string"),
            "z_min": Queryable(BimElement.z_min, "number", "m above the park's ground"),
            "z_max": Queryable(BimElement.z_max, "number", "m above the park's ground"),
            "geometry": Queryable(BimElement.footprint, "geometry"),
        }
        return Collection(
            id=collection_id, park=park, title=f"{park.name} · BIM 构件", title_en=f"{park.name_en or park.slug} · BIM elements",
            description="IFC elements of the published BIM models: footprints (WGS84) with z_min/z_max in metres above the park's ground",
            select=stmt, geom=BimElement.footprint, key=BimElement.global_id, order=BimElement.id, queryables=queryables,
            to_feature=_bim_feature, keywords=("IFC", "BIM"),
        )


def _bim_feature(row: Any) -> dict[str, Any]:
    element: BimElement = row.BimElement
    properties = {
        "global_id": element.global_id, "ifc_class": element.ifc_class, "name": element.name, "storey": element.storey,
        "model": row.model_name, "z_min": element.z_min, "z_max": element.z_max, "psets": element.psets or {},
    }
    return {"type": "Feature", "id": element.global_id, "geometry": orjson.loads(row.geojson), "properties": properties}


PROVIDERS: tuple[Provider, ...] = (
    FeatureKindProvider("buildings", ("building",), "建筑", "Buildings"),
    FeatureKindProvider("storeys", ("storey",), "楼层", "Storeys"),
    FeatureKindProvider("spaces", ("space",), "房间", "Spaces (rooms)"),
    FeatureKindProvider("roads", ("road",), "道路", "Roads"),
    FeatureKindProvider("parking", ("parking_lot", "parking_space"), "停车场与车位", "Parking lots and spaces"),
    FeatureKindProvider("key-locations", ("key_location",), "关键位置", "Key locations"),
    FeatureKindProvider("zones", ("zone", "geofence"), "功能分区", "Zones"),
    AssetKindProvider(),
    BimElementProvider(),
)


def collections_of(session: Session, park: Park) -> list[Collection]:
    """Every collection of one park, in registry order."""
    return [provider.build(park, name) for provider in PROVIDERS for name in provider.names(session, park)]


def find_collection(session: Session, park: Park, collection_id: str) -> Collection | None:
    """The park's collection with this id (only that one's statement is built), or None."""
    for provider in PROVIDERS:
        if collection_id in provider.names(session, park):
            return provider.build(park, collection_id)
    return None

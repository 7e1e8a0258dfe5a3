"""OGC API – Features documents: landing page, conformance, collections, queryables, items.

HTTP-agnostic: routes pass the base URL and a function that builds a page's URL; everything here
raises twin.errors. Coordinates are WGS84 lon/lat (CRS84); heights are properties, in metres.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, true
from sqlalchemy.orm import Session

from twin.access.roles import Principal
from twin.db.models import Park
from twin.db.queries import parks as park_queries
from twin.db.queries.features import BBox
from twin.errors import InvalidInput, NotFound
from twin.ogc import cql
from twin.ogc.providers import Collection, collections_of, find_collection

GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
ACCEPTED_CRS = {CRS84, "http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326", "CRS84", "OGC:CRS84"}
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# Query parameters of /items besides the collection's queryables.
ITEMS_PARAMETERS = frozenset({"limit", "offset", "bbox", "bbox-crs", "datetime", "filter", "filter-lang", "filter-crs", "crs", "f", "access_token"})
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
)
PageHref = Callable[[int, int], str]  # (offset, limit) → URL of that page of the same query


def landing(base: str) -> dict[str, Any]:
    """The landing page with the links a client starts from (`base` is the /ogc URL)."""
    return {
        "title": "ParkTwin OGC API – Features",
        "description": "园区一张图: park buildings, storeys, rooms, roads, parking, zones, key locations, devices and BIM elements (WGS84).",
        "links": [
            {"rel": "self", "type": JSON, "title": "this document", "href": base},
            {"rel": "service-desc", "type": OPENAPI, "title": "the API definition", "href": _root(base) + "/openapi.json"},
            {"rel": "service-doc", "type": "text/html", "title": "the API documentation", "href": _root(base) + "/docs"},
            {"rel": "conformance", "type": JSON, "title": "conformance classes", "href": base + "/conformance"},
            {"rel": "data", "type": JSON, "title": "collections", "href": base + "/collections"},
        ],
    }


def conformance() -> dict[str, Any]:
    """The conformance classes implemented (Part 1 core/GeoJSON/OAS30, Part 3 filtering, CQL2)."""
    return {"conformsTo": list(CONFORMANCE)}


def visible_parks(session: Session, *, principal: Principal) -> list[Park]:
    """The parks whose collections this caller may read (one park for a park-scoped token)."""
    return [p for p in park_queries.get_all(session) if principal.park_id in (None, p.id)]


def get_collections(session: Session, *, parks: list[Park], base: str) -> dict[str, Any]:
    """The collections document: every collection of every visible park, with extents."""
    collections = [describe(session, c, base=base) for park in parks for c in collections_of(session, park)]
    return {"links": [{"rel": "self", "type": JSON, "href": base + "/collections"}], "collections": collections}


def get_collection(session: Session, *, parks: list[Park], collection_id: str) -> Collection:
    """The collection with this id among the visible parks' collections, or NotFound."""
    # Longest slug first: a park "a-b" must win over a park "a" for the id "a-b-buildings".
    for park in sorted(parks, key=lambda p: len(p.slug), reverse=True):
        if collection_id.startswith(park.slug + "-"):
            found = find_collection(session, park, collection_id)
            if found is not None:
                return found
    raise NotFound(f"collection '{collection_id}' not found")


def describe(session: Session, collection: Collection, *, base: str) -> dict[str, Any]:
    """One collection's metadata: titles (zh/en), spatial extent, links to items and queryables."""
    href = f"{base}/collections/{collection.id}"
    extent = session.execute(
        collection.select.with_only_columns(
            func.ST_XMin(func.ST_Extent(collection.geom)), func.ST_YMin(func.ST_Extent(collection.geom)),
            func.ST_XMax(func.ST_Extent(collection.geom)), func.ST_YMax(func.ST_Extent(collection.geom)),
        )
    ).one()
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "keywords": list(collection.keywords),
        "titles": {"zh": collection.title, "en": collection.title_en},
        "park": collection.park.slug,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {
            "spatial": {"bbox": [list(extent)] if extent[0] is not None else [[-180.0, -90.0, 180.0, 90.0]], "crs": CRS84},
            "temporal": {"interval": [[None, None]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"},
        },
        "links": [
            {"rel": "self", "type": JSON, "href": href},
            {"rel": "items", "type": GEOJSON, "title": "features", "href": href + "/items"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": "application/schema+json", "title": "queryables", "href": href + "/queryables"},
        ],
    }


def queryables(collection: Collection, *, base: str) -> dict[str, Any]:
    """The collection's queryables as a JSON Schema (Part 3)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{collection.id}/queryables",
        "type": "object",
        "title": collection.title,
        "properties": {name: q.schema() for name, q in collection.queryables.items()},
        "additionalProperties": False,
    }


def get_items(
    session: Session, *, collection: Collection, params: Mapping[str, str], bbox: BBox | None, page_href: PageHref, base: str,
) -> dict[str, Any]:
    """One page of a collection as a GeoJSON FeatureCollection with numberMatched/Returned and links.

    `params` are the raw query parameters: limit, offset, datetime, filter, filter-lang and
    equality filters on queryables (`?kind=camera&name=...`); anything else is a 400.
    """
    limit, offset = _page(params)
    stmt = collection.select
    for condition in _conditions(collection, params, bbox):
        stmt = stmt.where(condition)
    matched = session.scalar(stmt.with_only_columns(func.count())) or 0
    rows = session.execute(stmt.order_by(collection.order).limit(limit).offset(offset))
    features = [collection.to_feature(row) for row in rows]
    links = [
        {"rel": "self", "type": GEOJSON, "href": page_href(offset, limit)},
        {"rel": "collection", "type": JSON, "href": f"{base}/collections/{collection.id}"},
    ]
    if offset + len(features) < matched:
        links.append({"rel": "next", "type": GEOJSON, "href": page_href(offset + limit, limit)})
    if offset > 0:
        links.append({"rel": "prev", "type": GEOJSON, "href": page_href(max(0, offset - limit), limit)})
    return {
        "type": "FeatureCollection",
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "numberMatched": matched,
        "numberReturned": len(features),
        "features": features,
        "links": links,
    }


def get_item(session: Session, *, collection: Collection, feature_id: str, base: str) -> dict[str, Any]:
    """One feature of a collection by id, with self/collection links, or NotFound."""
    row = session.execute(collection.select.where(collection.key == feature_id).order_by(collection.order).limit(1)).first()
    if row is None:
        raise NotFound(f"feature '{feature_id}' not found in collection '{collection.id}'")
    feature = collection.to_feature(row)
    href = f"{base}/collections/{collection.id}"
    feature["links"] = [
        {"rel": "self", "type": GEOJSON, "href": f"{href}/items/{feature_id}"},
        {"rel": "collection", "type": JSON, "href": href},
    ]
    return feature


def check_crs(value: str | None, *, parameter: str) -> None:
    """Only CRS84 / EPSG:4326 are served; anything else is a 400 naming the parameter."""
    if value is not None and value not in ACCEPTED_CRS:
        raise InvalidInput(f"{parameter} '{value}' is not supported; use {CRS84}")


def check_format(value: str | None) -> None:
    """`f=json`/`geojson` or nothing (HTML is not offered)."""
    if value is not None and value.lower() not in ("json", "geojson"):
        raise InvalidInput(f"format f={value} is not offered; use f=json")


def _page(params: Mapping[str, str]) -> tuple[int, int]:
    """(limit, offset): limit defaults to 100 and is capped at 10,000 (the server's maximum)."""
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
        offset = int(params.get("offset", 0))
    except ValueError:
        raise InvalidInput("limit and offset must be integers") from None
    if limit < 1 or offset < 0:
        raise InvalidInput("limit must be ≥ 1 and offset ≥ 0")
    return min(limit, MAX_LIMIT), offset


def _conditions(collection: Collection, params: Mapping[str, str], bbox: BBox | None) -> list[Any]:
    """The WHERE conditions of an items request: bbox, datetime, property equality, CQL2 filter."""
    unknown = sorted(set(params) - ITEMS_PARAMETERS - set(collection.queryables))
    if unknown:
        raise InvalidInput(
            f"unknown query parameter(s): {', '.join(unknown)}; queryables of this collection: {', '.join(sorted(collection.queryables))}"
        )
    check_crs(params.get("bbox-crs"), parameter="bbox-crs")
    check_crs(params.get("filter-crs"), parameter="filter-crs")
    check_crs(params.get("crs"), parameter="crs")
    check_format(params.get("f"))
    conditions: list[Any] = []
    if bbox:
        conditions.append(func.ST_Intersects(collection.geom, func.ST_MakeEnvelope(*bbox, 4326)))
    if params.get("datetime"):
        conditions.append(_datetime_condition(collection, params["datetime"]))
    for name, value in params.items():
        if name in collection.queryables and name not in ITEMS_PARAMETERS:
            queryable = collection.queryables[name]
            conditions.append(queryable.expr == _typed(name, value, queryable.type))
    if params.get("filter"):
        conditions.append(cql.to_expression(params["filter"], lang=params.get("filter-lang"), queryables=collection.queryables))
    return conditions


def _typed(name: str, text: str, json_type: str) -> Any:
    """A query-string value as its queryable's type, or InvalidInput naming the property."""
    try:
        if json_type == "number":
            return float(text)
        if json_type == "integer":
            return int(text)
        if json_type == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        if json_type == "datetime":
            return _instant(text)
        if json_type == "geometry":
            raise ValueError
    except ValueError:
        raise InvalidInput(f"'{name}' must be a {json_type}" + (" (use bbox or a CQL2 filter)" if json_type == "geometry" else f", got '{text}'")) from None
    return text


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _datetime_condition(collection: Collection, text: str) -> Any:
    """`datetime` (an RFC 3339 instant or `start/end` with `..` open ends) on the record's last change."""
    updated = collection.queryables.get("updated")
    try:
        start_text, _, end_text = text.partition("/") if "/" in text else (text, "", text)
        start = None if start_text in ("", "..") else _instant(start_text)
        end = None if end_text in ("", "..") else _instant(end_text)
    except ValueError:
        raise InvalidInput(f"datetime '{text}' is not an RFC 3339 instant or interval (start/end, '..' for open)") from None
    if start is None and end is None or updated is None:
        return true()
    conditions = []
    if start is not None:
        conditions.append(updated.expr >= start)
    if end is not None:
        conditions.append(updated.expr <= end)
    return and_(*conditions)


def _root(base: str) -> str:
    return base.removesuffix("/ogc")

"""Read STA entities: collections with query options, single entities, properties, $ref, and batched $expand.

Every level of $expand is one query for all parents of that level (a LATERAL join per parent for
to-many navigation with $top/$skip/$orderby), never one query per entity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import BigInteger, ColumnElement, Select, any_, func, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from twin.errors import InvalidInput, NotFound
from twin.integration.sta.filtering import Compiler
from twin.integration.sta.model import BY_SET, EntityType, Nav, nav_target, needs_link_table, target_of
from twin.integration.sta.options import ExpandItem, QueryOptions, raw_query

# Default order (and tie-breaker): ids; but the Observations of one Datastream go in time order,
# which is their unique index (datastream_id, phenomenon_time DESC), so paging is an index scan.
DEFAULT_ORDER: tuple[str, ...] = ("id",)
ONE_DATASTREAM_ORDER: tuple[str, ...] = ("phenomenonTime", "id")


URL_SAFE = "$(),;/='"


@dataclass(frozen=True, slots=True)
class Context:
    """Per-request reading context: absolute base URL, park scope and the $top cap."""

    base: str  # e.g. "http://127.0.0.1:8000/sta/v1.1"
    park_id: int | None
    max_top: int

    def scope(self, entity: EntityType, table: Any | None = None) -> ColumnElement[bool] | None:
        """The park-scope condition for an entity type (None for a token valid in every park)."""
        if self.park_id is None:
            return None
        return entity.scope(table if table is not None else entity.model, self.park_id)

    def self_link(self, entity: EntityType, entity_id: int) -> str:
        return f"{self.base}/{entity.set_name}({entity_id})"


def url(base: str, params: dict[str, str]) -> str:
    """base?params with spaces as %20 (as OData examples write them)."""
    return f"{base}?{urlencode(params, quote_via=quote, safe=URL_SAFE)}" if params else base


# --- selection ------------------------------------------------------------------------------------------

def _selection(entity: EntityType, options: QueryOptions) -> tuple[list[str], list[str], bool]:
    """(properties, navigation links, show id) for $select (everything when absent)."""
    if options.select is None:
        return [p for p in entity.props if p != "id"], list(entity.navs), True
    props, navs = [], []
    for name in options.select:
        if name == "id":
            continue
        if name in entity.props:
            props.append(name)
        elif name in entity.navs:
            navs.append(name)
        else:
            raise InvalidInput(f"$select: {entity.name} has no property '{name}'; known: {', '.join([*entity.props, *entity.navs])}")
    return props, navs, "id" in options.select


def _columns(entity: EntityType, table: Any, props: list[str]) -> dict[str, Any]:
    columns = {key: getattr(table, key) for key in entity.key_columns}
    for name in props:
        columns.update(entity.props[name].columns(table))
    return columns


def encode(entity: EntityType, row: Any, props: list[str], navs: list[str], show_id: bool, ctx: Context) -> dict[str, Any]:
    """One entity as STA JSON: @iot.id, @iot.selfLink, properties, navigation links."""
    out: dict[str, Any] = {}
    link = ctx.self_link(entity, row["id"])
    if show_id:
        out["@iot.id"] = row["id"]
        out["@iot.selfLink"] = link
    for name in props:
        out[name] = entity.props[name].encode(row)
    for name in navs:
        out[f"{name}@iot.navigationLink"] = f"{link}/{name}"
    return out


# --- statements ---------------------------------------------------------------------------------------------

def _conditions(entity: EntityType, table: Any, options: QueryOptions, ctx: Context) -> list[Any]:
    conditions = []
    scope = ctx.scope(entity, table)
    if scope is not None:
        conditions.append(scope)
    if options.filter is not None:
        conditions.append(Compiler(entity, table).filter(options.filter))
    return conditions


def _order(entity: EntityType, table: Any, options: QueryOptions, *, one_datastream: bool = False) -> list[Any]:
    """ORDER BY for $orderby, then the default order as tie-breaker (stable pages without gaps).

    NULLS LAST only where a value can be null: on NOT NULL columns it would stop PostgreSQL from
    reading the (datastream_id, phenomenon_time DESC) index in order.
    """
    order: list[Any] = []
    compiler = Compiler(entity, table)
    for term in options.orderby:
        for expression in compiler.order(term.expression):
            ordered = expression.desc() if term.descending else expression.asc()
            order.append(ordered.nulls_last() if _nullable(expression) else ordered)
    written = {term.text.strip() for term in options.orderby}
    for name in ONE_DATASTREAM_ORDER if one_datastream and entity.set_name == "Observations" else DEFAULT_ORDER:
        if name not in written:
            order.append(entity.props[name].expr(table).sql.asc())
    return order


def _nullable(expression: Any) -> bool:
    column = getattr(expression, "expression", expression)
    return bool(getattr(column, "nullable", True))


# --- collections and entities --------------------------------------------------------------------------------

def read_collection(
    session: Session, *, entity: EntityType, conditions: list[Any], options: QueryOptions, ctx: Context, link: str,
    one_datastream: bool = False,
) -> dict[str, Any]:
    """An entity collection (`{"@iot.count"?, "@iot.nextLink"?, "value": [...]}`), expanded as asked.

    `one_datastream`: the rows are one Datastream's Observations (they default to time order).
    """
    props, navs, show_id = _selection(entity, options)
    table = entity.model
    where = [*conditions, *_conditions(entity, table, options, ctx)]
    limit = options.limit(ctx.max_top)
    stmt = (
        select(*[c.label(k) for k, c in _columns(entity, table, props).items()])
        .where(*where)
        .order_by(*_order(entity, table, options, one_datastream=one_datastream))
        .limit(limit + 1)
        .offset(options.skip)
    )
    rows = [r._mapping for r in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    result: dict[str, Any] = {}
    if options.count:
        result["@iot.count"] = session.scalar(select(func.count()).select_from(table).where(*where))
    if more:
        result["@iot.nextLink"] = url(link, raw_query(options, **{"$top": limit, "$skip": options.skip + limit}))
    if options.result_format == "dataArray":
        result["value"] = _data_array(entity, rows, props, ctx)
        return result
    entities = [encode(entity, row, props, navs, show_id, ctx) for row in rows]
    expand(session, entity=entity, rows=rows, entities=entities, items=options.expand, ctx=ctx)
    result["value"] = entities
    return result


def read_entity(session: Session, *, entity: EntityType, entity_id: int, options: QueryOptions, ctx: Context) -> dict[str, Any]:
    """One entity by id (already resolved and visible), with $select and $expand."""
    if options.filter is not None or options.orderby or options.top is not None or options.skip or options.count:
        raise InvalidInput("$filter, $orderby, $top, $skip and $count apply to collections, not to a single entity")
    props, navs, show_id = _selection(entity, options)
    table = entity.model
    stmt = select(*[c.label(k) for k, c in _columns(entity, table, props).items()]).where(table.id == entity_id)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound(f"{entity.set_name}({entity_id}) not found")
    rows = [row._mapping]
    entities = [encode(entity, rows[0], props, navs, show_id, ctx)]
    expand(session, entity=entity, rows=rows, entities=entities, items=options.expand, ctx=ctx)
    return entities[0]


def read_property(session: Session, *, entity: EntityType, entity_id: int, name: str) -> Any:
    """The value of one property of one entity."""
    table = entity.model
    prop = entity.props[name]
    columns = prop.columns(table)
    row = session.execute(select(*[c.label(k) for k, c in columns.items()]).where(table.id == entity_id)).first()
    if row is None:
        raise NotFound(f"{entity.set_name}({entity_id}) not found")
    return prop.encode(row._mapping) if name != "id" else entity_id


def read_refs(
    session: Session, *, entity: EntityType, conditions: list[Any], options: QueryOptions, ctx: Context, link: str,
    one_datastream: bool = False,
) -> dict[str, Any]:
    """`.../$ref` of a collection: the selfLinks of its entities, paged."""
    if options.select is not None or options.expand:
        raise InvalidInput("$select and $expand do not apply to $ref")
    table = entity.model
    where = [*conditions, *_conditions(entity, table, options, ctx)]
    limit = options.limit(ctx.max_top)
    ids = list(session.scalars(select(table.id).where(*where).order_by(*_order(entity, table, options, one_datastream=one_datastream)).limit(limit + 1).offset(options.skip)))
    result: dict[str, Any] = {}
    if options.count:
        result["@iot.count"] = session.scalar(select(func.count()).select_from(table).where(*where))
    if len(ids) > limit:
        result["@iot.nextLink"] = url(link, raw_query(options, **{"$top": limit, "$skip": options.skip + limit}))
    result["value"] = [{"@iot.selfLink": ctx.self_link(entity, i)} for i in ids[:limit]]
    return result


# --- $expand, one query per level and navigation property ---------------------------------------------------------

def expand(session: Session, *, entity: EntityType, rows: list[Any], entities: list[dict[str, Any]], items: list[ExpandItem], ctx: Context) -> None:
    """Attach expanded navigation properties to `entities` (parallel to `rows`), level by level."""
    if not rows or not items:
        return
    for item in items:
        nav = entity.navs.get(item.nav)
        if nav is None:
            raise InvalidInput(f"$expand: {entity.name} has no navigation property '{item.nav}'; known: {', '.join(entity.navs)}")
        target = target_of(nav)
        props, navs, show_id = _selection(target, item.options)
        parent_ids = [row["id"] for row in rows]
        if nav.many:
            children, counts, more = _fetch_many(session, entity, nav, target, parent_ids, props, item.options, ctx)
        else:
            if item.options.orderby or item.options.top is not None or item.options.skip or item.options.count:
                raise InvalidInput(f"$expand: {item.nav} is a single entity; $orderby, $top, $skip and $count do not apply")
            children, counts, more = _fetch_one(session, entity, nav, target, parent_ids, props, item.options, ctx), {}, set()
        child_rows: list[Any] = []
        child_entities: list[dict[str, Any]] = []
        next_query = ""
        if nav.many:  # the same for every parent: encode it once
            limit = item.options.limit(ctx.max_top)
            next_query = url("", raw_query(item.options, **{"$top": limit, "$skip": item.options.skip + limit}))
        for row, out in zip(rows, entities):
            related = children.get(row["id"], [])
            encoded = [encode(target, r, props, navs, show_id, ctx) for r in related]
            child_rows += related
            child_entities += encoded
            if nav.many:
                if item.options.count:
                    out[f"{nav.name}@iot.count"] = counts.get(row["id"], 0)
                out[nav.name] = encoded
                if row["id"] in more:
                    out[f"{nav.name}@iot.nextLink"] = f"{ctx.self_link(entity, row['id'])}/{nav.name}{next_query}"
            elif encoded:
                out[nav.name] = encoded[0]
        expand(session, entity=target, rows=child_rows, entities=child_entities, items=item.options.expand, ctx=ctx)


def _fetch_many(
    session: Session, entity: EntityType, nav: Nav, target: EntityType, parent_ids: list[int],
    props: list[str], options: QueryOptions, ctx: Context,
) -> tuple[dict[int, list[Any]], dict[int, int], set[int]]:
    """Related rows per parent: LATERAL (… ORDER BY … LIMIT top+1 OFFSET skip) for every parent at once."""
    table = target.model
    parents = _id_table(parent_ids)
    parent = parents.c.parent_id
    limit = options.limit(ctx.max_top)
    columns = _columns(target, table, props)
    inner: Select[Any] = select(*[c.label(k) for k, c in columns.items()]).select_from(table)
    link_condition, inner = _link(nav, entity, table, inner, parent)
    where = [link_condition, *_conditions(target, table, options, ctx)]
    in_time_order = entity.set_name == "Datastreams"
    lateral = inner.where(*where).order_by(*_order(target, table, options, one_datastream=in_time_order)).limit(limit + 1).offset(options.skip).lateral("related")
    stmt = select(parent.label("parent__id"), *[lateral.c[k] for k in columns]).select_from(parents).join(lateral, true())
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(stmt):
        mapping = row._mapping
        grouped[mapping["parent__id"]].append(mapping)
    more = {pid for pid, rows in grouped.items() if len(rows) > limit}
    trimmed = {pid: rows[:limit] for pid, rows in grouped.items()}
    counts: dict[int, int] = {}
    if options.count:
        counted = select(parent.label("parent__id"), func.count().label("n")).select_from(table)
        count_condition, counted = _link(nav, entity, table, counted, parent)
        counted = counted.join(parents, true()).where(count_condition, *_conditions(target, table, options, ctx)).group_by(parent)
        counts = {r.parent__id: r.n for r in session.execute(counted)}
    return trimmed, counts, more


def _id_array(ids: list[int]) -> Any:
    """The ids as ONE array parameter (a statement per level compiles once, whatever the number of parents)."""
    return literal(list(dict.fromkeys(ids)), ARRAY(BigInteger))


def _id_table(ids: list[int]) -> Any:
    """`unnest(:ids) AS parents(parent_id)`, to join a LATERAL subquery per parent."""
    return func.unnest(_id_array(ids)).table_valued("parent_id").render_derived(name="parents")


def _link(nav: Nav, entity: EntityType, table: Any, stmt: Select[Any], parent: Any) -> tuple[Any, Select[Any]]:
    """The condition tying target rows to `parent` (a parent id column), joining the link table if any."""
    if nav.link is table and nav.dst == "id":
        return getattr(table, nav.src) == parent, stmt
    if needs_link_table(nav, entity.model) or nav.src == "id":
        link = nav.link
        stmt = stmt.join(link, nav_target(nav, link) == table.id)
        return getattr(link, nav.src) == parent, stmt
    raise AssertionError(f"unsupported navigation {nav.name}")


def _fetch_one(
    session: Session, entity: EntityType, nav: Nav, target: EntityType, parent_ids: list[int],
    props: list[str], options: QueryOptions, ctx: Context,
) -> dict[int, list[Any]]:
    """The related entity of each parent (to-one navigation), in one query."""
    table = target.model
    link = nav.link
    columns = _columns(target, table, props)
    stmt = (
        select(getattr(link, nav.src).label("parent__id"), *[c.label(k) for k, c in columns.items()])
        .select_from(table)
        .join(link, nav_target(nav, link) == table.id)
        .where(getattr(link, nav.src) == any_(_id_array(parent_ids)), *_conditions(target, table, options, ctx))
    )
    return {row._mapping["parent__id"]: [row._mapping] for row in session.execute(stmt)}


# --- Data Array result format (OGC 18-088 §14.3) ---------------------------------------------------------------------

DATA_ARRAY_COMPONENTS = ("id", "phenomenonTime", "resultTime", "result", "resultQuality", "validTime", "parameters")


def _data_array(entity: EntityType, rows: list[Any], props: list[str], ctx: Context) -> list[dict[str, Any]]:
    if entity.set_name != "Observations":
        raise InvalidInput("$resultFormat=dataArray applies to Observations only")
    components = ["id", *[p for p in DATA_ARRAY_COMPONENTS if p in props]]
    groups: dict[int, list[list[Any]]] = defaultdict(list)
    for row in rows:
        groups[row["datastream_id"]].append([row["id"] if c == "id" else entity.props[c].encode(row) for c in components])
    datastreams = BY_SET["Datastreams"]
    return [
        {
            "Datastream@iot.navigationLink": ctx.self_link(datastreams, ds_id),
            "components": components,
            "dataArray@iot.count": len(array),
            "dataArray": array,
        }
        for ds_id, array in groups.items()
    ]


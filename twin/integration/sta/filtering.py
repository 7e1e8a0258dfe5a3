"""Compile a parsed STA expression ($filter, $orderby) into SQLAlchemy expressions over the entity tables.

Every literal becomes a bound parameter; property names resolve through the entity descriptions in
model.py (unknown names are a 400). A navigation path (`Datastream/Thing/name`) joins aliased
tables inside an EXISTS around the smallest predicate that uses it, so a to-many path means "any
related entity matches" (as in OData `any`). Times compare in UTC; geo.distance and geo.length are
in metres (on the WGS84 spheroid); the st_* functions are PostGIS's on SRID 4326 geometries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import shapely.wkt
from geoalchemy2 import Geography
from odata_query import ast
from shapely.errors import ShapelyError
from sqlalchemy import Boolean, Date, Integer, DateTime, Float, Time, and_, case, cast, exists, false, func, literal, not_, null, or_, select, true
from sqlalchemy.orm import aliased

from twin.errors import InvalidInput
from twin.integration.sta import model
from twin.integration.sta.model import (
    BOOL, DATE, DATETIME, DURATION, GEOMETRY, JSON, NULL, NUMBER, RESULT, STRING, TIME,
    EntityType, Typed, json_number, json_text, link_condition, needs_link_table, target_of,
)

MIN_DATETIME = datetime(1, 1, 1, tzinfo=UTC)
MAX_DATETIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
DE9IM = re.compile(r"^[TF*012]{9}$")
COMPARATORS = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
}
ST_PREDICATES = {
    "st_equals": func.ST_Equals, "st_disjoint": func.ST_Disjoint, "st_touches": func.ST_Touches,
    "st_within": func.ST_Within, "st_overlaps": func.ST_Overlaps, "st_crosses": func.ST_Crosses,
    "st_intersects": func.ST_Intersects, "st_contains": func.ST_Contains, "intersects": func.ST_Intersects,
}
# literal type → (what it is called in errors, kind, value → SQL literal)
TEMPORAL_LITERALS: dict[type, tuple[str, str, Any]] = {
    ast.DateTime: ("date-time", DATETIME, lambda v: literal(_utc(v), DateTime(timezone=True))),
    ast.Date: ("date", DATE, lambda v: literal(v, Date)),
    ast.Time: ("time", TIME, lambda v: literal(v, Time)),
    ast.Duration: ("ISO 8601 duration", DURATION, literal),
}
DATE_PARTS = {"year": "year", "month": "month", "day": "day", "hour": "hour", "minute": "minute"}


@dataclass
class _Joins:
    """Aliased tables and join conditions collected while compiling one predicate."""

    froms: list[Any] = field(default_factory=list)
    conditions: list[Any] = field(default_factory=list)
    many: bool = False


class Compiler:
    """Compiles expressions for one entity type (the root of every path)."""

    def __init__(self, entity: EntityType, table: Any | None = None) -> None:
        self.entity = entity
        self.table = table if table is not None else entity.model
        self.variables: dict[str, tuple[EntityType, Any]] = {}
        self._joins: _Joins | None = None

    # --- public ------------------------------------------------------------------------------------

    def filter(self, node: ast._Node) -> Any:
        """A boolean SQL expression for a $filter AST."""
        return self._bool(node)

    def order(self, node: ast._Node) -> list[Any]:
        """SQL expressions to ORDER BY for one $orderby term (to-one paths only)."""
        outer, self._joins = self._joins, _Joins()
        try:
            value = self._value(node)
            joins = self._joins
        finally:
            self._joins = outer
        if joins.many:
            raise InvalidInput("$orderby cannot use a path through a to-many navigation property")
        if value.kind == GEOMETRY:
            raise InvalidInput("$orderby cannot sort by a geometry; use geo.distance(...)")
        if value.kind == RESULT:
            columns = [value.sql, json_text(value.extra)]
        elif value.kind == JSON:
            columns = [json_number(value.sql), json_text(value.sql)]
        else:
            columns = [value.sql]
        if joins.froms:
            return [select(c).select_from(*joins.froms).where(*joins.conditions).limit(1).scalar_subquery() for c in columns]
        return columns

    # --- boolean expressions ---------------------------------------------------------------------------

    def _bool(self, node: ast._Node) -> Any:
        if isinstance(node, ast.BoolOp):
            combine = and_ if isinstance(node.op, ast.And) else or_
            return combine(self._bool(node.left), self._bool(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not_(self._bool(node.operand))
        if isinstance(node, ast.Boolean):
            return true() if node.py_val else false()
        if isinstance(node, ast.CollectionLambda):
            return self._lambda(node)
        return self._predicate(node)

    def _predicate(self, node: ast._Node) -> Any:
        """A comparison or boolean function, wrapped in EXISTS when it follows navigation paths."""
        outer, self._joins = self._joins, _Joins()
        try:
            if isinstance(node, ast.Compare):
                expression = self._compare(node)
            else:
                value = self._value(node)
                expression = self._as(value, BOOL, node)
            joins = self._joins
        finally:
            self._joins = outer
        if not joins.froms:
            return expression
        return exists(select(literal(1)).select_from(*joins.froms).where(*joins.conditions, expression))

    def _lambda(self, node: ast.CollectionLambda) -> Any:
        """`Datastreams/any(d: d/name eq 'x')` and `all(...)` as (NOT) EXISTS over the related rows."""
        names = _path_names(node.owner)
        outer, self._joins = self._joins, _Joins()
        try:
            entity, table = self._walk(names, allow_nav_end=True)
            joins = self._joins
        finally:
            self._joins = outer
        if not joins.many:
            raise InvalidInput(f"any()/all() needs a to-many navigation property, '{'/'.join(names)}' is not")
        inner: Any = true()
        if node.lambda_ is not None:
            variable = node.lambda_.identifier.name
            saved = self.variables.get(variable)
            self.variables[variable] = (entity, table)
            try:
                inner = self._bool(node.lambda_.expression)
            finally:
                if saved is None:
                    self.variables.pop(variable, None)
                else:
                    self.variables[variable] = saved
        if isinstance(node.operator, ast.All):
            return not_(exists(select(literal(1)).select_from(*joins.froms).where(*joins.conditions, not_(inner))))
        return exists(select(literal(1)).select_from(*joins.froms).where(*joins.conditions, inner))

    def _compare(self, node: ast.Compare) -> Any:
        left = self._value(node.left)
        if isinstance(node.comparator, ast.In):
            if not isinstance(node.right, ast.List):
                raise InvalidInput("'in' needs a list of literals on the right, e.g. properties/kind in ('a','b')")
            values = [self._literal(v) for v in node.right.val]
            kind = _unify(left, values[0], node) if values else STRING
            return self._as(left, kind, node).in_([self._as(v, kind, node) for v in values])
        right = self._value(node.right)
        compare = COMPARATORS[type(node.comparator)]
        if NULL in (left.kind, right.kind):
            value = right if left.kind == NULL else left
            is_null = _is_null(value)
            return is_null if isinstance(node.comparator, ast.Eq) else not_(is_null) if isinstance(node.comparator, ast.NotEq) else false()
        kind = _unify(left, right, node)
        if kind == GEOMETRY:
            if not isinstance(node.comparator, (ast.Eq, ast.NotEq)):
                raise InvalidInput("geometries can only be compared with st_* functions or eq/ne")
            equal = func.ST_Equals(left.sql, right.sql)
            return equal if isinstance(node.comparator, ast.Eq) else not_(equal)
        return compare(self._as(left, kind, node), self._as(right, kind, node))

    # --- values --------------------------------------------------------------------------------------

    def _value(self, node: ast._Node) -> Typed:
        if isinstance(node, ast._Literal):
            return self._literal(node)
        if isinstance(node, (ast.Identifier, ast.Attribute)):
            return self._property(_path_names(node))
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.BinOp):
            return self._arithmetic(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return Typed(-self._as(self._value(node.operand), NUMBER, node), NUMBER)
            return Typed(self._bool(node), BOOL)
        if isinstance(node, (ast.Compare, ast.BoolOp, ast.CollectionLambda)):
            return Typed(self._bool(node), BOOL)
        raise InvalidInput(f"unsupported expression: {type(node).__name__}")

    def _literal(self, node: ast._Node) -> Typed:
        if isinstance(node, ast.Null):
            return Typed(null(), NULL)
        if isinstance(node, ast.Boolean):
            return Typed(literal(node.py_val, Boolean), BOOL)
        if isinstance(node, ast.Integer):
            return Typed(literal(int(node.val)), NUMBER)
        if isinstance(node, ast.Float):
            return Typed(literal(float(node.val), Float), NUMBER)
        if isinstance(node, ast.String):
            return Typed(literal(node.val), STRING, extra=node.val)
        temporal = TEMPORAL_LITERALS.get(type(node))
        if temporal is not None:
            what, kind, make = temporal
            try:
                value = node.py_val  # type: ignore[attr-defined]
            except ValueError:
                raise InvalidInput(f"'{node.val}' is not a valid {what}") from None  # type: ignore[attr-defined]
            return Typed(make(value), kind)
        if isinstance(node, ast.Geography):
            return Typed(geometry_literal(node.val), GEOMETRY)
        raise InvalidInput(f"unsupported literal: {type(node).__name__}")

    def _property(self, names: list[str]) -> Typed:
        entity, table = self.entity, self.table
        if names[0] in self.variables:
            entity, table = self.variables[names[0]]
            names = names[1:]
            if not names:
                raise InvalidInput("a lambda variable must be followed by a property, e.g. d/name")
        for index, name in enumerate(names):
            if name in entity.navs:
                if index == len(names) - 1:
                    raise InvalidInput(f"'{'/'.join(names)}' ends at a navigation property; add a property, e.g. {name}/id")
                entity, table = self._join(entity, table, entity.navs[name])
                continue
            prop = entity.props.get(name)
            if prop is None:
                raise InvalidInput(f"{entity.name} has no property '{name}'; known: {', '.join([*entity.props, *entity.navs])}")
            rest = names[index + 1 :]
            if not rest:
                return prop.expr(table)
            if prop.subpath is None:
                raise InvalidInput(f"{entity.name}/{name} has no sub-properties ('{'/'.join(names)}')")
            return prop.subpath(table, rest)
        raise InvalidInput(f"'{'/'.join(names)}' names no property")

    def _walk(self, names: list[str], *, allow_nav_end: bool) -> tuple[EntityType, Any]:
        """Follow navigation properties only (the owner of any/all)."""
        entity, table = self.entity, self.table
        if names and names[0] in self.variables:
            entity, table = self.variables[names[0]]
            names = names[1:]
        for name in names:
            nav = entity.navs.get(name)
            if nav is None:
                raise InvalidInput(f"{entity.name} has no navigation property '{name}'")
            entity, table = self._join(entity, table, nav)
        return entity, table

    def _join(self, entity: EntityType, table: Any, nav: model.Nav) -> tuple[EntityType, Any]:
        target = target_of(nav)
        target_table = aliased(target.model)
        link_table = aliased(nav.link) if needs_link_table(nav, entity.model) else None
        assert self._joins is not None
        self._joins.froms += [target_table] + ([link_table] if link_table is not None else [])
        self._joins.conditions += link_condition(nav, table, target_table, link_table)
        self._joins.many |= nav.many
        return target, target_table

    def _arithmetic(self, node: ast.BinOp) -> Typed:
        left, right = self._value(node.left), self._value(node.right)
        if left.kind == DATETIME and right.kind == DURATION and isinstance(node.op, (ast.Add, ast.Sub)):
            return Typed(left.sql + right.sql if isinstance(node.op, ast.Add) else left.sql - right.sql, DATETIME)
        a, b = self._as(left, NUMBER, node), self._as(right, NUMBER, node)
        if isinstance(node.op, ast.Add):
            return Typed(a + b, NUMBER)
        if isinstance(node.op, ast.Sub):
            return Typed(a - b, NUMBER)
        if isinstance(node.op, ast.Mult):
            return Typed(a * b, NUMBER)
        divisor = func.nullif(cast(b, Float), 0)  # x div 0 is null (matches nothing), not an error
        if isinstance(node.op, ast.Div):
            return Typed(cast(a, Float) / divisor, NUMBER)
        # OData mod: remainder with the sign of the dividend
        return Typed(cast(a, Float) - divisor * func.trunc(cast(a, Float) / divisor), NUMBER)

    def _call(self, node: ast.Call) -> Typed:
        name = node.func.full_name()
        args = [self._value(a) for a in node.args]

        def text(i: int) -> Any:
            return self._as(args[i], STRING, node)

        def number(i: int) -> Any:
            return self._as(args[i], NUMBER, node)

        def moment(i: int) -> Any:
            return func.timezone("UTC", self._as(args[i], DATETIME, node))

        def geometry(i: int) -> Any:
            if args[i].kind != GEOMETRY:
                raise InvalidInput(f"{name}() needs geometries (a geometry property or geography'WKT'), argument {i + 1} is not")
            return args[i].sql

        if name == "substringof":  # OData 3: substringof('needle', haystack)
            return Typed(func.strpos(text(1), text(0)) > 0, BOOL)
        if name == "contains":
            return Typed(func.strpos(text(0), text(1)) > 0, BOOL)
        if name == "startswith":
            return Typed(func.left(text(0), func.char_length(text(1))) == text(1), BOOL)
        if name == "endswith":
            return Typed(func.right(text(0), func.char_length(text(1))) == text(1), BOOL)
        if name == "length":
            return Typed(func.char_length(text(0)), NUMBER)
        if name == "indexof":
            return Typed(func.strpos(text(0), text(1)) - 1, NUMBER)
        if name == "substring":
            start = func.greatest(cast(number(1), Float), 0).cast(Integer) + 1
            if len(args) == 3:
                return Typed(func.substr(text(0), start, func.greatest(cast(number(2), Float), 0).cast(Integer)), STRING)
            return Typed(func.substr(text(0), start), STRING)
        if name in ("tolower", "toupper", "trim"):
            return Typed({"tolower": func.lower, "toupper": func.upper, "trim": func.btrim}[name](text(0)), STRING)
        if name == "concat":
            return Typed(func.concat(text(0), text(1)), STRING)
        if name in DATE_PARTS:
            return Typed(func.extract(DATE_PARTS[name], moment(0)), NUMBER)
        if name == "second":
            return Typed(func.floor(func.extract("second", moment(0))), NUMBER)
        if name == "fractionalseconds":
            seconds = func.extract("second", moment(0))
            return Typed(seconds - func.floor(seconds), NUMBER)
        if name == "date":
            return Typed(cast(moment(0), Date), DATE)
        if name == "time":
            return Typed(cast(moment(0), Time), TIME)
        if name == "totaloffsetminutes":
            self._as(args[0], DATETIME, node)
            return Typed(literal(0), NUMBER)  # times are stored and compared in UTC
        if name == "now":
            return Typed(func.now(), DATETIME)
        if name == "mindatetime":
            return Typed(literal(MIN_DATETIME, DateTime(timezone=True)), DATETIME)
        if name == "maxdatetime":
            return Typed(literal(MAX_DATETIME, DateTime(timezone=True)), DATETIME)
        if name in ("round", "floor", "ceiling"):
            return Typed({"round": func.round, "floor": func.floor, "ceiling": func.ceil}[name](cast(number(0), Float)), NUMBER)
        if name == "geo.distance":
            return Typed(func.ST_Distance(cast(geometry(0), Geography), cast(geometry(1), Geography)), NUMBER)
        if name == "geo.length":
            return Typed(func.ST_Length(cast(geometry(0), Geography)), NUMBER)
        if name == "geo.intersects":
            return Typed(func.ST_Intersects(geometry(0), geometry(1)), BOOL)
        if name in ST_PREDICATES:
            return Typed(ST_PREDICATES[name](geometry(0), geometry(1)), BOOL)
        if name == "st_relate":
            pattern = args[2].extra if args[2].kind == STRING else None
            if not isinstance(pattern, str) or not DE9IM.match(pattern.upper()):
                raise InvalidInput("st_relate's third argument must be a DE-9IM pattern literal, e.g. 'T*T***T**'")
            return Typed(func.ST_Relate(geometry(0), geometry(1), literal(pattern.upper())), BOOL)
        raise InvalidInput(f"function '{name}' is not supported")

    # --- coercion ---------------------------------------------------------------------------------

    def _as(self, value: Typed, kind: str, node: ast._Node) -> Any:
        """The value as `kind`; JSON values and results are converted without cast errors."""
        if value.kind == kind:
            return value.sql
        if value.kind == RESULT:
            if kind == NUMBER:
                return value.sql
            return self._as(Typed(value.extra, JSON), kind, node)
        if value.kind == JSON:
            document = value.sql
            if kind == NUMBER:
                return json_number(document)
            if kind == STRING:
                return json_text(document)
            if kind == BOOL:
                return case((func.jsonb_typeof(document) == "boolean", cast(json_text(document), Boolean)), else_=None)
            if kind == DATETIME:
                return case((func.jsonb_typeof(document) == "string", cast(json_text(document), DateTime(timezone=True))), else_=None)
        if value.kind == STRING and kind == NUMBER and value.extra is not None:
            try:
                return literal(float(value.extra), Float)
            except ValueError:
                pass
        if value.kind == STRING and kind == DATETIME and value.extra is not None:
            try:
                return literal(_utc(datetime.fromisoformat(value.extra.replace("Z", "+00:00"))), DateTime(timezone=True))
            except ValueError:
                pass
        if value.kind == DATE and kind == DATETIME:
            return cast(value.sql, DateTime(timezone=True))
        raise InvalidInput(f"type mismatch in {_describe(node)}: a {value.kind} where a {kind} is expected")


def _path_names(node: ast._Node) -> list[str]:
    if isinstance(node, ast.Identifier):
        return [*node.namespace, node.name] if node.namespace else [node.name]
    if isinstance(node, ast.Attribute):
        return [*_path_names(node.owner), node.attr]
    raise InvalidInput(f"expected a property path, got {type(node).__name__}")


def _unify(left: Typed, right: Typed, node: ast._Node) -> str:
    """The kind both sides of a comparison are converted to."""
    loose = (JSON, RESULT)
    if left.kind == right.kind:
        return STRING if left.kind in loose else left.kind
    if left.kind in loose and right.kind not in loose:
        return right.kind
    if right.kind in loose and left.kind not in loose:
        return left.kind
    if {left.kind, right.kind} == {JSON, RESULT}:
        return STRING
    for kind in (NUMBER, DATETIME):
        if {left.kind, right.kind} == {kind, STRING}:
            return kind
    if {left.kind, right.kind} == {DATE, DATETIME}:
        return DATETIME
    raise InvalidInput(f"type mismatch in {_describe(node)}: cannot compare a {left.kind} with a {right.kind}")


def _is_null(value: Typed) -> Any:
    if value.kind == RESULT:
        return and_(value.sql.is_(None), value.extra.is_(None))
    if value.kind == JSON:
        return or_(value.sql.is_(None), func.jsonb_typeof(value.sql) == "null")
    return value.sql.is_(None)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _describe(node: ast._Node) -> str:
    try:
        from odata_query.roundtrip import AstToODataVisitor

        return f"'{AstToODataVisitor().visit(node)}'"
    except Exception:  # the description is best effort only
        return "the expression"


def geometry_literal(wkt: str) -> Any:
    """A WKT literal as a SRID 4326 geometry, validated first (PostGIS parse errors are 500s)."""
    try:
        shape = shapely.wkt.loads(wkt)
    except (ShapelyError, ValueError, TypeError):
        raise InvalidInput(f"'{wkt[:80]}' is not valid WKT") from None
    if shape.is_empty:
        raise InvalidInput("the geometry literal is empty")
    return func.ST_GeomFromText(literal(shape.wkt), 4326)

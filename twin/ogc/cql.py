"""CQL2 filters (OGC API – Features Part 3) → SQLAlchemy expressions, never SQL text.

pygeofilter parses CQL2 text/JSON into an AST; its SQLAlchemy evaluator turns it into
expressions over the collection's queryables. We subclass it to refuse names that are not
queryables (instead of passing them through as raw column names), to measure distances in
metres on the geography type, and to turn every failure into a 400 with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lark.exceptions import LarkError
from pygeofilter import ast
from pygeofilter.backends.evaluator import handle
from pygeofilter.backends.sqlalchemy.evaluate import SQLAlchemyFilterEvaluator
from pygeofilter.parsers.cql2_json import parse as parse_cql2_json
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from sqlalchemy import ColumnElement, func
from sqlalchemy.sql.expression import not_

from twin.errors import InvalidInput

FILTER_LANGS = ("cql2-text", "cql2-json")
METRES_PER_UNIT = {None: 1.0, "m": 1.0, "meters": 1.0, "metres": 1.0, "kilometers": 1000.0, "km": 1000.0, "miles": 1609.344, "feet": 0.3048}


@dataclass(frozen=True, slots=True)
class Queryable:
    """A property clients may filter on: its SQL expression and JSON Schema type."""

    expr: Any  # a SQLAlchemy column expression
    type: str  # string | number | integer | boolean | datetime | geometry
    title: str | None = None

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this queryable (Part 3 /queryables)."""
        if self.type == "geometry":
            return {"format": "geometry-any", "title": self.title or "geometry"}
        if self.type == "datetime":
            return {"type": "string", "format": "date-time", **({"title": self.title} if self.title else {})}
        return {"type": self.type, **({"title": self.title} if self.title else {})}


class _Evaluator(SQLAlchemyFilterEvaluator):
    """pygeofilter's SQLAlchemy evaluator, strict about names and with distances in metres."""

    def __init__(self, queryables: dict[str, Queryable]) -> None:
        super().__init__({name: q.expr for name, q in queryables.items()}, undefined_as_null=False)
        self.names = sorted(queryables)

    @handle(ast.Attribute)
    def attribute(self, node: ast.Attribute) -> Any:
        if node.name not in self.field_mapping:
            raise InvalidInput(f"'{node.name}' is not a queryable of this collection; queryables: {', '.join(self.names)}")
        return self.field_mapping[node.name]

    @handle(ast.SpatialDistancePredicate, subclasses=True)
    def spatial_distance(self, node: Any, lhs: Any, rhs: Any) -> Any:
        if node.units not in METRES_PER_UNIT:
            raise InvalidInput(f"unknown distance unit '{node.units}'")
        metres = float(node.distance) * METRES_PER_UNIT[node.units]
        within = func.ST_DWithin(func.geography(lhs), func.geography(rhs), metres)
        return within if node.op.value == "DWITHIN" else not_(within)

    @handle(ast.Function)
    def function(self, node: ast.Function, *arguments: Any) -> Any:
        known = {"lower": func.lower, "upper": func.upper}
        if node.name not in known:
            raise InvalidInput(f"unsupported filter function '{node.name}'; supported: casei (lower), upper")
        return known[node.name](*arguments)


def to_expression(text: str, *, lang: str | None, queryables: dict[str, Queryable]) -> ColumnElement[bool]:
    """A CQL2 filter (text or JSON) over these queryables as a SQLAlchemy boolean expression, or InvalidInput."""
    lang = lang or "cql2-text"
    if lang not in FILTER_LANGS:
        raise InvalidInput(f"filter-lang '{lang}' is not supported; use {' or '.join(FILTER_LANGS)}")
    try:
        tree = parse_cql2_text(text) if lang == "cql2-text" else parse_cql2_json(json.loads(text))
    except (LarkError, ValueError, TypeError, KeyError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"invalid {lang} filter: {first_line}") from None
    try:
        expression = _Evaluator(queryables).evaluate(tree)
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 — pygeofilter raises bare Exception/NotImplementedError for unsupported nodes
        raise InvalidInput(f"unsupported {lang} filter: {exc}") from None
    if isinstance(expression, (bool, str, int, float)) or expression is None:
        raise InvalidInput(f"the {lang} filter is not a condition: {text!r}")
    return expression

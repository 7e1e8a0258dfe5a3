"""STA query options ($select, $expand, $filter, $orderby, $top, $skip, $count, $resultFormat), parsed.

Nested options inside $expand are separated by `;` (OGC 18-088 §9.3.2.1); lists by `,`. Both are
split at the top level only (outside parentheses and quoted strings), then parsed one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from odata_query import ast as odata_ast

from twin.errors import InvalidInput
from twin.integration.sta.filter_parser import parse_expression

DEFAULT_TOP = 100
MAX_EXPAND_DEPTH = 5
KNOWN_OPTIONS = ("$select", "$expand", "$filter", "$orderby", "$top", "$skip", "$count", "$resultFormat")


@dataclass(frozen=True, slots=True)
class OrderBy:
    """One $orderby term: the parsed expression, its text and direction."""

    expression: odata_ast._Node
    text: str
    descending: bool


@dataclass(slots=True)
class QueryOptions:
    """The query options of one request (or of one level of $expand)."""

    select: list[str] | None = None
    expand: list[ExpandItem] = field(default_factory=list)
    filter: odata_ast._Node | None = None
    orderby: list[OrderBy] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False
    result_format: str | None = None
    # The options as written, to rebuild @iot.nextLink
    raw: dict[str, str] = field(default_factory=dict)

    def limit(self, max_top: int) -> int:
        """Page size: $top (default 100), capped at max_top."""
        return min(self.top if self.top is not None else DEFAULT_TOP, max_top)


@dataclass(slots=True)
class ExpandItem:
    """One $expand term: a navigation property and the options for the entities it brings."""

    nav: str
    options: QueryOptions


def split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` outside parentheses and single-quoted strings (where '' is a quote)."""
    parts: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                raise InvalidInput(f"unbalanced ')' in '{text}'")
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if depth != 0 or quoted:
        raise InvalidInput(f"unbalanced parentheses or quotes in '{text}'")
    parts.append("".join(current).strip())
    return parts


def parse_options(params: dict[str, str], *, depth: int = 0) -> QueryOptions:
    """The query options from `{"$top": "10", ...}`; InvalidInput names the option that is wrong."""
    options = QueryOptions(raw={k: v for k, v in params.items() if k.startswith("$")})
    for key, value in params.items():
        if not key.startswith("$"):
            continue
        if key not in KNOWN_OPTIONS:
            raise InvalidInput(f"unknown query option '{key}'; known: {', '.join(KNOWN_OPTIONS)}")
        if key == "$top":
            options.top = _non_negative_int(key, value)
        elif key == "$skip":
            options.skip = _non_negative_int(key, value)
        elif key == "$count":
            if value not in ("true", "false"):
                raise InvalidInput(f"$count must be true or false, not '{value}'")
            options.count = value == "true"
        elif key == "$select":
            options.select = _select(value)
        elif key == "$filter":
            options.filter = parse_expression(value, what="$filter")
        elif key == "$orderby":
            options.orderby = _orderby(value)
        elif key == "$expand":
            options.expand = _expand(value, depth=depth)
        elif key == "$resultFormat":
            if value != "dataArray":
                raise InvalidInput(f"$resultFormat '{value}' is not supported; use dataArray")
            options.result_format = value
    return options


def _non_negative_int(key: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{key} must be a non-negative integer, not '{value}'") from None
    if number < 0:
        raise InvalidInput(f"{key} must be a non-negative integer, not '{value}'")
    return number


def _select(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",")]
    if not all(names):
        raise InvalidInput(f"$select has an empty name: '{value}'")
    return ["id" if name == "@iot.id" else name for name in names]


def _orderby(value: str) -> list[OrderBy]:
    terms = []
    for term in split_top_level(value, ","):
        if not term:
            raise InvalidInput(f"$orderby has an empty term: '{value}'")
        text, descending = term, False
        lowered = term.lower()
        for suffix, desc in ((" desc", True), (" asc", False)):
            if lowered.endswith(suffix):
                text, descending = term[: -len(suffix)].strip(), desc
                break
        terms.append(OrderBy(parse_expression(text, what="$orderby"), text, descending))
    return terms


def _expand(value: str, *, depth: int) -> list[ExpandItem]:
    if depth >= MAX_EXPAND_DEPTH:
        raise InvalidInput(f"$expand is nested more than {MAX_EXPAND_DEPTH} levels deep")
    items: dict[str, ExpandItem] = {}
    for term in split_top_level(value, ","):
        if not term:
            raise InvalidInput(f"$expand has an empty term: '{value}'")
        path_text, nested = term, ""
        if "(" in term:
            if not term.endswith(")"):
                raise InvalidInput(f"$expand term '{term}' must end with ')' after its options")
            path_text, nested = term[: term.index("(")], term[term.index("(") + 1 : -1]
        path = [p.strip() for p in path_text.split("/")]
        if not all(path):
            raise InvalidInput(f"$expand term '{term}' has an empty navigation property")
        if len(path) + depth > MAX_EXPAND_DEPTH:
            raise InvalidInput(f"$expand is nested more than {MAX_EXPAND_DEPTH} levels deep")
        inner = _nested_options(nested, depth=depth + len(path)) if nested else QueryOptions()
        _merge_path(items, path, inner)
    return list(items.values())


def _merge_path(items: dict[str, ExpandItem], path: list[str], leaf: QueryOptions) -> None:
    """`A/B(opts)` is `A($expand=B(opts))`; terms sharing a first step are merged."""
    head, rest = path[0], path[1:]
    item = items.get(head)
    if item is None:
        item = items[head] = ExpandItem(head, leaf if not rest else QueryOptions())
    elif not rest:
        item.options = _merged(item.options, leaf)
    if rest:
        nested = {e.nav: e for e in item.options.expand}
        _merge_path(nested, rest, leaf)
        item.options.expand = list(nested.values())


def _merged(first: QueryOptions, second: QueryOptions) -> QueryOptions:
    if first.raw and second.raw:
        raise InvalidInput("the same navigation property is expanded twice with options")
    return second if second.raw else first


def _nested_options(text: str, *, depth: int) -> QueryOptions:
    params: dict[str, str] = {}
    for part in split_top_level(text, ";"):
        if "=" not in part:
            raise InvalidInput(f"expand option '{part}' must look like $name=value")
        key, value = part.split("=", 1)
        key = key.strip()
        if key in params:
            raise InvalidInput(f"expand option {key} is given twice")
        params[key] = value.strip()
    if "$resultFormat" in params:
        raise InvalidInput("$resultFormat is not allowed inside $expand")
    return parse_options(params, depth=depth)


def raw_query(options: QueryOptions, **overrides: Any) -> dict[str, str]:
    """The options as query parameters, with some replaced (for @iot.nextLink)."""
    raw = dict(options.raw)
    raw.update({k: str(v) for k, v in overrides.items()})
    return raw

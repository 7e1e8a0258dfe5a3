"""Parse STA $filter / $orderby expressions into an AST, with odata-query's OData 4 grammar.

odata-query (a maintained SLY-based OData parser) covers STA's operators, literals and paths. Its
function check knows only OData 4 names, so we check names against STA's own list (substringof,
st_*, geo.*) and accept `geometry'WKT'` literals as well as `geography'WKT'`. The AST is compiled to
SQLAlchemy by twin.integration.sta.filtering; no SQL text is ever built from the input.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from odata_query import ast, exceptions
from odata_query.grammar import ODataLexer, ODataParser
from sly.lex import Token

from twin.errors import InvalidInput

# STA 1.1 built-in functions (OGC 18-088 Table 31) and extras we accept: name → (min, max) arguments.
FUNCTIONS: dict[str, tuple[int, int]] = {
    # string
    "substringof": (2, 2), "contains": (2, 2), "endswith": (2, 2), "startswith": (2, 2), "length": (1, 1),
    "indexof": (2, 2), "substring": (2, 3), "tolower": (1, 1), "toupper": (1, 1), "trim": (1, 1), "concat": (2, 2),
    # date and time
    "year": (1, 1), "month": (1, 1), "day": (1, 1), "hour": (1, 1), "minute": (1, 1), "second": (1, 1),
    "fractionalseconds": (1, 1), "date": (1, 1), "time": (1, 1), "totaloffsetminutes": (1, 1),
    "now": (0, 0), "mindatetime": (0, 0), "maxdatetime": (0, 0),
    # math
    "round": (1, 1), "floor": (1, 1), "ceiling": (1, 1),
    # geospatial
    "geo.distance": (2, 2), "geo.length": (1, 1), "geo.intersects": (2, 2),
    "st_equals": (2, 2), "st_disjoint": (2, 2), "st_touches": (2, 2), "st_within": (2, 2), "st_overlaps": (2, 2),
    "st_crosses": (2, 2), "st_intersects": (2, 2), "st_contains": (2, 2), "st_relate": (3, 3),
}
MAX_EXPRESSION_LENGTH = 10_000


def _check_function(func: ast.Identifier, args: list[Any]) -> ast.Call:
    name = func.full_name()
    bounds = FUNCTIONS.get(name.lower())
    if bounds is None:
        raise InvalidInput(f"unknown function '{name}' in the expression; known: {', '.join(sorted(FUNCTIONS))}")
    low, high = bounds
    if not low <= len(args) <= high:
        expected = str(low) if low == high else f"{low} to {high}"
        raise InvalidInput(f"function '{name}' takes {expected} argument(s), {len(args)} given")
    return ast.Call(ast.Identifier(func.name.lower(), tuple(n.lower() for n in func.namespace)), args)


def _tokens(text: str) -> Iterator[Token]:
    """The lexer's tokens, with `geometry` + 'WKT' folded into one geography literal."""
    pending: Token | None = None
    for token in ODataLexer().tokenize(text):
        if pending is not None:
            if token.type == "STRING":
                token.type, token.value = "GEOGRAPHY", ast.Geography(token.value.val)
                pending = None
                yield token
                continue
            yield pending
            pending = None
        if token.type == "ODATA_IDENTIFIER" and token.value.full_name().lower() == "geometry":
            pending = token
            continue
        yield token
    if pending is not None:
        yield pending


def parse_expression(text: str, *, what: str) -> ast._Node:
    """The AST of an STA expression, or InvalidInput saying where it goes wrong."""
    if not text or not text.strip():
        raise InvalidInput(f"{what} is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidInput(f"{what} is longer than {MAX_EXPRESSION_LENGTH} characters")
    parser = ODataParser()
    # odata-query checks function names against OData 4 only; STA has its own list.
    parser._function_call = _check_function  # type: ignore[method-assign]
    try:
        return parser.parse(_tokens(text.strip()))
    except exceptions.TokenizingException as exc:
        raise InvalidInput(f"{what}: unexpected character {_where(text, exc.token)}") from None
    except exceptions.ParsingException as exc:
        index = getattr(exc.token, "index", len(text)) if exc.token is not None else len(text)
        if exc.eof or exc.token is None or " " not in text[index:].strip():
            raise InvalidInput(f"{what}: the expression ends too early (incomplete at position {index + 1}): '{text}'") from None
        raise InvalidInput(f"{what}: syntax error {_where(text, exc.token)}") from None
    except exceptions.ODataException as exc:
        raise InvalidInput(f"{what}: {exc}") from None
    except RecursionError:
        raise InvalidInput(f"{what} is nested too deeply") from None


def _where(text: str, token: Token) -> str:
    index = getattr(token, "index", 0) or 0
    shown = text[index : index + 20]
    return f"at position {index + 1} ('{shown}') in '{text}'"

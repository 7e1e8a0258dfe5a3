"""The one table that maps domain errors to HTTP status codes, JSON error bodies, and their place in the OpenAPI document."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from twin import errors

log = logging.getLogger("twin.api")

STATUS_BY_ERROR: dict[type[errors.TwinError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.Unavailable: 503,
}


def _body(status: int, message: str, request: Request, detail: object | None = None) -> JSONResponse:
    content: dict[str, object] = {"error": {"status": status, "message": message}}
    if detail is not None:
        content["error"]["detail"] = detail  # type: ignore[index]
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        content["error"]["request_id"] = request_id  # type: ignore[index]
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(status_code=status, content=content, headers=headers)


ERROR_SCHEMA: dict[str, object] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["status", "message"],
        "properties": {
            "status": {"type": "integer"},
            "message": {"type": "string"},
            "detail": {"description": "what exactly was wrong (validation problems, row numbers...)"},
            "request_id": {"type": "string"},
        },
    }},
}
ERROR_DESCRIPTIONS = {
    400: "bad input (message says why)", 401: "no token, or an unknown, revoked or expired one",
    403: "the token lacks the role or is scoped to another park", 404: "the park or a named resource does not exist",
    409: "conflicts with existing data", 413: "the body or upload is larger than the limit", 422: "invalid request parameters or body",
}


def error_codes(method: str, operation: dict[str, object]) -> list[int]:
    """The 4xx an operation can answer, from what it takes: a token, path parameters, a body, a write.
    Every operation may answer 400: the request guard refuses a query string that is not UTF-8."""
    codes: set[int] = {400}
    parameters = operation.get("parameters") or []
    if operation.get("security"):
        codes |= {401, 403}
    if parameters or operation.get("requestBody"):
        codes |= {404, 422}
    if operation.get("requestBody") or method in ("post", "put", "patch"):  # some writes read a raw body
        codes.add(413)
    if method in ("post", "put", "patch", "delete"):
        codes.add(409)
    return sorted(codes)


def document_errors(schema: dict[str, object]) -> dict[str, object]:
    """Add the JSON error body (this module's shape, not FastAPI's default) to every operation's 4xx responses."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA  # type: ignore[union-attr]
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in schema.get("paths", {}).values():  # type: ignore[union-attr]
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in error_codes(method, operation):
                documented = responses.setdefault(str(code), {"description": ERROR_DESCRIPTIONS[code]})
                documented["content"] = reference  # also replaces FastAPI's HTTPValidationError on 422
            for code, documented in responses.items():  # a route's own `responses=` 4xx entries
                if code.startswith("4") and "content" not in documented:
                    documented["content"] = reference
    schema["components"]["schemas"].pop("HTTPValidationError", None)  # type: ignore[index]
    schema["components"]["schemas"].pop("ValidationError", None)  # type: ignore[index]
    return schema


def install(app: FastAPI) -> None:
    """Register the handlers on the app, and document their error bodies in its OpenAPI."""
    generate = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(errors.TwinError)
    async def twin_error(request: Request, exc: errors.TwinError) -> JSONResponse:
        status = next((code for cls, code in STATUS_BY_ERROR.items() if isinstance(exc, cls)), 400)
        return _body(status, exc.message, request, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{p['where']}: {p['message']}" for p in problems[:5])
        return _body(422, f"invalid request: {summary}", request, problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _body(exc.status_code, str(exc.detail), request)

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return _body(503, "database unavailable, retry shortly", request)

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # Data errors the input caused are the caller's to fix: a bad value or geometry (SQLSTATE 22), or one the
        # driver refuses before sending it (a NUL character in a text value: psycopg's DataError, without a SQLSTATE).
        sqlstate = getattr(exc.orig, "sqlstate", "") or ""
        first_line = str(exc.orig).splitlines()[0] if str(exc.orig) else "rejected"
        if sqlstate.startswith("22") or isinstance(exc, DataError):
            return _body(400, f"the database rejected the input: {first_line}", request)
        if sqlstate.startswith("23"):  # integrity constraint: duplicate or dangling reference
            return _body(409, f"conflicts with existing data: {first_line}", request)
        log.exception("database error")
        return _body(500, "internal database error", request)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        inner = _only_exception(exc)
        if isinstance(inner, StarletteHTTPException):  # e.g. the body limit, raised while a middleware's task group read the body
            return await http_error(request, inner)
        if isinstance(inner, errors.TwinError):
            return await twin_error(request, inner)
        if _nested_too_deeply(exc):
            return _body(400, f"the input is nested too deeply (at most {MAX_JSON_DEPTH} levels of objects and arrays)", request)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _body(500, "internal error", request)


# orjson and pydantic serialise at most this many nested levels; JSON parsers accept deeper input, so a
# deeper object in a body (a Thing's properties, asset attributes, observation parameters) fails later,
# wherever it is first serialised. Nothing deeper can have been stored, so such a failure is the input's.
MAX_JSON_DEPTH = 254


def _only_exception(exc: BaseException) -> BaseException:
    """The single exception inside (nested) exception groups of one member each, else `exc` itself."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _nested_too_deeply(exc: BaseException | None) -> bool:
    """True when `exc` (or what it wraps) is a JSON serialiser's depth limit or a RecursionError."""
    seen = 0
    while exc is not None and seen < 10:
        message = str(exc)
        if isinstance(exc, RecursionError) or (isinstance(exc, ValueError) and "serialization depth" in message) \
                or (isinstance(exc, TypeError) and "Recursion limit" in message):  # orjson.JSONEncodeError is a TypeError
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
        seen += 1
    return False

"""Hostile request material: broken files built on the fly, injection strings, raw ASGI requests."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from typing import Any

import anyio

INJECTIONS = ("'; DROP TABLE features; --", "' OR 1=1 --", "\" OR \"\"=\"", "1; SELECT pg_sleep(5)", "%' OR '%'='", "\\x00'")


def truncated_geojson(source: bytes) -> bytes:
    """The first half of a real GeoJSON file (cut mid-feature)."""
    return source[: len(source) // 2]


def polygon_file(coordinates: Any, extra: str = "") -> bytes:
    """A FeatureCollection of one building whose Polygon has these (possibly absurd) coordinates; `extra` is raw JSON text."""
    text = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "坏楼", "height": 12}, "geometry": {"type": "Polygon", "coordinates": coordinates}}]})
    return text.replace('"__RAW__"', extra).encode()


def shapefile_zip_bomb(expanded_bytes: int) -> bytes:
    """A zipped Shapefile whose .shp is a valid header followed by `expanded_bytes` of zeros (deflates ~1000:1)."""
    header = bytearray(100)
    struct.pack_into(">i", header, 0, 9994)
    struct.pack_into(">i", header, 24, (100 + expanded_bytes) // 2)
    struct.pack_into("<ii", header, 28, 1000, 5)  # version, polygon
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.shp", "w", force_zip64=True) as member:
            member.write(bytes(header))
            zeros = bytes(1 << 20)
            for _ in range(expanded_bytes >> 20):
                member.write(zeros)
        archive.writestr("bomb.shx", bytes(header))
        archive.writestr("bomb.dbf", b"\x03" + bytes(31) + b"\r")
        archive.writestr("bomb.prj", 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]')
    return buffer.getvalue()


def geojson_zip_bomb(features: int) -> bytes:
    """A zip holding a GeoJSON of `features` identical points (2 million expand ~300x, to ~200 MB)."""
    feature = b'{"type":"Feature","properties":{"height":10},"geometry":{"type":"Point","coordinates":[108.9,34.2]}}'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("points.geojson", "w", force_zip64=True) as member:
            member.write(b'{"type":"FeatureCollection","features":[' + feature)
            block = (b"," + feature) * 10_000
            for _ in range(features // 10_000):
                member.write(block)
            member.write(b"]}")
    return buffer.getvalue()


def ifczip_bomb(expanded_bytes: int) -> bytes:
    """An .ifczip whose single .ifc is a STEP header followed by `expanded_bytes` of spaces."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("bomb.ifc", "w", force_zip64=True) as member:
            member.write(b"ISO-10303-21;\nHEADER;\nFILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\n")
            spaces = b" " * (1 << 20)
            for _ in range(expanded_bytes >> 20):
                member.write(spaces)
            member.write(b"ENDSEC;\nEND-ISO-10303-21;\n")
    return buffer.getvalue()


def nested_array(depth: int) -> bytes:
    """`[[[...]]]` nested `depth` levels."""
    return b"[" * depth + b"]" * depth


def nested_object(depth: int) -> Any:
    """{"a": {"a": ... 1}} nested `depth` levels (as Python, for a JSON field)."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def raw_request(app: Any, method: str, raw_path: bytes, *, headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"") -> tuple[int, bytes]:
    """Send one request to the ASGI app with the path exactly as given (no client-side normalisation of `..`)."""
    from urllib.parse import unquote_to_bytes

    path, _, query = raw_path.partition(b"?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": unquote_to_bytes(path).decode("utf-8", "replace"), "raw_path": path, "query_string": query, "root_path": "",
             "headers": [(b"host", b"testserver"), *(headers or [])], "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    status: list[int] = []
    chunks: list[bytes] = []

    sent = anyio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await sent.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                sent.set()

    async def run() -> None:
        nonlocal sent
        sent = anyio.Event()
        await app(scope, receive, send)

    anyio.run(run)
    return status[0], b"".join(chunks)

"""Structural checks of 3D Tiles 1.1 tilesets and glTF content (the CesiumGS 3d-tiles-validator is not available).

`check_tileset` walks the tile tree; `validate_glb` runs the Khronos glTF validator through Node.js;
`decode_glb` (from tiles.glb_read) decodes content for tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from tiles.errors import TilesError, ValidatorUnavailable
from tiles.glb_read import decode_glb
from tiles.parallel import fork_map

__all__ = ["check_tileset", "validate_glb", "validator_available", "decode_glb"]

_TOLERANCE_M = 0.01  # boxes are written from float64 extents; 1 cm absorbs centre/half-size rounding
_MIN_CONTENTS_PER_WORKER = 64  # below this a fork (and the idle-core sample) costs more than it saves (85 tiles: 10% slower forked)
_VALIDATOR_SCRIPT = Path(__file__).with_name("gltf_validate.mjs")


def _node_modules() -> Path:
    env = os.environ.get("PARKTWIN_NODE_MODULES")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "web" / "node_modules"


def validator_available() -> bool:
    """True when `node` and the npm gltf-validator package (web/node_modules) are both present."""
    return shutil.which("node") is not None and (_node_modules() / "gltf-validator" / "package.json").is_file()


def validate_glb(paths_or_bytes, *, ignored_issues: Sequence[str] = ()) -> list[dict]:
    """Run the Khronos glTF validator on GLB files or bytes; per input {"uri","errors","warnings","infos","hints","messages"}.

    Accepts one path / bytes or a sequence of them; all are validated in one Node.js process.
    """
    items = [paths_or_bytes] if isinstance(paths_or_bytes, (bytes, bytearray, str, Path)) else list(paths_or_bytes)
    if not validator_available():
        raise ValidatorUnavailable(f"glTF validator not found: need `node` and {_node_modules() / 'gltf-validator'}")
    with tempfile.TemporaryDirectory(prefix="gltf-validate-") as tmp:
        files: list[str] = []
        for number, item in enumerate(items):
            if isinstance(item, (bytes, bytearray)):
                path = Path(tmp) / f"input{number}.glb"
                path.write_bytes(bytes(item))
                files.append(str(path))
            else:
                files.append(str(Path(item).resolve()))
        command = ["node", str(_VALIDATOR_SCRIPT)]
        if ignored_issues:
            command += ["--ignore", ",".join(ignored_issues)]
        env = {**os.environ, "GLTF_VALIDATOR_NODE_MODULES": str(_node_modules())}
        result = subprocess.run(command + files, capture_output=True, text=True, env=env, timeout=600, check=False)
        if result.returncode != 0:
            raise TilesError(f"glTF validator failed: {result.stderr.strip()[:2000]}")
        reports = json.loads(result.stdout)
    for report, item in zip(reports, items):
        if not isinstance(item, (bytes, bytearray)):
            report["uri"] = str(item)
    return reports


# ---------------------------------------------------------------- tileset tree checks


_IDENTITY = np.eye(3)


class _Box:
    """An oriented box in the tileset frame: centre (3,) and half-axis columns (3,3)."""

    def __init__(self, values: Sequence[float], transform: np.ndarray) -> None:
        raw = np.asarray(values, dtype=np.float64)
        self.centre = transform[:3, :3] @ raw[:3] + transform[:3, 3]
        self.axes = transform[:3, :3] @ raw[3:12].reshape(3, 3).T
        # With independent axes every point is centre + axes @ local exactly, so points with |local| <= 1
        # are inside and need no distance computed (most of the cost over a tile's vertices).
        # (inv and a plain tolerance test: pinv and allclose took 0.15 ms a box, 0.1 s of a 341-tile check.)
        try:
            self.inverse = np.linalg.inv(self.axes)
            error = np.abs(self.axes @ self.inverse - _IDENTITY)
            self.invertible = bool(np.isfinite(error).all() and (error <= 1e-8 + 1e-5 * _IDENTITY).all())
        except np.linalg.LinAlgError:
            self.invertible = False
        if not self.invertible:
            self.inverse = np.linalg.pinv(self.axes)

    def corners(self) -> np.ndarray:
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
        return self.centre + signs @ self.axes.T

    def outside_by(self, points: np.ndarray) -> float:
        """How far (m) the farthest point lies outside this box (0 when all are inside)."""
        if points.size == 0:
            return 0.0
        local = self.inverse @ (points - self.centre).T  # box units, |u| <= 1 inside
        if self.invertible and np.abs(local).max() <= 1.0:
            return 0.0
        lengths = np.linalg.norm(self.axes, axis=0)
        excess = (np.abs(local) - 1.0) * lengths[:, None]
        residual = np.linalg.norm(points - (self.centre + (self.axes @ np.clip(local, -1, 1)).T), axis=1)
        return float(max(excess.max(initial=0.0), residual.max(initial=0.0), 0.0))


def _content_entries(tile: dict) -> list[dict]:
    entries = list(tile.get("contents", []))
    if "content" in tile:
        entries.insert(0, tile["content"])
    return entries


def _check_content(uri: str, data: bytes, where: str, tile_box: _Box | None, content_box: _Box | None,
                   transform: np.ndarray) -> list[str]:
    problems: list[str] = []
    if data[:4] != b"glTF":
        if uri.endswith(".json"):
            try:
                json.loads(data)
            except (UnicodeDecodeError, json.JSONDecodeError):
                problems.append(f"{where}: external tileset {uri} is not valid JSON")
            return problems
        return [f"{where}: content {uri} is not GLB (magic {data[:4]!r}); 3D Tiles 1.1 content should be glTF"]
    try:
        decoded = decode_glb(data, property_values=False, with_normals=False)  # every accessor checked, no Python value per feature
    except (TilesError, KeyError, IndexError, ValueError) as exc:
        return [f"{where}: content {uri} cannot be decoded: {exc}"]
    tables = decoded["tables"]
    gltf = decoded["gltf"]
    for mesh in gltf.get("meshes", []):
        for primitive in mesh.get("primitives", []):
            for feature_set in primitive.get("extensions", {}).get("EXT_mesh_features", {}).get("featureIds", []):
                table_index = feature_set.get("propertyTable")
                if table_index is not None and not 0 <= table_index < len(tables):
                    problems.append(f"{where}: {uri} featureIds point at missing property table {table_index}")
    ids = decoded["feature_ids"]
    if tables and ids.size:
        count = tables[0]["count"]
        bad = ids[(ids < 0) | (ids >= count)]
        if bad.size:
            problems.append(f"{where}: {uri} has feature id {int(bad[0])} outside property table count {count}")
    positions = decoded["positions"] @ transform[:3, :3].T + transform[:3, 3]
    for label, box in (("tile", tile_box), ("content", content_box)):
        if box is not None:
            outside = box.outside_by(positions)
            if outside > _TOLERANCE_M:
                problems.append(f"{where}: {uri} has vertices {outside:.3f} m outside its {label} bounding box")
    return problems


def check_tileset(tileset: dict, resolve: Callable[[str], bytes | None]) -> list[str]:
    """Problems found in a 3D Tiles 1.1 tileset dict (empty list = passes); `resolve(uri)` returns content bytes or None.

    Checks asset.version 1.1, geometric error present, >= 0 and non-increasing with depth, refine
    values, child and content boxes inside their tile's box (1 cm tolerance), content resolvable,
    GLB container valid, feature ids within property-table counts, vertices inside the boxes.
    Only `box` bounding volumes are checked for containment (regions and spheres are skipped).
    """
    problems: list[str] = []
    version = tileset.get("asset", {}).get("version")
    if version != "1.1":
        problems.append(f"asset.version is {version!r}, expected '1.1'")
    root = tileset.get("root")
    if not isinstance(root, dict):
        return problems + ["tileset has no root tile"]
    top_error = tileset.get("geometricError")
    if not isinstance(top_error, (int, float)) or top_error < 0:
        problems.append(f"tileset geometricError {top_error!r} is not a non-negative number")
        top_error = float("inf")
    if root.get("refine") not in ("ADD", "REPLACE"):
        problems.append(f"root refine is {root.get('refine')!r}, expected 'ADD' or 'REPLACE'")

    # The walk resolves content here (resolve may use a database session); the content checks,
    # independent of each other, then run on idle cores. Problems keep the walk's order.
    found: list[list[str] | int] = []  # problems, or the index of a content check, in walk order
    checks: list[tuple] = []
    stack: list[tuple[dict, str, np.ndarray, _Box | None, float]] = [(root, "root", np.eye(4), None, float(top_error))]
    while stack:
        tile, where, parent_transform, parent_box, parent_error = stack.pop()
        transform = parent_transform
        if "transform" in tile:
            transform = parent_transform @ np.array(tile["transform"], dtype=np.float64).reshape(4, 4).T
        error = tile.get("geometricError")
        if not isinstance(error, (int, float)) or error < 0:
            problems.append(f"{where}: geometricError {error!r} is not a non-negative number")
            error = parent_error
        elif error > parent_error + 1e-9:
            problems.append(f"{where}: geometricError {error} is larger than its parent's {parent_error}")
        if "refine" in tile and tile["refine"] not in ("ADD", "REPLACE"):
            problems.append(f"{where}: refine {tile['refine']!r} is not 'ADD' or 'REPLACE'")
        volume = tile.get("boundingVolume")
        if not isinstance(volume, dict) or not ({"box", "region", "sphere"} & volume.keys()):
            problems.append(f"{where}: missing boundingVolume")
            box = None
        elif "box" in volume:
            if len(volume["box"]) != 12:
                problems.append(f"{where}: box has {len(volume['box'])} numbers, expected 12")
                box = None
            else:
                box = _Box(volume["box"], transform)
                if parent_box is not None:
                    outside = parent_box.outside_by(box.corners())
                    if outside > _TOLERANCE_M:
                        problems.append(f"{where}: bounding box sticks {outside:.3f} m out of its parent's box")
        else:
            box = None
        for number, content in enumerate(_content_entries(tile)):
            label = f"{where} content {number}"
            uri = content.get("uri", content.get("url"))
            if not uri:
                problems.append(f"{label}: no uri")
                continue
            content_box = None
            content_volume = content.get("boundingVolume", {})
            if "box" in content_volume:
                content_box = _Box(content_volume["box"], transform)
                if box is not None:
                    outside = box.outside_by(content_box.corners())
                    if outside > _TOLERANCE_M:
                        problems.append(f"{label}: content box sticks {outside:.3f} m out of the tile box")
            data = resolve(uri)
            if data is None:
                problems.append(f"{label}: uri {uri!r} does not resolve")
                continue
            found.append(problems)
            problems = []
            found.append(len(checks))
            checks.append((uri, data, label, box, content_box, transform))
        for index, child in enumerate(tile.get("children", [])):
            stack.append((child, f"{where}/{index}", transform, box if box is not None else parent_box, float(error)))
    found.append(problems)
    checked = fork_map(_check_one, checks, min_items_per_worker=_MIN_CONTENTS_PER_WORKER)
    return [problem for entry in found for problem in (checked[entry] if isinstance(entry, int) else entry)]


def _check_one(check: tuple) -> list[str]:
    return _check_content(*check)


def collect_keys(tileset: dict, resolve: Callable[[str], bytes | None], key_property: str = "key") -> list[str]:
    """All values of `key_property` across every content's property table 0 (for exactly-once checks)."""
    keys: list[str] = []
    stack: list[dict] = [tileset["root"]]
    while stack:
        tile = stack.pop()
        for content in _content_entries(tile):
            data = resolve(content["uri"])
            if data is not None and data[:4] == b"glTF":
                keys += decode_glb(data)["properties"].get(key_property, [])
        stack.extend(tile.get("children", []))
    return keys


def content_uris(tileset: dict) -> list[str]:
    """Every content URI of the tileset, depth first."""
    return [entry.get("uri", entry.get("url")) for tile, _ in iter_tiles(tileset) for entry in _content_entries(tile)]


def iter_tiles(tileset: dict) -> Iterable[tuple[dict, int]]:
    """Every tile with its depth (root = 0), depth first."""
    stack = [(tileset["root"], 0)]
    while stack:
        tile, depth = stack.pop()
        yield tile, depth
        stack.extend((child, depth + 1) for child in tile.get("children", []))

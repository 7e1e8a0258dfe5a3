"""Read back GLB tiles: geometry with node transforms applied, feature ids and decoded property tables.

A test and validation helper (not on the hot path); it reads what write_glb writes plus the usual
glTF variations (byteStride, node matrices/TRS, implicit feature ids).
"""

from __future__ import annotations

import json
import struct

import numpy as np

from tiles.errors import TilesError

_COMPONENT_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_METADATA_DTYPES = {
    "INT8": np.int8, "UINT8": np.uint8, "INT16": np.int16, "UINT16": np.uint16, "INT32": np.int32,
    "UINT32": np.uint32, "INT64": np.int64, "UINT64": np.uint64, "FLOAT32": np.float32, "FLOAT64": np.float64,
}
_OFFSET_DTYPES = {"UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64}


def split_glb(data: bytes) -> tuple[dict, bytes]:
    """Parse the GLB container: (glTF JSON dict, BIN chunk bytes); TilesError if the container is malformed."""
    if len(data) < 20:
        raise TilesError(f"GLB is {len(data)} bytes, shorter than a header")
    magic, version, length = struct.unpack_from("<III", data, 0)
    if magic != 0x46546C67:
        raise TilesError(f"not a GLB: magic {data[:4]!r}")
    if version != 2:
        raise TilesError(f"GLB version {version}, expected 2")
    if length != len(data):
        raise TilesError(f"GLB header says {length} bytes but the content has {len(data)}")
    json_length, json_type = struct.unpack_from("<II", data, 12)
    if json_type != 0x4E4F534A or 20 + json_length > length:
        raise TilesError("GLB first chunk is not a valid JSON chunk")
    try:
        gltf = json.loads(data[20 : 20 + json_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TilesError(f"GLB JSON chunk does not parse: {exc}") from None
    binary = b""
    offset = 20 + json_length
    if offset + 8 <= length:
        bin_length, bin_type = struct.unpack_from("<II", data, offset)
        if bin_type != 0x004E4942 or offset + 8 + bin_length > length:
            raise TilesError("GLB second chunk is not a valid BIN chunk")
        binary = data[offset + 8 : offset + 8 + bin_length]
    return gltf, binary


def _view_bytes(gltf: dict, binary: bytes, view_index: int) -> tuple[bytes, int | None]:
    view = gltf["bufferViews"][view_index]
    if view.get("buffer", 0) != 0 or "uri" in gltf["buffers"][view.get("buffer", 0)]:
        raise TilesError("only the GLB's embedded buffer is supported")
    start = view.get("byteOffset", 0)
    end = start + view["byteLength"]
    if end > len(binary):
        raise TilesError(f"bufferView {view_index} ends at byte {end}, past the {len(binary)}-byte BIN chunk")
    return binary[start:end], view.get("byteStride")


def read_accessor(gltf: dict, binary: bytes, index: int) -> np.ndarray:
    """Accessor values as a (count,) or (count, k) numpy array (normalised integers are not rescaled)."""
    accessor = gltf["accessors"][index]
    dtype = np.dtype(_COMPONENT_DTYPES[accessor["componentType"]])
    width = _TYPE_SIZES[accessor["type"]]
    count = accessor["count"]
    if "bufferView" not in accessor:
        return np.zeros((count, width) if width > 1 else count, dtype=dtype)
    data, stride = _view_bytes(gltf, binary, accessor["bufferView"])
    offset = accessor.get("byteOffset", 0)
    element = dtype.itemsize * width
    stride = stride or element
    if count and offset + stride * (count - 1) + element > len(data):
        raise TilesError(f"accessor {index} reads past the end of its bufferView")
    values = np.ndarray((count, width), dtype=dtype, buffer=data, offset=offset, strides=(stride, dtype.itemsize))
    values = values.copy()
    return values[:, 0] if width == 1 else values


def _node_matrix(node: dict) -> np.ndarray:
    if "matrix" in node:
        return np.array(node["matrix"], dtype=np.float64).reshape(4, 4).T  # column-major in glTF
    matrix = np.eye(4)
    x, y, z, w = node.get("rotation", [0.0, 0.0, 0.0, 1.0])
    rotation = np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
    matrix[:3, :3] = rotation * np.array(node.get("scale", [1.0, 1.0, 1.0]))[None, :]
    matrix[:3, 3] = node.get("translation", [0.0, 0.0, 0.0])
    return matrix


def _mesh_instances(gltf: dict) -> list[tuple[int, np.ndarray]]:
    """(mesh index, world matrix) for every node with a mesh in the default scene."""
    nodes = gltf.get("nodes", [])
    scenes = gltf.get("scenes")
    if scenes:
        roots = scenes[gltf.get("scene", 0)].get("nodes", [])
    else:
        children = {c for n in nodes for c in n.get("children", [])}
        roots = [i for i in range(len(nodes)) if i not in children]
    out: list[tuple[int, np.ndarray]] = []
    stack = [(i, np.eye(4)) for i in roots]
    while stack:
        index, parent = stack.pop()
        node = nodes[index]
        world = parent @ _node_matrix(node)
        if "mesh" in node:
            out.append((node["mesh"], world))
        stack.extend((c, world) for c in node.get("children", []))
    return out


def _decode_property(definition: dict, column: dict, count: int, gltf: dict, binary: bytes, values: bool = True) -> list | None:
    """A property column's values (None for noData); with values=False only checked (same errors), returning None."""
    kind = definition.get("type")
    if definition.get("array") or kind not in ("STRING", "SCALAR", "BOOLEAN"):
        raise TilesError(f"decode_glb reads STRING, SCALAR and BOOLEAN properties, not {kind} arrays/vectors")
    values_bytes, _ = _view_bytes(gltf, binary, column["values"])
    no_data = definition.get("noData")
    if kind == "BOOLEAN":
        bits = np.unpackbits(np.frombuffer(values_bytes, dtype=np.uint8), bitorder="little")
        if bits.size < count:
            raise TilesError("BOOLEAN column shorter than the table count")
        return [bool(b) for b in bits[:count]] if values else None
    if kind == "STRING":
        offset_dtype = _OFFSET_DTYPES[column.get("stringOffsetType", "UINT32")]
        offsets_bytes, _ = _view_bytes(gltf, binary, column["stringOffsets"])
        offsets = np.frombuffer(offsets_bytes, dtype=offset_dtype)
        if offsets.size < count + 1 or int(offsets[count]) > len(values_bytes):
            raise TilesError("STRING offsets do not cover the table count")
        if not values and _strings_are_utf8(values_bytes, offsets[: count + 1].astype(np.int64)):
            return None
        strings = [values_bytes[int(offsets[i]) : int(offsets[i + 1])].decode("utf-8") for i in range(count)]
        return [None if s == no_data else s for s in strings]
    dtype = np.dtype(_METADATA_DTYPES[definition["componentType"]])
    if len(values_bytes) < dtype.itemsize * count:
        raise TilesError("SCALAR column shorter than the table count")
    if not values:
        return None
    numbers = np.frombuffer(values_bytes, dtype=dtype, count=count).tolist()
    return [None if no_data is not None and v == no_data else v for v in numbers]


def _strings_are_utf8(data: bytes, offsets: np.ndarray) -> bool:
    """Whether every string data[offsets[i]:offsets[i + 1]] is valid UTF-8, without a Python object per string.

    For non-decreasing offsets that holds exactly when the covered bytes decode as a whole and no
    offset falls inside a character (on a continuation byte 10xxxxxx). Otherwise False, and the
    caller decodes string by string to find the error.
    """
    if offsets.size < 2:
        return True
    if (np.diff(offsets) < 0).any():
        return False
    start, end = int(offsets[0]), int(offsets[-1])
    try:
        data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return False
    inner = offsets[offsets < end]
    return not ((np.frombuffer(data, dtype=np.uint8)[inner] & 0xC0) == 0x80).any()


def decode_glb(data: bytes, *, y_up: bool = True, property_values: bool = True, with_normals: bool = True) -> dict:
    """Decode a GLB tile: positions/normals in the tile's z-up frame (metres), feature ids, decoded property tables.

    Returns positions (n,3) float64 with node transforms applied and the glTF y-up axis turned back
    to z-up (as 3D Tiles does), normals (n,3), indices (m,) into positions, feature_ids (n,) int64
    (-1 where a primitive has none), materials per vertex (material_of_vertex), and `tables`: a list
    of {class, count, properties: {id: [values, None for noData]}, names: {id: name}}; `properties`
    and `count` repeat table 0 for convenience. With `property_values=False` every column is still
    checked (the same errors are raised) but its values are None: for structural checks. With `with_normals=False`
    the NORMAL accessors are checked but not transformed, and `normals` is NaN (a third of a tile's decoding).
    """
    gltf, binary = split_glb(data)
    meshes = gltf.get("meshes", [])
    positions, normals, indices, feature_ids, material_of_vertex = [], [], [], [], []
    base = 0
    for mesh_index, world in _mesh_instances(gltf):
        normal_matrix = np.linalg.inv(world[:3, :3]).T
        for primitive in meshes[mesh_index]["primitives"]:
            attributes = primitive["attributes"]
            pos = read_accessor(gltf, binary, attributes["POSITION"]).astype(np.float64)
            pos = pos @ world[:3, :3].T + world[:3, 3]
            raw_normals = read_accessor(gltf, binary, attributes["NORMAL"]) if "NORMAL" in attributes else None  # read: checked
            if raw_normals is not None and with_normals:
                nrm = raw_normals.astype(np.float64) @ normal_matrix.T
                nrm /= np.maximum(np.linalg.norm(nrm, axis=1, keepdims=True), 1e-300)
            else:
                nrm = np.full_like(pos, np.nan)
            n = pos.shape[0]
            if "indices" in primitive:
                idx = read_accessor(gltf, binary, primitive["indices"]).astype(np.int64)
            else:
                idx = np.arange(n, dtype=np.int64)
            if idx.size and (idx.max() >= n or idx.min() < 0):
                raise TilesError("a primitive's index points past its vertices")
            ids = np.full(n, -1, dtype=np.int64)
            feature_sets = primitive.get("extensions", {}).get("EXT_mesh_features", {}).get("featureIds", [])
            if feature_sets:
                first = feature_sets[0]
                if "attribute" in first:
                    raw = read_accessor(gltf, binary, attributes[f"_FEATURE_ID_{first['attribute']}"])
                    if raw.dtype.kind == "f" and not np.all(raw == np.round(raw)):
                        raise TilesError("feature ids are not whole numbers")
                    ids = raw.astype(np.int64)
                elif "texture" not in first:
                    ids = np.arange(n, dtype=np.int64)
            positions.append(pos)
            normals.append(nrm)
            indices.append(idx + base)
            feature_ids.append(ids)
            material_of_vertex.append(np.full(n, primitive.get("material", -1), dtype=np.int64))
            base += n
    pos_all = np.concatenate(positions) if positions else np.zeros((0, 3))
    nrm_all = np.concatenate(normals) if normals else np.zeros((0, 3))
    if y_up:  # glTF (x, y, z) -> 3D Tiles z-up (x, -z, y)
        pos_all = np.stack([pos_all[:, 0], -pos_all[:, 2], pos_all[:, 1]], axis=1)
        nrm_all = np.stack([nrm_all[:, 0], -nrm_all[:, 2], nrm_all[:, 1]], axis=1)

    metadata = gltf.get("extensions", {}).get("EXT_structural_metadata", {})
    classes = metadata.get("schema", {}).get("classes", {})
    tables = []
    for table in metadata.get("propertyTables", []):
        definitions = classes.get(table["class"], {}).get("properties", {})
        decoded, names = {}, {}
        for property_id, column in table.get("properties", {}).items():
            if property_id not in definitions:
                raise TilesError(f"property table column {property_id!r} is not in class {table['class']!r}")
            decoded[property_id] = _decode_property(definitions[property_id], column, table["count"], gltf, binary, property_values)
            names[property_id] = definitions[property_id].get("name", property_id)
        tables.append({"class": table["class"], "count": table["count"], "properties": decoded, "names": names})
    return {
        "gltf": gltf,
        "positions": pos_all,
        "normals": nrm_all,
        "indices": np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
        "feature_ids": np.concatenate(feature_ids) if feature_ids else np.zeros(0, dtype=np.int64),
        "material_of_vertex": np.concatenate(material_of_vertex) if material_of_vertex else np.zeros(0, np.int64),
        "tables": tables,
        "count": tables[0]["count"] if tables else 0,
        "properties": tables[0]["properties"] if tables else {},
        "names": tables[0]["names"] if tables else {},
    }

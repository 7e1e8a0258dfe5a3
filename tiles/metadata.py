"""Typed EXT_structural_metadata property tables: type inference, safe property ids, binary encoding.

Missing values (None, NaN) are written as the property's `noData` sentinel, which CesiumJS turns
back into `undefined`: "" for STRING, the lowest finite double for FLOAT64, the lowest integer for
INT32/INT64. BOOLEAN has no `noData` in the spec, so a missing boolean is written as false (lossy;
declare the property as STRING if "unknown" matters).

Integers that fit in 32 bits are typed INT32, not INT64: CesiumJS 1.145 reads INT64 as BigInt and
compares it to the JSON `noData` number with `===`, so an INT64 noData is never recognised
(MetadataClassProperty.handleNoData) and BigInt breaks arithmetic in styles. INT64 is kept for
integers beyond 32 bits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tiles.errors import MetadataError
from tiles.mesh import PropertyValue

PROPERTY_TYPES = ("STRING", "FLOAT64", "INT64", "INT32", "BOOLEAN")
FLOAT64_NO_DATA = float(np.finfo(np.float64).min)
INT64_NO_DATA = int(np.iinfo(np.int64).min)
INT32_NO_DATA = int(np.iinfo(np.int32).min)
_NO_DATA: dict[str, str | float | int] = {
    "STRING": "",
    "FLOAT64": FLOAT64_NO_DATA,
    "INT64": INT64_NO_DATA,
    "INT32": INT32_NO_DATA,
}
_SCALAR_DTYPES = {"FLOAT64": np.float64, "INT64": np.int64, "INT32": np.int32}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KEY_PROPERTY = "key"  # FeatureMesh.key is always stored under this property name


def block_rows(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ranges [start, start + count) for each block, without a Python loop."""
    block_starts_in_output = np.r_[0, np.cumsum(counts)[:-1]]
    return np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(starts - block_starts_in_output, counts)


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def _kind(python_type: type) -> str:
    """Coarse kind of a value's type: none, bool, int, float or str (anything else is written as text)."""
    if python_type is type(None):
        return "none"
    if issubclass(python_type, (bool, np.bool_)):
        return "bool"
    if issubclass(python_type, (int, np.integer)):
        return "int"
    if issubclass(python_type, (float, np.floating)):
        return "float"
    return "str"


PropertyColumns = Mapping[str, Sequence[PropertyValue]]  # name -> one value per feature (None: missing)


def property_columns(rows: Iterable[Mapping[str, PropertyValue]]) -> dict[str, list[PropertyValue]]:
    """Rows of properties -> columns, names in first-seen order, None where a row lacks a name."""
    rows = rows if isinstance(rows, list) else list(rows)
    names = dict.fromkeys(name for row in rows for name in row)
    return {name: [row.get(name) for row in rows] for name in names}


def infer_property_types(rows: Iterable[Mapping[str, PropertyValue]]) -> dict[str, str]:
    """Metadata type per property name over all rows, in first-seen order (see module doc for the rules)."""
    return infer_column_types(property_columns(rows))


def infer_column_types(columns: PropertyColumns) -> dict[str, str]:
    """Metadata type per property column, in the columns' order (see module doc for the rules)."""
    types: dict[str, str] = {}
    for name, column in columns.items():
        # Classify the column's distinct Python types, not each value.
        kinds = {_kind(t) for t in set(map(type, column))} - {"none"}
        if "str" in kinds or not kinds:
            types[name] = "STRING"
        elif kinds == {"bool"}:
            types[name] = "BOOLEAN"
        elif "float" in kinds:
            types[name] = "FLOAT64"
        else:
            integers = [int(v) for v in column if v is not None]
            lo, hi = min(integers), max(integers)
            if INT32_NO_DATA < lo and hi <= np.iinfo(np.int32).max:
                types[name] = "INT32"
            elif INT64_NO_DATA < lo and hi <= np.iinfo(np.int64).max:
                types[name] = "INT64"
            else:
                types[name] = "FLOAT64"
    return types


def property_ids(names: Sequence[str], reserved: Iterable[str] = ()) -> dict[str, str]:
    """Map property names to unique schema ids matching ^[A-Za-z_][A-Za-z0-9_]*$ ("building:levels" -> "building_levels").

    Identifier names keep their spelling unless `reserved`; names with no ASCII letters or digits
    (e.g. Chinese) become prop_<n>; clashes get _2, _3... The original name goes to the schema
    property's `name`.
    """
    reserved_ids = set(reserved)
    taken = reserved_ids | {n for n in names if _IDENTIFIER.match(n) and n not in reserved_ids}
    ids: dict[str, str] = {}
    for position, name in enumerate(names):
        if _IDENTIFIER.match(name) and name not in reserved_ids:
            ids[name] = name
            continue
        candidate = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
        if not re.search(r"[A-Za-z0-9]", candidate):
            candidate = f"prop_{position}"
        elif candidate[0].isdigit():
            candidate = f"p_{candidate}"
        unique, suffix = candidate, 2
        while unique in taken:
            unique, suffix = f"{candidate}_{suffix}", suffix + 1
        taken.add(unique)
        ids[name] = unique
    return ids


@dataclass(frozen=True, slots=True)
class EncodedProperty:
    """One property's schema entry and binary columns (values, and string offsets for STRING)."""

    property_id: str
    schema: dict
    values: bytes
    string_offsets: bytes | None = None


def _convert(name: str, type_: str, value: PropertyValue):
    try:
        if type_ == "STRING":
            if isinstance(value, (bool, np.bool_)):
                return "true" if value else "false"
            return str(value)
        if type_ == "FLOAT64":
            return float(value)  # type: ignore[arg-type]
        if type_ == "BOOLEAN":
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in ("true", "1", "yes"):
                    return True
                if lowered in ("false", "0", "no"):
                    return False
                raise ValueError(value)
            return bool(value)
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, (float, np.floating)):
            if not float(number).is_integer():
                raise ValueError(value)
            number = int(number)
        return int(number)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise MetadataError(f"property {name!r}: value {value!r} cannot be stored as {type_}") from None


def _scalar_column(name: str, type_: str, column: Sequence[PropertyValue]) -> np.ndarray:
    sentinel = _NO_DATA[type_]
    dtype = _SCALAR_DTYPES[type_]
    kinds = {_kind(t) for t in set(map(type, column))}
    fast = kinds <= {"none", "int", "bool", "float"} if type_ == "FLOAT64" else kinds <= {"none", "int", "bool"}
    if fast:  # numeric input: one numpy conversion, no per-value Python calls
        try:
            values = np.array([sentinel if v is None else v for v in column], dtype=dtype)
        except OverflowError:
            raise MetadataError(f"property {name!r}: a value does not fit in {type_}") from None
        if type_ == "FLOAT64":
            values[np.isnan(values)] = sentinel
        return values
    converted = [sentinel if _is_missing(v) else _convert(name, type_, v) for v in column]
    try:
        return np.array(converted, dtype=dtype)
    except OverflowError:
        raise MetadataError(f"property {name!r}: a value does not fit in {type_}") from None


class PreparedColumn:
    """One property converted once for all features; `take(rows)` encodes the rows of one tile."""

    def __init__(self, name: str, property_id: str, type_: str, column: Sequence[PropertyValue]) -> None:
        if type_ not in PROPERTY_TYPES:
            raise MetadataError(f"property {name!r}: unknown type {type_!r}; use one of {', '.join(PROPERTY_TYPES)}")
        self.property_id = property_id
        self.type = type_
        self.schema: dict = {"name": name} if name != property_id else {}
        self.text = np.zeros(0, dtype=np.uint8)  # STRING: all values' UTF-8 bytes, back to back
        self.starts = np.zeros(0, dtype=np.int64)  # STRING: where each value starts in `text`
        if type_ == "BOOLEAN":
            self.schema["type"] = "BOOLEAN"
            if {_kind(t) for t in set(map(type, column))} <= {"none", "bool"}:
                self.values = np.array([v is not None and v for v in column], dtype=bool)
            else:
                self.values = np.array([False if _is_missing(v) else _convert(name, type_, v) for v in column], dtype=bool)
        elif type_ == "STRING":
            self.schema.update(type="STRING", noData="")
            texts = [v if type(v) is str else "" if _is_missing(v) else _convert(name, type_, v) for v in column]
            joined = "".join(texts)
            encoded = joined.encode("utf-8")
            # UTF-8 byte length per text; all-ASCII columns (the common case) skip per-text encoding.
            lengths = map(len, texts if len(encoded) == len(joined) else (t.encode("utf-8") for t in texts))
            self.values = np.fromiter(lengths, dtype=np.int64, count=len(texts))
            # Tiles then gather byte ranges with numpy, not one Python string per feature and tile.
            self.text = np.frombuffer(encoded, dtype=np.uint8)
            self.starts = np.zeros(len(texts), dtype=np.int64)
            np.cumsum(self.values[:-1], out=self.starts[1:])
        else:
            self.schema.update(type="SCALAR", componentType=type_, noData=_NO_DATA[type_])
            self.values = _scalar_column(name, type_, column)

    def take(self, rows: np.ndarray | None) -> EncodedProperty:
        """Encode the given feature rows (None: all), in that order, as a table property."""
        if self.type == "STRING":
            lengths = self.values if rows is None else self.values[rows]
            offsets = np.zeros(lengths.size + 1, dtype=np.int64)
            np.cumsum(lengths, out=offsets[1:])
            if offsets[-1] > np.iinfo(np.uint32).max:
                raise MetadataError(f"property {self.property_id!r}: more than 4 GiB of text in one tile")
            data = self.text.tobytes() if rows is None else self.text[block_rows(self.starts[rows], lengths)].tobytes()
            return EncodedProperty(self.property_id, self.schema, data, offsets.astype(np.uint32).tobytes())
        values = self.values if rows is None else self.values[rows]
        if self.type == "BOOLEAN":
            return EncodedProperty(self.property_id, self.schema, np.packbits(values, bitorder="little").tobytes())
        return EncodedProperty(self.property_id, self.schema, values.tobytes())


class PropertyTable:
    """The key column plus every typed property (in `types` order), prepared once for many tiles."""

    def __init__(self, keys: Sequence[str], columns: PropertyColumns, types: Mapping[str, str]) -> None:
        ids = property_ids(list(types), reserved=(KEY_PROPERTY,))  # the feature key owns the id "key"
        self.columns = [PreparedColumn(KEY_PROPERTY, KEY_PROPERTY, "STRING", list(keys))]
        self.columns[0].schema["description"] = "stable feature id (database id or IFC GlobalId)"
        missing = [None] * len(keys)
        for name, type_ in types.items():
            self.columns.append(PreparedColumn(name, ids[name], type_, columns.get(name, missing)))

    def take(self, rows: np.ndarray | None = None) -> list[EncodedProperty]:
        """Encoded columns for the given feature rows (None: all)."""
        return [column.take(rows) for column in self.columns]

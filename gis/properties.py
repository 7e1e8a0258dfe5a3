"""Turn attribute columns into JSON-safe per-row dicts (no NaN/inf, dates as ISO strings, missing values left out)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

_ABSENT = object()  # marks a value that is left out of the row's dict


def json_value(value: object) -> object:
    """A JSON-safe equivalent of one attribute value, or None for missing / NaN / infinite (nested values too)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str | bool):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float | decimal.Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [json_value(item) for item in value]
    return str(value)


def _column_values(column: pd.Series) -> tuple[np.ndarray, list[object]]:
    """Positions of present values in a column and their JSON-safe values, converted per dtype where possible."""
    dtype = column.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        present = column.notna().to_numpy()
        stamps = column[present]
        naive_midnight = stamps.dt.tz is None and bool((stamps == stamps.dt.normalize()).all())
        # Date-only fields come back as midnight timestamps: write them as dates, like the source.
        texts = stamps.dt.strftime("%Y-%m-%d") if naive_midnight else stamps.map(pd.Timestamp.isoformat)
        return np.flatnonzero(present), texts.tolist()
    if pd.api.types.is_float_dtype(dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        present = np.isfinite(values)
        finite = values[present]
        if len(finite) and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
            # Integer fields with nulls arrive as float64; give ids and counts back as integers.
            return np.flatnonzero(present), finite.astype(np.int64).tolist()
        return np.flatnonzero(present), finite.tolist()
    typed = pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
    if typed and dtype != object:
        present = column.notna().to_numpy()
        return np.flatnonzero(present), column[present].tolist()
    present_positions = np.flatnonzero(column.notna().to_numpy())
    converted = [json_value(value) for value in column.iloc[present_positions].tolist()]
    keep = [index for index, value in enumerate(converted) if value is not None]
    return present_positions[keep], [converted[index] for index in keep]


def json_records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict[str, object]]:
    """One dict per row with the given columns' JSON-safe values; missing values are omitted (work is per present cell)."""
    records: list[dict[str, object]] = [{} for _ in range(len(frame))]
    for name in columns:
        key = str(name)
        positions, values = _column_values(frame[name])
        for position, value in zip(positions.tolist(), values):
            records[position][key] = value
    return records

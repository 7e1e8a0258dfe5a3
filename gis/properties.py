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


# An attribute column's JSON form, decided over the whole file so every chunk of it agrees.
FORM_INTEGER = "integer"  # floats that are all whole numbers (integer fields with nulls arrive as float64)
FORM_DATE = "date"  # naive timestamps that are all midnight (date-only fields)


def _column_form(column: pd.Series) -> str | None:
    dtype = column.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = column[column.notna()]
        naive_midnight = stamps.dt.tz is None and bool((stamps == stamps.dt.normalize()).all())
        return FORM_DATE if naive_midnight else None
    if pd.api.types.is_float_dtype(dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = values[np.isfinite(values)]
        if len(finite) and np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
            return FORM_INTEGER
    return None


def column_forms(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, str | None]:
    """Each column's JSON form (FORM_INTEGER, FORM_DATE or None: as it comes), from all of its values."""
    return {name: _column_form(frame[name]) for name in columns}


def _column_values(column: pd.Series, form: str | None) -> tuple[np.ndarray, list[object]]:
    """Positions of present values in a column and their JSON-safe values, converted per dtype where possible."""
    dtype = column.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype):
        present = column.notna().to_numpy()
        stamps = column[present]
        # Date-only fields come back as midnight timestamps: write them as dates, like the source.
        texts = stamps.dt.strftime("%Y-%m-%d") if form == FORM_DATE else stamps.map(pd.Timestamp.isoformat)
        return np.flatnonzero(present), texts.tolist()
    if pd.api.types.is_float_dtype(dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        present = np.isfinite(values)
        finite = values[present]
        # Integer fields with nulls arrive as float64; give ids and counts back as integers.
        return np.flatnonzero(present), (finite.astype(np.int64) if form == FORM_INTEGER else finite).tolist()
    typed = pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
    if typed and dtype != object:
        present = column.notna().to_numpy()
        return np.flatnonzero(present), column[present].tolist()
    present_positions = np.flatnonzero(column.notna().to_numpy())
    converted = [json_value(value) for value in column.iloc[present_positions].tolist()]
    keep = [index for index, value in enumerate(converted) if value is not None]
    return present_positions[keep], [converted[index] for index in keep]


def json_records(frame: pd.DataFrame, columns: Sequence[str], *, forms: dict[str, str | None] | None = None) -> list[dict[str, object]]:
    """One dict per row with the given columns' JSON-safe values; missing values are omitted (work is per present cell).

    `forms` (column_forms of the whole file) when the frame is one chunk of it; by default the frame's own."""
    forms = column_forms(frame, columns) if forms is None else forms
    records: list[dict[str, object]] = [{} for _ in range(len(frame))]
    for name in columns:
        key = str(name)
        positions, values = _column_values(frame[name], forms.get(name))
        for position, value in zip(positions.tolist(), values):
            records[position][key] = value
    return records

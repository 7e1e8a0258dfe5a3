"""The contract between geometry producers (gis/, bim/) and the tiler: one feature's triangles."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PropertyValue = str | int | float | bool | None


@dataclass(slots=True)
class FeatureMesh:
    """Triangles of one feature in the tileset's local ENU frame (metres; x east, y north, z up).

    `key` is the feature's stable id (database id or IFC GlobalId); `properties` are flat values
    written to the EXT_structural_metadata property table; `group` (e.g. a storey name) lets the
    tiler keep a group's features together in one tile when it can.
    """

    key: str
    positions: np.ndarray  # (n, 3) float32
    indices: np.ndarray  # (m,) uint32, three per triangle
    normals: np.ndarray | None = None  # (n, 3) float32 unit vectors, or None to compute flat normals
    color: tuple[float, float, float, float] = (0.82, 0.82, 0.80, 1.0)  # linear RGBA
    properties: dict[str, PropertyValue] = field(default_factory=dict)
    group: str | None = None

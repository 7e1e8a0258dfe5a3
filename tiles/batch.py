"""Many features held column-wise: one concatenated geometry plus keys, properties and groups.

What the extruder produces and the tiler consumes, so 100k footprints do not become 100k
FeatureMesh objects only to be concatenated again (that round trip cost more than the extrusion).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tiles.glb import TileGeometry, gather_geometry
from tiles.mesh import FeatureMesh, PropertyValue
from tiles.metadata import property_columns


@dataclass(slots=True)
class FeatureBatch:
    """Feature i owns geometry rows i (see TileGeometry), keys[i], groups[i] (None: no groups) and its
    properties: rows[i] or, column-wise, columns[name][i] (None: missing); one of the two is given.

    The geometry is trusted as checked: build batches with `from_meshes` (which checks) or the extruder.
    """

    geometry: TileGeometry
    keys: list[str]
    rows: list[dict[str, PropertyValue]] | None = None
    columns: dict[str, list[PropertyValue]] | None = None
    groups: list[str | None] | None = None

    def __post_init__(self) -> None:
        if (self.rows is None) == (self.columns is None):
            raise TypeError("a FeatureBatch needs its properties as rows or as columns (one of the two)")

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def from_meshes(cls, meshes: Sequence[FeatureMesh]) -> FeatureBatch:
        """Check and concatenate FeatureMeshes (see gather_geometry)."""
        return cls(gather_geometry(meshes), [m.key for m in meshes], rows=[m.properties for m in meshes], groups=[m.group for m in meshes])

    def property_columns(self) -> dict[str, list[PropertyValue]]:
        """Properties column-wise, names in first-seen order."""
        return self.columns if self.columns is not None else property_columns(self.rows or [])

    def take(self, rows: np.ndarray) -> FeatureBatch:
        """Features `rows` in that order; the palette is renumbered in first-use order, as from_meshes would."""
        picked = rows.tolist()
        geometry = self.geometry.take(rows)
        used, first = np.unique(geometry.colour_ids, return_index=True)
        used = used[np.argsort(first)]
        renumber = np.zeros(len(geometry.palette), dtype=np.int64)
        renumber[used] = np.arange(used.size)
        geometry.colour_ids = renumber[geometry.colour_ids]
        geometry.palette = [geometry.palette[i] for i in used.tolist()]
        return FeatureBatch(
            geometry, [self.keys[i] for i in picked],
            rows=None if self.rows is None else [self.rows[i] for i in picked],
            columns=None if self.columns is None else {n: [c[i] for i in picked] for n, c in self.columns.items()},
            groups=None if self.groups is None else [self.groups[i] for i in picked],
        )

    def group_of(self) -> list[str | None]:
        """Every feature's group (None where it has none)."""
        return [None] * len(self.keys) if self.groups is None else self.groups

    def meshes(self) -> list[FeatureMesh]:
        """One FeatureMesh per feature (views into the batch's arrays, no copies)."""
        geometry = self.geometry
        vertex_starts = geometry.vertex_starts.tolist()
        index_starts = geometry.index_starts.tolist()
        colours = [geometry.palette[i] for i in geometry.colour_ids.tolist()]
        groups = self.group_of()
        rows = self.rows if self.rows is not None else [
            {name: column[i] for name, column in (self.columns or {}).items() if column[i] is not None} for i in range(len(self.keys))
        ]
        return [
            FeatureMesh(key=self.keys[i], positions=geometry.positions[vertex_starts[i] : vertex_starts[i + 1]],
                        indices=geometry.indices[index_starts[i] : index_starts[i + 1]],
                        normals=geometry.normals[vertex_starts[i] : vertex_starts[i + 1]], color=colours[i],
                        properties=rows[i], group=groups[i])
            for i in range(len(self.keys))
        ]

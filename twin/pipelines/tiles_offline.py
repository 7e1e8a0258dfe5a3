"""`twin tiles gis`: a file's buildings → OUT/tileset.json with no database, and its other features → OUT/ground.geojson.

The buildings get the same tiles as a park's (the property table, colours and tree of tiles_build), with
the file's source ids as codes, so a file tiled offline and the same file imported look and query alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gis.errors import GisError
from gis.export import feature_collection
from gis.load import ImportReport, load_vector
from tiles.footprints import origin_for
from tiles.sink import DirectorySink, write_atomic
from tiles.tileset import build_tileset, write_tileset
from tiles.validate import content_uris
from twin.errors import InvalidInput
from twin.pipelines.bulk import gc_paused
from twin.pipelines.tiles_build import BUILDING_KINDS, BuildingColumns, buildings_to_batch

GROUND_FILE = "ground.geojson"
Progress = Callable[[str, int | None, int | None], None]


@dataclass
class OfflineTiles:
    """What `tile_file` wrote."""

    tileset_path: Path
    buildings: int
    tiles: int
    report: ImportReport
    ground: dict[str, int] = field(default_factory=dict)  # kind -> features in ground.geojson (empty: no file)
    stale_removed: int = 0  # a previous run's content files no longer used


@gc_paused()
def tile_file(path: Path, out: Path, *, source_layer: str | None = None, crs: str | None = None, height_attr: str | None = None, levels_attr: str | None = None,
              storey_height: float = 3.0, default_height: float = 10.0, max_features_per_tile: int = 500,
              progress: Progress | None = None) -> OfflineTiles:
    """Load `path` (any format and CRS gis.load reads; its layer `source_layer` if it has several), tile its buildings into `out` and write the rest as GeoJSON.

    Nothing is written unless the file loads and has buildings; a second run into the same folder replaces
    the first (tileset.json last, atomically) and deletes the content files and ground.geojson it no longer uses.
    """
    say = progress or (lambda label, done, total: None)
    try:
        loaded = load_vector(path, layer=source_layer, crs=crs, height_attr=height_attr, levels_attr=levels_attr, storey_height=storey_height,
                             default_height=default_height, progress=lambda message: say(message, None, None))
    except GisError as exc:
        raise InvalidInput(str(exc)) from None
    frame = loaded.features
    extruded = (frame["family"] == "polygon").to_numpy() & frame["kind"].isin(BUILDING_KINDS).to_numpy() & frame["top_height"].notna().to_numpy()
    buildings, ground = frame[extruded], frame[~extruded]
    if len(buildings) == 0:
        kinds = ", ".join(f"{count} {kind}" for kind, count in Counter(frame["kind"]).most_common())
        warnings = "".join(f" ({warning})" for warning in loaded.report.warnings)  # e.g. the other layers of the file
        raise InvalidInput(f"the file has no building footprints to extrude (it has {kinds or 'no features'}); "
                           f"for ground layers alone, import the file into a park with `twin import gis`{warnings}")

    say(f"extruding {len(buildings):,} footprints", None, None)
    footprints = np.asarray(buildings.geometry.values, dtype=object)
    origin = origin_for(footprints)
    batch = buildings_to_batch(BuildingColumns.from_frame(buildings), footprints, origin=origin)
    sink = DirectorySink(out)
    tileset = build_tileset(batch, origin=origin, sink=sink, max_features_per_tile=max_features_per_tile, class_name="building",
                            progress=lambda done, total: say("writing tiles", done, total))
    ground_path = out / GROUND_FILE
    if len(ground):
        say(f"writing {len(ground):,} ground features", None, None)
        write_atomic(ground_path, feature_collection(ground))
        tileset["extras"]["parktwin"]["ground"] = GROUND_FILE
    else:
        ground_path.unlink(missing_ok=True)
    tileset_path = write_tileset(tileset, out)
    stale = sink.remove_unused(set(content_uris(tileset)))
    return OfflineTiles(tileset_path=tileset_path, buildings=len(buildings), tiles=tileset["extras"]["parktwin"]["tileCount"],
                        ground=dict(Counter(ground["kind"]).most_common()), stale_removed=stale, report=loaded.report)

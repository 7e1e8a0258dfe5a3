"""Parallel tiling: forked tile encoding, threaded extrusion and column-wise input give byte-identical output."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import tiles.extrude
import tiles.tileset
import tiles.validate
from tiles.enu import Origin
from tiles.extrude import extrude_footprints, extrude_footprints_batch
from tiles.metadata import property_columns
from tiles.parallel import can_fork, fork_map
from tiles.sink import MemorySink
from tiles.tileset import build_tileset
from tiles.validate import check_tileset

from .conftest import random_footprints

ORIGIN = Origin(104.0657, 30.6595, 500.0)
N_FEATURES = 3000
PARENT = os.getpid()

needs_fork = pytest.mark.skipif(not can_fork(), reason="fork unavailable or other threads running")


def _inputs() -> tuple:
    polygons, heights = random_footprints(N_FEATURES, seed=11, spread=3000)
    rows = [{"height": float(h), "name": f"名称 {i}" if i % 3 else None, "tall": bool(h > 40)} for i, h in enumerate(heights)]
    colours = [(0.8, 0.7, 0.6, 1.0) if i % 5 else (0.5, 0.6, 0.7, 1.0) for i in range(N_FEATURES)]
    return polygons, heights, rows, colours


def _published(tileset: dict, sink: MemorySink) -> tuple[str, dict[str, bytes]]:
    return json.dumps(tileset, ensure_ascii=False), sink.blobs


@needs_fork
def test_forked_encoding_threaded_extrusion_and_columns_give_the_same_tileset(monkeypatch: pytest.MonkeyPatch) -> None:
    polygons, heights, rows, colours = _inputs()
    keys = [f"f{i}" for i in range(N_FEATURES)]
    reference_sink = MemorySink()
    meshes = extrude_footprints(polygons, np.zeros(N_FEATURES), heights, keys, rows, colours, origin=ORIGIN)
    reference = _published(build_tileset(meshes, origin=ORIGIN, sink=reference_sink, max_features_per_tile=40, workers=1), reference_sink)

    monkeypatch.setattr(tiles.extrude, "_MIN_FEATURES_PER_THREAD", 100)  # extrude in two threads
    monkeypatch.setattr(tiles.tileset, "_MIN_TILES_PER_WORKER", 1)  # encode in two processes, however few the tiles
    monkeypatch.setattr(tiles.validate, "_MIN_CONTENTS_PER_WORKER", 1)  # and check in two
    for properties in (rows, property_columns(rows)):
        batch = extrude_footprints_batch(polygons, np.zeros(N_FEATURES), heights, keys, properties, colours, origin=ORIGIN)
        sink = MemorySink()
        tileset = build_tileset(batch, origin=ORIGIN, sink=sink, max_features_per_tile=40, workers=2)
        assert _published(tileset, sink) == reference
        assert check_tileset(tileset, sink.get) == []
        assert list(sink.blobs) == list(reference_sink.blobs)  # same publication order


def _square_or_die(value: int) -> int:
    if os.getpid() != PARENT:
        os._exit(3)  # a worker killed mid-way (as by the OOM killer)
    return value * value


def _square_or_fail(value: int) -> int:
    if value == 7:
        raise ValueError("item 7 is bad")
    return value * value


@needs_fork
def test_a_dead_worker_share_is_redone_here() -> None:
    assert fork_map(_square_or_die, list(range(40)), workers=2) == [v * v for v in range(40)]


@needs_fork
def test_a_worker_error_is_raised_here() -> None:
    with pytest.raises(ValueError, match="item 7 is bad"):
        fork_map(_square_or_fail, list(range(40)), workers=2)

"""Exceptions raised by the tiles library; every message is user-facing and says what is wrong."""

from __future__ import annotations


class TilesError(Exception):
    """Root of all tiles errors: the geometry or options cannot be turned into 3D Tiles as given."""


class GeometryError(TilesError):
    """A footprint or mesh is unusable (wrong type, non-finite coordinates, top below base)."""


class MetadataError(TilesError):
    """A feature property cannot be stored with the declared type."""


class ValidatorUnavailable(TilesError):
    """Node.js or the npm gltf-validator package is missing."""

"""Exceptions raised by the gis library; every message is user-facing and says what to do."""

from __future__ import annotations


class GisError(Exception):
    """Root of all gis errors: the file or option cannot be imported as given."""


class UnsupportedFormat(GisError):
    """The file type is not one the importer reads."""


class CrsError(GisError):
    """The coordinate reference system is unknown or contradicts the coordinates."""


class EmptyInput(GisError):
    """The file (or layer) holds no features."""

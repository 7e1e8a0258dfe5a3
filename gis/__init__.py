"""ParkTwin's pure GIS import library: vector files in, clean EPSG:4326 features with heights out (no database code)."""

from gis.errors import CrsError, EmptyInput, GisError, UnsupportedFormat
from gis.load import ImportReport, LoadResult, load_vector

__all__ = ["CrsError", "EmptyInput", "GisError", "ImportReport", "LoadResult", "UnsupportedFormat", "load_vector"]

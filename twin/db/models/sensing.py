"""OGC SensorThings API 1.1 (Sensing) storage: the park's assets are the Things; readings are Observations.

A Thing is a row of `assets` (its @iot.id is the asset id). Everything below a Thing cascades on
delete as OGC 18-088 requires (Thing → Datastreams → Observations). `observations` is the hot table
(ingest goal 20,000 obs/s): BIGINT ids, one unique index, numeric results in a plain double column.
`park_id` on the free-standing entities (Location, Sensor, ObservedProperty, FeatureOfInterest)
records which park created them, so park-scoped tokens see them before a Datastream links them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Identity, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, TSTZRANGE
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base
from twin.db.geometry import geometry_column


class Location(Base):
    """An STA Location: where a Thing is (one per asset position); geometry in WGS84, height in m above ground."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100), default="application/geo+json")
    geom = mapped_column(geometry_column(), nullable=False)
    height: Mapped[float | None] = mapped_column(Float)  # metres above the park's ground
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class ThingLocation(Base):
    """Link Thing (asset) ↔ its current Location(s)."""

    __tablename__ = "thing_locations"

    thing_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class HistoricalLocation(Base):
    """An STA HistoricalLocation: when a Thing was at its Location(s) (written when its Location changes)."""

    __tablename__ = "historical_locations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    thing_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    time: Mapped[datetime]


class HistoricalLocationLocation(Base):
    """Link HistoricalLocation ↔ the Location(s) the Thing was at."""

    __tablename__ = "historical_location_locations"

    historical_location_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("historical_locations.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Sensor(Base):
    """An STA Sensor: the instrument or procedure that produces a Datastream's readings."""

    __tablename__ = "sensors"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100))
    metadata_: Mapped[Any | None] = mapped_column("metadata", JSONB)  # a URL string or an inline document
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class ObservedProperty(Base):
    """An STA ObservedProperty: the phenomenon measured (definition = a URI, e.g. QUDT or FIWARE)."""

    __tablename__ = "observed_properties"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Datastream(Base):
    """An STA Datastream: one Thing's series of one ObservedProperty from one Sensor, in one unit."""

    __tablename__ = "datastreams"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    thing_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    sensor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sensors.id", ondelete="CASCADE"), index=True)
    observed_property_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("observed_properties.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # OM_Measurement, OM_CountObservation, OM_TruthObservation, OM_Observation... (full OGC URIs)
    observation_type: Mapped[str] = mapped_column(String(200))
    unit_of_measurement: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {name, symbol, definition}
    observed_area = mapped_column(geometry_column(), nullable=True)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # phenomenonTime / resultTime ranges are derived from the observations when read.


class FeatureOfInterest(Base):
    """An STA FeatureOfInterest: what an Observation is about (by default, the Thing's Location)."""

    __tablename__ = "features_of_interest"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100), default="application/geo+json")
    feature = mapped_column(geometry_column(), nullable=False)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The Location this feature was generated from, so later Observations reuse it.
    location_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("locations.id", ondelete="SET NULL"), unique=True
    )


class Observation(Base):
    """An STA Observation (the hot table): one reading; a repeated (datastream, phenomenonTime) is stored once."""

    __tablename__ = "observations"
    __table_args__ = (
        # Unique and descending: serves ON CONFLICT, the latest-first reads and time-range scans.
        Index(
            "uq_observations_datastream_id_phenomenon_time",
            "datastream_id",
            text("phenomenon_time DESC"),
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    datastream_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("datastreams.id", ondelete="CASCADE"))
    phenomenon_time: Mapped[datetime]
    phenomenon_time_end: Mapped[datetime | None]  # set when phenomenonTime is an interval
    result_time: Mapped[datetime | None]
    result_number: Mapped[float | None] = mapped_column(Float)  # numeric results (fast aggregation)
    result_json: Mapped[Any] = mapped_column(JSONB, nullable=True)  # any other result (text, bool, object)
    result_quality: Mapped[Any] = mapped_column(JSONB, nullable=True)
    valid_time = mapped_column(TSTZRANGE, nullable=True)
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    feature_of_interest_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("features_of_interest.id", ondelete="CASCADE")
    )


class DatastreamLatest(Base):
    """The latest Observation of each Datastream, maintained on ingest (serves /Latest without scanning)."""

    __tablename__ = "datastream_latest"

    datastream_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("datastreams.id", ondelete="CASCADE"), primary_key=True
    )
    observation_id: Mapped[int] = mapped_column(BigInteger)  # no FK: keeps ingest cheap
    phenomenon_time: Mapped[datetime]
    result_number: Mapped[float | None] = mapped_column(Float)
    result_json: Mapped[Any] = mapped_column(JSONB, nullable=True)

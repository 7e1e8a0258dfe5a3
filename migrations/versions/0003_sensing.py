"""Sensing (OGC SensorThings API 1.1): locations, sensors, observed properties, datastreams, observations.

Things are the park's assets (table `assets`). `observations` is the hot table: BIGINT identity ids
and one unique descending index (datastream_id, phenomenon_time DESC) that serves ON CONFLICT,
latest-first reads and time-range scans.

Revision ID: 0003_sensing
Revises: 0002_access
Create Date: 2026-11-24
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_sensing"
down_revision = "0002_access"
branch_labels = None
depends_on = None


def _geom() -> geoalchemy2.Geometry:
    # spatial_index=False: the GiST indexes are created explicitly below, once.
    return geoalchemy2.Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False)


def _id(table: str) -> list:
    return [sa.Column("id", sa.BigInteger(), nullable=False), sa.PrimaryKeyConstraint("id", name=f"pk_{table}")]


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE", **kwargs: object) -> sa.Column:
    referred = target.split(".")[0]
    name = f"fk_{table}_{column}_{referred}"
    if len(name) > 63:  # PostgreSQL's identifier limit
        name = f"fk_{table}_{column}"
    return sa.Column(
        column,
        sa.Integer() if referred == "parks" else sa.BigInteger(),
        sa.ForeignKey(target, ondelete=ondelete, name=name),
        **kwargs,
    )


def _park(table: str) -> sa.Column:
    return _fk(table, "park_id", "parks.id", nullable=True)


def upgrade() -> None:
    op.create_table(
        "locations",
        *_id("locations"),
        _park("locations"),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("encoding_type", sa.String(100), server_default="application/geo+json", nullable=False),
        sa.Column("geom", _geom(), nullable=False),
        sa.Column("height", sa.Float()),
        sa.Column("properties", postgresql.JSONB()),
    )
    op.create_index("ix_locations_park_id", "locations", ["park_id"])
    op.create_index("idx_locations_geom", "locations", ["geom"], postgresql_using="gist")

    op.create_table(
        "thing_locations",
        _fk("thing_locations", "thing_id", "assets.id", nullable=False),
        _fk("thing_locations", "location_id", "locations.id", nullable=False),
        sa.PrimaryKeyConstraint("thing_id", "location_id", name="pk_thing_locations"),
    )
    op.create_index("ix_thing_locations_location_id", "thing_locations", ["location_id"])

    op.create_table(
        "historical_locations",
        *_id("historical_locations"),
        _fk("historical_locations", "thing_id", "assets.id", nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_historical_locations_thing_id", "historical_locations", ["thing_id"])

    op.create_table(
        "historical_location_locations",
        _fk("historical_location_locations", "historical_location_id", "historical_locations.id", nullable=False),
        _fk("historical_location_locations", "location_id", "locations.id", nullable=False),
        sa.PrimaryKeyConstraint("historical_location_id", "location_id", name="pk_historical_location_locations"),
    )
    op.create_index("ix_historical_location_locations_location_id", "historical_location_locations", ["location_id"])

    op.create_table(
        "sensors",
        *_id("sensors"),
        _park("sensors"),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("encoding_type", sa.String(100), nullable=False),
        sa.Column("metadata", postgresql.JSONB()),
        sa.Column("properties", postgresql.JSONB()),
    )
    op.create_index("ix_sensors_park_id", "sensors", ["park_id"])

    op.create_table(
        "observed_properties",
        *_id("observed_properties"),
        _park("observed_properties"),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("definition", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("properties", postgresql.JSONB()),
    )
    op.create_index("ix_observed_properties_park_id", "observed_properties", ["park_id"])

    op.create_table(
        "datastreams",
        *_id("datastreams"),
        _fk("datastreams", "thing_id", "assets.id", nullable=False),
        _fk("datastreams", "sensor_id", "sensors.id", nullable=False),
        _fk("datastreams", "observed_property_id", "observed_properties.id", nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("observation_type", sa.String(200), nullable=False),
        sa.Column("unit_of_measurement", postgresql.JSONB(), nullable=False),
        sa.Column("observed_area", _geom()),
        sa.Column("properties", postgresql.JSONB()),
    )
    op.create_index("ix_datastreams_thing_id", "datastreams", ["thing_id"])
    op.create_index("ix_datastreams_sensor_id", "datastreams", ["sensor_id"])
    op.create_index("ix_datastreams_observed_property_id", "datastreams", ["observed_property_id"])
    op.create_index("idx_datastreams_observed_area", "datastreams", ["observed_area"], postgresql_using="gist")

    op.create_table(
        "features_of_interest",
        *_id("features_of_interest"),
        _park("features_of_interest"),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("encoding_type", sa.String(100), server_default="application/geo+json", nullable=False),
        sa.Column("feature", _geom(), nullable=False),
        sa.Column("properties", postgresql.JSONB()),
        _fk("features_of_interest", "location_id", "locations.id", ondelete="SET NULL"),
        sa.UniqueConstraint("location_id", name="uq_features_of_interest_location_id"),
    )
    op.create_index("ix_features_of_interest_park_id", "features_of_interest", ["park_id"])
    op.create_index("idx_features_of_interest_feature", "features_of_interest", ["feature"], postgresql_using="gist")

    op.create_table(
        "observations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        _fk("observations", "datastream_id", "datastreams.id", nullable=False),
        sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phenomenon_time_end", sa.DateTime(timezone=True)),
        sa.Column("result_time", sa.DateTime(timezone=True)),
        sa.Column("result_number", sa.Float()),
        sa.Column("result_json", postgresql.JSONB()),
        sa.Column("result_quality", postgresql.JSONB()),
        sa.Column("valid_time", postgresql.TSTZRANGE()),
        sa.Column("parameters", postgresql.JSONB()),
        _fk("observations", "feature_of_interest_id", "features_of_interest.id"),
        sa.PrimaryKeyConstraint("id", name="pk_observations"),
    )
    # The only secondary index on the hot table (a repeated reading is stored once).
    op.execute(
        "CREATE UNIQUE INDEX uq_observations_datastream_id_phenomenon_time "
        "ON observations (datastream_id, phenomenon_time DESC)"
    )

    op.create_table(
        "datastream_latest",
        _fk("datastream_latest", "datastream_id", "datastreams.id", nullable=False),
        sa.Column("observation_id", sa.BigInteger(), nullable=False),
        sa.Column("phenomenon_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result_number", sa.Float()),
        sa.Column("result_json", postgresql.JSONB()),
        sa.PrimaryKeyConstraint("datastream_id", name="pk_datastream_latest"),
    )


def downgrade() -> None:
    for table in (
        "datastream_latest", "observations", "features_of_interest", "datastreams", "observed_properties",
        "sensors", "historical_location_locations", "historical_locations", "thing_locations", "locations",
    ):
        op.drop_table(table)

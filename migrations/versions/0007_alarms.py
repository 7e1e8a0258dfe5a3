"""Alarms: rules, alarms with their lifecycle and linked cameras, and the event log (history, broadcasts).

One open alarm per (park, dedup_key): a unique partial index WHERE state <> 'cleared', which every
writer targets with INSERT … ON CONFLICT (so several workers cannot double-open an alarm).

Revision ID: 0007_alarms
Revises: 0003_sensing
Create Date: 2026-11-24
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_alarms"
down_revision = "0003_sensing"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _fk(table: str, column: str, target: str, ondelete: str, **kwargs: object) -> sa.Column:
    referred = target.split(".")[0]
    kind = sa.Integer() if referred == "parks" else sa.BigInteger()
    return sa.Column(column, kind, sa.ForeignKey(target, ondelete=ondelete, name=f"fk_{table}_{column}_{referred}"), **kwargs)


def _jsonb(name: str, default: str) -> sa.Column:
    return sa.Column(name, postgresql.JSONB(), server_default=sa.text(f"'{default}'::jsonb"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "alarm_rules",
        sa.Column("id", sa.BigInteger(), nullable=False),
        _fk("alarm_rules", "park_id", "parks.id", "CASCADE", nullable=False),
        sa.Column("code", sa.String(100)),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300)),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        _fk("alarm_rules", "datastream_id", "datastreams.id", "CASCADE"),
        sa.Column("asset_kinds", postgresql.ARRAY(sa.String(40)), server_default="{}", nullable=False),
        sa.Column("asset_codes", postgresql.ARRAY(sa.String(100)), server_default="{}", nullable=False),
        sa.Column("observed_property", sa.String(200)),
        _fk("alarm_rules", "feature_id", "features.id", "CASCADE"),
        _jsonb("params", "{}"),
        sa.Column("created_by", sa.String(200)),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_rules"),
        sa.UniqueConstraint("park_id", "code", name="uq_alarm_rules_park_id_code"),
        sa.CheckConstraint("kind IN ('threshold', 'state', 'no_data', 'geofence')", name="ck_alarm_rules_kind"),
        sa.CheckConstraint("severity IN ('critical', 'major', 'minor', 'warning')", name="ck_alarm_rules_severity"),
    )
    op.create_index("ix_alarm_rules_park_kind", "alarm_rules", ["park_id", "kind"])
    op.create_index("ix_alarm_rules_datastream_id", "alarm_rules", ["datastream_id"])

    op.create_table(
        "alarms",
        sa.Column("id", sa.BigInteger(), nullable=False),
        _fk("alarms", "park_id", "parks.id", "CASCADE", nullable=False),
        _fk("alarms", "rule_id", "alarm_rules.id", "SET NULL"),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("state", sa.String(16), server_default="active", nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("title_en", sa.String(300)),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        _fk("alarms", "asset_id", "assets.id", "SET NULL"),
        _fk("alarms", "datastream_id", "datastreams.id", "SET NULL"),
        sa.Column("feature_id", sa.BigInteger(), sa.ForeignKey("features.id", ondelete="SET NULL", name="fk_alarms_feature_id_features")),
        sa.Column("building_id", sa.BigInteger(), sa.ForeignKey("features.id", ondelete="SET NULL", name="fk_alarms_building_id_features")),
        sa.Column("storey_id", sa.BigInteger(), sa.ForeignKey("features.id", ondelete="SET NULL", name="fk_alarms_storey_id_features")),
        sa.Column("geom", geoalchemy2.Geometry(geometry_type="POINT", srid=4326, spatial_index=False)),
        sa.Column("height", sa.Float()),
        _jsonb("details", "{}"),
        _jsonb("linked_cameras", "[]"),
        sa.Column("count", sa.Integer(), server_default="1", nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("cleared_by", sa.String(200)),
        sa.Column("cleared_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_alarms"),
        sa.CheckConstraint("state IN ('active', 'acknowledged', 'cleared')", name="ck_alarms_state"),
        sa.CheckConstraint("severity IN ('critical', 'major', 'minor', 'warning')", name="ck_alarms_severity"),
    )
    # The deduplication guarantee: one open alarm per key (INSERT … ON CONFLICT targets this index).
    op.execute("CREATE UNIQUE INDEX uq_alarms_park_id_dedup_key_open ON alarms (park_id, dedup_key) WHERE state <> 'cleared'")
    op.create_index("ix_alarms_park_state", "alarms", ["park_id", "state"])
    op.create_index("ix_alarms_park_first_seen", "alarms", ["park_id", "first_seen"])
    op.create_index("ix_alarms_rule_id", "alarms", ["rule_id"])
    op.create_index("ix_alarms_asset_id", "alarms", ["asset_id"])
    op.create_index("idx_alarms_geom", "alarms", ["geom"], postgresql_using="gist")

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        _fk("events", "park_id", "parks.id", "CASCADE", nullable=False),
        _fk("events", "alarm_id", "alarms.id", "CASCADE"),
        sa.Column("type", sa.String(40), nullable=False),
        _jsonb("payload", "{}"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_park_time", "events", ["park_id", "time"])
    op.create_index("ix_events_alarm_id", "events", ["alarm_id"])


def downgrade() -> None:
    for table in ("events", "alarms", "alarm_rules"):
        op.drop_table(table)

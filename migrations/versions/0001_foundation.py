"""Foundation: PostGIS, parks, layers, features (with hierarchy), assets, enterprises, imports.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-24
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def _geom(kind: str) -> geoalchemy2.Geometry:
    # spatial_index=False: the GiST indexes are created explicitly below, once.
    return geoalchemy2.Geometry(geometry_type=kind, srid=4326, spatial_index=False)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _jsonb() -> sa.Column:
    return sa.Column("properties", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "parks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200)),
        sa.Column("city", sa.String(100)),
        sa.Column("center", _geom("POINT")),
        sa.Column("ground_elevation_m", sa.Float(), server_default="0", nullable=False),
        _jsonb(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_parks"),
        sa.UniqueConstraint("slug", name="uq_parks_slug"),
    )
    op.create_table(
        "layers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_layers_park_id_parks"), nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200)),
        sa.Column("category", sa.String(32), nullable=False, server_default="other"),
        sa.Column("source_name", sa.String(500)),
        sa.Column("source_crs", sa.String(200)),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_layers"),
        sa.UniqueConstraint("park_id", "slug", name="uq_layers_park_id_slug"),
    )
    op.create_index("ix_layers_park_id", "layers", ["park_id"])
    op.create_table(
        "features",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_features_park_id_parks"), nullable=False),
        sa.Column("layer_id", sa.Integer(), sa.ForeignKey("layers.id", ondelete="CASCADE", name="fk_features_layer_id_layers"), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), sa.ForeignKey("features.id", ondelete="SET NULL", name="fk_features_parent_id_features")),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(300)),
        sa.Column("name_en", sa.String(300)),
        sa.Column("geom", _geom("GEOMETRY"), nullable=False),
        sa.Column("base_height", sa.Float(), server_default="0", nullable=False),
        sa.Column("top_height", sa.Float()),
        sa.Column("height_source", sa.String(100)),
        sa.Column("storeys", sa.Integer()),
        _jsonb(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_features"),
        sa.UniqueConstraint("park_id", "code", name="uq_features_park_id_code"),
    )
    op.create_index("ix_features_layer_id", "features", ["layer_id"])
    op.create_index("ix_features_parent_id", "features", ["parent_id"])
    op.create_index("ix_features_park_kind", "features", ["park_id", "kind"])
    op.create_index("idx_features_geom", "features", ["geom"], postgresql_using="gist")
    op.create_table(
        "assets",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_assets_park_id_parks"), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), sa.ForeignKey("features.id", ondelete="SET NULL", name="fk_assets_feature_id_features")),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300)),
        sa.Column("geom", _geom("POINT"), nullable=False),
        sa.Column("height", sa.Float(), server_default="0", nullable=False),
        _jsonb(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_assets"),
        sa.UniqueConstraint("park_id", "code", name="uq_assets_park_id_code"),
    )
    op.create_index("ix_assets_feature_id", "assets", ["feature_id"])
    op.create_index("ix_assets_park_kind", "assets", ["park_id", "kind"])
    op.create_index("idx_assets_geom", "assets", ["geom"], postgresql_using="gist")
    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_enterprises_park_id_parks"), nullable=False),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300)),
        sa.Column("building_id", sa.BigInteger(), sa.ForeignKey("features.id", ondelete="SET NULL", name="fk_enterprises_building_id_features")),
        _jsonb(),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_enterprises"),
        sa.UniqueConstraint("park_id", "code", name="uq_enterprises_park_id_code"),
    )
    op.create_index("ix_enterprises_park_id", "enterprises", ["park_id"])
    op.create_index("ix_enterprises_building_id", "enterprises", ["building_id"])
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_imports_park_id_parks"), nullable=False),
        sa.Column("layer_id", sa.Integer(), sa.ForeignKey("layers.id", ondelete="SET NULL", name="fk_imports_layer_id_layers")),
        sa.Column("source_kind", sa.String(20), nullable=False),
        sa.Column("source_name", sa.String(500), nullable=False),
        sa.Column("source_crs", sa.String(200)),
        sa.Column("report", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_imports"),
    )
    op.create_index("ix_imports_park_id", "imports", ["park_id"])


def downgrade() -> None:
    for table in ("imports", "enterprises", "assets", "features", "layers", "parks"):
        op.drop_table(table)
    # The postgis extension is left in place: other schemas in the database may use it.

"""Tiles: versioned tilesets with content-addressed GLB blobs.

Revision ID: 0005_tiles
Revises: 0001_foundation
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_tiles"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tile_blobs",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_tile_blobs"),
    )
    # GLB bytes are already dense; skip TOAST compression attempts.
    op.execute("ALTER TABLE tile_blobs ALTER COLUMN data SET STORAGE EXTERNAL")
    op.create_table(
        "tilesets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_tilesets_park_id_parks"), nullable=False),
        sa.Column("slug", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200)),
        sa.Column("source_kind", sa.String(20), nullable=False),
        sa.Column("source_ref", sa.String(200)),
        sa.Column("source_hash", sa.String(64)),
        sa.Column("tileset", postgresql.JSONB(), nullable=False),
        sa.Column("feature_count", sa.Integer(), nullable=False),
        sa.Column("tile_count", sa.Integer(), nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tilesets"),
        sa.UniqueConstraint("park_id", "slug", "version", name="uq_tilesets_park_id_slug_version"),
    )
    op.create_index("ix_tilesets_park_id", "tilesets", ["park_id"])
    op.create_index("uq_tilesets_published", "tilesets", ["park_id", "slug"], unique=True, postgresql_where=sa.text("published"))
    op.create_table(
        "tileset_blobs",
        sa.Column("tileset_id", sa.Integer(), sa.ForeignKey("tilesets.id", ondelete="CASCADE", name="fk_tileset_blobs_tileset_id_tilesets"), nullable=False),
        sa.Column("blob_name", sa.String(80), sa.ForeignKey("tile_blobs.name", ondelete="RESTRICT", name="fk_tileset_blobs_blob_name_tile_blobs"), nullable=False),
        sa.PrimaryKeyConstraint("tileset_id", "blob_name", name="pk_tileset_blobs"),
    )
    op.create_index("ix_tileset_blobs_blob_name", "tileset_blobs", ["blob_name"])


    # Tiles are rebuilt only when the features changed: keep updated_at true for every UPDATE,
    # including ones made outside the service (psql, QGIS), so the change check can trust it.
    op.execute("""
        CREATE FUNCTION parktwin_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $$""")
    op.execute("CREATE TRIGGER features_touch_updated_at BEFORE UPDATE ON features FOR EACH ROW EXECUTE FUNCTION parktwin_touch_updated_at()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS features_touch_updated_at ON features")
    op.execute("DROP FUNCTION IF EXISTS parktwin_touch_updated_at()")
    op.drop_table("tileset_blobs")
    op.drop_table("tilesets")
    op.drop_table("tile_blobs")

"""Tile blobs compressed with lz4 in TOAST (they were stored uncompressed).

0005 stored GLB content uncompressed ("already dense"). It is not: per-vertex normals repeat four
times a wall, feature ids run for a whole building, and lz4 keeps 42% of the 100k-footprint
benchmark's 84 MB (35 MB on disk and in the WAL), while storing them took no longer (0.42–0.51 s
against 0.46–0.60 s) and reading them back as long (0.04–0.06 s). Old versions stay as they were
stored; new blobs are compressed. pglz, the fallback where PostgreSQL lacks lz4, compresses at a
tenth of the speed, so without lz4 the column stays as it is.

Revision ID: 0010_tile_blob_compression
Revises: 0009_feature_layer_check
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_tile_blob_compression"
down_revision = "0009_feature_layer_check"
branch_labels = None
depends_on = None


def upgrade() -> None:
    lz4 = op.get_bind().scalar(sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"))
    if lz4:
        op.execute("ALTER TABLE tile_blobs ALTER COLUMN data SET STORAGE EXTENDED, ALTER COLUMN data SET COMPRESSION lz4")


def downgrade() -> None:
    op.execute("ALTER TABLE tile_blobs ALTER COLUMN data SET STORAGE EXTERNAL, ALTER COLUMN data SET COMPRESSION DEFAULT")

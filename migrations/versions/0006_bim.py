"""BIM and jobs: durable jobs, BIM models with versions, and IFC elements with footprints.

Revision ID: 0006_bim
Revises: 0005_tiles
Create Date: 2026-11-24
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_bim"
down_revision = "0005_tiles"
branch_labels = None
depends_on = None


def _ts() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def _json(name: str, default: str = "'{}'::jsonb", nullable: bool = False) -> sa.Column:
    return sa.Column(name, postgresql.JSONB(), server_default=sa.text(default) if not nullable else None, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_jobs_park_id_parks")),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, server_default="queued"),
        sa.Column("phase", sa.String(40), nullable=False, server_default="queued"),
        sa.Column("percent", sa.Float(), nullable=False, server_default="0"),
        sa.Column("message", sa.String(500)),
        sa.Column("error", sa.String()),
        _json("params"), _json("result"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(200)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
        sa.CheckConstraint("state IN ('queued','running','succeeded','failed')", name="ck_jobs_state"),
    )
    op.create_index("ix_jobs_park_id", "jobs", ["park_id"])
    op.create_index("ix_jobs_state_queued", "jobs", ["state", "id"], postgresql_where=sa.text("state IN ('queued','running')"))
    op.create_table(
        "bim_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), sa.ForeignKey("parks.id", ondelete="CASCADE", name="fk_bim_models_park_id_parks"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("building_id", sa.BigInteger(), sa.ForeignKey("features.id", ondelete="SET NULL", name="fk_bim_models_building_id_features")),
        _json("anchor", nullable=True),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_bim_models"),
        sa.UniqueConstraint("park_id", "name", name="uq_bim_models_park_id_name"),
    )
    op.create_index("ix_bim_models_park_id", "bim_models", ["park_id"])
    op.create_table(
        "bim_model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("bim_models.id", ondelete="CASCADE", name="fk_bim_model_versions_model_id_bim_models"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, server_default="processing"),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("file_path", sa.String(600), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("ifc_schema", sa.String(40)),
        _json("georef"),
        _json("anchor", nullable=True),
        sa.Column("tileset_id", sa.Integer(), sa.ForeignKey("tilesets.id", ondelete="SET NULL", name="fk_bim_model_versions_tileset_id_tilesets")),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="SET NULL", name="fk_bim_model_versions_job_id_jobs")),
        sa.Column("element_count", sa.Integer(), nullable=False, server_default="0"),
        _json("stats"),
        _json("warnings", "'[]'::jsonb"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bim_model_versions"),
        sa.UniqueConstraint("model_id", "version", name="uq_bim_model_versions_model_id_version"),
    )
    op.create_index("ix_bim_model_versions_model_id", "bim_model_versions", ["model_id"])
    op.create_table(
        "bim_elements",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("version_id", sa.Integer(), sa.ForeignKey("bim_model_versions.id", ondelete="CASCADE", name="fk_bim_elements_version_id_bim_model_versions"), nullable=False),
        sa.Column("global_id", sa.String(64), nullable=False),
        sa.Column("ifc_class", sa.String(80), nullable=False),
        sa.Column("name", sa.String(300)),
        sa.Column("storey", sa.String(200)),
        sa.Column("footprint", geoalchemy2.Geometry(geometry_type="GEOMETRY", srid=4326, spatial_index=False)),
        sa.Column("z_min", sa.Float()),
        sa.Column("z_max", sa.Float()),
        _json("psets"),
        sa.PrimaryKeyConstraint("id", name="pk_bim_elements"),
        sa.UniqueConstraint("version_id", "global_id", name="uq_bim_elements_version_id_global_id"),
    )
    op.create_index("ix_bim_elements_ifc_class", "bim_elements", ["ifc_class"])
    op.create_index("ix_bim_elements_version_storey", "bim_elements", ["version_id", "storey"])
    op.create_index("idx_bim_elements_footprint", "bim_elements", ["footprint"], postgresql_using="gist")


def downgrade() -> None:
    for table in ("bim_elements", "bim_model_versions", "bim_models", "jobs"):
        op.drop_table(table)

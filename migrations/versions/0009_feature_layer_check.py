"""Features → layers checked once per statement instead of once per row, features.geom by SP-GiST;
indexes for the keys that point at features.

The composite foreign key (layer_id, park_id) → layers(id, park_id) of 0008 runs one RI query per
inserted row: 0.6–0.85 s of server time for a 100,000-footprint import, a third of it. PostgreSQL
does not batch RI checks, so the key becomes statement-level triggers that do what it did, set-based:

- after INSERT or UPDATE on features, the layers the new rows name are locked FOR KEY SHARE (as the
  RI check locks them: a concurrent DELETE of the layer waits for this transaction), then any row whose
  (layer_id, park_id) has no layer raises foreign_key_violation under the old constraint's name;
- after DELETE on layers, their features are deleted (the old ON DELETE CASCADE; deleting a park
  still removes its features through its layers);
- a layer's id or park cannot change while features point at it (the old NO ACTION on update).

Measured on the same 100k rows: COPY with the key 1.05–1.29 s, with these triggers 0.58–0.70 s,
without either 0.45–0.55 s. The models keep the key as metadata (backups follow it); migrations/env.py
keeps autogenerate from adding it back.

features.geom gets an SP-GiST index instead of GiST: inserting into the quad-tree costs less than
choosing GiST subtrees by penalty (100k rows: index work 0.6 → 0.4 s), and every spatial query on
features is a bounding-box test (&&, ST_Intersects; nothing orders by <->), which it answers as fast
(measured on the same 100k footprints: 0.6, 14 and 120 ms for 2, 279 and 26,478 hits, both indexes).

The foreign keys from alarms (feature, building, storey), alarm_rules (feature) and bim_models
(building) to features had no index on their side, so deleting a feature scanned those tables once
per key: re-importing a layer of n buildings in a park with many alarms read the alarms 3n times.

Revision ID: 0009_feature_layer_check
Revises: 0008_feature_layer_fk, 0007_alarms
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_feature_layer_check"
down_revision = ("0008_feature_layer_fk", "0007_alarms")
branch_labels = None
depends_on = None

CONSTRAINT = "fk_features_layer_id_layers"
# (table, column): a foreign key to features whose side had no index.
REFERRING = (("alarms", "feature_id"), ("alarms", "building_id"), ("alarms", "storey_id"), ("alarm_rules", "feature_id"), ("bim_models", "building_id"))



def _violation(action: str, table: str, detail: str) -> str:
    """PL/pgSQL that raises what PostgreSQL raises for the foreign key (code 23503, its name, a DETAIL)."""
    return (f"RAISE EXCEPTION '{action} violates foreign key constraint \"{CONSTRAINT}\"' USING ERRCODE = 'foreign_key_violation', "
            f"CONSTRAINT = '{CONSTRAINT}', TABLE = '{table}', DETAIL = {detail};")


_MISSING_LAYER = _violation('insert or update on table "features"', "features",
                            """format('Key (layer_id, park_id)=(%s, %s) is not present in table "layers".', missing.layer_id, missing.park_id)""")
_LAYER_IN_USE = _violation('update on table "layers"', "layers",
                           """format('Key (id, park_id)=(%s, %s) is still referenced from table "features".', OLD.id, OLD.park_id)""")

UPGRADE = (f"""
CREATE FUNCTION parktwin_features_check_layer() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing record;
BEGIN
    PERFORM 1 FROM layers WHERE id IN (SELECT DISTINCT layer_id FROM new_rows) ORDER BY id FOR KEY SHARE;
    SELECT n.layer_id, n.park_id INTO missing FROM new_rows n
    WHERE NOT EXISTS (SELECT 1 FROM layers l WHERE l.id = n.layer_id AND l.park_id = n.park_id) LIMIT 1;
    IF FOUND THEN
        {_MISSING_LAYER}
    END IF;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER features_layer_check_insert AFTER INSERT ON features
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parktwin_features_check_layer()""",
    """CREATE TRIGGER features_layer_check_update AFTER UPDATE ON features
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parktwin_features_check_layer()""",
    """CREATE FUNCTION parktwin_layers_delete_features() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM features f USING old_rows o WHERE f.layer_id = o.id;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER layers_delete_features AFTER DELETE ON layers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION parktwin_layers_delete_features()""",
    f"""CREATE FUNCTION parktwin_layers_keep_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM features WHERE layer_id = OLD.id AND park_id = OLD.park_id) THEN
        {_LAYER_IN_USE}
    END IF;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER layers_keep_key AFTER UPDATE OF id, park_id ON layers FOR EACH ROW
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.park_id IS DISTINCT FROM NEW.park_id) EXECUTE FUNCTION parktwin_layers_keep_key()""",
)

DOWNGRADE = (
    "DROP TRIGGER layers_keep_key ON layers",
    "DROP FUNCTION parktwin_layers_keep_key()",
    "DROP TRIGGER layers_delete_features ON layers",
    "DROP FUNCTION parktwin_layers_delete_features()",
    "DROP TRIGGER features_layer_check_update ON features",
    "DROP TRIGGER features_layer_check_insert ON features",
    "DROP FUNCTION parktwin_features_check_layer()",
)


def upgrade() -> None:
    op.drop_constraint(CONSTRAINT, "features", type_="foreignkey")
    for statement in UPGRADE:
        op.execute(statement)
    for table, column in REFERRING:
        op.create_index(f"ix_{table}_{column}", table, [column], postgresql_where=sa.text(f"{column} IS NOT NULL"))
    op.drop_index("idx_features_geom", table_name="features")
    op.create_index("idx_features_geom", "features", ["geom"], postgresql_using="spgist")


def downgrade() -> None:
    op.drop_index("idx_features_geom", table_name="features")
    op.create_index("idx_features_geom", "features", ["geom"], postgresql_using="gist")
    for table, column in REFERRING:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    for statement in DOWNGRADE:
        op.execute(statement)
    op.create_foreign_key(CONSTRAINT, "features", "layers", ["layer_id", "park_id"], ["id", "park_id"], ondelete="CASCADE")

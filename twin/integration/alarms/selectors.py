"""Which datastreams a rule watches, in SQL fragments shared by ingest evaluation and the no-data sweep,
and the open-alarm key of a rule's subject (Python and SQL spell it the same way).

Aliases: `r` alarm_rules, `d` datastreams, `a` assets (the Thing), `op` observed_properties. The
observed property matches by name or by the last segment of its definition URI, compared in lower
case without punctuation or spaces ("PM2.5" = "pm25" = "pm2_5").
"""

from __future__ import annotations


def _normalized(expression: str) -> str:
    return f"regexp_replace(lower({expression}), '[[:punct:][:space:]]', '', 'g')"


PROPERTY_MATCHES = f"""(r.observed_property IS NULL
         OR {_normalized("op.name")} = {_normalized("r.observed_property")}
         OR {_normalized("regexp_replace(op.definition, '^.*[/#]', '')")} = {_normalized("r.observed_property")})"""

ASSET_MATCHES = """r.park_id = a.park_id AND r.enabled
    AND (r.datastream_id IS NULL OR r.datastream_id = d.id)
    AND (cardinality(r.asset_kinds) = 0 OR a.kind = ANY(r.asset_kinds))
    AND (cardinality(r.asset_codes) = 0 OR a.code = ANY(r.asset_codes))"""

RULE_WATCHES = f"{ASSET_MATCHES}\n    AND {PROPERTY_MATCHES}"

PER_DATASTREAM = ("threshold", "state")

# The same key as `dedup_key`, for joining open alarms in SQL.
DEDUP_KEY_SQL = ("CASE WHEN r.kind IN ('threshold', 'state') THEN 'rule:' || r.id || '/ds:' || d.id "
                 "ELSE 'rule:' || r.id || '/asset:' || a.id END")


def dedup_key(*, rule_id: int, kind: str, datastream_id: int | None, asset_id: int | None) -> str:
    """The open-alarm key of a rule's subject: per datastream for threshold/state, per asset for geofence/no_data."""
    if kind in PER_DATASTREAM:
        return f"rule:{rule_id}/ds:{datastream_id}"
    return f"rule:{rule_id}/asset:{asset_id}"

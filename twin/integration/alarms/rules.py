"""Alarm rules: what each kind means, how a rule is validated, and their CRUD (flush only).

Kinds and their `params`:
- threshold — `high` (raise when value > high) with `high_clear` (clear when value < high_clear,
  default high: the hysteresis band), and/or `low` (raise when value < low) with `low_clear`.
  E.g. PM2.5 {"high": 75, "high_clear": 60}; pH {"high": 9, "high_clear": 8.8, "low": 6, "low_clear": 6.2}.
- state — `values`: results that mean trouble (strings compare case-insensitively), e.g. ["fault"].
- no_data — `minutes`: an asset whose matching datastreams have all been silent this long
  (信号消失); `include_never_reported` (default false) also alarms datastreams that never reported.
- geofence — `mode`: "exit" (the tracked asset must stay inside the rule's `geofence` polygon:
  alarm while outside, 离开指定范围) or "enter" (alarm while inside, 越界). Positions are the results
  of the asset's location datastreams: a GeoJSON Point observation `{"type": "Point", "coordinates": [lon, lat]}`.

What a rule watches (at least one is required): `datastream` (one STA Datastream id), `asset_kinds`,
`asset_codes`, `observed_property` (matched against the ObservedProperty's name or the last segment of
its definition URI, ignoring case and punctuation: "PM2.5" = "pm25" = "pm2_5"). All given conditions apply.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twin.db.models import Alarm, AlarmRule, Asset, Datastream, Feature, Park
from twin.errors import Conflict, InvalidInput, NotFound
from twin.integration.alarms import inputs, lifecycle
from twin.integration.alarms.vocabulary import RuleKind, Severity
from twin.integration.assets import kinds as asset_kinds
from twin.integration.assets.registry import validation_message

Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThresholdParams(_Params):
    high: Finite | None = Field(None, description="raise when the value is above")
    high_clear: Finite | None = Field(None, description="clear when the value falls below (≤ high; default high)")
    low: Finite | None = Field(None, description="raise when the value is below")
    low_clear: Finite | None = Field(None, description="clear when the value rises above (≥ low; default low)")

    @model_validator(mode="after")
    def _bands(self) -> ThresholdParams:
        if self.high is None and self.low is None:
            raise ValueError("a threshold rule needs 'high' and/or 'low'")
        if self.high is not None:
            self.high_clear = self.high if self.high_clear is None else self.high_clear
            if self.high_clear > self.high:
                raise ValueError("high_clear must not exceed high (it is the lower edge of the hysteresis band)")
        elif self.high_clear is not None:
            raise ValueError("high_clear needs high")
        if self.low is not None:
            self.low_clear = self.low if self.low_clear is None else self.low_clear
            if self.low_clear < self.low:
                raise ValueError("low_clear must not be below low (it is the upper edge of the hysteresis band)")
        elif self.low_clear is not None:
            raise ValueError("low_clear needs low")
        if self.high is not None and self.low is not None and not self.low_clear < self.high_clear:  # type: ignore[operator]
            raise ValueError("the low band must lie below the high band (low_clear < high_clear)")
        return self


class StateParams(_Params):
    values: list[str | bool | Finite] = Field(min_length=1, max_length=50, description="results that raise the alarm")


class NoDataParams(_Params):
    minutes: Finite = Field(gt=0, le=7 * 24 * 60, description="silence that raises the alarm, minutes")
    include_never_reported: bool = False


class GeofenceParams(_Params):
    mode: Literal["exit", "enter"] = "exit"


PARAMS_BY_KIND: dict[str, type[_Params]] = {"threshold": ThresholdParams, "state": StateParams, "no_data": NoDataParams, "geofence": GeofenceParams}


class RuleSpec(BaseModel):
    """A rule as the API takes it (create) and as PATCH merges into."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    name: str = Field(min_length=1, max_length=300, examples=["PM2.5 超标"])
    name_en: str | None = Field(None, max_length=300, examples=["PM2.5 above 75 µg/m³"])
    kind: RuleKind
    severity: Severity = "minor"
    enabled: bool = True
    datastream: int | None = Field(None, gt=0, description="one STA Datastream id")
    asset_kinds: list[str] = Field(default_factory=list, max_length=30)
    asset_codes: list[str] = Field(default_factory=list, max_length=1000)
    observed_property: str | None = Field(None, min_length=1, max_length=200, examples=["PM2.5"])
    geofence: str | None = Field(None, description="code of the polygon feature of a geofence rule", examples=["GF-01"])
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("asset_kinds")
    @classmethod
    def _known_kinds(cls, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in asset_kinds.KINDS_BY_CODE]
        if unknown:
            raise ValueError(f"unknown asset kind '{unknown[0]}'; known kinds: {', '.join(asset_kinds.KINDS_BY_CODE)}")
        return list(dict.fromkeys(values))

    @model_validator(mode="after")
    def _coherent(self) -> RuleSpec:
        try:
            self.params = PARAMS_BY_KIND[self.kind].model_validate(self.params).model_dump(exclude_none=True)
        except ValidationError as exc:
            raise ValueError(f"params of a {self.kind} rule: {validation_message(exc)}") from None
        selectors = (self.datastream, self.asset_kinds, self.asset_codes, self.observed_property)
        if self.kind == "geofence":
            if not self.geofence:
                raise ValueError("a geofence rule needs 'geofence' (the code of a polygon feature)")
            if not (self.datastream or self.asset_kinds or self.asset_codes):
                raise ValueError("a geofence rule needs the tracked assets: 'asset_kinds', 'asset_codes' or 'datastream'")
        elif self.geofence:
            raise ValueError(f"'geofence' applies to geofence rules only, not {self.kind}")
        elif not any(selectors):
            raise ValueError("name what the rule watches: 'datastream', 'asset_kinds', 'asset_codes' and/or 'observed_property'")
        return self


def parse_spec(body: dict[str, Any]) -> RuleSpec:
    """A RuleSpec from a dict, or InvalidInput saying what is wrong."""
    return inputs.parse(RuleSpec, body)


def _check_references(session: Session, park: Park, spec: RuleSpec) -> int | None:
    """Check the datastream, assets and geofence belong to the park; the geofence feature id."""
    if spec.datastream is not None:
        owner = session.scalar(select(Asset.park_id).join(Datastream, Datastream.thing_id == Asset.id).where(Datastream.id == spec.datastream))
        if owner != park.id:
            raise InvalidInput(f"datastream {spec.datastream} does not exist in park '{park.slug}'")
    if spec.asset_codes:
        found = set(session.scalars(select(Asset.code).where(Asset.park_id == park.id, Asset.code.in_(spec.asset_codes))))
        missing = [c for c in spec.asset_codes if c not in found]
        if missing:
            raise InvalidInput(f"unknown asset(s) in park '{park.slug}': {', '.join(missing[:10])}")
    if spec.geofence is None:
        return None
    row = session.execute(select(Feature.id, func.ST_GeometryType(Feature.geom)).where(Feature.park_id == park.id, Feature.code == spec.geofence)).first()
    if row is None:
        raise InvalidInput(f"geofence feature '{spec.geofence}' not found in park '{park.slug}'")
    if row[1] not in ("ST_Polygon", "ST_MultiPolygon"):
        raise InvalidInput(f"geofence feature '{spec.geofence}' is a {row[1][3:]}, not a polygon")
    return row[0]


def _values(park: Park, spec: RuleSpec, feature_id: int | None) -> dict[str, Any]:
    return {
        "park_id": park.id, "code": spec.code, "name": spec.name, "name_en": spec.name_en, "kind": spec.kind,
        "severity": spec.severity, "enabled": spec.enabled, "datastream_id": spec.datastream, "asset_kinds": spec.asset_kinds,
        "asset_codes": spec.asset_codes, "observed_property": spec.observed_property, "feature_id": feature_id, "params": spec.params,
    }


def to_record(rule: AlarmRule, geofence: str | None, open_alarms: int) -> dict[str, Any]:
    """A rule as the API's JSON record."""
    return {
        "id": rule.id, "code": rule.code, "name": rule.name, "name_en": rule.name_en, "kind": rule.kind, "severity": rule.severity,
        "enabled": rule.enabled, "datastream": rule.datastream_id, "asset_kinds": list(rule.asset_kinds or []),
        "asset_codes": list(rule.asset_codes or []), "observed_property": rule.observed_property, "geofence": geofence,
        "params": rule.params or {}, "created_by": rule.created_by, "created_at": rule.created_at, "updated_at": rule.updated_at,
        "open_alarms": open_alarms,
    }


def _listing(park: Park) -> Any:
    open_count = select(func.count()).where(Alarm.rule_id == AlarmRule.id, Alarm.state != "cleared").correlate(AlarmRule).scalar_subquery()
    return (select(AlarmRule, Feature.code.label("geofence"), open_count.label("open_alarms"))
            .outerjoin(Feature, Feature.id == AlarmRule.feature_id).where(AlarmRule.park_id == park.id))


def get_all(session: Session, *, park: Park, kind: str | None = None) -> list[dict[str, Any]]:
    """The park's rules (optionally of one kind), by id, each with its count of open alarms."""
    stmt = _listing(park)
    if kind:
        stmt = stmt.where(AlarmRule.kind == kind)
    return [to_record(r.AlarmRule, r.geofence, r.open_alarms) for r in session.execute(stmt.order_by(AlarmRule.id))]


def get(session: Session, *, park: Park, rule_id: int) -> dict[str, Any]:
    """One rule, or NotFound."""
    row = session.execute(_listing(park).where(AlarmRule.id == rule_id)).first()
    if row is None:
        raise NotFound(f"alarm rule {rule_id} not found in park '{park.slug}'")
    return to_record(row.AlarmRule, row.geofence, row.open_alarms)


def _existing(session: Session, park: Park, rule_id: int) -> AlarmRule:
    rule = session.scalar(select(AlarmRule).where(AlarmRule.park_id == park.id, AlarmRule.id == rule_id))
    if rule is None:
        raise NotFound(f"alarm rule {rule_id} not found in park '{park.slug}'")
    return rule


def _code_taken(session: Session, park: Park, code: str | None, rule_id: int | None = None) -> None:
    if code is None:
        return
    other = session.scalar(select(AlarmRule.id).where(AlarmRule.park_id == park.id, AlarmRule.code == code))
    if other is not None and other != rule_id:
        raise Conflict(f"alarm rule code '{code}' already exists in park '{park.slug}'")


def create(session: Session, *, park: Park, spec: RuleSpec, actor: str) -> dict[str, Any]:
    """Add a rule; InvalidInput for references outside the park, Conflict for a taken code."""
    _code_taken(session, park, spec.code)
    rule = AlarmRule(**_values(park, spec, _check_references(session, park, spec)), created_by=actor)
    session.add(rule)
    session.flush()
    return get(session, park=park, rule_id=rule.id)


def update(session: Session, *, park: Park, rule_id: int, changes: dict[str, Any], actor: str) -> dict[str, Any]:
    """Change some fields (PATCH; `params` replaced as a whole); the merged rule is validated again.
    Disabling a rule clears its open alarms (nothing would evaluate them any more)."""
    current = get(session, park=park, rule_id=rule_id)
    merged = {k: current[k] for k in RuleSpec.model_fields if k in current}
    merged.update(changes)
    spec = parse_spec(merged)
    if spec.kind != current["kind"]:
        raise InvalidInput("a rule's kind cannot change; create a new rule")
    _code_taken(session, park, spec.code, rule_id)
    rule = _existing(session, park, rule_id)
    for key, value in _values(park, spec, _check_references(session, park, spec)).items():
        setattr(rule, key, value)
    session.flush()
    if not spec.enabled and current["enabled"]:
        _clear_open(session, park=park, rule_id=rule_id, actor=actor, note="rule disabled / 规则已停用")
    return get(session, park=park, rule_id=rule_id)


def delete(session: Session, *, park: Park, rule_id: int, actor: str) -> None:
    """Remove a rule; its open alarms are cleared first (their history stays)."""
    rule = _existing(session, park, rule_id)
    _clear_open(session, park=park, rule_id=rule_id, actor=actor, note="rule deleted / 规则已删除")
    session.delete(rule)
    session.flush()


def _clear_open(session: Session, *, park: Park, rule_id: int, actor: str, note: str) -> None:
    for alarm_id in session.scalars(select(Alarm.id).where(Alarm.rule_id == rule_id, Alarm.state != "cleared")).all():
        lifecycle.clear(session, park=park, alarm_id=alarm_id, actor=actor, note=note)


def ensure(session: Session, *, park: Park, specs: list[RuleSpec], actor: str) -> list[str]:
    """Create the rules whose code is not in the park yet (idempotent seeding); the codes created."""
    existing = set(session.scalars(select(AlarmRule.code).where(AlarmRule.park_id == park.id, AlarmRule.code.is_not(None))))
    created = []
    for spec in specs:
        if spec.code not in existing:
            create(session, park=park, spec=spec, actor=actor)
            created.append(spec.code or "")
    return created


def is_finite_number(value: Any) -> bool:
    """True for an int or float (not bool) that is finite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

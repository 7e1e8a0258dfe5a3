"""Alarms: list, roll-up, one alarm and its history, device reports, acknowledge/clear, rules, broadcasts.

Reading needs the viewer role. Reporting device alarms, acknowledging and clearing, managing rules
and broadcasting need `integrator` (the park's operations and integration role; admin holds it too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status

from twin.access.roles import Principal, Role
from twin.api.auth import ParkIntegrator, ParkReader, Reader, optional_principal
from twin.api.deps import PageDep, SessionDep, SettingsDep, parse_kinds
from twin.api.responses import next_links
from twin.api.schemas.alarms import (
    AlarmAction, AlarmPage, AlarmPublic, AlarmRuleCreate, AlarmRulePatch, AlarmRulePublic, AlarmSummary, AlarmVocabulary,
    BroadcastCreate, BroadcastPublic, DeviceAlarmCreate, EventPublic,
)
from twin.integration.alarms import broadcasts, device, lifecycle, records, rollup, rules
from twin.integration.alarms.records import AlarmFilter
from twin.integration.alarms.vocabulary import DEVICE_KINDS, KIND_LABELS, RULE_KINDS, SEVERITY_LABELS, STATE_LABELS

router = APIRouter(prefix="/api/v1", tags=["alarms"])

Caller = Annotated[Principal | None, Depends(optional_principal)]  # the same principal the park dependency checked


def _actor(principal: Principal | None) -> str:
    return principal.name if principal else "anonymous"


@router.get("/alarm-vocabulary", response_model=AlarmVocabulary)
def vocabulary(principal: Reader) -> dict[str, Any]:
    """Labels (zh/en) of alarm severities, states and kinds."""
    return {"severities": SEVERITY_LABELS, "states": STATE_LABELS, "kinds": KIND_LABELS, "rule_kinds": list(RULE_KINDS), "device_kinds": list(DEVICE_KINDS)}


@router.get("/parks/{park}/alarms", response_model=AlarmPage)
def list_alarms(
    park: ParkReader, session: SessionDep, page: PageDep, request: Request, caller: Caller,
    state: Annotated[str | None, Query(description="comma-separated: active,acknowledged,cleared")] = None,
    severity: Annotated[str | None, Query(description="comma-separated: critical,major,minor,warning")] = None,
    kind: Annotated[str | None, Query(description="comma-separated alarm kinds, e.g. fire,threshold")] = None,
    building: Annotated[str | None, Query(description="building code")] = None,
    asset: Annotated[str | None, Query(description="asset code")] = None,
    since: Annotated[datetime | None, Query(description="changed at or after (ISO 8601 with timezone)")] = None,
) -> dict[str, Any]:
    """The park's alarms, most recently seen first (paged, with a `next` link)."""
    flt = AlarmFilter(states=parse_kinds(state), severities=parse_kinds(severity), kinds=parse_kinds(kind),
                      building=building, asset=asset, since=since)
    matched, items = records.get_all(session, park=park, flt=flt, limit=page.limit, offset=page.offset)
    links = next_links(request, matched=matched, returned=len(items), limit=page.limit, offset=page.offset, media_type="application/json")
    return {"items": items, "numberMatched": matched, "numberReturned": len(items), "links": links,
            "can_acknowledge": bool(caller and caller.has(Role.integrator))}


@router.get("/parks/{park}/alarms/summary", response_model=AlarmSummary)
def alarm_summary(park: ParkReader, session: SessionDep) -> dict[str, Any]:
    """Open alarms by severity for the park, every building (with `map_state` for colouring) and storeys."""
    return rollup.summary(session, park=park)


@router.post("/parks/{park}/alarms", response_model=AlarmPublic | None, status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "a repeat of an open alarm (counted), or a clear report"}})
def report_alarm(park: ParkIntegrator, body: DeviceAlarmCreate, session: SessionDep, settings: SettingsDep, caller: Caller,
                 response: Response) -> dict[str, Any] | None:
    """A device-reported alarm (by asset code or position); 201 when it opens an alarm, 200 for a repeat or a clear."""
    record, opened = device.report(session, park=park, alarm=body, source="api", actor=_actor(caller),
                                   config=lifecycle.AlarmConfig.from_settings(settings))
    if not opened:
        response.status_code = status.HTTP_200_OK
    return record


@router.get("/parks/{park}/alarms/{alarm_id}", response_model=AlarmPublic)
def get_alarm(park: ParkReader, alarm_id: int, session: SessionDep) -> dict[str, Any]:
    """One alarm with its place, linked cameras and lifecycle."""
    return records.get(session, park=park, alarm_id=alarm_id)


@router.get("/parks/{park}/alarms/{alarm_id}/events", response_model=list[EventPublic])
def alarm_events(park: ParkReader, alarm_id: int, session: SessionDep) -> list[dict[str, Any]]:
    """The alarm's history, oldest first: raised, escalated, acknowledged, cleared, broadcasts."""
    return records.events(session, park=park, alarm_id=alarm_id)


@router.post("/parks/{park}/alarms/{alarm_id}/acknowledge", response_model=AlarmPublic)
def acknowledge_alarm(park: ParkIntegrator, alarm_id: int, session: SessionDep, caller: Caller, body: AlarmAction | None = None) -> dict[str, Any]:
    """active → acknowledged (integrator or admin); records who and when, with an optional note."""
    return lifecycle.acknowledge(session, park=park, alarm_id=alarm_id, actor=_actor(caller), note=body.note if body else None)


@router.post("/parks/{park}/alarms/{alarm_id}/clear", response_model=AlarmPublic)
def clear_alarm(park: ParkIntegrator, alarm_id: int, session: SessionDep, caller: Caller, body: AlarmAction | None = None) -> dict[str, Any]:
    """→ cleared (integrator or admin); records who and when, with an optional note; 409 if already cleared."""
    return lifecycle.clear(session, park=park, alarm_id=alarm_id, actor=_actor(caller), note=body.note if body else None)


@router.get("/parks/{park}/alarm-rules", response_model=list[AlarmRulePublic])
def list_rules(park: ParkIntegrator, session: SessionDep,
               kind: Annotated[str | None, Query(description="threshold, state, no_data or geofence")] = None) -> list[dict[str, Any]]:
    """The park's alarm rules, each with its count of open alarms."""
    return rules.get_all(session, park=park, kind=kind)


@router.post("/parks/{park}/alarm-rules", response_model=AlarmRulePublic, status_code=status.HTTP_201_CREATED)
def create_rule(park: ParkIntegrator, body: AlarmRuleCreate, session: SessionDep, caller: Caller) -> dict[str, Any]:
    """Add a rule (threshold with hysteresis, state, no-data or geofence; see the schema)."""
    return rules.create(session, park=park, spec=body, actor=_actor(caller))


@router.get("/parks/{park}/alarm-rules/{rule_id}", response_model=AlarmRulePublic)
def get_rule(park: ParkIntegrator, rule_id: int, session: SessionDep) -> dict[str, Any]:
    """One rule."""
    return rules.get(session, park=park, rule_id=rule_id)


@router.patch("/parks/{park}/alarm-rules/{rule_id}", response_model=AlarmRulePublic)
def update_rule(park: ParkIntegrator, rule_id: int, body: AlarmRulePatch, session: SessionDep, caller: Caller) -> dict[str, Any]:
    """Change some fields; disabling a rule clears its open alarms."""
    return rules.update(session, park=park, rule_id=rule_id, changes=body.model_dump(exclude_unset=True), actor=_actor(caller))


@router.delete("/parks/{park}/alarm-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(park: ParkIntegrator, rule_id: int, session: SessionDep, caller: Caller) -> Response:
    """Remove a rule; its open alarms are cleared first (their history stays)."""
    rules.delete(session, park=park, rule_id=rule_id, actor=_actor(caller))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/parks/{park}/broadcasts", response_model=BroadcastPublic, status_code=status.HTTP_201_CREATED)
def create_broadcast(park: ParkIntegrator, body: BroadcastCreate, session: SessionDep, settings: SettingsDep, caller: Caller) -> dict[str, Any]:
    """Emergency broadcast (应急广播) to chosen displays/speakers or those near an alarm or a point; recorded as an event."""
    return broadcasts.broadcast(session, park=park, message=body.message, message_en=body.message_en, targets=body.targets,
                                alarm_id=body.alarm, lon=body.lon, lat=body.lat, radius_m=body.radius_m or settings.alarm_broadcast_radius_m,
                                kinds=body.kinds, actor=_actor(caller))


@router.get("/parks/{park}/broadcasts", response_model=list[EventPublic])
def list_broadcasts(park: ParkReader, session: SessionDep,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """The park's recent broadcasts (events of type broadcast), newest first."""
    return broadcasts.get_all(session, park=park, limit=limit)

"""STA resource paths (`Things(1)/Datastreams`, `Observations(9)/result/$value`, `.../$ref`), parsed and resolved."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.errors import InvalidInput, NotFound
from twin.integration.sta.model import BY_SET, EntityType, Nav, nav_target, target_of

SEGMENT = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<id>[^()]*)\))?$")
MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Step:
    """One entity step of a path: its type, its id if given, and the navigation property that led to it."""

    entity: EntityType
    id: int | None
    via: Nav | None

    @property
    def single(self) -> bool:
        return self.id is not None or (self.via is not None and not self.via.many)


@dataclass(frozen=True, slots=True)
class ResourcePath:
    """A parsed path: entity steps, then optionally a property, `$value` or `$ref`."""

    steps: tuple[Step, ...]
    prop: str | None = None
    value: bool = False
    ref: bool = False

    @property
    def last(self) -> Step:
        return self.steps[-1]

    @property
    def is_collection(self) -> bool:
        return not self.last.single and self.prop is None


def parse_id(text: str, what: str) -> int:
    """An entity id (a positive integer; quotes tolerated), or InvalidInput."""
    cleaned = text.strip().strip("'")
    if not cleaned.isdigit() or not 0 < int(cleaned) <= MAX_ID:
        raise InvalidInput(f"{what}: ids are positive integers, not '{text}'")
    return int(cleaned)


def parse_path(path: str) -> ResourcePath:
    """Parse a path below /sta/v1.1; InvalidInput (400) for malformed ones, NotFound for unknown sets."""
    segments = [s for s in path.strip("/").split("/")]
    if not segments or not segments[0] or any(s == "" for s in segments):
        raise InvalidInput(f"malformed resource path '{path}'")
    steps: list[Step] = []
    prop: str | None = None
    value = ref = False
    for index, segment in enumerate(segments):
        if segment == "$ref":
            if index != len(segments) - 1 or prop is not None or not steps:
                raise InvalidInput("$ref must end a path to an entity or a collection")
            ref = True
            continue
        if segment == "$value":
            if prop is None or index != len(segments) - 1:
                raise InvalidInput("$value must follow a property, e.g. Observations(1)/result/$value")
            value = True
            continue
        if prop is not None:
            raise InvalidInput(f"nothing can follow the property '{prop}' except $value")
        match = SEGMENT.match(segment)
        if match is None:
            raise InvalidInput(f"malformed path segment '{segment}'")
        name, raw_id = match["name"], match["id"]
        entity_id = parse_id(raw_id, segment) if raw_id is not None else None
        if not steps:
            entity = BY_SET.get(name)
            if entity is None:
                raise NotFound(f"no entity set '{name}'; known: {', '.join(BY_SET)}")
            steps.append(Step(entity, entity_id, None))
            continue
        current = steps[-1]
        if not current.single:
            raise InvalidInput(f"'{segment}' must follow a single entity, e.g. {current.entity.set_name}(1)/{segment}")
        nav = current.entity.navs.get(name)
        if nav is not None:
            if entity_id is not None and not nav.many:
                raise InvalidInput(f"{name} is a single entity; it takes no id")
            steps.append(Step(target_of(nav), entity_id, nav))
            continue
        if name in current.entity.props and raw_id is None:
            prop = name
            continue
        raise NotFound(f"{current.entity.name} has no property or navigation property '{name}'")
    return ResourcePath(tuple(steps), prop, value, ref)


def related_condition(step: Step, parent: Step, parent_id: int) -> Any:
    """SQL condition selecting the rows of `step` related to the parent entity with parent_id."""
    nav = step.via
    assert nav is not None
    table = step.entity.model
    if nav.link is table and nav.dst == "id":  # the target holds the foreign key
        return getattr(table, nav.src) == parent_id
    link = nav.link
    return table.id.in_(select(nav_target(nav, link)).where(getattr(link, nav.src) == parent_id))


def resolve(session: Session, path: ResourcePath, *, scope: Any) -> tuple[list[Any], int | None, tuple[Step, int] | None]:
    """Resolve a path step by step (404 for any unknown or invisible entity on the way).

    Returns the conditions selecting the last step's rows, its id when it is a single entity, and
    (parent step, parent id) when the last step was reached through a navigation property.
    `scope(entity)` gives the park-scope condition for an entity type (or None).
    """
    conditions: list[Any] = []
    parent: tuple[Step, int] | None = None
    resolved_id: int | None = None
    for index, step in enumerate(path.steps):
        table = step.entity.model
        conditions = []
        if parent is not None:
            conditions.append(related_condition(step, *parent))
        if step.id is not None:
            conditions.append(table.id == step.id)
        limit = scope(step.entity)
        if limit is not None:
            conditions.append(limit)
        if step.single:
            found = session.scalar(select(table.id).where(*conditions).limit(1))
            if found is None:
                raise NotFound(_missing(path, index))
            resolved_id = found
            conditions = [table.id == found]
        else:
            resolved_id = None
        if index < len(path.steps) - 1:
            assert resolved_id is not None
            parent = (step, resolved_id)
    return conditions, resolved_id, parent


def _missing(path: ResourcePath, index: int) -> str:
    shown = "/".join(
        (s.via.name if s.via else s.entity.set_name) + (f"({s.id})" if s.id is not None else "") for s in path.steps[: index + 1]
    )
    return f"{shown} not found"

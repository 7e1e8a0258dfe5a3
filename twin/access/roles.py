"""Roles and the principal a request acts as."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from twin.errors import Forbidden


class Role(enum.StrEnum):
    viewer = "viewer"  # reads the map, assets, live data, score
    planner = "planner"  # + uploads GIS and BIM models, rebuilds tiles
    integrator = "integrator"  # + ingests readings, manages assets and sensors
    admin = "admin"  # everything, incl. tokens, users, score evidence


# What each role may do besides its own name: admin is every role; planner and integrator read.
GRANTS: dict[Role, frozenset[Role]] = {
    Role.viewer: frozenset({Role.viewer}),
    Role.planner: frozenset({Role.viewer, Role.planner}),
    Role.integrator: frozenset({Role.viewer, Role.integrator}),
    Role.admin: frozenset(Role),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a token's or user's role and park scope (None = every park)."""

    name: str
    role: Role
    park_id: int | None
    token_id: int | None = None
    user_id: int | None = None

    def has(self, role: Role) -> bool:
        return role in GRANTS[self.role]

    def check(self, role: Role, park_id: int | None = None) -> None:
        """Raise Forbidden unless this principal holds `role` for `park_id` (None: a global operation)."""
        if not self.has(role):
            raise Forbidden(f"this operation needs the '{role}' role; the credential has '{self.role}'")
        if self.park_id is not None and park_id != self.park_id:
            raise Forbidden("the credential is not valid for this park")


ANONYMOUS_READER = Principal(name="anonymous", role=Role.viewer, park_id=None)
